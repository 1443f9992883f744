/**
 * Scalar functions: result typing (used by the binder) and a row implementation (used by the
 * vectorized evaluator in a loop). Strict functions return NULL on any NULL argument without
 * being called.
 *
 * Invariants:
 *  1. `ret(argTypes)` is the type of every non-null value `impl` returns for those arguments.
 *  2. Arguments reach `impl` already cast to `argType(i, argTypes)` when that is given.
 */
import { DbError, SqlState, T, isIntegerType } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import { Decimal } from '../types/decimal.js';
import { checkInt32, checkInt64, compareValues, formatDouble, valueToText } from '../types/values.js';
import type { Interval } from '../types/values.js';
import type { Catalog, QualifiedName } from '../catalog/catalog.js';
import { PG_FUNCTIONS } from './pg-functions.js';
import { MORE_FUNCTIONS } from './functions-more.js';

export interface FnCtx {
  readonly now: Date;
  readonly argTypes: readonly SqlType[];
  /** the session's catalog (sequence functions) */
  readonly catalog?: Catalog;
}

/** 'schema.name' or 'name' (a regclass text argument) → a qualified name, case-folded as PostgreSQL does. */
function regclassName(text: string): QualifiedName {
  const parts = text.split('.').map((p) => (p.startsWith('"') && p.endsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p.toLowerCase()));
  return parts.length > 1 ? { schema: parts[parts.length - 2]!, name: parts[parts.length - 1]! } : { name: parts[0]! };
}

function sequenceFn<K extends 'nextval' | 'currval' | 'setval'>(ctx: FnCtx, k: K): NonNullable<Catalog[K]> {
  const f = ctx.catalog?.[k];
  if (!f) throw new DbError(SqlState.FeatureNotSupported, `${k}() needs a catalog with sequences`);
  return (f as (...a: unknown[]) => unknown).bind(ctx.catalog) as NonNullable<Catalog[K]>;
}

export interface ScalarFn {
  /** result type, or undefined if the argument types do not fit */
  ret(args: readonly SqlType[]): SqlType | undefined;
  /** type the binder casts argument i to (undefined = leave it) */
  argType?(i: number, args: readonly SqlType[]): SqlType | undefined;
  impl(args: unknown[], ctx: FnCtx): unknown;
  /** false = called even when an argument is NULL */
  strict?: boolean;
  volatile?: boolean;
}

const num = (t: SqlType): boolean => isIntegerType(t) || t.id === 'REAL' || t.id === 'DOUBLE' || t.id === 'NUMERIC';

function numericKind(t: SqlType): SqlType {
  if (t.id === 'SMALLINT' || t.id === 'INTEGER') return T.integer;
  return t;
}

function textArgs(n: number): Pick<ScalarFn, 'argType'> {
  return { argType: (i) => (i < n ? T.text : T.integer) };
}

function mathD(f: (x: number) => number, check?: (x: number) => void): ScalarFn {
  return {
    ret: (a) => (a[0] && a[0].id === 'NUMERIC' ? T.numeric : T.double),
    argType: (_i, a) => (a[0] && a[0].id === 'NUMERIC' ? T.numeric : T.double),
    impl: (args) => {
      const x = args[0];
      if (x instanceof Decimal) { const d = x.toNumber(); check?.(d); return Decimal.fromNumber(f(d)).trim().withScale(Math.max(16 - Math.max(Decimal.fromNumber(f(d)).magnitude(), 0), 0)).trim(); }
      check?.(x as number);
      return f(x as number);
    },
  };
}

function like(pattern: string, escape = '\\'): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === escape && i + 1 < pattern.length) { re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); continue; }
    if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$', 's');
}

const likeCache = new Map<string, RegExp>();
export function likeRegex(pattern: string, ci: boolean): RegExp {
  const key = (ci ? 'i' : 'c') + pattern;
  let r = likeCache.get(key);
  if (!r) {
    r = like(pattern);
    if (ci) r = new RegExp(r.source, 'is');
    if (likeCache.size > 1000) likeCache.clear();
    likeCache.set(key, r);
  }
  return r;
}

function intervalOf(v: unknown): Interval { return v as Interval; }

