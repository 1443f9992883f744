/**
 * The executor's value representation and the operations every operator shares on it: compare,
 * hash key, cast, and conversion to and from the shared column layout (common/src/vector.ts).
 *
 * Internal values by SQL type (closed, exhaustive; NULL is always `null`):
 *   BOOLEAN boolean; SMALLINT, INTEGER number; BIGINT bigint; REAL, DOUBLE number;
 *   NUMERIC Decimal; VARCHAR, TEXT string; DATE number (days since 1970-01-01);
 *   TIMESTAMP number (µs since 1970-01-01); INTERVAL Interval.
 *
 * Invariants:
 *  1. Every value of a column has the representation of the column's SQL type.
 *  2. `keyOf(a) === keyOf(b)` iff a and b are equal under SQL equality (NULLs grouped together).
 */
import { DbError, SqlState, T, allocateData, physicalTypeOf, typeName } from '@quiverdb/common';
import type { ColumnBatch, ColumnVector, SqlType } from '@quiverdb/common';
import { Decimal } from './decimal.js';

export interface Interval { readonly months: number; readonly days: number; readonly us: number }

export function isInterval(v: unknown): v is Interval {
  return typeof v === 'object' && v !== null && 'months' in v && 'us' in v;
}

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
export const INT16_MIN = -32768;
export const INT16_MAX = 32767;
export const INT64_MIN = -9223372036854775808n;
export const INT64_MAX = 9223372036854775807n;

export function overflow(what = 'integer'): DbError {
  return new DbError(SqlState.NumericValueOutOfRange, `${what} out of range`);
}

export function checkInt32(n: number): number {
  if (n > INT32_MAX || n < INT32_MIN || Number.isNaN(n)) throw overflow('integer');
  return n;
}
export function checkInt64(n: bigint): bigint {
  if (n > INT64_MAX || n < INT64_MIN) throw overflow('bigint');
  return n;
}

