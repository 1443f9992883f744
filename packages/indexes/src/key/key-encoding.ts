/**
 * Order-preserving encoding of composite keys: memcmp order of the bytes == SQL order of the rows.
 *
 * Format (per column, concatenated; every column encoding is self-delimiting, so the encoding
 * of the first k values of a key is a byte prefix of the whole key — prefix scans are range scans):
 *
 *   column   := marker value?
 *   marker   := 0x00 (NULL, NULLS FIRST) | 0x01 (not NULL) | 0x02 (NULL, NULLS LAST)
 *   value    := asc-bytes            when ASC
 *             | ~asc-bytes           when DESC (every byte inverted, terminators included)
 *   asc-bytes of
 *     bool          1 byte 0 | 1
 *     int16/32/64   2/4/8 bytes big-endian two's complement with the sign bit flipped
 *     date32        as int32 (days since 1970-01-01)
 *     float32       4 bytes, float64 / timestamp_us 8 bytes: IEEE bits big-endian; positive → sign
 *                   bit set, negative → all bits inverted. -0 is written as +0 and every NaN as
 *                   the canonical quiet NaN, so (as in PostgreSQL) -0 = 0 and NaN = NaN > +Infinity.
 *     utf8          UTF-8 bytes, 0x00 escaped as 0x00 0xff, terminated by 0x00 0x01: a string
 *                   sorts before every string it is a proper prefix of. Order = code point order
 *                   (PostgreSQL's "C" collation).
 *     numeric       see numeric-key.ts (decimal text, ordered by value, NaN greatest)
 *     json          the JSON text as utf8: equality is exact, order is that of the text.
 *
 * The marker is never inverted, so NULL placement is independent of direction. Defaults follow
 * PostgreSQL: NULLS LAST for ASC, NULLS FIRST for DESC.
 *
 * Invariants:
 *  1. For keys a, b of the same spec: compareBytes(encode(a), encode(b)) has the sign of the SQL
 *     comparison of a and b (lexicographic over columns, each column with its direction/nulls).
 *  2. decodeKey(spec, encodeKey(spec, v)) == v, up to -0 → 0, NaN payloads, and NUMERIC text
 *     canonicalisation ('12.50' → '12.5').
 *  3. encodeKey(spec, v.slice(0, k)) is a byte prefix of encodeKey(spec, v).
 *
 * On-disk: these bytes are persisted in index pages. DO NOT CHANGE the markers or layouts.
 *
 * Concurrency: synchronous; every encode writes into one module-level scratch writer (reset per
 * call) and copies out, except `encodeKeyScratch`, whose result is only valid until the next encode.
 */
import { DbError, SqlState, physicalTypeOf, type PhysicalType, type ColumnVector, type SqlType } from '@quiverdb/common';
import { encodeNumeric, decodeNumeric } from './numeric-key.js';

/** A column type of a key: every physical type, plus `numeric` (decimal text ordered by value). */
export type KeyColumnType = PhysicalType | 'numeric';

/** One column of a key spec. */
export interface KeyColumn {
  readonly type: KeyColumnType;
  /** DESC order; default false (ASC). */
  readonly desc?: boolean;
  /** Where NULLs sort; default: last for ASC, first for DESC (PostgreSQL). */
  readonly nullsFirst?: boolean;
}

export type KeySpec = readonly KeyColumn[];

/**
 * The key column for a SQL type: its physical type, except NUMERIC (physically utf8 text) which
 * uses the `numeric` encoding so that keys order by value.
 */
export function keyColumnFor(t: SqlType, opts: { desc?: boolean; nullsFirst?: boolean } = {}): KeyColumn {
  const type: KeyColumnType = t.id === 'NUMERIC' ? 'numeric' : physicalTypeOf(t);
  return { type, ...(opts.desc === undefined ? {} : { desc: opts.desc }), ...(opts.nullsFirst === undefined ? {} : { nullsFirst: opts.nullsFirst }) };
}

/** A value of one key column: null, or the JS value of the column's physical type. */
export type KeyValue = null | boolean | number | bigint | string | unknown;

