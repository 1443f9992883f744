/**
 * Group-id assignment that persists across batches (streaming hash aggregation): rows of each
 * batch get dense group ids, in order of first appearance over all batches, and each new group
 * keeps its key values.
 *
 * One key column: a per-column dictionary (value key → id; numbers in an open-addressing table on
 * typed arrays — or, for int32 keys in a narrow range, a direct-mapped array — other keys in a
 * Map) is the group id. Several key columns:
 * the column ids are folded left to right through `PairTable`s, open-addressing hash tables on
 * typed arrays mapping an (id, id) pair to a dense id, so no per-row string or array is built.
 * Before a value is looked up, a per-prefix-group cache (`PrefixCache`) is asked whether the
 * same value came with the same prefix group last time: columns that depend on the ones before
 * them (c_name, c_address beside c_custkey) then cost one === per row. The groups' key values
 * are kept in typed arrays while the input columns are typed (`KeyColumn`).
 *
 * Invariants:
 *  1. Two rows get the same group id iff their key tuples are equal under `keyOf` (NULL = NULL:
 *     GROUP BY semantics); typed NULL-free columns use the number itself as its key (`keyOf`
 *     of a number is the number), so typed and untyped batches of one column meet.
 *  2. Group ids are 0..count-1 in order of first appearance; `keys[c][g]` is column c's value in
 *     the first row of group g. `assign` writes id + 1 (0 = a row outside the selection), so
 *     per-group state arrays have a throwaway slot 0 and loops over a batch need no branch.
 *  3. A PairTable holds `size` distinct pairs with ids 0..size-1, and its load stays at most 1/2;
 *     its direct cache of small pairs only ever holds -1 or the id the hash table gives the pair.
 *  4. A PrefixCache slot of prefix id x holding value v (not MISSING / NaN) holds the id the
 *     pair table gives (x, id of v).
 *
 * Concurrency: plain synchronous data structure, owned by one operator run.
 */
import { keyOf } from '../types/values.js';
import { STR_SLOTS, strSlot } from './str-slot.js';
import { give, takeF64, takeI32 } from './recycle.js';

/** Open-addressing map from a pair of non-negative int32 ids to a dense id (0, 1, ...). */
export class PairTable {
  size = 0;
  private cap = 16;
  private mask = 15;
  private a = new Int32Array(16).fill(-1);
  private b = new Int32Array(16);
  private v = new Int32Array(16);

  /** ids of small pairs (x < 1024, y < 64) by direct index, -1 = not cached yet */
  private direct: Int32Array | null = null;
  private calls = 0;

  /** Grow (rehash once) to hold about n pairs without further rehashing. */
  reserve(n: number): void {
    let cap = this.cap;
    while (cap < 2 * n) cap *= 2;
    if (cap > this.cap) this.grow(cap);
  }

  /** The id of (x, y), adding it as `size` when new. */
  get(x: number, y: number): number {
    if (x < 1024 && y < 64 && ++this.calls > 4096) {
      // (only once the table is busy: small aggregations do not pay for the 256 KB array)
      const d = this.direct ??= takeI32(1024 * 64).fill(-1);
      const k = (x << 6) | y;
      const id = d[k]!;
      if (id >= 0) return id;
      return (d[k] = this.hashGet(x, y));
    }
    return this.hashGet(x, y);
  }

  /**
   * ids[i] = id of (ids[i], ys[i]) for i < m. `xMax` / `yMax`: bounds of the x and y values
   * (exclusive); when the pairs fit the direct cache, one tight loop over it.
   */
  mapAll(ids: Int32Array, ys: Int32Array, m: number, xMax: number, yMax: number): void {
    if (xMax <= 1024 && yMax <= 64 && m >= 256) {
      const d = this.direct ??= takeI32(1024 * 64).fill(-1);
      for (let i = 0; i < m; i++) {
        const x = ids[i]!, y = ys[i]!;
        const k = (x << 6) | y;
        let id = d[k]!;
        if (id < 0) id = d[k] = this.hashGet(x, y);
        ids[i] = id;
      }
      return;
    }
    for (let i = 0; i < m; i++) ids[i] = this.get(ids[i]!, ys[i]!);
  }

