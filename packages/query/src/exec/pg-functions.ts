/**
 * PostgreSQL catalog and compatibility functions, the ones psql's `\d` family and ORMs'
 * introspection queries call (format_type, pg_get_constraintdef, pg_table_is_visible, ...), the
 * reg* casts (`'t'::regclass`, `oid::regclass`), POSIX regex operators (`~`, `!~`, `~*`, `!~*`,
 * also spelled `OPERATOR(pg_catalog.~)`) and a text model of arrays.
 *
 * Arrays: QuiverDB has no array type; catalog array columns (conkey, polroles, ...) are TEXT in
 * PostgreSQL's array text form '{a,b,"c d"}'. `x = ANY(arr)`, `ARRAY(subquery)`, `ARRAY[...]`,
 * `arr[i]`, array_to_string, array_upper and casts to `T[]` work on that form.
 *
 * reg* casts: an unknown or text argument is input (a name → its OID, INTEGER); an integer
 * argument is output (an OID → its name, TEXT). So `'t'::regclass` compares with oid columns and
 * `conrelid::regclass` prints a name, which covers how psql and ORMs use them.
 *
 * Functions that need the catalog call `Catalog.systemFunction` (implemented by the engine).
 *
 * Invariants:
 *  1. (as functions.ts) `ret(argTypes)` is the type of every non-null value `impl` returns.
 *  2. `parseArray(formatArray(xs)) = xs` for every list of strings / NULLs.
 */
import { DbError, SqlState, T, isIntegerType } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import type { BExpr } from '../plan/plan.js';
import type { PgNode } from '../sql/statement.js';
import { castTo } from '../bind/types.js';
import { valueToText } from '../types/values.js';
import type { FnCtx, ScalarFn } from './functions.js';

// ---------------------------------------------------------------------------------------------
// arrays as text

/** '{a,"b c",NULL}' → ['a', 'b c', null]; null if the text is not an array literal. */
export function parseArray(text: string): (string | null)[] | null {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) return null;
  const out: (string | null)[] = [];
  const body = s.slice(1, -1);
  if (body.trim() === '') return out;
  let i = 0;
  while (i <= body.length) {
    while (body[i] === ' ') i++;
    if (body[i] === '"') {
      let v = '';
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i++;
        v += body[i++] ?? '';
      }
      i++;
      out.push(v);
    } else {
      let j = i;
      while (j < body.length && body[j] !== ',') j++;
      const v = body.slice(i, j).trim();
      out.push(v.toUpperCase() === 'NULL' ? null : v);
      i = j;
    }
    while (body[i] === ' ') i++;
    if (body[i] !== ',') break;
    i++;
  }
  return out;
}