const MARK_NULL_FIRST = 0x00;
const MARK_VALUE = 0x01;
const MARK_NULL_LAST = 0x02;

/**
 * A growable byte buffer. @internal
 * No DataView is kept: creating one forces V8 to move a small on-heap typed array's bytes into a
 * separate ArrayBuffer, which dominated the cost of encoding a short key.
 */
export class ByteWriter {
  buf: Uint8Array;
  len = 0;
  constructor(capacity = 32) {
    this.buf = new Uint8Array(capacity);
  }
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  invertFrom(start: number): void {
    const buf = this.buf;
    for (let i = start; i < this.len; i++) buf[i] = ~buf[i]! & 0xff;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32b = new Uint8Array(f32.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function badValue(col: KeyColumn, v: unknown): DbError {
  return new DbError(SqlState.DatatypeMismatch, `key value ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)} does not fit key column type ${col.type}`);
}

function writeInt(w: ByteWriter, v: number, bytes: 2 | 4): void {
  w.reserve(bytes);
  if (bytes === 2) {
    const u = (v + 0x8000) & 0xffff;
    w.buf[w.len++] = u >>> 8;
    w.buf[w.len++] = u & 0xff;
  } else {
    const u = (v ^ 0x80000000) >>> 0;
    w.buf[w.len++] = u >>> 24;
    w.buf[w.len++] = (u >>> 16) & 0xff;
    w.buf[w.len++] = (u >>> 8) & 0xff;
    w.buf[w.len++] = u & 0xff;
  }
}

function writeInt64(w: ByteWriter, v: bigint): void {
  w.reserve(8);
  const u = BigInt.asUintN(64, v) ^ 0x8000000000000000n;
  const hi = Number(u >> 32n);
  const lo = Number(u & 0xffffffffn);
  const b = w.buf;
  let p = w.len;
  b[p++] = hi >>> 24; b[p++] = (hi >>> 16) & 0xff; b[p++] = (hi >>> 8) & 0xff; b[p++] = hi & 0xff;
  b[p++] = lo >>> 24; b[p++] = (lo >>> 16) & 0xff; b[p++] = (lo >>> 8) & 0xff; b[p++] = lo & 0xff;
  w.len = p;
}

function writeFloat(w: ByteWriter, v: number, bytes: 4 | 8): void {
  if (v === 0) v = 0; // -0 → +0
  w.reserve(bytes);
  let src: Uint8Array;
  if (bytes === 8) {
    f64[0] = Number.isNaN(v) ? NaN : v;
    src = f64b;
  } else {
    f32[0] = Number.isNaN(v) ? NaN : v;
    src = f32b;
  }
  const start = w.len;
  for (let i = 0; i < bytes; i++) w.buf[start + i] = src[littleEndian ? bytes - 1 - i : i]!;
  if (Number.isNaN(v)) {
    // canonical quiet NaN, positive sign: 0x7ff8... / 0x7fc0...
    w.buf[start] = 0x7f;
    w.buf[start + 1] = bytes === 8 ? 0xf8 : 0xc0;
    for (let i = 2; i < bytes; i++) w.buf[start + i] = 0;
  }
  if (w.buf[start]! & 0x80) {
    for (let i = 0; i < bytes; i++) w.buf[start + i] = ~w.buf[start + i]! & 0xff;
  } else {
    w.buf[start] = w.buf[start]! | 0x80;
  }
  w.len += bytes;
}

/** Escaped, terminated bytes of a string (see the format above). */
function writeText(w: ByteWriter, s: string): void {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c >= 0x80) { ascii = false; break; }
  }
  if (ascii) {
    w.reserve(s.length + 2);
    const buf = w.buf;
    let p = w.len;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    w.len = p;
  } else {
    const b = textEncoder.encode(s);
    w.reserve(b.length * 2 + 2);
    for (const x of b) {
      w.buf[w.len++] = x;
      if (x === 0) w.buf[w.len++] = 0xff;
    }
  }
  w.reserve(2);
  w.buf[w.len++] = 0x00;
  w.buf[w.len++] = 0x01;
}

function toBigInt(col: KeyColumn, v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw badValue(col, v);
}

function toNumber(col: KeyColumn, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw badValue(col, v);
}

/** Append one column value. @internal */
export function writeColumn(w: ByteWriter, col: KeyColumn, v: unknown): void {
  const nullsFirst = col.nullsFirst ?? col.desc === true;
  if (v === null || v === undefined) {
    w.byte(nullsFirst ? MARK_NULL_FIRST : MARK_NULL_LAST);
    return;
  }
  w.byte(MARK_VALUE);
  const start = w.len;
  switch (col.type) {
    case 'bool':
      if (typeof v === 'boolean') w.byte(v ? 1 : 0);
      else if (v === 0 || v === 1) w.byte(v);
      else throw badValue(col, v);
      break;
    case 'int16': {
      const n = toNumber(col, v);
      if (!Number.isInteger(n) || n < -32768 || n > 32767) throw badValue(col, v);
      writeInt(w, n, 2);
      break;
    }
    case 'int32':
    case 'date32': {
      const n = toNumber(col, v);
      if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw badValue(col, v);
      writeInt(w, n, 4);
      break;
    }
    case 'int64': {
      const n = toBigInt(col, v);
      if (n < -(2n ** 63n) || n >= 2n ** 63n) throw badValue(col, v);
      writeInt64(w, n);
      break;
    }
    case 'float32':
      writeFloat(w, toNumber(col, v), 4);
      break;
    case 'float64':
    case 'timestamp_us':
      writeFloat(w, toNumber(col, v), 8);
      break;
    case 'utf8':
      if (typeof v !== 'string') throw badValue(col, v);
      writeText(w, v);
      break;
    case 'numeric':
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'bigint') throw badValue(col, v);
      encodeNumeric(w, String(v));
      break;
    case 'json':
      writeText(w, JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? { $n: x.toString() } : x)) ?? 'null');
      break;
  }
  if (col.desc === true) w.invertFrom(start);
}

