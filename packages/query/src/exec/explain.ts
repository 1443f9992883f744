/**
 * EXPLAIN output: one line per operator, indented like PostgreSQL's, with the estimated cost
 * (rows produced by the subtree) and row count, and with actual rows / loops / time when
 * EXPLAIN ANALYZE collected them.
 */
import type { BExpr, Plan } from '../plan/plan.js';
import type { OpStats } from './eval.js';
import { indexScanLabel } from './index-scan-explain.js';
import { lockRowsLabel } from './lock-rows.js';

function exprText(e: BExpr, cols: readonly { name: string }[]): string {
  switch (e.k) {
    case 'const': return e.v === null ? 'NULL' : typeof e.v === 'string' ? `'${e.v}'` : String(e.v);
    case 'col': return cols[e.i]?.name ?? `#${e.i}`;
    case 'corr': return `$corr${e.id}`;
    case 'param': return `$${e.n}`;
    case 'op':
      if (e.args.length === 1) return `${e.op} ${exprText(e.args[0]!, cols)}`;
      return `(${e.args.map((a) => exprText(a, cols)).join(` ${e.op.toUpperCase()} `)})`;
    case 'fn': return `${e.name}(${e.args.map((a) => exprText(a, cols)).join(', ')})`;
    case 'cast': return `${exprText(e.arg, cols)}::${e.t.id.toLowerCase()}`;
    case 'isnull': return `${exprText(e.arg, cols)} IS ${e.neg ? 'NOT ' : ''}NULL`;
    case 'in': return `${exprText(e.arg, cols)} ${e.neg ? 'NOT ' : ''}IN (${e.list.map((a) => exprText(a, cols)).join(', ')})`;
    case 'subq': return `SubPlan ${e.uid}`;
    case 'case': return 'CASE ...';
    case 'coalesce': return `COALESCE(${e.args.map((a) => exprText(a, cols)).join(', ')})`;
    default: return e.k;
  }
}

function label(p: Plan): string {
  switch (p.k) {
    case 'scan': return `Seq Scan on ${p.label}${p.filter ? `  Filter: ${exprText(p.filter, p.table.def.columns.map((c, i) => ({ name: p.out[i]?.name ?? c.name })))}` : ''}`;
    case 'indexScan': return indexScanLabel(p, exprText);
    case 'values': return `Values Scan (${p.rows.length} rows)`;
    case 'filter': return `Filter: ${exprText(p.pred, p.input.out)}`;
    case 'project': return `Project (${p.out.map((c) => c.name).join(', ')})`;
    case 'join': {
      const kind = p.type === 'cross' ? 'Nested Loop' : p.lkeys.length > 0 ? `Hash ${p.type === 'inner' ? '' : p.type[0]!.toUpperCase() + p.type.slice(1) + ' '}Join` : `Nested Loop ${p.type === 'inner' ? '' : p.type[0]!.toUpperCase() + p.type.slice(1) + ' '}Join`;
      const keys = p.lkeys.map((k, i) => `${exprText(k, p.left.out)} = ${exprText(p.rkeys[i]!, p.right.out)}`).join(' AND ');
      return `${kind.replace(/\s+/g, ' ').trim()}${keys ? `  Hash Cond: ${keys}` : ''}${p.cond ? `  Join Filter: ${exprText(p.cond, [...p.left.out, ...p.right.out])}` : ''}`;
    }
    case 'agg': return p.groups.length > 0 ? `HashAggregate (${p.groups.length} keys, ${p.aggs.length} aggregates${p.sets ? `, ${p.sets.length} grouping sets` : ''})` : `Aggregate (${p.aggs.length} aggregates)`;
    case 'sort': return `${p.limit ? 'Top-N Sort' : 'Sort'} (${p.keys.map((k) => exprText(k.e, p.input.out) + (k.desc ? ' DESC' : '')).join(', ')})`;
    case 'limit': return 'Limit';
    case 'distinct': return p.on ? 'Unique (DISTINCT ON)' : 'HashAggregate (DISTINCT)';
    case 'setop': return `${p.op === 'union' ? 'Append' : 'HashSetOp'} ${p.op.toUpperCase()}${p.all ? ' ALL' : ''}`;
    case 'window': return `WindowAgg (${p.funcs.map((f) => f.name).join(', ')})`;
    case 'workScan': return `WorkTable Scan ${p.id}`;
    case 'apply': return `Nested Loop${p.outer ? ' Left' : ''} (LATERAL)`;
    case 'cte': return `CTE ${p.id}`;
    case 'recursive': return `Recursive Union${p.all ? ' ALL' : ''}`;
    case 'lockRows': return lockRowsLabel(p);
  }
}

function children(p: Plan): Plan[] {
  switch (p.k) {
    case 'scan': case 'values': case 'workScan': case 'indexScan': return [];
    case 'join': case 'setop': case 'apply': return [p.left, p.right];
    case 'cte': return [p.def, p.body];
    case 'recursive': return [p.anchor, p.step];
    default: return [p.input];
  }
}

/** Estimated cost: rows produced by the operator and everything below it (scans count their input). */
function costOf(p: Plan): number {
  let c = Math.max(1, p.est);
  if (p.k === 'scan') c = Math.max(c, p.table.stats().rowCount);
  for (const ch of children(p)) c += costOf(ch);
  return c;
}

export function explainLines(plan: Plan, stats?: Map<Plan, OpStats>): string[] {
  const lines: string[] = [];
  const walk = (p: Plan, depth: number): void => {
    const s = stats?.get(p);
    const est = `(cost=${Math.round(costOf(p))} rows=${Math.max(1, Math.round(p.est))})`;
    const act = stats ? (s ? ` (actual time=${s.ms.toFixed(3)} ms rows=${Math.round(s.rows / Math.max(1, s.loops))} loops=${s.loops})` : ' (never executed)') : '';
    const text = `${label(p)}  ${est}${act}`;
    lines.push(depth === 0 ? text : `${' '.repeat(depth * 6 - 4)}->  ${text}`);
    for (const c of children(p)) walk(c, depth + 1);
  };
  walk(plan, 0);
  return lines;
}
