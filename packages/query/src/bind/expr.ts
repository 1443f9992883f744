/**
 * Expression binder: libpg-query expression nodes → typed `BExpr`, resolving names through a
 * `Scope`, coercing unknown literals and parameters from context (PostgreSQL's rule), folding
 * constant casts, and binding subqueries (SubLink) with their correlation parameters.
 *
 * Invariants:
 *  1. The result's `t` is the type of every value it evaluates to.
 *  2. Aggregates appear only where `opts.agg` allows them, window functions where `opts.win` does.
 */
import { DbError, SqlState, T, typeName } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import type { BExpr, SortKey, WindowFrame, FrameBound } from '../plan/plan.js';
import type { PgNode } from '../sql/statement.js';
import { Decimal } from '../types/decimal.js';
import { SCALAR_FUNCTIONS } from '../exec/functions.js';
import { arrayCompare, arraySublinkAsText, bindPgCast, isPgCast, regexOp } from '../exec/pg-functions.js';
import { Scope } from './scope.js';
import { AGG_NAMES, WINDOW_ONLY, aggResultType, arithType, castTo, coerce, commonType, commonTypeOf, isNumberish, isTextish, isUnknown, typeFromName } from './types.js';
import { bindSubquery } from './select.js';
import { SRF_NAMES, bindSrf } from './srf.js';
import { REGR_NAMES, regrAggregateTree } from './regr-aggregates.js';

export interface ExprOpts {
  readonly agg: boolean;
  readonly win: boolean;
  readonly what: string;
}

const BOOL = T.boolean;

function str(n: PgNode): string { return n.String?.sval ?? ''; }

export function constOf(n: PgNode): BExpr {
  const c = n;
  if (c.isnull) return { k: 'const', t: T.null, v: null, unknownLit: true };
  if (c.ival !== undefined) return { k: 'const', t: T.integer, v: c.ival.ival ?? 0 };
  if (c.fval !== undefined) {
    const s: string = c.fval.fval;
    if (/^[+-]?\d+$/.test(s)) {
      const b = BigInt(s);
      if (b >= -9223372036854775808n && b <= 9223372036854775807n) return { k: 'const', t: T.bigint, v: b };
    }
    return { k: 'const', t: T.numeric, v: Decimal.parse(s) };
  }
  if (c.sval !== undefined) return { k: 'const', t: T.text, v: c.sval.sval ?? '', unknownLit: true };
  if (c.boolval !== undefined) return { k: 'const', t: T.boolean, v: !!c.boolval.boolval };
  if (c.bsval !== undefined) throw new DbError(SqlState.FeatureNotSupported, 'bit strings are not supported');
  return { k: 'const', t: T.null, v: null, unknownLit: true };
}

function makeParam(scope: Scope, n: number): BExpr {
  const t = scope.bctx.paramTypes[n - 1];
  if (t) return { k: 'param', t, n };
  return { k: 'param', t: T.text, n, unknownParam: true } as BExpr;
}

/** Coerce, recording the inferred type of an unknown parameter. */
function coerceP(scope: Scope, e: BExpr, t: SqlType): BExpr {
  if (e.k === 'param' && (e as { unknownParam?: boolean }).unknownParam) {
    const tt = t.id === 'NULL' ? T.text : t;
    scope.bctx.paramTypes[e.n - 1] ??= tt;
    return { k: 'param', t: scope.bctx.paramTypes[e.n - 1]!, n: e.n };
  }
  return coerce(e, t);
}

export function finalizeUnknown(scope: Scope, e: BExpr): BExpr {
  if (e.k === 'param' && (e as { unknownParam?: boolean }).unknownParam) return coerceP(scope, e, T.text);
  if (e.k === 'const' && e.unknownLit) return { k: 'const', t: e.t.id === 'NULL' ? T.text : e.t, v: e.v };
  return e;
}

function noOp(op: string, a: SqlType, b: SqlType | null): DbError {
  return new DbError(SqlState.UndefinedFunction,
    `operator does not exist: ${b === null ? '' : typeName(a).toLowerCase() + ' '}${op} ${typeName(b ?? a).toLowerCase()}`);
}

