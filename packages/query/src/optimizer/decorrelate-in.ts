/**
 * Rule `decorrelate-in`: a WHERE conjunct `x IN (SELECT c FROM ...)` (also `x = ANY (...)`) whose
 * subquery does not refer to the outer query becomes a hash semi join on x = c, instead of a
 * filter that looks every outer row up in the subquery's result one at a time.
 *
 *   Filter(o.k IN SubPlan(Agg ...))          Hash Semi Join  Hash Cond: k = l_orderkey
 *     Scan o                          =>       Scan o
 *                                              Agg ...
 *
 * Correctness: a row passes a WHERE conjunct only when it is TRUE. `x IN S` is TRUE iff x is not
 * NULL and some non-NULL s in S equals x (it is NULL or FALSE otherwise) — exactly when the row
 * has a partner in the semi join on x = s, where NULL keys never match. Both sides have the same
 * type (the binder coerces them to a common type). NOT IN is not rewritten: with a NULL in S it
 * is never TRUE, which an anti join does not express.
 *
 * Invariants:
 *  1. The rewritten node outputs exactly the original node's columns.
 *  2. Only top-level conjuncts of a filter or a scan's filter are rewritten (never inside OR / NOT
 *     / CASE, where NULL and FALSE differ).
 */
import type { BExpr, Plan } from '../plan/plan.js';
import { rewriteConjunctJoins, type ConjunctJoinRule } from './conjunct-joins.js';
import { exprHas } from '../plan/plan.js';

type Subq = Extract<BExpr, { k: 'subq' }>;

function candidate(c: BExpr): Subq | undefined {
  if (c.k !== 'subq' || c.mode !== 'any' || c.op !== '=' || c.params.length > 0 || !c.arg) return undefined;
  if (c.plan.out.length !== 1 || c.plan.out[0]!.t.id !== c.arg.t.id) return undefined;
  // the outer key must be plain row data (no nested subquery, no correlation)
  if (exprHas(c.arg, (x) => x.k === 'subq' || x.k === 'corr')) return undefined;
  return c;
}

function rewriteConds(input: Plan, conds: BExpr[]): { plan: Plan; rest: BExpr[] } {
  let plan = input;
  const rest: BExpr[] = [];
  for (const c of conds) {
    const sq = candidate(c);
    if (!sq) { rest.push(c); continue; }
    const right = decorrelateIn(sq.plan);
    plan = { k: 'join', out: plan.out, type: 'semi', left: plan, right, lkeys: [sq.arg!], rkeys: [{ k: 'col', t: right.out[0]!.t, i: 0 }],
      cond: null, est: Math.max(1, Math.min(plan.est, plan.est * Math.min(1, right.est / Math.max(1, plan.est)))) };
  }
  return { plan, rest };
}

const RULE: ConjunctJoinRule = { candidate: (c) => candidate(c) !== undefined, rewrite: rewriteConds };

export function decorrelateIn(p: Plan): Plan {
  return rewriteConjunctJoins(p, RULE);
}
