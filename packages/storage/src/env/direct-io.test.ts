import { describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, fdatasyncSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIRECT_MAX, DirectTail, PAGE } from './direct-io.js';
import { NodeEnv } from './node-env.js';
import { rng as seeded } from '../test-support.js';

/** integers in [0, n) from a seeded generator */
class Rng {
  private readonly next: () => number;
  constructor(seed: number) { this.next = seeded(seed); }
  int(n: number): number { return Math.floor(this.next() * n); }
}

/** A file of `size` zero bytes, written and synced (as the WAL's spare segment). */
function zeroFile(path: string, size: number): number {
  const fd = openSync(path, 'w+');
  writeSync(fd, new Uint8Array(size), 0, size, 0);
  fdatasyncSync(fd);
  return fd;
}

function bytes(n: number, rng: Rng): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = 1 + rng.int(255); // never 0: the zero padding shows
  return b;
}

describe('DirectTail', () => {
  it('appends at the end of the content, durably and page-aligned, matching a naive model (random, seed 7)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-direct-'));
    const path = join(dir, 'f');
    const size = 64 * PAGE;
    const fd = zeroFile(path, size);
    const tail = new DirectTail(fd);
    const model = new Uint8Array(size);
    const rng = new Rng(7);
    let end = 0;
    let direct = 0;
    try {
      while (end < size - 2 * PAGE) {
        const roll = rng.int(20);
        if (roll === 0) {
          // another write (buffered, as the WAL's group flush makes): the head is read back next time
          const b = bytes(1 + rng.int(300), rng);
          writeSync(fd, b, 0, b.length, end);
          model.set(b, end);
          end += b.length;
          tail.forget();
          continue;
        }
        const n = roll === 1 ? 1 + rng.int(3 * PAGE) : 1 + rng.int(400);
        const b = bytes(n, rng);
        const done = tail.write(end, b, size);
        if (!done) {
          // refused (no O_DIRECT here, or past the size): the caller's buffered way
          expect(end + n > size - (size % PAGE) || tail.writes === 0).toBe(true);
          writeSync(fd, b, 0, b.length, end);
        } else {
          direct++;
        }
        model.set(b, end);
        end += n;
        // the padding: zeros to the end of the last page (the model's bytes there are zeros too)
        const onDisk = readFileSync(path);
        expect(onDisk.length).toBe(size); // never grows (invariant 1)
        expect(Buffer.compare(onDisk.subarray(0, end), Buffer.from(model.subarray(0, end)))).toBe(0);
        const pageEnd = Math.ceil(end / PAGE) * PAGE;
        expect(onDisk.subarray(end, pageEnd).every((x) => x === 0)).toBe(true);
      }
      // where O_DIRECT works (Linux, ext4 / xfs / btrfs: not tmpfs), the writes went that way
      if (tail.writes > 0) expect(direct).toBe(tail.writes);
    } finally {
      tail.close();
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a write that would grow the file or is larger than DIRECT_MAX, writing nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-direct-'));
    const path = join(dir, 'f');
    const fd = zeroFile(path, 4 * PAGE);
    const tail = new DirectTail(fd);
    try {
      expect(tail.write(3 * PAGE + 10, new Uint8Array(PAGE).fill(9), 4 * PAGE)).toBe(false); // ends in a 5th page
      expect(tail.write(0, new Uint8Array(DIRECT_MAX + 1).fill(9), 1 << 30)).toBe(false);
      expect(readFileSync(path).every((x) => x === 0)).toBe(true);
    } finally {
      tail.close();
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('NodeEnv writeSyncedNow: the same bytes as writeNow + syncNow, in a preallocated file and past its end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-direct-'));
    const env = new NodeEnv();
    const pre = join(dir, 'pre');
    closeSync(zeroFile(pre, 8 * PAGE));
    const a = await env.open(pre);
    const b = await env.open(join(dir, 'plain'), { create: true });
    const rng = new Rng(11);
    const model: number[] = [];
    try {
      let end = 0;
      for (let i = 0; i < 500; i++) {
        const d = bytes(1 + rng.int(200), rng);
        a.writeSyncedNow(end, d);
        b.writeSyncedNow(end, d);
        model.push(...d);
        end += d.length;
      }
      expect(end).toBeGreaterThan(8 * PAGE); // the last writes went past the preallocated size
      const want = Buffer.from(model);
      expect(Buffer.compare((await env.readFile(pre)).subarray(0, end), want)).toBe(0);
      expect(Buffer.compare(await env.readFile(join(dir, 'plain')), want)).toBe(0);
      expect(await a.size()).toBe(end);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