export function bindCompare(scope: Scope, op: string, l: BExpr, r: BExpr): BExpr {
  // an array element (text model of arrays, exec/pg-functions.ts) takes the other side's type
  if (r.k === 'fn' && r.name === '__array_elem' && l.t.id !== 'TEXT' && l.t.id !== 'NULL') r = castTo(r, l.t);
  else if (l.k === 'fn' && l.name === '__array_elem' && r.t.id !== 'TEXT' && r.t.id !== 'NULL') l = castTo(l, r.t);
  const ul = isUnknown(l), ur = isUnknown(r);
  let t: SqlType | undefined;
  if (ul && !ur) t = r.t;
  else if (ur && !ul) t = l.t;
  else if (ul && ur) t = T.text;
  else t = commonType(l.t, r.t);
  if (t === undefined) {
    if (l.t.id === 'NULL') t = r.t; else if (r.t.id === 'NULL') t = l.t;
    else throw noOp(op, l.t, r.t);
  }
  if (t.id === 'NULL') t = T.text;
  if (t.id === 'VARCHAR') t = T.text;
  const a = coerceP(scope, l, t), b = coerceP(scope, r, t);
  // constant folding (PostgreSQL: a strict operator with a NULL constant operand is NULL)
  if ((a.k === 'const' && a.v === null) || (b.k === 'const' && b.v === null)) return { k: 'const', t: BOOL, v: null };
  return { k: 'op', t: BOOL, op: op === '!=' ? '<>' : op, args: [a, b] };
}

export function bindArith(scope: Scope, op: string, l: BExpr, r: BExpr): BExpr {
  if (op === '||') {
    if (l.t.id === 'NULL' && r.t.id === 'NULL') return { k: 'const', t: T.text, v: null };
    const lt = isUnknown(l) ? T.text : l.t, rt = isUnknown(r) ? T.text : r.t;
    if (!isTextish(lt) && !isTextish(rt)) throw noOp(op, lt, rt);
    return { k: 'op', t: T.text, op: '||', args: [coerceP(scope, l, lt), coerceP(scope, r, rt)] };
  }
  let lt = l.t, rt = r.t;
  const ul = isUnknown(l), ur = isUnknown(r);
  const guess = (other: SqlType, self: BExpr): SqlType => {
    if (isNumberish(other)) return other.id === 'SMALLINT' ? T.integer : other;
    if (other.id === 'NULL') return self.t.id === 'NULL' ? T.integer : T.numeric;
    if (other.id === 'DATE' && self.t.id !== 'NULL' && op === '-' && self.k === 'const' && /^\s*\d+-\d+-\d+\s*$/.test(String(self.v))) return T.date;
    if (other.id === 'DATE' && self.t.id !== 'NULL' && self.k === 'const' && /^\s*[+-]?\d+\s*$/.test(String(self.v))) return T.integer;
    if (other.id === 'TIMESTAMP' && op === '-' && self.k === 'const' && /^\s*\d+-\d+-\d+/.test(String(self.v))) return T.timestamp;
    return T.interval;
  };
  if (ul && ur) { lt = l.t.id === 'NULL' ? T.integer : T.numeric; rt = r.t.id === 'NULL' ? T.integer : T.numeric; }
  else if (ul) lt = guess(rt, l);
  else if (ur) rt = guess(lt, r);
  const t = arithType(op, lt, rt);
  if (t === undefined) throw noOp(op, lt, rt);
  // operand types: numeric ops compute in the result type; date/interval ops keep their own
  let a = l, b = r;
  if (isNumberish(lt) && isNumberish(rt)) {
    const ct = t.id === 'NUMERIC' ? T.numeric : t;
    a = coerceP(scope, l, ct); b = coerceP(scope, r, ct);
  } else { a = coerceP(scope, l, lt); b = coerceP(scope, r, rt); }
  if (a.k === 'const' && b.k === 'const' && (a.v === null || b.v === null)) return { k: 'const', t, v: null };
  return { k: 'op', t, op, args: [a, b] };
}

function bindBool(scope: Scope, n: PgNode, o: ExprOpts): BExpr {
  const e = bindExpr(n, scope, o);
  if (isUnknown(e)) return coerceP(scope, e, BOOL);
  if (e.t.id !== 'BOOLEAN') throw new DbError(SqlState.DatatypeMismatch, `argument of ${o.what} must be type boolean, not type ${typeName(e.t).toLowerCase()}`);
  return e;
}