function extractField(field: string, v: unknown, t: SqlType): Decimal {
  const f = field.toLowerCase();
  if (t.id === 'INTERVAL') {
    const i = intervalOf(v);
    switch (f) {
      case 'year': case 'years': return Decimal.fromInt(Math.trunc(i.months / 12));
      case 'month': case 'months': return Decimal.fromInt(i.months % 12);
      case 'day': case 'days': return Decimal.fromInt(i.days);
      case 'hour': case 'hours': return Decimal.fromInt(Math.trunc(i.us / 3600e6));
      case 'minute': case 'minutes': return Decimal.fromInt(Math.trunc(i.us / 60e6) % 60);
      case 'second': case 'seconds': return new Decimal(BigInt(Math.round(i.us % 60e6)), 6);
      case 'epoch': return new Decimal(BigInt(Math.round(i.months * 30 * 86400e6 + i.days * 86400e6 + i.us)), 6);
    }
    throw new DbError(SqlState.FeatureNotSupported, `unit "${field}" not supported for interval`);
  }
  const us = t.id === 'DATE' ? (v as number) * 86400e6 : (v as number);
  const d = new Date(Math.floor(us / 1000));
  switch (f) {
    case 'year': case 'years': return Decimal.fromInt(d.getUTCFullYear());
    case 'month': case 'months': return Decimal.fromInt(d.getUTCMonth() + 1);
    case 'day': case 'days': return Decimal.fromInt(d.getUTCDate());
    case 'hour': return Decimal.fromInt(d.getUTCHours());
    case 'minute': return Decimal.fromInt(d.getUTCMinutes());
    case 'second': return new Decimal(BigInt(Math.round(us - Math.floor(us / 60e6) * 60e6)), 6);
    case 'dow': return Decimal.fromInt(d.getUTCDay());
    case 'isodow': return Decimal.fromInt(d.getUTCDay() === 0 ? 7 : d.getUTCDay());
    case 'doy': return Decimal.fromInt(Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1);
    case 'quarter': return Decimal.fromInt(Math.floor(d.getUTCMonth() / 3) + 1);
    case 'week': {
      const dt = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      const day = dt.getUTCDay() || 7;
      dt.setUTCDate(dt.getUTCDate() + 4 - day);
      const y0 = Date.UTC(dt.getUTCFullYear(), 0, 1);
      return Decimal.fromInt(Math.ceil(((dt.getTime() - y0) / 86400000 + 1) / 7));
    }
    case 'epoch': return new Decimal(BigInt(Math.round(us)), 6).trim();
    case 'century': return Decimal.fromInt(Math.ceil(d.getUTCFullYear() / 100));
    case 'decade': return Decimal.fromInt(Math.floor(d.getUTCFullYear() / 10));
    case 'millennium': return Decimal.fromInt(Math.ceil(d.getUTCFullYear() / 1000));
    case 'microseconds': return Decimal.fromInt(Math.round(us - Math.floor(us / 60e6) * 60e6));
    case 'milliseconds': return new Decimal(BigInt(Math.round(us - Math.floor(us / 60e6) * 60e6)), 3);
  }
  throw new DbError(SqlState.InvalidParameterValue, `unit "${field}" not recognized`);
}

function dateTrunc(field: string, us: number): number {
  const d = new Date(Math.floor(us / 1000));
  const y = d.getUTCFullYear(), m = d.getUTCMonth(), day = d.getUTCDate();
  const at = (yy: number, mm: number, dd: number, h = 0, mi = 0, s = 0): number => {
    const x = new Date(0); x.setUTCFullYear(yy, mm, dd); x.setUTCHours(h, mi, s, 0); return x.getTime() * 1000;
  };
  switch (field.toLowerCase()) {
    case 'microseconds': return us;
    case 'milliseconds': return Math.floor(us / 1000) * 1000;
    case 'second': return Math.floor(us / 1e6) * 1e6;
    case 'minute': return Math.floor(us / 60e6) * 60e6;
    case 'hour': return Math.floor(us / 3600e6) * 3600e6;
    case 'day': return at(y, m, day);
    case 'week': { const wd = (d.getUTCDay() + 6) % 7; return at(y, m, day - wd); }
    case 'month': return at(y, m, 1);
    case 'quarter': return at(y, m - (m % 3), 1);
    case 'year': return at(y, 0, 1);
    case 'decade': return at(y - (((y % 10) + 10) % 10), 0, 1);
    case 'century': return at(Math.floor((y - 1) / 100) * 100 + 1, 0, 1);
  }
  throw new DbError(SqlState.InvalidParameterValue, `unit "${field}" not recognized`);
}

function sameAsFirst(a: readonly SqlType[]): SqlType | undefined { return a[0]; }

const text1: ScalarFn['ret'] = () => T.text;