/**
 * Encode a key. `values` may be shorter than `spec`: the result is then the encoding of a key
 * prefix (invariant 3), usable as the lower bound of a prefix scan.
 * REQUIRES: values.length <= spec.length. Throws DbError 42804 when a value does not fit its column.
 */
export function encodeKey(spec: KeySpec, values: readonly KeyValue[]): Uint8Array {
  return encodeKeyScratch(spec, values).slice();
}

/** One writer reused by every encode (encoding is synchronous and never re-entered). */
const scratch = new ByteWriter(64);

/**
 * `encodeKey` into a shared scratch buffer: the result is a view that the next encode call
 * overwrites. For transient keys (a lookup that converts the key before encoding another).
 */
export function encodeKeyScratch(spec: KeySpec, values: readonly KeyValue[]): Uint8Array {
  if (values.length > spec.length) throw new DbError(SqlState.InvalidParameterValue, `key has ${values.length} values, spec has ${spec.length} columns`);
  const w = scratch;
  w.len = 0;
  for (let i = 0; i < values.length; i++) writeColumn(w, spec[i]!, values[i]);
  return w.buf.subarray(0, w.len);
}

/** Encode the key of row `row` of a column batch (columns in spec order). */
export function encodeKeyFromColumns(spec: KeySpec, columns: readonly ColumnVector[], row: number): Uint8Array {
  return encodeKeyFromColumnsScratch(spec, columns, row).slice();
}

/**
 * `encodeKeyFromColumns` into the shared scratch buffer (see `encodeKeyScratch`): a view the next
 * encode overwrites. For batch inserts that turn each key into a tree string at once.
 */
export function encodeKeyFromColumnsScratch(spec: KeySpec, columns: readonly ColumnVector[], row: number): Uint8Array {
  const w = scratch;
  w.len = 0;
  for (let i = 0; i < spec.length; i++) {
    const c = columns[i]!;
    const v = c.validity !== null && c.validity[row] === 0 ? null : c.data[row];
    writeColumn(w, spec[i]!, v);
  }
  return scratchView(w.len);
}