function opName(n: PgNode): string {
  const names: PgNode[] = n.name ?? [];
  return str(names[names.length - 1]);
}

export function bindExpr(n: PgNode, scope: Scope, o: ExprOpts): BExpr {
  const [type] = Object.keys(n);
  const x = n[type!];
  switch (type) {
    case 'A_Const': return constOf(x);
    case 'ColumnRef': {
      const fields: PgNode[] = x.fields;
      if (fields.some((f) => f.A_Star)) throw new DbError(SqlState.SyntaxError, '"*" is not allowed here');
      const parts = fields.map(str);
      const e = scope.resolve(parts);
      if (!e) {
        if (parts.length >= 2 && !scope.hasRel(parts[parts.length - 2]!)) {
          throw new DbError(SqlState.UndefinedTable, `missing FROM-clause entry for table "${parts[parts.length - 2]}"`);
        }
        throw new DbError(SqlState.UndefinedColumn, `column "${parts.join('.')}" does not exist`);
      }
      return e;
    }
    case 'ParamRef': return makeParam(scope, x.number);
    case 'TypeCast': {
      if (isPgCast(x.typeName, x.arg)) return bindPgCast(x.typeName, bindExpr(x.arg, scope, o), x.arg);
      const t = typeFromName(x.typeName);
      const arg = bindExpr(x.arg, scope, o);
      return castTo(arg, t);
    }
    case 'CollateClause': return bindExpr(x.arg, scope, o);
    case 'BoolExpr': {
      const args: BExpr[] = x.args.map((a: PgNode) => bindBool(scope, a, o));
      if (x.boolop === 'NOT_EXPR') return { k: 'op', t: BOOL, op: 'not', args };
      return { k: 'op', t: BOOL, op: x.boolop === 'AND_EXPR' ? 'and' : 'or', args };
    }
    case 'NullTest':
      return { k: 'isnull', t: BOOL, arg: finalizeUnknown(scope, bindExpr(x.arg, scope, o)), neg: x.nulltesttype === 'IS_NOT_NULL' };
    case 'BooleanTest': {
      const arg = bindBool(scope, x.arg, o);
      const op = ({ IS_TRUE: 'istrue', IS_NOT_TRUE: 'isnottrue', IS_FALSE: 'isfalse', IS_NOT_FALSE: 'isnotfalse',
        IS_UNKNOWN: 'isunknown', IS_NOT_UNKNOWN: 'isnotunknown' } as Record<string, string>)[x.booltesttype]!;
      return { k: 'op', t: BOOL, op, args: [arg] };
    }
    case 'A_Expr': return bindAExpr(x, scope, o);
    case 'CaseExpr': {
      const operand = x.arg ? bindExpr(x.arg, scope, o) : null;
      const whens: { when: BExpr; then: BExpr }[] = [];
      const thens: BExpr[] = [];
      for (const w of x.args) {
        const cw = w.CaseWhen;
        const cond = operand ? bindCompare(scope, '=', operand, bindExpr(cw.expr, scope, o)) : bindBool(scope, cw.expr, { ...o, what: 'CASE/WHEN' });
        const then = bindExpr(cw.result, scope, o);
        whens.push({ when: cond, then });
        thens.push(then);
      }
      const els = x.defresult ? bindExpr(x.defresult, scope, o) : null;
      if (els) thens.push(els);
      const t = commonTypeOf(thens, 'CASE');
      return { k: 'case', t, whens: whens.map((w) => ({ when: w.when, then: coerceP(scope, w.then, t) })), else: els ? coerceP(scope, els, t) : null };
    }
    case 'CoalesceExpr': {
      const args: BExpr[] = x.args.map((a: PgNode) => bindExpr(a, scope, o));
      const t = commonTypeOf(args, 'COALESCE');
      return { k: 'coalesce', t, args: args.map((a) => coerceP(scope, a, t)) };
    }
    case 'MinMaxExpr': {
      const args: BExpr[] = x.args.map((a: PgNode) => bindExpr(a, scope, o));
      const t = commonTypeOf(args, x.op === 'IS_GREATEST' ? 'GREATEST' : 'LEAST');
      return { k: 'fn', t, name: x.op === 'IS_GREATEST' ? 'greatest' : 'least', args: args.map((a) => coerceP(scope, a, t)) };
    }
    case 'NullIfExpr': break;
    case 'SQLValueFunction': {
      const m: Record<string, string> = { SVFOP_CURRENT_DATE: 'current_date', SVFOP_CURRENT_TIMESTAMP: 'now', SVFOP_CURRENT_TIMESTAMP_N: 'now',
        SVFOP_LOCALTIMESTAMP: 'now', SVFOP_LOCALTIMESTAMP_N: 'now', SVFOP_CURRENT_USER: 'current_user', SVFOP_USER: 'current_user',
        SVFOP_SESSION_USER: 'current_user', SVFOP_CURRENT_SCHEMA: 'current_schema', SVFOP_CURRENT_CATALOG: 'current_database' };
      const name = m[x.op];
      if (!name) throw new DbError(SqlState.FeatureNotSupported, `${x.op} is not supported`);
      return { k: 'fn', t: SCALAR_FUNCTIONS[name]!.ret([])!, name, args: [] };
    }
    case 'FuncCall': return bindFunc(x, scope, o);
    case 'SubLink': return bindSubLink(x, scope, o);
    case 'RowExpr': throw new DbError(SqlState.FeatureNotSupported, 'row constructors are not supported');
    case 'A_ArrayExpr': // arrays as text (exec/pg-functions.ts)
      return { k: 'fn', t: T.text, name: '__array_build', args: (x.elements ?? []).map((a: PgNode) => finalizeUnknown(scope, bindExpr(a, scope, o))) };
    case 'A_Indirection': {
      const sub = x.indirection?.length === 1 ? x.indirection[0].A_Indices : undefined;
      if (!sub || sub.is_slice || !sub.uidx) throw new DbError(SqlState.FeatureNotSupported, 'this subscript form is not supported');
      return { k: 'fn', t: T.text, name: '__array_elem', args: [coerceP(scope, bindExpr(x.arg, scope, o), T.text), coerceP(scope, bindExpr(sub.uidx, scope, o), T.integer)] };
    }
    case 'GroupingFunc': {
      // placeholder resolved by the SELECT binder once the grouping sets are known
      if (!o.agg) throw new DbError(SqlState.GroupingError, `grouping operations are not allowed in ${o.what}`);
      const args: BExpr[] = (x.args ?? []).map((a: PgNode) => finalizeUnknown(scope, bindExpr(a, scope, { agg: false, win: false, what: 'GROUPING' })));
      return { k: 'fn', t: T.integer, name: '__grouping', args };
    }
  }
  throw new DbError(SqlState.FeatureNotSupported, `expression ${type} is not supported`);
}

