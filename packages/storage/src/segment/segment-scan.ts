/**
 * Scan helpers over segments: per-row-group MVCC selection, batching, row-group lookup, and the
 * manifest form of a segment.
 *
 * Invariants:
 *  1. `segmentSelection` returns exactly the rows `isVisible` accepts (null = all of them).
 *  2. `emit` yields every selected row once, in order, in batches of at most `batchSize`.
 */
import { isVisible, NOT_DELETED, TXN_ID_START, type ColumnBatch, type ColumnVector, type Snapshot } from '@quiverdb/common';
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

