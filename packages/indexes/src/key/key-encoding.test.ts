import { describe, expect, it } from 'vitest';
import { isDbError, SqlState, T } from '@quiverdb/common';
import { encodeKey, decodeKey, encodeKeyFromColumns, keyColumnFor, type KeyColumn, type KeyColumnType, type KeyValue } from './key-encoding.js';
import { compareBytes, prefixSuccessor, toBinary, fromBinary } from './binary-string.js';
import { getBinary } from '../page/page-codec.js';
import { Rng } from '../testing/rng.js';

const TYPES: KeyColumnType[] = ['bool', 'int16', 'int32', 'int64', 'float32', 'float64', 'date32', 'timestamp_us', 'utf8', 'numeric', 'json'];

function randString(r: Rng): string {
  const alphabet = ['', 'a', 'b', '\u0000', '\u00ff', '\u00e9', 'z', '\uffff', '\ud83d\ude00', '\ue000', 'ab'];
  let s = '';
  const n = r.int(5);
  for (let i = 0; i < n; i++) s += r.pick(alphabet);
  return s;
}

function randNumeric(r: Rng): { text: string; m: bigint; s: number } | { text: string; special: number } {
  const k = r.int(20);
  if (k === 0) return { text: 'NaN', special: 3 };
  if (k === 1) return { text: 'Infinity', special: 2 };
  if (k === 2) return { text: '-Infinity', special: -2 };
  const m = BigInt(r.int(2001) - 1000) * (r.bool() ? 1n : 10n ** BigInt(r.int(6)));
  const s = r.int(6);
  const neg = m < 0n;
  const digits = (neg ? -m : m).toString().padStart(s + 1, '0');
  let text = s === 0 ? digits : `${digits.slice(0, digits.length - s)}.${digits.slice(digits.length - s)}`;
  if (r.bool()) text = '00' + text; // leading zeros are not significant
  if (s > 0 && r.bool()) text += '000';
  return { text: (neg ? '-' : '') + text, m, s };
}

function randValue(r: Rng, t: KeyColumnType): KeyValue {
  if (r.int(8) === 0) return null;
  switch (t) {
    case 'bool': return r.bool();
    case 'int16': return r.pick([-32768, 32767, 0, -1, 1, r.int(65536) - 32768]);
    case 'int32': case 'date32': return r.pick([-2147483648, 2147483647, 0, -1, 1, r.int(2 ** 32) - 2 ** 31, r.int(100) - 50]);
    case 'int64': return r.pick([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, BigInt(r.int(2 ** 32) - 2 ** 31) * BigInt(r.int(2 ** 31)), BigInt(r.int(100) - 50)]);
    case 'float32': return Math.fround(r.pick([0, -0, NaN, Infinity, -Infinity, 1.5, -1.5, 1e-40, -1e-40, (r.next() - 0.5) * 1e6, r.int(10) - 5]));
    case 'float64': case 'timestamp_us': return r.pick([0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, (r.next() - 0.5) * 1e12, r.int(10) - 5]);
    case 'utf8': return randString(r);
    case 'numeric': return randNumeric(r).text;
    case 'json': return r.pick([1, 'x', [1, 2], { a: 1 }, true, 12n]);
  }
}

function cmpNum(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function numericRank(text: string): { special: number } | { m: bigint; s: number } {
  if (text === 'NaN') return { special: 3 };
  if (text === 'Infinity') return { special: 2 };
  if (text === '-Infinity') return { special: -2 };
  const neg = text.startsWith('-');
  const body = neg ? text.slice(1) : text;
  const [i, f = ''] = body.split('.');
  const m = BigInt((i ?? '') + f) * (neg ? -1n : 1n);
  return { m, s: f.length };
}

function cmpNumeric(a: string, b: string): number {
  const x = numericRank(a);
  const y = numericRank(b);
  const sx = 'special' in x ? x.special : 0;
  const sy = 'special' in y ? y.special : 0;
  if (sx !== 0 || sy !== 0) return sx - sy === 0 ? 0 : (sx === 0 ? (sy > 0 ? -1 : 1) : sy === 0 ? (sx > 0 ? 1 : -1) : sx - sy);
  const p = x as { m: bigint; s: number };
  const q = y as { m: bigint; s: number };
  const S = Math.max(p.s, q.s);
  const l = p.m * 10n ** BigInt(S - p.s);
  const r = q.m * 10n ** BigInt(S - q.s);
  return l < r ? -1 : l > r ? 1 : 0;
}

function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? { $n: x.toString() } : x));
}

