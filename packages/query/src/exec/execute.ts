/**
 * The plan interpreter: each operator consumes its inputs' `Rel`s and produces one, a batch of
 * columns at a time (scans read the table's batches, await between them so other sessions run,
 * and filter each batch as it arrives).
 *
 * Operators: scan, values, filter, project, join (hash join for equalities — inner, left,
 * right, full — and nested loop otherwise), hash aggregate (with grouping sets), sort (top-N when
 * a limit is known), limit, distinct, set operations, window, recursive CTE.
 *
 * Invariants:
 *  1. The Rel an operator returns has `plan.out.length` columns.
 *  2. Hash keys use `keyOf`, so SQL-equal values of different representations meet.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { BExpr, Plan, SortKey } from '../plan/plan.js';
import { colsOf } from '../plan/plan.js';
import { keyOf, tupleKey } from '../types/values.js';
import { Decimal } from '../types/decimal.js';
import { evalExpr } from './eval.js';
import type { ExecCtx } from './eval.js';
import type { Rel } from './rel.js';
import { EMPTY_ROW, concatRels, emptyRel, gather, gatherColumn, sliceRel } from './rel.js';
import { groupIds } from './hash-keys.js';
import { buildTable, encodeBuild, encodeKeys, encodeProbe, int32Probe, joinPairs, matchedLeft, orderBy, probeAny, probeAnyInt32, probeBatch, probeInt32, releaseBuild } from './hash-join.js';
import { makeAccumulator } from './aggregate.js';
import { runWindow } from './window.js';
import { parseArray } from './pg-functions.js';
import { execIndexScan } from './index-scan.js';
import { planBatches, scanBatches, streams } from './batches.js';
import { filterBatch } from './filter-select.js';
import { canStreamAgg, streamAgg } from './stream-agg.js';
import { execLockRows } from './lock-rows.js';
import { HASH_ENTRY_BYTES, charge, chargeGroups, checkGroups, columnBytes, operatorScope, relBytes, reserve } from './memory.js';
import { sortWithinMemory } from './spill-sort.js';
import { cmpRows, rowComparator, sortedIndexes } from './sort.js';

export async function execPlan(plan: Plan, ctx: ExecCtx): Promise<Rel> {
  if (!ctx.stats) return execNode(plan, ctx);
  const t0 = performance.now();
  const r = await execNode(plan, ctx);
  const s = ctx.stats.get(plan) ?? { rows: 0, ms: 0, loops: 0 };
  s.rows += r.n; s.ms += performance.now() - t0; s.loops++;
  ctx.stats.set(plan, s);
  return r;
}

async function execNode(plan: Plan, ctx: ExecCtx): Promise<Rel> {
  switch (plan.k) {
    case 'scan': return execScan(plan, ctx);
    case 'indexScan': return execIndexScan(plan, ctx);
    case 'values': return execValues(plan, ctx);
    case 'filter': {
      const input = await execPlan(plan.input, ctx);
      if (input.n === 0) return input;
      return filterBatch(plan.pred, input, ctx);
    }
    case 'project': {
      const input = await execPlan(plan.input, ctx);
      const cols: unknown[][] = [];
      for (const e of plan.exprs) cols.push(await evalExpr(e, input, ctx));
      return { n: input.n, cols };
    }
    case 'join': return operatorScope(ctx, plan.lkeys.length > 0 ? 'hash join' : 'nested loop join', () => execJoin(plan, ctx));
    case 'agg': return operatorScope(ctx, 'hash aggregate', () => execAgg(plan, ctx));
    case 'sort': {
      const input = await execPlan(plan.input, ctx);
      let limit = Infinity;
      if (plan.limit) { const v = (await evalExpr(plan.limit, EMPTY_ROW, ctx))[0]; if (v !== null) limit = Number(v); }
      return sortWithinMemory(input, plan.keys, ctx, limit, () => sortRel(input, plan.keys, ctx, limit));
    }
    case 'limit': {
      const input = await execPlan(plan.input, ctx);
      let off = 0, lim = Infinity;
      if (plan.offset) { const v = (await evalExpr(plan.offset, EMPTY_ROW, ctx))[0]; if (v !== null) off = Number(v); }
      if (plan.limit) { const v = (await evalExpr(plan.limit, EMPTY_ROW, ctx))[0]; if (v !== null) lim = Number(v); }
      if (off < 0) throw new DbError('2201X' as never, 'OFFSET must not be negative');
      if (lim < 0) throw new DbError('2201W' as never, 'LIMIT must not be negative');
      return sliceRel(input, off, off + lim);
    }
    case 'distinct': {
      const input = await execPlan(plan.input, ctx);
      const keyCols = plan.on ? await Promise.all(plan.on.map((e) => evalExpr(e, input, ctx))) : input.cols;
      if (keyCols.length === 0) return sliceRel(input, 0, 1);
      const { first } = checkGroups(ctx, 'DISTINCT', groupIds(keyCols, input.n), input.n);
      return first.length === input.n ? input : gather(input, first);
    }
    case 'setop': return execSetOp(plan, ctx);
    case 'lockRows': return execLockRows(plan, ctx, execPlan);
    case 'window': {
      const input = await execPlan(plan.input, ctx);
      return runWindow(input, plan.funcs, ctx);
    }
    case 'workScan': {
      const w = ctx.work.get(plan.id);
      if (!w) throw new DbError(SqlState.InternalError, 'internal error (this is a bug): work table not set');
      return w;
    }
    case 'apply': {
      const left = await execPlan(plan.left, ctx);
      const nl = plan.left.out.length, nr = plan.right.out.length;
      const pvals = await Promise.all(plan.params.map((p) => evalExpr(p.e, left, ctx)));
      const cache = new Map<unknown, Rel>();
      const li: number[] = [], parts: Rel[] = [];
      const saved = plan.params.map((p) => ctx.corr.get(p.id));
      const rightRows: Rel[] = [];
      for (let i = 0; i < left.n; i++) {
        const vals = pvals.map((c) => c[i]);
        const key = vals.length === 1 ? keyOf(vals[0]) : tupleKey(vals);
        let r = cache.get(key);
        if (!r) {
          plan.params.forEach((p, j) => ctx.corr.set(p.id, vals[j]));
          ctx.subqCache.clear();
          r = await execPlan(plan.right, ctx);
          cache.set(key, r);
        }
        if (r.n === 0 && plan.outer) { li.push(i); rightRows.push({ n: 1, cols: Array.from({ length: nr }, () => [null]) }); continue; }
        for (let j = 0; j < r.n; j++) { li.push(i); rightRows.push(r); void j; }
      }
      plan.params.forEach((p, j) => ctx.corr.set(p.id, saved[j]));
      // materialize: left rows repeated, right rows in order
      const leftPart = gather(left, li);
      const rcols: unknown[][] = Array.from({ length: nr }, () => new Array<unknown>(li.length));
      let pos = 0;
      for (let k = 0; k < li.length;) {
        const r = rightRows[k]!;
        for (let j = 0; j < r.n; j++, k++) for (let c = 0; c < nr; c++) rcols[c]![pos + j] = r.cols[c]![j];
        pos += r.n;
      }
      parts.push({ n: li.length, cols: [...leftPart.cols, ...rcols] });
      void nl;
      return parts[0]!;
    }
    case 'cte': {
      const def = await execPlan(plan.def, ctx);
      ctx.work.set(plan.id, def);
      return operatorScope(ctx, 'CTE', () => { charge(ctx, relBytes(def)); return execPlan(plan.body, ctx); });
    }
    case 'recursive': {
      const ncols = plan.out.length;
      let work = await execPlan(plan.anchor, ctx);
      const seen = new Set<string>();
      const dedupe = (r: Rel): Rel => {
        if (plan.all) return r;
        const idx: number[] = [];
        for (let i = 0; i < r.n; i++) {
          const k = tupleKey(r.cols.map((c) => c[i]));
          if (!seen.has(k)) { seen.add(k); idx.push(i); }
        }
        return gather(r, idx);
      };
      work = dedupe(work);
      const parts: Rel[] = [work];
      const cteMem = reserve(ctx, 'recursive CTE'); // work tables (and seen rows) kept until the end
      let iter = 0;
      while (work.n > 0) {
        if (++iter > 1_000_000) throw new DbError(SqlState.ProgramLimitExceeded, 'recursive query did not terminate');
        ctx.work.set(plan.id, work);
        // the step must be re-run with fresh subquery caches for the work table
        ctx.subqCache.clear();
        work = dedupe(await execPlan(plan.step, ctx));
        if (work.n > 0) { parts.push(work); cteMem.grow(relBytes(work) * (plan.all ? 1 : 2)); }
      }
      ctx.work.delete(plan.id);
      cteMem.release();
      return concatRels(parts, ncols);
    }
  }
}

async function execScan(plan: Extract<Plan, { k: 'scan' }>, ctx: ExecCtx): Promise<Rel> {
  // batches filtered as they arrive (exec/batches.ts), then concatenated
  const parts: Rel[] = [];
  for await (const rel of scanBatches(plan, ctx)) parts.push(rel);
  const ncols = plan.cols.length + (plan.rowIds === true ? 1 : 0);
  if (parts.length === 0) return emptyRel(ncols);
  return concatRels(parts, ncols);
}

async function execValues(plan: Extract<Plan, { k: 'values' }>, ctx: ExecCtx): Promise<Rel> {
  const ncols = plan.out.length;
  const first = plan.rows[0]?.[0];
  if (plan.rows.length === 1 && first && first.k === 'fn' && first.name === '__series') {
    const args = await Promise.all(first.args.map(async (a) => (await evalExpr(a, EMPTY_ROW, ctx))[0]));
    if (args.some((a) => a === null)) return emptyRel(1);
    const out: unknown[] = [];
    const big = typeof args[0] === 'bigint';
    const dec = args[0] instanceof Decimal;
    if (dec) {
      let cur = args[0] as Decimal;
      const stop = args[1] as Decimal, step = (args[2] as Decimal | undefined) ?? Decimal.fromInt(1);
      if (step.sign() === 0) throw new DbError(SqlState.InvalidParameterValue, 'step size cannot equal zero');
      while (step.sign() > 0 ? cur.cmp(stop) <= 0 : cur.cmp(stop) >= 0) { out.push(cur); cur = cur.add(step); }
    } else {
      let cur = Number(args[0]);
      const stop = Number(args[1]), step = args[2] === undefined ? 1 : Number(args[2]);
      if (step === 0) throw new DbError(SqlState.InvalidParameterValue, 'step size cannot equal zero');
      while (step > 0 ? cur <= stop : cur >= stop) { out.push(big ? BigInt(cur) : cur); cur += step; if (out.length > 50_000_000) break; }
    }
    return { n: out.length, cols: [out] };
  }
  if (plan.rows.length === 1 && first && first.k === 'fn' && first.name === '__unnest') {
    // unnest(array text) [WITH ORDINALITY] (exec/pg-functions.ts)
    const a = (await evalExpr(first.args[0]!, EMPTY_ROW, ctx))[0];
    const xs = a === null ? [] : parseArray(String(a)) ?? [];
    return { n: xs.length, cols: ncols > 1 ? [xs, xs.map((_, i) => BigInt(i + 1))] : [xs] };
  }
  const cols: unknown[][] = Array.from({ length: ncols }, () => new Array<unknown>(plan.rows.length));
  for (let r = 0; r < plan.rows.length; r++) {
    const row = plan.rows[r]!;
    for (let c = 0; c < ncols; c++) cols[c]![r] = (await evalExpr(row[c]!, EMPTY_ROW, ctx))[0];
  }
  return { n: plan.rows.length, cols };
}

// ---------------------------------------------------------------------------------------------
// Joins

/** Is idx 0, 1, ..., n-1 (every row of a side of n rows, in order)? */
function isIdentity(idx: ArrayLike<number>, n: number): boolean {
  if (idx.length !== n) return false;
  for (let i = 0; i < n; i++) if (idx[i] !== i) return false;
  return true;
}

