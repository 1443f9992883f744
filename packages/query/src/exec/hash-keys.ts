/**
 * Dense key ids for hashing rows on several columns without building strings: each column's
 * values get ids from a Map (keyed by `keyOf`, so SQL-equal values meet), and the ids of
 * successive columns are combined pairwise into new dense ids.
 *
 * Invariants:
 *  1. Two rows get the same id iff their key tuples are equal under `keyOf` (NULL = NULL here:
 *     GROUP BY / DISTINCT / set-operation semantics).
 *  2. Ids are 0..count-1 in order of first appearance; `first[id]` is that row.
 */
import { keyOf } from '../types/values.js';

export interface KeyIds { ids: Int32Array; count: number; first: number[] }

function columnIds(col: ArrayLike<unknown>, n: number, map: Map<unknown, number>, out: Int32Array): void {
  const typed = !Array.isArray(col);
  for (let i = 0; i < n; i++) {
    const v = col[i];
    const k = typed ? (typeof v === 'bigint' ? keyOf(v) : v) : keyOf(v);
    let id = map.get(k);
    if (id === undefined) { id = map.size; map.set(k, id); }
    out[i] = id;
  }
}

/** Group ids of n rows over key columns (at least one column). */
export function groupIds(cols: readonly ArrayLike<unknown>[], n: number): KeyIds {
  const ids = new Int32Array(n);
  if (cols.length === 0) return { ids, count: n > 0 ? 1 : 0, first: n > 0 ? [0] : [] };
  columnIds(cols[0]!, n, new Map(), ids);
  if (cols.length > 1) {
    const next = new Int32Array(n);
    for (let c = 1; c < cols.length; c++) {
      const m = new Map<unknown, number>();
      columnIds(cols[c]!, n, m, next);
      const width = m.size;
      const pair = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const k = ids[i]! * width + next[i]!;
        let id = pair.get(k);
        if (id === undefined) { id = pair.size; pair.set(k, id); }
        ids[i] = id;
      }
    }
  }
  // renumber in order of first appearance
  const remap = new Map<number, number>();
  const first: number[] = [];
  for (let i = 0; i < n; i++) {
    const g = ids[i]!;
    let id = remap.get(g);
    if (id === undefined) { id = first.length; remap.set(g, id); first.push(i); }
    ids[i] = id;
  }
  return { ids, count: first.length, first };
}

/**
 * Join key ids for two sides over the same dictionaries: equal key tuples get equal ids across
 * sides; a row with a NULL in any key column gets -1 (never matches).
 */
export function joinKeyIds(lcols: readonly ArrayLike<unknown>[], ln: number, rcols: readonly ArrayLike<unknown>[], rn: number): { l: Float64Array; r: Float64Array } {
  const l = new Float64Array(ln), r = new Float64Array(rn);
  for (let c = 0; c < lcols.length; c++) {
    const dict = new Map<unknown, number>();
    const enc = (col: ArrayLike<unknown>, n: number, out: Float64Array, build: boolean): void => {
      for (let i = 0; i < n; i++) {
        if (out[i] === -1) continue;
        const v = col[i];
        if (v === null) { out[i] = -1; continue; }
        const k = keyOf(v);
        let id = dict.get(k);
        if (id === undefined) {
          if (!build) { out[i] = -2; continue; }
          id = dict.size; dict.set(k, id);
        }
        out[i] = c === 0 ? id : out[i]! * 4294967296 + id;
      }
    };
    enc(rcols[c]!, rn, r, true);
    enc(lcols[c]!, ln, l, false);
    // left rows whose value is absent on the right can never match
    for (let i = 0; i < ln; i++) if (l[i] === -2) l[i] = -1;
    if (c > 0) {
      // re-densify combined ids (shared between sides) to keep them exact
      const m = new Map<number, number>();
      for (let i = 0; i < rn; i++) { if (r[i]! < 0) continue; let id = m.get(r[i]!); if (id === undefined) { id = m.size; m.set(r[i]!, id); } r[i] = id; }
      for (let i = 0; i < ln; i++) { if (l[i]! < 0) continue; const id = m.get(l[i]!); l[i] = id === undefined ? -1 : id; }
    }
  }
  return { l, r };
}
