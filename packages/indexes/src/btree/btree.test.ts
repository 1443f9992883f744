import { describe, expect, it } from 'vitest';
import { isDbError, SqlState } from '@quiverdb/common';
import { BTree } from './btree.js';
import { MemPageStore } from '../page/mem-page-store.js';
import { encodeKey, type KeyColumn } from '../key/key-encoding.js';
import { differential, type IndexKind } from '../testing/index-differential.js';

const LONG = process.env.QUIVER_LONG === '1';
const TIMEOUT = LONG ? 3_600_000 : 60_000;
const btree: IndexKind = {
  create: (store, unique) => BTree.create(store, { unique, name: 'ix' }),
  open: (store, meta) => BTree.open(store, meta, { name: 'ix' }),
};

describe('BTree', () => {
  const ops = LONG ? 1_000_000 : 100_000;
  it(`matches a sorted model through ${ops} mixed operations (unique, small pages)`, () => {
    differential(btree, 1, true, ops, 256, 400);
  }, TIMEOUT);
  it(`matches a sorted model through ${ops} mixed operations (non-unique, small pages)`, () => {
    differential(btree, 2, false, ops, 256, 150);
  }, TIMEOUT);
  it('matches a sorted model on 4 KiB pages', () => {
    differential(btree, 3, false, LONG ? 300_000 : 30_000, 4096, 5000);
  }, TIMEOUT);

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
