/** External merge sort and the spill block codec, against an in-memory sort (seeded). */
import { describe, expect, it } from 'vitest';
import { T, seededRandom } from '@quiverdb/common';
import type { SortKey } from '../plan/plan.js';
import { Decimal } from '../types/decimal.js';
import { compareValues } from '../types/values.js';
import type { ExecCtx } from './eval.js';
import type { Rel } from './rel.js';
import { MemoryTracker } from './memory.js';
import { MemorySpillSpace, decodeBlock, encodeBlock } from './spill-space.js';
import { externalSort } from './spill-sort.js';
import { cmpRows } from './sort.js';

function ctxOf(spill: MemorySpillSpace): ExecCtx {
  return {
    catalog: undefined as never, params: [], now: new Date(0), corr: new Map(), subqCache: new Map(), work: new Map(),
    settings: new Map(), spill, run: () => { throw new Error('no plans here'); },
  };
}

const colKey = (i: number, desc = false, nullsFirst = false): SortKey =>
  ({ e: { k: 'col', i, t: T.integer } as never, desc, nullsFirst });

function randomRel(n: number, seed: number): Rel {
  const rnd = seededRandom(seed);
  const a = new Int32Array(n), b = new Array<unknown>(n), c = new Array<unknown>(n), d = new Array<unknown>(n), e = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = Math.floor(rnd() * 50);
    b[i] = rnd() < 0.1 ? null : `s${Math.floor(rnd() * 30)}é`;
    c[i] = rnd() < 0.1 ? null : new Decimal(BigInt(Math.floor(rnd() * 1e6)) * (rnd() < 0.05 ? 10n ** 20n : 1n), 2);
    d[i] = rnd() < 0.5 ? { months: 1, days: i % 7, us: 5 } : rnd() < 0.5 ? BigInt(i) * 3n : i + 0.5;
    e[i] = rnd() < 0.05 ? NaN : rnd() < 0.05 ? -0 : Math.floor(rnd() * 40) / 4;
  }
  return { n, cols: [a as unknown as unknown[], b, c, d, e as unknown as unknown[]] };
}

/** Naive model: a stable sort of row numbers with the executor's row comparison. */
function modelOrder(r: Rel, keys: SortKey[]): number[] {
  const keyCols = keys.map((k) => r.cols[(k.e as unknown as { i: number }).i]!);
  return Array.from({ length: r.n }, (_x, i) => i).sort((x, y) => cmpRows(keyCols, keys, x, y) || x - y);
}

describe('spill block codec', () => {
  it('round-trips every internal value kind and typed columns', () => {
    const r = randomRel(500, 1);
    const back = decodeBlock(encodeBlock(r)!);
    expect(back.n).toBe(500);
    expect(back.cols[0]).toBeInstanceOf(Int32Array);
    for (let c = 0; c < r.cols.length; c++) {
      for (let i = 0; i < r.n; i++) {
        const x = r.cols[c]![i], y = back.cols[c]![i];
        if (x === null) expect(y).toBeNull();
        else expect(compareValues(x, y)).toBe(0);
        expect(typeof y).toBe(typeof x);
      }
    }
    const rows = [5, 3, 499];
    const sub = decodeBlock(encodeBlock(r, rows)!);
    expect(sub.n).toBe(3);
    expect(Array.from(sub.cols[0]!)).toEqual(rows.map((i) => r.cols[0]![i]));
  });
  it('refuses values outside the executor set', () => {
    expect(encodeBlock({ n: 1, cols: [[{ some: 'object' }]] })).toBeUndefined();
  });
});

describe('externalSort', () => {
  it('gives the stable in-memory order, in many runs, and removes its files', async () => {
    const spill = new MemorySpillSpace();
    const ctx = ctxOf(spill);
    const r = randomRel(3000, 7);
    const keys = [colKey(1, false, true), colKey(0, true), colKey(2)];
    const t = new MemoryTracker(40_000);
    const res = t.reserve('sort');
    const out = (await externalSort(r, keys, ctx, Infinity, spill, res))!;
    expect(spill.created).toBeGreaterThan(5);
    expect(spill.live.size).toBe(0);
    expect(t.used).toBe(0);
    expect(t.peak).toBeLessThanOrEqual(40_000);
    const order = modelOrder(r, keys);
    expect(out.n).toBe(3000);
    expect(out.cols[0]).toBeInstanceOf(Int32Array);
    for (let i = 0; i < out.n; i++) for (let c = 0; c < 4; c++) expect(out.cols[c]![i]).toEqual(r.cols[c]![order[i]!]);
  });
  it('typed keys with NaN and -0 (the typed comparator of the in-memory sort) merge in the same order', async () => {
    const spill = new MemorySpillSpace();
    const r = randomRel(3000, 11);
    const keys = [colKey(4, true), colKey(0)];
    const t = new MemoryTracker(40_000);
    const out = (await externalSort(r, keys, ctxOf(spill), Infinity, spill, t.reserve('sort')))!;
    expect(spill.created).toBeGreaterThan(5);
    const order = modelOrder(r, keys);
    expect(out.cols[4]).toBeInstanceOf(Float64Array);
    expect(Array.from(out.cols[0]!)).toEqual(order.map((i) => r.cols[0]![i]));
    expect(Array.from(out.cols[4]!)).toEqual(order.map((i) => r.cols[4]![i]));
  });
  it('with a limit returns the first rows only', async () => {
    const spill = new MemorySpillSpace();
    const r = randomRel(2000, 9);
    const keys = [colKey(0), colKey(3, true)];
    const t = new MemoryTracker(30_000);
    const out = (await externalSort(r, keys, ctxOf(spill), 17, spill, t.reserve('sort')))!;
    const order = modelOrder(r, keys).slice(0, 17);
    expect(out.n).toBe(17);
    for (let i = 0; i < 17; i++) expect(out.cols[3]![i]).toEqual(r.cols[3]![order[i]!]);
  });
  it('fails with 53200 when not even a minimal run fits', async () => {
    const spill = new MemorySpillSpace();
    const t = new MemoryTracker(100);
    const e = await externalSort(randomRel(1000, 3), [colKey(0)], ctxOf(spill), Infinity, spill, t.reserve('sort')).catch((x: unknown) => x);
    expect((e as { code?: string }).code).toBe('53200');
    expect(spill.live.size).toBe(0);
  });
});