  private hashGet(x: number, y: number): number {
    let h = (Math.imul(x, 0x9e3779b1) ^ Math.imul(y + 0x7f4a7c15, 0x85ebca77)) >>> 0;
    h = (h ^ (h >>> 15)) & this.mask;
    const a = this.a, b = this.b;
    for (;;) {
      const k = a[h]!;
      if (k === -1) break;
      if (k === x && b[h] === y) return this.v[h]!;
      h = (h + 1) & this.mask;
    }
    const id = this.size++;
    a[h] = x; b[h] = y; this.v[h] = id;
    if (this.size * 2 > this.cap) this.grow();
    return id;
  }

  private grow(cap = this.cap * 2): void {
    const oa = this.a, ob = this.b, ov = this.v;
    this.cap = cap; this.mask = this.cap - 1;
    this.a = takeI32(this.cap).fill(-1);
    this.b = takeI32(this.cap);
    this.v = takeI32(this.cap);
    const n = this.size;
    this.size = 0;
    for (let i = 0; i < oa.length; i++) {
      if (oa[i] === -1) continue;
      this.insertAt(oa[i]!, ob[i]!, ov[i]!);
    }
    this.size = n;
    give(oa); give(ob); give(ov);
  }

  /** Give the arrays back to the recycler (recycle.ts): the table is done. */
  release(): void {
    give(this.a); give(this.b); give(this.v); give(this.direct);
    this.direct = null;
  }

  private insertAt(x: number, y: number, id: number): void {
    let h = (Math.imul(x, 0x9e3779b1) ^ Math.imul(y + 0x7f4a7c15, 0x85ebca77)) >>> 0;
    h = (h ^ (h >>> 15)) & this.mask;
    while (this.a[h] !== -1) h = (h + 1) & this.mask;
    this.a[h] = x; this.b[h] = y; this.v[h] = id;
  }

  checkInvariants(): void {
    let used = 0;
    const seen = new Set<number>();
    for (let i = 0; i < this.cap; i++) {
      if (this.a[i] === -1) continue;
      used++;
      const id = this.v[i]!;
      if (id < 0 || id >= this.size || seen.has(id)) throw new Error(`PairTable: bad id ${id}`);
      seen.add(id);
    }
    if (used !== this.size) throw new Error(`PairTable: ${used} slots used, size ${this.size}`);
    if (this.size * 2 > this.cap) throw new Error('PairTable: load above 1/2');
  }
}

/** Dictionaries at most this big are scanned (=== on the keys) rather than hashed. */
const SMALL_DICT = 8;
/** One-character strings with a code below this have their own id slot (ColumnDict.oneSlots). */
const ONE_CHAR = 256;

const F64 = new Float64Array(1);
const I32 = new Int32Array(F64.buffer);

/**
 * Open-addressing map from numbers to ids on typed arrays (keys compared with ===; -0 is stored
 * as 0 and NaN has its own slot, so keys meet as in a Map).
 */
export class NumTable {
  private cap = 16;
  private mask = 15;
  /** slot i: key at 2i, id + 1 at 2i + 1 (0: empty); one cache line holds both */
  private slots = new Float64Array(32);
  private used = 0;
  private nan = -1;

  /**
   * Slot hash: an int32 key keeps its low 4 bits and hashes the rest, so runs of nearby keys
   * (sequential ids, dates) land in the same few cache lines; other numbers hash their bits.
   */
  private static hash(x: number): number {
    if ((x | 0) === x) {
      const hi = Math.imul(x >> 4, 0x9e3779b1);
      return ((hi ^ (hi >>> 15)) << 4) | (x & 15);
    }
    F64[0] = x;
    const h = (Math.imul(I32[0]!, 0x9e3779b1) ^ Math.imul(I32[1]!, 0x85ebca77)) >>> 0;
    return h ^ (h >>> 16);
  }

  /** Grow (rehash once) to hold about n keys without further rehashing. */
  reserve(n: number): void {
    let cap = this.cap;
    while (cap < 2 * n) cap *= 2;
    if (cap > this.cap) this.grow(cap);
  }