/** Views of the scratch buffer by length, reused (a batch insert makes one per row otherwise). */
let scratchViews: Uint8Array[] = [];
let scratchViewsOf = scratch.buf;

function scratchView(len: number): Uint8Array {
  if (scratchViewsOf !== scratch.buf) { scratchViews = []; scratchViewsOf = scratch.buf; }
  return (scratchViews[len] ??= scratch.buf.subarray(0, len));
}

/** Reads a key; inverts DESC column bytes on the fly. @internal */
class ByteReader {
  pos = 0;
  inv = 0;
  constructor(readonly buf: Uint8Array) {}
  u8(): number {
    if (this.pos >= this.buf.length) throw corrupt();
    return (this.buf[this.pos++]! ^ this.inv) & 0xff;
  }
}

function corrupt(): DbError {
  return new DbError(SqlState.IndexCorrupted, 'malformed encoded key');
}

function readFixed(r: ByteReader, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r.u8();
  return out;
}

function readFloat(r: ByteReader, bytes: 4 | 8): number {
  const b = readFixed(r, bytes);
  if (b[0]! & 0x80) b[0] = b[0]! & 0x7f;
  else for (let i = 0; i < bytes; i++) b[i] = ~b[i]! & 0xff;
  const dst = bytes === 8 ? f64b : f32b;
  for (let i = 0; i < bytes; i++) dst[littleEndian ? bytes - 1 - i : i] = b[i]!;
  return bytes === 8 ? f64[0]! : f32[0]!;
}

/** Read escaped, terminated text bytes. @internal */
export function readTextBytes(next: () => number): Uint8Array {
  const out: number[] = [];
  for (;;) {
    const b = next();
    if (b !== 0) { out.push(b); continue; }
    const e = next();
    if (e === 0x01) break;
    if (e !== 0xff) throw corrupt();
    out.push(0);
  }
  return Uint8Array.from(out);
}

/** Decode a key (or a key prefix: as many columns as the bytes hold) back to values. */
export function decodeKey(spec: KeySpec, key: Uint8Array): KeyValue[] {
  const r = new ByteReader(key);
  const out: KeyValue[] = [];
  for (const col of spec) {
    if (r.pos >= key.length) break;
    r.inv = 0;
    const m = r.u8();
    if (m === MARK_NULL_FIRST || m === MARK_NULL_LAST) { out.push(null); continue; }
    if (m !== MARK_VALUE) throw corrupt();
    r.inv = col.desc === true ? 0xff : 0;
    switch (col.type) {
      case 'bool': out.push(r.u8() === 1); break;
      case 'int16': { const u = (r.u8() << 8) | r.u8(); out.push(u - 0x8000); break; }
      case 'int32':
      case 'date32': {
        const u = ((r.u8() << 24) | (r.u8() << 16) | (r.u8() << 8) | r.u8()) >>> 0;
        out.push((u ^ 0x80000000) | 0);
        break;
      }
      case 'int64': {
        const b = readFixed(r, 8);
        const u = new DataView(b.buffer).getBigUint64(0) ^ 0x8000000000000000n;
        out.push(BigInt.asIntN(64, u));
        break;
      }
      case 'float32': out.push(readFloat(r, 4)); break;
      case 'float64':
      case 'timestamp_us': out.push(readFloat(r, 8)); break;
      case 'utf8': out.push(textDecoder.decode(readTextBytes(() => r.u8()))); break;
      case 'json': {
        const text = textDecoder.decode(readTextBytes(() => r.u8()));
        out.push(JSON.parse(text, (_k, x: unknown) => {
          if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
            const o = x as Record<string, unknown>;
            const keys = Object.keys(o);
            if (keys.length === 1 && keys[0] === '$n' && typeof o.$n === 'string') return BigInt(o.$n);
          }
          return x;
        }) as unknown);
        break;
      }
      case 'numeric': out.push(decodeNumeric(() => r.u8())); break;
    }
  }
  if (r.pos !== key.length) throw corrupt();
  return out;
}
