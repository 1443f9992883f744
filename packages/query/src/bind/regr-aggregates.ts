/**
 * The two-argument statistics aggregates (corr, covar_pop, covar_samp, regr_count, regr_avgx,
 * regr_avgy, regr_sxx, regr_syy, regr_sxy, regr_slope, regr_intercept, regr_r2) rewritten on the
 * parse tree into arithmetic over count / sum aggregates of the rows where both arguments are
 * non-null (PostgreSQL's definition), as double precision:
 *   n = count(*), sx = Σx, sy = Σy, Sxx = Σx² − sx²/n, Syy = Σy² − sy²/n, Sxy = Σxy − sx·sy/n.
 * Results are NULL where PostgreSQL's are (no rows; a zero variance where it divides).
 *
 * Invariants:
 *  1. Every aggregate of the rewrite carries the FILTER "y IS NOT NULL AND x IS NOT NULL" (and
 *     the call's own FILTER), so all of them see the same rows.
 *  2. The parse tree given is not modified; as a window function (OVER), every aggregate of the
 *     rewrite gets the call's window.
 *
 * Concurrency: pure functions of the parse tree; no shared state.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { PgNode } from '../sql/statement.js';

export const REGR_NAMES: ReadonlySet<string> = new Set(['corr', 'covar_pop', 'covar_samp', 'regr_count', 'regr_avgx', 'regr_avgy',
  'regr_sxx', 'regr_syy', 'regr_sxy', 'regr_slope', 'regr_intercept', 'regr_r2']);

const S = (sval: string): PgNode => ({ String: { sval } });
const num = (v: number): PgNode => ({ A_Const: { fval: { fval: String(v) } } });
const op = (o: string, l: PgNode, r: PgNode): PgNode => ({ A_Expr: { kind: 'AEXPR_OP', name: [S(o)], lexpr: l, rexpr: r } });
const fn = (name: string, args: PgNode[], extra: PgNode = {}): PgNode => ({ FuncCall: { funcname: [S(name)], args, funcformat: 'COERCE_EXPLICIT_CALL', ...extra } });
const f8 = (arg: PgNode): PgNode => ({ TypeCast: { arg, typeName: { names: [S('float8')], typemod: -1 } } });
const nullif0 = (e: PgNode): PgNode => ({ A_Expr: { kind: 'AEXPR_NULLIF', name: [S('=')], lexpr: e, rexpr: num(0) } });

/** The parse tree that computes `name(y, x)` (a FuncCall node's body `x`). */
export function regrAggregateTree(name: string, call: PgNode): PgNode {
  const args: PgNode[] = call.args ?? [];
  if (args.length !== 2 || call.agg_star) throw new DbError(SqlState.UndefinedFunction, `function ${name} requires two arguments`);
  if (call.agg_distinct || call.agg_order?.length) throw new DbError(SqlState.FeatureNotSupported, `DISTINCT / ORDER BY is not supported in ${name}`);
  const y = f8(args[0]!), x = f8(args[1]!);
  const both: PgNode = { BoolExpr: { boolop: 'AND_EXPR', args: [
    { NullTest: { arg: args[0], nulltesttype: 'IS_NOT_NULL' } }, { NullTest: { arg: args[1], nulltesttype: 'IS_NOT_NULL' } },
    ...(call.agg_filter ? [call.agg_filter] : []),
  ] } };
  // as a window function, every aggregate of the rewrite runs over the same window
  const over = call.over ? { over: call.over } : {};
  const agg = (a: string, e: PgNode): PgNode => fn(a, [e], { agg_filter: both, ...over });
  const count = fn('count', [], { agg_star: true, agg_filter: both, ...over });
  if (name === 'regr_count') return count;
  const n = nullif0(f8(count));
  const sx = agg('sum', x), sy = agg('sum', y);
  const sxx = op('-', agg('sum', op('*', x, x)), op('/', op('*', sx, sx), n));
  const syy = op('-', agg('sum', op('*', y, y)), op('/', op('*', sy, sy), n));
  const sxy = op('-', agg('sum', op('*', x, y)), op('/', op('*', sx, sy), n));
  switch (name) {
    case 'regr_avgx': return op('/', sx, n);
    case 'regr_avgy': return op('/', sy, n);
    case 'regr_sxx': return op('*', sxx, op('/', n, n));
    case 'regr_syy': return op('*', syy, op('/', n, n));
    case 'regr_sxy': return op('*', sxy, op('/', n, n));
    case 'covar_pop': return op('/', sxy, n);
    case 'covar_samp': return op('/', sxy, nullif0(op('-', n, num(1))));
    case 'corr': return op('/', sxy, fn('sqrt', [nullif0(op('*', sxx, syy))]));
    case 'regr_slope': return op('/', sxy, nullif0(sxx));
    case 'regr_intercept': return op('/', op('-', sy, op('/', op('*', sx, sxy), nullif0(sxx))), n);
    case 'regr_r2': return {
      CaseExpr: {
        args: [
          { CaseWhen: { expr: { NullTest: { arg: nullif0(sxx), nulltesttype: 'IS_NULL' } }, result: { A_Const: { isnull: true } } } },
          { CaseWhen: { expr: op('=', syy, num(0)), result: num(1) } },
        ],
        defresult: op('/', op('*', sxy, sxy), op('*', sxx, syy)),
      },
    };
  }
  throw new DbError(SqlState.UndefinedFunction, `function ${name} does not exist`);
}
