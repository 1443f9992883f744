/**
 * Hash join kernel on typed arrays: key columns of both sides are encoded as Float64Array codes
 * (numbers as themselves, other values as dense ids from a dictionary built on the build side),
 * the build side goes into a hash table of bucket heads (Int32Array, a power of two at least
 * twice the rows) chained through a `next` Int32Array, and the probe produces two index vectors
 * (probe row, build row) that the caller gathers once per column. Beside the table, a bit filter
 * (16 bits per build row, one hash) small enough to stay in cache turns most probes that have no
 * match away before they touch the larger, cache-missing head / next arrays. A NULL-free int32 key column
 * (INTEGER, DATE) is probed in place, without encoding. No Map of objects, no boxed keys, no
 * per-row allocation. The executor (exec/execute.ts) builds on one side and streams the other
 * through `probeBatch` / `probeInt32` batch by batch, or joins two materialized sides with
 * `joinPairs`.
 *
 *   encode keys ─▶ hash (Int32Array per side) ─▶ build: head[bucket] / next[row]
 *                                             └▶ probe: walk chain, compare codes ─▶ (li, ri)
 *
 * Invariants:
 *  1. Two rows match iff every key column is SQL-equal (numbers compare as numbers, so -0 = 0;
 *     other values through `keyOf`, so SQL-equal values of different representations meet);
 *     a row with a NULL in any key column matches nothing.
 *  2. `joinPairs` returns the pairs in left-major order: ascending left row, and for one left row
 *     ascending right rows — the order of a nested loop over (left, right), whichever side the
 *     table was built on.
 *  3. A bucket chain lists build rows in ascending order (rows are inserted from the last one).
 *  4. Every valid build row's filter bit is set (`filterBit` of its int32 key, or of its hash),
 *     so a probe whose bit is clear has no match; a set bit proves nothing.
 *
 * Concurrency: pure functions over their arguments; nothing is shared between calls but the
 * scratch row list of `filterPass`, used and consumed within one synchronous probe call.
 */
import { keyOf } from '../types/values.js';
import { give, takeF64, takeI32, takeU8 } from './recycle.js';

/** Key codes of both sides of a join, one Float64Array per key column, and row validity. */
export interface EncodedKeys {
  readonly l: Float64Array[];
  readonly r: Float64Array[];
  /** 0 = the left row can match nothing (a NULL key, or a value absent from the right side) */
  readonly lValid: Uint8Array;
  readonly rValid: Uint8Array;
}

/**
 * How one key column is encoded: as numbers (the build side holds only numbers, no NaN; x + 0
 * turns -0 into 0) or as ids from a dictionary of the build side's `keyOf` keys.
 */
export type KeyCoder = { readonly kind: 'num' } | { readonly kind: 'dict'; readonly dict: Map<unknown, number> };

/** Numeric codes of a build column of plain numbers; false when it holds anything else. */
function numericCodes(col: ArrayLike<unknown>, n: number, out: Float64Array, valid: Uint8Array): boolean {
  if (col instanceof Int32Array) { for (let i = 0; i < n; i++) out[i] = col[i]!; return true; }
  if (col instanceof Float64Array) {
    for (let i = 0; i < n; i++) { const x = col[i]!; if (x !== x) return false; out[i] = x + 0; }
    return true;
  }
  if (!Array.isArray(col)) return false;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (v === null) { valid[i] = 0; continue; }
    if (typeof v !== 'number' || v !== v) return false;
    out[i] = v + 0;
  }
  return true;
}

/** Encoded key columns of one side: codes per key column, 0 in `valid` = the row matches nothing. */
export interface SideKeys { readonly codes: Float64Array[]; readonly valid: Uint8Array; readonly n: number }

