import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ColumnVector, PhysicalType, TableId, Timestamp, TxnId } from '@quiverdb/common';
import { NodeEnv } from '../env/node-env.js';
import { openStore } from '../store.js';
import { Clock, randomRow, rng, rowsToBatch, scanAll, SPEC } from '../test-support.js';
import { encodeSegment, encodeSegmentAsync, openParquet, readRowGroup, readRowGroupFromBytes, rowGroupsOf, wantsDictionary } from './parquet-io.js';
import { canMatch, computeZone } from './zone-map.js';

const ALL: { name: string; type: PhysicalType; v: ColumnVector }[] = [
  { name: 'bo', type: 'bool', v: { data: Uint8Array.of(1, 0, 1, 0, 1), validity: Uint8Array.of(1, 1, 0, 1, 1) } },
  { name: 'i16', type: 'int16', v: { data: Int32Array.of(-32768, 0, 7, 32767, 1), validity: null } },
  { name: 'i32', type: 'int32', v: { data: Int32Array.of(-(2 ** 31), 1, 2, 3, 2 ** 31 - 1), validity: Uint8Array.of(1, 0, 1, 1, 1) } },
  { name: 'i64', type: 'int64', v: { data: BigInt64Array.of(-(2n ** 63n), 0n, 5n, 2n ** 63n - 1n, 9n), validity: null } },
  { name: 'f32', type: 'float32', v: { data: Float64Array.of(Math.fround(1.1), -0.5, Math.fround(3.3), 0, 1e30 * 0), validity: null } },
  { name: 'f64', type: 'float64', v: { data: Float64Array.of(Math.PI, -1e300, NaN, Infinity, 0), validity: Uint8Array.of(1, 1, 1, 1, 0) } },
  { name: 'd', type: 'date32', v: { data: Int32Array.of(0, 19000, -1, 2932896, 5), validity: null } },
  { name: 'ts', type: 'timestamp_us', v: { data: Float64Array.of(0, 1.7e15, -1e12, 123456789, 1), validity: null } },
  { name: 's', type: 'utf8', v: { data: ['a', '', 'héllo ✓', 'x'.repeat(1000), 'z'], validity: Uint8Array.of(1, 1, 1, 1, 0) } },
  { name: 'j', type: 'json', v: { data: [{ a: 1 }, [1, 'x'], null, 12345678901234567890n, 'str'], validity: Uint8Array.of(1, 1, 0, 1, 1) } },
];

function norm(v: ColumnVector, n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(v.validity !== null && v.validity[i] === 0 ? null : (v.data as ArrayLike<unknown>)[i]);
  return out;
}