  /** The id of v, or -1 when v is not held (nothing is stored). */
  find(v: number): number {
    if (v !== v) return this.nan;
    const x = v === 0 ? 0 : v;
    const slots = this.slots, mask = this.mask;
    for (let h = NumTable.hash(x) & mask; ; h = (h + 1) & mask) {
      const id = slots[2 * h + 1]!;
      if (id === 0) return -1;
      if (slots[2 * h] === x) return id - 1;
    }
  }

  /** The id of v, or `fresh` (then stored) when v is new. */
  lookup(v: number, fresh: number): number {
    if (v !== v) { if (this.nan < 0) this.nan = fresh; return this.nan; }
    const x = v === 0 ? 0 : v; // -0 is 0
    const slots = this.slots, mask = this.mask;
    let h = NumTable.hash(x) & mask;
    for (;;) {
      const id = slots[2 * h + 1]!;
      if (id === 0) break;
      if (slots[2 * h] === x) return id - 1;
      h = (h + 1) & mask;
    }
    slots[2 * h] = x; slots[2 * h + 1] = fresh + 1;
    if (++this.used * 2 > this.cap) this.grow();
    return fresh;
  }

  private grow(cap = this.cap * 2): void {
    const old = this.slots;
    this.cap = cap;
    this.mask = this.cap - 1;
    const slots = this.slots = takeF64(this.cap * 2);
    for (let i = 0; i < old.length; i += 2) {
      const id = old[i + 1]!;
      if (id === 0) continue;
      const x = old[i]!;
      let h = NumTable.hash(x) & this.mask;
      while (slots[2 * h + 1] !== 0) h = (h + 1) & this.mask;
      slots[2 * h] = x; slots[2 * h + 1] = id;
    }
    give(old);
  }

  /** Give the slots back to the recycler (recycle.ts): the table is done. */
  release(): void { give(this.slots); }

  /** number of keys held (NaN included) */
  get size(): number { return this.used + (this.nan >= 0 ? 1 : 0); }

  checkInvariants(): void {
    let n = 0;
    const seen = new Set<number>();
    for (let i = 0; i < this.cap; i++) {
      const id = this.slots[2 * i + 1]! - 1;
      if (id < 0) continue;
      n++;
      if (seen.has(id)) throw new Error(`NumTable: id ${id} twice`);
      seen.add(id);
      if (this.lookup(this.slots[2 * i]!, -2) !== id) throw new Error('NumTable: key not found from its hash');
    }
    if (n !== this.used || this.used * 2 > this.cap) throw new Error('NumTable: count or load');
  }
}

/** A direct-mapped table may span up to this many keys ... */
const DIRECT_MAX = 1 << 23;
/** ... and up to this many times the keys it may come to hold (ids so far plus a batch's rows), or this floor. */
const DIRECT_SPREAD = 8;
const DIRECT_FLOOR = 1 << 16;

/**
 * Dense ids of one key column's values (by `keyOf`): numbers in a NumTable, other keys (text,
 * the NULL key, ...) in a Map, one id space; `list` holds the first keys in id order (all of
 * them while the dictionary is small).
 *
 * A column whose first batch is an Int32Array of keys within a narrow range (order keys, dates,
 * small codes) gets a direct-mapped table instead of the NumTable: `direct[v - base]` is the id
 * of v plus one (0: absent), so a lookup is one load and keys arriving in order touch memory in
 * order. The table grows to cover new keys while its span stays within DIRECT_SPREAD times the
 * keys it may hold (and DIRECT_MAX); a key it cannot take (wider spread, a non-integer, NaN)
 * moves every key into the NumTable, for good. A number key is in exactly one of the two.
 */
