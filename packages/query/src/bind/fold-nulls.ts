/**
 * NULL and boolean constant folding of bound expressions, as PostgreSQL's planner does it before
 * execution (eval_const_expressions): a strict operator with a NULL constant operand is NULL
 * without evaluating its other operands; NOT NULL is NULL; IS [NOT] NULL of a constant is a
 * constant; CAST of NULL is a typed NULL; AND drops TRUE and is FALSE with a FALSE operand, OR
 * drops FALSE and is TRUE with a TRUE operand; a comparison of two integer or floating-point
 * constants of one type is its boolean.
 *
 * What it changes besides speed: operands that are folded away are never evaluated, so they raise
 * no error. `col0 * col0 >= NULL` is NULL in PostgreSQL even where col0 * col0 overflows, and
 * `x / 0 > 1 AND FALSE` is FALSE; evaluated row by row both would fail.
 *
 * Invariants:
 *  1. The result has the same type as the input and, where evaluating the input raises no error,
 *     the same value for every row.
 *  2. Subquery plans, aggregates and windows are not looked into (their own binding folds them);
 *     aggregates and functions are never folded (count(NULL) is 0, coalesce is not strict).
 *  3. Only operators known to be strict are folded on a NULL operand.
 */
import { T } from '@quiverdb/common';
import type { BExpr } from '../plan/plan.js';

/** Operators whose result is NULL when any operand is NULL (the executor's `op` names). */
const STRICT_OPS: ReadonlySet<string> = new Set([
  '+', '-', '*', '/', '%', 'neg', '||', '=', '<>', '<', '<=', '>', '>=', 'not', 'like', 'ilike',
]);

const NUMBER_TYPES: ReadonlySet<string> = new Set(['SMALLINT', 'INTEGER', 'REAL', 'DOUBLE']);
const CMP: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b, '<>': (a, b) => a !== b, '<': (a, b) => a < b,
  '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b,
};

const isNullConst = (e: BExpr): boolean => e.k === 'const' && e.v === null;
const boolConst = (v: boolean | null): BExpr => ({ k: 'const', t: T.boolean, v });

export function foldNulls(e: BExpr): BExpr {
  switch (e.k) {
    case 'op': {
      const args = e.args.map(foldNulls);
      if (e.op === 'and' || e.op === 'or') {
        const absorbing = e.op === 'or';
        const kept: BExpr[] = [];
        for (const a of args) {
          if (a.k === 'const' && a.v === absorbing) return boolConst(absorbing);
          if (a.k === 'const' && a.v === !absorbing) continue;
          kept.push(a);
        }
        if (kept.length === 0) return boolConst(!absorbing);
        if (kept.length === 1 && kept[0]!.t.id === 'BOOLEAN') return kept[0]!;
        return { ...e, args: kept };
      }
      if (STRICT_OPS.has(e.op) && args.some(isNullConst)) return { k: 'const', t: e.t, v: null };
      if (e.op === 'not' && args[0]!.k === 'const' && typeof args[0]!.v === 'boolean') return boolConst(!args[0]!.v);
      if (CMP[e.op] && args.length === 2) {
        const [a, b] = args as [BExpr, BExpr];
        // two constants of one JS-number-valued type (integers, floating point): compare now
        if (a.k === 'const' && b.k === 'const' && a.t.id === b.t.id && NUMBER_TYPES.has(a.t.id)
          && typeof a.v === 'number' && typeof b.v === 'number') return boolConst(CMP[e.op]!(a.v, b.v));
      }
      return args.every((a, i) => a === e.args[i]) ? e : { ...e, args };
    }
    case 'isnull': {
      const arg = foldNulls(e.arg);
      if (arg.k === 'const') return boolConst((arg.v === null) !== e.neg);
      return arg === e.arg ? e : { ...e, arg };
    }
    case 'cast': {
      const arg = foldNulls(e.arg);
      if (isNullConst(arg)) return { k: 'const', t: e.t, v: null };
      return arg === e.arg ? e : { ...e, arg };
    }
    case 'in': {
      const arg = foldNulls(e.arg);
      if (isNullConst(arg) && e.list.length > 0) return boolConst(null);
      const list = e.list.map(foldNulls);
      return arg === e.arg && list.every((x, i) => x === e.list[i]) ? e : { ...e, arg, list };
    }
    default:
      return e;
  }
}