/**
 * Rows li[x] of l beside rows ri[x] of r; an index of -1 gives NULLs (outer joins). A side
 * whose rows all come once, in order (a foreign key into a dimension table: every fact row
 * meets one row) shares its column arrays instead of copying them (Rels are never mutated),
 * unless the caller says it may alias storage buffers (`lView` / `rView`: a streamed batch).
 */
function combine(l: Rel, r: Rel, li: ArrayLike<number>, ri: ArrayLike<number>, nl: number, nr: number, lView = false, rView = false): Rel {
  const m = li.length;
  const cols: unknown[][] = [];
  let lAll = true, rAll = true;
  for (let i = 0; i < m; i++) { if (li[i]! < 0) lAll = false; if (ri[i]! < 0) rAll = false; }
  const lSame = !lView && lAll && isIdentity(li, l.n), rSame = !rView && rAll && isIdentity(ri, r.n);
  const side = (src: unknown[], idx: ArrayLike<number>, all: boolean, same: boolean): unknown[] => {
    if (same) return src;
    if (all) return gatherColumn(src, idx);
    const o = new Array<unknown>(m);
    for (let i = 0; i < m; i++) o[i] = idx[i]! < 0 ? null : src[idx[i]!];
    return o;
  };
  for (let c = 0; c < nl; c++) cols.push(side(l.cols[c]!, li, lAll, lSame));
  for (let c = 0; c < nr; c++) cols.push(side(r.cols[c]!, ri, rAll, rSame));
  return { n: m, cols };
}

