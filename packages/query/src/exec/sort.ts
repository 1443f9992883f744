/**
 * ORDER BY as a permutation of row indexes: a comparator specialised for NULL-free typed key
 * columns (plain `<` on Float64Array / Int32Array values, no type tests), and top-N selection
 * with a bounded binary heap when a LIMIT keeps few of many rows (O(n log k) instead of a full
 * sort of n).
 *
 * Invariants:
 *  1. The order is `cmpRows` over the keys, then the input position (a stable sort): the
 *     comparator is a total order, so the top-N heap returns exactly the first `limit` rows of
 *     the full sort.
 *  2. Typed key columns compare as `cmpRows` compares numbers (NaN above every other value).
 *
 * Concurrency: pure functions of their arguments.
 */
import type { SortKey } from '../plan/plan.js';
import { compareValues } from '../types/values.js';

type Cmp = (x: number, y: number) => number;

/** One sort key's comparison of two values (NULLs per NULLS FIRST / LAST, DESC reverses). */
export function cmpKeyValues(a: unknown, b: unknown, key: SortKey): number {
  if (a === b) return 0;
  if (a === null) return key.nullsFirst ? -1 : 1;
  if (b === null) return key.nullsFirst ? 1 : -1;
  let r: number;
  // numbers: NaN sorts above every other value (compareValues), as in PostgreSQL
  if (typeof a === 'number' && typeof b === 'number') r = a < b ? -1 : a > b ? 1 : compareValues(a, b);
  else if (typeof a === 'string' && typeof b === 'string') r = a < b ? -1 : a > b ? 1 : 0;
  else r = compareValues(a, b);
  return key.desc ? -r : r;
}

/** The executor's row comparison on sort keys. */
export function cmpRows(keyCols: unknown[][], keys: readonly SortKey[], x: number, y: number): number {
  for (let k = 0; k < keys.length; k++) {
    const c = keyCols[k]!;
    const r = cmpKeyValues(c[x], c[y], keys[k]!);
    if (r !== 0) return r;
  }
  return 0;
}

type Typed = Float64Array | Int32Array;

/** Order of two numbers that are neither < nor > each other (one or both NaN): NaN is the largest. */
function nanCmp(a: number, b: number): number {
  const an = a !== a, bn = b !== b;
  return an === bn ? 0 : an ? 1 : -1;
}
const isTypedNum = (c: unknown): c is Typed => c instanceof Float64Array || c instanceof Int32Array;

/** Total order on row indexes: the keys, then the position. */
export function rowComparator(keyCols: unknown[][], keys: readonly SortKey[]): Cmp {
  if (keys.length === 1 && isTypedNum(keyCols[0])) {
    const c = keyCols[0], s = keys[0]!.desc ? -1 : 1;
    return (x, y) => { const a = c[x]!, b = c[y]!; return a < b ? -s : a > b ? s : a === b ? x - y : s * nanCmp(a, b) || x - y; };
  }
  if (keys.length === 2 && isTypedNum(keyCols[0]) && isTypedNum(keyCols[1])) {
    const c0 = keyCols[0], c1 = keyCols[1];
    const s0 = keys[0]!.desc ? -1 : 1, s1 = keys[1]!.desc ? -1 : 1;
    return (x, y) => {
      const a = c0[x]!, b = c0[y]!;
      if (a < b) return -s0;
      if (a > b) return s0;
      if (a !== b) { const r = nanCmp(a, b); if (r !== 0) return s0 * r; }
      const p = c1[x]!, q = c1[y]!;
      return p < q ? -s1 : p > q ? s1 : p === q ? x - y : s1 * nanCmp(p, q) || x - y;
    };
  }
  return (x, y) => cmpRows(keyCols, keys, x, y) || x - y;
}

/** The first `limit` row indexes of 0..n-1 in `cmp` order (all of them when limit >= n). */
export function sortedIndexes(cmp: Cmp, n: number, limit = Infinity): number[] {
  if (limit < n && limit * 4 < n) return topN(cmp, n, Math.max(0, Math.floor(limit)));
  const idx = new Array<number>(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort(cmp);
  if (limit < n) idx.length = Math.max(0, Math.floor(limit));
  return idx;
}

/** Top-N selection: a heap of the k best rows so far with the worst on top, then sorted. */
function topN(cmp: Cmp, n: number, k: number): number[] {
  if (k === 0) return [];
  const heap = new Int32Array(k);
  let size = 0;
  const siftUp = (i: number): void => {
    const v = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (cmp(heap[p]!, v) >= 0) break;
      heap[i] = heap[p]!; i = p;
    }
    heap[i] = v;
  };
  const siftDown = (i: number): void => {
    const v = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && cmp(heap[c + 1]!, heap[c]!) > 0) c++;
      if (cmp(heap[c]!, v) <= 0) break;
      heap[i] = heap[c]!; i = c;
    }
    heap[i] = v;
  };
  for (let r = 0; r < n; r++) {
    if (size < k) { heap[size] = r; siftUp(size++); continue; }
    if (cmp(r, heap[0]!) < 0) { heap[0] = r; siftDown(0); }
  }
  const out = Array.from(heap.subarray(0, size));
  out.sort(cmp);
  return out;
}
