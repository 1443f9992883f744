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
import { compareValues, keyOf, tupleKey, vectorToValues } from '../types/values.js';
import { Decimal } from '../types/decimal.js';
import { evalExpr } from './eval.js';
import type { ExecCtx } from './eval.js';
import type { Rel } from './rel.js';
import { EMPTY_ROW, concatRels, emptyRel, filterRel, gather, gatherColumn, sliceRel } from './rel.js';
import { groupIds, joinKeyIds } from './hash-keys.js';
import { makeAccumulator } from './aggregate.js';
import { runWindow } from './window.js';
import { parseArray } from './pg-functions.js';
import { execIndexScan } from './index-scan.js';

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
      return filterRel(input, await evalExpr(plan.pred, input, ctx));
    }
    case 'project': {
      const input = await execPlan(plan.input, ctx);
      const cols: unknown[][] = [];
      for (const e of plan.exprs) cols.push(await evalExpr(e, input, ctx));
      return { n: input.n, cols };
    }
    case 'join': return execJoin(plan, ctx);
    case 'agg': return execAgg(plan, ctx);
    case 'sort': {
      const input = await execPlan(plan.input, ctx);
      let limit = Infinity;
      if (plan.limit) { const v = (await evalExpr(plan.limit, EMPTY_ROW, ctx))[0]; if (v !== null) limit = Number(v); }
      return sortRel(input, plan.keys, ctx, limit);
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
      const { first } = groupIds(keyCols, input.n);
      return first.length === input.n ? input : gather(input, first);
    }
    case 'setop': return execSetOp(plan, ctx);
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
      return execPlan(plan.body, ctx);
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
      let iter = 0;
      while (work.n > 0) {
        if (++iter > 1_000_000) throw new DbError(SqlState.ProgramLimitExceeded, 'recursive query did not terminate');
        ctx.work.set(plan.id, work);
        // the step must be re-run with fresh subquery caches for the work table
        ctx.subqCache.clear();
        work = dedupe(await execPlan(plan.step, ctx));
        if (work.n > 0) parts.push(work);
      }
      ctx.work.delete(plan.id);
      return concatRels(parts, ncols);
    }
  }
}

