/**
 * PostgreSQL binary format (format code 1) for DataRow values and Bind parameters.
 *
 * Supported both ways: bool, int2, int4, int8, float4, float8, text / varchar / bpchar / unknown,
 * date (int32 days since 2000-01-01), timestamp (int64 microseconds since 2000-01-01), numeric
 * (base-10000 digits), interval (int64 µs, int32 days, int32 months), bytea, json, jsonb.
 * Anything else in binary is a 0A000 error; clients ask for binary only for types they know.
 *
 * Invariants:
 *  1. decodeBinary(encodeBinary(v, oid), oid) gives back v's text form for every supported oid
 *     (numbers/bigints/booleans come back as the same JS value).
 */
import { ProtocolError } from './error-info.js';
import { Oid } from './pg-types.js';
import { fromPgText, jsonText, toPgText } from './pg-text-format.js';

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const DAY_MS = 86_400_000;
const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;

function unsupported(oid: number): ProtocolError {
  return new ProtocolError('0A000', `binary format is not supported for type oid ${oid}`);
}

function badValue(oid: number, v: unknown): ProtocolError {
  return new ProtocolError('22P02', `cannot send ${String(v)} in binary format for type oid ${oid}`);
}

function toNumber(v: unknown, oid: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const parsed = fromPgText(v, oid === Oid.float4 ? Oid.float4 : Oid.float8);
    if (typeof parsed === 'number') return parsed;
  }
  throw badValue(oid, v);
}

function toBigInt(v: unknown, oid: number): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return BigInt(v.trim());
  throw badValue(oid, v);
}

function parseDateText(s: string): number {
  const m = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/.exec(s.trim());
  if (!m) throw badValue(Oid.date, s);
  const year = m[4] ? 1 - Number(m[1]) : Number(m[1]);
  const d = new Date(0);
  d.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  return Math.round((d.getTime() - PG_EPOCH_MS) / DAY_MS);
}

function parseTimestampText(s: string): bigint {
  const m = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?( BC)?$/.exec(s.trim());
  if (!m) throw badValue(Oid.timestamp, s);
  const year = m[8] ? 1 - Number(m[1]) : Number(m[1]);
  const d = new Date(0);
  d.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), 0);
  const micros = BigInt((m[7] ?? '').padEnd(6, '0'));
  return BigInt(d.getTime() - PG_EPOCH_MS) * 1000n + micros;
}

