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
  it('backs off after one very late hand-over or a high moving average, and tries the helper again later', () => {
    const m = new ContentionMonitor();
    let now = 1000;
    // quick hand-overs (a few µs over the fdatasync) never back off
    for (let i = 0; i < 1000; i++, now += 0.2) {
      expect(m.useHelper(now)).toBe(true);
      m.record(130 + (i % 7), 125, now);
    }
    expect(m.backoffs).toBe(0);
    // one hand-over of several ms: the caller syncs itself for BACKOFF_MS
    m.record(5_125, 125, now);
    expect(m.backoffs).toBe(1);
    expect(m.useHelper(now + 1)).toBe(false);
    expect(m.useHelper(now + ContentionMonitor.BACKOFF_MS - 1)).toBe(false);
    now += ContentionMonitor.BACKOFF_MS;
    expect(m.useHelper(now)).toBe(true);
    // steady moderate overhead (300 µs a hand-over) trips the moving average within a few requests
    let n = 0;
    while (m.useHelper(now) && n < 100) { m.record(425, 125, now); n++; }
    expect(m.backoffs).toBe(2);
    expect(n).toBeLessThan(8);
    // a slow disk is not contention: long fdatasyncs with a quick hand-over keep the helper
    now += ContentionMonitor.BACKOFF_MS;
    for (let i = 0; i < 100; i++) m.record(20_010, 20_000, now);
    expect(m.useHelper(now)).toBe(true);
    expect(m.backoffs).toBe(2);
  });
});
