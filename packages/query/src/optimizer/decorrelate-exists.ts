/**
 * Rule `decorrelate-exists`: a conjunct `[NOT] EXISTS (SELECT ... FROM t WHERE t.x = outer.y AND p)`
 * becomes a hash semi (anti) join, instead of running the subquery once per distinct outer key.
 *
 *   Filter(EXISTS(Scan t Filter: t.x = $corr AND p))        Hash Semi Join  Hash Cond: y = t.x
 *     Scan o                                          =>      Scan o
 *                                                             Scan t  Filter: p
 *
 * Applies when the subquery is a scan (or a filter over a scan) under an optional projection, at
 * least one correlated conjunct is `inner column = correlation parameter` (the hash keys), and no
 * other part of the subquery refers to the outer query; other correlated conjuncts (such as
 * `t.s <> outer.s`) become the join's residual condition over outer ++ inner columns.
 *
 * Correctness: EXISTS(σ_{x = y ∧ p}(T)) for an outer row with key y is true iff some row of
 * σ_p(T) has x = y — the definition of a semi join on x = y; NOT EXISTS is the anti join. A NULL
 * key matches nothing in either form (EXISTS false, NOT EXISTS true), as in the join. A residual
 * conjunct r: EXISTS(σ_{x = y ∧ p ∧ r}(T)) holds iff some row of σ_p(T) has x = y and r TRUE —
 * a semi join pair passing the join condition (NULL and FALSE both reject, in both forms).
 *
 * Invariants:
 *  1. The rewritten node outputs exactly the original node's columns.
 */
import { T } from '@quiverdb/common';
import type { BExpr, Plan } from '../plan/plan.js';
import { rewriteConjunctJoins, type ConjunctJoinRule } from './conjunct-joins.js';
import { andAll, exprHas, mapExpr, splitAnd } from '../plan/plan.js';

const hasCorr = (e: BExpr): boolean => exprHas(e, (x) => x.k === 'corr');

interface Extracted { right: Plan; lkeys: BExpr[]; rkeys: BExpr[]; cond: (nl: number) => BExpr | null }

function extract(e: Extract<BExpr, { k: 'subq' }>): Extracted | undefined {
  if (e.mode !== 'exists' || e.params.length === 0) return undefined;
  let inner = e.plan;
  if (inner.k === 'project') {
    if (inner.exprs.some(hasCorr)) return undefined;
    inner = inner.input;
  }
  let conj: BExpr[];
  let rebuild: (rest: BExpr[]) => Plan;
  if (inner.k === 'scan') {
    const s = inner;
    if (s.lock || s.rowIds) return undefined;
    conj = splitAnd(s.filter);
    rebuild = (rest) => ({ ...s, filter: andAll(rest, T.boolean) });
  } else if (inner.k === 'filter' && inner.input.k === 'scan') {
    const f = inner;
    if (f.input.k === 'scan' && (f.input.lock || f.input.rowIds || (f.input.filter && hasCorr(f.input.filter)))) return undefined;
    conj = splitAnd(f.pred);
    rebuild = (rest) => (rest.length ? { ...f, pred: andAll(rest, T.boolean)! } : f.input);
  } else return undefined;
  const params = new Map(e.params.map((p) => [p.id, p.e]));
  const lkeys: BExpr[] = [], rkeys: BExpr[] = [], rest: BExpr[] = [], resid: BExpr[] = [];
  const usedIds = new Set<number>();
  for (const c of conj) {
    if (!hasCorr(c)) { rest.push(c); continue; }
    const key = corrKey(c, params);
    if (key) {
      usedIds.add(key.id);
      lkeys.push(key.outer);
      rkeys.push(key.col);
      continue;
    }
    // any other correlated conjunct becomes the join's residual condition
    if (exprHas(c, (x) => x.k === 'subq')) return undefined;
    let ok = true;
    exprHas(c, (x) => { if (x.k === 'corr') { if (params.has(x.id)) usedIds.add(x.id); else ok = false; } return false; });
    if (!ok) return undefined;
    resid.push(c);
  }
  if (lkeys.length === 0) return undefined;
  // every parameter must have been consumed by a key or a residual (no other outer reference remains)
  if (e.params.some((p) => !usedIds.has(p.id))) return undefined;
  const cond = (nl: number): BExpr | null => {
    // over left ++ right: inner columns shift past the left side, parameters become the outer expressions
    const lift = (x: BExpr): BExpr => (x.k === 'col' ? { ...x, i: x.i + nl } : x.k === 'corr' ? params.get(x.id)! : mapExpr(x, lift));
    return andAll(resid.map(lift), T.boolean);
  };
  return { right: rebuild(rest), lkeys, rkeys, cond };
}

/** `inner column = correlation parameter` (either order, same type): a hash key. */
function corrKey(c: BExpr, params: ReadonlyMap<number, BExpr>): { id: number; outer: BExpr; col: BExpr } | undefined {
  if (c.k !== 'op' || c.op !== '=') return undefined;
  const [a, b] = c.args as [BExpr, BExpr];
  const col = a.k === 'col' ? a : b.k === 'col' ? b : undefined;
  const corr = a.k === 'corr' ? a : b.k === 'corr' ? b : undefined;
  if (!col || !corr || corr.k !== 'corr' || col.t.id !== corr.t.id) return undefined;
  const outer = params.get(corr.id);
  return outer ? { id: corr.id, outer, col } : undefined;
}

function rewriteConds(input: Plan, conds: BExpr[]): { plan: Plan; rest: BExpr[] } {
  let plan = input;
  const rest: BExpr[] = [];
  for (const c of conds) {
    const neg = c.k === 'op' && c.op === 'not' && c.args[0]!.k === 'subq';
    const sq = neg ? (c as { args: readonly BExpr[] }).args[0]! : c;
    const x = sq.k === 'subq' ? extract(sq) : undefined;
    if (!x) { rest.push(c); continue; }
    plan = { k: 'join', out: plan.out, type: neg ? 'anti' : 'semi', left: plan, right: x.right, lkeys: x.lkeys, rkeys: x.rkeys, cond: x.cond(plan.out.length),
      est: Math.max(1, plan.est * (neg ? 0.5 : 0.5)) };
  }
  return { plan, rest };
}

const RULE: ConjunctJoinRule = { candidate: (c) => c.k === 'subq' || (c.k === 'op' && c.op === 'not' && c.args[0]!.k === 'subq'), rewrite: rewriteConds };

export function decorrelateExists(p: Plan): Plan {
  return rewriteConjunctJoins(p, RULE);
}
