import { describe, expect, it } from 'vitest';
import { isDbError, SqlState } from '@quiverdb/common';
import { BTree } from './btree.js';
import { MemPageStore } from '../page/mem-page-store.js';
import { encodeKey, type KeyColumn } from '../key/key-encoding.js';
import { differential, type IndexKind } from '../testing/index-differential.js';
import { seededRandom } from '@quiverdb/common';

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
  // a checkpoint every 61 operations: most changes start from clean nodes (decoded from their
  // page images, copied on write), and lookups mix nodes of both kinds on one path
  it('matches a sorted model with frequent checkpoints (changes to clean nodes)', () => {
    differential(btree, 4, false, LONG ? 300_000 : 30_000, 256, 300, 3000, { invariants: 29, checkpoint: 61 });
    differential(btree, 5, true, LONG ? 300_000 : 30_000, 256, 600, 3000, { invariants: 29, checkpoint: 61 });
    differential(btree, 6, false, LONG ? 100_000 : 10_000, 4096, 5000, 3000, { invariants: 101, checkpoint: 211 });
  }, TIMEOUT);

  it('appendBatch appends ascending batches past the right edge and refuses the others, like a model', () => {
    const spec: KeyColumn[] = [{ type: 'int32' }, { type: 'utf8' }];
    for (const unique of [false, true]) {
      const rnd = seededRandom(unique ? 11 : 12);
      const store = new MemPageStore(256);
      const t = BTree.create(store, { unique });
      const model = new Map<string, number>(); // "a|b" -> rowId (keys are unique in this test)
      const order = (k: string) => k.split('|');
      let next = 0; // largest leading value handed out so far
      let rowId = 1;
      let appended = 0;
      for (let round = 0; round < 250; round++) {
        const n = 1 + Math.floor(rnd() * 40);
        const kind = rnd();
        let vals: [number, string][];
        if (kind < 0.6) {
          // ascending past the end: must be appended
          vals = Array.from({ length: n }, (_, i) => [next + 1 + i, `s${Math.floor(rnd() * 5)}`]);
        } else if (kind < 0.8) {
          // descending: appended sorted when past the end and distinct, else refused (nothing changes)
          const base = Math.max(0, next - Math.floor(rnd() * 20));
          vals = Array.from({ length: n }, (_, i) => [base + (n - i), 'x']);
          if (n === 1 && base + 1 > next) vals = [[next, 'a']]; // at or below the largest leading value
        } else if (kind < 0.9) {
          // equal leading values, ascending text: appended when past the end
          vals = Array.from({ length: n }, (_, i) => [next + 1, `t${String(i).padStart(3, '0')}`]);
        } else {
          // shuffled, sometimes with a duplicate: refused when one repeats
          vals = Array.from({ length: n }, (_, i) => [next + 1 + ((i * 7) % n), 's'] as [number, string]);
          if (n > 2 && rnd() < 0.5) vals[n - 1] = vals[0]!;
        }
        const keys = vals.map((v) => encodeKey(spec, v));
        const ids = Float64Array.from(vals, () => rowId++);
        const sizeBefore = t.size;
        const ok = t.appendBatch((i) => keys[i]!, ids, n);
        // distinct keys, none present (any order: the batch is appended sorted)
        const fresh = new Set(vals.map((v) => v.join('|'))).size === n && vals.every((v) => !model.has(v.join('|')));
        // past the largest key present (deletes may have removed the largest handed out)
        const tupleGt = (x: [number, string], y: [number, string]) => x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]);
        let max: [number, string] | undefined;
        for (const k of model.keys()) {
          const [a, b] = order(k);
          const v: [number, string] = [Number(a), b!];
          if (max === undefined || tupleGt(v, max)) max = v;
        }
        let least = vals[0]!;
        for (const v of vals) if (tupleGt(least, v)) least = v;
        const past = max === undefined || tupleGt(least, max);
        expect(ok).toBe(fresh && past);
        if (ok) {
          appended += n;
          vals.forEach((v, i) => model.set(v.join('|'), ids[i]!));
          next = Math.max(next, ...vals.map((v) => v[0]));
          expect(t.size).toBe(sizeBefore + n);
        } else {
          expect(t.size).toBe(sizeBefore);
        }
        if (round % 50 === 0) t.checkInvariants();
        // a few ordinary inserts / deletes in between
        if (rnd() < 0.2 && model.size > 0) {
          const k = [...model.keys()][Math.floor(rnd() * model.size)]!;
          const [a, b] = order(k);
          expect(t.delete(encodeKey(spec, [Number(a), b!]), model.get(k)!)).toBe(true);
          model.delete(k);
        }
      }
      t.checkInvariants();
      expect(appended).toBeGreaterThan(1000);
      const expected = [...model.entries()].sort((x, y) => {
        const [xa, xb] = order(x[0]);
        const [ya, yb] = order(y[0]);
        return Number(xa) - Number(ya) || (xb! < yb! ? -1 : xb! > yb! ? 1 : 0);
      }).map((e) => e[1]);
      expect(t.rowIds()).toEqual(expected);
      for (const [k, id] of model) {
        const [a, b] = order(k);
        expect(t.getAll(encodeKey(spec, [Number(a), b!]))).toEqual([id]);
      }
      // persisted and reopened the same
      const meta = t.checkpoint();
      const r = BTree.open(store, meta);
      r.checkInvariants();
      expect(r.rowIds()).toEqual(expected);
    }
  });

  it('writeAhead between changes: same contents, invariants, checkpoints and reopens as without', () => {
    const spec: KeyColumn[] = [{ type: 'int32' }];
    for (const unique of [false, true]) {
      const rnd = seededRandom(unique ? 31 : 32);
      const store = new MemPageStore(256);
      const t = BTree.create(store, { unique });
      const model = new Map<number, number>();
      let next = 0;
      let ahead = 0;
      for (let op = 0; op < 6000; op++) {
        const r = rnd();
        if (r < 0.45) {
          const k = next++; // ascending (the right edge)
          t.insert(encodeKey(spec, [k]), k);
          model.set(k, k);
        } else if (r < 0.75) {
          const k = Math.floor(rnd() * 100_000) + 1_000_000; // anywhere else
          if (!model.has(k)) { t.insert(encodeKey(spec, [k]), k); model.set(k, k); }
        } else if (r < 0.9 && model.size > 0) {
          const keys = [...model.keys()];
          const k = keys[Math.floor(rnd() * keys.length)]!;
          expect(t.delete(encodeKey(spec, [k]), k)).toBe(true);
          model.delete(k);
        } else {
          ahead += t.writeAhead(1 + Math.floor(rnd() * 20));
        }
        if (op % 500 === 499) {
          t.checkInvariants();
          const meta = t.checkpoint();
          const reopened = BTree.open(store, meta);
          reopened.checkInvariants();
          const want = [...model.keys()].sort((a, b) => a - b);
          expect(reopened.rowIds()).toEqual(want);
          expect(t.rowIds()).toEqual(want);
        }
      }
      expect(ahead).toBeGreaterThan(100);
    }
  });

  it('after writeAhead a checkpoint writes only the right edge', () => {
    const spec: KeyColumn[] = [{ type: 'int32' }];
    const store = new MemPageStore(4096);
    const t = BTree.create(store, { unique: false });
    for (let i = 0; i < 50_000; i++) t.insert(encodeKey(spec, [i]), i);
    t.checkpoint();
    for (let i = 50_000; i < 100_000; i++) t.insert(encodeKey(spec, [i]), i);
    let n = 0;
    for (let w = t.writeAhead(64); w > 0; w = t.writeAhead(64)) n += w;
    expect(n).toBeGreaterThan(200);
    const before = t.stats.pageWrites;
    const meta = t.checkpoint();
    // root-to-leaf right edge + the meta page
    expect(t.stats.pageWrites - before).toBeLessThanOrEqual(t.height + 2);
    const r = BTree.open(store, meta);
    r.checkInvariants();
    expect(r.size).toBe(100_000);
    expect(r.getAll(encodeKey(spec, [77_777]))).toEqual([77_777]);
  });

  it('fills leaves to about 3/4 on ascending inserts (one by one or appended)', () => {
    for (const mode of ['insert', 'append'] as const) {
      const store = new MemPageStore(4096);
      const t = BTree.create(store, { unique: false });
      const spec: KeyColumn[] = [{ type: 'int32' }];
      const n = 20_000;
      if (mode === 'insert') for (let i = 0; i < n; i++) t.insert(encodeKey(spec, [i]), i);
      else for (let i = 0; i < n; i += 500) expect(t.appendBatch((j) => encodeKey(spec, [i + j]), Float64Array.from({ length: 500 }, (_, j) => i + j), 500)).toBe(true);
      const { pages } = t.checkInvariants();
      // 23-byte entries: ~178 per full 4 KiB leaf; a half split would need ~225 leaves
      expect(pages).toBeLessThan(160);
      expect(t.rowIds()).toEqual(Array.from({ length: n }, (_, i) => i));
    }
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

  it('point lookups (get / getAll) agree with a model on dirty nodes, after checkpoint, and after reopen', () => {
    // keys related by prefix (shorter, longer, longer than the 8-byte search prefix) and runs of
    // one key long enough to span several leaves of a small page
    const rnd = seededRandom(66);
    const keys: Uint8Array[] = [];
    for (const base of [[1], [1, 2], [1, 2, 3], [1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 5, 6, 7, 8, 10], [1, 3], [2], [255, 255]]) {
      keys.push(Uint8Array.from(base));
    }
    for (let i = 0; i < 40; i++) keys.push(Uint8Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 4)));
    const store = new MemPageStore(256);
    const t = BTree.create(store, { unique: false, name: 'ix' });
    const model = new Map<string, number[]>();
    let row = 0;
    for (let i = 0; i < 3000; i++) {
      // a few keys get long runs: the first key holds about a third of all entries
      const key = rnd() < 0.3 ? keys[0]! : keys[Math.floor(rnd() * keys.length)]!;
      const id = row++;
      t.insert(key, id);
      const k = key.join(',');
      model.set(k, [...(model.get(k) ?? []), id]);
    }
    const absent = [Uint8Array.from([0]), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9, 9, 9]), new Uint8Array(0)];
    const check = (tree: BTree): void => {
      for (const key of [...keys, ...absent]) {
        const want = model.get(key.join(',')) ?? [];
        expect(tree.getAll(key)).toEqual(want);
        expect(tree.get(key)).toBe(want[0]);
        expect(tree.has(key)).toBe(want.length > 0);
      }
    };
    check(t);
    const meta = t.checkpoint(); // nodes are clean now: lookups search their page images
    check(t);
    t.checkInvariants();
    check(BTree.open(store, meta, { name: 'ix' }));
    // dirtying some nodes again: a mix of clean and dirty nodes on one path
    for (let i = 0; i < 200; i++) {
      const key = keys[Math.floor(rnd() * keys.length)]!;
      const id = row++;
      t.insert(key, id);
      const k = key.join(',');
      model.set(k, [...(model.get(k) ?? []), id]);
    }
    check(t);
    t.checkInvariants();
  });
});