/** Rows of `idx` where keep[x] is true, as new index vectors. */
function keepPairs(li: Int32Array, ri: Int32Array, mask: readonly unknown[]): { li: Int32Array; ri: Int32Array } {
  let m = 0;
  for (let x = 0; x < li.length; x++) if (mask[x] === true) m++;
  if (m === li.length) return { li, ri };
  const l2 = new Int32Array(m), r2 = new Int32Array(m);
  for (let x = 0, p = 0; x < li.length; x++) if (mask[x] === true) { l2[p] = li[x]!; r2[p++] = ri[x]!; }
  return { li: l2, ri: r2 };
}

const NO_COLUMN: unknown[] = [];

/**
 * Which side of a hash join streams through a table built on the other one, batch by batch,
 * without being materialized whole: a side that streams (exec/batches.ts) and is estimated at
 * least as large as the other. Inner joins either side; semi / anti joins their left side; left
 * joins their left side when it is the larger.
 */
function probeSide(plan: Extract<Plan, { k: 'join' }>): 'left' | 'right' | undefined {
  if (plan.lkeys.length === 0) return undefined;
  if (plan.type === 'semi' || plan.type === 'anti') return streams(plan.left) ? 'left' : undefined;
  if (plan.type === 'left') return streams(plan.left) && plan.left.est >= plan.right.est ? 'left' : undefined;
  if (plan.type !== 'inner') return undefined;
  if (streams(plan.left) && plan.left.est >= plan.right.est) return 'left';
  if (streams(plan.right) && plan.right.est > plan.left.est) return 'right';
  return undefined;
}

