/**
 * EXPLAIN line of an index scan (PostgreSQL's shape):
 *   Index Scan [Backward] using <index> on <table>  Index Cond: (a = $1 AND b >= 3)  Filter: ...
 * The filter shown is what the executor re-checks on fetched rows: the conjuncts an exact key
 * condition does not imply, or the whole scan filter.
 */
import type { BExpr } from '../plan/plan.js';
import type { IndexScanPlan } from '../optimizer/index-access.js';

type ExprText = (e: BExpr, cols: readonly { name: string }[]) => string;

export function indexScanLabel(p: IndexScanPlan, exprText: ExprText): string {
  const a = p.access;
  const names = a.keyCols.map((c) => p.table.def.columns[c]?.name ?? `#${c}`);
  const none: { name: string }[] = [];
  const conds: string[] = [];
  a.eq.forEach((alts, k) => {
    conds.push(alts.length === 1 ? `${names[k]} = ${exprText(alts[0]!, none)}` : `${names[k]} = ANY (${alts.map((e) => exprText(e, none)).join(', ')})`);
  });
  const rc = names[a.eq.length];
  if (a.lo) conds.push(`${rc} ${a.lo.inclusive ? '>=' : '>'} ${exprText(a.lo.e, none)}`);
  if (a.hi) conds.push(`${rc} ${a.hi.inclusive ? '<=' : '<'} ${exprText(a.hi.e, none)}`);
  const cond = conds.length > 0 ? `  Index Cond: (${conds.join(' AND ')})` : '';
  // the conjuncts still checked on fetched rows (all of them unless the key condition is exact)
  const shown = a.residual !== undefined ? a.residual : p.filter;
  const filter = shown ? `  Filter: ${exprText(shown, p.out)}` : '';
  return `Index Scan${a.reverse ? ' Backward' : ''} using ${a.index} on ${p.label}${cond}${filter}`;
}
