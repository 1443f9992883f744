/**
 * Type resolution for the binder: SQL type names, common supertypes, implicit coercion and the
 * result types of operators and aggregates, as PostgreSQL resolves them.
 */
import { DbError, SqlState, T, isIntegerType, typeName } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import type { BExpr, PgNode } from './expr-types.js';
import { castValue } from '../types/values.js';

const NUM_RANK: Record<string, number> = { SMALLINT: 1, INTEGER: 2, BIGINT: 3, NUMERIC: 4, REAL: 5, DOUBLE: 6 };

export function isUnknown(e: BExpr): boolean {
  return (e.k === 'const' && e.unknownLit === true) || (e.k === 'param' && (e as { unknownParam?: boolean }).unknownParam === true);
}

export function isNumberish(t: SqlType): boolean { return NUM_RANK[t.id] !== undefined; }
export function isTextish(t: SqlType): boolean { return t.id === 'TEXT' || t.id === 'VARCHAR'; }

/** Common type of two types for comparison / UNION / CASE (undefined if none). */
export function commonType(a: SqlType, b: SqlType): SqlType | undefined {
  if (a.id === 'NULL') return b;
  if (b.id === 'NULL') return a;
  if (a.id === b.id) {
    if (a.id === 'VARCHAR' && a.length !== b.length) return T.varchar;
    if (a.id === 'NUMERIC' && (a.scale !== b.scale || a.precision !== b.precision)) return T.numeric;
    return a;
  }
  const ra = NUM_RANK[a.id], rb = NUM_RANK[b.id];
  if (ra !== undefined && rb !== undefined) {
    const t = ra >= rb ? a : b;
    if (t.id === 'NUMERIC') return T.numeric;
    if (t.id === 'SMALLINT') return T.integer;
    return t;
  }
  if (isTextish(a) && isTextish(b)) return T.text;
  if ((a.id === 'DATE' && b.id === 'TIMESTAMP') || (a.id === 'TIMESTAMP' && b.id === 'DATE')) return T.timestamp;
  return undefined;
}

/** Common type of expressions, treating unknown literals as flexible (text if all unknown). */
export function commonTypeOf(es: readonly BExpr[], what: string): SqlType {
  let t: SqlType | undefined;
  for (const e of es) {
    if (isUnknown(e) && e.t.id !== 'NULL') continue;
    if (e.t.id === 'NULL') continue;
    if (t === undefined) { t = e.t; continue; }
    const c = commonType(t, e.t);
    if (c === undefined) {
      throw new DbError(SqlState.DatatypeMismatch, `${what} types ${typeName(t).toLowerCase()} and ${typeName(e.t).toLowerCase()} cannot be matched`);
    }
    t = c;
  }
  if (t === undefined) return es.some((e) => e.t.id !== 'NULL') ? T.text : T.text;
  return t;
}

/** Coerce `e` to `t` (implicit cast). Constants fold. */
export function coerce(e: BExpr, t: SqlType): BExpr {
  if (e.t.id === t.id && (t.id !== 'NUMERIC' || (e.t.scale === t.scale))) {
    if (e.k === 'param' && (e as { unknownParam?: boolean }).unknownParam) return { k: 'param', t, n: e.n };
    if (e.k === 'const' && e.unknownLit) return { k: 'const', t, v: e.v };
    return e;
  }
  if (e.k === 'const') return { k: 'const', t, v: e.v === null ? null : castValue(e.v, e.t, t) };
  if (e.k === 'param' && (e as { unknownParam?: boolean }).unknownParam) return { k: 'param', t, n: e.n };
  if ((e.t.id === 'VARCHAR' && t.id === 'TEXT') || (e.t.id === 'TEXT' && t.id === 'VARCHAR' && t.length === undefined)) return e;
  return { k: 'cast', t, arg: e };
}

/** Explicit cast. */
export function castTo(e: BExpr, t: SqlType): BExpr {
  if (e.k === 'const') return { k: 'const', t, v: e.v === null ? null : castValue(e.v, e.t, t) };
  if (e.k === 'param' && (e as { unknownParam?: boolean }).unknownParam) return { k: 'param', t, n: e.n };
  if (e.t.id === t.id && t.id !== 'NUMERIC' && t.id !== 'VARCHAR') return e;
  return { k: 'cast', t, arg: e };
}

