/**
 * In-memory delta of a table: appendable columnar chunks holding rows not yet in a segment,
 * with their row ids and MVCC stamps.
 *
 * Invariants:
 *  1. Row ids ascend across chunks and within each chunk (`sorted()` restores this after WAL
 *     replay, which appends in commit order).
 *  2. chunk.length <= chunk.cap; every column present has cap slots.
 *  3. A chunk has the columns of the spec it was created under (by column id), kept by `rebuild`;
 *     a column id it lacks reads as the column's missing value, or through its conversion.
 *  4. Chunks are never shared between two Delta objects once `rebuild` ran: a scan that captured
 *     the old chunk list keeps a consistent view.
 */
import { allocateData, invariant, NOT_DELETED, type ColumnBatch, type ColumnVector, type PhysicalType, type VectorData } from '@quiverdb/common';
import type { StoredColumn } from '../api.js';
import { copyData } from './column-ops.js';

export const CHUNK_ROWS = 16384;
/** appends of up to this many rows copy value by value (cheaper than typed-array views) */
const SMALL_COPY = 8;

export interface ChunkColumn {
  readonly type: PhysicalType;
  data: VectorData;
  validity: Uint8Array | null;
}

export class DeltaChunk {
  length = 0;
  readonly rowIds: Float64Array;
  readonly ins: Float64Array;
  readonly del: Float64Array;
  readonly cols = new Map<number, ChunkColumn>();
  /**
   * Scan cache: rows [0, len) were all committed (insert stamps at most maxIns) and not deleted
   * when a scan checked them. Insert stamps of committed rows never change; any delete-stamp
   * write clears it (TableState.setDel), so a snapshot with startTs > maxIns sees those rows.
   */
  allVisible: { readonly len: number; readonly maxIns: number } | null = null;
  constructor(readonly cap: number, columns: readonly StoredColumn[]) {
    this.rowIds = new Float64Array(cap);
    this.ins = new Float64Array(cap);
    this.del = new Float64Array(cap).fill(NOT_DELETED);
    for (const c of columns) this.cols.set(c.id, { type: c.type, data: allocateData(c.type, cap), validity: null });
  }
  get firstRowId(): number { return this.rowIds[0]!; }
  get lastRowId(): number { return this.rowIds[this.length - 1]!; }

  /** Append rows [from, from+n) of `batch` (columns by `colIds`); returns rows taken. */
  appendFrom(batch: ColumnBatch, colIds: readonly number[], from: number, n: number, firstRowId: number, insStamp: number): number {
    const take = Math.min(n, this.cap - this.length);
    const at = this.length;
    for (let c = 0; c < colIds.length; c++) {
      const col = this.cols.get(colIds[c]!);
      if (col === undefined) continue;
      const src: ColumnVector = batch.columns[c]!;
      copyData(col.data, at, src.data, from, take); // (single-row writes: element copies)
      if (src.validity !== null) {
        if (col.validity === null) { col.validity = new Uint8Array(this.cap); col.validity.fill(1, 0, at); }
        if (take <= SMALL_COPY) for (let i = 0; i < take; i++) col.validity[at + i] = src.validity[from + i]!;
        else col.validity.set(src.validity.subarray(from, from + take), at);
      } else if (col.validity !== null) {
        col.validity.fill(1, at, at + take);
      }
    }
    // columns of the chunk the batch does not carry: NULL
    for (const [id, col] of this.cols) {
      if (colIds.includes(id)) continue;
      if (col.validity === null) { col.validity = new Uint8Array(this.cap); col.validity.fill(1, 0, at); }
      col.validity.fill(0, at, at + take);
    }
    for (let i = 0; i < take; i++) this.rowIds[at + i] = firstRowId + i;
    this.ins.fill(insStamp, at, at + take);
    this.length += take;
    return take;
  }

  /** Copy row `i` of `src` into this chunk at the end (same column ids, by id). */
  appendRow(src: DeltaChunk, i: number): void {
    const at = this.length;
    for (const [id, col] of this.cols) {
      const s = src.cols.get(id);
      if (s === undefined) {
        if (col.validity === null) { col.validity = new Uint8Array(this.cap); col.validity.fill(1, 0, at); }
        col.validity[at] = 0;
        continue;
      }
      copyData(col.data, at, s.data, i, 1);
      const valid = s.validity === null ? 1 : s.validity[i]!;
      if (col.validity === null && valid === 0) { col.validity = new Uint8Array(this.cap); col.validity.fill(1, 0, at); }
      if (col.validity !== null) col.validity[at] = valid;
    }
    this.rowIds[at] = src.rowIds[i]!;
    this.ins[at] = src.ins[i]!;
    this.del[at] = src.del[i]!;
    this.length++;
  }

  /** Row id → index, or -1: one probe when the ids before it are consecutive (rows of one insert), else a binary search. */
  indexOf(rowId: number): number {
    let lo = 0;
    let hi = this.length - 1;
    const ids = this.rowIds;
    if (hi < 0) return -1;
    const guess = rowId - ids[0]!;
    if (guess >= 0 && guess <= hi && ids[guess] === rowId) return guess;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid]!;
      if (v === rowId) return mid;
      if (v < rowId) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }
}

export class Delta {
  chunks: DeltaChunk[] = [];
  constructor(public columns: readonly StoredColumn[]) {}