/** A hash join whose probe side arrives in batches (see probeSide); output in left-major order as execJoin's. */
async function streamJoin(plan: Extract<Plan, { k: 'join' }>, side: 'left' | 'right', ctx: ExecCtx): Promise<Rel> {
  const type = plan.type;
  const probeLeft = side === 'left';
  const nl = plan.left.out.length, nr = plan.right.out.length;
  const build = await execPlan(probeLeft ? plan.right : plan.left, ctx);
  if (build.n === 0 && type !== 'left') return type === 'anti' ? execPlan(plan.left, ctx) : emptyRel(plan.out.length);
  const bk = await Promise.all((probeLeft ? plan.rkeys : plan.lkeys).map((e) => evalExpr(e, build, ctx)));
  const enc = encodeBuild(bk, build.n);
  const table = buildTable(enc.keys.codes, enc.keys.valid, build.n);
  charge(ctx, relBytes(build) + (8 * plan.lkeys.length + 15) * build.n); // build side, key codes, table, filter
  const pkeys = probeLeft ? plan.lkeys : plan.rkeys;
  const semi = type === 'semi' || type === 'anti';
  const parts: Rel[] = [];
  const leftRows: Int32Array[] = []; // probing with the right side: the left (build) row of each output row
  const unmatched: Rel[] = []; // left join: left rows without a partner (after every matched row, as execJoin)
  const plainKeys = pkeys.every((e) => e.k === 'col');
  for await (const b of planBatches(probeLeft ? plan.left : plan.right, ctx)) {
    if (b.m === 0) continue;
    // the batch's selected rows (rows[x]: batch row of probe row x; null = all rows, in order);
    // a batch may alias storage buffers, so every output row is gathered (copied) from it
    let batch = b.rel, rows = b.sel === null ? null : b.sel.subarray(0, b.m);
    if (rows && !plainKeys) { batch = gather(batch, rows); rows = null; }
    const kc = await Promise.all(pkeys.map((e) => evalExpr(e, batch, ctx)));
    // one NULL-free int32 key column is probed in place; others are encoded first
    const i32 = int32Probe(enc.coders, kc);
    const p = i32 ? undefined : encodeProbe(enc.coders, kc, b.m, rows);
    const toBatch = (xs: ArrayLike<number>): Int32Array => {
      const o = new Int32Array(xs.length);
      if (rows) for (let x = 0; x < xs.length; x++) o[x] = rows[xs[x]!]!; else o.set(xs);
      return o;
    };
    if (semi && !plan.cond) {
      const m = i32 ? probeAnyInt32(table, enc.keys, i32, rows, b.m) : probeAny(table, enc.keys.codes, p!.codes, p!.valid, p!.n);
      const want = type === 'semi' ? 1 : 0;
      const idx: number[] = [];
      for (let i = 0; i < b.m; i++) if (m[i] === want) idx.push(i);
      if (idx.length > 0) parts.push(gather(batch, toBatch(idx)));
      continue;
    }
    const pairs = i32 ? probeInt32(table, enc.keys, i32, rows, b.m) : probeBatch(table, enc.keys, p!);
    const pi = toBatch(pairs.pi);
    let li = probeLeft ? pi : pairs.bi, ri = probeLeft ? pairs.bi : pi;
    const l = probeLeft ? batch : build, r = probeLeft ? build : batch;
    if (plan.cond && li.length > 0) {
      const used = colsOf(plan.cond);
      const cols: unknown[][] = [];
      for (let c = 0; c < nl + nr; c++) {
        if (!used.has(c)) { cols.push(NO_COLUMN); continue; }
        cols.push(c < nl ? gatherColumn(l.cols[c]!, li) : gatherColumn(r.cols[c - nl]!, ri));
      }
      ({ li, ri } = keepPairs(li, ri, await evalExpr(plan.cond, { n: li.length, cols }, ctx)));
    }
    if (semi) {
      const matched = new Uint8Array(batch.n);
      for (const i of li) matched[i] = 1;
      const idx: number[] = [];
      const all = rows ?? null;
      for (let x = 0; x < b.m; x++) { const i = all ? all[x]! : x; if ((matched[i] === 1) === (type === 'semi')) idx.push(i); }
      if (idx.length > 0) parts.push(gather(batch, idx));
      continue;
    }
    if (type === 'left') {
      const matched = new Uint8Array(batch.n);
      for (const i of li) matched[i] = 1;
      const idx: number[] = [];
      for (let x = 0; x < b.m; x++) { const i = rows ? rows[x]! : x; if (matched[i] === 0) idx.push(i); }
      if (idx.length > 0) { charge(ctx, 8 * idx.length * (nl + nr)); unmatched.push(combine(batch, build, idx, new Int32Array(idx.length).fill(-1), nl, nr, true)); }
    }
    if (li.length === 0) continue;
    charge(ctx, 8 * li.length * (nl + nr)); // the joined rows
    if (probeLeft) parts.push(combine(l, r, li, ri, nl, nr, true));
    else { leftRows.push(li); parts.push({ n: ri.length, cols: r.cols.map((c) => gatherColumn(c, ri)) }); }
  }
  parts.push(...unmatched);
  releaseBuild(table, enc.keys); // probed: the table and key codes go back to the recycler
  if (probeLeft || semi) return parts.length === 0 ? emptyRel(plan.out.length) : concatRels(parts, plan.out.length);
  // probed with the right side: put the rows in left-major order (stable, so right rows stay ascending)
  const right = parts.length === 0 ? emptyRel(nr) : concatRels(parts, nr);
  let m = 0;
  for (const x of leftRows) m += x.length;
  const lrow = new Int32Array(m);
  for (let i = 0, o = 0; i < leftRows.length; o += leftRows[i]!.length, i++) lrow.set(leftRows[i]!, o);
  const perm = orderBy(lrow, build.n);
  const li = new Int32Array(m);
  for (let x = 0; x < m; x++) li[x] = lrow[perm[x]!]!;
  return combine(build, right, li, perm, nl, nr);
}

