/**
 * Group-id assignment that persists across batches (streaming hash aggregation): rows of each
 * batch get dense group ids, in order of first appearance over all batches, and each new group
 * keeps its key values.
 *
 * One key column: a per-column dictionary (value key → id; numbers in an open-addressing table on
 * typed arrays, other keys in a Map) is the group id. Several key columns:
 * the column ids are folded left to right through `PairTable`s, open-addressing hash tables on
 * typed arrays mapping an (id, id) pair to a dense id, so no per-row string or array is built.
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
 *
 * Concurrency: plain synchronous data structure, owned by one operator run.
 */
import { keyOf } from '../types/values.js';

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

  /** The id of (x, y), adding it as `size` when new. */
  get(x: number, y: number): number {
    if (x < 1024 && y < 64 && ++this.calls > 4096) {
      // (only once the table is busy: small aggregations do not pay for the 256 KB array)
      const d = this.direct ??= new Int32Array(1024 * 64).fill(-1);
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
      const d = this.direct ??= new Int32Array(1024 * 64).fill(-1);
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

  private grow(): void {
    const oa = this.a, ob = this.b, ov = this.v;
    this.cap *= 2; this.mask = this.cap - 1;
    this.a = new Int32Array(this.cap).fill(-1);
    this.b = new Int32Array(this.cap);
    this.v = new Int32Array(this.cap);
    const n = this.size;
    this.size = 0;
    for (let i = 0; i < oa.length; i++) {
      if (oa[i] === -1) continue;
      this.insertAt(oa[i]!, ob[i]!, ov[i]!);
    }
    this.size = n;
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

  private grow(): void {
    const old = this.slots;
    this.cap *= 2;
    this.mask = this.cap - 1;
    const slots = this.slots = new Float64Array(this.cap * 2);
    for (let i = 0; i < old.length; i += 2) {
      const id = old[i + 1]!;
      if (id === 0) continue;
      const x = old[i]!;
      let h = NumTable.hash(x) & this.mask;
      while (slots[2 * h + 1] !== 0) h = (h + 1) & this.mask;
      slots[2 * h] = x; slots[2 * h + 1] = id;
    }
  }

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

/**
 * Dense ids of one key column's values (by `keyOf`): numbers in a NumTable, other keys (text,
 * the NULL key, ...) in a Map, one id space; `list` holds the first keys in id order (all of
 * them while the dictionary is small).
 */
class ColumnDict {
  size = 0;
  readonly list: unknown[] = [];
  readonly nums = new NumTable();
  private readonly map = new Map<unknown, number>();

  /** The id of key k (adding it when new). */
  id(k: unknown): number {
    let id: number;
    if (typeof k === 'number') {
      id = this.nums.lookup(k, this.size);
      if (id !== this.size) return id;
    } else {
      const got = this.map.get(k);
      if (got !== undefined) return got;
      id = this.size;
      this.map.set(k, id);
    }
    this.size++;
    if (id <= SMALL_DICT) this.list.push(k);
    return id;
  }

  checkInvariants(): void {
    this.nums.checkInvariants();
    if (this.nums.size + this.map.size !== this.size) throw new Error('ColumnDict: size disagrees with its tables');
    if (this.list.length !== Math.min(this.size, SMALL_DICT + 1)) throw new Error('ColumnDict: list length');
  }
}

/** Dense ids of one column's values (by `keyOf`) at rows `sel[0..m)` (or 0..m-1), persisting across batches in `dict`. */
function columnIds(col: ArrayLike<unknown>, sel: Int32Array | null, m: number, dict: ColumnDict, out: Int32Array): void {
  const typed = !Array.isArray(col);
  const big = col instanceof BigInt64Array;
  const list = dict.list;
  let p = 0;
  if (!typed && dict.size <= SMALL_DICT) {
    // few distinct strings (flags, statuses, ...): compare in place; stops at a non-string
    while (p < m && dict.size <= SMALL_DICT) {
      const v = col[sel === null ? p : sel[p]!];
      if (typeof v !== 'string') break;
      let id = -1;
      const len = dict.size;
      for (let j = 0; j < len; j++) if (list[j] === v) { id = j; break; }
      out[p++] = id >= 0 ? id : dict.id(v);
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
    const nums = dict.nums;
    let last = NaN, lastId = -1;
    for (; p < m; p++) {
      const v = c[sel === null ? p : sel[p]!]!;
      if (v === last) { out[p] = lastId; continue; }
      let id = nums.lookup(v, dict.size);
      if (id === dict.size) id = dict.id(v); // new: let the dictionary count it
      out[p] = id; last = v; lastId = id;
    }
    return;
  }
  for (; p < m; p++) {
    const v = col[sel === null ? p : sel[p]!];
    out[p] = dict.id(typeof v === 'string' || typeof v === 'number' ? v : keyOf(v));
  }
}

export class GroupTable {
  /** number of groups so far */
  count = 0;
  /** key values per key column, one per group (first row's value) */
  readonly keys: unknown[][];
  private readonly dicts: ColumnDict[];
  private readonly pairs: PairTable[];
  private ids = new Int32Array(0);
  private tmp = new Int32Array(0);

  constructor(readonly width: number) {
    this.keys = Array.from({ length: width }, () => []);
    this.dicts = Array.from({ length: width }, () => new ColumnDict());
    this.pairs = Array.from({ length: Math.max(0, width - 1) }, () => new PairTable());
  }

  /**
   * Group ids, plus one, of the rows of a batch of n rows into `out`: the rows `sel[0..m)` when
   * `sel` is given (the other rows get 0), else all rows (m = n).
   */
  assign(cols: readonly ArrayLike<unknown>[], n: number, out: Int32Array, sel: Int32Array | null = null, m = n): void {
    if (this.ids.length < m) { this.ids = new Int32Array(m); this.tmp = new Int32Array(m); }
    const ids = this.ids;
    if (this.width === 0) {
      ids.fill(0, 0, m);
      if (m > 0) this.count = 1;
    } else {
      columnIds(cols[0]!, sel, m, this.dicts[0]!, ids);
      const t = this.tmp;
      for (let c = 1; c < this.width; c++) {
        columnIds(cols[c]!, sel, m, this.dicts[c]!, t);
        // ids so far are below the size of the previous dictionary / pair table
        const xMax = c === 1 ? this.dicts[0]!.size : this.pairs[c - 2]!.size;
        this.pairs[c - 1]!.mapAll(ids, t, m, xMax, this.dicts[c]!.size);
      }
      // record the key values of new groups (ids are dense in order of first appearance)
      let count = this.count;
      for (let i = 0; i < m; i++) {
        if (ids[i]! < count) continue;
        const row = sel === null ? i : sel[i]!;
        for (let c = 0; c < this.width; c++) this.keys[c]!.push(cols[c]![row]);
        count++;
      }
      this.count = count;
    }
    if (sel === null) { for (let i = 0; i < n; i++) out[i] = ids[i]! + 1; return; }
    out.fill(0, 0, n);
    for (let i = 0; i < m; i++) out[sel[i]!] = ids[i]! + 1;
  }

  checkInvariants(): void {
    for (const k of this.keys) if (k.length !== this.count) throw new Error('GroupTable: key columns and count disagree');
    for (const p of this.pairs) p.checkInvariants();
    for (const d of this.dicts) d.checkInvariants();
    if (this.width === 1 && this.dicts[0]!.size !== this.count) throw new Error('GroupTable: dictionary and count disagree');
    if (this.width > 1 && this.pairs[this.width - 2]!.size !== this.count) throw new Error('GroupTable: last pair table and count disagree');
  }
}