function bindAExpr(x: PgNode, scope: Scope, o: ExprOpts): BExpr {
  const op = opName(x);
  switch (x.kind) {
    case 'AEXPR_OP': {
      if (!x.lexpr) {
        const r = bindExpr(x.rexpr, scope, o);
        if (op === '-') {
          if (r.k === 'const' && r.v !== null) {
            if (typeof r.v === 'number') return { k: 'const', t: r.t, v: r.v === 0 ? 0 : -r.v };
            if (typeof r.v === 'bigint') return { k: 'const', t: r.t, v: -r.v };
            if (r.v instanceof Decimal) return { k: 'const', t: r.t, v: r.v.neg() };
          }
          const rr = isUnknown(r) ? coerceP(scope, r, r.t.id === 'NULL' ? T.integer : T.numeric) : r;
          if (!isNumberish(rr.t) && rr.t.id !== 'INTERVAL') throw noOp('-', rr.t, null);
          return { k: 'op', t: rr.t.id === 'SMALLINT' ? T.integer : rr.t, op: 'neg', args: [rr] };
        }
        if (op === '+') {
          const rr = isUnknown(r) ? coerceP(scope, r, r.t.id === 'NULL' ? T.integer : T.numeric) : r;
          // PostgreSQL has no prefix + for non-numeric types; SQLite treats it as a no-op, and so do we
          return rr;
        }
        if (op === '@') return { k: 'fn', t: r.t, name: 'abs', args: [r] };
        throw new DbError(SqlState.UndefinedFunction, `operator does not exist: ${op}`);
      }
      const l = bindExpr(x.lexpr, scope, o);
      const r = bindExpr(x.rexpr, scope, o);
      switch (op) {
        case '=': case '<>': case '!=': case '<': case '<=': case '>': case '>=': return bindCompare(scope, op, l, r);
        case '+': case '-': case '*': case '/': case '%': case '||': return bindArith(scope, op, l, r);
        case '~~': case '!~~': case '~~*': case '!~~*': return bindLike(scope, op, l, r);
        case '~': case '!~': case '~*': case '!~*': return regexOp(op, coerceP(scope, l, T.text), coerceP(scope, r, T.text));
      }
      throw new DbError(SqlState.UndefinedFunction, `operator does not exist: ${op}`);
    }
    case 'AEXPR_LIKE': case 'AEXPR_ILIKE': {
      const l = bindExpr(x.lexpr, scope, o);
      const r = bindExpr(x.rexpr, scope, o);
      return bindLike(scope, op, l, r);
    }
    case 'AEXPR_SIMILAR': {
      // a SIMILAR TO b [ESCAPE c] arrives as a ~ similar_to_escape(b [, c]) (NOT: !~)
      const l = bindExpr(x.lexpr, scope, o);
      const r = bindExpr(x.rexpr, scope, o);
      return regexOp(op, coerceP(scope, l, T.text), coerceP(scope, r, T.text));
    }
    case 'AEXPR_DISTINCT': case 'AEXPR_NOT_DISTINCT': {
      const l = bindExpr(x.lexpr, scope, o);
      const r = bindExpr(x.rexpr, scope, o);
      const ct0 = isUnknown(l) && !isUnknown(r) ? r.t : isUnknown(r) && !isUnknown(l) ? l.t : commonType(l.t, r.t);
      if (ct0 === undefined) throw noOp('IS DISTINCT FROM', l.t, r.t);
      const ct = ct0.id === 'NULL' ? T.text : ct0.id === 'VARCHAR' ? T.text : ct0;
      return { k: 'op', t: BOOL, op: x.kind === 'AEXPR_DISTINCT' ? 'distinct' : 'notdistinct', args: [coerceP(scope, l, ct), coerceP(scope, r, ct)] };
    }
    case 'AEXPR_NULLIF': {
      const l = bindExpr(x.lexpr, scope, o);
      const r = bindExpr(x.rexpr, scope, o);
      const ct0 = isUnknown(l) && !isUnknown(r) ? r.t : isUnknown(r) && !isUnknown(l) ? l.t : commonType(l.t, r.t);
      if (ct0 === undefined) throw noOp('=', l.t, r.t);
      const ct = ct0.id === 'NULL' ? T.text : ct0.id === 'VARCHAR' ? T.text : ct0;
      const a = coerceP(scope, l, ct.id === l.t.id ? l.t : ct);
      return { k: 'fn', t: a.t, name: 'nullif', args: [a, coerceP(scope, r, ct)] };
    }
    case 'AEXPR_IN': {
      const arg = bindExpr(x.lexpr, scope, o);
      const rawItems: PgNode[] = x.rexpr.List ? x.rexpr.List.items : [x.rexpr];
      if (rawItems.length === 1 && rawItems[0].FuncCall?.funcname?.[0]?.String?.sval === '__quiver_empty_in') {
        return { k: 'in', t: BOOL, arg: finalizeUnknown(scope, arg), list: [], neg: op === '<>' };
      }
      const items: BExpr[] = rawItems.map((i: PgNode) => bindExpr(i, scope, o));
      const t0 = commonTypeOf([arg, ...items], 'IN');
      const t = t0.id === 'VARCHAR' ? T.text : t0;
      const a = coerceP(scope, arg, t);
      if (a.k === 'const' && a.v === null) return { k: 'const', t: BOOL, v: null };
      return { k: 'in', t: BOOL, arg: a, list: items.map((i) => coerceP(scope, i, t)), neg: op === '<>' };
    }
    case 'AEXPR_BETWEEN': case 'AEXPR_NOT_BETWEEN': case 'AEXPR_BETWEEN_SYM': case 'AEXPR_NOT_BETWEEN_SYM': {
      const arg = bindExpr(x.lexpr, scope, o);
      const [lo, hi] = x.rexpr.List.items.map((i: PgNode) => bindExpr(i, scope, o));
      const t0 = commonTypeOf([arg, lo, hi], 'BETWEEN');
      const t = t0.id === 'VARCHAR' ? T.text : t0;
      const a = coerceP(scope, arg, t), l = coerceP(scope, lo, t), h = coerceP(scope, hi, t);
      let e: BExpr = { k: 'op', t: BOOL, op: 'and', args: [{ k: 'op', t: BOOL, op: '>=', args: [a, l] }, { k: 'op', t: BOOL, op: '<=', args: [a, h] }] };
      if (x.kind.endsWith('_SYM')) {
        e = { k: 'op', t: BOOL, op: 'or', args: [e, { k: 'op', t: BOOL, op: 'and', args: [{ k: 'op', t: BOOL, op: '>=', args: [a, h] }, { k: 'op', t: BOOL, op: '<=', args: [a, l] }] }] };
      }
      return x.kind.includes('NOT') ? { k: 'op', t: BOOL, op: 'not', args: [e] } : e;
    }
    case 'AEXPR_OP_ANY': case 'AEXPR_OP_ALL': {
      // arrays are TEXT in PostgreSQL's array text form (exec/pg-functions.ts)
      const l = finalizeUnknown(scope, bindExpr(x.lexpr, scope, o));
      return arrayCompare(op, x.kind === 'AEXPR_OP_ALL', l, coerceP(scope, bindExpr(x.rexpr, scope, o), T.text));
    }
  }
  throw new DbError(SqlState.FeatureNotSupported, `expression kind ${x.kind} is not supported`);
}