class ColumnDict {
  size = 0;
  /** columnIds' slots of small string dictionaries: an id whose key (in `list`) may be the value */
  strSlots: Int8Array | null = null;
  /** columnIds' ids of one-character string keys by character code (-1: not seen yet) */
  oneSlots: Int8Array | null = null;
  readonly list: unknown[] = [];
  readonly nums = new NumTable();
  private readonly map = new Map<unknown, number>();
  /** direct-mapped ids (see above) of int32 keys in [base, base + direct.length), or null */
  private direct: Int32Array | null = null;
  private base = 0;
  /** number of keys in `direct` */
  private directCount = 0;
  /** the direct table was given up (or never possible): numbers use the NumTable */
  private directOff = false;

  /** Is the direct table in use? */
  get isDirect(): boolean { return this.direct !== null; }

  /** The id of key k (adding it when new). */
  id(k: unknown): number {
    let id: number;
    if (typeof k === 'number') return this.idNum(k);
    const got = this.map.get(k);
    if (got !== undefined) return got;
    id = this.size;
    this.map.set(k, id);
    this.size++;
    if (id <= SMALL_DICT) this.list.push(k);
    return id;
  }

  /** The id of the number v (adding it when new): `id` without the type dispatch. */
  idNum(v: number): number {
    if (this.direct !== null) {
      if ((v | 0) === v && this.cover(v, v, 1)) return this.directId(v);
      this.leaveDirect();
    }
    const id = this.nums.lookup(v, this.size);
    if (id === this.size) { this.size++; if (id <= SMALL_DICT) this.list.push(v); }
    return id;
  }

  private directId(v: number): number {
    const o = v - this.base;
    const id = this.direct![o]! - 1;
    if (id >= 0) return id;
    const fresh = this.size++;
    this.direct![o] = fresh + 1;
    this.directCount++;
    if (fresh <= SMALL_DICT) this.list.push(v);
    return fresh;
  }

  /**
   * Can the rows sel[0..m) (or 0..m-1) of the int32 column `col` take their ids from the direct
   * table (started or grown here as needed)? False leaves the numbers to the NumTable.
   */
  directFor(col: Int32Array, sel: Int32Array | null, m: number): boolean {
    if (this.directOff || m === 0) return false;
    if (this.direct === null && this.size > 0) { this.directOff = true; return false; }
    let lo = 2147483647, hi = -2147483648;
    if (sel === null) for (let p = 0; p < m; p++) { const v = col[p]!; lo = v < lo ? v : lo; hi = v > hi ? v : hi; }
    else for (let p = 0; p < m; p++) { const v = col[sel[p]!]!; lo = v < lo ? v : lo; hi = v > hi ? v : hi; }
    if (this.cover(lo, hi, m)) return true;
    if (this.direct !== null) this.leaveDirect(m);
    this.directOff = true;
    return false;
  }

  /** Make the direct table span [lo, hi] for up to `more` new keys; false when that is too wide. */
  private cover(lo: number, hi: number, more: number): boolean {
    const d = this.direct;
    if (d !== null && lo >= this.base && hi < this.base + d.length) return true;
    const nlo = d === null ? lo : Math.min(lo, this.base);
    const nhi = d === null ? hi : Math.max(hi, this.base + d.length - 1);
    const need = nhi - nlo + 1;
    const limit = Math.min(DIRECT_MAX, Math.max(DIRECT_FLOOR, DIRECT_SPREAD * (this.directCount + more)));
    if (need > limit) return false;
    // room to grow toward the side the new keys came from (doubling), within the limit
    const len = Math.min(limit, Math.max(need, d === null ? need : 2 * d.length));
    const base = d !== null && lo < this.base ? nhi - len + 1 : nlo;
    const t = takeI32(len);
    if (d !== null) { t.set(d, this.base - base); give(d); }
    this.direct = t;
    this.base = base;
    return true;
  }

  /** Give the tables' arrays back to the recycler (recycle.ts): the dictionary is done. */
  release(): void {
    give(this.direct);
    this.direct = null;
    this.nums.release();
  }

  /** Move the direct table's keys into the NumTable and stop using it. */
  private leaveDirect(more = 0): void {
    const d = this.direct!, base = this.base;
    this.nums.reserve(this.directCount + more);
    for (let o = 0; o < d.length; o++) if (d[o] !== 0) this.nums.lookup(base + o, d[o]! - 1);
    give(d);
    this.direct = null;
    this.directCount = 0;
    this.directOff = true;
  }

