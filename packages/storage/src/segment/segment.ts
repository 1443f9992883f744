/**
 * A segment: one immutable Parquet file of a table plus its in-memory MVCC state.
 *
 * Row ids: a segment's rows have ascending row ids stored as runs [start, len] (rows of a run
 * are consecutive in the file). Insert stamps: `ins` (null = every row committed before any
 * running snapshot: visible to all). Delete stamps: `del` (null = no row deleted), one slot per
 * row, NOT_DELETED / running txn id / commit ts.
 *
 * Invariants:
 *  1. runs are sorted by start, disjoint, and their lengths sum to `rows`.
 *  2. rowGroups cover [0, rows) in order; zones are per column id.
 *  3. `deleted` == count of slots of `del` != NOT_DELETED.
 */
import { invariant, NOT_DELETED } from '@quiverdb/common';
import type { ParquetFile } from 'parquet-wasm';
import type { StoredColumn } from '../api.js';
import type { Zone } from './zone-map.js';

export interface RowGroupMeta {
  readonly offset: number;
  readonly rows: number;
  /** column id → zone */
  readonly zones: ReadonlyMap<number, Zone>;
}

export interface SegmentMeta {
  readonly id: number;
  /** path relative to the database directory */
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
  /** the columns in the file (name = Parquet column name) */
  readonly columns: readonly StoredColumn[];
  /** flat [start0, len0, start1, len1, ...] */
  readonly runs: readonly number[];
  readonly rowGroups: readonly RowGroupMeta[];
}

export class Segment {
  ins: Float64Array | null = null;
  maxIns = 0;
  del: Float64Array | null = null;
  deleted = 0;
  file: Promise<ParquetFile> | undefined;
  /** prefix offsets of runs: runOffsets[k] = file offset of run k */
  private readonly runOffsets: number[];

  constructor(readonly meta: SegmentMeta) {
    this.runOffsets = [];
    let o = 0;
    for (let k = 0; k < meta.runs.length; k += 2) { this.runOffsets.push(o); o += meta.runs[k + 1]!; }
    invariant(o === meta.rows, () => `segment ${meta.id}: runs cover ${o} rows, not ${meta.rows}`);
  }

  get rows(): number { return this.meta.rows; }

  /** Row offset of `rowId` in this segment, or -1. */
  offsetOf(rowId: number): number {
    const r = this.meta.runs;
    let lo = 0;
    let hi = (r.length >> 1) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = r[mid * 2]!;
      if (rowId < s) hi = mid - 1;
      else if (rowId >= s + r[mid * 2 + 1]!) lo = mid + 1;
      else return this.runOffsets[mid]! + (rowId - s);
    }
    return -1;
  }

  /** Row ids of rows [from, to) into `out` at `at`. */
  rowIds(from: number, to: number, out: Float64Array, at: number): void {
    const r = this.meta.runs;
    // find the run holding `from`
    let lo = 0;
    let hi = this.runOffsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.runOffsets[mid]! <= from) lo = mid; else hi = mid - 1;
    }
    let k = lo;
    let o = from;
    while (o < to) {
      const runStart = this.runOffsets[k]!;
      const len = r[k * 2 + 1]!;
      const base = r[k * 2]! - runStart;
      const end = Math.min(to, runStart + len);
      for (; o < end; o++) out[at + o - from] = base + o;
      k++;
    }
  }

  insAt(off: number): number { return this.ins === null ? 0 : this.ins[off]!; }
  delAt(off: number): number { return this.del === null ? NOT_DELETED : this.del[off]!; }
  setDel(off: number, stamp: number): void {
    if (this.del === null) {
      if (stamp === NOT_DELETED) return;
      this.del = new Float64Array(this.rows).fill(NOT_DELETED);
    }
    const was = this.del[off]!;
    if (was === NOT_DELETED && stamp !== NOT_DELETED) this.deleted++;
    else if (was !== NOT_DELETED && stamp === NOT_DELETED) this.deleted--;
    this.del[off] = stamp;
  }

  checkInvariants(): void {
    const r = this.meta.runs;
    let n = 0;
    for (let k = 0; k < r.length; k += 2) {
      invariant(r[k + 1]! > 0, 'empty run');
      if (k > 0) invariant(r[k]! >= r[k - 2]! + r[k - 1]!, 'runs overlap / unsorted');
      n += r[k + 1]!;
    }
    invariant(n === this.rows, 'runs sum');
    let o = 0;
    for (const g of this.meta.rowGroups) { invariant(g.offset === o, 'row groups contiguous'); o += g.rows; }
    invariant(o === this.rows, 'row groups cover rows');
    let d = 0;
    if (this.del !== null) for (let i = 0; i < this.rows; i++) if (this.del[i] !== NOT_DELETED) d++;
    invariant(d === this.deleted, 'deleted count');
  }
}

/** Build runs from ascending row ids. */
export function runsOf(ids: Float64Array, n: number): number[] {
  const runs: number[] = [];
  let i = 0;
  while (i < n) {
    const s = ids[i]!;
    let j = i + 1;
    while (j < n && ids[j] === s + (j - i)) j++;
    runs.push(s, j - i);
    i = j;
  }
  return runs;
}