function formatDays(days: number): string {
  const d = new Date(PG_EPOCH_MS + days * DAY_MS);
  const y = d.getUTCFullYear();
  const ymd = `${String(y > 0 ? y : 1 - y).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
  return y > 0 ? ymd : `${ymd} BC`;
}

function formatMicros(us: bigint): string {
  let days = us / 86_400_000_000n;
  let rest = us % 86_400_000_000n;
  if (rest < 0n) { rest += 86_400_000_000n; days -= 1n; }
  const date = formatDays(Number(days));
  const secs = rest / 1_000_000n;
  const frac = rest % 1_000_000n;
  const hh = String(secs / 3600n).padStart(2, '0');
  const mm = String((secs / 60n) % 60n).padStart(2, '0');
  const ss = String(secs % 60n).padStart(2, '0');
  const f = frac === 0n ? '' : `.${String(frac).padStart(6, '0').replace(/0+$/, '')}`;
  const bc = date.endsWith(' BC');
  return `${bc ? date.slice(0, -3) : date} ${hh}:${mm}:${ss}${f}${bc ? ' BC' : ''}`;
}

// ---- numeric ------------------------------------------------------------------------------

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;

function encodeNumeric(text: string): Buffer {
  const t = text.trim();
  const header = (ndigits: number, weight: number, sign: number, dscale: number): Buffer => {
    const b = Buffer.alloc(8 + ndigits * 2);
    b.writeInt16BE(ndigits, 0); b.writeInt16BE(weight, 2); b.writeUInt16BE(sign, 4); b.writeInt16BE(dscale, 6);
    return b;
  };
  if (/^nan$/i.test(t)) return header(0, 0, NUMERIC_NAN, 0);
  if (/^\+?inf(inity)?$/i.test(t)) return header(0, 0, NUMERIC_PINF, 0);
  if (/^-inf(inity)?$/i.test(t)) return header(0, 0, NUMERIC_NINF, 0);
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(t);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw badValue(Oid.numeric, text);
  let intPart = m[2]!;
  let frac = m[3] ?? '';
  const shift = Number(m[4] ?? 0);
  if (shift > 0) { frac = frac.padEnd(shift, '0'); intPart += frac.slice(0, shift); frac = frac.slice(shift); }
  else if (shift < 0) { intPart = intPart.padStart(-shift, '0'); frac = intPart.slice(intPart.length + shift) + frac; intPart = intPart.slice(0, intPart.length + shift); }
  const dscale = frac.length;
  intPart = intPart.replace(/^0+/, '');
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const fracPadded = frac.padEnd(Math.ceil(frac.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  let weight = groups.length - 1;
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  while (groups.length > 0 && groups[0] === 0) { groups.shift(); weight--; }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop();
  if (groups.length === 0) weight = 0;
  const b = header(groups.length, weight, m[1] === '-' && groups.length > 0 ? NUMERIC_NEG : NUMERIC_POS, dscale);
  groups.forEach((g, i) => b.writeInt16BE(g, 8 + i * 2));
  return b;
}

function decodeNumeric(b: Buffer): string {
  const ndigits = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readInt16BE(6);
  if (sign === NUMERIC_NAN) return 'NaN';
  if (sign === NUMERIC_PINF) return 'Infinity';
  if (sign === NUMERIC_NINF) return '-Infinity';
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) digits.push(b.readInt16BE(8 + i * 2));
  let intPart = '';
  for (let w = weight, i = 0; w >= 0; w--, i++) intPart += String(digits[i] ?? 0).padStart(4, '0');
  intPart = intPart.replace(/^0+/, '') || '0';
  let frac = '';
  for (let i = weight + 1; frac.length < dscale; i++) frac += String(i >= 0 ? (digits[i] ?? 0) : 0).padStart(4, '0');
  frac = frac.slice(0, dscale);
  const body = dscale > 0 ? `${intPart}.${frac}` : intPart;
  return sign === NUMERIC_NEG ? `-${body}` : body;
}

// ---- interval -----------------------------------------------------------------------------

/** Parse PostgreSQL's 'postgres' interval output ('1 year 2 mons -3 days 04:05:06.5'). */
function parseInterval(text: string): { months: number; days: number; micros: bigint } {
  let months = 0;
  let days = 0;
  let micros = 0n;
  const re = /([+-]?\d+(?:\.\d+)?)\s*(years?|mons?|months?|days?|hours?|mins?|minutes?|secs?|seconds?)|([+-]?)(\d+):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?/gi;
  let matched = '';
  for (const m of text.matchAll(re)) {
    matched += m[0];
    if (m[2]) {
      const n = Number(m[1]);
      const unit = m[2].toLowerCase();
      if (unit.startsWith('y')) months += n * 12;
      else if (unit.startsWith('mo')) months += n;
      else if (unit.startsWith('d')) days += n;
      else if (unit.startsWith('h')) micros += BigInt(Math.round(n * 3_600_000_000));
      else if (unit.startsWith('mi')) micros += BigInt(Math.round(n * 60_000_000));
      else micros += BigInt(Math.round(n * 1_000_000));
    } else {
      const t = BigInt(m[4]!) * 3_600_000_000n + BigInt(m[5]!) * 60_000_000n + BigInt(m[6] ?? '0') * 1_000_000n + BigInt((m[7] ?? '').padEnd(6, '0'));
      micros += m[3] === '-' ? -t : t;
    }
  }
  if (matched.replace(/\s/g, '') !== text.replace(/\s|ago/gi, '')) throw badValue(Oid.interval, text);
  return { months, days, micros };
}

function formatInterval(months: number, days: number, micros: bigint): string {
  // PostgreSQL's 'postgres' IntervalStyle: a field after a negative one carries an explicit '+'
  const parts: string[] = [];
  let before = false;
  const add = (n: number, unit: string): void => {
    if (n === 0) return;
    parts.push(`${before && n > 0 ? '+' : ''}${n} ${unit}${n === 1 ? '' : 's'}`);
    before = n < 0;
  };
  add(Math.trunc(months / 12), 'year');
  add(months % 12, 'mon');
  add(days, 'day');
  if (micros !== 0n || parts.length === 0) {
    const neg = micros < 0n;
    const abs = neg ? -micros : micros;
    const secs = abs / 1_000_000n;
    const frac = abs % 1_000_000n;
    const time = `${String(secs / 3600n).padStart(2, '0')}:${String((secs / 60n) % 60n).padStart(2, '0')}:${String(secs % 60n).padStart(2, '0')}${frac ? `.${String(frac).padStart(6, '0').replace(/0+$/, '')}` : ''}`;
    parts.push(`${neg ? '-' : before ? '+' : ''}${time}`);
  }
  return parts.join(' ');
}

// ---- public -------------------------------------------------------------------------------

/** Binary format of a non-null value in a column of type `oid`. */
export function encodeBinary(v: unknown, oid: number): Buffer {
  switch (oid) {
    case Oid.bool: {
      const b = typeof v === 'boolean' ? v : fromPgText(toPgText(v, oid), Oid.bool);
      return Buffer.from([b ? 1 : 0]);
    }
    case Oid.int2: { const b = Buffer.alloc(2); b.writeInt16BE(toNumber(v, oid)); return b; }
    case Oid.int4: case Oid.oid: { const b = Buffer.alloc(4); b.writeInt32BE(toNumber(v, oid)); return b; }
    case Oid.int8: {
      const n = toBigInt(v, oid);
      if (n < MIN_INT64 || n > MAX_INT64) throw badValue(oid, v);
      const b = Buffer.alloc(8); b.writeBigInt64BE(n); return b;
    }
    case Oid.float4: { const b = Buffer.alloc(4); b.writeFloatBE(toNumber(v, oid)); return b; }
    case Oid.float8: { const b = Buffer.alloc(8); b.writeDoubleBE(toNumber(v, oid)); return b; }
    case Oid.text: case Oid.varchar: case Oid.bpchar: case Oid.unknown: case Oid.json:
      return Buffer.from(toPgText(v, oid), 'utf8');
    case Oid.jsonb:
      return Buffer.concat([Buffer.from([1]), Buffer.from(typeof v === 'string' ? v : jsonText(v), 'utf8')]);
    case Oid.bytea:
      if (v instanceof Uint8Array) return Buffer.from(v);
      return Buffer.from(String(v), 'utf8');
    case Oid.date: {
      const s = toPgText(v, oid);
      const b = Buffer.alloc(4);
      if (s === 'infinity') b.writeInt32BE(0x7fffffff);
      else if (s === '-infinity') b.writeInt32BE(-0x80000000);
      else b.writeInt32BE(parseDateText(s));
      return b;
    }
    case Oid.timestamp: {
      const s = toPgText(v, oid);
      const b = Buffer.alloc(8);
      if (s === 'infinity') b.writeBigInt64BE(MAX_INT64);
      else if (s === '-infinity') b.writeBigInt64BE(MIN_INT64);
      else b.writeBigInt64BE(parseTimestampText(s));
      return b;
    }
    case Oid.numeric:
      return encodeNumeric(toPgText(v, oid));
    case Oid.interval: {
      const { months, days, micros } = parseInterval(toPgText(v, oid));
      const b = Buffer.alloc(16);
      b.writeBigInt64BE(micros, 0); b.writeInt32BE(days, 8); b.writeInt32BE(months, 12);
      return b;
    }
    default:
      throw unsupported(oid);
  }
}

function expectLength(b: Buffer, n: number, oid: number): void {
  if (b.length !== n) throw new ProtocolError('22P03', `incorrect binary data format for type oid ${oid}: ${b.length} bytes`);
}

/** A binary-format Bind parameter of declared type `oid` as the JS value the engine expects. */
export function decodeBinary(b: Buffer, oid: number): unknown {
  switch (oid) {
    case Oid.bool: expectLength(b, 1, oid); return b[0] !== 0;
    case Oid.int2: expectLength(b, 2, oid); return b.readInt16BE(0);
    case Oid.int4: case Oid.oid: expectLength(b, 4, oid); return b.readInt32BE(0);
    case Oid.int8: expectLength(b, 8, oid); return b.readBigInt64BE(0);
    case Oid.float4: expectLength(b, 4, oid); return b.readFloatBE(0);
    case Oid.float8: expectLength(b, 8, oid); return b.readDoubleBE(0);
    case 0: case Oid.text: case Oid.varchar: case Oid.bpchar: case Oid.unknown: case Oid.json:
      return b.toString('utf8');
    case Oid.jsonb: return b.subarray(1).toString('utf8');
    case Oid.bytea: return new Uint8Array(b);
    case Oid.date: {
      expectLength(b, 4, oid);
      const d = b.readInt32BE(0);
      if (d === 0x7fffffff) return 'infinity';
      if (d === -0x80000000) return '-infinity';
      return formatDays(d);
    }
    case Oid.timestamp: {
      expectLength(b, 8, oid);
      const us = b.readBigInt64BE(0);
      if (us === MAX_INT64) return 'infinity';
      if (us === MIN_INT64) return '-infinity';
      return formatMicros(us);
    }
    case Oid.numeric: return decodeNumeric(b);
    case Oid.interval: expectLength(b, 16, oid); return formatInterval(b.readInt32BE(12), b.readInt32BE(8), b.readBigInt64BE(0));
    default: throw unsupported(oid);
  }
}
