/**
 * The storage of one table: committed/current spec, segments, delta, row-id index.
 *
 * Invariants (checked by `checkInvariants`):
 *  1. Every row id lives in at most one place: one segment's runs or the delta.
 *  2. `runIndex` lists every run of every segment, sorted by start, disjoint.
 *  3. Every row id < nextRowId.
 */
import { invariant, NOT_DELETED, type TableId, type TxnId } from '@quiverdb/common';
import type { StoredTableSpec } from '../api.js';
import { Segment } from '../segment/segment.js';
import { Delta, type DeltaChunk } from './delta.js';

export type RowLoc =
  | { readonly where: 'delta'; readonly chunk: DeltaChunk; readonly i: number }
  | { readonly where: 'seg'; readonly seg: Segment; readonly off: number };

interface RunRef { start: number; len: number; seg: Segment }

export class TableState {
  spec: StoredTableSpec;
  committedSpec: StoredTableSpec;
  /** running txn that created the table (undefined once committed / when recovered) */
  createdBy: TxnId | undefined;
  /** running txn that dropped it (applied at its commit) */
  droppedBy: TxnId | undefined;
  nextRowId = 0;
  segments: Segment[] = [];
  readonly delta: Delta;
  /** committed live rows (estimate for rowCount) */
  liveRows = 0;
  /** ms since the epoch of the last compaction / OPTIMIZE of the table (persisted in the manifest) */
  lastCompaction: number | undefined;
  /** compactions / OPTIMIZEs of the table since open */
  compactionCount = 0;
  /** segment row groups scans came to since open, and those their zone maps let them skip */
  rowGroupsScanned = 0;
  rowGroupsSkipped = 0;
  private runIndex: RunRef[] = [];

  constructor(spec: StoredTableSpec, createdBy: TxnId | undefined) {
    this.spec = spec;
    this.committedSpec = spec;
    this.createdBy = createdBy;
    this.delta = new Delta(spec.columns);
  }

  get id(): TableId { return this.spec.id; }

  setSpec(spec: StoredTableSpec): void {
    this.spec = spec;
    this.delta.columns = spec.columns;
  }

  setSegments(segs: Segment[]): void {
    this.segments = segs;
    const idx: RunRef[] = [];
    for (const s of segs) {
      const r = s.meta.runs;
      for (let k = 0; k < r.length; k += 2) idx.push({ start: r[k]!, len: r[k + 1]!, seg: s });
    }
    idx.sort((a, b) => a.start - b.start);
    this.runIndex = idx;
  }

  locate(rowId: number): RowLoc | undefined {
    const idx = this.runIndex;
    let lo = 0;
    let hi = idx.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = idx[mid]!;
      if (rowId < r.start) hi = mid - 1;
      else if (rowId >= r.start + r.len) lo = mid + 1;
      else {
        const off = r.seg.offsetOf(rowId);
        return off < 0 ? undefined : { where: 'seg', seg: r.seg, off };
      }
    }
    const d = this.delta.locate(rowId);
    return d === undefined ? undefined : { where: 'delta', chunk: d.chunk, i: d.i };
  }

  stamps(loc: RowLoc): { insert: number; delete: number } {
    return loc.where === 'delta'
      ? { insert: loc.chunk.ins[loc.i]!, delete: loc.chunk.del[loc.i]! }
      : { insert: loc.seg.insAt(loc.off), delete: loc.seg.delAt(loc.off) };
  }

  setDel(loc: RowLoc, stamp: number): void {
    if (loc.where === 'delta') { loc.chunk.del[loc.i] = stamp; loc.chunk.allVisible = null; }
    else loc.seg.setDel(loc.off, stamp);
  }

  /** Set the insert stamp of `n` consecutive delta rows from row id `first` on (one insert's rows, or a run of them). */
  stampInserted(first: number, n: number, stamp: number): void {
    const loc = this.delta.locate(first);
    if (loc === undefined) return;
    const chunks = this.delta.chunks;
    let left = n;
    let expect = first;
    for (let ci = chunks.indexOf(loc.chunk), i = loc.i; left > 0 && ci < chunks.length; ci++, i = 0) {
      const c = chunks[ci]!;
      for (; i < c.length && left > 0; i++, expect++, left--) {
        if (c.rowIds[i] !== expect) return;
        c.ins[i] = stamp;
      }
    }
  }

  checkInvariants(): void {
    for (let k = 1; k < this.runIndex.length; k++) {
      const a = this.runIndex[k - 1]!;
      invariant(a.start + a.len <= this.runIndex[k]!.start, `table ${this.id}: segment runs overlap`);
    }
    for (const s of this.segments) s.checkInvariants();
    let prev = -1;
    for (const c of this.delta.chunks) {
      invariant(c.length <= c.cap, 'chunk overflow');
      for (let i = 0; i < c.length; i++) {
        const id = c.rowIds[i]!;
        invariant(id > prev, `table ${this.id}: delta row ids not ascending`);
        invariant(id < this.nextRowId, 'row id >= nextRowId');
        prev = id;
        let inSeg = false;
        for (const r of this.runIndex) if (id >= r.start && id < r.start + r.len) inSeg = true;
        if (this.runIndex.length < 64) invariant(!inSeg, `row ${id} both in delta and a segment`);
        invariant(c.del[i] === NOT_DELETED || c.del[i]! >= 0, 'bad delete stamp');
      }
    }
  }
}