function bindLike(scope: Scope, op: string, l: BExpr, r: BExpr): BExpr {
  const a = coerceP(scope, l, isUnknown(l) ? T.text : l.t);
  const b = coerceP(scope, r, T.text);
  if (!isTextish(a.t) && a.t.id !== 'NULL') throw noOp(op, a.t, b.t);
  const ci = op.includes('*');
  const e: BExpr = { k: 'op', t: BOOL, op: ci ? 'ilike' : 'like', args: [a, b] };
  return op.startsWith('!') ? { k: 'op', t: BOOL, op: 'not', args: [e] } : e;
}

function sortKeys(list: PgNode[] | undefined, scope: Scope, o: ExprOpts): SortKey[] {
  return (list ?? []).map((s: PgNode) => {
    const sb = s.SortBy;
    const desc = sb.sortby_dir === 'SORTBY_DESC';
    const nullsFirst = sb.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : sb.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : desc;
    return { e: finalizeUnknown(scope, bindExpr(sb.node, scope, o)), desc, nullsFirst };
  });
}

function frameOf(over: PgNode, scope: Scope, o: ExprOpts): WindowFrame | null {
  const f: number = over.frameOptions ?? 0;
  if (!(f & 0x1)) return null;
  const mode = f & 0x4 ? 'rows' : f & 0x8 ? 'groups' : 'range';
  const bound = (start: boolean): FrameBound => {
    const sh = start ? 0 : 1;
    if (f & (0x20 << sh)) return { kind: 'unboundedPreceding' };
    if (f & (0x80 << sh)) return { kind: 'unboundedFollowing' };
    if (f & (0x200 << sh)) return { kind: 'currentRow' };
    const off = start ? over.startOffset : over.endOffset;
    if (f & (0x800 << sh)) return { kind: 'preceding', offset: bindExpr(off, scope, o) };
    if (f & (0x2000 << sh)) return { kind: 'following', offset: bindExpr(off, scope, o) };
    return start ? { kind: 'unboundedPreceding' } : { kind: 'currentRow' };
  };
  const start = bound(true);
  const end = f & 0x10 ? bound(false) : { kind: 'currentRow' as const };
  return { mode, start, end };
}

