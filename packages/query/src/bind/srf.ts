/**
 * Set-returning functions (generate_series, unnest, regexp_matches, regexp_split_to_table,
 * string_to_table) in a select list, with PostgreSQL 10+ semantics: the SRFs of one level run in
 * lockstep, an input row gives as many rows as its longest SRF (shorter ones pad with NULL), and
 * none when every SRF is empty; an SRF nested in another's arguments runs first (its own level).
 *
 * The binder marks each call as `__srf(kind, args...)` (`bindSrf`); `expandSrfs` then turns the
 * SRFs of a select list into a LATERAL apply over the query's rows, whose right side numbers
 * rows 1..greatest(__srf_len(...)) and projects `__srf_at(n, kind, args...)` per SRF
 * (exec/functions-more.ts), with the SRF arguments' column references as correlation slots.
 * `srfFromPlan` builds the same right side for a function in FROM (optionally WITH ORDINALITY).
 *
 * Invariants:
 *  1. After `expandSrfs`, no `__srf` node is left in the returned expressions.
 *  2. The apply's right plan references the left row only through its correlation params
 *     (one per distinct SRF argument that reads the row).
 *
 * Concurrency: binder-time only; the only state touched is the statement's BindCtx id counter.
 */
import { DbError, SqlState, T, isIntegerType, typeName } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import type { BExpr, Plan } from '../plan/plan.js';
import { exprHas, mapExpr } from '../plan/plan.js';
import { exprKey } from './expr-key.js';
import type { BindCtx } from './scope.js';
import { commonTypeOf, isUnknown } from './types.js';

export const SRF_NAMES: ReadonlySet<string> = new Set(['generate_series', 'unnest', 'regexp_matches', 'regexp_split_to_table', 'string_to_table']);

type Coerce = (e: BExpr, t: SqlType) => BExpr;

const kindConst = (kind: string): BExpr => ({ k: 'const', t: T.text, v: kind });
const isSrf = (e: BExpr): boolean => e.k === 'fn' && e.name === '__srf';

function noFn(name: string, args: readonly BExpr[]): DbError {
  return new DbError(SqlState.UndefinedFunction, `function ${name}(${args.map((a) => typeName(a.t).toLowerCase()).join(', ')}) does not exist`);
}

/** Typed arguments and result type of an SRF call. */
export function typeSrf(name: string, args0: readonly BExpr[], co: Coerce): { t: SqlType; args: BExpr[] } {
  const n = args0.length;
  switch (name) {
    case 'generate_series': {
      if (n < 2 || n > 3) throw noFn(name, args0);
      const temporal = args0.some((a) => a.t.id === 'TIMESTAMP' || a.t.id === 'DATE' || (a.t.id === 'INTERVAL' && !isUnknown(a)));
      if (temporal) {
        if (n !== 3) throw noFn(name, args0);
        return { t: T.timestamp, args: [co(args0[0]!, T.timestamp), co(args0[1]!, T.timestamp), co(args0[2]!, T.interval)] };
      }
      let t = commonTypeOf(args0, 'generate_series');
      if (args0.every(isUnknown)) t = T.integer;
      if (t.id === 'SMALLINT') t = T.integer;
      if (!isIntegerType(t) && t.id !== 'NUMERIC') throw noFn(name, args0);
      return { t: t.id === 'NUMERIC' ? T.numeric : t, args: args0.map((a) => co(a, t.id === 'NUMERIC' ? T.numeric : t)) };
    }
    case 'unnest':
      if (n !== 1) throw noFn(name, args0);
      return { t: T.text, args: [co(args0[0]!, T.text)] };
    case 'regexp_matches': case 'regexp_split_to_table':
      if (n < 2 || n > 3) throw noFn(name, args0);
      return { t: T.text, args: args0.map((a) => co(a, T.text)) };
    case 'string_to_table':
      if (n < 2 || n > 3) throw noFn(name, args0);
      return { t: T.text, args: args0.map((a) => co(a, T.text)) };
  }
  throw noFn(name, args0);
}

/** A set-returning function call in an expression: a `__srf` marker resolved by `expandSrfs`. */
export function bindSrf(name: string, args0: readonly BExpr[], co: Coerce, what: string): BExpr {
  if (what !== 'SELECT') throw new DbError(SqlState.FeatureNotSupported, `set-returning functions are not allowed in ${what}`);
  const { t, args } = typeSrf(name, args0, co);
  return { k: 'fn', t, name: '__srf', args: [kindConst(name), ...args] };
}

/**
 * The rows of SRF calls run in lockstep: 1..greatest(len) numbered, then one column per call.
 * `calls` are `[kind const, ...args]` argument lists whose column references are already
 * correlation slots (or constants).
 */
