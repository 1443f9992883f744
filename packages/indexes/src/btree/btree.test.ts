import { describe, expect, it } from 'vitest';
import { isDbError, SqlState, rowId } from '@quiverdb/common';
import { BTree, type KeyRange } from './btree.js';
import { MemPageStore } from '../page/mem-page-store.js';
import { encodeKey, type KeyColumn } from '../key/key-encoding.js';
import { toBinary, fromBinary } from '../key/binary-string.js';
import { Rng } from '../testing/rng.js';
import { SortedModel, type ModelRange } from '../testing/sorted-model.js';

const LONG = process.env.QUIVER_LONG === '1';
const spec: KeyColumn[] = [{ type: 'int32' }, { type: 'utf8', desc: true }];

function randKey(r: Rng, domain: number): unknown[] {
  const s = ['', 'a', 'b', 'ab', 'ba', 'bb', 'aab'][r.int(7)]!;
  return [r.int(8) === 0 ? null : r.int(domain), s];
}

function randRange(r: Rng, domain: number): { range: KeyRange; model: ModelRange } {
  const range: KeyRange = {};
  const model: ModelRange = {};
  const bound = (): Uint8Array => {
    const k = randKey(r, domain);
    return encodeKey(spec, r.int(3) === 0 ? k.slice(0, 1) : k);
  };
  const lo = r.int(3);
  if (lo === 1) { const b = bound(); range.gte = b; model.gte = toBinary(b); }
  if (lo === 2) { const b = bound(); range.gt = b; model.gt = toBinary(b); }
  const hi = r.int(3);
  if (hi === 1) { const b = bound(); range.lt = b; model.lt = toBinary(b); }
  if (hi === 2) { const b = bound(); range.lte = b; model.lte = toBinary(b); }
  if (r.bool()) { range.reverse = true; model.reverse = true; }
  return { range, model };
}

/** Cheap equality for hot loops; falls back to expect() for the diff on mismatch. */
export function same(a: unknown, b: unknown): void {
  if (a === b) return;
  if (JSON.stringify(a) !== JSON.stringify(b)) expect(a).toEqual(b);
}

function differential(seed: number, unique: boolean, ops: number, pageSize: number, domain: number, target = 3000): void {
  const r = new Rng(seed);
  let store = new MemPageStore(pageSize);
  let t = BTree.create(store, { unique, name: 'ix' });
  const m = new SortedModel(unique);
  let nextRow = 1;
  for (let op = 0; op < ops; op++) {
    // keep the tree around `target` entries so model operations stay cheap
    const x = r.int(100) + (m.entries.length > target ? 15 : 0);
    if (x < 45) {
      const key = encodeKey(spec, randKey(r, domain));
      const rid = unique ? nextRow++ : r.int(4) === 0 ? r.int(nextRow) : nextRow++;
      const res = t.insert(key, rowId(rid));
      const want = m.insert(toBinary(key), rid);
      if (want === undefined ? !res.inserted : res.inserted || res.existing !== want) expect(res).toEqual({ inserted: false, existing: want });
    } else if (x < 75 || x >= 100) {
      let key: Uint8Array;
      let rid: number;
      if (m.entries.length > 0 && r.int(4) !== 0) {
        const e = m.entries[r.int(m.entries.length)]!;
        key = fromBinary(e.key);
        rid = r.int(10) === 0 ? e.rowId + 1 : e.rowId;
      } else {
        key = encodeKey(spec, randKey(r, domain));
        rid = r.int(nextRow);
      }
      same(t.delete(key, rowId(rid)), m.delete(toBinary(key), rid));
    } else if (x < 90) {
      const key = encodeKey(spec, randKey(r, domain));
      const all = m.getAll(toBinary(key));
      same(t.getAll(key), all);
      same(t.get(key), all[0]);
    } else {
      const { range, model } = randRange(r, domain);
      const limit = 1 + r.int(60);
      const got = [];
      for (const e of t.scan(range)) {
        got.push({ key: toBinary(e.key), rowId: e.rowId });
        if (got.length >= limit) break;
      }
      same(got, m.range(model, limit));
      same(t.rowIds(range, limit), got.map((e) => e.rowId));
    }
    if (op % 997 === 0) {
      const { pages } = t.checkInvariants();
      expect(pages).toBe(store.pagesInUse());
      expect(t.size).toBe(m.entries.length);
    }
    if (op % 7919 === 7918) {
      const meta = t.checkpoint();
      if (r.bool()) {
        t = BTree.open(store, meta, { name: 'ix' });
      } else if (r.bool()) {
        t.unloadClean();
      }
      expect(store.getRoot('ix')).toBe(meta);
    }
  }
  t.checkInvariants();
  expect([...t.scan()].map((e) => ({ key: toBinary(e.key), rowId: e.rowId }))).toEqual(m.entries);
  expect([...t.scan({ reverse: true })].length).toBe(m.entries.length);
  // drop frees every page
  t.checkpoint();
  t.drop();
  expect(store.pagesInUse()).toBe(0);
  store = new MemPageStore(pageSize);
}

