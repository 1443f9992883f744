/**
 * More PostgreSQL scalar functions, merged into the scalar function table of exec/functions.ts
 * (entries here replace same-named ones there): regular expressions (regexp_replace,
 * regexp_match, regexp_like, regexp_count, SIMILAR TO's pattern translation), quoting and
 * format(), md5, date/time construction and arithmetic (age, make_date, make_timestamp,
 * make_interval, date_bin, justify_*), to_char / to_date / to_timestamp / to_number, math
 * (gcd, lcm, factorial, width_bucket, degree-based and hyperbolic trigonometry, seeded random),
 * and the element functions behind set-returning functions in a select list (bind/srf.ts).
 *
 * Arrays are TEXT in PostgreSQL's array text form (exec/pg-functions.ts): regexp_match returns
 * '{a,b}'.
 *
 * Invariants:
 *  1. (as functions.ts) `ret(argTypes)` is the type of every non-null value `impl` returns.
 *  2. `srfRows(kind, args)` lists, in order, the rows the set-returning function `kind` returns
 *     for `args`; `__srf_len` and `__srf_at(n)` agree with it.
 *
 * Concurrency: `setseed` state is process-wide (PostgreSQL keeps it per session); the regex and
 * set-returning caches hold only pure results.
 */
import { createHash } from 'node:crypto';
import { DbError, SqlState, T, isIntegerType, seededRandom } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import { Decimal } from '../types/decimal.js';
import { checkInt32, checkInt64, valueToText } from '../types/values.js';
import type { Interval } from '../types/values.js';
import type { ScalarFn } from './functions.js';
import { formatArray, parseArray } from './pg-functions.js';

const US_PER_DAY = 86400e6;
const text = (): SqlType => T.text;
const dbl = (): SqlType => T.double;
const isNum = (t: SqlType | undefined): boolean => !!t && (isIntegerType(t) || t.id === 'NUMERIC' || t.id === 'REAL' || t.id === 'DOUBLE');

function bad(msg: string, code: string = SqlState.InvalidParameterValue): DbError { return new DbError(code as never, msg); }

// ---------------------------------------------------------------------------------------------
// regular expressions (PostgreSQL ARE → JavaScript)

const reCache = new Map<string, RegExp>();
/** A JS RegExp for a PostgreSQL regex and flag letters (g i c n s x are understood). */
export function pgRegex(pattern: string, flags = '', global = false): RegExp {
  const key = flags + (global ? 'G' : '') + '\u0000' + pattern;
  let r = reCache.get(key);
  if (r) { r.lastIndex = 0; return r; }
  let js = 's';
  for (const f of flags) {
    if (f === 'i') js += 'i';
    else if (f === 'n') js = js.replace('s', '') + 'm';
    else if (f === 'g' || f === 'c' || f === 's' || f === 'x' || f === 'p' || f === 'w' || f === 'q') continue;
    else throw bad(`invalid regular expression option: "${f}"`);
  }
  if (global) js += 'g';
  const src = flags.includes('q') ? pattern.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') : pattern
    .replace(/\[:alpha:\]/g, 'A-Za-z').replace(/\[:digit:\]/g, '0-9').replace(/\[:alnum:\]/g, 'A-Za-z0-9')
    .replace(/\[:space:\]/g, '\\s').replace(/\[:upper:\]/g, 'A-Z').replace(/\[:lower:\]/g, 'a-z')
    .replace(/\[:punct:\]/g, '!-\\/:-@\\[-`{-~').replace(/\[:xdigit:\]/g, '0-9A-Fa-f').replace(/\[:word:\]/g, '\\w');
  try { r = new RegExp(src, js); } catch { throw new DbError('2201B' as never, `invalid regular expression: ${pattern}`); }
  if (reCache.size > 1000) reCache.clear();
  reCache.set(key, r);
  return r;
}

/** PostgreSQL replacement text (\1..\9, \&, \\) applied to one match. */
function expandReplacement(repl: string, m: RegExpExecArray | string[]): string {
  if (!repl.includes('\\')) return repl;
  let out = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i]!;
    if (c === '\\' && i + 1 < repl.length) {
      const d = repl[i + 1]!;
      if (d >= '1' && d <= '9') { out += m[Number(d)] ?? ''; i++; continue; }
      if (d === '&') { out += m[0]; i++; continue; }
      if (d === '\\') { out += '\\'; i++; continue; }
    }
    out += c;
  }
  return out;
}

function regexpReplace(s: string, pattern: string, repl: string, flags: string): string {
  const re = pgRegex(pattern, flags, flags.includes('g'));
  return s.replace(re, (...a: unknown[]) => {
    const groups = a.filter((x, i) => i === 0 || (typeof x === 'string' || x === undefined) && i < a.length - 2) as string[];
    return expandReplacement(repl, groups);
  });
}

/** Capture groups of a match as an array text (whole match when there are no groups). */
function matchArray(m: RegExpExecArray): string {
  return formatArray(m.length > 1 ? m.slice(1).map((x) => x ?? null) : [m[0]]);
}

function regexpMatches(s: string, pattern: string, flags: string): string[] {
  const g = flags.includes('g');
  const re = pgRegex(pattern, flags, true);
  const out: string[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    out.push(matchArray(m));
    if (m[0] === '') re.lastIndex++;
    if (!g) break;
  }
  re.lastIndex = 0;
  return out;
}

function regexpSplit(s: string, pattern: string, flags: string): string[] {
  const re = pgRegex(pattern, flags, true);
  const out: string[] = [];
  let start = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    if (m[0] === '') {
      // an empty match splits between characters, never at the ends
      if (m.index >= s.length) break;
      if (m.index === start) { re.lastIndex = m.index + 1; if (m.index === 0) continue; }
      out.push(s.slice(start, m.index === start ? m.index + 1 : m.index));
      start = m.index === start ? m.index + 1 : m.index;
      continue;
    }
    out.push(s.slice(start, m.index));
    start = m.index + m[0].length;
  }
  re.lastIndex = 0;
  out.push(s.slice(start));
  return out;
}

/** SIMILAR TO pattern → an anchored regex (PostgreSQL's similar_to_escape). */
export function similarToRegex(pat: string, escape: string | null): string {
  if (escape !== null && [...escape].length > 1) throw new DbError('22025' as never, 'invalid escape string');
  const esc = escape === null ? '\\' : escape === '' ? null : escape;
  let out = '^(?:';
  let inBracket = false;
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i]!;
    if (esc !== null && c === esc) {
      const d = pat[++i];
      if (d === undefined) throw new DbError('22025' as never, 'invalid escape string');
      out += /[A-Za-z0-9]/.test(d) ? d : '\\' + d;
      continue;
    }
    if (inBracket) { if (c === ']') inBracket = false; out += c === '\\' ? '\\\\' : c; continue; }
    switch (c) {
      case '%': out += '.*'; break;
      case '_': out += '.'; break;
      case '[': inBracket = true; out += c; if (pat[i + 1] === '^') { out += '^'; i++; } if (pat[i + 1] === ']') { out += '\\]'; i++; } break;
      case '.': case '^': case '$': case '\\': case '/': out += '\\' + c; break;
      default: out += c;
    }
  }
  return out + ')$';
}