describe('Parquet segments', () => {
  it('round-trips every physical type, reading only asked columns / row groups', async () => {
    const bytes = encodeSegment(ALL.map((c) => ({ name: c.name, type: c.type })), ALL.map((c) => c.v), 5, 2);
    const pf = await openParquet(new Blob([bytes]));
    const rgs = rowGroupsOf(pf);
    expect(rgs.map((g) => g.rows)).toEqual([2, 2, 1]);
    for (const [rg, off] of [[0, 0], [1, 2], [2, 4]] as const) {
      const cols = await readRowGroup(pf, rg, rgs[rg]!.rows, ALL.map((c) => ({ name: c.name, type: c.type })));
      ALL.forEach((c, j) => {
        const want = norm(c.v, 5).slice(off, off + rgs[rg]!.rows);
        expect(norm(cols[j]!, rgs[rg]!.rows)).toEqual(want);
      });
    }
    const one = await readRowGroup(pf, 1, 2, [{ name: 's', type: 'utf8' }]);
    expect(one.length).toBe(1);
  });

  it('streaming encoder: same rows, one row group at a time, yields to the event loop', async () => {
    const r = rng(6);
    const n = 20_000;
    const b = rowsToBatch(Array.from({ length: n }, (_, i) => randomRow(r, i)));
    const cols = [{ name: 'k', type: 'int32' as const }, { name: 's', type: 'utf8' as const }, { name: 'b', type: 'int64' as const }, { name: 'f', type: 'float64' as const }];
    let ticks = 0;
    const iv = setInterval(() => { ticks++; }, 0);
    const bytes = await encodeSegmentAsync(cols, b.columns, n, 2000);
    clearInterval(iv);
    expect(ticks).toBeGreaterThan(3);
    const pf = await openParquet(new Blob([bytes]));
    expect(rowGroupsOf(pf).map((g) => g.rows)).toEqual(Array(10).fill(2000));
    const sync = encodeSegment(cols, b.columns, n, 2000);
    for (const rg of [0, 7, 9]) {
      const x = readRowGroupFromBytes(bytes, rg, 2000, cols);
      const y = readRowGroupFromBytes(sync, rg, 2000, cols);
      cols.forEach((_c, j) => expect(norm(x[j]!, 2000)).toEqual(norm(y[j]!, 2000)));
    }
  });

  it('zone maps: computed per chunk, never prune a matching chunk', () => {
    const r = rng(9);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r() * 20);
      const data = Int32Array.from({ length: n }, () => Math.floor(r() * 100) - 50);
      const validity = Uint8Array.from({ length: n }, () => (r() < 0.2 ? 0 : 1));
      const z = computeZone({ data, validity }, 'int32', 0, n);
      const v = Math.floor(r() * 120) - 60;
      const vals = [...data].filter((_, i) => validity[i] === 1);
      const cases: [Parameters<typeof canMatch>[1], boolean][] = [
        [{ kind: 'cmp', column: 0, op: '=', value: v }, vals.some((x) => x === v)],
        [{ kind: 'cmp', column: 0, op: '<', value: v }, vals.some((x) => x < v)],
        [{ kind: 'cmp', column: 0, op: '>=', value: v }, vals.some((x) => x >= v)],
        [{ kind: 'between', column: 0, low: v, high: v + 5 }, vals.some((x) => x >= v && x <= v + 5)],
        [{ kind: 'in', column: 0, values: [v, v + 1] }, vals.some((x) => x === v || x === v + 1)],
        [{ kind: 'isNull', column: 0, negated: false }, vals.length < n],
        [{ kind: 'isNull', column: 0, negated: true }, vals.length > 0],
      ];
      for (const [p, any] of cases) if (any) expect(canMatch(z, p)).toBe(true);
    }
  });

  it('DuckDB reads a checkpointed table\'s segment files with the same rows', async () => {
    const root = mkdtempSync(join(tmpdir(), 'quiver-duck-'));
    try {
      const s = await openStore({ env: new NodeEnv(), dir: root, rowGroupSize: 100 });
      const clock = new Clock();
      const a = clock.begin();
      s.createTable(a.txn, SPEC(7));
      const r = rng(5);
      s.insert(a.txn, 7 as TableId, rowsToBatch(Array.from({ length: 450 }, (_, i) => randomRow(r, i))));
      await clock.commit(s, a.txn);
      await s.checkpoint();
      const ours = await scanAll(s, 7 as TableId, { txnId: 1 as TxnId, startTs: 1e9 as Timestamp });
      await s.close();
      const inst = await DuckDBInstance.create(':memory:');
      const con = await inst.connect();
      const reader = await con.runAndReadAll(`SELECT k, s, b, f FROM read_parquet('${root}/data/7/*.parquet') ORDER BY k`);
      const rows = reader.getRows();
      con.closeSync();
      expect(rows.length).toBe(450);
      expect(rows.map((x) => [x[0], x[1], x[2], x[3]])).toEqual(ours.map((o) => o.row));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('string dictionary choice', () => {
  it('takes a dictionary for repeating strings only, and both forms round-trip', async () => {
    const n = 30_000;
    const r = rng(5);
    const unique = Array.from({ length: n }, (_, i) => `key-${(i * 2654435761 >>> 0).toString(36)}`);
    const few = Array.from({ length: n }, () => `grp-${Math.floor(r() * 1000)}`);
    const nulls = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i += 3) nulls[i] = 0;
    const v = (data: unknown[], validity: Uint8Array | null = null): ColumnVector => ({ data, validity });
    expect(wantsDictionary(v(unique), n)).toBe(false);
    expect(wantsDictionary(v(few), n)).toBe(true);
    expect(wantsDictionary(v(few, nulls), n)).toBe(true);
    expect(wantsDictionary(v(['a', 'b', 'a', 'a', 'b', 'a', 'a', 'a']), 8)).toBe(true);
    expect(wantsDictionary(v(['a', 'b', 'c']), 3)).toBe(false);
    const cols = [{ name: 'u', type: 'utf8' as PhysicalType }, { name: 'f', type: 'utf8' as PhysicalType }];
    const vecs = [v(unique), v(few, nulls)];
    const bytes = await encodeSegmentAsync(cols, vecs, n, 10_000);
    const pf = await openParquet(new Blob([bytes]));
    let off = 0;
    for (const [rg, info] of rowGroupsOf(pf).entries()) {
      const out = await readRowGroup(pf, rg, info.rows, cols);
      for (let i = 0; i < info.rows; i++) {
        expect(out[0]!.data[i]).toBe(unique[off + i]);
        expect(out[1]!.validity?.[i] ?? 1).toBe(nulls[off + i]);
        if (nulls[off + i] === 1) expect(out[1]!.data[i]).toBe(few[off + i]);
      }
      off += info.rows;
    }
    expect(off).toBe(n);
  });
});

describe('utf8 column coding', () => {
  it('round-trips ASCII, BMP, astral and lone-surrogate strings', async () => {
    const { encodeStrings, decodeStrings } = await import('../table/utf8.js');
    const r = rng(12);
    const alphabet = ['a', 'Z', ' ', 'é', 'ß', '✓', '中', '😀', '𝄞', '\u0000'];
    for (let trial = 0; trial < 50; trial++) {
      const n = Math.floor(r() * 40);
      const ss = Array.from({ length: n }, () => Array.from({ length: Math.floor(r() * 6) }, () => alphabet[Math.floor(r() * alphabet.length)]).join(''));
      if (trial % 10 === 0 && n > 0) ss[0] = 'x\uD800y'; // lone surrogate: encoded as U+FFFD
      const { bytes, offsets } = encodeStrings(ss, n);
      const out = new Array<unknown>(n);
      decodeStrings(bytes, offsets, 0, n, out, 0);
      expect(out).toEqual(ss.map((x) => x.replace('\uD800', '\uFFFD')));
    }
  });
});