/** SQL type from a libpg-query TypeName node. */
export function typeFromName(tn: PgNode): SqlType {
  const names: string[] = (tn.names ?? []).map((n: PgNode) => n.String.sval as string);
  const name = names[names.length - 1]!.toLowerCase();
  const mods: number[] = (tn.typmods ?? []).map((m: PgNode) => m.A_Const?.ival?.ival ?? 0);
  if (tn.arrayBounds) throw new DbError(SqlState.FeatureNotSupported, 'array types are not supported');
  switch (name) {
    case 'int4': case 'int': case 'integer': case 'serial': case 'serial4': return T.integer;
    case 'int2': case 'smallint': case 'smallserial': return T.smallint;
    case 'int8': case 'bigint': case 'bigserial': case 'serial8': return T.bigint;
    case 'float4': case 'real': return T.real;
    case 'float8': case 'double': case 'float': return mods[0] !== undefined && mods[0] <= 24 ? T.real : T.double;
    case 'numeric': case 'decimal':
      if (mods.length === 0) return T.numeric;
      return { id: 'NUMERIC', precision: mods[0]!, scale: mods[1] ?? 0 };
    case 'varchar': case 'character varying':
      return mods.length ? { id: 'VARCHAR', length: mods[0]! } : T.varchar;
    case 'bpchar': case 'char': case 'character':
      return { id: 'VARCHAR', length: mods[0] ?? 1 };
    case 'text': case 'name': return T.text;
    case 'bool': case 'boolean': return T.boolean;
    case 'date': return T.date;
    case 'timestamp': case 'timestamptz': return T.timestamp;
    case 'interval': return T.interval;
  }
  throw new DbError(SqlState.UndefinedObject, `type "${name}" does not exist`);
}

/** Result type of arithmetic `op` on the given (already non-unknown) operand types. */
export function arithType(op: string, a: SqlType, b: SqlType): SqlType | undefined {
  const ra = NUM_RANK[a.id], rb = NUM_RANK[b.id];
  if (ra !== undefined && rb !== undefined) {
    if (op === '%' && (a.id === 'REAL' || a.id === 'DOUBLE' || b.id === 'REAL' || b.id === 'DOUBLE')) return undefined;
    const t = ra >= rb ? a : b;
    if (t.id === 'SMALLINT') return T.integer;
    if (t.id === 'NUMERIC') return T.numeric;
    if (t.id === 'REAL' && (a.id !== 'REAL' || b.id !== 'REAL')) return T.double;
    return t;
  }
  if (a.id === 'DATE' && isIntegerType(b) && (op === '+' || op === '-')) return T.date;
  if (isIntegerType(a) && b.id === 'DATE' && op === '+') return T.date;
  if (a.id === 'DATE' && b.id === 'DATE' && op === '-') return T.integer;
  if ((a.id === 'DATE' || a.id === 'TIMESTAMP') && b.id === 'INTERVAL' && (op === '+' || op === '-')) return T.timestamp;
  if (a.id === 'INTERVAL' && (b.id === 'DATE' || b.id === 'TIMESTAMP') && op === '+') return T.timestamp;
  if (a.id === 'TIMESTAMP' && b.id === 'TIMESTAMP' && op === '-') return T.interval;
  if (a.id === 'INTERVAL' && b.id === 'INTERVAL' && (op === '+' || op === '-')) return T.interval;
  if (a.id === 'INTERVAL' && isNumberish(b) && (op === '*' || op === '/')) return T.interval;
  if (isNumberish(a) && b.id === 'INTERVAL' && op === '*') return T.interval;
  return undefined;
}

export function aggResultType(name: string, args: readonly SqlType[]): SqlType {
  const a = args[0];
  switch (name) {
    case 'count': return T.bigint;
    case 'sum':
      if (!a) break;
      if (a.id === 'SMALLINT' || a.id === 'INTEGER') return T.bigint;
      if (a.id === 'BIGINT' || a.id === 'NUMERIC') return T.numeric;
      if (a.id === 'REAL' || a.id === 'DOUBLE' || a.id === 'INTERVAL') return a;
      break;
    case 'avg':
      if (!a) break;
      if (isIntegerType(a) || a.id === 'NUMERIC') return T.numeric;
      if (a.id === 'REAL' || a.id === 'DOUBLE') return T.double;
      if (a.id === 'INTERVAL') return a;
      break;
    case 'min': case 'max': if (a) return a.id === 'VARCHAR' ? T.text : a; break;
    case 'string_agg': return T.text;
    case 'bool_and': case 'bool_or': case 'every': return T.boolean;
    case 'stddev': case 'stddev_samp': case 'stddev_pop': case 'variance': case 'var_samp': case 'var_pop':
      if (!a) break;
      if (isIntegerType(a) || a.id === 'NUMERIC') return T.numeric;
      return T.double;
    case 'percentile_cont': return T.double;
    case 'percentile_disc': return a ?? T.double;
    case 'bit_and': case 'bit_or': case 'bit_xor': if (a && isIntegerType(a)) return a.id === 'SMALLINT' ? T.integer : a; break;
    case 'mode': if (a) return a.id === 'VARCHAR' ? T.text : a; break;
  }
  throw new DbError(SqlState.UndefinedFunction, `function ${name}(${args.map((t) => typeName(t).toLowerCase()).join(', ')}) does not exist`);
}

export const AGG_NAMES: ReadonlySet<string> = new Set(['count', 'sum', 'avg', 'min', 'max', 'string_agg', 'bool_and', 'bool_or', 'every',
  'stddev', 'stddev_samp', 'stddev_pop', 'variance', 'var_samp', 'var_pop', 'percentile_cont', 'percentile_disc',
  'bit_and', 'bit_or', 'bit_xor', 'mode']);
export const WINDOW_ONLY: ReadonlySet<string> = new Set(['row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile',
  'lag', 'lead', 'first_value', 'last_value', 'nth_value']);
