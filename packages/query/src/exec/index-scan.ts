/**
 * The index scan operator (plans from optimizer/index-access.ts): evaluate the key values, cast
 * them to the key column types, look the key ranges up (`TableSource.indexLookup`), fetch the
 * rows in chunks (`TableSource.fetch`), and re-apply the scan's whole filter.
 *
 * Key values: an equality alternative that is NULL or whose cast to the column type is lossy
 * matches no row (dropped); a NULL range bound matches no row; a lossy range bound is dropped
 * (open bound: still a superset). Equality alternatives are deduplicated after the cast, so IN
 * lists never return a row twice (distinct keys select disjoint rows).
 *
 * ORDER BY ... LIMIT n: the lookup asks for n ids, and if fewer than n rows pass the filter,
 * asks again for twice as many, continuing after the ids already processed.
 *
 * Invariants:
 *  1. Rows come out in index order (reversed when `access.reverse`), lookups in key order of
 *     their alternatives; every row passes the scan's filter (checked whole, or only its
 *     conjuncts not implied by an exact key condition: `access.residual`).
 *  2. The result has `plan.cols.length` columns, plus the row ids when `plan.rowIds`.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import type { TableSource } from '../catalog/catalog.js';
import type { BExpr } from '../plan/plan.js';
import type { IndexScanPlan } from '../optimizer/index-access.js';
import { castValue, compareValues, fromJsValue, keyOf, vectorToValues } from '../types/values.js';
import { Decimal } from '../types/decimal.js';
import { evalExpr } from './eval.js';
import type { ExecCtx } from './eval.js';
import type { Rel } from './rel.js';
import { EMPTY_ROW, concatRels, emptyRel, filterRel } from './rel.js';

const FETCH_CHUNK = 2048;

/** The key value of `v` (type `from`) for a column of type `to`, or undefined if lossy / NULL. */
export function keyValue(v: unknown, from: SqlType, to: SqlType): unknown {
  if (v === null || v === undefined) return undefined;
  let c: unknown;
  try {
    c = from.id === to.id ? v : castValue(v, from, to);
  } catch {
    return undefined; // out of range for the column type: no stored value equals it
  }
  if (c === null) return undefined;
  if (from.id !== to.id) {
    let back: unknown;
    try { back = castValue(c, to, from); } catch { return undefined; }
    if (compareValues(back, v) !== 0) return undefined;
  }
  // vector representation
  if (to.id === 'NUMERIC') return c instanceof Decimal ? c.toString() : String(c);
  if (to.id === 'BIGINT') return typeof c === 'bigint' ? c : BigInt(c as number);
  return c;
}

async function evalOne(e: BExpr, ctx: ExecCtx): Promise<unknown> {
  return (await evalExpr(e, EMPTY_ROW, ctx))[0];
}

/**
 * The value of a key expression: parameters and constants (the usual keys) directly, as
 * `evalExpr` gives them, anything else through the evaluator (a promise).
 */
function keyExprValue(e: BExpr, ctx: ExecCtx): unknown {
  if (e.k === 'const') return e.v;
  if (e.k === 'param') {
    if (e.n > ctx.params.length) throw new DbError(SqlState.UndefinedParameter, `there is no parameter $${e.n}`);
    return fromJsValue(ctx.params[e.n - 1], e.t);
  }
  return evalOne(e, ctx);
}

/** Every key expression of the scan (equality alternatives, then the range bounds), in that order. */
function keyExprs(a: IndexScanPlan['access']): BExpr[] {
  const out: BExpr[] = [];
  for (const alts of a.eq) for (const e of alts) out.push(e);
  if (a.lo) out.push(a.lo.e);
  if (a.hi) out.push(a.hi.e);
  return out;
}

interface Range { low: unknown[] | undefined; high: unknown[] | undefined; lowInclusive: boolean; highInclusive: boolean }

/**
 * The key ranges to look up, in order ([] = no row can match), and whether they are exactly the
 * key condition (false when a lossy range bound was dropped).
 */
type KeyRanges = { ranges: Range[]; exact: boolean };

/** `keyRanges` of the scan: synchronous when every key expression is a parameter or a constant. */
function keyRangesOf(plan: IndexScanPlan, ctx: ExecCtx): KeyRanges | Promise<KeyRanges> {
  const exprs = keyExprs(plan.access);
  const values = exprs.map((e) => keyExprValue(e, ctx));
  if (!values.some((v) => v instanceof Promise)) return keyRanges(plan, values);
  return Promise.all(values).then((vs) => keyRanges(plan, vs));
}