/** Pairs of one nested-loop block: about this many (left rows × right rows). */
const NESTED_LOOP_BLOCK = 1 << 16;

/**
 * Block nested loop for a join without equi-keys: the condition is evaluated on blocks of
 * (left rows × every right row) over the columns it reads, so only matching pairs are kept, and
 * the statement's signal (statement_timeout, cancel) is checked between blocks.
 */
async function nestedLoopPairs(cond: BExpr, left: Rel, right: Rel, nl: number, nr: number, ctx: ExecCtx): Promise<{ li: Int32Array; ri: Int32Array }> {
  const used = colsOf(cond);
  const rows = Math.max(1, Math.floor(NESTED_LOOP_BLOCK / Math.max(1, right.n)));
  const lParts: Int32Array[] = [], rParts: Int32Array[] = [];
  let total = 0;
  let lastYield = performance.now();
  for (let from = 0; from < left.n; from += rows) {
    // let other sessions and timers (statement_timeout, cancel) run during a long loop
    if (performance.now() - lastYield > 20) { await new Promise<void>((r) => setImmediate(r)); lastYield = performance.now(); }
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    const to = Math.min(left.n, from + rows);
    const m = (to - from) * right.n;
    const bl = new Int32Array(m), br = new Int32Array(m);
    for (let i = from, x = 0; i < to; i++) for (let j = 0; j < right.n; j++, x++) { bl[x] = i; br[x] = j; }
    const cols: unknown[][] = [];
    for (let c = 0; c < nl + nr; c++) {
      if (!used.has(c)) { cols.push(NO_COLUMN); continue; }
      cols.push(c < nl ? gatherColumn(left.cols[c]!, bl) : gatherColumn(right.cols[c - nl]!, br));
    }
    const kept = keepPairs(bl, br, await evalExpr(cond, { n: m, cols }, ctx));
    if (kept.li.length === 0) continue;
    total += kept.li.length;
    if (total > 0x7fffffff) throw new DbError(SqlState.ProgramLimitExceeded, 'join result too large');
    charge(ctx, 8 * kept.li.length);
    lParts.push(kept.li); rParts.push(kept.ri);
  }
  const li = new Int32Array(total), ri = new Int32Array(total);
  for (let k = 0, o = 0; k < lParts.length; o += lParts[k]!.length, k++) { li.set(lParts[k]!, o); ri.set(rParts[k]!, o); }
  return { li, ri };
}