  /** ids of the rows sel[0..m) (or 0..m-1) of `col` into out, after `directFor` said yes. */
  directIds(col: Int32Array, sel: Int32Array | null, m: number, out: Int32Array): void {
    const tab = this.direct!, base = this.base, list = this.list;
    const size0 = this.size;
    let size = size0;
    for (let p = 0; p < m; p++) {
      const o = col[sel === null ? p : sel[p]!]! - base;
      let id = tab[o]! - 1;
      if (id < 0) {
        id = size++;
        tab[o] = size;
        if (id <= SMALL_DICT) list.push(o + base);
      }
      out[p] = id;
    }
    this.size = size;
    this.directCount += size - size0;
  }

  /**
   * As directIds, but out[row] = id + 1 at each row (sel[p] or p) and the rows of the keys new
   * to the table, in order, into fresh[0..k); returns k.
   */
  directAssign(col: Int32Array, sel: Int32Array | null, m: number, out: Int32Array, fresh: Int32Array): number {
    const tab = this.direct!, base = this.base, list = this.list;
    const size0 = this.size;
    let size = size0;
    for (let p = 0; p < m; p++) {
      const row = sel === null ? p : sel[p]!;
      const o = col[row]! - base;
      let id1 = tab[o]!;
      if (id1 === 0) {
        if (size <= SMALL_DICT) list.push(o + base);
        fresh[size - size0] = row;
        id1 = tab[o] = ++size;
      }
      out[row] = id1;
    }
    this.size = size;
    this.directCount += size - size0;
    return size - size0;
  }

  /** The id of value v (by `keyOf`), scanning the key list while the dictionary is small. */
  idOf(v: unknown): number {
    const k = typeof v === 'string' || typeof v === 'number' ? v : keyOf(v);
    if (this.size <= SMALL_DICT && typeof k === 'string') {
      const list = this.list, len = this.size;
      for (let j = 0; j < len; j++) if (list[j] === k) return j;
    }
    return this.id(k);
  }

  checkInvariants(): void {
    this.nums.checkInvariants();
    if (this.nums.size + this.map.size + this.directCount !== this.size) throw new Error('ColumnDict: size disagrees with its tables');
    if (this.list.length !== Math.min(this.size, SMALL_DICT + 1)) throw new Error('ColumnDict: list length');
    if (this.direct !== null) {
      const seen = new Set<number>();
      let n = 0;
      for (let o = 0; o < this.direct.length; o++) {
        const id = this.direct[o]! - 1;
        if (id < 0) continue;
        n++;
        if (id >= this.size || seen.has(id)) throw new Error(`ColumnDict: bad direct id ${id}`);
        seen.add(id);
        if (this.nums.find(this.base + o) !== -1) throw new Error('ColumnDict: a key in both the direct table and the NumTable');
      }
      if (n !== this.directCount) throw new Error('ColumnDict: direct count');
    }
  }
}

