/**
 * The seeded differential test shared by both row-id indexes (BTree, FractalIndex): random
 * inserts, deletes, lookups and range / prefix scans against SortedModel, with checkInvariants,
 * page accounting, checkpoint + reopen and unloading of clean pages along the way (how often:
 * `every`; frequent checkpoints keep most nodes clean, so changes start from page images).
 */
import { expect } from 'vitest';
import { rowId, type PageId } from '@quiverdb/common';
import type { KeyRange, OrderedIndex } from '../btree/btree.js';
import { MemPageStore } from '../page/mem-page-store.js';
import { encodeKey, type KeyColumn } from '../key/key-encoding.js';
import { toBinary, fromBinary } from '../key/binary-string.js';
import { Rng } from './rng.js';
import { SortedModel, type ModelRange } from './sorted-model.js';

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

export interface IndexKind {
  create(store: MemPageStore, unique: boolean): OrderedIndex;
  open(store: MemPageStore, meta: PageId): OrderedIndex;
  /** non-unique inserts / deletes are blind (their results are not checked) */
  blind?: boolean;
}

/** Seeded differential test of an OrderedIndex against the sorted model. */
export function differential(kind: IndexKind, seed: number, unique: boolean, ops: number, pageSize: number, domain: number, target = 3000,
  every: { invariants?: number; checkpoint?: number } = {}): void {
  const invariantsEvery = every.invariants ?? 997;
  const checkpointEvery = every.checkpoint ?? 7919;
  const r = new Rng(seed);
  const store = new MemPageStore(pageSize);
  let t = kind.create(store, unique);
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
      const blind = kind.blind === true && !unique;
      if (!blind && (want === undefined ? !res.inserted : res.inserted || res.existing !== want)) expect(res).toEqual({ inserted: false, existing: want });
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
      const got = t.delete(key, rowId(rid));
      const want = m.delete(toBinary(key), rid);
      if (!(kind.blind === true && !unique)) same(got, want);
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
    if (op % invariantsEvery === 0) {
      const { pages } = t.checkInvariants();
      expect(pages).toBe(store.pagesInUse());
    }
    if (op % checkpointEvery === checkpointEvery - 1) {
      const meta = t.checkpoint();
      if (r.bool()) {
        t = kind.open(store, meta);
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
}