async function execJoin(plan: Extract<Plan, { k: 'join' }>, ctx: ExecCtx): Promise<Rel> {
  const side = probeSide(plan);
  if (side) return streamJoin(plan, side, ctx);
  const left = await execPlan(plan.left, ctx);
  const type = plan.type;
  if (left.n === 0 && (type === 'inner' || type === 'cross' || type === 'left' || type === 'semi' || type === 'anti')) {
    return emptyRel(plan.out.length);
  }
  const right = await execPlan(plan.right, ctx);
  const nl = plan.left.out.length, nr = plan.right.out.length;
  charge(ctx, relBytes(right) + (8 * plan.lkeys.length + 15) * right.n + (8 * plan.lkeys.length + 1) * left.n); // build side, key codes, table, filter
  if (right.n === 0) {
    if (type === 'inner' || type === 'cross' || type === 'semi' || type === 'right') return emptyRel(plan.out.length);
    if (type === 'anti') return left;
  }
  let li: Int32Array, ri: Int32Array;
  if (plan.lkeys.length > 0) {
    const lk = await Promise.all(plan.lkeys.map((e) => evalExpr(e, left, ctx)));
    const rk = await Promise.all(plan.rkeys.map((e) => evalExpr(e, right, ctx)));
    const keys = encodeKeys(lk, left.n, rk, right.n);
    if ((type === 'semi' || type === 'anti') && !plan.cond) {
      // no pairs needed: one match is enough
      const matched = matchedLeft(keys, left.n, right.n);
      const want = type === 'semi' ? 1 : 0;
      const idx: number[] = [];
      for (let i = 0; i < left.n; i++) if (matched[i] === want) idx.push(i);
      return idx.length === left.n ? left : gather(left, idx);
    }
    ({ li, ri } = joinPairs(keys, left.n, right.n));
    charge(ctx, 8 * li.length);
  } else if (plan.cond) {
    ({ li, ri } = await nestedLoopPairs(plan.cond, left, right, nl, nr, ctx));
  } else {
    const m = left.n * right.n;
    if (m > 0x7fffffff) throw new DbError(SqlState.ProgramLimitExceeded, 'join result too large');
    charge(ctx, 8 * m);
    li = new Int32Array(m); ri = new Int32Array(m);
    for (let i = 0, x = 0; i < left.n; i++) for (let j = 0; j < right.n; j++, x++) { li[x] = i; ri[x] = j; }
  }
  if (plan.cond && plan.lkeys.length > 0 && li.length > 0) {
    // evaluate the residual condition on the columns it reads only, then gather the survivors
    const used = colsOf(plan.cond);
    const cols: unknown[][] = [];
    for (let c = 0; c < nl + nr; c++) {
      if (!used.has(c)) { cols.push(NO_COLUMN); continue; }
      cols.push(c < nl ? gatherColumn(left.cols[c]!, li) : gatherColumn(right.cols[c - nl]!, ri));
    }
    const mask = await evalExpr(plan.cond, { n: li.length, cols }, ctx);
    ({ li, ri } = keepPairs(li, ri, mask));
  }
  if (type === 'semi' || type === 'anti') {
    const matched = new Uint8Array(left.n);
    for (const i of li) matched[i] = 1;
    const idx: number[] = [];
    for (let i = 0; i < left.n; i++) if ((matched[i] === 1) === (type === 'semi')) idx.push(i);
    return gather(left, idx);
  }
  charge(ctx, 8 * li.length * (nl + nr)); // the joined rows
  const joined = combine(left, right, li, ri, nl, nr);
  if (type === 'inner' || type === 'cross') return joined;
  const extraL: number[] = [], extraR: number[] = [];
  if (type === 'left' || type === 'full') {
    const matched = new Uint8Array(left.n);
    for (const i of li) matched[i] = 1;
    for (let i = 0; i < left.n; i++) if (!matched[i]) { extraL.push(i); extraR.push(-1); }
  }
  if (type === 'right' || type === 'full') {
    const matched = new Uint8Array(right.n);
    for (const j of ri) matched[j] = 1;
    for (let j = 0; j < right.n; j++) if (!matched[j]) { extraL.push(-1); extraR.push(j); }
  }
  if (extraL.length === 0) return joined;
  return concatRels([joined, combine(left, right, extraL, extraR, nl, nr)], nl + nr);
}

// ---------------------------------------------------------------------------------------------
// Aggregation

