/**
 * Structural key of a bound expression: equal keys mean the expressions compute the same value
 * over the same input (used to match GROUP BY expressions and de-duplicate aggregates).
 */
import type { BExpr } from '../plan/plan.js';
import { Decimal } from '../types/decimal.js';

function valKey(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString() + 'n';
  if (v instanceof Decimal) return v.toString() + 'd';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function exprKey(e: BExpr): string {
  switch (e.k) {
    case 'const': return `c(${e.t.id}:${valKey(e.v)})`;
    case 'col': return `#${e.i}`;
    case 'corr': return `@${e.id}`;
    case 'param': return `$${e.n}:${e.t.id}`;
    case 'op': return `${e.op}(${e.args.map(exprKey).join(',')})`;
    case 'fn': return `f:${e.name}(${e.args.map(exprKey).join(',')})`;
    case 'coalesce': return `coalesce(${e.args.map(exprKey).join(',')})`;
    case 'case': return `case(${e.whens.map((w) => exprKey(w.when) + '->' + exprKey(w.then)).join(';')};${e.else ? exprKey(e.else) : ''})`;
    case 'cast': return `cast(${exprKey(e.arg)}:${e.t.id}:${e.t.length ?? ''}:${e.t.scale ?? ''})`;
    case 'isnull': return `isnull${e.neg ? '!' : ''}(${exprKey(e.arg)})`;
    case 'in': return `in${e.neg ? '!' : ''}(${exprKey(e.arg)};${e.list.map(exprKey).join(',')})`;
    case 'subq': return `subq${e.uid}(${e.arg ? exprKey(e.arg) : ''};${e.params.map((p) => exprKey(p.e)).join(',')})`;
    case 'agg': return `agg:${e.name}${e.distinct ? 'D' : ''}${e.star ? '*' : ''}(${e.args.map(exprKey).join(',')};${e.filter ? exprKey(e.filter) : ''};${e.order.map((o) => exprKey(o.e) + (o.desc ? 'd' : 'a') + (o.nullsFirst ? 'f' : 'l')).join(',')})`;
    case 'win': return `win:${e.name}(${e.args.map(exprKey).join(',')};${e.partition.map(exprKey).join(',')};${e.order.map((o) => exprKey(o.e) + (o.desc ? 'd' : 'a')).join(',')};${JSON.stringify(e.frame, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))};${e.filter ? exprKey(e.filter) : ''})`;
    case 'grouping': return `grouping(${e.args.join(',')})`;
  }
}
