import { describe, expect, it } from 'vitest';
import { isDbError, SqlState } from '@quiverdb/common';
import { BeTree, type MergeFn } from './betree.js';
import { MemPageStore } from '../page/mem-page-store.js';
import { encodeKey } from '../key/key-encoding.js';
import { toBinary, fromBinary } from '../key/binary-string.js';
import { Rng } from '../testing/rng.js';

const LONG = process.env.QUIVER_LONG === '1';
const TIMEOUT = LONG ? 3_600_000 : 60_000;

/** Test merge: append the delta, keep the last 12 bytes; a delta starting with 0 deletes. */
const merge: MergeFn = (old, d) => {
  if (d[0] === 0) return undefined;
  const out = new Uint8Array((old?.length ?? 0) + d.length);
  if (old !== undefined) out.set(old);
  out.set(d, old?.length ?? 0);
  return out.slice(Math.max(0, out.length - 12));
};

function same(a: unknown, b: unknown): void {
  if (a === b) return;
  if (JSON.stringify(a) !== JSON.stringify(b)) expect(a).toEqual(b);
}

/** Naive model: a sorted array of [key, value]. */
class Model {
  entries: [string, string][] = [];
  get size(): number {
    return this.entries.length;
  }
  #find(k: string): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]![0] < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  get(k: string): string | undefined {
    const i = this.#find(k);
    return this.entries[i]?.[0] === k ? this.entries[i][1] : undefined;
  }
  #set(k: string, v: string | undefined): void {
    const i = this.#find(k);
    const present = this.entries[i]?.[0] === k;
    if (v === undefined) {
      if (present) this.entries.splice(i, 1);
    } else if (present) this.entries[i] = [k, v];
    else this.entries.splice(i, 0, [k, v]);
  }
  apply(k: string, op: 'put' | 'del' | 'ups', v: string): void {
    if (op === 'put') this.#set(k, v);
    else if (op === 'del') this.#set(k, undefined);
    else {
      const old = this.get(k);
      const r = merge(old === undefined ? undefined : fromBinary(old), fromBinary(v));
      this.#set(k, r === undefined ? undefined : toBinary(r));
    }
  }
  range(lo: string, hi: string, reverse: boolean, limit: number): [string, string][] {
    const a = this.#find(lo);
    const z = this.#find(hi);
    const out = reverse ? this.entries.slice(Math.max(a, z - limit), z).reverse() : this.entries.slice(a, Math.min(z, a + limit));
    return out;
  }
}

function differential(seed: number, ops: number, pageSize: number, fanout: number, domain: number): void {
  const r = new Rng(seed);
  const store = new MemPageStore(pageSize);
  let t = BeTree.create(store, { name: 'meta', maxFanout: fanout, merge });
  const m = new Model();
  const key = (): Uint8Array => encodeKey([{ type: 'int32' }, { type: 'utf8' }], [r.int(domain), ['', 'x', 'yy'][r.int(3)]!]);
  for (let op = 0; op < ops; op++) {
    const x = r.int(100) + (m.size > 3000 ? 10 : 0);
    if (x < 40) {
      const k = key();
      const v = Uint8Array.from({ length: r.int(10) }, () => r.int(256));
      t.put(k, v);
      m.apply(toBinary(k), 'put', toBinary(v));
    } else if (x < 55 || x >= 100) {
      const k = key();
      t.delete(k);
      m.apply(toBinary(k), 'del', '');
    } else if (x < 70) {
      const k = key();
      const d = Uint8Array.from({ length: 1 + r.int(3) }, () => (r.int(12) === 0 ? 0 : 1 + r.int(255)));
      t.upsert(k, d);
      m.apply(toBinary(k), 'ups', toBinary(d));
    } else if (x < 90) {
      const k = key();
      const got = t.get(k);
      same(got === undefined ? undefined : toBinary(got), m.get(toBinary(k)));
    } else {
      const a = key();
      const b = key();
      const [lo, hi] = toBinary(a) < toBinary(b) ? [a, b] : [b, a];
      const reverse = r.bool();
      const limit = 1 + r.int(80);
      const got: [string, string][] = [];
      for (const e of t.scan({ gte: lo, lt: hi, reverse })) {
        got.push([toBinary(e.key), toBinary(e.value)]);
        if (got.length >= limit) break;
      }
      same(got, m.range(toBinary(lo), toBinary(hi), reverse, limit));
    }
    if (op % 997 === 0) {
      const { pages } = t.checkInvariants();
      same(pages, store.pagesInUse());
    }
    if (op % 7919 === 7918) {
      const meta = t.checkpoint();
      if (r.bool()) t = BeTree.open(store, meta, { name: 'meta', merge });
      else if (r.bool()) t.unloadClean();
      expect(store.getRoot('meta')).toBe(meta);
    }
  }
  t.checkInvariants();
  same([...t.scan()].map((e) => [toBinary(e.key), toBinary(e.value)]), m.entries);
  t.checkpoint();
  t.drop();
  expect(store.pagesInUse()).toBe(0);
}