async function execAgg(plan: Extract<Plan, { k: 'agg' }>, ctx: ExecCtx): Promise<Rel> {
  // fold the input batch by batch when no aggregate needs all rows at once (exec/stream-agg.ts)
  if (canStreamAgg(plan)) return streamAgg(plan, planBatches(plan.input, ctx), ctx);
  const input = await execPlan(plan.input, ctx);
  const gcols = await Promise.all(plan.groups.map((e) => evalExpr(e, input, ctx)));
  const argCols = await Promise.all(plan.aggs.map((a) => Promise.all(a.args.map((e) => evalExpr(e, input, ctx)))));
  const filterCols = await Promise.all(plan.aggs.map((a) => (a.filter ? evalExpr(a.filter, input, ctx) : Promise.resolve(null))));
  const orderCols = await Promise.all(plan.aggs.map((a) => Promise.all(a.order.map((o) => evalExpr(o.e, input, ctx)))));
  const sets = plan.sets ?? [plan.groups.map((_g, i) => i)];
  const parts: Rel[] = [];
  for (const set of sets) {
    const inSet = new Set(set);
    const active = plan.groups.map((_g, i) => i).filter((i) => inSet.has(i));
    // group assignment
    const gid = new Int32Array(input.n);
    const firstRow: number[] = [];
    let ng = 0;
    if (active.length === 0) {
      ng = 1;
      firstRow.push(0);
    } else {
      const k = chargeGroups(ctx, groupIds(active.map((i) => gcols[i]!), input.n), input.n, 16 * (plan.groups.length + plan.aggs.length));
      gid.set(k.ids);
      ng = k.count;
      for (const f of k.first) firstRow.push(f);
    }
    const outCols: unknown[][] = [];
    for (let gi = 0; gi < plan.groups.length; gi++) {
      const o = new Array<unknown>(ng);
      const src = gcols[gi]!;
      for (let g = 0; g < ng; g++) o[g] = inSet.has(gi) ? src[firstRow[g]!] : null;
      outCols.push(o);
    }
    plan.aggs.forEach((a, ai) => {
      const args = argCols[ai]!;
      const filt = filterCols[ai];
      const fast = fastAggregate(a, args[0], filt, gid, input.n, ng);
      if (fast) { outCols.push(fast); return; }
      if (a.distinct || a.order.length > 0 || a.name === 'string_agg' || a.name.startsWith('percentile')) charge(ctx, input.n * (a.distinct ? HASH_ENTRY_BYTES : 8) + (args[0] ? columnBytes(args[0], input.n) : 0)); // per-row state
      let extra: unknown;
      let rows: number[] | null = null;
      if (a.order.length > 0) {
        rows = Array.from({ length: input.n }, (_x, i) => i);
        const oc = orderCols[ai]!;
        rows.sort((x, y) => cmpRows(oc, a.order, x, y));
      }
      const isPct = a.name === 'percentile_cont' || a.name === 'percentile_disc';
      if (isPct) extra = args[0]![0];
      const acc = makeAccumulator(a.name, isPct ? a.order[0]?.e.t : a.args[0]?.t, a.t, a.star, extra);
      const vcol = isPct ? orderCols[ai]![0]! : args[0];
      const seen = a.distinct ? new Set<string>() : null;
      const n = input.n;
      for (let r = 0; r < n; r++) {
        const i = rows ? rows[r]! : r;
        if (filt && filt[i] !== true) continue;
        const g = gid[i]!;
        if (a.star) { acc.add(g, 1); continue; }
        const v = vcol ? vcol[i] : null;
        if (v === null) continue;
        if (seen) {
          const k = g + '\u0002' + String(keyOf(v));
          if (seen.has(k)) continue;
          seen.add(k);
        }
        acc.add(g, v, a.name === 'string_agg' ? args[1]?.[i] : undefined);
      }
      const o = new Array<unknown>(ng);
      for (let g = 0; g < ng; g++) o[g] = acc.result(g);
      outCols.push(o);
    });
    if (plan.sets !== null) outCols.push(new Array<unknown>(ng).fill(sets.indexOf(set)));
    parts.push({ n: ng, cols: outCols });
  }
  return concatRels(parts, plan.out.length);
}

/**
 * Tight loops for the common aggregates (count, sum, avg, min, max without DISTINCT / ORDER BY)
 * over numeric columns: per-group Float64Array state instead of accumulator objects.
 * Returns undefined when the generic path must run.
 */