/** Total order used by ORDER BY, MIN/MAX and merge logic; callers handle NULL. */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number') {
    if (typeof b === 'number') {
      if (a < b) return -1;
      if (a > b) return 1;
      if (a === b) return 0;
      // NaN sorts above every other value (PostgreSQL)
      const an = Number.isNaN(a), bn = Number.isNaN(b);
      return an === bn ? 0 : an ? 1 : -1;
    }
    if (typeof b === 'bigint') return cmpMixed(a, b);
    if (b instanceof Decimal) return cmpNumDec(a, b);
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint') {
    if (typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
    if (typeof b === 'number') return -cmpMixed(b, a);
    if (b instanceof Decimal) return Decimal.fromInt(a).cmp(b);
  }
  if (a instanceof Decimal) {
    if (b instanceof Decimal) return a.cmp(b);
    if (typeof b === 'number') return -cmpNumDec(b, a);
    if (typeof b === 'bigint') return a.cmp(Decimal.fromInt(b));
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (isInterval(a) && isInterval(b)) {
    const x = intervalUs(a), y = intervalUs(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const sa = String(a), sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function cmpMixed(a: number, b: bigint): number {
  if (Number.isInteger(a)) { const x = BigInt(a); return x < b ? -1 : x > b ? 1 : 0; }
  const bn = Number(b);
  return a < bn ? -1 : a > bn ? 1 : 0;
}
function cmpNumDec(a: number, b: Decimal): number {
  if (Number.isInteger(a)) return Decimal.fromInt(a).cmp(b);
  const bn = b.toNumber();
  return a < bn ? -1 : a > bn ? 1 : 0;
}

export function intervalUs(i: Interval): number {
  return i.months * 30 * 86400e6 + i.days * 86400e6 + i.us;
}

/** Hash/group key: equal SQL values give equal keys. */
export function keyOf(v: unknown): unknown {
  if (v === null) return NULL_KEY;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : 'b' + v.toString();
  }
  if (v instanceof Decimal) {
    const t = v.trim();
    if (t.s === 0) { if (t.small) return t.n; const n = Number(t.v); if (Number.isSafeInteger(n)) return n; }
    return 'd' + t.toString();
  }
  if (typeof v === 'boolean') return v ? TRUE_KEY : FALSE_KEY;
  if (isInterval(v)) return 'i' + intervalUs(v);
  return String(v);
}
export const NULL_KEY = '\u0000null';
const TRUE_KEY = '\u0000t';
const FALSE_KEY = '\u0000f';

/** Key of a tuple of values, as a string. */
export function tupleKey(vals: readonly unknown[]): string {
  let s = '';
  for (const v of vals) {
    const k = keyOf(v);
    s += (typeof k === 'number' ? 'n' + k : 's' + String(k)) + '\u0001';
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Dates and times

const US_PER_DAY = 86400e6;

/** The value of `n` ASCII digits at `text[at]`, or -1 when one is not a digit. */
function digitsAt(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (valid y, m, d). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseDate(text: string): number {
  // the canonical `YYYY-MM-DD` (every bulk load of dates), without a regex or a Date object
  if (text.length === 10 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45) {
    const y = digitsAt(text, 0, 4), mo = digitsAt(text, 5, 2), d = digitsAt(text, 8, 2);
    if (y >= 1 && mo >= 1 && mo <= 12 && d >= 1) {
      const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
      if (d <= MONTH_DAYS[mo - 1]! + (leap ? 1 : 0)) return daysFromCivil(y, mo, d);
    }
    // anything else (out of range, not digits): the general path decides
  }
  const m = /^\s*(\d{1,6})-(\d{1,2})-(\d{1,2})(?:[ T].*)?\s*$/.exec(text);
  if (!m) throw new DbError(SqlState.InvalidDatetimeFormat, `invalid input syntax for type date: "${text}"`);
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31) throw new DbError(SqlState.DatetimeFieldOverflow, `date/time field value out of range: "${text}"`);
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  if (dt.getUTCDate() !== d) throw new DbError(SqlState.DatetimeFieldOverflow, `date/time field value out of range: "${text}"`);
  return Math.floor(dt.getTime() / 86400000);
}

export function parseTimestamp(text: string): number {
  const m = /^\s*(\d{1,6})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*$/.exec(text);
  if (!m) throw new DbError(SqlState.InvalidDatetimeFormat, `invalid input syntax for type timestamp: "${text}"`);
  const days = parseDate(`${m[1]}-${m[2]}-${m[3]}`);
  const h = Number(m[4] ?? 0), mi = Number(m[5] ?? 0), s = Number(m[6] ?? 0);
  const frac = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  if (h > 24 || mi > 59 || s > 60) throw new DbError(SqlState.DatetimeFieldOverflow, `date/time field value out of range: "${text}"`);
  return days * US_PER_DAY + ((h * 60 + mi) * 60 + s) * 1e6 + frac;
}

function pad(n: number, w = 2): string { return String(n).padStart(w, '0'); }

export function formatDate(days: number): string {
  const d = new Date(days * 86400000);
  const y = d.getUTCFullYear();
  return `${y < 0 ? '-' : ''}${pad(Math.abs(y), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export function formatTimestamp(us: number): string {
  const days = Math.floor(us / US_PER_DAY);
  let rest = us - days * US_PER_DAY;
  const h = Math.floor(rest / 3600e6); rest -= h * 3600e6;
  const mi = Math.floor(rest / 60e6); rest -= mi * 60e6;
  const s = Math.floor(rest / 1e6); rest -= s * 1e6;
  const frac = Math.round(rest);
  let out = `${formatDate(days)} ${pad(h)}:${pad(mi)}:${pad(s)}`;
  if (frac > 0) out += '.' + String(frac).padStart(6, '0').replace(/0+$/, '');
  return out;
}

export function parseInterval(text: string): Interval {
  let months = 0, days = 0, us = 0;
  const t = text.trim().toLowerCase();
  const re = /([+-]?\d+(?:\.\d+)?)\s*(years?|y|mons?|months?|weeks?|w|days?|d|hours?|h|minutes?|mins?|m|seconds?|secs?|s|milliseconds?|ms|microseconds?|us)\b|([+-]?\d+):(\d{2})(?::(\d{2}(?:\.\d+)?))?/g;
  let matched = false;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    matched = true;
    if (m[3] !== undefined) {
      const sign = m[3].startsWith('-') ? -1 : 1;
      us += sign * ((Math.abs(Number(m[3])) * 3600 + Number(m[4]) * 60 + Number(m[5] ?? 0)) * 1e6);
      continue;
    }
    const n = Number(m[1]);
    const u = m[2] ?? '';
    // fractions cascade as PostgreSQL's DecodeInterval: years to whole months, months to days
    // (30 per month), weeks and days to time
    if (u.startsWith('y')) months += Math.trunc(n) * 12 + Math.round((n - Math.trunc(n)) * 12);
    else if (u.startsWith('mon')) { months += Math.trunc(n); days += (n - Math.trunc(n)) * 30; }
    else if (u.startsWith('w')) days += n * 7;
    else if (u.startsWith('d')) days += n;
    else if (u.startsWith('h')) us += n * 3600e6;
    else if (u === 'm' || u.startsWith('min')) us += n * 60e6;
    else if (u === 'ms' || u.startsWith('milli')) us += n * 1e3;
    else if (u === 'us' || u.startsWith('micro')) us += n;
    else us += n * 1e6;
  }
  if (!matched) throw new DbError(SqlState.InvalidDatetimeFormat, `invalid input syntax for type interval: "${text}"`);
  const wholeDays = Math.trunc(days);
  return { months: Math.trunc(months), days: wholeDays, us: Math.round(us + (days - wholeDays) * US_PER_DAY) };
}

/** PostgreSQL's interval output (IntervalStyle postgres): '1 year 2 mons -3 days +04:05:06.5'. */
export function formatInterval(i: Interval): string {
  let out = '';
  let isZero = true, isBefore = false;
  const part = (v: number, unit: string): void => {
    if (v === 0) return;
    out += `${isZero ? '' : ' '}${isBefore && v > 0 ? '+' : ''}${v} ${unit}${v !== 1 ? 's' : ''}`;
    isBefore = v < 0; isZero = false;
  };
  part(Math.trunc(i.months / 12), 'year');
  part(i.months % 12, 'mon');
  part(i.days, 'day');
  if (isZero || i.us !== 0) {
    const neg = i.us < 0;
    let r = Math.abs(i.us);
    const h = Math.floor(r / 3600e6); r -= h * 3600e6;
    const mi = Math.floor(r / 60e6); r -= mi * 60e6;
    const s = Math.floor(r / 1e6); r -= s * 1e6;
    let str = `${isZero ? '' : ' '}${neg ? '-' : isBefore ? '+' : ''}${pad(h)}:${pad(mi)}:${pad(s)}`;
    if (r > 0) str += '.' + String(Math.round(r)).padStart(6, '0').replace(/0+$/, '');
    out += str;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text output (casts to text, public values)

export function formatDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Object.is(n, -0)) return '-0';
  const s = String(n);
  return s;
}

export function valueToText(v: unknown, t: SqlType): string {
  switch (t.id) {
    case 'BOOLEAN': return v ? 'true' : 'false';
    case 'REAL': case 'DOUBLE': return formatDouble(v as number);
    case 'NUMERIC': return (v as Decimal).toString();
    case 'DATE': return formatDate(v as number);
    case 'TIMESTAMP': return formatTimestamp(v as number);
    case 'INTERVAL': return formatInterval(v as Interval);
    default: return String(v);
  }
}

// ---------------------------------------------------------------------------------------------
// Casts

/**
 * The double of a decimal numeral (`[+-]digits[.digits][e[+-]digits]`, as PostgreSQL's float8in
 * rounds it), or undefined when it is past double's range or a nonzero value rounding to 0.
 */
export function decimalToDouble(text: string): number | undefined {
  const n = Number(text);
  return !Number.isFinite(n) || (n === 0 && /[1-9]/.test(text.replace(/e.*$/i, ''))) ? undefined : n;
}

/** A value past the range of REAL / DOUBLE PRECISION (or rounding a nonzero value to 0). */
function floatRange(t: SqlType, text: string): DbError {
  return new DbError(SqlState.NumericValueOutOfRange, `"${text}" is out of range for type ${t.id === 'REAL' ? 'real' : 'double precision'}`);
}

function badInput(t: SqlType, text: string): DbError {
  return new DbError(SqlState.InvalidTextRepresentation, `invalid input syntax for type ${typeName(t).toLowerCase()}: "${text}"`);
}

function roundHalfEven(n: number): number {
  const r = Math.round(n);
  if (Math.abs(n % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

function textToInteger(s: string, t: SqlType): number | bigint {
  const x = s.trim();
  if (!/^[+-]?\d+$/.test(x)) throw badInput(t, s);
  const b = BigInt(x);
  if (t.id === 'BIGINT') return checkInt64(b);
  const n = Number(b);
  if (t.id === 'SMALLINT' && (n < INT16_MIN || n > INT16_MAX)) throw overflow('smallint');
  return checkInt32(n);
}

function toIntType(v: number | bigint, t: SqlType): number | bigint {
  if (t.id === 'BIGINT') return checkInt64(typeof v === 'bigint' ? v : BigInt(v));
  const n = Number(v);
  if (t.id === 'SMALLINT') { if (n < INT16_MIN || n > INT16_MAX) throw overflow('smallint'); return n; }
  return checkInt32(n);
}

/** Cast a non-null internal value of type `from` to type `to` (PostgreSQL's cast rules). */
export function castValue(v: unknown, from: SqlType, to: SqlType): unknown {
  if (v === null) return null;
  const f = from.id;
  switch (to.id) {
    case 'SMALLINT': case 'INTEGER': case 'BIGINT': {
      if (typeof v === 'number') {
        if (f === 'REAL' || f === 'DOUBLE') {
          if (!Number.isFinite(v)) throw overflow(typeName(to).toLowerCase());
          const r = roundHalfEven(v);
          if (to.id === 'BIGINT') { if (Math.abs(r) > 9.223372036854775e18) throw overflow('bigint'); return BigInt(r); }
          return toIntType(r, to);
        }
        return toIntType(v, to);
      }
      if (typeof v === 'bigint') return toIntType(v, to);
      if (v instanceof Decimal) return toIntType(v.toBigIntRounded(), to);
      if (typeof v === 'string') return textToInteger(v, to);
      if (typeof v === 'boolean') return to.id === 'BIGINT' ? (v ? 1n : 0n) : v ? 1 : 0;
      break;
    }
    case 'REAL': case 'DOUBLE': {
      let n: number;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'bigint') n = Number(v);
      else if (v instanceof Decimal) {
        // numeric has no -0; past the type's range, or a nonzero value rounding to 0, is 22003
        // (PostgreSQL's float8in of the numeric's text; subnormal results are allowed)
        n = v.toNumber() + 0;
        if (!Number.isFinite(n) || (n === 0 && v.sign() !== 0)) throw floatRange(to, v.toString());
      } else if (typeof v === 'string') {
        const x = v.trim().toLowerCase();
        if (x === 'nan') n = NaN;
        else if (x === 'infinity' || x === '+infinity' || x === 'inf') n = Infinity;
        else if (x === '-infinity' || x === '-inf') n = -Infinity;
        else if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(x)) {
          const d = decimalToDouble(x);
          if (d === undefined) throw floatRange(to, v);
          n = d;
        } else throw badInput(to, v);
      } else break;
      if (to.id === 'REAL') {
        const f = Math.fround(n);
        if (Number.isFinite(n) && (!Number.isFinite(f) || (f === 0 && n !== 0))) throw floatRange(to, String(v));
        return f;
      }
      return n;
    }
    case 'NUMERIC': {
      let d: Decimal;
      if (v instanceof Decimal) d = v;
      else if (typeof v === 'number') {
        if (f === 'REAL' || f === 'DOUBLE') d = Decimal.fromNumber(v);
        else d = Decimal.fromInt(v);
      } else if (typeof v === 'bigint') d = Decimal.fromInt(v);
      else if (typeof v === 'string') d = Decimal.parse(v);
      else break;
      if (to.scale !== undefined || to.precision !== undefined) {
        d = d.withScale(to.scale ?? 0);
        if (to.precision !== undefined) {
          const intDigits = d.abs().toString().split('.')[0]!.replace(/^0+/, '').length;
          if (intDigits > to.precision - (to.scale ?? 0)) throw new DbError(SqlState.NumericValueOutOfRange, 'numeric field overflow');
        }
      }
      return d;
    }
    case 'TEXT': case 'VARCHAR': {
      const s = typeof v === 'string' ? v : valueToText(v, from);
      if (to.length !== undefined && s.length > to.length) {
        // explicit cast truncates (PostgreSQL); assignment checks are done by DML
        return s.slice(0, to.length);
      }
      return s;
    }
    case 'BOOLEAN': {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number' && (f === 'INTEGER' || f === 'SMALLINT')) return v !== 0;
      if (typeof v === 'bigint') return v !== 0n;
      if (typeof v === 'string') {
        const x = v.trim().toLowerCase();
        if (['t', 'true', 'yes', 'y', 'on', '1'].includes(x)) return true;
        if (['f', 'false', 'no', 'n', 'off', '0'].includes(x)) return false;
        throw badInput(to, v);
      }
      break;
    }
    case 'DATE': {
      if (typeof v === 'string') return parseDate(v);
      if (f === 'DATE') return v;
      if (f === 'TIMESTAMP') return Math.floor((v as number) / US_PER_DAY);
      break;
    }
    case 'TIMESTAMP': {
      if (typeof v === 'string') return parseTimestamp(v);
      if (f === 'TIMESTAMP') return v;
      if (f === 'DATE') return (v as number) * US_PER_DAY;
      break;
    }
    case 'INTERVAL': {
      if (typeof v === 'string') return parseInterval(v);
      if (isInterval(v)) return v;
      break;
    }
    case 'NULL': return v;
  }
  throw new DbError(SqlState.CannotCoerce, `cannot cast type ${typeName(from).toLowerCase()} to ${typeName(to).toLowerCase()}`);
}

// ---------------------------------------------------------------------------------------------
// Column layout conversion

/** Internal values of one vector of the shared layout. */
export function vectorToValues(vec: ColumnVector, length: number, t: SqlType): unknown[] {
  const data = vec.data;
  let val = vec.validity;
  if (val !== null) {
    // an all-valid validity array is the same as none (keeps the typed fast paths)
    let all = true;
    for (let i = 0; i < length; i++) if (val[i] === 0) { all = false; break; }
    if (all) val = null;
  }
  // a NULL-free numeric vector is already in executor representation (invariant 3 of
  // exec/rel.ts allows typed arrays as columns)
  if (val === null && !Array.isArray(data) && t.id !== 'BOOLEAN' && t.id !== 'NUMERIC' && t.id !== 'INTERVAL') {
    // copied (a memcpy): the producer may reuse its buffers for the next batch
    const td = data as Int32Array | Float64Array | BigInt64Array;
    return td.slice(0, length) as unknown as unknown[];
  }
  if (val === null && Array.isArray(data) && (t.id === 'TEXT' || t.id === 'VARCHAR')) return data.slice(0, length);
  const out = new Array<unknown>(length);
  switch (t.id) {
    case 'BOOLEAN':
      for (let i = 0; i < length; i++) out[i] = val !== null && val[i] === 0 ? null : (data as Uint8Array)[i] !== 0;
      return out;
    case 'NUMERIC':
      for (let i = 0; i < length; i++) out[i] = val !== null && val[i] === 0 ? null : Decimal.parse(String((data as unknown[])[i]));
      return out;
    case 'REAL':
      for (let i = 0; i < length; i++) out[i] = val !== null && val[i] === 0 ? null : Math.fround((data as Float64Array)[i]!);
      return out;
    default:
      for (let i = 0; i < length; i++) out[i] = val !== null && val[i] === 0 ? null : (data as ArrayLike<unknown>)[i];
      return out;
  }
}

/** A vector of the shared layout from internal values. */
export function valuesToVector(vals: readonly unknown[], t: SqlType): ColumnVector {
  const n = vals.length;
  const p = physicalTypeOf(t);
  if (!Array.isArray(vals)) {
    // a typed-array column (no NULLs): reuse it when it already has the layout's array type
    const ok = ((p === 'int32' || p === 'int16' || p === 'date32') && vals instanceof Int32Array)
      || ((p === 'float64' || p === 'float32' || p === 'timestamp_us') && vals instanceof Float64Array)
      || (p === 'int64' && vals instanceof BigInt64Array);
    if (ok) return { data: vals as unknown as Int32Array, validity: null };
  }
  const data = allocateData(p, n);
  let validity: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const v = vals[i];
    if (v === null || v === undefined) {
      if (validity === null) { validity = new Uint8Array(n); validity.fill(1, 0, i); }
      continue;
    }
    if (validity !== null) validity[i] = 1;
    switch (t.id) {
      case 'BOOLEAN': (data as Uint8Array)[i] = v ? 1 : 0; break;
      case 'NUMERIC': (data as unknown[])[i] = (v as Decimal).toString(); break;
      case 'BIGINT': (data as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(v as number); break;
      default: (data as unknown[])[i] = v;
    }
  }
  return { data, validity };
}

export function valuesToBatch(cols: readonly (readonly unknown[])[], types: readonly SqlType[], length: number): ColumnBatch {
  return { length, columns: cols.map((c, i) => valuesToVector(c.length === length ? c : c.slice(0, length), types[i]!)) };
}

/** Public value (Result.rows) of an internal value. */
export function publicValue(v: unknown, t: SqlType): unknown {
  if (v === null || v === undefined) return null;
  switch (t.id) {
    case 'NUMERIC': return (v as Decimal).toString();
    case 'DATE': return formatDate(v as number);
    case 'TIMESTAMP': return formatTimestamp(v as number);
    case 'INTERVAL': return formatInterval(v as Interval);
    case 'BIGINT': return typeof v === 'bigint' ? v : BigInt(v as number);
    case 'NULL': return null;
    default: return v;
  }
}

/** Internal value of a public / parameter JS value, given the target type. */
export function fromJsValue(v: unknown, t: SqlType): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) {
    const us = v.getTime() * 1000;
    if (t.id === 'DATE') return Math.floor(us / US_PER_DAY);
    if (t.id === 'TIMESTAMP') return us;
    return formatTimestamp(us);
  }
  if (typeof v === 'string') return castValue(v, T.text, t);
  if (typeof v === 'number') {
    return castValue(v, Number.isInteger(v) && t.id !== 'REAL' && t.id !== 'DOUBLE' ? T.integer : T.double, t);
  }
  if (typeof v === 'bigint') return castValue(v, T.bigint, t);
  if (typeof v === 'boolean') return castValue(v, T.boolean, t);
  if (v instanceof Decimal) return castValue(v, T.numeric, t);
  return v;
}
