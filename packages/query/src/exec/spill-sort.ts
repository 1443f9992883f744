/**
 * ORDER BY within `memory_limit`: `sortWithinMemory` reserves what an in-memory sort needs (a
 * sorted copy of the input, its key columns and the permutation) and runs the executor's
 * in-memory sort when it fits. When it does not fit and the statement has a spill space, it
 * sorts by external merge sort instead:
 *
 *  1. runs: consecutive slices of the input, each small enough that its key columns, its
 *     permutation and its sorted copy take at most half the memory still available, are sorted
 *     (stable) and written to a spill file in blocks of rows (exec/spill-space.ts codec), with
 *     their key values appended as extra columns so the merge never re-evaluates expressions;
 *     with a LIMIT only the first `limit` rows of each run are written;
 *  2. merge: one cursor per run holds one decoded block; a binary heap on (keys, run number)
 *     picks the next row, which is copied into the output columns, until `limit` rows.
 *
 * Without a spill space, or when a value cannot be written (outside the executor's value set),
 * it fails with 53200 naming the sort.
 *
 * What is bounded: the sort's own working memory (runs and merge blocks). The sorted result is
 * still materialized, as every operator's output is (exec/rel.ts): it is its consumer's input.
 *
 * Invariants:
 *  1. The result is the input's rows in the order `cmpRows` (exec/sort.ts) then input position (stable), the
 *     same order the in-memory sort gives, truncated to `limit` rows.
 *  2. Every spill file created is removed before `sortWithinMemory` settles (success, error or
 *     cancel); the sort's reservation is released then too.
 *
 * Concurrency: awaits at every spill read/write; the statement's signal is checked between runs.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { SortKey } from '../plan/plan.js';
import { evalExpr } from './eval.js';
import type { ExecCtx } from './eval.js';
import type { Rel } from './rel.js';
import { newColumnLike, sliceRel } from './rel.js';
import { relBytes, reserve } from './memory.js';
import type { MemoryReservation } from './memory.js';
import { decodeBlock, encodeBlock } from './spill-space.js';
import { cmpKeyValues, rowComparator, sortedIndexes } from './sort.js';
import type { SpillFile, SpillSpace } from './spill-space.js';

/** Rows per block written to (and read back from) a run file, at most. */
const MAX_BLOCK_ROWS = 4096;
/** A run holds at least this many rows (progress even under a tiny budget). */
const MIN_RUN_ROWS = 16;
/** Encoded blocks are written to a run file in appends of about this many bytes. */
const WRITE_BYTES = 1 << 20;


/**
 * Bytes an in-memory sort of `input` holds besides its input: computed key columns (a column
 * reference is the input's own array), the permutation (a top-N heap under a small LIMIT, as
 * exec/sort.ts does) and the sorted copy of the kept rows.
 */
export function inMemorySortBytes(input: Rel, keys: readonly SortKey[], limit: number): number {
  const n = input.n;
  const kept = Math.min(n, limit);
  let keyBytes = 0;
  for (const k of keys) if (k.e.k !== 'col') keyBytes += 8 * n;
  const perm = kept * 4 < n ? 4 * kept : 8 * n;
  return keyBytes + perm + Math.ceil(relBytes(input) * (kept / Math.max(1, n)));
}

/**
 * Sort `input` by `keys` (first `limit` rows) within the statement's memory budget:
 * `inMemory()` when it fits, an external merge sort through `ctx.spill` when not, else 53200.
 */
export async function sortWithinMemory(input: Rel, keys: readonly SortKey[], ctx: ExecCtx, limit: number,
  inMemory: () => Promise<Rel>): Promise<Rel> {
  if (input.n <= 1 || keys.length === 0) return inMemory();
  const res = reserve(ctx, 'sort');
  try {
    const need = inMemorySortBytes(input, keys, limit);
    if (res.tryGrow(need)) return await inMemory();
    const spill = ctx.spill;
    const sorted = spill ? await externalSort(input, keys, ctx, limit, spill, res) : undefined;
    if (sorted) return sorted;
    res.grow(need); // cannot spill: fails with 53200
    return await inMemory();
  } finally {
    res.release();
  }
}

interface Run { file: SpillFile; blocks: { offset: number; length: number; rows: number }[]; rows: number }

/**
 * External merge sort of `input`; undefined when some value cannot be spilled. Exported for tests.
 */
