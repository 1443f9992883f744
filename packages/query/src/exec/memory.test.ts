/** MemoryTracker / MemoryReservation accounting, size parsing and byte estimates. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { Decimal } from '../types/decimal.js';
import { MemoryTracker, columnBytes, parseMemorySize, relBytes } from './memory.js';
import type { MemoryReservation } from './memory.js';

const code = (f: () => unknown): string | undefined => {
  try { f(); return undefined; } catch (e) { return (e as { code?: string }).code; }
};

describe('parseMemorySize', () => {
  it('takes bytes and 1024-based units', () => {
    expect(parseMemorySize('268435456')).toBe(268435456);
    expect(parseMemorySize('64kB')).toBe(64 * 1024);
    expect(parseMemorySize('16 MB')).toBe(16 * 1024 * 1024);
    expect(parseMemorySize('1GB')).toBe(1024 ** 3);
    expect(parseMemorySize('512MiB')).toBe(512 * 1024 * 1024);
    expect(parseMemorySize('1.5kb')).toBe(1536);
  });
  it('0 or negative means no limit; garbage is 22023', () => {
    expect(parseMemorySize('0')).toBe(Infinity);
    expect(parseMemorySize('-1')).toBe(Infinity);
    expect(code(() => parseMemorySize('lots'))).toBe('22023');
    expect(code(() => parseMemorySize('10 parsecs'))).toBe('22023');
  });
});

describe('MemoryTracker', () => {
  it('grow past the limit is 53200 and changes nothing; tryGrow says false', () => {
    const t = new MemoryTracker(1000);
    const a = t.reserve('hash join'), b = t.reserve('sort');
    a.grow(600);
    expect(code(() => b.grow(500))).toBe('53200');
    expect(t.used).toBe(600);
    expect(b.bytes).toBe(0);
    expect(b.tryGrow(500)).toBe(false);
    expect(b.tryGrow(400)).toBe(true);
    t.checkInvariants([a, b]);
    a.release(); a.release();
    expect(t.used).toBe(400);
    expect(t.peak).toBe(1000);
    b.shrink(10_000);
    expect(t.used).toBe(0);
    t.checkInvariants([a, b]);
  });
  it('the error hint names the operator', () => {
    const t = new MemoryTracker(10);
    try { t.reserve('hash aggregate').grow(11); expect.unreachable(); } catch (e) {
      expect((e as { hint?: string }).hint).toContain('hash aggregate');
    }
  });
  it('random grow / shrink / release against a naive model (seeded)', () => {
    const rnd = seededRandom(5);
    const limit = 10_000;
    const t = new MemoryTracker(limit);
    const rs: MemoryReservation[] = [];
    const model: number[] = [];
    for (let step = 0; step < 5000; step++) {
      const op = rnd();
      if (rs.length === 0 || op < 0.1) { rs.push(t.reserve(`op${rs.length}`)); model.push(0); continue; }
      const i = Math.floor(rnd() * rs.length);
      const bytes = Math.floor(rnd() * 3000);
      const used = model.reduce((s, x) => s + x, 0);
      if (op < 0.55) {
        const fits = used + bytes <= limit;
        expect(code(() => rs[i]!.grow(bytes))).toBe(fits || bytes === 0 ? undefined : '53200');
        if (fits) model[i]! += bytes;
      } else if (op < 0.85) {
        rs[i]!.shrink(bytes); model[i] = Math.max(0, model[i]! - bytes);
      } else { rs[i]!.release(); model[i] = 0; }
      expect(t.used).toBe(model.reduce((s, x) => s + x, 0));
      expect(t.used).toBeLessThanOrEqual(limit);
      t.checkInvariants(rs);
    }
  });
});

describe('estimates', () => {
  it('typed arrays are exact', () => {
    expect(columnBytes(new Float64Array(1000) as unknown as unknown[])).toBe(8000);
    expect(relBytes({ n: 10, cols: [new Int32Array(10) as unknown as unknown[], new BigInt64Array(10) as unknown as unknown[]] })).toBe(120);
  });
  it('JS arrays grow with their values', () => {
    const ints = Array.from({ length: 10_000 }, (_x, i) => i);
    const strs = Array.from({ length: 10_000 }, (_x, i) => `a fairly long string value number ${i}`);
    const decs = Array.from({ length: 10_000 }, (_x, i) => new Decimal(i, 2));
    expect(columnBytes(ints)).toBe(80_000);
    expect(columnBytes(strs)).toBeGreaterThan(10_000 * 60);
    expect(columnBytes(decs)).toBeGreaterThan(columnBytes(ints));
    expect(columnBytes([null, null])).toBe(16);
  });
});