describe('BeTree', () => {
  const ops = LONG ? 1_000_000 : 100_000;
  it(`matches a naive model through ${ops} mixed operations (small pages, fanout 4)`, () => {
    differential(11, ops, 512, 4, 3000);
  }, TIMEOUT);
  it('matches a naive model with fanout 16 on 4 KiB pages', () => {
    differential(12, LONG ? 300_000 : 20_000, 4096, 16, 20000);
  }, TIMEOUT);

  it('applies pending messages on lookups and scans, and buffers writes above the leaves', () => {
    const store = new MemPageStore(1024);
    const t = BeTree.create(store, { merge });
    const k = (i: number): Uint8Array => encodeKey([{ type: 'int32' }], [i]);
    for (let i = 0; i < 5000; i++) t.put(k(i), Uint8Array.of(i & 0xff, 1));
    const { buffered } = t.checkInvariants();
    expect(buffered).toBeGreaterThan(0);
    expect(t.height).toBeGreaterThan(1);
    t.upsert(k(10), Uint8Array.of(7));
    t.delete(k(11));
    expect(t.get(k(10))).toEqual(Uint8Array.of(10, 1, 7));
    expect(t.get(k(11))).toBeUndefined();
    const sc = [...t.scan({ gte: k(9), lt: k(13) })].map((e) => [...e.value]);
    expect(sc).toEqual([[9, 1], [10, 1, 7], [12, 1]]);
    expect(t.stats.flushes).toBeGreaterThan(0);
  });

  it('restarts a scan after a concurrent write', () => {
    const t = BeTree.create(new MemPageStore(512), {});
    const k = (i: number): Uint8Array => encodeKey([{ type: 'int32' }], [i]);
    for (let i = 0; i < 500; i += 2) t.put(k(i), Uint8Array.of(1));
    const seen: Uint8Array[] = [];
    for (const e of t.scan()) {
      seen.push(e.key);
      if (seen.length === 10) for (let i = 1; i < 500; i += 2) t.put(k(i), Uint8Array.of(2));
    }
    expect(seen.length).toBe(10 + (500 - 18 - 1));
    const back: string[] = [];
    for (const e of t.scan({ reverse: true, lt: k(300) })) {
      back.push(toBinary(e.key));
      if (back.length === 5) for (let i = 0; i < 300; i++) t.delete(k(i * 2 + 1));
    }
    const want = [299, 298, 297, 296, 295, ...Array.from({ length: 148 }, (_, i) => 294 - 2 * i)].map((i) => toBinary(k(i)));
    expect(back).toEqual(want);
    t.checkInvariants();
  });

  it('rejects oversized entries with 54000 and upserts without a merge function with 0A000', () => {
    const t = BeTree.create(new MemPageStore(4096));
    let err: unknown;
    try { t.put(new Uint8Array(400), new Uint8Array(200)); } catch (e) { err = e; }
    expect(isDbError(err, SqlState.ProgramLimitExceeded)).toBe(true);
    err = undefined;
    try { t.upsert(Uint8Array.of(1), Uint8Array.of(1)); } catch (e) { err = e; }
    expect(isDbError(err, SqlState.FeatureNotSupported)).toBe(true);
  });
});
