/**
 * `Store.fetchCached`: the synchronous fetch of index lookups. It must answer exactly as `fetch`
 * (delta rows, checkpointed rows, NULLs, any order, repeats) or not at all (undefined when a row
 * group is not in the buffer pool, or a row id is unknown), and never read a file. So must its
 * one-row form `readRowCached` (point lookups).
 */
import { describe, expect, it } from 'vitest';
import type { ColumnBatch, TableId } from '@quiverdb/common';
import { MemEnv } from './env/mem-env.js';
import { openStore, type QuiverStore } from './store.js';
import { batchToRows, Clock, randomRow, rng, rowsToBatch, SPEC, type Row } from './test-support.js';
import type { Store } from './api.js';

const T = 11 as TableId;
const ALL = [0, 1, 2, 3];

function rowsOf(b: ColumnBatch, cols: readonly number[]): unknown[][] {
  // batchToRows wants all four columns in table order: widen a projection with NULLs
  const full: ColumnBatch = {
    length: b.length,
    columns: ALL.map((c) => {
      const j = cols.indexOf(c);
      return j >= 0 ? b.columns[j]! : { data: new Array(b.length).fill(null), validity: new Uint8Array(b.length) };
    }),
  };
  return batchToRows(full).map((r) => cols.map((c) => r[c]));
}

describe('Store.fetchCached', () => {
  it('answers as fetch from the delta and from pooled row groups, and undefined when not pooled', async () => {
    const env = new MemEnv();
    let s: Store & QuiverStore = await openStore({ env, dir: '/db', durable: true, rowGroupSize: 64 });
    const clock = new Clock();
    const r = rng(42);
    const a = clock.begin();
    s.createTable(a.txn, SPEC(T));
    const rows: Row[] = Array.from({ length: 500 }, (_, i) => randomRow(r, i));
    s.insert(a.txn, T, rowsToBatch(rows));
    await clock.commit(s, a.txn);

    const check = async (ids: number[], cols: number[]): Promise<boolean> => {
      const want = rowsOf(await s.fetch(T, Float64Array.from(ids), cols), cols);
      const got = s.fetchCached(T, Float64Array.from(ids), cols);
      // readRowCached (point lookups) answers exactly when fetchCached does, with the same values
      const one: unknown[][] = cols.map(() => []);
      const each = ids.map((id) => s.readRowCached(T, id, cols, one) === 1);
      if (got === undefined) {
        expect(each.every((x) => x)).toBe(false);
        return false;
      }
      expect(each.every((x) => x)).toBe(true);
      expect(got.length).toBe(ids.length);
      expect(rowsOf(got, cols)).toEqual(want);
      expect(one).toEqual(cols.map((_, j) => Array.from({ length: ids.length }, (_, k) => {
        const v = got.columns[j]!;
        return v.validity !== null && v.validity[k] === 0 ? null : (v.data as ArrayLike<unknown>)[k];
      })));
      return true;
    };
    // all in the delta: always answered
    expect(await check([3, 1, 499, 3, 0], ALL)).toBe(true);
    expect(await check([7], [1, 3])).toBe(true);
    // a row id that does not exist: left to `fetch` (its absent values)
    expect(s.fetchCached(T, Float64Array.of(1, 9999), [0])).toBeUndefined();
    const none: unknown[][] = [[]];
    expect(s.readRowCached(T, 9999, [0], none)).toBe(-1);
    expect(s.readRowCached(T, 9999, [0], none, { txnId: a.txn, startTs: Number.MAX_SAFE_INTEGER } as never)).toBe(0);
    expect(none).toEqual([[]]);

    await s.checkpoint();
    // checkpointed: the moved rows were offered to the pool (write-through), so answered at once
    expect(await check([10, 0, 63, 5, 499], ALL)).toBe(true);
    // reopened, nothing read yet: the row groups are not pooled
    await s.close();
    s = await openStore({ env, dir: '/db', durable: true, rowGroupSize: 64 });
    expect(s.fetchCached(T, Float64Array.of(10), ALL)).toBeUndefined();
    expect(s.readRowCached(T, 10, ALL, ALL.map(() => []))).toBe(-1);
    await s.fetch(T, Float64Array.of(10), ALL); // reads (and pools) row group 0 only
    expect(await check([10, 0, 63, 5], ALL)).toBe(true);
    expect(s.fetchCached(T, Float64Array.of(10, 200), ALL)).toBeUndefined(); // row group 3 not pooled
    // random sets of ids over pooled row groups, and new delta rows mixed in
    const b = clock.begin();
    const more: Row[] = Array.from({ length: 20 }, (_, i) => randomRow(r, 500 + i));
    s.insert(b.txn, T, rowsToBatch(more));
    await clock.commit(s, b.txn);
    await s.fetch(T, Float64Array.from({ length: 500 }, (_, i) => i), ALL);
    for (let round = 0; round < 50; round++) {
      const ids = Array.from({ length: 1 + Math.floor(r() * 30) }, () => Math.floor(r() * 520));
      const cols = ALL.filter(() => r() < 0.7);
      expect(await check(ids, cols.length > 0 ? cols : [2])).toBe(true);
    }
    await s.close();
  });
});
