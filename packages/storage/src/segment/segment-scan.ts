/**
 * Scan helpers over segments: per-row-group MVCC selection, batching, row-group lookup, and the
 * manifest form of a segment.
 *
 * Invariants:
 *  1. `segmentSelection` returns exactly the rows `isVisible` accepts (null = all of them).
 *  2. `emit` yields every selected row once, in order, in batches of at most `batchSize`.
 *  3. `rowGroupVector` returns exactly what decoding that row group's column from the segment
 *     file returns (same values, same NULLs), or undefined.
 */
import { isVisible, NOT_DELETED, TXN_ID_START, type ColumnBatch, type ColumnVector, type PhysicalType, type Snapshot } from '@quiverdb/common';
import type { StorageScanBatch, StoredColumn } from '../api.js';
import { gatherVector, sliceVector } from '../table/column-ops.js';
import { encodeOffsets, type ManifestSegment } from './manifest.js';
import type { RowGroupMeta, Segment } from './segment.js';
import { zoneToJson } from './zone-map.js';

export function manifestSegment(s: Segment): ManifestSegment {
  const offs: number[] = [];
  if (s.del !== null) for (let i = 0; i < s.rows; i++) if (s.del[i]! < TXN_ID_START) offs.push(i);
  return {
    id: s.meta.id,
    file: s.meta.file,
    rows: s.meta.rows,
    bytes: s.meta.bytes,
    columns: s.meta.columns,
    runs: [...s.meta.runs],
    rowGroups: s.meta.rowGroups.map((g) => ({ offset: g.offset, rows: g.rows, zones: [...g.zones].map(([c, z]) => [c, zoneToJson(z)] as [number, unknown]) })),
    deletes: encodeOffsets(Uint32Array.from(offs)),
  };
}

export function rowGroupOf(seg: Segment, off: number): number {
  const gs = seg.meta.rowGroups;
  let lo = 0;
  let hi = gs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (gs[mid]!.offset <= off) lo = mid; else hi = mid - 1;
  }
  return lo;
}

export function copyInto(dst: ColumnVector, at: number, src: ColumnVector, n: number): void {
  const d = dst.data as unknown[];
  const s = src.data as unknown[];
  if (ArrayBuffer.isView(dst.data)) (dst.data as Float64Array).set((src.data as Float64Array).subarray(0, n), at);
  else for (let i = 0; i < n; i++) d[at + i] = s[i];
  const dv = dst.validity!;
  if (src.validity === null) dv.fill(1, at, at + n);
  else dv.set(src.validity.subarray(0, n), at);
}

/** Visible rows of row group `g` for `snap`: null = all. */
export function segmentSelection(seg: Segment, g: RowGroupMeta, snap: Snapshot): { sel: Uint32Array; n: number } | null {
  const insAll = seg.ins === null || seg.maxIns < snap.startTs;
  if (insAll && seg.del === null) return null;
  const sel = new Uint32Array(g.rows);
  let m = 0;
  const ins = seg.ins;
  const del = seg.del;
  for (let i = 0; i < g.rows; i++) {
    const o = g.offset + i;
    if (isVisible(snap, insAll ? 0 : ins![o]!, del === null ? NOT_DELETED : del[o]!)) sel[m++] = i;
  }
  return m === g.rows ? null : { sel, n: m };
}

/**
 * Row group `g`'s slice of whole-segment `vectors` in the form a Parquet read of the segment
 * returns it (`fromArrow`: own arrays, validity null when nothing is NULL), or undefined for types
 * whose read-back is not the same value (float32 is narrowed, json re-parsed into new objects).
 */
export function rowGroupVector(v: ColumnVector, type: PhysicalType, g: RowGroupMeta): ColumnVector | undefined {
  if (type === 'float32' || type === 'json') return undefined;
  const from = g.offset;
  const to = g.offset + g.rows;
  if (v.data.length < to) return undefined;
  let validity: Uint8Array | null = null;
  if (v.validity !== null) {
    const va = v.validity;
    let i = from;
    while (i < to && va[i] !== 0) i++;
    if (i < to) validity = va.slice(from, to);
  }
  const d = v.data;
  return { data: ArrayBuffer.isView(d) ? (d as Float64Array).slice(from, to) : (d as unknown[]).slice(from, to), validity };
}

/** Yield `vectors` (n rows, optional selection) in batches of about `batchSize`. */
export function* emit(vectors: ColumnVector[], cols: readonly StoredColumn[], n: number, sel: { sel: Uint32Array; n: number } | null, ids: Float64Array | undefined, batchSize: number): Generator<StorageScanBatch> {
  if (sel === null) {
    for (let from = 0; from < n; from += batchSize) {
      const to = Math.min(n, from + batchSize);
      const batch: ColumnBatch = { length: to - from, columns: vectors.map((v) => sliceVector(v, from, to)) };
      yield ids === undefined ? { batch } : { batch, rowIds: ids.slice(from, to) };
    }
    return;
  }
  for (let from = 0; from < sel.n; from += batchSize) {
    const to = Math.min(sel.n, from + batchSize);
    const part = sel.sel.subarray(from, to);
    const len = to - from;
    const batch: ColumnBatch = { length: len, columns: vectors.map((v, j) => gatherVector(v, cols[j]!.type, part, len)) };
    if (ids === undefined) yield { batch };
    else {
      const r = new Float64Array(len);
      for (let i = 0; i < len; i++) r[i] = ids[part[i]!]!;
      yield { batch, rowIds: r };
    }
  }
}