async function execScan(plan: Extract<Plan, { k: 'scan' }>, ctx: ExecCtx): Promise<Rel> {
  const parts: Rel[] = [];
  const types = plan.cols.map((c) => plan.table.def.columns[c]!.type);
  const table = ctx.catalog.getTable(plan.name) ?? plan.table;
  const withRowIds = plan.rowIds === true;
  const req = plan.lock ? { columns: plan.cols, predicates: plan.preds, withRowIds, lockMode: plan.lock.mode, lockWait: plan.lock.wait }
    : { columns: plan.cols, predicates: plan.preds, withRowIds };
  let lastYield = performance.now();
  for await (const sb of table.scan(req)) {
    // let other sessions run (a macrotask turn, not just microtasks) during long scans
    if (performance.now() - lastYield > 20) { await new Promise<void>((r) => setImmediate(r)); lastYield = performance.now(); }
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    const b = sb.batch;
    const cols = b.columns.map((v, i) => vectorToValues(v, b.length, types[i]!));
    if (withRowIds) cols.push((sb.rowIds ? sb.rowIds.slice(0, b.length) : new Float64Array(b.length)) as unknown as unknown[]);
    let rel: Rel = { n: b.length, cols };
    if (plan.filter && rel.n > 0) rel = filterRel(rel, await evalExpr(plan.filter, rel, ctx));
    if (rel.n > 0) parts.push(rel);
  }
  const ncols = plan.cols.length + (withRowIds ? 1 : 0);
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

function keysOf(cols: unknown[][], i: number): unknown {
  if (cols.length === 1) { const v = cols[0]![i]; return v === null ? null : keyOf(v); }
  for (const c of cols) if (c[i] === null) return null;
  return tupleKey(cols.map((c) => c[i]));
}

function combine(l: Rel, r: Rel, li: number[], ri: number[], nl: number, nr: number): Rel {
  const m = li.length;
  const cols: unknown[][] = [];
  let lAll = true, rAll = true;
  for (let i = 0; i < m; i++) { if (li[i]! < 0) lAll = false; if (ri[i]! < 0) rAll = false; }
  if (lAll && rAll) {
    for (let c = 0; c < nl; c++) cols.push(gatherColumn(l.cols[c]!, li));
    for (let c = 0; c < nr; c++) cols.push(gatherColumn(r.cols[c]!, ri));
    return { n: m, cols };
  }
  for (let c = 0; c < nl; c++) {
    const src = l.cols[c]!;
    const o = new Array<unknown>(m);
    for (let i = 0; i < m; i++) o[i] = li[i]! < 0 ? null : src[li[i]!];
    cols.push(o);
  }
  for (let c = 0; c < nr; c++) {
    const src = r.cols[c]!;
    const o = new Array<unknown>(m);
    for (let i = 0; i < m; i++) o[i] = ri[i]! < 0 ? null : src[ri[i]!];
    cols.push(o);
  }
  return { n: m, cols };
}

async function execJoin(plan: Extract<Plan, { k: 'join' }>, ctx: ExecCtx): Promise<Rel> {
  const left = await execPlan(plan.left, ctx);
  const type = plan.type;
  if (left.n === 0 && (type === 'inner' || type === 'cross' || type === 'left' || type === 'semi' || type === 'anti')) {
    return emptyRel(plan.out.length);
  }
  const right = await execPlan(plan.right, ctx);
  const nl = plan.left.out.length, nr = plan.right.out.length;
  let li: number[] = [], ri: number[] = [];
  if (plan.lkeys.length > 0) {
    const lk = await Promise.all(plan.lkeys.map((e) => evalExpr(e, left, ctx)));
    const rk = await Promise.all(plan.rkeys.map((e) => evalExpr(e, right, ctx)));
    // build on the right side, probe with the left
    let lkc = lk, rkc = rk;
    if (lk.length > 1) {
      const ids = joinKeyIds(lk, left.n, rk, right.n);
      lkc = [Array.from(ids.l, (x) => (x < 0 ? null : x))];
      rkc = [Array.from(ids.r, (x) => (x < 0 ? null : x))];
    }
    const table = new Map<unknown, number | number[]>();
    for (let j = 0; j < right.n; j++) {
      const k = keysOf(rkc, j);
      if (k === null) continue;
      const cur = table.get(k);
      if (cur === undefined) table.set(k, j);
      else if (typeof cur === 'number') table.set(k, [cur, j]);
      else cur.push(j);
    }
    for (let i = 0; i < left.n; i++) {
      const k = keysOf(lkc, i);
      if (k === null) continue;
      const m = table.get(k);
      if (m === undefined) continue;
      if (typeof m === 'number') { li.push(i); ri.push(m); } else for (const j of m) { li.push(i); ri.push(j); }
    }
  } else {
    for (let i = 0; i < left.n; i++) for (let j = 0; j < right.n; j++) { li.push(i); ri.push(j); }
  }
  let joined = combine(left, right, li, ri, nl, nr);
  if (plan.cond && joined.n > 0) {
    const mask = await evalExpr(plan.cond, joined, ctx);
    const keep: number[] = [];
    for (let i = 0; i < joined.n; i++) if (mask[i] === true) keep.push(i);
    if (keep.length !== joined.n) {
      li = keep.map((i) => li[i]!); ri = keep.map((i) => ri[i]!);
      joined = gather(joined, keep);
    }
  }
  if (type === 'inner' || type === 'cross') return joined;
  if (type === 'semi' || type === 'anti') {
    const matched = new Uint8Array(left.n);
    for (const i of li) matched[i] = 1;
    const idx: number[] = [];
    for (let i = 0; i < left.n; i++) if ((matched[i] === 1) === (type === 'semi')) idx.push(i);
    return gather(left, idx);
  }
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
      const k = groupIds(active.map((i) => gcols[i]!), input.n);
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

export function cmpRows(keyCols: unknown[][], keys: readonly SortKey[], x: number, y: number): number {
  for (let k = 0; k < keys.length; k++) {
    const c = keyCols[k]!;
    const a = c[x], b = c[y];
    if (a === b) continue;
    const key = keys[k]!;
    if (a === null) return key.nullsFirst ? -1 : 1;
    if (b === null) return key.nullsFirst ? 1 : -1;
    let r: number;
    if (typeof a === 'number' && typeof b === 'number') r = a < b ? -1 : a > b ? 1 : 0;
    else if (typeof a === 'string' && typeof b === 'string') r = a < b ? -1 : a > b ? 1 : 0;
    else r = compareValues(a, b);
    if (r !== 0) return key.desc ? -r : r;
  }
  return 0;
}

export async function sortRel(input: Rel, keys: readonly SortKey[], ctx: ExecCtx, limit = Infinity): Promise<Rel> {
  if (input.n <= 1) return input;
  const keyCols: unknown[][] = [];
  for (const k of keys) keyCols.push(await evalExpr(k.e, input, ctx));
  const idx = Array.from({ length: input.n }, (_x, i) => i);
  idx.sort((x, y) => cmpRows(keyCols, keys, x, y) || x - y);
  return gather(input, limit < idx.length ? idx.slice(0, limit) : idx);
}

// ---------------------------------------------------------------------------------------------
// Set operations

async function execSetOp(plan: Extract<Plan, { k: 'setop' }>, ctx: ExecCtx): Promise<Rel> {
  const l = await execPlan(plan.left, ctx);
  const r = await execPlan(plan.right, ctx);
  const ncols = plan.out.length;
  const both = concatRels([l, r], ncols);
  if (plan.op === 'union' && plan.all) return both;
  const g = groupIds(both.cols, both.n);
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