function fastAggregate(a: Extract<Plan, { k: 'agg' }>['aggs'][number], vcol: unknown[] | undefined, filt: unknown[] | null,
  gid: Int32Array, n: number, ng: number): unknown[] | undefined {
  if (a.distinct || a.order.length > 0) return undefined;
  const out = new Array<unknown>(ng);
  if (a.name === 'count' && (a.star || vcol)) {
    const cnt = new Float64Array(ng);
    if (a.star) { for (let i = 0; i < n; i++) if (!filt || filt[i] === true) cnt[gid[i]!]!++; }
    else for (let i = 0; i < n; i++) if (vcol![i] !== null && (!filt || filt[i] === true)) cnt[gid[i]!]!++;
    for (let g = 0; g < ng; g++) out[g] = BigInt(cnt[g]!);
    return out;
  }
  const t = a.args[0]?.t.id;
  if (!vcol || !(t === 'INTEGER' || t === 'SMALLINT' || t === 'DOUBLE' || t === 'REAL' || t === 'DATE' && (a.name === 'min' || a.name === 'max'))) return undefined;
  const typed = !Array.isArray(vcol);
  if (a.name === 'sum' || a.name === 'avg') {
    const sum = new Float64Array(ng), cnt = new Float64Array(ng);
    if (typed && !filt) { const v = vcol as unknown as Float64Array; for (let i = 0; i < n; i++) { const g = gid[i]!; sum[g] += v[i]!; cnt[g]!++; } }
    else for (let i = 0; i < n; i++) {
      const v = vcol[i];
      if (v === null || (filt && filt[i] !== true)) continue;
      const g = gid[i]!;
      sum[g] += v as number; cnt[g]!++;
    }
    const isInt = t === 'INTEGER' || t === 'SMALLINT';
    for (let g = 0; g < ng; g++) {
      if (cnt[g] === 0) { out[g] = null; continue; }
      if (isInt && Math.abs(sum[g]!) > Number.MAX_SAFE_INTEGER) return undefined;
      if (a.name === 'sum') out[g] = isInt ? BigInt(sum[g]!) : t === 'REAL' ? Math.fround(sum[g]!) : sum[g]!;
      else out[g] = isInt ? Decimal.fromInt(sum[g]!).div(Decimal.fromInt(cnt[g]!)) : sum[g]! / cnt[g]!;
    }
    return out;
  }
  if (a.name === 'min' || a.name === 'max') {
    const best = new Float64Array(ng), seen = new Uint8Array(ng);
    const isMin = a.name === 'min';
    for (let i = 0; i < n; i++) {
      const v = vcol[i];
      if (v === null || (filt && filt[i] !== true)) continue;
      const x = v as number, g = gid[i]!;
      if (Number.isNaN(x)) return undefined;
      if (!seen[g]) { seen[g] = 1; best[g] = x; } else if (isMin ? x < best[g]! : x > best[g]!) best[g] = x;
    }
    for (let g = 0; g < ng; g++) out[g] = seen[g] ? best[g]! : null;
    return out;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Sort

export { cmpRows };

export async function sortRel(input: Rel, keys: readonly SortKey[], ctx: ExecCtx, limit = Infinity): Promise<Rel> {
  if (input.n <= 1) return input;
  const keyCols: unknown[][] = [];
  for (const k of keys) keyCols.push(await evalExpr(k.e, input, ctx));
  // a permutation in key order (exec/sort.ts: typed comparators, top-N heap under a small LIMIT)
  return gather(input, sortedIndexes(rowComparator(keyCols, keys), input.n, limit));
}

// ---------------------------------------------------------------------------------------------
// Set operations

async function execSetOp(plan: Extract<Plan, { k: 'setop' }>, ctx: ExecCtx): Promise<Rel> {
  const l = await execPlan(plan.left, ctx);
  const r = await execPlan(plan.right, ctx);
  const ncols = plan.out.length;
  const both = concatRels([l, r], ncols);
  if (plan.op === 'union' && plan.all) return both;
  const g = checkGroups(ctx, plan.op.toUpperCase(), groupIds(both.cols, both.n), both.n, relBytes(both));
  if (plan.op === 'union') return g.first.length === both.n ? both : gather(both, g.first);
  const counts = new Map<number, number>();
  for (let i = l.n; i < both.n; i++) { const k = g.ids[i]!; counts.set(k, (counts.get(k) ?? 0) + 1); }
  const idx: number[] = [];
  const emitted = new Set<number>();
  for (let i = 0; i < l.n; i++) {
    const k = g.ids[i]!;
    const c = counts.get(k) ?? 0;
    if (plan.op === 'intersect') {
      if (plan.all) { if (c > 0) { idx.push(i); counts.set(k, c - 1); } }
      else if (c > 0 && !emitted.has(k)) { emitted.add(k); idx.push(i); }
    } else {
      if (plan.all) { if (c > 0) counts.set(k, c - 1); else idx.push(i); }
      else if (c === 0 && !emitted.has(k)) { emitted.add(k); idx.push(i); }
    }
  }
  return gather(l, idx);
}

export type { BExpr };