/** Dense ids of one column's values (by `keyOf`) at rows `sel[0..m)` (or 0..m-1), persisting across batches in `dict`. */
function columnIds(col: ArrayLike<unknown>, sel: Int32Array | null, m: number, dict: ColumnDict, out: Int32Array): void {
  const typed = !Array.isArray(col);
  const big = col instanceof BigInt64Array;
  const list = dict.list;
  if (col instanceof Int32Array && dict.directFor(col, sel, m)) { dict.directIds(col, sel, m, out); return; }
  let p = 0;
  if (!typed && dict.size <= SMALL_DICT) {
    // few distinct strings (flags, statuses, ...): a slot chosen by length and end characters
    // names the id to try, checked with one ===; a miss scans the few keys (the branches stay
    // predictable when the values alternate at random); stops at a non-string
    const slots = dict.strSlots ??= new Int8Array(STR_SLOTS).fill(-1);
    while (p < m && dict.size <= SMALL_DICT) {
      const v = col[sel === null ? p : sel[p]!];
      if (typeof v !== 'string') break;
      const len = v.length;
      let id: number;
      if (len === 1) {
        // one character: its code is the string, so its slot needs no === check
        const ch = v.charCodeAt(0);
        if (ch < ONE_CHAR) {
          const ones = dict.oneSlots ??= new Int8Array(ONE_CHAR).fill(-1);
          id = ones[ch]!;
          if (id < 0) { id = dict.id(v); if (id <= SMALL_DICT) ones[ch] = id; }
          out[p++] = id;
          continue;
        }
      }
      const h = strSlot(v);
      id = slots[h]!;
      if (id < 0 || list[id] !== v) {
        id = -1;
        const size = dict.size;
        for (let j = 0; j < size; j++) if (list[j] === v) { id = j; break; }
        if (id < 0) id = dict.id(v);
        if (id <= SMALL_DICT) slots[h] = id;
      }
      out[p++] = id;
    }
  }
  // small dictionary of other keys: a scan of a few keys beats hashing
  while (p < m && dict.size <= SMALL_DICT) {
    const v = col[sel === null ? p : sel[p]!];
    const k = typed && !big ? v : typeof v === 'string' || typeof v === 'number' ? v : keyOf(v);
    let id = -1;
    const len = dict.size;
    for (let j = 0; j < len; j++) if (list[j] === k) { id = j; break; }
    out[p++] = id >= 0 ? id : dict.id(k); // (NaN never matches here: the NumTable has it)
  }
  if (p === m) return;
  if (typed && !big) {
    const c = col as ArrayLike<number>;
    let last = NaN, lastId = -1;
    for (; p < m; p++) {
      const v = c[sel === null ? p : sel[p]!]!;
      if (v === last) { out[p] = lastId; continue; }
      const id = dict.idNum(v);
      out[p] = id; last = v; lastId = id;
    }
    return;
  }
  // runs of one value (input sorted or clustered on the key) skip the dictionary
  let last: unknown = MISSING, lastId = -1;
  for (; p < m; p++) {
    const v = col[sel === null ? p : sel[p]!];
    if (v === last) { out[p] = lastId; continue; }
    const id = dict.id(typeof v === 'string' || typeof v === 'number' ? v : keyOf(v));
    out[p] = id; last = v; lastId = id;
  }
}

/** A value no column holds (cache slots not filled yet). */
const MISSING: unknown = Symbol('missing');

/**
 * Per prefix group id x (the group of the key columns before column c): the last value column c
 * had beside x, and the id of (x, that value). A key column that depends on the columns before
 * it (c_name beside c_custkey) hits this cache on every row but a group's first, so its values
 * are neither hashed nor looked up. Numbers (typed batches) and other values keep separate slots;
 * a NaN slot never hits. A hit is sound: values equal under === have equal `keyOf` keys.
 */
class PrefixCache {
  nums = new Float64Array(0);
  numIds = new Int32Array(0);
  vals: unknown[] = [];
  valIds = new Int32Array(0);

  /** Make room for prefix ids below `n`. */
  reserve(n: number, typed: boolean): void {
    if (typed) {
      if (this.nums.length >= n) return;
      const cap = Math.max(n, this.nums.length * 2, 64);
      const nums = new Float64Array(cap).fill(NaN); nums.set(this.nums); this.nums = nums;
      const ids = new Int32Array(cap); ids.set(this.numIds); this.numIds = ids;
    } else {
      if (this.vals.length >= n) return;
      const cap = Math.max(n, this.vals.length * 2, 64);
      for (let i = this.vals.length; i < cap; i++) this.vals.push(MISSING);
      const ids = new Int32Array(cap); ids.set(this.valIds); this.valIds = ids;
    }
  }
}

/**
 * Key values of the groups of one key column, in group order: a typed array while every batch
 * brought the column as one kind of typed array (Int32Array / Float64Array), else a JS array.
 */
class KeyColumn {
  n = 0;
  private typed: Int32Array | Float64Array | null = null;
  private arr: unknown[] | null = null;