function bindFunc(x: PgNode, scope: Scope, o: ExprOpts): BExpr {
  const names: string[] = x.funcname.map(str);
  let name = names[names.length - 1]!.toLowerCase();
  if (names.length === 2 && names[0] === 'pg_catalog') {
    if (name === 'date_part' && x.funcformat === 'COERCE_SQL_SYNTAX') name = 'extract';
  }
  const star = !!x.agg_star;
  const distinct = !!x.agg_distinct;
  // corr, covar_*, regr_*: arithmetic over count / sum aggregates (bind/regr-aggregates.ts)
  if (REGR_NAMES.has(name)) return bindExpr(regrAggregateTree(name, x), scope, o);
  if (x.over) {
    if (!o.win) throw new DbError(SqlState.WindowingError, 'window functions are not allowed here');
    if (!AGG_NAMES.has(name) && !WINDOW_ONLY.has(name)) throw new DbError(SqlState.UndefinedFunction, `function ${name} does not exist`);
    const inner: ExprOpts = { agg: o.agg, win: false, what: 'window function' };
    const args: BExpr[] = (x.args ?? []).map((a: PgNode) => finalizeUnknown(scope, bindExpr(a, scope, inner)));
    // named windows are resolved before binding (bind/window-names.ts); one left here has no WINDOW clause
    if (x.over.name || x.over.refname) throw new DbError(SqlState.UndefinedObject, `window "${x.over.name ?? x.over.refname}" does not exist`);
    const partition: BExpr[] = (x.over.partitionClause ?? []).map((a: PgNode) => finalizeUnknown(scope, bindExpr(a, scope, inner)));
    const order = sortKeys(x.over.orderClause, scope, inner);
    const frame = frameOf(x.over, scope, inner);
    let t: SqlType;
    switch (name) {
      case 'row_number': case 'rank': case 'dense_rank': t = T.bigint; break;
      case 'ntile': t = T.integer; break;
      case 'percent_rank': case 'cume_dist': t = T.double; break;
      case 'lag': case 'lead': case 'first_value': case 'last_value': case 'nth_value': t = args[0]?.t ?? T.text; break;
      default: t = aggResultType(name, star ? [] : args.map((a) => a.t));
    }
    if ((name === 'lag' || name === 'lead') && args[2]) args[2] = coerceP(scope, args[2], t);
    const filter = x.agg_filter ? bindBool(scope, x.agg_filter, inner) : null;
    return { k: 'win', t, name, args, star, distinct, filter, partition, order, frame };
  }
  if (AGG_NAMES.has(name) && !(name === 'min' || name === 'max') || ((name === 'min' || name === 'max') && (x.args?.length ?? 0) === 1)) {
    if (!o.agg) throw new DbError(SqlState.GroupingError, `aggregate functions are not allowed in ${o.what}`);
    const inner: ExprOpts = { agg: false, win: false, what: 'aggregate function calls' };
    let args: BExpr[] = (x.args ?? []).map((a: PgNode) => finalizeUnknown(scope, bindExpr(a, scope, inner)));
    if (name === 'string_agg') args = args.map((a) => coerceP(scope, a, T.text));
    if (name === 'count' && args.length === 0 && !star) throw new DbError(SqlState.UndefinedFunction, 'function count() does not exist');
    if ((name === 'sum' || name === 'avg') && args[0] && !isNumberish(args[0].t) && args[0].t.id !== 'INTERVAL' && args[0].t.id !== 'NULL') {
      throw new DbError(SqlState.UndefinedFunction, `function ${name}(${typeName(args[0].t).toLowerCase()}) does not exist`);
    }
    const filter = x.agg_filter ? bindBool(scope, x.agg_filter, inner) : null;
    const order = sortKeys(x.agg_order, scope, inner);
    const isPct = name === 'percentile_cont' || name === 'percentile_disc';
    if (isPct && (!x.agg_within_group || order.length !== 1)) throw new DbError(SqlState.SyntaxError, `${name} requires WITHIN GROUP (ORDER BY ...)`);
    if (name === 'mode') {
      // mode() WITHIN GROUP (ORDER BY e): accumulated as mode(e) over rows in that order (exec/aggregate-more.ts)
      if (!x.agg_within_group || order.length !== 1 || args.length !== 0) throw new DbError('42809' as never, 'WITHIN GROUP is required for ordered-set aggregate mode');
      args = [order[0]!.e];
    }
    const t = aggResultType(name, star ? [] : isPct ? [order[0]!.e.t] : args.map((a) => a.t));
    return { k: 'agg', t, name, args, distinct, star, filter, order };
  }
  if (star) throw new DbError(SqlState.UndefinedFunction, `function ${name}(*) does not exist`);
  if (name === 'coalesce') return bindExpr({ CoalesceExpr: { args: x.args } }, scope, o);
  if (name === 'nullif' && x.args?.length === 2) return bindAExpr({ kind: 'AEXPR_NULLIF', name: [], lexpr: x.args[0], rexpr: x.args[1] }, scope, o);
  if (name === 'greatest' || name === 'least') return bindExpr({ MinMaxExpr: { op: name === 'greatest' ? 'IS_GREATEST' : 'IS_LEAST', args: x.args } }, scope, o);
  if (SRF_NAMES.has(name)) {
    // set-returning function in a select list (bind/srf.ts)
    return bindSrf(name, (x.args ?? []).map((a: PgNode) => bindExpr(a, scope, o)), (e, t) => coerceP(scope, e, t), o.what);
  }
  const fn = SCALAR_FUNCTIONS[name];
  if (!fn) throw new DbError(SqlState.UndefinedFunction, `function ${name} does not exist`);
  let args: BExpr[] = (x.args ?? []).map((a: PgNode) => bindExpr(a, scope, o));
  if (name === 'extract' || name === 'date_part') {
    // field name arrives as a text constant
    args = args.map((a, i) => (i === 0 ? coerceP(scope, a, T.text) : isUnknown(a) ? coerceP(scope, a, T.timestamp) : a));
  }
  const types0 = args.map((a) => (isUnknown(a) ? (a.t.id === 'NULL' ? T.text : T.text) : a.t));
  args = args.map((a, i) => {
    const want = fn.argType?.(i, types0);
    if (want) return coerceP(scope, a, want);
    if (isUnknown(a) && (name === 'abs' || name === 'mod' || name === 'round')) return coerceP(scope, a, T.numeric);
    return finalizeUnknown(scope, a);
  });
  const types = args.map((a) => a.t);
  const t = fn.ret(types);
  if (t === undefined) throw new DbError(SqlState.UndefinedFunction, `function ${name}(${types.map((tt) => typeName(tt).toLowerCase()).join(', ')}) does not exist`);
  return { k: 'fn', t, name, args };
}

