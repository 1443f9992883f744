import { describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentionMonitor, SpinSync } from './spin-sync.js';

async function readyHelper(): Promise<SpinSync> {
  const spin = SpinSync.get();
  if (spin === undefined) throw new Error('no helper');
  for (let i = 0; i < 500 && !spin.ready; i++) await new Promise((r) => setTimeout(r, 10));
  expect(spin.ready).toBe(true);
  return spin;
}

describe.skipIf(availableParallelism() < 2 || process.env.QUIVER_SPIN_SYNC === '0')('SpinSync', () => {
  it('fdatasync through the helper, repeatedly, with event-loop turns between', async () => {
    const spin = await readyHelper();
    const dir = mkdtempSync(join(tmpdir(), 'quiver-spin-'));
    const fd = openSync(join(dir, 'f'), 'w');
    try {
      for (let i = 0; i < 50; i++) {
        writeSync(fd, `line ${i}\n`);
        spin.fdatasync(fd);
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5)); // the helper goes to sleep and is woken
      }
      expect(readFileSync(join(dir, 'f'), 'utf8').split('\n')).toHaveLength(51);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a failed fdatasync is an error with its code, and the helper keeps working', async () => {
    const spin = await readyHelper();
    const dir = mkdtempSync(join(tmpdir(), 'quiver-spin-'));
    const fd = openSync(join(dir, 'f'), 'w');
    closeSync(fd); // a closed descriptor: EBADF
    try {
      expect(() => spin.fdatasync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
      const ok = openSync(join(dir, 'g'), 'w');
      try { spin.fdatasync(ok); } finally { closeSync(ok); }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ContentionMonitor', () => {
  it('backs off when requests wait for the helper often, not for a single late one, and tries the helper again later', () => {
    const m = new ContentionMonitor();
    let now = 1000;
    // quick hand-overs (a few µs over the fdatasync), with a rare late one, never back off
    for (let i = 0; i < 5000; i++, now += 0.2) {
      expect(m.useHelper(now)).toBe(true);
      m.record(i % 1000 === 999 ? 6_000 : 2 + (i % 7), now);
    }
    expect(m.backoffs).toBe(0);
    // most hand-overs late (the CPUs contended): backs off within a few requests
    let n = 0;
    while (m.useHelper(now) && n < 100) { m.record(900, now); n++; }
    expect(m.backoffs).toBe(1);
    expect(n).toBeLessThan(8);
    expect(m.useHelper(now + ContentionMonitor.BACKOFF_MS - 1)).toBe(false);
    now += ContentionMonitor.BACKOFF_MS;
    expect(m.useHelper(now)).toBe(true);
    // one late in three trips it too
    n = 0;
    while (m.useHelper(now) && n < 200) { m.record(n % 3 === 0 ? 700 : 15, now); n++; }
    expect(m.backoffs).toBe(2);
    now += ContentionMonitor.BACKOFF_MS;
    expect(m.useHelper(now)).toBe(true);
  });
});