export const SCALAR_FUNCTIONS: Record<string, ScalarFn> = {
  abs: {
    ret: (a) => (a[0] && num(a[0]) ? numericKind(a[0]) : undefined),
    impl: ([x]) => {
      if (typeof x === 'number') return Math.abs(x);
      if (typeof x === 'bigint') return checkInt64(x < 0n ? -x : x);
      return (x as Decimal).abs();
    },
  },
  sign: { ret: (a) => (a[0]?.id === 'NUMERIC' ? T.numeric : T.double), argType: (_i, a) => (a[0]?.id === 'NUMERIC' ? T.numeric : T.double),
    impl: ([x]) => (x instanceof Decimal ? Decimal.fromInt(x.sign()) : Math.sign(x as number)) },
  round: {
    ret: (a) => (a[0]?.id === 'REAL' || a[0]?.id === 'DOUBLE' ? T.double : T.numeric),
    argType: (i, a) => (i === 0 ? (a[0]?.id === 'REAL' || a[0]?.id === 'DOUBLE' ? T.double : T.numeric) : T.integer),
    impl: ([x, s]) => {
      if (typeof x === 'number') {
        if (s !== undefined) return Decimal.fromNumber(x).round(s as number).toNumber();
        const r = Math.round(x); return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
      }
      return (x as Decimal).round((s as number | undefined) ?? 0);
    },
  },
  trunc: {
    ret: (a) => (a[0]?.id === 'REAL' || a[0]?.id === 'DOUBLE' ? T.double : T.numeric),
    argType: (i, a) => (i === 0 ? (a[0]?.id === 'REAL' || a[0]?.id === 'DOUBLE' ? T.double : T.numeric) : T.integer),
    impl: ([x, s]) => (typeof x === 'number' ? Math.trunc(x) : (x as Decimal).trunc((s as number | undefined) ?? 0)),
  },
  ceil: { ret: (a) => (a[0]?.id === 'NUMERIC' || (a[0] && isIntegerType(a[0])) ? T.numeric : T.double),
    argType: (_i, a) => (a[0]?.id === 'NUMERIC' || (a[0] && isIntegerType(a[0])) ? T.numeric : T.double),
    impl: ([x]) => (typeof x === 'number' ? Math.ceil(x) : (x as Decimal).ceil()) },
  floor: { ret: (a) => (a[0]?.id === 'NUMERIC' || (a[0] && isIntegerType(a[0])) ? T.numeric : T.double),
    argType: (_i, a) => (a[0]?.id === 'NUMERIC' || (a[0] && isIntegerType(a[0])) ? T.numeric : T.double),
    impl: ([x]) => (typeof x === 'number' ? Math.floor(x) : (x as Decimal).floor()) },
  sqrt: mathD(Math.sqrt, (x) => { if (x < 0) throw new DbError('2201F' as never, 'cannot take square root of a negative number'); }),
  cbrt: { ret: () => T.double, argType: () => T.double, impl: ([x]) => Math.cbrt(x as number) },
  exp: mathD(Math.exp),
  ln: mathD(Math.log, (x) => { if (x <= 0) throw new DbError('2201E' as never, 'cannot take logarithm of a non-positive number'); }),
  log: { ret: (a) => (a[0]?.id === 'NUMERIC' || (a[0] && isIntegerType(a[0])) ? T.numeric : T.double), argType: () => T.double,
    impl: (args) => {
      const x = args.length === 2 ? (args[1] as number) : (args[0] as number);
      if (x <= 0) throw new DbError('2201E' as never, 'cannot take logarithm of a non-positive number');
      return args.length === 2 ? Math.log(x) / Math.log(args[0] as number) : Math.log10(x);
    } },
  log10: { ret: () => T.double, argType: () => T.double, impl: ([x]) => Math.log10(x as number) },
  power: { ret: (a) => (a[0]?.id === 'NUMERIC' || a[1]?.id === 'NUMERIC' ? T.numeric : T.double),
    argType: (_i, a) => (a[0]?.id === 'NUMERIC' || a[1]?.id === 'NUMERIC' ? T.numeric : T.double),
    impl: ([x, y]) => {
      if (x instanceof Decimal) {
        const r = Math.pow(x.toNumber(), (y as Decimal).toNumber());
        if ((y as Decimal).isInteger() && (y as Decimal).sign() >= 0 && Math.abs(r) < 1e15) return Decimal.fromNumber(r);
        return Decimal.fromNumber(r);
      }
      return Math.pow(x as number, y as number);
    } },
  pi: { ret: () => T.double, impl: () => Math.PI },
  random: { ret: () => T.double, impl: () => Math.random(), volatile: true },
  degrees: { ret: () => T.double, argType: () => T.double, impl: ([x]) => ((x as number) * 180) / Math.PI },
  radians: { ret: () => T.double, argType: () => T.double, impl: ([x]) => ((x as number) * Math.PI) / 180 },
  sin: { ret: () => T.double, argType: () => T.double, impl: ([x]) => Math.sin(x as number) },
  cos: { ret: () => T.double, argType: () => T.double, impl: ([x]) => Math.cos(x as number) },
  tan: { ret: () => T.double, argType: () => T.double, impl: ([x]) => Math.tan(x as number) },
  atan: { ret: () => T.double, argType: () => T.double, impl: ([x]) => Math.atan(x as number) },
  atan2: { ret: () => T.double, argType: () => T.double, impl: ([y, x]) => Math.atan2(y as number, x as number) },
  asin: { ret: () => T.double, argType: () => T.double, impl: ([x]) => Math.asin(x as number) },
  acos: { ret: () => T.double, argType: () => T.double, impl: ([x]) => Math.acos(x as number) },
  mod: {
    ret: (a) => (a[0] && a[1] && num(a[0]) && num(a[1]) ? (a[0].id === 'NUMERIC' || a[1].id === 'NUMERIC' ? T.numeric : a[0].id === 'BIGINT' || a[1].id === 'BIGINT' ? T.bigint : T.integer) : undefined),
    argType: (_i, a) => (a[0]!.id === 'NUMERIC' || a[1]!.id === 'NUMERIC' ? T.numeric : a[0]!.id === 'BIGINT' || a[1]!.id === 'BIGINT' ? T.bigint : T.integer),
    impl: ([x, y]) => {
      if (x instanceof Decimal) return x.mod(y as Decimal);
      if (typeof x === 'bigint') { if (y === 0n) throw new DbError(SqlState.DivisionByZero, 'division by zero'); return x % (y as bigint); }
      if (y === 0) throw new DbError(SqlState.DivisionByZero, 'division by zero');
      const r = (x as number) % (y as number);
      return r === 0 ? 0 : r;
    },
  },
  div: { ret: () => T.numeric, argType: () => T.numeric, impl: ([x, y]) => (x as Decimal).div(y as Decimal, 0).trunc(0) },
  gcd: { ret: (a) => a[0], impl: ([x, y]) => { let a = Math.abs(x as number), b = Math.abs(y as number); while (b) [a, b] = [b, a % b]; return a; } },
  length: { ret: () => T.integer, argType: () => T.text, impl: ([s]) => [...(s as string)].length },
  char_length: { ret: () => T.integer, argType: () => T.text, impl: ([s]) => [...(s as string)].length },
  character_length: { ret: () => T.integer, argType: () => T.text, impl: ([s]) => [...(s as string)].length },
  octet_length: { ret: () => T.integer, argType: () => T.text, impl: ([s]) => Buffer.byteLength(s as string) },
  bit_length: { ret: () => T.integer, argType: () => T.text, impl: ([s]) => Buffer.byteLength(s as string) * 8 },
  lower: { ret: text1, argType: () => T.text, impl: ([s]) => (s as string).toLowerCase() },
  upper: { ret: text1, argType: () => T.text, impl: ([s]) => (s as string).toUpperCase() },
  initcap: { ret: text1, argType: () => T.text, impl: ([s]) => (s as string).toLowerCase().replace(/(^|[^a-z0-9])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase()) },
  substr: { ret: text1, ...textArgs(1), impl: (args) => substring(args[0] as string, args[1] as number, args[2] as number | undefined) },
  substring: { ret: text1, ...textArgs(1), impl: (args) => substring(args[0] as string, args[1] as number, args[2] as number | undefined) },
  left: { ret: text1, ...textArgs(1), impl: ([s, n]) => { const c = [...(s as string)]; const k = n as number; return (k >= 0 ? c.slice(0, k) : c.slice(0, Math.max(c.length + k, 0))).join(''); } },
  right: { ret: text1, ...textArgs(1), impl: ([s, n]) => { const c = [...(s as string)]; const k = n as number; return (k >= 0 ? c.slice(Math.max(c.length - k, 0)) : c.slice(-k)).join(''); } },
  // POSITION(sub IN s) arrives as position(s, sub)
  position: { ret: () => T.integer, argType: () => T.text, impl: ([s, sub]) => (s as string).indexOf(sub as string) + 1 },
  strpos: { ret: () => T.integer, argType: () => T.text, impl: ([s, sub]) => (s as string).indexOf(sub as string) + 1 },
  replace: { ret: text1, argType: () => T.text, impl: ([s, a, b]) => (a === '' ? s : (s as string).split(a as string).join(b as string)) },
  translate: { ret: text1, argType: () => T.text, impl: ([s, from, to]) => [...(s as string)].map((c) => { const i = (from as string).indexOf(c); return i < 0 ? c : (to as string)[i] ?? ''; }).join('') },
  repeat: { ret: text1, ...textArgs(1), impl: ([s, n]) => (s as string).repeat(Math.max(n as number, 0)) },
  reverse: { ret: text1, argType: () => T.text, impl: ([s]) => [...(s as string)].reverse().join('') },
  btrim: { ret: text1, argType: () => T.text, impl: ([s, c]) => trimChars(s as string, (c as string | undefined) ?? ' ', true, true) },
  ltrim: { ret: text1, argType: () => T.text, impl: ([s, c]) => trimChars(s as string, (c as string | undefined) ?? ' ', true, false) },
  rtrim: { ret: text1, argType: () => T.text, impl: ([s, c]) => trimChars(s as string, (c as string | undefined) ?? ' ', false, true) },
  lpad: { ret: text1, argType: (i) => (i === 1 ? T.integer : T.text), impl: ([s, n, f]) => pad(s as string, n as number, (f as string | undefined) ?? ' ', true) },
  rpad: { ret: text1, argType: (i) => (i === 1 ? T.integer : T.text), impl: ([s, n, f]) => pad(s as string, n as number, (f as string | undefined) ?? ' ', false) },
  split_part: { ret: text1, argType: (i) => (i === 2 ? T.integer : T.text), impl: ([s, d, n]) => {
    const parts = d === '' ? [s as string] : (s as string).split(d as string);
    let k = n as number;
    if (k === 0) throw new DbError(SqlState.InvalidParameterValue, 'field position must not be zero');
    if (k < 0) k = parts.length + k + 1;
    return parts[k - 1] ?? '';
  } },
  concat: { ret: text1, strict: false, impl: (args, ctx) => args.map((a, i) => (a === null ? '' : valueToText(a, ctx.argTypes[i]!))).join('') },
  concat_ws: { ret: text1, strict: false, impl: (args, ctx) => {
    if (args[0] === null) return null;
    return args.slice(1).filter((a) => a !== null).map((a, i) => valueToText(a, ctx.argTypes[i + 1]!)).join(args[0] as string);
  } },
  starts_with: { ret: () => T.boolean, argType: () => T.text, impl: ([s, p]) => (s as string).startsWith(p as string) },
  ascii: { ret: () => T.integer, argType: () => T.text, impl: ([s]) => (s as string).codePointAt(0) ?? 0 },
  chr: { ret: text1, argType: () => T.integer, impl: ([n]) => String.fromCodePoint(n as number) },
  md5: { ret: text1, argType: () => T.text, impl: () => { throw new DbError(SqlState.FeatureNotSupported, 'md5 is not supported'); } },
  to_hex: { ret: text1, impl: ([n]) => (typeof n === 'bigint' ? BigInt.asUintN(64, n).toString(16) : ((n as number) >>> 0).toString(16)) },
  now: { ret: () => T.timestamp, impl: (_a, ctx) => ctx.now.getTime() * 1000 },
  nextval: { ret: () => T.bigint, argType: () => T.text, volatile: true, impl: ([n], ctx) => sequenceFn(ctx, 'nextval')(regclassName(n as string)) },
  currval: { ret: () => T.bigint, argType: () => T.text, volatile: true, impl: ([n], ctx) => sequenceFn(ctx, 'currval')(regclassName(n as string)) },
  setval: {
    ret: (a) => (a.length === 2 || a.length === 3 ? T.bigint : undefined),
    argType: (i) => (i === 0 ? T.text : i === 1 ? T.bigint : T.boolean),
    volatile: true,
    impl: ([n, v, called], ctx) => sequenceFn(ctx, 'setval')(regclassName(n as string), v as bigint, called === undefined ? true : !!called),
  },
  current_timestamp: { ret: () => T.timestamp, impl: (_a, ctx) => ctx.now.getTime() * 1000 },
  localtimestamp: { ret: () => T.timestamp, impl: (_a, ctx) => ctx.now.getTime() * 1000 },
  current_date: { ret: () => T.date, impl: (_a, ctx) => Math.floor(ctx.now.getTime() / 86400000) },
  clock_timestamp: { ret: () => T.timestamp, impl: () => Date.now() * 1000, volatile: true },
  date_part: { ret: () => T.double, argType: (i) => (i === 0 ? T.text : undefined),
    impl: ([f, v], ctx) => extractField(f as string, v, ctx.argTypes[1]!).toNumber() },
  extract: { ret: () => T.numeric, argType: (i) => (i === 0 ? T.text : undefined),
    impl: ([f, v], ctx) => extractField(f as string, v, ctx.argTypes[1]!) },
  date_trunc: { ret: (a) => (a[1]?.id === 'INTERVAL' ? T.interval : T.timestamp), argType: (i, a) => (i === 0 ? T.text : a[1]?.id === 'DATE' ? T.timestamp : undefined),
    impl: ([f, v]) => dateTrunc(f as string, v as number) },
  age: { ret: () => T.interval, impl: ([a, b]) => ({ months: 0, days: 0, us: (a as number) - (b as number) }) },
  greatest: { ret: sameAsFirst, strict: false, impl: (args) => pickExtreme(args, 1) },
  least: { ret: sameAsFirst, strict: false, impl: (args) => pickExtreme(args, -1) },
  nullif: { ret: sameAsFirst, strict: false, impl: ([a, b]) => (a !== null && b !== null && compareValues(a, b) === 0 ? null : a) },
  num_nonnulls: { ret: () => T.integer, strict: false, impl: (args) => args.filter((a) => a !== null).length },
  num_nulls: { ret: () => T.integer, strict: false, impl: (args) => args.filter((a) => a === null).length },
  to_char: { ret: text1, impl: ([v], ctx) => valueToText(v, ctx.argTypes[0]!) },
  float8: { ret: () => T.double, argType: () => T.double, impl: ([x]) => x },
  typeof_: { ret: text1, impl: () => '' },
  isfinite: { ret: () => T.boolean, impl: ([x]) => Number.isFinite(x as number) },
  version: { ret: text1, impl: () => 'PostgreSQL 16.0 (QuiverDB)' },
  current_schema: { ret: text1, impl: () => 'public' },
  current_database: { ret: text1, impl: () => 'quiverdb' },
  current_user: { ret: text1, impl: () => 'quiver' },
  int4: { ret: () => T.integer, argType: () => T.integer, impl: ([x]) => x },
  text: { ret: text1, argType: () => T.text, impl: ([x]) => x },
};
SCALAR_FUNCTIONS['ceiling'] = SCALAR_FUNCTIONS['ceil']!;
SCALAR_FUNCTIONS['pow'] = SCALAR_FUNCTIONS['power']!;
SCALAR_FUNCTIONS['dround'] = SCALAR_FUNCTIONS['round']!;
// PostgreSQL catalog / compatibility functions (pg-functions.ts)
for (const [k, f] of Object.entries(PG_FUNCTIONS)) SCALAR_FUNCTIONS[k] ??= f;
// more PostgreSQL functions (functions-more.ts; its entries replace same-named ones above)
Object.assign(SCALAR_FUNCTIONS, MORE_FUNCTIONS);

function pickExtreme(args: unknown[], dir: number): unknown {
  let best: unknown = null;
  for (const a of args) if (a !== null && (best === null || compareValues(a, best) * dir > 0)) best = a;
  return best;
}

function substring(s: string, start: number, len?: number): string {
  const chars = [...s];
  let from = start - 1;
  let to = len === undefined ? chars.length : from + len;
  if (len !== undefined && len < 0) throw new DbError(SqlState.InvalidParameterValue ?? '22011', 'negative substring length not allowed');
  if (from < 0) from = 0;
  if (to < from) to = from;
  return chars.slice(from, to).join('');
}

function trimChars(s: string, chars: string, left: boolean, right: boolean): string {
  let a = 0, b = s.length;
  if (left) while (a < b && chars.includes(s[a]!)) a++;
  if (right) while (b > a && chars.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function pad(s: string, n: number, fill: string, left: boolean): string {
  const chars = [...s];
  if (chars.length >= n) return chars.slice(0, Math.max(n, 0)).join('');
  if (fill === '') return s;
  let p = '';
  while ([...p].length < n - chars.length) p += fill;
  p = [...p].slice(0, n - chars.length).join('');
  return left ? p + s : s + p;
}

export { checkInt32, formatDouble };