function cmpValue(t: KeyColumnType, a: KeyValue, b: KeyValue): number {
  switch (t) {
    case 'bool': return Number(a) - Number(b);
    case 'int64': return (a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0;
    case 'utf8': return cmpCodePoints(a as string, b as string);
    case 'numeric': return cmpNumeric(a as string, b as string);
    case 'json': return cmpCodePoints(jsonText(a), jsonText(b));
    default: return cmpNum(a as number, b as number);
  }
}

/** The reference comparator: SQL order of two rows under a spec. */
function cmpRows(spec: KeyColumn[], a: KeyValue[], b: KeyValue[]): number {
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    const nullsFirst = c.nullsFirst ?? c.desc === true;
    const x = a[i];
    const y = b[i];
    let d: number;
    if (x === null && y === null) d = 0;
    else if (x === null) d = nullsFirst ? -1 : 1;
    else if (y === null) d = nullsFirst ? 1 : -1;
    else d = Math.sign(cmpValue(c.type, x, y)) * (c.desc === true ? -1 : 1);
    if (d !== 0) return d;
  }
  return 0;
}

function randSpec(r: Rng): KeyColumn[] {
  const n = 1 + r.int(3);
  const spec: KeyColumn[] = [];
  for (let i = 0; i < n; i++) {
    const nf = r.int(3);
    spec.push({ type: r.pick(TYPES), desc: r.bool(), ...(nf === 0 ? {} : { nullsFirst: nf === 1 }) });
  }
  return spec;
}

const TIMEOUT = process.env.QUIVER_LONG === '1' ? 3_600_000 : 60_000;