export function srfFromPlan(calls: readonly { readonly args: readonly BExpr[]; readonly t: SqlType; readonly name: string }[], ordinality = false): Plan {
  const lens: BExpr[] = calls.map((c) => ({ k: 'fn', t: T.integer, name: '__srf_len', args: c.args }));
  const len: BExpr = lens.length === 1 ? lens[0]! : { k: 'fn', t: T.integer, name: 'greatest', args: lens };
  const n: BExpr = { k: 'col', t: T.integer, i: 0 };
  const values: Plan = { k: 'values', out: [{ name: 'n', t: T.integer }],
    rows: [[{ k: 'fn', t: T.integer, name: '__series', args: [{ k: 'const', t: T.integer, v: 1 }, len] }]], est: 10 };
  const ord: BExpr[] = ordinality ? [{ k: 'cast', t: T.bigint, arg: n }] : [];
  return { k: 'project', out: [...calls.map((c) => ({ name: c.name, t: c.t })), ...(ordinality ? [{ name: 'ordinality', t: T.bigint }] : [])], input: values,
    exprs: [...calls.map((c): BExpr => ({ k: 'fn', t: c.t, name: '__srf_at', args: [n, ...c.args] })), ...ord], est: 10 };
}

/** PostgreSQL: an SRF may not sit where only some rows would evaluate it (CASE, COALESCE). */
function checkPlacement(e: BExpr, inside: string | null): void {
  if (isSrf(e) && inside !== null) throw new DbError(SqlState.FeatureNotSupported, `set-returning functions are not allowed in ${inside}`);
  const here = e.k === 'case' ? 'CASE' : e.k === 'coalesce' ? 'COALESCE' : inside;
  mapExpr(e, (x) => { checkPlacement(x, here); return x; });
}

/**
 * SRF arguments that read the left row (column references) become correlation slots of the
 * right side: whole arguments, so the apply's per-value cache serves rows with equal arguments.
 */
export function correlateArgs(lists: readonly (readonly BExpr[])[], bctx: BindCtx): { lists: BExpr[][]; params: { id: number; e: BExpr }[] } {
  const slots = new Map<string, number>();
  const params: { id: number; e: BExpr }[] = [];
  const toCorr = (e: BExpr): BExpr => {
    if (!exprHas(e, (y) => y.k === 'col')) return e;
    const k = exprKey(e);
    let id = slots.get(k);
    if (id === undefined) { id = bctx.nextId++; slots.set(k, id); params.push({ id, e }); }
    return { k: 'corr', t: e.t, id };
  };
  return { lists: lists.map((l) => l.map(toCorr)), params };
}

function collectInnermost(e: BExpr, acc: Map<string, Extract<BExpr, { k: 'fn' }>>): void {
  if (e.k === 'fn' && e.name === '__srf' && !e.args.some((a) => exprHas(a, isSrf))) { acc.set(exprKey(e), e); return; }
  mapExpr(e, (x) => { collectInnermost(x, acc); return x; });
}

/**
 * Replace the SRFs of `exprs` / `order` (expressions over `plan`'s output) by columns of LATERAL
 * applies added on top of `plan`, one per nesting level.
 */
export function expandSrfs(plan: Plan, exprs: BExpr[], order: (BExpr | null)[], bctx: BindCtx): { plan: Plan; exprs: BExpr[]; order: (BExpr | null)[] } {
  if (!exprs.some((e) => exprHas(e, isSrf)) && !order.some((e) => e !== null && exprHas(e, isSrf))) return { plan, exprs, order };
  for (const e of [...exprs, ...order]) if (e) checkPlacement(e, null);
  for (;;) {
    const found = new Map<string, Extract<BExpr, { k: 'fn' }>>();
    for (const e of exprs) collectInnermost(e, found);
    for (const e of order) if (e) collectInnermost(e, found);
    if (found.size === 0) return { plan, exprs, order };
    const keys = [...found.keys()];
    const { lists, params } = correlateArgs([...found.values()].map((f) => f.args), bctx);
    const calls = [...found.values()].map((f, i) => ({ args: lists[i]!, t: f.t, name: String((f.args[0] as { v: unknown }).v) }));
    const right = srfFromPlan(calls);
    const base = plan.out.length;
    plan = { k: 'apply', out: [...plan.out, ...right.out], left: plan, right, params, outer: false, est: plan.est * 10 };
    const replace = (e: BExpr): BExpr => {
      if (isSrf(e)) {
        const i = keys.indexOf(exprKey(e));
        if (i >= 0) return { k: 'col', t: e.t, i: base + i };
      }
      return mapExpr(e, replace);
    };
    exprs = exprs.map(replace);
    order = order.map((e) => (e ? replace(e) : null));
  }
}