/** Encode the build side's key columns, choosing each column's coder. */
export function encodeBuild(cols: readonly ArrayLike<unknown>[], n: number): { keys: SideKeys; coders: KeyCoder[] } {
  // (recycled arrays: the caller gives them back with releaseBuild when the join is done)
  const valid = takeU8(n).fill(1);
  const codes: Float64Array[] = [], coders: KeyCoder[] = [];
  const v = takeU8(n);
  for (const col of cols) {
    const out = takeF64(n);
    v.fill(1);
    if (numericCodes(col, n, out, v)) coders.push({ kind: 'num' });
    else {
      v.fill(1);
      const dict = new Map<unknown, number>();
      for (let i = 0; i < n; i++) {
        const x = col[i];
        if (x === null || x === undefined) { v[i] = 0; continue; }
        const k = keyOf(x);
        let id = dict.get(k);
        if (id === undefined) { id = dict.size; dict.set(k, id); }
        out[i] = id;
      }
      coders.push({ kind: 'dict', dict });
    }
    for (let i = 0; i < n; i++) valid[i]! &= v[i]!;
    codes.push(out);
  }
  give(v);
  return { keys: { codes, valid, n }, coders };
}

/**
 * Give a build side's table and key codes (from encodeBuild and buildTable) back to the recycler
 * (recycle.ts) once the join has probed its last row: nothing of them is in its output.
 */
export function releaseBuild(t: BuildTable, keys: SideKeys): void {
  give(t.head); give(t.next); give(t.hash); give(t.filter);
  for (const c of keys.codes) give(c);
  give(keys.valid);
}

/** Encode probe-side key columns with the build side's coders (values the build side cannot hold match nothing). */
export function encodeProbe(coders: readonly KeyCoder[], cols: readonly ArrayLike<unknown>[], n: number, rows?: Int32Array | null): SideKeys {
  if (rows) cols = cols.map((c) => select(c, rows, n));
  const valid = new Uint8Array(n).fill(1);
  const codes: Float64Array[] = [];
  for (let c = 0; c < coders.length; c++) {
    const coder = coders[c]!, col = cols[c]!;
    const out = new Float64Array(n);
    if (coder.kind === 'num') {
      if (col instanceof Int32Array) out.set(col.subarray(0, n));
      else if (col instanceof Float64Array) {
        for (let i = 0; i < n; i++) { const x = col[i]!; if (x !== x) valid[i] = 0; else out[i] = x + 0; }
      } else {
        for (let i = 0; i < n; i++) {
          const v = col[i];
          if (typeof v === 'number') { if (v !== v) valid[i] = 0; else out[i] = v + 0; continue; }
          if (v === null || v === undefined) { valid[i] = 0; continue; }
          // another representation of a number (bigint, integral NUMERIC) meets it through keyOf
          const k = keyOf(v);
          if (typeof k === 'number' && k === k) out[i] = k + 0; else valid[i] = 0;
        }
      }
    } else {
      const dict = coder.dict;
      for (let i = 0; i < n; i++) {
        const v = col[i];
        if (v === null || v === undefined) { valid[i] = 0; continue; }
        const id = dict.get(keyOf(v));
        if (id === undefined) valid[i] = 0; else out[i] = id;
      }
    }
    codes.push(out);
  }
  return { codes, valid, n };
}

/** Values `rows[0..n)` of a column, typed when it is typed. */
function select(c: ArrayLike<unknown>, rows: Int32Array, n: number): ArrayLike<unknown> {
  if (c instanceof Int32Array) { const o = new Int32Array(n); for (let i = 0; i < n; i++) o[i] = c[rows[i]!]!; return o; }
  if (c instanceof Float64Array) { const o = new Float64Array(n); for (let i = 0; i < n; i++) o[i] = c[rows[i]!]!; return o; }
  const o = new Array<unknown>(n);
  for (let i = 0; i < n; i++) o[i] = c[rows[i]!];
  return o;
}

/** Encode the key columns of both sides (the right side chooses the coders). */
export function encodeKeys(lcols: readonly ArrayLike<unknown>[], ln: number, rcols: readonly ArrayLike<unknown>[], rn: number): EncodedKeys {
  const b = encodeBuild(rcols, rn);
  const p = encodeProbe(b.coders, lcols, ln);
  return { l: p.codes, r: b.keys.codes, lValid: p.valid, rValid: b.keys.valid };
}