/** `values`: the values of `keyExprs(plan.access)`, in that order. */
function keyRanges(plan: IndexScanPlan, values: readonly unknown[]): KeyRanges {
  const none = { ranges: [], exact: true };
  let exact = true;
  const a = plan.access;
  let at = 0;
  // equality prefixes (cross product of the alternatives, deduplicated per column)
  let prefixes: unknown[][] = [[]];
  for (let k = 0; k < a.eq.length; k++) {
    const alts: unknown[] = [];
    const exprs = a.eq[k]!;
    const seen = exprs.length > 1 ? new Set<unknown>() : undefined;
    for (const e of exprs) {
      const v = keyValue(values[at++], e.t, a.keyTypes[k]!);
      if (v === undefined) continue;
      if (seen) {
        const key = keyOf(v);
        if (seen.has(key)) continue;
        seen.add(key);
      }
      alts.push(v);
    }
    if (alts.length === 0) return none;
    if (alts.length === 1 && prefixes.length === 1) { prefixes[0]!.push(alts[0]); continue; }
    const next: unknown[][] = [];
    for (const p of prefixes) for (const v of alts) next.push([...p, v]);
    prefixes = next;
  }
  let lo: { v: unknown; inclusive: boolean } | undefined, hi: { v: unknown; inclusive: boolean } | undefined;
  const rt = a.keyTypes[a.eq.length];
  for (const [b, side] of [[a.lo, 'lo'], [a.hi, 'hi']] as const) {
    if (!b) continue;
    const raw = values[at++];
    if (!rt) continue;
    if (raw === null || raw === undefined) return none; // col > NULL is never true
    const v = keyValue(raw, b.e.t, rt);
    if (v === undefined) { exact = false; continue; } // lossy: open bound (the filter decides)
    if (side === 'lo') lo = { v, inclusive: b.inclusive }; else hi = { v, inclusive: b.inclusive };
  }
  const descRange = a.desc[a.eq.length] ?? false;
  // in key order a DESC column's value range is reversed
  const kLo = descRange ? hi : lo, kHi = descRange ? lo : hi;
  const ranges = prefixes.map((p) => ({
    low: kLo ? [...p, kLo.v] : p.length > 0 ? p : undefined,
    high: kHi ? [...p, kHi.v] : p.length > 0 ? p : undefined,
    lowInclusive: kLo ? kLo.inclusive : true,
    highInclusive: kHi ? kHi.inclusive : true,
  }));
  return { ranges, exact };
}

async function fetchFiltered(plan: IndexScanPlan, filter: BExpr | null, table: TableSource, ids: Float64Array, types: readonly SqlType[], ctx: ExecCtx, parts: Rel[]): Promise<number> {
  let kept = 0;
  for (let at = 0; at < ids.length; at += FETCH_CHUNK) {
    const chunk = ids.length <= FETCH_CHUNK ? ids : ids.subarray(at, Math.min(ids.length, at + FETCH_CHUNK));
    const b = await table.fetch!(chunk, plan.cols);
    const cols = b.columns.map((v, i) => vectorToValues(v, b.length, types[i]!));
    if (plan.rowIds === true) cols.push(Array.from(chunk));
    let rel: Rel = { n: b.length, cols };
    if (filter && rel.n > 0) rel = filterRel(rel, await evalExpr(filter, rel, ctx));
    if (rel.n > 0) { parts.push(rel); kept += rel.n; }
  }
  return kept;
}

export async function execIndexScan(plan: IndexScanPlan, ctx: ExecCtx): Promise<Rel> {
  const ncols = plan.cols.length + (plan.rowIds === true ? 1 : 0);
  const table = ctx.catalog.getTable(plan.name) ?? plan.table;
  if (!table.indexLookup || !table.fetch) throw new DbError(SqlState.InternalError, 'internal error (this is a bug): index scan on a table without index access');
  const types = plan.cols.map((c) => table.def.columns[c]!.type);
  const a = plan.access;
  let kr = keyRangesOf(plan, ctx);
  if (kr instanceof Promise) kr = await kr;
  const { ranges, exact } = kr;
  // rows of an exact key condition satisfy the conjuncts it implies: check only the others
  const filter = exact && a.residual !== undefined ? a.residual : plan.filter;
  const parts: Rel[] = [];
  let limit = Infinity;
  if (a.limit) {
    const v = await evalOne(a.limit, ctx);
    if (v !== null && v !== undefined) limit = Math.max(0, Number(v));
  }
  if (limit === 0) return emptyRel(ncols);
  for (const r of ranges) {
    const opts = { lowInclusive: r.lowInclusive, highInclusive: r.highInclusive, reverse: a.reverse };
    if (limit === Infinity) {
      await fetchFiltered(plan, filter, table, await table.indexLookup(a.index, r.low, r.high, opts), types, ctx, parts);
      continue;
    }
    // ORDER BY ... LIMIT: grow the lookup until enough rows pass the filter
    let done = 0, kept = 0, ask = Math.max(limit, 16);
    for (;;) {
      const ids = await table.indexLookup(a.index, r.low, r.high, { ...opts, limit: ask });
      kept += await fetchFiltered(plan, filter, table, ids.subarray(done), types, ctx, parts);
      done = ids.length;
      if (kept >= limit || ids.length < ask) break;
      ask *= 4;
    }
  }
  if (parts.length === 0) return emptyRel(ncols);
  return parts.length === 1 ? parts[0]! : concatRels(parts, ncols);
}