  /** Append the value of row `row` of `col`. */
  push(col: ArrayLike<unknown>, row: number): void {
    const t = this.typed;
    if (t !== null && t.constructor === col.constructor) {
      if (this.n === t.length) this.grow();
      this.typed![this.n++] = (col as ArrayLike<number>)[row]!;
      return;
    }
    if (this.arr === null) {
      if (this.n === 0 && t === null && (col instanceof Int32Array || col instanceof Float64Array)) {
        this.typed = col instanceof Int32Array ? new Int32Array(64) : new Float64Array(64);
        this.typed[this.n++] = col[row]!;
        return;
      }
      this.arr = t === null ? [] : Array.from(t.subarray(0, this.n));
      this.typed = null;
    }
    this.arr.push(col[row]);
    this.n++;
  }

  private grow(): void {
    const t = this.typed!;
    const g = new (t.constructor as Int32ArrayConstructor | Float64ArrayConstructor)(t.length * 2);
    g.set(t);
    this.typed = g;
  }

  /** The values as a column of exactly n entries (a typed copy, or the JS array itself). */
  values(): unknown[] {
    if (this.typed !== null) return this.typed.slice(0, this.n) as unknown as unknown[];
    return this.arr ?? [];
  }
}

/** At most this many groups are reserved from an estimate (a wrong estimate costs memory). */
const MAX_RESERVE = 1 << 21;

export class GroupTable {
  /** number of groups so far */
  count = 0;
  private readonly keyCols: KeyColumn[];
  private readonly dicts: ColumnDict[];
  private readonly pairs: PairTable[];
  /** caches[c - 1]: column c's values per prefix group id (see PrefixCache) */
  private readonly caches: PrefixCache[];
  private ids = new Int32Array(0);

  /**
   * `expected`: the planner's estimate of the number of groups; when the first batch shows a
   * large aggregation, the first column's number table and the last pair table grow to that size
   * (up to MAX_RESERVE) at once, rather than rehash their way up by doubling.
   */
  constructor(readonly width: number, expected = 0) {
    this.keyCols = Array.from({ length: width }, () => new KeyColumn());
    this.dicts = Array.from({ length: width }, () => new ColumnDict());
    this.pairs = Array.from({ length: Math.max(0, width - 1) }, () => new PairTable());
    this.caches = Array.from({ length: Math.max(0, width - 1) }, () => new PrefixCache());
    this.expected = Math.min(Math.max(0, Math.floor(expected)) || 0, MAX_RESERVE);
  }

  /** planner's estimate of the groups (capped), used once the first batch shows many groups */
  private expected: number;

  /**
   * After the first batch: when most of its rows started a group, the aggregation is a large one
   * and its tables are sized for the estimate at once (a wrong estimate of a small aggregation
   * allocates nothing).
   */
  private reserveAfterFirst(m: number): void {
    const n = this.expected;
    this.expected = 0;
    if (n <= this.count || m < 1024 || this.count * 2 < m) return;
    if (!this.dicts[0]!.isDirect) this.dicts[0]!.nums.reserve(n);
    if (this.width > 1) this.pairs[this.width - 2]!.reserve(n);
  }

  /** key values per key column, one per group (the first row's value); typed when the input was */
  get keys(): unknown[][] {
    return this.keyCols.map((k) => k.values());
  }

  /**
   * Give the hash tables' arrays back to the recycler (recycle.ts) once the key columns and the
   * aggregates' results were taken (those are copies or the key columns' own arrays, never a
   * table's): the group table is done.
   */
  release(): void {
    for (const d of this.dicts) d.release();
    for (const p of this.pairs) p.release();
  }

  /** Key column c's values, one per group. */
  keyColumn(c: number): unknown[] {
    return this.keyCols[c]!.values();
  }