describe('BTree', () => {
  const ops = LONG ? 1_000_000 : 100_000;
  it(`matches a sorted model through ${ops} mixed operations (unique, small pages)`, () => {
    differential(1, true, ops, 256, 400);
  });
  it(`matches a sorted model through ${ops} mixed operations (non-unique, small pages)`, () => {
    differential(2, false, ops, 256, 150);
  });
  it('matches a sorted model on 4 KiB pages', () => {
    differential(3, false, LONG ? 300_000 : 30_000, 4096, 5000);
  });

  it('bulk builds from sorted input, equal to inserting one by one', () => {
    for (const n of [0, 1, 5, 100, 3000]) {
      for (const unique of [true, false]) {
        const store = new MemPageStore(256);
        const entries = Array.from({ length: n }, (_, i) => ({ key: encodeKey([{ type: 'int32' }], [unique ? i : i >> 2]), rowId: i }));
        const t = BTree.build(store, { unique }, entries);
        t.checkInvariants();
        expect(t.size).toBe(n);
        expect([...t.scan()].map((e) => e.rowId)).toEqual(entries.map((e) => e.rowId));
        // keep working after the build
        for (let i = 0; i < n; i += 3) expect(t.delete(entries[i]!.key, entries[i]!.rowId)).toBe(true);
        t.checkInvariants();
        const meta = t.checkpoint();
        const u = BTree.open(store, meta);
        const { pages } = u.checkInvariants();
        expect(pages).toBe(store.pagesInUse());
        expect(u.size).toBe(n - Math.ceil(n / 3));
      }
    }
    const dup = [{ key: encodeKey([{ type: 'int32' }], [1]), rowId: 1 }, { key: encodeKey([{ type: 'int32' }], [1]), rowId: 2 }];
    let err: unknown;
    try { BTree.build(new MemPageStore(), { unique: true }, dup); } catch (e) { err = e; }
    expect(isDbError(err, SqlState.UniqueViolation)).toBe(true);
  });

  it('survives mutation during a scan (re-seeks after the last key)', () => {
    const t = BTree.create(new MemPageStore(256), { unique: true });
    const k = (i: number): Uint8Array => encodeKey([{ type: 'int32' }], [i]);
    for (let i = 0; i < 1000; i += 2) t.insert(k(i), i);
    const seen: number[] = [];
    for (const e of t.scan({ gte: k(100) })) {
      seen.push(e.rowId);
      if (e.rowId < 400) { t.delete(k(e.rowId + 2), e.rowId + 2); t.insert(k(e.rowId + 1), e.rowId + 1); }
    }
    expect(seen.slice(0, 6)).toEqual([100, 101, 102, 103, 104, 105]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    t.checkInvariants();
  });

  it('rejects keys over the size limit with 54000, and reports duplicates of unique keys', () => {
    const t = BTree.create(new MemPageStore(4096), { unique: true });
    let err: unknown;
    try { t.insert(new Uint8Array(t.maxKeyBytes + 1), 1); } catch (e) { err = e; }
    expect(isDbError(err, SqlState.ProgramLimitExceeded)).toBe(true);
    expect(t.insert(new Uint8Array(t.maxKeyBytes), 1).inserted).toBe(true);
    expect(t.insert(new Uint8Array(t.maxKeyBytes), 2)).toEqual({ inserted: false, existing: 1 });
    expect(t.set(new Uint8Array(t.maxKeyBytes), 3)).toBe(1);
    expect(t.get(new Uint8Array(t.maxKeyBytes))).toBe(3);
  });

  it('prefix scans on composite keys in both directions', () => {
    const s: KeyColumn[] = [{ type: 'utf8' }, { type: 'int32', desc: true }];
    const t = BTree.create(new MemPageStore(512), { unique: false });
    let id = 0;
    for (const a of ['a', 'ab', 'b']) for (let b = 0; b < 50; b++) t.insert(encodeKey(s, [a, b]), id++);
    const p = [...t.prefix(encodeKey(s, ['ab']))].map((e) => e.rowId);
    expect(p).toEqual(Array.from({ length: 50 }, (_, i) => 99 - i));
    const rev = [...t.prefix(encodeKey(s, ['ab']), true)].map((e) => e.rowId);
    expect(rev).toEqual([...p].reverse());
    expect(t.rowIds({ gt: encodeKey(s, ['a']), lt: encodeKey(s, ['b']) })).toEqual(p);
  });
});
