/**
 * Values in PostgreSQL's text format: what DataRow carries for a column in format 0, and how a
 * text-format Bind parameter becomes a JS value for `conn.query(sql, params)`.
 *
 * Output follows PostgreSQL 12+ (extra_float_digits = 1, the default):
 *   bool 't' / 'f'; floats in the shortest text that reads back to the same value, fixed-point
 *   when the decimal exponent is in [-4, 15) for float8 and [-4, 6) for float4, else
 *   'd.ddde+XX' with at least two exponent digits; 'NaN', 'Infinity', '-Infinity', '-0'.
 *   Strings (TEXT, VARCHAR, NUMERIC, DATE, TIMESTAMP, INTERVAL) pass through unchanged: the engine
 *   already prints them in PostgreSQL's output style (see @quiverdb/common types.ts).
 *
 * Invariants:
 *  1. formatFloat8(x) parses back (Number()) to x for every finite double, and likewise
 *     Math.fround(Number(formatFloat4(x))) === x for every float32 value x.
 */
import { ProtocolError } from './error-info.js';
import { Oid } from './pg-types.js';

/** Place shortest significant `digits` with decimal exponent `exp` the way PostgreSQL's float output does. */
function placeDigits(digits: string, exp: number, fixedBelow: number): string {
  if (exp >= -4 && exp < fixedBelow) {
    if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${digits}`;
    if (digits.length <= exp + 1) return digits + '0'.repeat(exp + 1 - digits.length);
    return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp);
  return `${mantissa}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : String(e)}`;
}

function specialFloat(v: number): string | null {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return null;
}

/** digits and decimal exponent of the shortest round-trip representation of |v| */
function shortest(v: number): { digits: string; exp: number } {
  const [m, e] = Math.abs(v).toExponential().split('e') as [string, string];
  return { digits: m.replace('.', ''), exp: Number(e) };
}

export function formatFloat8(v: number): string {
  // fast path: where PostgreSQL prints fixed-point, JS's String() prints the same shortest digits
  const a = v < 0 ? -v : v;
  if (a >= 1e-4 && a < 1e15) return String(v);
  const special = specialFloat(v);
  if (special !== null) return special;
  const { digits, exp } = shortest(v);
  return (v < 0 ? '-' : '') + placeDigits(digits, exp, 15);
}

export function formatFloat4(v: number): string {
  const a = v < 0 ? -v : v;
  // fast path: integers below 1e6 print as themselves
  if (a < 1e6 && Number.isInteger(v) && v !== 0) return String(v);
  const special = specialFloat(v);
  if (special !== null) return special;
  const f = Math.fround(v);
  let best = Math.abs(f);
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(Math.abs(f).toPrecision(p));
    if (Math.fround(candidate) === Math.abs(f)) { best = candidate; break; }
  }
  const { digits, exp } = shortest(best);
  return (f < 0 ? '-' : '') + placeDigits(digits, exp, 6);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function formatDate(d: Date, oid: number): string {
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (oid === Oid.date) return date;
  const ms = d.getUTCMilliseconds();
  return `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${ms ? `.${pad(ms, 3)}` : ''}`;
}

/** JSON text of any value, with bigint kept exact. */
export function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'null';
}

/** PostgreSQL text format of a non-null value in a column of type `oid`. */
export function toPgText(v: unknown, oid: number): string {
  switch (typeof v) {
    case 'string': return v;
    case 'boolean': return v ? 't' : 'f';
    case 'bigint': return v.toString();
    case 'number':
      if (oid === Oid.float4) return formatFloat4(v);
      if (oid === Oid.float8) return formatFloat8(v);
      if (Number.isInteger(v) && Math.abs(v) < 1e21) return Object.is(v, -0) ? '0' : String(v);
      return formatFloat8(v);
    default: break;
  }
  if (v instanceof Date) return formatDate(v, oid);
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  return jsonText(v);
}

const BOOL_TRUE = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const BOOL_FALSE = new Set(['f', 'false', 'n', 'no', 'off', '0']);

function invalid(typeName: string, text: string): ProtocolError {
  return new ProtocolError('22P02', `invalid input syntax for type ${typeName}: "${text}"`);
}

/**
 * A text-format parameter as the JS value the engine expects for the declared type `oid`.
 * Unspecified (0) and string-like types stay strings: the engine coerces them like PostgreSQL
 * coerces an untyped literal.
 */
export function fromPgText(text: string, oid: number): unknown {
  switch (oid) {
    case Oid.int2:
    case Oid.int4: {
      const t = text.trim();
      if (!/^[+-]?\d+$/.test(t)) throw invalid(oid === Oid.int2 ? 'smallint' : 'integer', text);
      const n = Number(t);
      const limit = oid === Oid.int2 ? 32768 : 2147483648;
      if (n < -limit || n >= limit) throw new ProtocolError('22003', `value "${text}" is out of range for type ${oid === Oid.int2 ? 'smallint' : 'integer'}`);
      return n;
    }
    case Oid.int8: {
      const t = text.trim();
      if (!/^[+-]?\d+$/.test(t)) throw invalid('bigint', text);
      const n = BigInt(t);
      if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new ProtocolError('22003', `value "${text}" is out of range for type bigint`);
      return n;
    }
    case Oid.float4:
    case Oid.float8: {
      const t = text.trim();
      const lower = t.toLowerCase();
      if (lower === 'nan') return NaN;
      if (lower === 'infinity' || lower === '+infinity' || lower === 'inf') return Infinity;
      if (lower === '-infinity' || lower === '-inf') return -Infinity;
      if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) throw invalid(oid === Oid.float4 ? 'real' : 'double precision', text);
      return oid === Oid.float4 ? Math.fround(Number(t)) : Number(t);
    }
    case Oid.bool: {
      const t = text.trim().toLowerCase();
      if (BOOL_TRUE.has(t)) return true;
      if (BOOL_FALSE.has(t)) return false;
      throw invalid('boolean', text);
    }
    default:
      return text;
  }
}