export async function externalSort(input: Rel, keys: readonly SortKey[], ctx: ExecCtx, limit: number,
  spill: SpillSpace, res: MemoryReservation): Promise<Rel | undefined> {
  const n = input.n;
  const ncols = input.cols.length, nk = keys.length;
  const outRows = Math.min(n, limit);
  // bytes per row of a run: its slice, key columns, permutation, sorted copy
  const rowBytes = Math.max(16, (2 * relBytes(input)) / n + 8 * (2 + nk));
  const budget = Math.max(0, res.tracker.available) / 2;
  const runRows = Math.max(MIN_RUN_ROWS, Math.floor(budget / rowBytes));
  // the merge holds one decoded block (about rowBytes / 2 a row) of each run: size blocks to fit
  const nruns = Math.ceil(n / runRows);
  const blockRows = Math.max(1, Math.min(MAX_BLOCK_ROWS, Math.floor(budget / (nruns * rowBytes / 2))));
  const runs: Run[] = [];
  try {
    // 1. sorted runs
    for (let a = 0; a < n; a += runRows) {
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      const b = Math.min(n, a + runRows);
      const m = b - a;
      res.grow(Math.ceil(m * rowBytes)); // 53200 if not even a minimal run fits
      const slice = sliceRel(input, a, b);
      const keyCols: unknown[][] = [];
      for (const k of keys) keyCols.push(await evalExpr(k.e, slice, ctx));
      const idx = Int32Array.from(sortedIndexes(rowComparator(keyCols, keys), m, limit)); // stable; top-N under a LIMIT
      const runRel: Rel = { n: m, cols: [...slice.cols, ...keyCols] };
      const file = await spill.create();
      const run: Run = { file, blocks: [], rows: 0 };
      runs.push(run);
      const keep = idx.length;
      // blocks are appended in writes of about WRITE_BYTES (few system calls however small they are)
      let pending: Uint8Array[] = [], pendingBytes = 0, offset = file.size;
      const flush = async (): Promise<void> => {
        if (pendingBytes === 0) return;
        const w = pending.length === 1 ? pending[0]! : new Uint8Array(pendingBytes);
        if (pending.length > 1) { let p = 0; for (const x of pending) { w.set(x, p); p += x.length; } }
        pending = []; pendingBytes = 0;
        await file.append(w);
      };
      for (let s = 0; s < keep; s += blockRows) {
        const rows = idx.subarray(s, Math.min(keep, s + blockRows));
        const bytes = encodeBlock(runRel, rows);
        if (!bytes) return undefined;
        run.blocks.push({ offset, length: bytes.length, rows: rows.length });
        offset += bytes.length;
        pending.push(bytes); pendingBytes += bytes.length;
        if (pendingBytes >= WRITE_BYTES) await flush();
      }
      await flush();
      run.rows = keep;
      res.release();
    }
    // 2. merge
    return await mergeRuns(runs, input, ncols, nk, keys, outRows, res, rowBytes);
  } finally {
    res.release();
    for (const r of runs) await spill.remove(r.file);
  }
}

class Cursor {
  block: Rel | null = null;
  pos = 0;
  next = 0;
  constructor(readonly run: Run, readonly id: number) {}
  async load(): Promise<boolean> {
    if (this.next >= this.run.blocks.length) { this.block = null; return false; }
    const b = this.run.blocks[this.next++]!;
    this.block = decodeBlock(await this.run.file.read(b.offset, b.length));
    this.pos = 0;
    return true;
  }
}

async function mergeRuns(runs: Run[], input: Rel, ncols: number, nk: number, keys: readonly SortKey[], outRows: number,
  res: MemoryReservation, rowBytes: number): Promise<Rel> {
  // one decoded block per run is live at a time
  let blockBytes = 0;
  for (const r of runs) blockBytes += (r.blocks[0]?.rows ?? 0) * rowBytes / 2;
  res.grow(Math.ceil(blockBytes)); // one merge pass: 53200 if one block per run does not fit
  const out: unknown[][] = [];
  for (let c = 0; c < ncols; c++) out.push(newColumnLike(input.cols[c]!, outRows));
  const cursors: Cursor[] = [];
  for (let i = 0; i < runs.length; i++) { const cu = new Cursor(runs[i]!, i); if (await cu.load()) cursors.push(cu); }
  const less = (x: Cursor, y: Cursor): boolean => {
    const bx = x.block!, by = y.block!;
    for (let k = 0; k < nk; k++) {
      const r = cmpKeyValues(bx.cols[ncols + k]![x.pos], by.cols[ncols + k]![y.pos], keys[k]!);
      if (r !== 0) return r < 0;
    }
    return x.id < y.id;
  };
  // binary min-heap of cursors
  const heap = cursors;
  const down = (i: number): void => {
    const h = heap.length;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h && less(heap[l]!, heap[m]!)) m = l;
      if (r < h && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      const t = heap[i]!; heap[i] = heap[m]!; heap[m] = t;
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  let o = 0;
  while (o < outRows && heap.length > 0) {
    const top = heap[0]!;
    const b = top.block!;
    for (let c = 0; c < ncols; c++) out[c]![o] = b.cols[c]![top.pos];
    o++;
    if (++top.pos >= b.n && !(await top.load())) {
      const last = heap.pop()!;
      if (heap.length === 0) break;
      if (last !== top) heap[0] = last;
    }
    down(0);
  }
  if (o !== outRows) throw new DbError(SqlState.InternalError, `internal error (this is a bug): external sort merged ${o} of ${outRows} rows`);
  return { n: outRows, cols: out };
}