// ---------------------------------------------------------------------------------------------
// quoting, format()

const RESERVED = new Set(('all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column '
  + 'concurrently constraint create cross current_catalog current_date current_role current_schema current_time current_timestamp current_user default '
  + 'deferrable desc distinct do else end except false fetch for foreign freeze from full grant group having ilike in initially inner intersect into is '
  + 'isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary '
  + 'references returning right select session_user similar some symmetric system_user table tablesample then to trailing true union unique user using '
  + 'variadic verbose when where window with').split(' '));

export function quoteIdent(s: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(s) && !RESERVED.has(s) ? s : `"${s.replace(/"/g, '""')}"`;
}

export function quoteLiteral(s: string): string {
  const body = s.replace(/'/g, "''");
  return s.includes('\\') ? `E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

function formatFn(fmt: string, args: unknown[], types: readonly SqlType[]): string {
  let out = '';
  let next = 0;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c !== '%') { out += c; continue; }
    if (fmt[i + 1] === '%') { out += '%'; i++; continue; }
    const m = /^(?:(\d+)\$)?(-)?(\d+|\*(?:\d+\$)?)?([sIL])/.exec(fmt.slice(i + 1));
    if (!m) throw bad(i + 1 >= fmt.length ? 'unterminated format() type specifier' : `unrecognized format() type specifier "${fmt[i + 1]}"`);
    i += m[0].length;
    let width = 0, left = !!m[2];
    if (m[3] !== undefined) {
      if (m[3].startsWith('*')) {
        const wi = m[3].length > 1 ? Number(m[3].slice(1, -1)) - 1 : next++;
        const w = args[wi];
        if (wi >= args.length) throw bad('too few arguments for format()');
        width = w === null || w === undefined ? 0 : Number(w);
        if (width < 0) { left = true; width = -width; }
      } else width = Number(m[3]);
    }
    const ai = m[1] !== undefined ? Number(m[1]) - 1 : next;
    if (m[1] !== undefined && ai < 0) throw bad('format specifies argument 0, but arguments are numbered from 1');
    next = ai + 1;
    if (ai >= args.length) throw bad('too few arguments for format()');
    const v = args[ai];
    const t = types[ai + 1] ?? T.text;
    let s: string;
    if (m[4] === 's') s = v === null ? '' : valueToText(v, t);
    else if (m[4] === 'I') {
      if (v === null) throw new DbError('22004' as never, 'null values cannot be formatted as an SQL identifier');
      s = quoteIdent(valueToText(v, t));
    } else s = v === null ? 'NULL' : quoteLiteral(valueToText(v, t));
    out += width > [...s].length ? (left ? s.padEnd(width) : s.padStart(width)) : s;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// dates, timestamps, intervals

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

interface Fields { y: number; mo: number; d: number; h: number; mi: number; s: number; us: number }

function fieldsOf(ts: number): Fields {
  const days = Math.floor(ts / US_PER_DAY);
  let rest = ts - days * US_PER_DAY;
  const dt = new Date(days * 86400000);
  const h = Math.floor(rest / 3600e6); rest -= h * 3600e6;
  const mi = Math.floor(rest / 60e6); rest -= mi * 60e6;
  const s = Math.floor(rest / 1e6); rest -= s * 1e6;
  return { y: dt.getUTCFullYear(), mo: dt.getUTCMonth() + 1, d: dt.getUTCDate(), h, mi, s, us: Math.round(rest) };
}

function daysOf(y: number, mo: number, d: number): number {
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  return Math.round(dt.getTime() / 86400000);
}

function daysInMonth(y: number, mo: number): number { return new Date(Date.UTC(y, mo, 0)).getUTCDate() || daysOf(y, mo + 1, 1) - daysOf(y, mo, 1); }

/** `dt1 - dt2` as years, months, days and time (PostgreSQL's timestamp_age). */
export function age(dt1: number, dt2: number): Interval {
  const a = fieldsOf(dt1), b = fieldsOf(dt2);
  let us = a.us - b.us, s = a.s - b.s, mi = a.mi - b.mi, h = a.h - b.h, d = a.d - b.d, mo = a.mo - b.mo, y = a.y - b.y;
  const flip = dt1 < dt2;
  if (flip) { us = -us; s = -s; mi = -mi; h = -h; d = -d; mo = -mo; y = -y; }
  while (us < 0) { us += 1e6; s--; }
  while (s < 0) { s += 60; mi--; }
  while (mi < 0) { mi += 60; h--; }
  while (h < 0) { h += 24; d--; }
  while (d < 0) {
    d += flip ? daysInMonth(a.y, a.mo) : daysInMonth(b.y, b.mo);
    mo--;
  }
  while (mo < 0) { mo += 12; y--; }
  const sign = flip ? -1 : 1;
  const time = ((h * 60 + mi) * 60 + s) * 1e6 + us;
  return { months: sign * (y * 12 + mo) || 0, days: sign * d || 0, us: sign * time || 0 };
}

function addInterval(ts: number, iv: Interval, sign = 1): number {
  let t = ts;
  if (iv.months) {
    const f = fieldsOf(t);
    const total = f.y * 12 + (f.mo - 1) + sign * iv.months;
    const y = Math.floor(total / 12), mo = total - y * 12 + 1;
    const d = Math.min(f.d, daysInMonth(y, mo));
    t = daysOf(y, mo, d) * US_PER_DAY + t - Math.floor(t / US_PER_DAY) * US_PER_DAY;
  }
  return t + sign * (iv.days * US_PER_DAY + iv.us);
}

function justifyHours(i: Interval): Interval {
  let days = i.days, us = i.us;
  const whole = Math.trunc(us / US_PER_DAY);
  us -= whole * US_PER_DAY; days += whole;
  if (days > 0 && us < 0) { us += US_PER_DAY; days--; } else if (days < 0 && us > 0) { us -= US_PER_DAY; days++; }
  return { months: i.months, days: days || 0, us: us || 0 };
}

function justifyDays(i: Interval): Interval {
  let months = i.months, days = i.days;
  const whole = Math.trunc(days / 30);
  days -= whole * 30; months += whole;
  if (months > 0 && days < 0) { days += 30; months--; } else if (months < 0 && days > 0) { days -= 30; months++; }
  return { months: months || 0, days: days || 0, us: i.us };
}

function justifyInterval(i: Interval): Interval {
  let { months, days, us } = i;
  const wd = Math.trunc(us / US_PER_DAY); us -= wd * US_PER_DAY; days += wd;
  const wm = Math.trunc(days / 30); days -= wm * 30; months += wm;
  if (months > 0 && (days < 0 || (days === 0 && us < 0))) { days += 30; months--; } else if (months < 0 && (days > 0 || (days === 0 && us > 0))) { days -= 30; months++; }
  if (days > 0 && us < 0) { us += US_PER_DAY; days--; } else if (days < 0 && us > 0) { us -= US_PER_DAY; days++; }
  return { months: months || 0, days: days || 0, us: us || 0 };
}

function makeDate(y: number, mo: number, d: number): number {
  if (y === 0) throw new DbError(SqlState.DatetimeFieldOverflow, `date field value out of range: ${y}-${pad2(mo)}-${pad2(d)}`);
  const yy = y < 0 ? y + 1 : y;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(yy, mo)) throw new DbError(SqlState.DatetimeFieldOverflow, `date field value out of range: ${y}-${pad2(mo)}-${pad2(d)}`);
  return daysOf(yy, mo, d);
}

function pad2(n: number): string { return String(n).padStart(2, '0'); }

// --- to_char for timestamps --------------------------------------------------------------------

const DT_TOKENS = ['HH24', 'HH12', 'HH', 'MI', 'SS', 'MS', 'US', 'SSSSS', 'SSSS', 'AM', 'PM', 'A.M.', 'P.M.', 'am', 'pm', 'a.m.', 'p.m.',
  'YYYY', 'Y,YYY', 'YYY', 'YY', 'Y', 'IYYY', 'MONTH', 'Month', 'month', 'MON', 'Mon', 'mon', 'MM', 'DAY', 'Day', 'day', 'DY', 'Dy', 'dy',
  'DDD', 'DD', 'D', 'ID', 'WW', 'IW', 'W', 'CC', 'Q', 'J', 'TZ', 'tz', 'OF', 'BC', 'AD', 'B.C.', 'A.D.', 'bc', 'ad', 'RM', 'rm']
  .sort((a, b) => b.length - a.length);

interface FmtTok { lit?: string; tok?: string; fm?: boolean; th?: 'TH' | 'th' }

function lexDateFormat(fmt: string): FmtTok[] {
  const out: FmtTok[] = [];
  let i = 0;
  while (i < fmt.length) {
    if (fmt[i] === '"') {
      let j = i + 1, s = '';
      while (j < fmt.length && fmt[j] !== '"') { if (fmt[j] === '\\' && j + 1 < fmt.length) j++; s += fmt[j++]; }
      out.push({ lit: s }); i = j + 1; continue;
    }
    if (fmt[i] === '\\' && i + 1 < fmt.length) { out.push({ lit: fmt[i + 1]! }); i += 2; continue; }
    let fm = false;
    if (fmt.startsWith('FM', i) || fmt.startsWith('fm', i)) { fm = true; i += 2; }
    const rest = fmt.slice(i);
    const tok = DT_TOKENS.find((t) => rest.startsWith(t) || (t.length > 1 && /^[A-Z.,]+$/.test(t) && rest.toUpperCase().startsWith(t) && !/^(MONTH|MON|DAY|DY|AM|PM|A\.M\.|P\.M\.|BC|AD|B\.C\.|A\.D\.|RM|TZ)$/.test(t)));
    if (tok) {
      i += tok.length;
      let th: FmtTok['th'];
      if (fmt.startsWith('TH', i)) { th = 'TH'; i += 2; } else if (fmt.startsWith('th', i)) { th = 'th'; i += 2; }
      out.push({ tok, fm, ...(th ? { th } : {}) });
      continue;
    }
    if (fm) continue;
    out.push({ lit: fmt[i]! }); i++;
  }
  return out;
}

function ordSuffix(n: number, upper: boolean): string {
  const k = n % 100;
  const s = k >= 11 && k <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return upper ? s.toUpperCase() : s;
}

function caseLike(tok: string, s: string): string {
  if (tok === tok.toUpperCase()) return s.toUpperCase();
  if (tok === tok.toLowerCase()) return s.toLowerCase();
  return s;
}

function isoYearWeek(y: number, mo: number, d: number): [number, number] {
  const dt = new Date(Date.UTC(y, mo - 1, d));
  dt.setUTCFullYear(y, mo - 1, d);
  const day = dt.getUTCDay() || 7;
  dt.setUTCDate(dt.getUTCDate() + 4 - day);
  const iy = dt.getUTCFullYear();
  const y0 = new Date(0); y0.setUTCFullYear(iy, 0, 1);
  return [iy, Math.ceil(((dt.getTime() - y0.getTime()) / 86400000 + 1) / 7)];
}

function toCharTimestamp(ts: number, fmt: string, isInterval = false): string {
  const f = fieldsOf(ts);
  const days = Math.floor(ts / US_PER_DAY);
  const dow = ((days % 7) + 7 + 4) % 7;
  const doy = days - daysOf(f.y, 1, 1) + 1;
  let out = '';
  for (const t of lexDateFormat(fmt)) {
    if (t.lit !== undefined) { out += t.lit; continue; }
    const tok = t.tok!;
    const num = (n: number, w: number): string => {
      const s = t.fm ? String(n) : String(Math.abs(n)).padStart(w, '0');
      return (n < 0 && !t.fm ? '-' : '') + s + (t.th ? ordSuffix(Math.abs(n), t.th === 'TH') : '');
    };
    const name = (s: string, w: number): string => { const x = caseLike(tok, s); return t.fm ? x : x.padEnd(w); };
    const up = tok.toUpperCase();
    switch (up) {
      case 'HH24': out += num(f.h, 2); break;
      case 'HH12': case 'HH': out += num(isInterval ? f.h : (f.h % 12 === 0 ? 12 : f.h % 12), 2); break;
      case 'MI': out += num(f.mi, 2); break;
      case 'SS': out += num(f.s, 2); break;
      case 'MS': out += num(Math.floor(f.us / 1000), 3); break;
      case 'US': out += num(f.us, 6); break;
      case 'SSSS': case 'SSSSS': out += num((f.h * 60 + f.mi) * 60 + f.s, 0); break;
      case 'AM': case 'PM': out += caseLike(tok, f.h < 12 ? 'AM' : 'PM'); break;
      case 'A.M.': case 'P.M.': out += caseLike(tok, f.h < 12 ? 'A.M.' : 'P.M.'); break;
      case 'YYYY': out += num(f.y, 4); break;
      case 'Y,YYY': out += `${Math.floor(f.y / 1000)},${String(f.y % 1000).padStart(3, '0')}`; break;
      case 'YYY': out += num(f.y % 1000, 3); break;
      case 'YY': out += num(f.y % 100, 2); break;
      case 'Y': out += num(f.y % 10, 1); break;
      case 'IYYY': out += num(isoYearWeek(f.y, f.mo, f.d)[0], 4); break;
      case 'IW': out += num(isoYearWeek(f.y, f.mo, f.d)[1], 2); break;
      case 'MONTH': out += name(MONTHS[f.mo - 1]!, 9); break;
      case 'MON': out += caseLike(tok, MONTHS[f.mo - 1]!.slice(0, 3)); break;
      case 'MM': out += num(f.mo, 2); break;
      case 'DAY': out += name(DAYS[dow]!, 9); break;
      case 'DY': out += caseLike(tok, DAYS[dow]!.slice(0, 3)); break;
      case 'DDD': out += num(doy, 3); break;
      case 'DD': out += num(f.d, 2); break;
      case 'D': out += num(dow + 1, 1); break;
      case 'ID': out += num(dow === 0 ? 7 : dow, 1); break;
      case 'WW': out += num(Math.floor((doy - 1) / 7) + 1, 2); break;
      case 'W': out += num(Math.floor((f.d - 1) / 7) + 1, 1); break;
      case 'CC': out += num(f.y > 0 ? Math.floor((f.y - 1) / 100) + 1 : Math.floor(f.y / 100) - 1, 2); break;
      case 'Q': out += num(Math.floor((f.mo - 1) / 3) + 1, 1); break;
      case 'J': out += num(days + 2440588, 0); break;
      case 'TZ': case 'OF': break;
      case 'BC': case 'AD': out += caseLike(tok, f.y > 0 ? 'AD' : 'BC'); break;
      case 'B.C.': case 'A.D.': out += caseLike(tok, f.y > 0 ? 'A.D.' : 'B.C.'); break;
      case 'RM': { const r = roman(f.mo); out += caseLike(tok, t.fm ? r : r.padEnd(4)); break; }
    }
  }
  return out;
}

function roman(n: number): string {
  const vals: [number, string][] = [[1000, 'M'], [900, 'CM'], [500, 'D'], [400, 'CD'], [100, 'C'], [90, 'XC'], [50, 'L'], [40, 'XL'], [10, 'X'], [9, 'IX'], [5, 'V'], [4, 'IV'], [1, 'I']];
  let s = '';
  for (const [v, r] of vals) while (n >= v) { s += r; n -= v; }
  return s;
}

// --- to_date / to_timestamp ---------------------------------------------------------------------

function parseWithFormat(input: string, fmt: string): number {
  const f = { y: 1, mo: 1, d: 1, h: 0, mi: 0, s: 0, us: 0, pm: null as boolean | null, doy: 0, yearSet: false };
  let p = 0;
  const fail = (what: string): never => { throw new DbError(SqlState.InvalidDatetimeFormat, `invalid value "${input.slice(p, p + 10)}" for "${what}"`); };
  const toks = lexDateFormat(fmt);
  const digits = (max: number, what: string, nextIsDigitTok: boolean): number => {
    while (input[p] === ' ') p++;
    let neg = false;
    if (input[p] === '-' && what.startsWith('Y')) { neg = true; p++; }
    const m = new RegExp(`^\\d{1,${nextIsDigitTok ? max : 16}}`).exec(input.slice(p));
    if (!m) fail(what);
    p += m![0].length;
    return (neg ? -1 : 1) * Number(m![0]);
  };
  const word = (list: readonly string[], len: number | null, what: string): number => {
    while (input[p] === ' ') p++;
    const rest = input.slice(p).toLowerCase();
    for (let i = 0; i < list.length; i++) {
      const w = (len === null ? list[i]! : list[i]!.slice(0, len)).toLowerCase();
      if (rest.startsWith(w)) { p += w.length; return i; }
    }
    return fail(what);
  };
  toks.forEach((t, ti) => {
    if (t.lit !== undefined) {
      // separators match loosely: any run of non-alphanumeric characters (or none)
      if (/[A-Za-z0-9]/.test(t.lit)) { if (input[p] === t.lit) p++; return; }
      while (p < input.length && /[^A-Za-z0-9]/.test(input[p]!)) p++;
      return;
    }
    const nx = toks[ti + 1];
    const tight = nx !== undefined && nx.tok !== undefined;
    const up = t.tok!.toUpperCase();
    switch (up) {
      case 'YYYY': case 'IYYY': f.y = digits(4, 'YYYY', tight); f.yearSet = true; break;
      case 'Y,YYY': { const a = digits(3, 'Y,YYY', true); if (input[p] === ',') p++; f.y = a * 1000 + digits(3, 'Y,YYY', true); break; }
      case 'YYY': { const v = digits(3, 'YYY', tight); f.y = v < 100 ? 2000 + v : 1000 + v; break; }
      case 'YY': { const v = digits(2, 'YY', tight); f.y = v < 70 ? 2000 + v : 1900 + v; break; }
      case 'Y': f.y = 2000 + digits(1, 'Y', tight); break;
      case 'MM': f.mo = digits(2, 'MM', tight); break;
      case 'MONTH': f.mo = word(MONTHS, null, 'MONTH') + 1; break;
      case 'MON': f.mo = word(MONTHS, 3, 'MON') + 1; break;
      case 'DD': f.d = digits(2, 'DD', tight); break;
      case 'DDD': f.doy = digits(3, 'DDD', tight); break;
      case 'DAY': word(DAYS, null, 'DAY'); break;
      case 'DY': word(DAYS, 3, 'DY'); break;
      case 'D': case 'ID': digits(1, up, tight); break;
      case 'HH24': f.h = digits(2, 'HH24', tight); break;
      case 'HH12': case 'HH': f.h = digits(2, 'HH12', tight); if (f.h < 1 || f.h > 12) throw new DbError(SqlState.InvalidDatetimeFormat, `hour "${f.h}" is invalid for the 12-hour clock`); break;
      case 'MI': f.mi = digits(2, 'MI', tight); break;
      case 'SS': f.s = digits(2, 'SS', tight); break;
      case 'MS': { const st = p; const v = digits(3, 'MS', tight); f.us += v * 10 ** (3 - (p - st)) * 1000; break; }
      case 'US': { const st = p; const v = digits(6, 'US', tight); f.us += v * 10 ** (6 - (p - st)); break; }
      case 'SSSS': case 'SSSSS': { const v = digits(5, up, tight); f.h = Math.floor(v / 3600); f.mi = Math.floor(v / 60) % 60; f.s = v % 60; break; }
      case 'AM': case 'PM': case 'A.M.': case 'P.M.': {
        while (input[p] === ' ') p++;
        const r = input.slice(p, p + up.length).toUpperCase();
        if (r === up.replace('P', 'A') || r === up.replace('A', 'P')) { f.pm = r.startsWith('P'); p += up.length; } else fail(up);
        break;
      }
      case 'TZ': case 'OF': break;
      default: break;
    }
    if (t.th) { const m = /^(st|nd|rd|th)/i.exec(input.slice(p)); if (m) p += 2; }
  });
  if (f.pm !== null) { if (f.h === 12) f.h = 0; if (f.pm) f.h += 12; }
  if (f.mo < 1 || f.mo > 12 || f.h > 24 || f.mi > 59 || f.s > 60) throw new DbError(SqlState.DatetimeFieldOverflow, `date/time field value out of range: "${input}"`);
  let days: number;
  if (f.doy) days = daysOf(f.y, 1, 1) + f.doy - 1;
  else {
    if (f.d < 1 || f.d > daysInMonth(f.y, f.mo)) throw new DbError(SqlState.DatetimeFieldOverflow, `date/time field value out of range: "${input}"`);
    days = daysOf(f.y, f.mo, f.d);
  }
  return days * US_PER_DAY + ((f.h * 60 + f.mi) * 60 + f.s) * 1e6 + f.us;
}

// --- to_char for numbers / to_number -----------------------------------------------------------

function toCharNumber(v: Decimal | number, fmt: string): string {
  let fm = false, neg: boolean, eeee = false;
  const intToks: string[] = []; // '9' '0' ','
  let fracDigits = 0, fracZero: boolean[] = [], point = false, pointChar = '.';
  type SignKind = 'S' | 'MI' | 'PL' | 'SG' | 'PR' | null;
  let signPos: 'lead' | 'trail' | null = null;
  let signKind = null as SignKind;
  const up = fmt.toUpperCase();
  let leadLit = '', trailLit = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = up[i]!;
    const afterDigits = intToks.length > 0 || point;
    if (up.startsWith('FM', i)) { fm = true; i++; continue; }
    if (up.startsWith('EEEE', i)) { eeee = true; i += 3; continue; }
    if (c === '9' || c === '0') { if (point) { fracDigits++; fracZero.push(c === '0'); } else intToks.push(c); continue; }
    if (c === '.' || c === 'D') { point = true; pointChar = '.'; continue; }
    if (c === ',' || c === 'G') { if (!point) intToks.push(','); continue; }
    if (c === 'S') { signKind = 'S'; signPos = afterDigits ? 'trail' : 'lead'; continue; }
    if (up.startsWith('MI', i) || up.startsWith('PL', i) || up.startsWith('SG', i) || up.startsWith('PR', i)) {
      signKind = up.slice(i, i + 2) as SignKind; signPos = afterDigits ? 'trail' : 'lead'; i++; continue;
    }
    if (c === 'L') { if (afterDigits) trailLit += ' '; else leadLit += ' '; continue; }
    if (c === 'V' || c === 'B') continue;
    if (c === '"') { let j = i + 1, s = ''; while (j < fmt.length && fmt[j] !== '"') s += fmt[j++]; i = j; if (afterDigits) trailLit += s; else leadLit += s; continue; }
    if (afterDigits) trailLit += fmt[i]; else leadLit += fmt[i];
  }
  let x = v instanceof Decimal ? v : Number.isFinite(v) ? Decimal.fromNumber(v) : null;
  const nDigits = intToks.filter((t) => t !== ',').length;
  if (x === null) return '#'.repeat(nDigits + (point ? 1 + fracDigits : 0) + 1);
  neg = x.sign() < 0;
  x = x.abs();
  if (eeee) {
    const s = x.toNumber().toExponential(fracDigits).replace(/e([+-])(\d)$/, 'e$10$2');
    return (neg ? '-' : fm ? '' : ' ') + s;
  }
  const r = x.round(fracDigits).withScale(fracDigits).toString();
  let [ip, fp = ''] = r.split('.');
  if (ip === '0' && fracDigits > 0 && !intToks.includes('0')) ip = '';
  let body: string;
  if (ip!.length > nDigits) {
    body = intToks.map((t) => (t === ',' ? ',' : '#')).join('') + (point ? pointChar + '#'.repeat(fracDigits) : '');
  } else {
    // fill digit positions from the right; leading positions blank until the first '0' token
    const digits = ip!.padStart(nDigits, ' ');
    const firstZero = intToks.filter((t) => t !== ',').indexOf('0');
    let di = 0, started = false;
    let s = '';
    for (const t of intToks) {
      if (t === ',') { s += started ? ',' : fm ? '' : ' '; continue; }
      let ch = digits[di]!;
      if (ch === ' ' && firstZero >= 0 && di >= firstZero) ch = '0';
      if (ch !== ' ') started = true;
      s += ch === ' ' && fm ? '' : ch;
      di++;
    }
    let frac = fp;
    if (fm) {
      // FM drops trailing zeros that stand for '9's
      let k = frac.length;
      while (k > 0 && frac[k - 1] === '0' && !fracZero[k - 1]) k--;
      frac = frac.slice(0, k);
    }
    body = s + (point ? pointChar + frac : '');
  }
  // sign
  const signChar = (kind: SignKind): string => {
    switch (kind) {
      case 'S': return neg ? '-' : '+';
      case 'MI': return neg ? '-' : fm ? '' : ' ';
      case 'PL': return neg ? (fm ? '-' : ' ') : '+';
      case 'SG': return neg ? '-' : '+';
      default: return '';
    }
  };
  const firstNonBlank = body.search(/[^ ]/);
  const pre = firstNonBlank < 0 ? body : body.slice(0, firstNonBlank), num = firstNonBlank < 0 ? '' : body.slice(firstNonBlank);
  if (signKind === 'PR') return leadLit + (neg ? pre + '<' + num + '>' : pre + (fm ? '' : ' ') + num + (fm ? '' : ' ')) + trailLit;
  if (signKind === null) return leadLit + pre + (neg ? '-' : fm ? '' : ' ') + num + trailLit;
  if (signPos === 'lead') return leadLit + (signKind === 'S' ? pre + signChar('S') + num : signChar(signKind) + body) + trailLit;
  return leadLit + body + signChar(signKind) + trailLit;
}

function toNumber(s: string, fmt: string): Decimal {
  const up = fmt.toUpperCase();
  let fracDigits = -1;
  const pi = Math.max(up.indexOf('D'), up.indexOf('.'));
  if (pi >= 0) fracDigits = (up.slice(pi + 1).match(/[90]/g) ?? []).length;
  let neg = false, out = '', seenPoint = false;
  for (const c of s) {
    if (c >= '0' && c <= '9') out += c;
    else if (c === '.' && pi >= 0 && !seenPoint) { out += '.'; seenPoint = true; } else if (c === '-' || c === '<') neg = true;
  }
  if (out === '' || out === '.') throw new DbError(SqlState.InvalidTextRepresentation, `invalid input syntax for type numeric: " "`);
  let d = Decimal.parse(out);
  if (fracDigits >= 0) d = d.round(fracDigits);
  return neg ? d.neg() : d;
}

// ---------------------------------------------------------------------------------------------
// math helpers

function toBig(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  const d = v as Decimal;
  if (!d.isInteger()) throw bad('gcd/lcm arguments must be integers');
  return d.trunc(0).v / 10n ** BigInt(d.trunc(0).s);
}
function fromBig(b: bigint, t: SqlType): unknown {
  if (t.id === 'BIGINT') return checkInt64(b);
  if (t.id === 'NUMERIC') return Decimal.fromInt(b);
  return checkInt32(Number(b));
}
function gcdBig(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a; b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}
function intKind(a: readonly SqlType[]): SqlType | undefined {
  if (!a[0] || !a[1] || !isNum(a[0]) || !isNum(a[1])) return undefined;
  if (a.some((t) => t.id === 'REAL' || t.id === 'DOUBLE')) return undefined;
  if (a.some((t) => t.id === 'NUMERIC')) return T.numeric;
  if (a.some((t) => t.id === 'BIGINT')) return T.bigint;
  return T.integer;
}

let rng: (() => number) | null = null;

const EXACT = [0, 0.5, 1, -0.5, -1];
function snap(x: number): number {
  for (const e of EXACT) if (Math.abs(x - e) < 1e-15) return e;
  return x;
}
function snapDeg(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - r) < 1e-12 ? r : x;
}
const rad = (d: number): number => (d * Math.PI) / 180;
function checkUnit(x: number): number {
  if (x < -1 || x > 1) throw new DbError(SqlState.NumericValueOutOfRange, 'input is out of range');
  return x;
}
const d1 = (f: (x: number) => number): ScalarFn => ({ ret: dbl, argType: dbl, impl: ([x]) => f(x as number) });

// ---------------------------------------------------------------------------------------------
// set-returning functions in a select list (bind/srf.ts)

/** Rows of a set-returning function; generate_series over numbers is computed, not listed. */
interface SeriesSpec { readonly start: number | bigint | Decimal; readonly step: number | bigint | Decimal; readonly len: number }

function numericSeries(args: unknown[]): SeriesSpec {
  const [a, b, st] = args;
  if (a instanceof Decimal) {
    const step = (st as Decimal | undefined) ?? Decimal.fromInt(1);
    if (step.sign() === 0) throw bad('step size cannot equal zero');
    const span = (b as Decimal).sub(a).div(step, 20).floor();
    const n = span.sign() < 0 ? 0 : Number(span.toString()) + 1;
    return { start: a, step, len: n };
  }
  if (typeof a === 'bigint') {
    const step = (st as bigint | undefined) ?? 1n;
    if (step === 0n) throw bad('step size cannot equal zero');
    const span = ((b as bigint) - a) / step;
    const n = (b as bigint) !== a && (((b as bigint) - a > 0n) !== (step > 0n)) ? 0 : Number(span) + 1;
    return { start: a, step, len: n };
  }
  const step = (st as number | undefined) ?? 1;
  if (step === 0) throw bad('step size cannot equal zero');
  const span = Math.floor(((b as number) - (a as number)) / step);
  return { start: a as number, step, len: span < 0 ? 0 : span + 1 };
}

const listCache = { key: '', rows: [] as unknown[] };

function argsKey(kind: string, args: readonly unknown[]): string {
  let k = kind;
  for (const a of args) k += '\u0001' + (a === null ? '\u0000' : typeof a === 'object' && !(a instanceof Decimal) ? JSON.stringify(a) : typeof a + ':' + String(a));
  return k;
}

function listRows(kind: string, args: unknown[]): unknown[] {
  switch (kind) {
    case 'generate_series': {
      // timestamps with an interval step (added again and again, as PostgreSQL does)
      const step = args[2] as Interval;
      if (step.months === 0 && step.days === 0 && step.us === 0) throw bad('step size cannot equal zero');
      const dir = step.months * 30 * US_PER_DAY + step.days * US_PER_DAY + step.us > 0 ? 1 : -1;
      const stop = args[1] as number;
      const out: number[] = [];
      for (let t = args[0] as number; dir > 0 ? t <= stop : t >= stop; t = addInterval(t, step)) {
        out.push(t);
        if (out.length > 50_000_000) throw new DbError('54000' as never, 'generate_series: too many rows');
      }
      return out;
    }
    case 'unnest': return parseArray(String(args[0])) ?? [];
    case 'regexp_matches': return regexpMatches(args[0] as string, args[1] as string, (args[2] as string | undefined) ?? '');
    case 'regexp_split_to_table': return regexpSplit(args[0] as string, args[1] as string, (args[2] as string | undefined) ?? '');
    case 'string_to_table': return stringToList(args[0] as string, args[1] as string | null, args[2] as string | null | undefined);
  }
  throw new DbError(SqlState.UndefinedFunction, `function ${kind} does not exist`);
}

function stringToList(s: string, delim: string | null, nullStr: string | null | undefined): (string | null)[] {
  const parts = delim === null ? [...s] : delim === '' ? [s] : s.split(delim);
  return nullStr === undefined || nullStr === null ? parts : parts.map((p) => (p === nullStr ? null : p));
}

/** The rows `kind(args)` returns (REQUIRES: no argument the function is strict in is NULL). */
function srfRowsCached(kind: string, args: unknown[], types: readonly SqlType[]): { len: number; at: (n: number) => unknown } {
  if (kind === 'generate_series' && types[0]?.id !== 'TIMESTAMP') {
    const s = numericSeries(args);
    return {
      len: s.len,
      at: (n) => {
        if (n > s.len) return null;
        if (s.start instanceof Decimal) return n === 1 ? s.start : s.start.add((s.step as Decimal).mul(Decimal.fromInt(n - 1)));
        if (typeof s.start === 'bigint') return s.start + (s.step as bigint) * BigInt(n - 1);
        return s.start + (s.step as number) * (n - 1);
      },
    };
  }
  const key = argsKey(kind, args);
  if (listCache.key !== key) { listCache.key = key; listCache.rows = listRows(kind, args); }
  const rows = listCache.rows;
  return { len: rows.length, at: (n) => rows[n - 1] ?? null };
}

/** Whether a NULL argument makes the function return no rows (every SRF here is strict except the string_to_table delimiter/null string). */
function srfNullArgs(kind: string, args: readonly unknown[]): boolean {
  if (kind === 'string_to_table') return args[0] === null;
  return args.some((a) => a === null);
}

// ---------------------------------------------------------------------------------------------
// the table

export const MORE_FUNCTIONS: Record<string, ScalarFn> = {
  // --- regular expressions
  regexp_replace: { ret: text, argType: () => T.text, impl: ([s, p, r, fl]) => regexpReplace(s as string, p as string, r as string, (fl as string | undefined) ?? '') },
  regexp_match: {
    ret: text, argType: () => T.text,
    impl: ([s, p, fl]) => {
      if (((fl as string | undefined) ?? '').includes('g')) throw bad('regexp_match() does not support the "global" option');
      const m = pgRegex(p as string, (fl as string | undefined) ?? '').exec(s as string);
      return m ? matchArray(m) : null;
    },
  },
  regexp_like: { ret: () => T.boolean, argType: () => T.text, impl: ([s, p, fl]) => pgRegex(p as string, (fl as string | undefined) ?? '').test(s as string) },
  regexp_count: {
    ret: () => T.integer, argType: (i) => (i === 2 ? T.integer : T.text),
    impl: ([s, p, start, fl]) => {
      const str = [...(s as string)].slice(((start as number | undefined) ?? 1) - 1).join('');
      return regexpMatches(str, p as string, ((fl as string | undefined) ?? '') + 'g').length;
    },
  },
  regexp_split_to_array: { ret: text, argType: () => T.text, impl: ([s, p, fl]) => formatArray(regexpSplit(s as string, p as string, (fl as string | undefined) ?? '')) },
  string_to_array: {
    ret: text, argType: () => T.text, strict: false,
    impl: ([s, d, n]) => (s === null ? null : formatArray(s === '' ? [] : stringToList(s as string, d as string | null, n as string | null | undefined))),
  },
  similar_to_escape: { ret: text, argType: () => T.text, impl: ([p, e]) => similarToRegex(p as string, e === undefined ? null : (e as string)) },
  similar_escape: { ret: text, argType: () => T.text, strict: false, impl: ([p, e]) => (p === null ? null : similarToRegex(p as string, (e as string | null | undefined) ?? null)) },

  // --- text
  md5: { ret: text, argType: () => T.text, impl: ([s]) => createHash('md5').update(s as string, 'utf8').digest('hex') },
  sha256: { ret: text, argType: () => T.text, impl: ([s]) => '\\x' + createHash('sha256').update(s as string, 'utf8').digest('hex') },
  quote_ident: { ret: text, argType: () => T.text, impl: ([s]) => quoteIdent(s as string) },
  quote_literal: { ret: text, impl: ([v], ctx) => quoteLiteral(valueToText(v, ctx.argTypes[0]!)) },
  quote_nullable: { ret: text, strict: false, impl: ([v], ctx) => (v === null ? 'NULL' : quoteLiteral(valueToText(v, ctx.argTypes[0]!))) },
  format: {
    ret: (a) => (a.length >= 1 ? T.text : undefined), argType: (i) => (i === 0 ? T.text : undefined), strict: false,
    impl: (args, ctx) => (args[0] === null ? null : formatFn(args[0] as string, args.slice(1), ctx.argTypes)),
  },
  initcap: {
    ret: text, argType: () => T.text,
    impl: ([s]) => {
      let out = '', inWord = false;
      for (const c of s as string) {
        const alnum = /[\p{L}\p{N}]/u.test(c);
        out += alnum ? (inWord ? c.toLowerCase() : c.toUpperCase()) : c;
        inWord = alnum;
      }
      return out;
    },
  },
  overlay: {
    ret: text, argType: (i) => (i < 2 ? T.text : T.integer),
    impl: ([s, r, from, len]) => {
      const c = [...(s as string)];
      const f = from as number, l = (len as number | undefined) ?? [...(r as string)].length;
      if (f < 1) throw new DbError('22011' as never, 'negative substring length not allowed');
      return c.slice(0, f - 1).join('') + (r as string) + c.slice(f - 1 + l).join('');
    },
  },
  to_ascii: { ret: text, argType: () => T.text, impl: ([s]) => (s as string).normalize('NFD').replace(/[\u0300-\u036f]/g, '') },

  // --- date / time
  age: {
    ret: (a) => (a.length <= 2 ? T.interval : undefined),
    argType: () => T.timestamp,
    impl: (args, ctx) => {
      if (args.length === 1) {
        const today = Math.floor(ctx.now.getTime() / 86400000) * US_PER_DAY;
        return age(today, args[0] as number);
      }
      return age(args[0] as number, args[1] as number);
    },
  },
  make_date: {
    ret: () => T.date, argType: () => T.integer,
    impl: ([y, m, d]) => makeDate(y as number, m as number, d as number),
  },
  make_timestamp: {
    ret: () => T.timestamp, argType: (i) => (i === 5 ? T.double : T.integer),
    impl: ([y, mo, d, h, mi, s]) => {
      const days = makeDate(y as number, mo as number, d as number);
      const sec = s as number;
      if ((h as number) < 0 || (h as number) > 24 || (mi as number) < 0 || (mi as number) > 59 || sec < 0 || sec > 60) {
        throw new DbError(SqlState.DatetimeFieldOverflow, `date/time field value out of range: ${h}:${mi}:${sec}`);
      }
      return days * US_PER_DAY + ((h as number) * 60 + (mi as number)) * 60e6 + Math.round(sec * 1e6);
    },
  },
  make_interval: {
    ret: () => T.interval, argType: (i) => (i === 6 ? T.double : T.integer), strict: false,
    impl: ([y, mo, w, d, h, mi, s]) => ({
      months: ((y as number | null) ?? 0) * 12 + ((mo as number | null) ?? 0),
      days: ((w as number | null) ?? 0) * 7 + ((d as number | null) ?? 0),
      us: Math.round((((h as number | null) ?? 0) * 3600 + ((mi as number | null) ?? 0) * 60 + ((s as number | null) ?? 0)) * 1e6),
    }),
  },
  justify_days: { ret: () => T.interval, argType: () => T.interval, impl: ([i]) => justifyDays(i as Interval) },
  justify_hours: { ret: () => T.interval, argType: () => T.interval, impl: ([i]) => justifyHours(i as Interval) },
  justify_interval: { ret: () => T.interval, argType: () => T.interval, impl: ([i]) => justifyInterval(i as Interval) },
  date_bin: {
    ret: () => T.timestamp, argType: (i) => (i === 0 ? T.interval : T.timestamp),
    impl: ([st, src, origin]) => {
      const s = st as Interval;
      if (s.months !== 0) throw bad('timestamps cannot be binned into intervals containing months or years', SqlState.FeatureNotSupported);
      const stride = s.days * US_PER_DAY + s.us;
      if (stride <= 0) throw bad('stride must be greater than zero');
      const diff = (src as number) - (origin as number);
      return (origin as number) + Math.floor(diff / stride) * stride;
    },
  },
  to_char: {
    ret: text, argType: (i, a) => (i === 1 ? T.text : a[0]?.id === 'DATE' ? T.timestamp : a[0] && isIntegerType(a[0]) ? T.numeric : undefined),
    impl: ([v, fmt], ctx) => {
      const t = ctx.argTypes[0]!;
      if (fmt === undefined) return valueToText(v, t);
      if (t.id === 'TIMESTAMP') return toCharTimestamp(v as number, fmt as string);
      if (t.id === 'INTERVAL') {
        const i = v as Interval;
        return toCharTimestamp(i.us + i.days * US_PER_DAY, (fmt as string), true);
      }
      if (t.id === 'NUMERIC' || t.id === 'REAL' || t.id === 'DOUBLE') return toCharNumber(v as Decimal | number, fmt as string);
      return valueToText(v, t);
    },
  },
  to_date: { ret: () => T.date, argType: () => T.text, impl: ([s, f]) => Math.floor(parseWithFormat(s as string, f as string) / US_PER_DAY) },
  to_timestamp: {
    ret: () => T.timestamp, argType: (_i, a) => (a.length === 1 ? T.double : T.text),
    impl: ([s, f]) => {
      if (f === undefined) {
        const x = s as number;
        if (!Number.isFinite(x)) throw new DbError(SqlState.DatetimeFieldOverflow, 'timestamp out of range');
        return Math.round(x * 1e6);
      }
      return parseWithFormat(s as string, f as string);
    },
  },
  to_number: { ret: () => T.numeric, argType: () => T.text, impl: ([s, f]) => toNumber(s as string, f as string) },

  // --- math
  gcd: { ret: intKind, argType: (_i, a) => intKind(a), impl: ([a, b], ctx) => fromBig(gcdBig(toBig(a), toBig(b)), ctx.argTypes[0]!) },
  lcm: {
    ret: intKind, argType: (_i, a) => intKind(a),
    impl: ([a, b], ctx) => {
      const x = toBig(a), y = toBig(b);
      if (x === 0n || y === 0n) return fromBig(0n, ctx.argTypes[0]!);
      const r = (x / gcdBig(x, y)) * y;
      return fromBig(r < 0n ? -r : r, ctx.argTypes[0]!);
    },
  },
  factorial: {
    ret: () => T.numeric, argType: () => T.bigint,
    impl: ([n]) => {
      const k = n as bigint;
      if (k < 0n) throw bad('factorial of a negative number is undefined');
      if (k > 32177n) throw new DbError(SqlState.NumericValueOutOfRange, 'value overflows numeric format');
      let r = 1n;
      for (let i = 2n; i <= k; i++) r *= i;
      return Decimal.fromInt(r);
    },
  },
  width_bucket: {
    ret: () => T.integer, argType: (i, a) => (i === 3 ? T.integer : a.slice(0, 3).some((t) => t.id === 'NUMERIC') ? T.numeric : T.double),
    impl: ([x0, lo0, hi0, n0]) => {
      const x = x0 instanceof Decimal ? x0.toNumber() : (x0 as number), lo = lo0 instanceof Decimal ? lo0.toNumber() : (lo0 as number);
      const hi = hi0 instanceof Decimal ? hi0.toNumber() : (hi0 as number), n = n0 as number;
      if (n <= 0) throw new DbError('2201G' as never, 'count must be greater than zero');
      if (lo === hi) throw new DbError('2201G' as never, 'lower bound cannot equal upper bound');
      if (Number.isNaN(x) || Number.isNaN(lo) || Number.isNaN(hi)) throw new DbError('2201G' as never, 'operand, lower bound, and upper bound cannot be NaN');
      if (lo < hi) return x < lo ? 0 : x >= hi ? checkInt32(n + 1) : Math.floor((n * (x - lo)) / (hi - lo)) + 1;
      return x > lo ? 0 : x <= hi ? checkInt32(n + 1) : Math.floor((n * (lo - x)) / (lo - hi)) + 1;
    },
  },
  cbrt: d1(Math.cbrt),
  cot: d1((x) => 1 / Math.tan(x)),
  asin: d1((x) => Math.asin(checkUnit(x))),
  acos: d1((x) => Math.acos(checkUnit(x))),
  sind: d1((x) => snap(Math.sin(rad(x % 360)))),
  cosd: d1((x) => snap(Math.cos(rad(x % 360)))),
  tand: d1((x) => { const m = ((x % 180) + 180) % 180; return m === 0 ? 0 * Math.sign(x || 1) : m === 90 ? Infinity : m === 45 ? 1 : m === 135 ? -1 : Math.tan(rad(x)); }),
  cotd: d1((x) => { const m = ((x % 180) + 180) % 180; return m === 90 ? 0 : m === 0 ? Infinity : m === 45 ? 1 : m === 135 ? -1 : 1 / Math.tan(rad(x)); }),
  asind: d1((x) => snapDeg((Math.asin(checkUnit(x)) * 180) / Math.PI)),
  acosd: d1((x) => snapDeg((Math.acos(checkUnit(x)) * 180) / Math.PI)),
  atand: d1((x) => snapDeg((Math.atan(x) * 180) / Math.PI)),
  atan2d: { ret: dbl, argType: dbl, impl: ([y, x]) => snapDeg((Math.atan2(y as number, x as number) * 180) / Math.PI) },
  sinh: d1(Math.sinh), cosh: d1(Math.cosh), tanh: d1(Math.tanh), asinh: d1(Math.asinh),
  acosh: d1((x) => { if (x < 1) throw new DbError(SqlState.NumericValueOutOfRange, 'input is out of range'); return Math.acosh(x); }),
  atanh: d1((x) => { if (x < -1 || x > 1) throw new DbError(SqlState.NumericValueOutOfRange, 'input is out of range'); return Math.atanh(x); }),
  random: { ret: dbl, volatile: true, impl: () => (rng ? rng() : Math.random()) },
  setseed: {
    ret: () => T.text, argType: dbl, volatile: true,
    impl: ([x]) => {
      const s = x as number;
      if (s < -1 || s > 1 || Number.isNaN(s)) throw bad(`setseed parameter ${s} is out of allowed range [-1,1]`);
      rng = seededRandom(Math.round((s + 1) * 0x3fffffff));
      return '';
    },
  },

  // --- set-returning functions in a select list (bind/srf.ts): __srf_len(kind, args...) is the
  //     number of rows, __srf_at(n, kind, args...) row n (1-based) or NULL past the end
  __srf_len: {
    ret: () => T.integer, strict: false,
    impl: (args, ctx) => {
      const kind = args[0] as string, a = args.slice(1);
      if (srfNullArgs(kind, a)) return 0;
      return srfRowsCached(kind, a, ctx.argTypes.slice(1)).len;
    },
  },
  __srf_at: {
    ret: (a) => a[2], strict: false,
    impl: (args, ctx) => {
      const n = args[0] as number, kind = args[1] as string, a = args.slice(2);
      if (srfNullArgs(kind, a)) return null;
      return srfRowsCached(kind, a, ctx.argTypes.slice(2)).at(n);
    },
  },
  __srf: { ret: () => T.text, strict: false, impl: () => { throw new DbError(SqlState.FeatureNotSupported, 'set-returning functions are not allowed here'); } },
};