  get rows(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  append(batch: ColumnBatch, colIds: readonly number[], firstRowId: number, insStamp: number): void {
    let done = 0;
    while (done < batch.length) {
      let last = this.chunks[this.chunks.length - 1];
      if (last === undefined || last.length === last.cap || !this.sameColumns(last)) {
        last = new DeltaChunk(Math.min(CHUNK_ROWS, Math.max(1024, batch.length - done)), this.columns);
        this.chunks.push(last);
      }
      done += last.appendFrom(batch, colIds, done, batch.length - done, firstRowId + done, insStamp);
    }
  }

  private sameColumns(c: DeltaChunk): boolean {
    if (c.cols.size !== this.columns.length) return false;
    for (const col of this.columns) if (c.cols.get(col.id)?.type !== col.type) return false;
    return true;
  }

  /** Locate a row id: chunk + index, or undefined. */
  locate(rowId: number): { chunk: DeltaChunk; i: number } | undefined {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = cs[mid]!;
      if (c.length === 0 || rowId < c.firstRowId) hi = mid - 1;
      else if (rowId > c.lastRowId) lo = mid + 1;
      else {
        const i = c.indexOf(rowId);
        return i < 0 ? undefined : { chunk: c, i };
      }
    }
    return undefined;
  }

  /**
   * The `n` rows with consecutive row ids from `first` on, when they lie in one chunk holding
   * every column of `colIds` with its type of `types`: that chunk's columns (not copied; valid
   * until the next write to the delta) and the index of the first row. Else undefined (`gather`).
   */
  view(first: number, n: number, colIds: readonly number[], types: readonly PhysicalType[]): { batch: ColumnBatch; from: number } | undefined {
    const loc = this.locate(first);
    if (loc === undefined) return undefined;
    const c = loc.chunk;
    if (c.length - loc.i < n || c.rowIds[loc.i + n - 1] !== first + n - 1) return undefined;
    const columns: ColumnVector[] = new Array(colIds.length);
    for (let j = 0; j < colIds.length; j++) {
      const col = c.cols.get(colIds[j]!);
      if (col === undefined || col.type !== types[j]) return undefined;
      columns[j] = col;
    }
    return { batch: { length: c.length, columns }, from: loc.i };
  }

  /**
   * The `n` rows with consecutive row ids from `first` on (one transaction's inserts, all in the
   * delta) as a batch of columns `colIds` of `types`, copied. A chunk lacking a column (created
   * under another spec) gives NULLs, as a scan reads it. Throws if a row is missing.
   */
  gather(first: number, n: number, colIds: readonly number[], types: readonly PhysicalType[]): ColumnBatch {
    const columns: { data: VectorData; validity: Uint8Array | null }[] = colIds.map((_, j) => ({ data: allocateData(types[j]!, n), validity: null }));
    const loc = this.locate(first);
    invariant(loc !== undefined || n === 0, () => `delta gather: row ${first} is not in the delta`);
    let ci = loc === undefined ? this.chunks.length : this.chunks.indexOf(loc.chunk);
    let i = loc?.i ?? 0;
    let done = 0;
    while (done < n) {
      const c = this.chunks[ci];
      invariant(c !== undefined, () => `delta gather: rows ${first}..${first + n - 1} end early`);
      const take = Math.min(n - done, c.length - i);
      invariant(take > 0 && c.rowIds[i] === first + done && c.rowIds[i + take - 1] === first + done + take - 1,
        () => `delta gather: rows ${first}..${first + n - 1} are not consecutive in the delta`);
      for (let j = 0; j < colIds.length; j++) {
        const dst = columns[j]!;
        const src = c.cols.get(colIds[j]!);
        const srcValidity = src === undefined ? null : src.validity;
        if (src !== undefined) copyData(dst.data, done, src.data, i, take);
        if (src === undefined || srcValidity !== null) {
          if (dst.validity === null) { dst.validity = new Uint8Array(n); dst.validity.fill(1, 0, done); }
          if (srcValidity === null) dst.validity.fill(0, done, done + take);
          else dst.validity.set(srcValidity.subarray(i, i + take), done);
        } else if (dst.validity !== null) {
          dst.validity.fill(1, done, done + take);
        }
      }
      done += take;
      ci++;
      i = 0;
    }
    return { length: n, columns };
  }

  isSorted(): boolean {
    let prev = -1;
    for (const c of this.chunks) for (let i = 0; i < c.length; i++) {
      if (c.rowIds[i]! <= prev) return false;
      prev = c.rowIds[i]!;
    }
    return true;
  }

  /** New chunk list holding the rows `keep` accepts, sorted by row id (old chunks untouched). */
  rebuild(keep: (c: DeltaChunk, i: number) => boolean): void {
    const refs: { c: DeltaChunk; i: number }[] = [];
    for (const c of this.chunks) for (let i = 0; i < c.length; i++) if (keep(c, i)) refs.push({ c, i });
    refs.sort((a, b) => a.c.rowIds[a.i]! - b.c.rowIds[b.i]!);
    const out: DeltaChunk[] = [];
    let cur: DeltaChunk | undefined;
    for (const r of refs) {
      // rows keep the columns they were written with (a chunk from before an ALTER reads its
      // added columns as their missing values and its re-typed ones through their conversions)
      if (cur === undefined || cur.length === cur.cap || !sameColumnSet(cur, r.c)) {
        cur = new DeltaChunk(Math.min(CHUNK_ROWS, Math.max(1024, refs.length)), columnsOf(r.c));
        out.push(cur);
      }
      cur.appendRow(r.c, r.i);
    }
    this.chunks = out;
  }
}

function sameColumnSet(a: DeltaChunk, b: DeltaChunk): boolean {
  if (a.cols.size !== b.cols.size) return false;
  for (const [id, c] of a.cols) if (b.cols.get(id)?.type !== c.type) return false;
  return true;
}

function columnsOf(c: DeltaChunk): StoredColumn[] {
  return [...c.cols].map(([id, col]) => ({ id, name: '', type: col.type, nullable: true }));
}
