/**
 * `Rel`: a materialized batch of rows in executor representation, column-major (one JS array of
 * internal values per column; see types/values.ts). The unit every operator consumes and produces.
 *
 * Invariants:
 *  1. Every column array has exactly `n` entries.
 *  2. Operators never mutate a Rel they received (column arrays may be shared between Rels).
 *  3. A column is a JS array of internal values, or — for NULL-free INTEGER / SMALLINT / BIGINT /
 *     REAL / DOUBLE / DATE / TIMESTAMP columns — a typed array (Int32Array, BigInt64Array,
 *     Float64Array) holding the same values. Readers index it like an array; writers only
 *     write into columns they allocated (`newColumnLike` keeps the kind only when no NULL can
 *     be written).
 */
export interface Rel {
  readonly n: number;
  readonly cols: unknown[][];
}

export const EMPTY_ROW: Rel = { n: 1, cols: [] };

export function emptyRel(ncols: number): Rel {
  return { n: 0, cols: Array.from({ length: ncols }, () => []) };
}

/** Rows `idx` of `r`, in that order. */
type TypedCol = Int32Array | Float64Array | BigInt64Array;
type TypedCtor = Int32ArrayConstructor | Float64ArrayConstructor | BigInt64ArrayConstructor;

/** Is this column a typed array (numeric, no NULLs)? */
export function isTyped(c: ArrayLike<unknown>): boolean { return !Array.isArray(c); }

/** A new column like `c` (typed when `c` is typed) of length m. */
export function newColumnLike(c: ArrayLike<unknown>, m: number): unknown[] {
  if (Array.isArray(c)) return new Array<unknown>(m);
  return new ((c as TypedCol).constructor as TypedCtor)(m) as unknown as unknown[];
}

/**
 * Values idx[0..m) of column `c`, typed when `c` is typed. One loop per column kind,
 * so each loop's element loads and stores stay monomorphic: a single generic loop over every kind
 * of array ran several times slower.
 */
export function gatherColumn(c: unknown[], idx: ArrayLike<number>, m = idx.length): unknown[] {
  if (c instanceof Int32Array) return gatherI32(c, idx, m) as unknown as unknown[];
  if (c instanceof Float64Array) return gatherF64(c, idx, m) as unknown as unknown[];
  if (Array.isArray(c)) return gatherArr(c, idx, m);
  const o = newColumnLike(c, m);
  for (let i = 0; i < m; i++) o[i] = c[idx[i]!];
  return o;
}

function gatherI32(c: Int32Array, idx: ArrayLike<number>, m: number): Int32Array {
  const o = new Int32Array(m);
  for (let i = 0; i < m; i++) o[i] = c[idx[i]!]!;
  return o;
}

function gatherF64(c: Float64Array, idx: ArrayLike<number>, m: number): Float64Array {
  const o = new Float64Array(m);
  for (let i = 0; i < m; i++) o[i] = c[idx[i]!]!;
  return o;
}

function gatherArr(c: unknown[], idx: ArrayLike<number>, m: number): unknown[] {
  const o = new Array<unknown>(m);
  for (let i = 0; i < m; i++) o[i] = c[idx[i]!];
  return o;
}

export function gather(r: Rel, idx: ArrayLike<number>): Rel {
  return { n: idx.length, cols: r.cols.map((c) => gatherColumn(c, idx)) };
}

/** Rows where mask[i] === true. */
export function filterRel(r: Rel, mask: readonly unknown[]): Rel {
  const idx: number[] = [];
  for (let i = 0; i < r.n; i++) if (mask[i] === true) idx.push(i);
  if (idx.length === r.n) return r;
  return gather(r, idx);
}

export function concatRels(rels: readonly Rel[], ncols: number): Rel {
  if (rels.length === 1) return rels[0]!;
  let n = 0;
  for (const r of rels) n += r.n;
  const cols: unknown[][] = [];
  for (let c = 0; c < ncols; c++) {
    const first = rels[0]?.cols[c];
    const ctor = (first as unknown as { constructor: unknown } | undefined)?.constructor;
    const typed = first !== undefined && !Array.isArray(first) && rels.every((r) => (r.cols[c] as unknown as { constructor: unknown }).constructor === ctor);
    const o = typed ? newColumnLike(first!, n) : new Array<unknown>(n);
    let p = 0;
    if (typed) {
      // same typed-array kind throughout: block copies
      const t = o as unknown as Float64Array;
      for (const r of rels) { const src = r.cols[c]! as unknown as Float64Array; t.set(src.length === r.n ? src : src.subarray(0, r.n), p); p += r.n; }
    } else for (const r of rels) { const src = r.cols[c]!; for (let i = 0; i < r.n; i++) o[p++] = src[i]; }
    cols.push(o);
  }
  return { n, cols };
}

export function sliceRel(r: Rel, from: number, to: number): Rel {
  if (from <= 0 && to >= r.n) return r;
  return { n: Math.max(0, Math.min(to, r.n) - Math.max(from, 0)), cols: r.cols.map((c) => c.slice(Math.max(from, 0), Math.min(to, r.n))) };
}