  /**
   * Group ids, plus one, of the rows of a batch of n rows into `out`: the rows `sel[0..m)` when
   * `sel` is given (the other rows get 0), else all rows (m = n).
   */
  assign(cols: readonly ArrayLike<unknown>[], n: number, out: Int32Array, sel: Int32Array | null = null, m = n): void {
    if (this.ids.length < m) this.ids = new Int32Array(m);
    const ids = this.ids;
    const c0 = cols[0];
    if (this.width === 1 && c0 instanceof Int32Array && this.dicts[0]!.directFor(c0, sel, m)) {
      // one int32 key column in a direct table: ids + 1 straight into out, new groups' rows listed
      if (sel !== null) out.fill(0, 0, n);
      const fresh = this.dicts[0]!.directAssign(c0, sel, m, out, ids);
      const keys = this.keyCols[0]!;
      for (let k = 0; k < fresh; k++) keys.push(c0, ids[k]!);
      this.count += fresh;
      return;
    }
    if (this.width === 0) {
      ids.fill(0, 0, m);
      if (m > 0) this.count = 1;
    } else {
      columnIds(cols[0]!, sel, m, this.dicts[0]!, ids);
      for (let c = 1; c < this.width; c++) {
        // ids so far are below the size of the previous dictionary / pair table
        const xMax = c === 1 ? this.dicts[0]!.size : this.pairs[c - 2]!.size;
        this.foldColumn(c, cols[c]!, sel, m, xMax);
      }
      // record the key values of new groups (ids are dense in order of first appearance)
      let count = this.count;
      for (let i = 0; i < m; i++) {
        if (ids[i]! < count) continue;
        const row = sel === null ? i : sel[i]!;
        for (let c = 0; c < this.width; c++) this.keyCols[c]!.push(cols[c]!, row);
        count++;
      }
      this.count = count;
      if (this.expected > 0) this.reserveAfterFirst(m);
    }
    if (sel === null) { for (let i = 0; i < n; i++) out[i] = ids[i]! + 1; return; }
    out.fill(0, 0, n);
    for (let i = 0; i < m; i++) out[sel[i]!] = ids[i]! + 1;
  }

  /** ids[i] = id of (ids[i], value of column c at the row) for i < m; prefix ids are below xMax. */
  private foldColumn(c: number, col: ArrayLike<unknown>, sel: Int32Array | null, m: number, xMax: number): void {
    const ids = this.ids, dict = this.dicts[c]!, pairs = this.pairs[c - 1]!, cache = this.caches[c - 1]!;
    if (col instanceof Int32Array || col instanceof Float64Array) {
      cache.reserve(xMax, true);
      const nums = cache.nums, cids = cache.numIds;
      for (let i = 0; i < m; i++) {
        const x = ids[i]!, v = col[sel === null ? i : sel[i]!]!;
        if (nums[x] === v) { ids[i] = cids[x]!; continue; }
        const id = pairs.get(x, dict.idNum(v));
        nums[x] = v; cids[x] = id; ids[i] = id;
      }
      return;
    }
    cache.reserve(xMax, false);
    const vals = cache.vals, cids = cache.valIds;
    for (let i = 0; i < m; i++) {
      const x = ids[i]!, v = col[sel === null ? i : sel[i]!];
      if (vals[x] === v) { ids[i] = cids[x]!; continue; }
      const id = pairs.get(x, dict.idOf(v));
      vals[x] = v; cids[x] = id; ids[i] = id;
    }
  }

  checkInvariants(): void {
    for (const k of this.keyCols) if (k.n !== this.count || k.values().length !== this.count) throw new Error('GroupTable: key columns and count disagree');
    for (const p of this.pairs) p.checkInvariants();
    for (const d of this.dicts) d.checkInvariants();
    if (this.width === 1 && this.dicts[0]!.size !== this.count) throw new Error('GroupTable: dictionary and count disagree');
    if (this.width > 1 && this.pairs[this.width - 2]!.size !== this.count) throw new Error('GroupTable: last pair table and count disagree');
    for (let c = 1; c < this.width; c++) {
      const cache = this.caches[c - 1]!, size = this.pairs[c - 1]!.size;
      for (let x = 0; x < cache.nums.length; x++) if (cache.nums[x] === cache.nums[x] && cache.numIds[x]! >= size) throw new Error('GroupTable: prefix cache id out of range');
      for (let x = 0; x < cache.vals.length; x++) if (cache.vals[x] !== MISSING && cache.valIds[x]! >= size) throw new Error('GroupTable: prefix cache id out of range');
    }
  }
}