function bindSubLink(x: PgNode, scope: Scope, o: ExprOpts): BExpr {
  const sub = bindSubquery(x.subselect, scope);
  const uid = scope.bctx.nextId++;
  switch (x.subLinkType) {
    case 'EXISTS_SUBLINK':
      return { k: 'subq', t: BOOL, mode: 'exists', plan: sub.plan, params: sub.params, arg: null, op: '', uid };
    case 'EXPR_SUBLINK': {
      if (sub.plan.out.length !== 1) throw new DbError(SqlState.SyntaxError, 'subquery must return only one column');
      return { k: 'subq', t: sub.plan.out[0]!.t, mode: 'scalar', plan: sub.plan, params: sub.params, arg: null, op: '', uid };
    }
    case 'ANY_SUBLINK': case 'ALL_SUBLINK': {
      if (sub.plan.out.length !== 1) throw new DbError(SqlState.SyntaxError, 'subquery has too many columns');
      const op = x.operName ? str(x.operName[x.operName.length - 1]) : '=';
      let arg = bindExpr(x.testexpr, scope, o);
      const st = sub.plan.out[0]!.t;
      let t = isUnknown(arg) ? st : commonType(arg.t, st);
      if (t === undefined) throw noOp(op, arg.t, st);
      if (t.id === 'NULL') t = T.text;
      if (t.id === 'VARCHAR') t = T.text;
      arg = coerceP(scope, arg, t);
      let plan = sub.plan;
      if (st.id !== t.id) {
        plan = { k: 'project', out: [{ name: plan.out[0]!.name, t }], input: plan, exprs: [coerce({ k: 'col', t: st, i: 0 }, t)], est: plan.est };
      }
      return { k: 'subq', t: BOOL, mode: x.subLinkType === 'ANY_SUBLINK' ? 'any' : 'all', plan, params: sub.params, arg, op: op === '!=' ? '<>' : op, uid };
    }
  }
  if (x.subLinkType === 'ARRAY_SUBLINK') return bindExpr(arraySublinkAsText(x.subselect), scope, o);
  throw new DbError(SqlState.FeatureNotSupported, `subquery kind ${x.subLinkType} is not supported`);
}

export { BOOL };
