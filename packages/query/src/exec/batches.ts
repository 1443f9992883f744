/**
 * Plans as streams of batches: a scan yields one `Rel` per storage batch with its filter
 * applied; a filter or projection over a stream stays a stream. Consumers that fold their input
 * (streaming aggregation) read these without materializing the whole input; `execScan`
 * concatenates them.
 *
 * A storage batch's NULL-free numeric columns are first used in place (typed-array views of the
 * producer's buffers) to run the filter, and only the rows kept are copied out, so the Rels
 * yielded never alias storage buffers (the producer may reuse them for the next batch).
 *
 * Invariants:
 *  1. The batches yielded, concatenated, are the rows `ctx.run(plan)` returns, in the same order.
 *  2. No Rel `scanBatches` yields shares a column array with a storage batch; the Rels of
 *     `scanSelBatches` / `planBatches` may (typed views), valid until the next batch is asked for;
 *     so is a scan batch's `sel` (one buffer per scan, rewritten for each batch).
 *  3. EXPLAIN ANALYZE actuals of streamed nodes are recorded here (rows summed over batches,
 *     one loop per stream).
 *
 * Concurrency: scans await a macrotask every ~20 ms so other sessions run; cancellation is
 * checked between batches.
 */
import type { ColumnVector } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import type { Plan } from '../plan/plan.js';
import { vectorToValues } from '../types/values.js';
import { evalExpr } from './eval.js';
import type { ExecCtx } from './eval.js';
import { selectRows } from './filter-select.js';
import type { Rel } from './rel.js';
import type { SelBatch } from './stream-agg.js';
import { gatherColumn } from './rel.js';

type ScanPlan = Extract<Plan, { k: 'scan' }>;

/** A column of a storage batch in executor form; `view` when it aliases the batch's buffer. */
function columnOf(v: ColumnVector, len: number, t: SqlType): { col: unknown[]; view: boolean } {
  const d = v.data;
  let valid = v.validity === null;
  if (!valid) {
    // an all-valid validity array is the same as none
    const va = v.validity!;
    let i = 0;
    while (i < len && va[i] !== 0) i++;
    valid = i === len;
  }
  if (valid && !Array.isArray(d) && t.id !== 'BOOLEAN' && t.id !== 'NUMERIC' && t.id !== 'INTERVAL') {
    const td = d as Int32Array | Float64Array | BigInt64Array;
    return { col: (td.length === len ? td : td.subarray(0, len)) as unknown as unknown[], view: true };
  }
  // NULL-free text: the producer's array of strings is already the executor's representation
  if (valid && Array.isArray(d) && d.length === len && (t.id === 'TEXT' || t.id === 'VARCHAR')) return { col: d as unknown[], view: true };
  return { col: vectorToValues(v, len, t), view: false };
}

function record(ctx: ExecCtx, plan: Plan, rows: number, ms: number, first: boolean): void {
  if (!ctx.stats) return;
  const s = ctx.stats.get(plan) ?? { rows: 0, ms: 0, loops: 0 };
  s.rows += rows; s.ms += ms;
  if (first) s.loops++;
  ctx.stats.set(plan, s);
}

/**
 * The batches of a scan with its `filter` as a selection. The Rels may alias storage buffers
 * (typed views): use them before asking for the next batch, and copy what is kept.
 */
export async function* scanSelBatches(plan: ScanPlan, ctx: ExecCtx): AsyncGenerator<SelBatch & { readonly views: readonly boolean[] }> {
  const types = plan.cols.map((c) => plan.table.def.columns[c]!.type);
  const table = ctx.catalog.getTable(plan.name) ?? plan.table;
  const withRowIds = plan.rowIds === true;
  const req = plan.lock ? { columns: plan.cols, predicates: plan.preds, withRowIds, lockMode: plan.lock.mode, lockWait: plan.lock.wait }
    : { columns: plan.cols, predicates: plan.preds, withRowIds };
  let lastYield = performance.now();
  let first = true;
  // the filter's selection of every batch, in one buffer (invariant 2): a selection vector per
  // batch would be allocated outside the JS heap, and that memory's growth is what starts V8's
  // full collections (see recycle.ts)
  let selBuf: Int32Array | undefined;
  for await (const sb of table.scan(req)) {
    // let other sessions run (a macrotask turn, not just microtasks) during long scans
    if (performance.now() - lastYield > 20) { await new Promise<void>((r) => setImmediate(r)); lastYield = performance.now(); }
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    const t0 = ctx.stats ? performance.now() : 0;
    const b = sb.batch;
    const n = b.length;
    const cols: unknown[][] = [];
    const views: boolean[] = [];
    for (let i = 0; i < b.columns.length; i++) {
      const c = columnOf(b.columns[i]!, n, types[i]!);
      cols.push(c.col); views.push(c.view);
    }
    if (withRowIds) { cols.push((sb.rowIds ? sb.rowIds.slice(0, n) : new Float64Array(n)) as unknown as unknown[]); views.push(false); }
    const rel: Rel = { n, cols };
    if (plan.filter && (selBuf === undefined || selBuf.length < n)) selBuf = new Int32Array(n);
    const s = plan.filter && n > 0 ? await selectRows(plan.filter, rel, ctx, selBuf) : null;
    const m = s === null ? n : s.m;
    record(ctx, plan, m, ctx.stats ? performance.now() - t0 : 0, first);
    first = false;
    if (m > 0) yield { rel, sel: s === null ? null : s.sel, m, views };
  }
  if (first) record(ctx, plan, 0, 0, true);
}