const F64 = new Float64Array(1);
const I32 = new Int32Array(F64.buffer);

/** 32-bit hash of rows' key codes. */
function hashRows(keys: readonly Float64Array[], n: number): Int32Array {
  const h = takeI32(n);
  for (let c = 0; c < keys.length; c++) {
    const k = keys[c]!;
    for (let i = 0; i < n; i++) {
      const x = k[i]!;
      let hx: number;
      if ((x | 0) === x) hx = x;
      else { F64[0] = x; hx = I32[0]! ^ Math.imul(I32[1]!, 0x85ebca6b); }
      h[i] = mix32(Math.imul(h[i]!, 0x9e3779b1) ^ hx ^ c);
    }
  }
  return h;
}

/** The build side's table: `head[bucket]` is the first row of the chain, `next[row]` the following one, -1 ends. */
export interface BuildTable {
  readonly head: Int32Array;
  readonly next: Int32Array;
  readonly shift: number;
  readonly hash: Int32Array;
  /**
   * bit filter: bit `filterBit(f, fshift)` set for every valid row (empty: no filter), where f is
   * the row's int32 key itself when `fint` (one key column, all int32: probes test the filter
   * before hashing), else the row's hash
   */
  readonly filter: Int32Array;
  readonly fshift: number;
  readonly fint: boolean;
}

/**
 * A 32-bit finalizer that spreads every input bit over every output bit. (A multiplicative hash
 * alone left 200,000 consecutive keys in 113,000 of 524,288 buckets, chains of up to 3.)
 */
