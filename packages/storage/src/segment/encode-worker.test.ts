import { describe, expect, it } from 'vitest';
import type { ColumnVector, PhysicalType } from '@quiverdb/common';
import { rng } from '../test-support.js';
import { EncodeWorker } from './encode-worker.js';
import { encodeRowGroupsTo, openParquet, readRowGroup, rowGroupsOf, type RowGroupData, type SegmentColumn } from './parquet-io.js';

const COLS: SegmentColumn[] = [
  { name: 'i', type: 'int32' },
  { name: 's', type: 'utf8' },
  { name: 'rep', type: 'utf8' }, // repeats its values: written with a dictionary
  { name: 'b', type: 'int64' },
  { name: 'f', type: 'float64' },
  { name: 'o', type: 'bool' },
  { name: 'd', type: 'date32' },
  { name: 't', type: 'timestamp_us' },
  { name: 'h', type: 'int16' },
  { name: 'j', type: 'json' },
];

/** `groups` row groups of `rows` rows of every column kind, ~15 % NULLs (seeded). */
function makeGroups(seed: number, groups: number, rows: number): RowGroupData[] {
  const r = rng(seed);
  const out: RowGroupData[] = [];
  for (let g = 0; g < groups; g++) {
    const n = g === groups - 1 ? Math.max(1, rows >> 1) : rows;
    const vectors = COLS.map((c): ColumnVector => {
      const validity = new Uint8Array(n);
      for (let i = 0; i < n; i++) validity[i] = r() < 0.15 ? 0 : 1;
      return { data: values(c.type, n, r), validity: c.name === 'i' ? null : validity };
    });
    out.push({ rows: n, vectors });
  }
  return out;
}

function values(t: PhysicalType, n: number, r: () => number): ColumnVector['data'] {
  switch (t) {
    case 'int32': case 'date32': case 'int16': return Int32Array.from({ length: n }, () => Math.floor(r() * 60000) - 30000);
    case 'int64': return BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 1e15)));
    case 'float64': return Float64Array.from({ length: n }, () => r() * 1e6);
    case 'timestamp_us': return Float64Array.from({ length: n }, () => Math.floor(r() * 1.7e15));
    case 'bool': return Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0));
    case 'json': return Array.from({ length: n }, () => ({ a: Math.floor(r() * 10), b: ['x', r() < 0.5] }));
    default: return Array.from({ length: n }, (_, i) => (r() < 0.5 ? `k${Math.floor(r() * 4)}` : `value ${i} ${r().toString(36)} é✓`));
  }
}

function rep(groups: RowGroupData[]): RowGroupData[] {
  // column 'rep': few distinct values (the dictionary decision samples them)
  return groups.map((g) => ({ rows: g.rows, vectors: g.vectors.map((v, j) => (COLS[j]!.name === 'rep' ? { data: Array.from({ length: g.rows }, (_, i) => `r${i % 7}`), validity: v.validity } : v)) }));
}

async function inThread(groups: RowGroupData[], rowGroupSize: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await encodeRowGroupsTo(COLS, groups, rowGroupSize, 'snappy', true, (c) => chunks.push(c));
  return Buffer.concat(chunks);
}

describe('EncodeWorker', () => {
  const worker = EncodeWorker.get();
  // (one CPU or QUIVER_ENCODE_WORKER=0: nothing to test; CI machines have 2)
  const maybe = worker === undefined ? it.skip : it;

  maybe('writes the bytes the in-thread encoder writes, chunk by chunk in order', async () => {
    const groups = rep(makeGroups(11, 6, 3000));
    const want = await inThread(groups, 3000);
    const chunks: Uint8Array[] = [];
    const size = await worker!.start(COLS, groups, 3000, 'snappy', true).run((c) => chunks.push(c));
    expect(chunks.length).toBeGreaterThan(1);
    expect(size).toBe(want.length);
    expect(Buffer.concat(chunks).equals(Buffer.from(want))).toBe(true);
    // and the file reads back as the rows (every row group, every column)
    const pf = await openParquet(new Blob([want]));
    expect(rowGroupsOf(pf).map((g) => g.rows)).toEqual(groups.map((g) => g.rows));
    const back = await readRowGroup(pf, 5, groups[5]!.rows, COLS);
    expect(Array.from(back[0]!.data as Int32Array)).toEqual(Array.from(groups[5]!.vectors[0]!.data as Int32Array));
  });

  maybe('runs interleaved jobs, handed over early (pump) or late, each to its own sink', async () => {
    const a = makeGroups(21, 5, 2500);
    const b = rep(makeGroups(22, 3, 4000));
    const c = makeGroups(23, 1, 5000);
    const [wa, wb, wc] = [await inThread(a, 2500), await inThread(b, 4000), await inThread(c, 5000)];
    const ja = worker!.start(COLS, a, 2500, 'snappy', true);
    const jb = worker!.start(COLS, b, 4000, 'snappy', true);
    const jc = worker!.start(COLS, c, 5000, 'snappy', true);
    ja.pump(Infinity); // everything handed over before the sink exists: chunks wait for run
    jb.pump();
    const got: Uint8Array[][] = [[], [], []];
    const sizes = await Promise.all([ja.run((x) => got[0]!.push(x)), jb.run((x) => got[1]!.push(x)), jc.run((x) => got[2]!.push(x))]);
    expect(sizes).toEqual([wa.length, wb.length, wc.length]);
    expect(Buffer.concat(got[0]!).equals(Buffer.from(wa))).toBe(true);
    expect(Buffer.concat(got[1]!).equals(Buffer.from(wb))).toBe(true);
    // one row group: the worker's streaming writer, the in-thread one-shot writer; same rows
    const pf = await openParquet(new Blob([Buffer.concat(got[2]!)]));
    const back = await readRowGroup(pf, 0, 2500, COLS);
    const v = c[0]!.vectors[3]!;
    const nonNull = (x: ColumnVector): unknown[] => Array.from(x.data as BigInt64Array).map((y, i) => (v.validity![i] === 0 ? null : y));
    expect(nonNull(back[3]!)).toEqual(nonNull(v));
  });

  maybe('a cancelled job fails its run and leaves the helper working', async () => {
    const groups = makeGroups(31, 4, 2000);
    const j = worker!.start(COLS, groups, 2000, 'snappy', true);
    j.pump();
    j.cancel();
    await expect(j.run(() => undefined)).rejects.toThrow(/cancelled/);
    const want = await inThread(groups, 2000);
    const chunks: Uint8Array[] = [];
    await worker!.start(COLS, groups, 2000, 'snappy', true).run((c) => chunks.push(c));
    expect(Buffer.concat(chunks).equals(Buffer.from(want))).toBe(true);
  });

  maybe('a sink that throws fails the job with its error (also on chunks made before run)', async () => {
    const groups = makeGroups(41, 3, 2000);
    await expect(worker!.start(COLS, groups, 2000, 'snappy', true).run(() => { throw new Error('disk full'); })).rejects.toThrow('disk full');
    expect(EncodeWorker.get()).toBe(worker);
    const early = worker!.start(COLS, groups, 2000, 'snappy', true);
    early.pump(Infinity);
    for (let i = 0; i < 100 && (early as unknown as { early: Uint8Array[] }).early.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await expect(early.run(() => { throw new Error('disk full early'); })).rejects.toThrow('disk full early');
    const want = await inThread(groups, 2000);
    const chunks: Uint8Array[] = [];
    await worker!.start(COLS, groups, 2000, 'snappy', true).run((c) => chunks.push(c));
    expect(Buffer.concat(chunks).equals(Buffer.from(want))).toBe(true);
  });
});
