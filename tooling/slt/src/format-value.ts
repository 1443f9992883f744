/**
 * Formatting of result values the way the sqllogictest reference harness prints them.
 *
 *   NULL (any type)          -> `NULL`
 *   I  integer               -> decimal integer; a real is truncated toward zero; a string is read
 *                               by its leading numeric prefix (0 when there is none), as SQLite does
 *   R  real                  -> `%.3f` with at most 16 significant digits (SQLite's printf), e.g.
 *                               -9223372036854775808 -> `-9223372036854776000.000`
 *   T  text (any other type) -> the text; `(empty)` for ''; bytes outside printable ASCII -> `@` each;
 *                               numbers print as text (PostgreSQL style), booleans as true/false
 *
 * Invariants:
 *  1. The result is a non-empty string without line breaks (so one value = one line).
 *  2. The result never depends on anything but (value, type letter).
 */

/** Leading numeric prefix of a string, as SQLite's text-to-number conversion reads it. */
const NUMERIC_PREFIX = /^\s*([+-]?)(\d+)?(?:\.(\d*))?(?:[eE]([+-]?\d+))?/;

interface ParsedNumber {
  /** Exact integer part when the text has no exponent (keeps 64-bit values exact). */
  readonly intPart: bigint | undefined;
  readonly value: number;
}

function parseNumericPrefix(text: string): ParsedNumber {
  const m = NUMERIC_PREFIX.exec(text);
  if (m === null || (m[2] === undefined && (m[3] === undefined || m[3] === ''))) return { intPart: 0n, value: 0 };
  const sign = m[1] === '-' ? '-' : '';
  const intDigits = m[2] ?? '0';
  const frac = m[3] ?? '';
  const exp = m[4];
  const value = Number(`${sign}${intDigits}.${frac || '0'}${exp !== undefined ? `e${exp}` : ''}`);
  const intPart = exp === undefined ? BigInt(`${sign}${intDigits}`) : undefined;
  return { intPart, value };
}

/** Expand a JS number string that may use exponent notation into plain decimal digits. */
function toPlainDecimal(s: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const sign = m[1]!;
  const digits = m[2]! + (m[3] ?? '');
  const pointPos = m[2]!.length + Number(m[4]);
  if (pointPos <= 0) return `${sign}0.${'0'.repeat(-pointPos)}${digits}`;
  if (pointPos >= digits.length) return `${sign}${digits}${'0'.repeat(pointPos - digits.length)}`;
  return `${sign}${digits.slice(0, pointPos)}.${digits.slice(pointPos)}`;
}

/** `%.3f` as SQLite's printf gives it: three decimals, at most 16 significant digits. */
export function formatReal(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
  if (Math.abs(x) < 1e13) return x.toFixed(3); // <= 16 significant digits: exact
  const plain = toPlainDecimal(x.toPrecision(16));
  const dot = plain.indexOf('.');
  const intPart = dot < 0 ? plain : plain.slice(0, dot);
  const frac = dot < 0 ? '' : plain.slice(dot + 1);
  return `${intPart}.${(frac + '000').slice(0, 3)}`;
}

function formatInteger(v: unknown): string {
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number': {
      if (!Number.isFinite(v)) return Number.isNaN(v) ? '0' : v > 0 ? '9223372036854775807' : '-9223372036854775808';
      const t = Math.trunc(v);
      return Object.is(t, -0) ? '0' : Math.abs(t) < 2 ** 53 ? String(t) : BigInt(t).toString();
    }
    case 'boolean':
      return v ? '1' : '0';
    case 'string': {
      const p = parseNumericPrefix(v);
      if (p.intPart !== undefined) return p.intPart.toString();
      return formatInteger(p.value);
    }
    default:
      return formatInteger(String(v));
  }
}

function formatRealValue(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return formatReal(v);
    case 'bigint':
      return formatReal(Number(v));
    case 'boolean':
      return v ? '1.000' : '0.000';
    case 'string':
      return formatReal(parseNumericPrefix(v).value);
    default:
      return formatReal(parseNumericPrefix(String(v)).value);
  }
}

/** Text of a value in a T column, before the empty/printable rules. */
function textOf(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Object.is(v, -0) ? '0' : String(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
      if (v instanceof Date) return v.toISOString();
      if (typeof v === 'object') {
        return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
      }
      return String(v);
  }
}

function formatText(v: unknown): string {
  const s = textOf(v);
  if (s.length === 0) return '(empty)';
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    // The reference harness replaces byte by byte: one '@' per UTF-8 byte.
    out += c >= 0x20 && c <= 0x7e ? ch : '@'.repeat(Buffer.byteLength(ch, 'utf8'));
  }
  return out;
}

/** Format one result value for a column of type letter `type` (I, R, T; anything else reads as T). */
export function formatValue(v: unknown, type: string): string {
  if (v === null || v === undefined) return 'NULL';
  if (type === 'I') return formatInteger(v);
  if (type === 'R') return formatRealValue(v);
  return formatText(v);
}