/** The batches of a scan, filtered by its `filter`, as Rels of their own. */
export async function* scanBatches(plan: ScanPlan, ctx: ExecCtx): AsyncGenerator<Rel> {
  for await (const b of scanSelBatches(plan, ctx)) yield ownRel(b);
}

/** Rows sel[0..m) of every column of `rel` (`used`: only those columns; the others are left empty). */
export function gatherRel(rel: Rel, sel: Int32Array, m: number, used?: readonly boolean[]): Rel {
  const cols: unknown[][] = new Array(rel.cols.length);
  for (let c = 0; c < rel.cols.length; c++) cols[c] = used === undefined || used[c] === true ? gatherColumn(rel.cols[c]!, sel, m) : UNUSED;
  return { n: m, cols };
}
const UNUSED: unknown[] = [];

/** The selected rows of a batch, in arrays of their own. */
function ownRel(b: SelBatch & { readonly views?: readonly boolean[] }): Rel {
  if (b.sel !== null) return gatherRel(b.rel, b.sel, b.m);
  const views = b.views;
  if (!views || !views.some((v) => v)) return b.rel;
  const cols = b.rel.cols.map((c, i) => (views[i] ? c.slice() : c));
  return { n: b.rel.n, cols };
}

/**
 * The rows of `plan` as a stream of batches with selections: scans, and filters / projections
 * over a stream, stream; any other plan runs whole and comes as one batch. A batch may alias
 * storage buffers (typed views): it is valid until the next one is asked for, and what is kept
 * must be copied (gathered).
 */
export async function* planBatches(plan: Plan, ctx: ExecCtx): AsyncGenerator<SelBatch> {
  if (plan.k === 'scan') { yield* scanSelBatches(plan, ctx); return; }
  if (plan.k === 'filter' && streams(plan.input)) {
    let first = true;
    for await (const b of planBatches(plan.input, ctx)) {
      const t0 = ctx.stats ? performance.now() : 0;
      const r = b.sel === null ? b.rel : gatherRel(b.rel, b.sel, b.m);
      const s = await selectRows(plan.pred, r, ctx);
      const m = s === null ? r.n : s.m;
      record(ctx, plan, m, ctx.stats ? performance.now() - t0 : 0, first);
      first = false;
      if (m > 0) yield { rel: r, sel: s === null ? null : s.sel, m };
    }
    if (first) record(ctx, plan, 0, 0, true);
    return;
  }
  if (plan.k === 'project' && streams(plan.input)) {
    let first = true;
    for await (const b of planBatches(plan.input, ctx)) {
      const t0 = ctx.stats ? performance.now() : 0;
      const r = b.sel === null ? b.rel : gatherRel(b.rel, b.sel, b.m);
      const cols: unknown[][] = [];
      for (const e of plan.exprs) cols.push(await evalExpr(e, r, ctx));
      record(ctx, plan, r.n, ctx.stats ? performance.now() - t0 : 0, first);
      first = false;
      yield { rel: { n: r.n, cols }, sel: null, m: r.n };
    }
    if (first) record(ctx, plan, 0, 0, true);
    return;
  }
  const r = await ctx.run(plan, ctx);
  yield { rel: r, sel: null, m: r.n };
}

/** Does `plan` stream (rather than run whole)? */
export function streams(plan: Plan): boolean {
  if (plan.k === 'scan') return true;
  if (plan.k === 'filter' || plan.k === 'project') return streams(plan.input);
  return false;
}