function mix32(x: number): number {
  x ^= x >>> 16; x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13; x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** Bucket of a (mixed) hash: its top bits. */
function bucketOf(h: number, shift: number): number {
  return h >>> shift;
}

/** Position of a key or hash in the bit filter (the top bits of its multiple: not the bucket's bits). */
function filterBit(h: number, fshift: number): number {
  return Math.imul(h, 0x9e3779b1) >>> fshift;
}

/** Is bit `f` of the filter set? */
function filterHas(filter: Int32Array, f: number): boolean {
  return (filter[f >>> 5]! & (1 << (f & 31))) !== 0;
}

export function buildTable(keys: readonly Float64Array[], valid: Uint8Array, n: number): BuildTable {
  let bits = 1;
  while ((1 << bits) < n * 2 && bits < 30) bits++;
  const shift = 32 - bits;
  const head = takeI32(1 << bits).fill(-1);
  const next = takeI32(n);
  const hash = hashRows(keys, n);
  for (let i = n - 1; i >= 0; i--) {
    if (valid[i] === 0) continue;
    const b = bucketOf(hash[i]!, shift);
    next[i] = head[b]!;
    head[b] = i;
  }
  // the filter: 16 bits per row (about 6% false positives with one hash)
  let fbits = 10;
  while ((1 << fbits) < n * 16 && fbits < 28) fbits++;
  const fshift = 32 - fbits;
  // (small tables get one too: a bucket array that is half empty makes the chain walk an
  // unpredictable branch, slower than a mostly clear filter bit)
  const filter = takeI32(n === 0 ? 0 : 1 << (fbits - 5));
  const fint = keys.length === 1 && int32Codes(keys[0]!, valid, n);
  if (filter.length > 0) {
    const k = keys[0]!;
    for (let i = 0; i < n; i++) {
      if (valid[i] === 0) continue;
      const f = filterBit(fint ? k[i]! : hash[i]!, fshift);
      filter[f >>> 5]! |= 1 << (f & 31);
    }
  }
  return { head, next, shift, hash, filter, fshift, fint };
}

/** Are the valid codes all int32 values? */
function int32Codes(k: Float64Array, valid: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (valid[i] !== 0 && (k[i]! | 0) !== k[i]!) return false;
  return true;
}

/** Check a table against its keys (tests): every valid row sits once in its hash's chain, chains ascend. */
export function checkInvariants(t: BuildTable, keys: readonly Float64Array[], valid: Uint8Array, n: number): void {
  const seen = new Uint8Array(n);
  const h = hashRows(keys, n);
  for (let b = 0; b < t.head.length; b++) {
    let prev = -1;
    for (let j = t.head[b]!; j >= 0; j = t.next[j]!) {
      if (j <= prev) throw new Error(`hash join table: chain of bucket ${b} not ascending at row ${j}`);
      if (seen[j]) throw new Error(`hash join table: row ${j} in two chains`);
      if (bucketOf(h[j]!, t.shift) !== b || t.hash[j] !== h[j]) throw new Error(`hash join table: row ${j} in the wrong bucket`);
      if (t.filter.length > 0) {
        const f = filterBit(t.fint ? keys[0]![j]! : h[j]!, t.fshift);
        if (!filterHas(t.filter, f)) throw new Error(`hash join table: row ${j} missing from the filter`);
      }
      if (valid[j] === 0) throw new Error(`hash join table: row ${j} with a NULL key is in the table`);
      seen[j] = 1; prev = j;
    }
  }
  for (let j = 0; j < n; j++) if (valid[j] === 1 && !seen[j]) throw new Error(`hash join table: row ${j} missing`);
}

/** Pairs as two Int32Array index vectors, `n` used. */
interface Pairs { a: Int32Array; b: Int32Array; n: number }

function grow(p: Pairs): void {
  const a = new Int32Array(p.a.length * 2); a.set(p.a); p.a = a;
  const b = new Int32Array(p.b.length * 2); b.set(p.b); p.b = b;
}

/**
 * Probe `pkeys` rows against the table built on `bkeys`; returns the pairs (probe row, build
 * row) in probe order, build rows ascending within one probe row.
 */
function probePairs(t: BuildTable, bkeys: readonly Float64Array[], pkeys: readonly Float64Array[], pValid: Uint8Array, pn: number): Pairs {
  const out: Pairs = { a: new Int32Array(Math.min(Math.max(16, pn), 4096)), b: new Int32Array(Math.min(Math.max(16, pn), 4096)), n: 0 };
  const ph = hashRows(pkeys, pn);
  const { head, next, shift, hash, filter, fshift, fint } = t;
  const useFilter = filter.length > 0;
  const nk = bkeys.length;
  let a = out.a, b = out.b, n = 0;
  if (nk === 1) {
    const bk = bkeys[0]!, pk = pkeys[0]!;
    for (let i = 0; i < pn; i++) {
      if (pValid[i] === 0) continue;
      const x = pk[i]!;
      if (useFilter) {
        if (fint && (x | 0) !== x) continue;
        const f = filterBit(fint ? x : ph[i]!, fshift);
        if (!filterHas(filter, f)) continue;
      }
      for (let j = head[bucketOf(ph[i]!, shift)]!; j >= 0; j = next[j]!) {
        if (bk[j] !== x) continue;
        if (n === a.length) { out.n = n; grow(out); a = out.a; b = out.b; }
        a[n] = i; b[n++] = j;
      }
    }
    out.n = n;
    return out;
  }
  for (let i = 0; i < pn; i++) {
    if (pValid[i] === 0) continue;
    const h = ph[i]!;
    if (useFilter) { const f = filterBit(h, fshift); if (!filterHas(filter, f)) continue; }
    for (let j = head[bucketOf(h, shift)]!; j >= 0; j = next[j]!) {
      if (hash[j] !== h) continue;
      let eq = true;
      for (let c = 0; c < nk; c++) if (bkeys[c]![j] !== pkeys[c]![i]) { eq = false; break; }
      if (!eq) continue;
      if (n === a.length) { out.n = n; grow(out); a = out.a; b = out.b; }
      a[n] = i; b[n++] = j;
    }
  }
  out.n = n;
  return out;
}

/** Matching pairs of an equi-join, left-major (invariant 2). Builds on the smaller side. */
export function joinPairs(k: EncodedKeys, ln: number, rn: number): { li: Int32Array; ri: Int32Array } {
  if (rn <= ln) {
    const t = buildTable(k.r, k.rValid, rn);
    const p = probePairs(t, k.r, k.l, k.lValid, ln);
    return { li: p.a.subarray(0, p.n), ri: p.b.subarray(0, p.n) };
  }
  const t = buildTable(k.l, k.lValid, ln);
  const p = probePairs(t, k.l, k.r, k.rValid, rn);
  // p.a = right rows (ascending), p.b = left rows: a stable counting sort on the left row
  // gives left-major order with right rows still ascending within a left row
  const m = p.n;
  const start = new Int32Array(ln + 1);
  for (let x = 0; x < m; x++) start[p.b[x]! + 1]!++;
  for (let i = 0; i < ln; i++) start[i + 1]! += start[i]!;
  const li = new Int32Array(m), ri = new Int32Array(m);
  for (let x = 0; x < m; x++) {
    const l = p.b[x]!;
    const pos = start[l]!++;
    li[pos] = l; ri[pos] = p.a[x]!;
  }
  return { li, ri };
}

/** Probe rows with at least one match in the table built on `bkeys`. */
export function probeAny(t: BuildTable, bkeys: readonly Float64Array[], pkeys: readonly Float64Array[], pValid: Uint8Array, pn: number): Uint8Array {
  const matched = new Uint8Array(pn);
  const { head, next, shift, hash, filter, fshift, fint } = t;
  const useFilter = filter.length > 0;
  const ph = hashRows(pkeys, pn);
  const nk = bkeys.length;
  const pk0 = pkeys[0]!;
  for (let i = 0; i < pn; i++) {
    if (pValid[i] === 0) continue;
    const h = ph[i]!;
    if (useFilter) {
      const x = pk0[i]!;
      if (fint && (x | 0) !== x) continue;
      const f = filterBit(fint ? x : h, fshift);
      if (!filterHas(filter, f)) continue;
    }
    for (let j = head[bucketOf(h, shift)]!; j >= 0; j = next[j]!) {
      if (hash[j] !== h) continue;
      let eq = true;
      for (let c = 0; c < nk; c++) if (bkeys[c]![j] !== pkeys[c]![i]) { eq = false; break; }
      if (eq) { matched[i] = 1; break; }
    }
  }
  return matched;
}

/** Left rows that have at least one match (semi join without a residual condition). */
export function matchedLeft(k: EncodedKeys, ln: number, rn: number): Uint8Array {
  return probeAny(buildTable(k.r, k.rValid, rn), k.r, k.l, k.lValid, ln);
}

/** Pairs (probe row, build row) of one probe batch, in probe order, build rows ascending per probe row. */
export function probeBatch(t: BuildTable, b: SideKeys, p: SideKeys): { pi: Int32Array; bi: Int32Array } {
  const r = probePairs(t, b.codes, p.codes, p.valid, p.n);
  return { pi: r.a.subarray(0, r.n), bi: r.b.subarray(0, r.n) };
}

/**
 * A stable counting sort of pair positions by `key` (values in 0..range-1): the permutation that
 * orders pairs by key, keeping their order within one key.
 */
export function orderBy(key: Int32Array, range: number): Int32Array {
  const m = key.length;
  const start = new Int32Array(range + 1);
  for (let x = 0; x < m; x++) start[key[x]! + 1]!++;
  for (let i = 0; i < range; i++) start[i + 1]! += start[i]!;
  const perm = new Int32Array(m);
  for (let x = 0; x < m; x++) perm[start[key[x]!]!++] = x;
  return perm;
}

/** Scratch for `filterPass` (probes are synchronous: one call uses it at a time). */
let passRows = new Int32Array(0);

/**
 * Probe rows x in 0..n-1 (key `col[rows ? rows[x] : x]`) whose filter bit is set, in order, in a
 * shared scratch array valid until the next call. The loop has no data-dependent branch (the
 * row is written and the count advanced by the bit), so the filter loads of successive rows
 * overlap instead of waiting on a mispredicted branch each.
 */
function filterPass(t: BuildTable, col: Int32Array, rows: Int32Array | null, n: number): { rows: Int32Array; n: number } {
  if (passRows.length < n) passRows = new Int32Array(Math.max(n, 1024));
  const out = passRows;
  const { filter, fshift, fint } = t;
  if (filter.length === 0) { for (let x = 0; x < n; x++) out[x] = x; return { rows: out, n }; }
  let k = 0;
  if (rows === null && fint) {
    for (let x = 0; x < n; x++) { const f = filterBit(col[x]!, fshift); out[k] = x; k += (filter[f >>> 5]! >>> (f & 31)) & 1; }
  } else if (fint) {
    for (let x = 0; x < n; x++) { const f = filterBit(col[rows![x]!]!, fshift); out[k] = x; k += (filter[f >>> 5]! >>> (f & 31)) & 1; }
  } else {
    for (let x = 0; x < n; x++) { const f = filterBit(intHash(col[rows ? rows[x]! : x]!), fshift); out[k] = x; k += (filter[f >>> 5]! >>> (f & 31)) & 1; }
  }
  return { rows: out, n: k };
}

/** The hash `hashRows` gives a one-column int32 key. */
function intHash(x: number): number {
  return mix32(x);
}

/**
 * Can a one-column probe read this key column as int32 directly (no encoding): the build key is
 * numeric and the probe column an Int32Array (NULL-free INTEGER / DATE)?
 */
export function int32Probe(coders: readonly KeyCoder[], cols: readonly ArrayLike<unknown>[]): Int32Array | undefined {
  return coders.length === 1 && coders[0]!.kind === 'num' && cols[0] instanceof Int32Array ? cols[0] : undefined;
}

/**
 * `probeBatch` for one int32 key column read in place: probe row x is `col[rows ? rows[x] : x]`
 * for x in 0..n-1; pairs are (x, build row) as probeBatch's.
 */
export function probeInt32(t: BuildTable, b: SideKeys, col: Int32Array, rows: Int32Array | null, n: number): { pi: Int32Array; bi: Int32Array } {
  const out: Pairs = { a: new Int32Array(Math.min(Math.max(16, n), 4096)), b: new Int32Array(Math.min(Math.max(16, n), 4096)), n: 0 };
  const { head, next, shift } = t;
  const bk = b.codes[0]!;
  let pa = out.a, pb = out.b, m = 0;
  const cand = filterPass(t, col, rows, n), cr = cand.rows;
  for (let c = 0, k = cand.n; c < k; c++) {
    const x = cr[c]!;
    const v = col[rows ? rows[x]! : x]!;
    for (let j = head[bucketOf(intHash(v), shift)]!; j >= 0; j = next[j]!) {
      if (bk[j] !== v) continue;
      if (m === pa.length) { out.n = m; grow(out); pa = out.a; pb = out.b; }
      pa[m] = x; pb[m++] = j;
    }
  }
  return { pi: pa.subarray(0, m), bi: pb.subarray(0, m) };
}

/** `probeAny` for one int32 key column read in place (see probeInt32). */
export function probeAnyInt32(t: BuildTable, b: SideKeys, col: Int32Array, rows: Int32Array | null, n: number): Uint8Array {
  const matched = new Uint8Array(n);
  const { head, next, shift } = t;
  const bk = b.codes[0]!;
  const cand = filterPass(t, col, rows, n), cr = cand.rows;
  for (let c = 0, k = cand.n; c < k; c++) {
    const x = cr[c]!;
    const v = col[rows ? rows[x]! : x]!;
    for (let j = head[bucketOf(intHash(v), shift)]!; j >= 0; j = next[j]!) if (bk[j] === v) { matched[x] = 1; break; }
  }
  return matched;
}
