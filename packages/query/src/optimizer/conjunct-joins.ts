/**
 * The plan walk shared by the subquery-to-join rules (`decorrelate-exists`, `decorrelate-in`):
 * each filter's and each scan filter's top-level conjuncts are offered to the rule, which turns
 * the ones it can into semi / anti joins over the filter's input and returns the others.
 *
 * Invariants:
 *  1. A rewritten node outputs exactly the original node's columns (the joins keep the left
 *     side's columns; the conjuncts not rewritten stay as a filter above them, or in the scan
 *     below them).
 *  2. Only top-level conjuncts are offered (never ones inside OR / NOT / CASE).
 */
import { T } from '@quiverdb/common';
import type { BExpr, Plan } from '../plan/plan.js';
import { andAll, splitAnd } from '../plan/plan.js';

export interface ConjunctJoinRule {
  /** cheap test: could `c` be rewritten (a scan without any such conjunct is left as it is) */
  candidate(c: BExpr): boolean;
  /** joins for the rewritable conjuncts on top of `input`, and the conjuncts kept */
  rewrite(input: Plan, conds: BExpr[]): { plan: Plan; rest: BExpr[] };
}

/** `p` with the rule applied to every filter and scan filter, bottom up. */
export function rewriteConjunctJoins(p: Plan, rule: ConjunctJoinRule): Plan {
  const walk = (q: Plan): Plan => rewriteConjunctJoins(q, rule);
  switch (p.k) {
    case 'filter': {
      const input = walk(p.input);
      const { plan, rest } = rule.rewrite(input, splitAnd(p.pred));
      if (plan === input) return input === p.input ? p : { ...p, input };
      return rest.length ? { k: 'filter', out: p.out, input: plan, pred: andAll(rest, T.boolean)!, est: p.est } : plan;
    }
    case 'scan': {
      if (!p.filter || p.rowIds || p.lock) return p;
      const conds = splitAnd(p.filter);
      if (!conds.some((c) => rule.candidate(c))) return p;
      const base: Plan = { ...p, filter: null };
      const { plan, rest } = rule.rewrite(base, conds);
      if (plan === base) return p;
      // the remaining conjuncts stay in the scan, below the semi joins
      const withRest = (q: Plan): Plan => (q === base ? { ...p, filter: andAll(rest, T.boolean) } : q.k === 'join' ? { ...q, left: withRest(q.left) } : q);
      return withRest(plan);
    }
    case 'project': case 'sort': case 'limit': case 'distinct': case 'window': case 'agg': case 'lockRows':
      return { ...p, input: walk(p.input) } as Plan;
    case 'join': return { ...p, left: walk(p.left), right: walk(p.right) };
    case 'setop': return { ...p, left: walk(p.left), right: walk(p.right) };
    default: return p;
  }
}