function quoteElem(v: string | null): string {
  if (v === null) return 'NULL';
  return v === '' || /[{},"\\\s]/.test(v) || v.toUpperCase() === 'NULL' ? `"${v.replace(/(["\\])/g, '\\$1')}"` : v;
}

export function formatArray(xs: readonly (string | null)[]): string {
  return `{${xs.map(quoteElem).join(',')}}`;
}

function arrayOf(v: unknown): (string | null)[] {
  const t = String(v);
  // int2vector / oidvector (pg_index.indkey...) print as space-separated numbers
  if (/^[\d\s-]*$/.test(t)) return t.split(/\s+/).filter((x) => x !== '');
  const a = parseArray(t);
  if (!a) throw new DbError(SqlState.InvalidTextRepresentation, `malformed array literal: "${String(v)}"`);
  return a;
}

// ---------------------------------------------------------------------------------------------
// types

const TYPE_NAMES: Record<number, string> = {
  16: 'boolean', 17: 'bytea', 18: '"char"', 19: 'name', 20: 'bigint', 21: 'smallint', 23: 'integer', 25: 'text', 26: 'oid', 114: 'json',
  700: 'real', 701: 'double precision', 705: 'unknown', 1042: 'character', 1043: 'character varying', 1082: 'date',
  1114: 'timestamp without time zone', 1184: 'timestamp with time zone', 1186: 'interval', 1700: 'numeric', 2205: 'regclass',
  2206: 'regtype', 2950: 'uuid', 3802: 'jsonb',
};
const ARRAY_OF: Record<number, number> = {
  1000: 16, 1001: 17, 1002: 18, 1003: 19, 1016: 20, 1005: 21, 1007: 23, 1009: 25, 1028: 26, 199: 114, 1021: 700, 1022: 701, 1014: 1042,
  1015: 1043, 1182: 1082, 1115: 1114, 1185: 1184, 1187: 1186, 1231: 1700, 2210: 2205, 2211: 2206, 2951: 2950, 3807: 3802,
};
const TYPE_OIDS: Record<string, number> = {
  bool: 16, boolean: 16, bytea: 17, char: 18, name: 19, int8: 20, bigint: 20, int2: 21, smallint: 21, int4: 23, int: 23, integer: 23,
  text: 25, oid: 26, json: 114, float4: 700, real: 700, float8: 701, 'double precision': 701, bpchar: 1042, character: 1042,
  varchar: 1043, 'character varying': 1043, date: 1082, timestamp: 1114, 'timestamp without time zone': 1114, timestamptz: 1184,
  'timestamp with time zone': 1184, interval: 1186, numeric: 1700, decimal: 1700, regclass: 2205, regtype: 2206, uuid: 2950, jsonb: 3802,
};

/** PostgreSQL's format_type(type oid, typmod). */
export function formatType(oid: number, typmod: number | null): string {
  const elem = ARRAY_OF[oid];
  if (elem !== undefined) return formatType(elem, typmod) + '[]';
  const name = TYPE_NAMES[oid];
  if (name === undefined) return '???';
  if (typmod === null || typmod < 0) return name;
  if (oid === 1043 || oid === 1042) return `${name}(${typmod - 4})`;
  if (oid === 1700) return `numeric(${((typmod - 4) >> 16) & 0xffff},${(typmod - 4) & 0xffff})`;
  return name;
}

// ---------------------------------------------------------------------------------------------
// the functions

const text = (): SqlType => T.text;
const int = (): SqlType => T.integer;
const bool = (): SqlType => T.boolean;
const big = (): SqlType => T.bigint;

function sys(name: string, args: readonly unknown[], ctx: FnCtx): unknown {
  const f = ctx.catalog?.systemFunction;
  if (!f) throw new DbError(SqlState.FeatureNotSupported, `${name}() needs the engine's catalog`);
  const v = f.call(ctx.catalog, name, args);
  return v === undefined ? null : v;
}

/** a catalog function: arguments cast to `types`, answered by the catalog */
function catalogFn(ret: () => SqlType, types: readonly SqlType[], as?: string): ScalarFn {
  return { ret, argType: (i) => types[i] ?? T.text, impl: (args, ctx) => sys(as ?? '', args, ctx) };
}

const regexCache = new Map<string, RegExp>();
function regex(pattern: string, flags: string): RegExp {
  const key = flags + pattern;
  let r = regexCache.get(key);
  if (!r) {
    try {
      // POSIX classes JS does not know
      const src = pattern.replace(/\[:alpha:\]/g, 'A-Za-z').replace(/\[:digit:\]/g, '0-9').replace(/\[:alnum:\]/g, 'A-Za-z0-9')
        .replace(/\[:space:\]/g, '\\s').replace(/\[:upper:\]/g, 'A-Z').replace(/\[:lower:\]/g, 'a-z');
      r = new RegExp(src, flags);
    } catch {
      throw new DbError('2201B' as never, `invalid regular expression: ${pattern}`);
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(key, r);
  }
  return r;
}

export const PG_FUNCTIONS: Record<string, ScalarFn> = {
  format_type: { ret: text, argType: int, strict: false, impl: ([oid, mod]) => (oid === null ? null : formatType(oid as number, mod as number | null)) },
  pg_get_expr: { ret: text, argType: (i) => (i === 0 ? T.text : i === 1 ? T.integer : T.boolean), impl: ([e]) => e },
  pg_get_constraintdef: { ...catalogFn(text, [T.integer, T.boolean]), impl: ([oid], ctx) => sys('pg_get_constraintdef', [oid], ctx) },
  pg_get_indexdef: { ...catalogFn(text, [T.integer, T.integer, T.boolean]), impl: ([oid, col], ctx) => sys('pg_get_indexdef', [oid, col ?? 0], ctx) },
  pg_get_viewdef: {
    ret: text, argType: (i, a) => (i === 0 ? (a[0] && isIntegerType(a[0]) ? T.integer : T.text) : T.boolean),
    impl: ([v], ctx) => sys('pg_get_viewdef', [v], ctx),
  },
  pg_table_is_visible: { ...catalogFn(bool, [T.integer]), impl: ([oid], ctx) => sys('pg_table_is_visible', [oid], ctx) },
  pg_type_is_visible: { ret: bool, argType: int, impl: () => true },
  pg_function_is_visible: { ret: bool, argType: int, impl: () => true },
  pg_relation_size: { ...catalogFn(big, [T.integer, T.text]), impl: ([oid], ctx) => sys('pg_relation_size', [oid], ctx) },
  pg_table_size: { ...catalogFn(big, [T.integer]), impl: ([oid], ctx) => sys('pg_table_size', [oid], ctx) },
  pg_total_relation_size: { ...catalogFn(big, [T.integer]), impl: ([oid], ctx) => sys('pg_total_relation_size', [oid], ctx) },
  pg_indexes_size: { ...catalogFn(big, [T.integer]), impl: ([oid], ctx) => sys('pg_indexes_size', [oid], ctx) },
  pg_size_pretty: {
    ret: text, argType: () => T.bigint,
    impl: ([b]) => {
      const n = Number(b as bigint);
      const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
      let v = n, u = 0;
      while (Math.abs(v) >= 10 * 1024 && u < units.length - 1) { v /= 1024; u++; }
      return `${Math.round(v)} ${units[u]}`;
    },
  },
  pg_get_serial_sequence: { ...catalogFn(text, [T.text, T.text]), impl: (a, ctx) => sys('pg_get_serial_sequence', a, ctx) },
  to_regclass: { ...catalogFn(int, [T.text]), impl: (a, ctx) => sys('to_regclass', a, ctx) },
  pg_get_userbyid: { ret: text, argType: int, impl: ([oid]) => (oid === 10 ? 'quiver' : `unknown (OID=${String(oid)})`) },
  obj_description: { ret: text, strict: false, impl: () => null },
  col_description: { ret: text, strict: false, impl: () => null },
  shobj_description: { ret: text, strict: false, impl: () => null },
  pg_encoding_to_char: { ret: text, argType: int, impl: ([e]) => (e === 6 ? 'UTF8' : e === 0 ? 'SQL_ASCII' : '') },
  quote_ident: { ret: text, argType: text, impl: ([s]) => quoteIdentText(s as string) },
  quote_literal: { ret: text, impl: ([v], ctx) => `'${valueToText(v, ctx.argTypes[0]!).replace(/'/g, "''")}'` },
  has_table_privilege: { ret: bool, strict: false, impl: () => true },
  has_schema_privilege: { ret: bool, strict: false, impl: () => true },
  has_database_privilege: { ret: bool, strict: false, impl: () => true },
  has_column_privilege: { ret: bool, strict: false, impl: () => true },
  has_sequence_privilege: { ret: bool, strict: false, impl: () => true },
  pg_has_role: { ret: bool, strict: false, impl: () => true },
  pg_backend_pid: { ret: int, impl: () => process.pid },
  pg_is_in_recovery: { ret: bool, impl: () => false },
  current_schemas: { ret: text, argType: bool, impl: ([implicit]) => (implicit ? '{pg_catalog,public}' : '{public}') },
  session_user: { ret: text, impl: () => 'quiver' },
  // QuiverDB has no partitioning: a relation's only ancestor is itself (psql's \d asks)
  pg_partition_ancestors: { ret: int, argType: int, impl: ([oid]) => oid },
  pg_relation_is_publishable: { ret: bool, argType: int, impl: () => false },
  current_setting: {
    ret: text, argType: (i) => (i === 0 ? T.text : T.boolean), strict: false,
    impl: (a, ctx) => (a[0] === null ? null : sys('current_setting', a, ctx)),
  },
  pg_tablespace_location: { ret: text, argType: int, impl: () => '' },
  pg_get_triggerdef: { ret: text, strict: false, impl: () => null },
  pg_get_ruledef: { ret: text, strict: false, impl: () => null },
  pg_get_function_arguments: { ret: text, strict: false, impl: () => null },
  pg_get_function_result: { ret: text, strict: false, impl: () => null },
  pg_get_statisticsobjdef_columns: { ret: text, argType: int, strict: false, impl: () => null },
  array_to_string: {
    ret: text, argType: () => T.text,
    impl: ([a, sep, nul]) => arrayOf(a).flatMap((x) => (x === null ? (nul === undefined || nul === null ? [] : [nul as string]) : [x])).join(sep as string),
  },
  array_upper: { ret: int, argType: (i) => (i === 0 ? T.text : T.integer), impl: ([a, d]) => { const n = arrayOf(a).length; return d === 1 && n > 0 ? n : null; } },
  array_lower: { ret: int, argType: (i) => (i === 0 ? T.text : T.integer), impl: ([a, d]) => (d === 1 && arrayOf(a).length > 0 ? 1 : null) },
  array_length: { ret: int, argType: (i) => (i === 0 ? T.text : T.integer), impl: ([a, d]) => { const n = arrayOf(a).length; return d === 1 && n > 0 ? n : null; } },
  array_remove: { ret: text, argType: () => T.text, impl: ([a, x]) => formatArray(arrayOf(a).filter((e) => e !== x)) },
  array_cat: { ret: text, argType: () => T.text, impl: ([a, b]) => formatArray([...arrayOf(a), ...arrayOf(b)]) },
  cardinality: { ret: int, argType: text, impl: ([a]) => arrayOf(a).length },
  __regclass_in: { ...catalogFn(int, [T.text]), impl: (a, ctx) => sys('regclass_in', a, ctx) },
  __regclass_out: { ...catalogFn(text, [T.integer]), impl: (a, ctx) => sys('regclass_out', a, ctx) },
  __regnamespace_in: { ...catalogFn(int, [T.text]), impl: (a, ctx) => sys('regnamespace_in', a, ctx) },
  __regnamespace_out: { ...catalogFn(text, [T.integer]), impl: (a, ctx) => sys('regnamespace_out', a, ctx) },
  __regtype_out: { ret: text, argType: int, impl: ([oid]) => formatType(oid as number, null) },
  __regtype_in: {
    ret: int, argType: text,
    impl: ([n]) => {
      const s = (n as string).trim().toLowerCase().replace(/^pg_catalog\./, '');
      if (/^\d+$/.test(s)) return Number(s);
      const isArr = s.endsWith('[]');
      const base = TYPE_OIDS[isArr ? s.slice(0, -2) : s];
      if (base === undefined) throw new DbError(SqlState.UndefinedObject, `type "${n as string}" does not exist`);
      if (!isArr) return base;
      const arr = Object.entries(ARRAY_OF).find(([, e]) => e === base);
      return arr ? Number(arr[0]) : 0;
    },
  },
  __regrole_out: { ret: text, argType: int, impl: ([oid]) => (oid === 10 ? 'quiver' : String(oid)) },
  __regrole_in: { ret: int, argType: text, impl: () => 10 },
  __oid_out: { ret: text, argType: int, impl: ([oid]) => String(oid) },
  __regex: {
    ret: bool, argType: text,
    impl: ([s, p, flags]) => regex(p as string, flags as string).test(s as string),
  },
  __array_any: {
    // (elem, array, op, all): `elem op ANY/ALL (array)` with = or <>, compared as text
    ret: bool, strict: false,
    impl: ([e, a, op, all], ctx) => {
      if (a === null) return null;
      const xs = arrayOf(a);
      if (xs.length === 0) return !!all;
      if (e === null) return null;
      const et = valueToText(e, ctx.argTypes[0]!);
      let sawNull = false;
      for (const x of xs) {
        if (x === null) { sawNull = true; continue; }
        const hit = op === '=' ? x === et : x !== et;
        if (hit && !all) return true;
        if (!hit && all) return false;
      }
      return sawNull ? null : !!all;
    },
  },
  __array_build: { ret: text, strict: false, impl: (args, ctx) => formatArray(args.map((v, i) => (v === null ? null : valueToText(v, ctx.argTypes[i]!)))) },
  __array_elem: {
    ret: text, argType: (i) => (i === 0 ? T.text : T.integer),
    impl: ([a, i]) => arrayOf(a)[(i as number) - 1] ?? null,
  },
  __unnest: { ret: text, impl: () => { throw new DbError(SqlState.FeatureNotSupported, 'unnest() is only supported in FROM'); } },
  __array_quote: { ret: text, strict: false, impl: ([v], ctx) => quoteElem(v === null ? null : valueToText(v, ctx.argTypes[0]!)) },
};

function quoteIdentText(s: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`;
}

// ---------------------------------------------------------------------------------------------
// binder helpers (called from bind/expr.ts)

const fn = (t: SqlType, name: string, args: BExpr[]): BExpr => ({ k: 'fn', t, name, args });
const lit = (t: SqlType, v: unknown): BExpr => ({ k: 'const', t, v });

const REG_TYPES = new Set(['oid', 'regclass', 'regtype', 'regnamespace', 'regrole', 'regproc', 'regprocedure', 'regoper', 'regconfig', 'xid', 'cid']);

const castName = (typeName: PgNode): string => String(typeName.names?.[typeName.names.length - 1]?.String?.sval ?? '').toLowerCase();

const REG_OUT: Record<string, string> = { regclass: '__regclass_out', regtype: '__regtype_out', regnamespace: '__regnamespace_out', regrole: '__regrole_out' };

/** `'t'::regclass::text`: a reg* value of a name, cast to text, prints the (canonical) name */
function regToText(typeName: PgNode, argNode: PgNode | undefined): string | undefined {
  const inner = argNode?.TypeCast;
  if (!inner || !['text', 'varchar', 'name'].includes(castName(typeName))) return undefined;
  return REG_OUT[castName(inner.typeName)];
}

/** Whether `bindPgCast` handles a cast of `argNode` to this type (reg* types, oid, arrays). */
export function isPgCast(typeName: PgNode, argNode?: PgNode): boolean {
  return !!typeName.arrayBounds || REG_TYPES.has(castName(typeName)) || regToText(typeName, argNode) !== undefined;
}

/** A cast `arg::type` for a type `isPgCast` accepts. */
export function bindPgCast(typeName: PgNode, arg: BExpr, argNode?: PgNode): BExpr {
  const name = castName(typeName);
  const out = regToText(typeName, argNode);
  if (out) return arg.t.id === 'TEXT' ? arg : fn(T.text, out, [castTo(arg, T.integer)]);
  if (typeName.arrayBounds) return castTo(arg, T.text);
  const input = arg.t.id === 'TEXT' || arg.t.id === 'VARCHAR' || arg.t.id === 'NULL' || (arg.k === 'const' && arg.unknownLit === true);
  const asText = castTo(arg, T.text);
  const asInt = isIntegerType(arg.t) ? castTo(arg, T.integer) : arg;
  switch (name) {
    case 'oid': case 'xid': case 'cid': case 'regproc': case 'regprocedure': case 'regoper': case 'regconfig':
      return input ? castTo(arg, T.integer) : asInt;
    case 'regclass': return input ? fn(T.integer, '__regclass_in', [asText]) : fn(T.text, '__regclass_out', [asInt]);
    case 'regtype': return input ? fn(T.integer, '__regtype_in', [asText]) : fn(T.text, '__regtype_out', [asInt]);
    case 'regnamespace': return input ? fn(T.integer, '__regnamespace_in', [asText]) : fn(T.text, '__regnamespace_out', [asInt]);
    case 'regrole': return input ? fn(T.integer, '__regrole_in', [asText]) : fn(T.text, '__regrole_out', [asInt]);
  }
  throw new DbError(SqlState.FeatureNotSupported, `cast to ${name} is not supported`);
}

/** `a ~ b`, `a !~ b`, `a ~* b`, `a !~* b` over text operands. */
export function regexOp(op: string, a: BExpr, b: BExpr): BExpr {
  const e = fn(T.boolean, '__regex', [a, b, lit(T.text, op.includes('*') ? 'si' : 's')]);
  return op.startsWith('!') ? { k: 'op', t: T.boolean, op: 'not', args: [e] } : e;
}

/** `elem op ANY|ALL (array text)`; only = and <> (and !=). */
export function arrayCompare(op: string, all: boolean, elem: BExpr, arr: BExpr): BExpr {
  const o = op === '!=' ? '<>' : op;
  if (o !== '=' && o !== '<>') throw new DbError(SqlState.FeatureNotSupported, `operator ${op} ANY/ALL over arrays is not supported`);
  return fn(T.boolean, '__array_any', [elem, arr, lit(T.text, o), lit(T.boolean, all)]);
}

const S = (sval: string): PgNode => ({ String: { sval } });
const C = (sval: string): PgNode => ({ A_Const: { sval: { sval } } });
const call = (name: string, args: PgNode[]): PgNode => ({ FuncCall: { funcname: [S(name)], args, funcformat: 'COERCE_EXPLICIT_CALL' } });
const cat = (l: PgNode, r: PgNode): PgNode => ({ A_Expr: { kind: 'AEXPR_OP', name: [S('||')], lexpr: l, rexpr: r } });

/**
 * `ARRAY(subquery)` as the parse tree of a scalar subquery building the array's text form:
 * (SELECT coalesce('{' || string_agg(__array_quote(v), ',') || '}', '{}') FROM (subquery) _arr(v))
 */
export function arraySublinkAsText(subselect: PgNode): PgNode {
  const v = { ColumnRef: { fields: [S('_quiver_arr'), S('v')] } };
  const agg = call('string_agg', [call('__array_quote', [v]), C(',')]);
  const body = { CoalesceExpr: { args: [cat(cat(C('{'), agg), C('}')), C('{}')] } };
  return {
    SubLink: {
      subLinkType: 'EXPR_SUBLINK',
      subselect: {
        SelectStmt: {
          targetList: [{ ResTarget: { val: body } }],
          fromClause: [{ RangeSubselect: { subquery: subselect, alias: { aliasname: '_quiver_arr', colnames: [S('v')] } } }],
          limitOption: 'LIMIT_OPTION_DEFAULT',
          op: 'SETOP_NONE',
        },
      },
    },
  };
}
