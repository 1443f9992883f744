/**
 * Order-preserving encoding of NUMERIC values (exact decimal text, the physical form of NUMERIC).
 *
 * Format:
 *   numeric  := 0x01                      -Infinity
 *             | 0x02 ~magnitude           negative (every byte inverted)
 *             | 0x03                      zero
 *             | 0x04 magnitude            positive
 *             | 0x05                      +Infinity
 *             | 0x06                      NaN (PostgreSQL: NaN equals NaN and sorts above all)
 *   magnitude := exponent:int32 (big-endian, sign bit flipped) digit* 0x00
 *   digit     := 0x01..0x0a (decimal digit + 1)
 * The value is 0.d1d2...dn × 10^exponent with d1 != 0 and dn != 0 (normalised), so the
 * encoding of equal values is identical ('1.50' = '1.5' = '15e-1').
 *
 * Invariants:
 *  1. memcmp order of encodings == numeric order of the values.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { ByteWriter } from './key-encoding.js';

const NUM_RE = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

interface Parsed { cls: number; digits: string; exp: number }

function parseNumeric(text: string): Parsed {
  const t = text.trim().toLowerCase();
  if (t === 'nan') return { cls: 6, digits: '', exp: 0 };
  if (t === 'infinity' || t === '+infinity' || t === 'inf' || t === '+inf') return { cls: 5, digits: '', exp: 0 };
  if (t === '-infinity' || t === '-inf') return { cls: 1, digits: '', exp: 0 };
  const m = NUM_RE.exec(text);
  if (m === null || (m[2] === '' && (m[3] === undefined || m[3] === ''))) {
    throw new DbError(SqlState.InvalidTextRepresentation, `invalid input syntax for type numeric: "${text}"`);
  }
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  let all = intPart + frac;
  let exp = intPart.length + (m[4] !== undefined ? Number(m[4]) : 0);
  let lead = 0;
  while (lead < all.length && all.charCodeAt(lead) === 48) lead++;
  all = all.slice(lead);
  exp -= lead;
  let end = all.length;
  while (end > 0 && all.charCodeAt(end - 1) === 48) end--;
  all = all.slice(0, end);
  if (all === '') return { cls: 3, digits: '', exp: 0 };
  if (!Number.isSafeInteger(exp) || Math.abs(exp) >= 2 ** 31) {
    throw new DbError(SqlState.NumericValueOutOfRange, `numeric value out of range: "${text}"`);
  }
  return { cls: m[1] === '-' ? 2 : 4, digits: all, exp };
}

/** Append the encoding of decimal text `text`. @internal */
export function encodeNumeric(w: ByteWriter, text: string): void {
  const p = parseNumeric(text);
  w.byte(p.cls);
  if (p.cls !== 2 && p.cls !== 4) return;
  const start = w.len;
  w.reserve(4 + p.digits.length + 1);
  const u = (p.exp ^ 0x80000000) >>> 0;
  w.buf[w.len++] = u >>> 24;
  w.buf[w.len++] = (u >>> 16) & 0xff;
  w.buf[w.len++] = (u >>> 8) & 0xff;
  w.buf[w.len++] = u & 0xff;
  for (let i = 0; i < p.digits.length; i++) w.buf[w.len++] = p.digits.charCodeAt(i) - 47;
  w.buf[w.len++] = 0;
  if (p.cls === 2) w.invertFrom(start);
}

/** Read one encoded numeric back to canonical decimal text. @internal */
export function decodeNumeric(next: () => number): string {
  const cls = next();
  switch (cls) {
    case 1: return '-Infinity';
    case 3: return '0';
    case 5: return 'Infinity';
    case 6: return 'NaN';
    case 2: case 4: break;
    default: throw new DbError(SqlState.IndexCorrupted, 'malformed numeric key');
  }
  const inv = cls === 2 ? 0xff : 0;
  const rd = (): number => (next() ^ inv) & 0xff;
  const u = ((rd() << 24) | (rd() << 16) | (rd() << 8) | rd()) >>> 0;
  const exp = (u ^ 0x80000000) | 0;
  let digits = '';
  for (;;) {
    const d = rd();
    if (d === 0) break;
    if (d > 10) throw new DbError(SqlState.IndexCorrupted, 'malformed numeric key');
    digits += String.fromCharCode(d + 47);
  }
  let s: string;
  if (exp >= digits.length) s = digits + '0'.repeat(exp - digits.length);
  else if (exp <= 0) s = '0.' + '0'.repeat(-exp) + digits;
  else s = digits.slice(0, exp) + '.' + digits.slice(exp);
  return cls === 2 ? '-' + s : s;
}