describe('encodeKey', () => {
  it('orders bytes as the SQL comparator orders rows (randomized, every type, direction, null placement)', () => {
    const r = new Rng(42);
    const iters = process.env.QUIVER_LONG === '1' ? 2_000_000 : 30_000;
    for (let it = 0; it < iters / 20; it++) {
      const spec = randSpec(r);
      const rows = Array.from({ length: 20 }, () => spec.map((c) => randValue(r, c.type)));
      const keys = rows.map((row) => encodeKey(spec, row));
      for (let i = 0; i < rows.length; i++) {
        const j = r.int(rows.length);
        const want = cmpRows(spec, rows[i]!, rows[j]!);
        const got = Math.sign(compareBytes(keys[i]!, keys[j]!));
        if (got !== want) {
          throw new Error(`order mismatch for ${JSON.stringify(spec)}: ${String(rows[i])} vs ${String(rows[j])}: got ${got} want ${want}`);
        }
        // prefix property
        const k = r.int(spec.length + 1);
        const pre = encodeKey(spec, rows[i]!.slice(0, k));
        expect(compareBytes(pre, keys[i]!.subarray(0, pre.length))).toBe(0);
      }
    }
  }, TIMEOUT);

  it('decodes back to the values', () => {
    const r = new Rng(7);
    for (let it = 0; it < 5000; it++) {
      const spec = randSpec(r);
      const row = spec.map((c) => randValue(r, c.type));
      const back = decodeKey(spec, encodeKey(spec, row));
      for (let i = 0; i < spec.length; i++) {
        const t = spec[i]!.type;
        const v = row[i];
        if (v === null) expect(back[i]).toBeNull();
        else if (t === 'numeric') expect(cmpNumeric(back[i] as string, v as string)).toBe(0);
        else if (t === 'float32' || t === 'float64' || t === 'timestamp_us') expect(cmpNum(back[i] as number, v as number)).toBe(0);
        else expect(back[i]).toEqual(v);
      }
    }
  });

  it('follows PostgreSQL defaults: NULLS LAST for ASC, NULLS FIRST for DESC; NaN greatest; -0 = 0', () => {
    const asc: KeyColumn[] = [{ type: 'int32' }];
    const desc: KeyColumn[] = [{ type: 'int32', desc: true }];
    expect(compareBytes(encodeKey(asc, [null]), encodeKey(asc, [2147483647]))).toBeGreaterThan(0);
    expect(compareBytes(encodeKey(desc, [null]), encodeKey(desc, [-2147483648]))).toBeLessThan(0);
    const f: KeyColumn[] = [{ type: 'float64' }];
    expect(compareBytes(encodeKey(f, [NaN]), encodeKey(f, [Infinity]))).toBeGreaterThan(0);
    expect(compareBytes(encodeKey(f, [-0]), encodeKey(f, [0]))).toBe(0);
    const s: KeyColumn[] = [{ type: 'utf8' }, { type: 'int32' }];
    expect(compareBytes(encodeKey(s, ['ab', 9]), encodeKey(s, ['abc', 0]))).toBeLessThan(0);
    expect(compareBytes(encodeKey(s, ['a\u0000', 0]), encodeKey(s, ['a', 9]))).toBeGreaterThan(0);
    const n: KeyColumn[] = [{ type: 'numeric' }];
    expect(compareBytes(encodeKey(n, ['12.50']), encodeKey(n, ['12.5']))).toBe(0);
    expect(compareBytes(encodeKey(n, ['9']), encodeKey(n, ['10']))).toBeLessThan(0);
    expect(compareBytes(encodeKey(n, ['-9']), encodeKey(n, ['-10']))).toBeGreaterThan(0);
    expect(decodeKey(n, encodeKey(n, ['-0012.500']))).toEqual(['-12.5']);
  });

  it('rejects values that do not fit with 42804', () => {
    let err: unknown;
    try { encodeKey([{ type: 'int16' }], [40000]); } catch (e) { err = e; }
    expect(isDbError(err, SqlState.DatatypeMismatch)).toBe(true);
  });

  it('encodes rows of a column batch like encodeKey', () => {
    const spec: KeyColumn[] = [{ type: 'int32' }, { type: 'utf8', desc: true }];
    const cols = [
      { data: Int32Array.from([1, 2, 3]), validity: Uint8Array.from([1, 0, 1]) },
      { data: ['x', 'y', ''], validity: null },
    ];
    expect(encodeKeyFromColumns(spec, cols, 1)).toEqual(encodeKey(spec, [null, 'y']));
    expect(encodeKeyFromColumns(spec, cols, 2)).toEqual(encodeKey(spec, [3, '']));
  });

  it('maps SQL types to key columns (NUMERIC by value)', () => {
    expect(keyColumnFor(T.numeric)).toEqual({ type: 'numeric' });
    expect(keyColumnFor(T.text, { desc: true })).toEqual({ type: 'utf8', desc: true });
    expect(keyColumnFor(T.bigint)).toEqual({ type: 'int64' });
  });

  it('prefix successor bounds a prefix scan', () => {
    expect(prefixSuccessor(Uint8Array.from([1, 0xff, 0xff]))).toEqual(Uint8Array.from([2]));
    expect(prefixSuccessor(Uint8Array.from([0xff]))).toBeUndefined();
    const b = Uint8Array.from([0, 1, 200, 255, 128]);
    expect(fromBinary(toBinary(b))).toEqual(b);
  });
});

describe('binary strings', () => {
  it('getBinary and toBinary give the bytes as flat strings at every length and offset (naive model)', () => {
    const r = new Rng(20261126);
    const buf = new Uint8Array(200);
    for (let i = 0; i < buf.length; i++) buf[i] = r.int(256);
    const naive = (pos: number, len: number): string => {
      let s = '';
      for (let i = 0; i < len; i++) s += String.fromCharCode(buf[pos + i]!);
      return s;
    };
    for (let len = 0; len <= 80; len++) {
      for (const pos of [0, 1, 7, 200 - len]) {
        const s = getBinary(buf, pos, len);
        expect(s).toBe(naive(pos, len));
        expect(toBinary(buf.subarray(pos, pos + len))).toBe(s);
        expect(fromBinary(s)).toEqual(buf.subarray(pos, pos + len));
      }
    }
  });
});
