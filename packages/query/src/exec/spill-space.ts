/**
 * Spill space: temporary files an operator writes state to when it does not fit in
 * `memory_limit` (today: the sorted runs of an external ORDER BY, exec/spill-sort.ts). The SQL
 * stack only declares the interface; packages/engine implements it in a temp directory (under
 * the database directory, or os.tmpdir() for ':memory:') and deletes every file at statement end.
 * `MemorySpillSpace` keeps the bytes in memory, for tests of the SQL stack alone.
 *
 * Also here: the byte codec of a block of rows (`encodeBlock` / `decodeBlock`):
 *
 *   block  := u32 nrows, u32 ncols, column{ncols}
 *   column := u8 kind, payload
 *     kind 1 Int32Array | 2 Float64Array | 3 BigInt64Array : u32 byteLength, pad to 8, bytes
 *     kind 0 values : value{nrows}
 *   value  := u8 tag, payload          (all numbers little endian)
 *     0 null | 1 false | 2 true | 3 i32 | 4 f64 | 5 string: u32 len, utf8 | 6 bigint: i64
 *     7 bigint (outside i64): u32 len, decimal text | 8 Decimal: i32 scale, u32 len, digits text
 *     9 Interval: f64 months, f64 days, f64 us
 *
 * Invariants:
 *  1. decodeBlock(encodeBlock(r)) has the same values as r (SQL-equal and of the same internal
 *     representation), typed columns come back typed with the same constructor.
 *  2. `encodeBlock` returns undefined for a value outside the executor's closed set of internal
 *     values (types/values.ts); the caller must not spill then.
 *
 * Concurrency: a SpillFile is written by one operator, then read; never both at once.
 */
import { Decimal } from '../types/decimal.js';
import type { Interval } from '../types/values.js';
import type { Rel } from './rel.js';

export interface SpillFile {
  /** bytes written so far */
  readonly size: number;
  append(data: Uint8Array): Promise<void>;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface SpillSpace {
  /** A new empty temporary file. */
  create(): Promise<SpillFile>;
  /** Delete a file (the space deletes any left at statement end anyway). */
  remove(file: SpillFile): Promise<void>;
}

class MemorySpillFile implements SpillFile {
  #chunks: Uint8Array[] = [];
  #buf: Uint8Array | null = null;
  size = 0;
  async append(data: Uint8Array): Promise<void> { this.#chunks.push(data.slice()); this.#buf = null; this.size += data.length; }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!this.#buf) {
      const b = new Uint8Array(this.size);
      let p = 0;
      for (const c of this.#chunks) { b.set(c, p); p += c.length; }
      this.#buf = b; this.#chunks = [b];
    }
    return this.#buf.slice(offset, Math.min(offset + length, this.size));
  }
}

/** A spill space in memory (tests): counts what was written and what is still live. */
export class MemorySpillSpace implements SpillSpace {
  readonly live = new Set<SpillFile>();
  created = 0;
  bytesWritten = 0;
  async create(): Promise<SpillFile> {
    const f = new MemorySpillFile();
    const orig = f.append.bind(f);
    f.append = async (d: Uint8Array): Promise<void> => { this.bytesWritten += d.length; await orig(d); };
    this.live.add(f); this.created++;
    return f;
  }
  async remove(file: SpillFile): Promise<void> { this.live.delete(file); }
}

// ---------------------------------------------------------------------------------------------
// Block codec

class Writer {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  pos = 0;
  ensure(k: number): void {
    if (this.pos + k <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + k) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b; this.view = new DataView(b.buffer);
  }
  u8(x: number): void { this.ensure(1); this.buf[this.pos++] = x; }
  u32(x: number): void { this.ensure(4); this.view.setUint32(this.pos, x, true); this.pos += 4; }
  i32(x: number): void { this.ensure(4); this.view.setInt32(this.pos, x, true); this.pos += 4; }
  f64(x: number): void { this.ensure(8); this.view.setFloat64(this.pos, x, true); this.pos += 8; }
  i64(x: bigint): void { this.ensure(8); this.view.setBigInt64(this.pos, x, true); this.pos += 8; }
  str(s: string): void {
    this.ensure(4 + s.length * 3);
    const r = encoder.encodeInto(s, this.buf.subarray(this.pos + 4));
    this.view.setUint32(this.pos, r.written, true);
    this.pos += 4 + r.written;
  }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const I64_MIN = -(2n ** 63n), I64_MAX = 2n ** 63n - 1n;

function isInterval(v: object): v is Interval {
  return 'months' in v && 'days' in v && 'us' in v;
}

function writeValue(w: Writer, v: unknown): boolean {
  switch (typeof v) {
    case 'boolean': w.u8(v ? 2 : 1); return true;
    case 'number':
      if ((v | 0) === v && !Object.is(v, -0)) { w.u8(3); w.i32(v); } else { w.u8(4); w.f64(v); }
      return true;
    case 'string': w.u8(5); w.str(v); return true;
    case 'bigint':
      if (v >= I64_MIN && v <= I64_MAX) { w.u8(6); w.i64(v); } else { w.u8(7); w.str(v.toString()); }
      return true;
    case 'object':
      if (v === null) { w.u8(0); return true; }
      if (v instanceof Decimal) { w.u8(8); w.i32(v.s); w.str(v.v.toString()); return true; }
      if (isInterval(v)) { w.u8(9); w.f64(v.months); w.f64(v.days); w.f64(v.us); return true; }
      return false;
    default: return false;
  }
}

const TYPED_KIND = new Map<unknown, number>([[Int32Array, 1], [Float64Array, 2], [BigInt64Array, 3]]);

/** Rows `rows` of `r` (all rows when omitted) as one block; undefined if a value cannot be spilled. */
export function encodeBlock(r: Rel, rows?: ArrayLike<number>): Uint8Array | undefined {
  const m = rows ? rows.length : r.n;
  const w = new Writer();
  w.u32(m); w.u32(r.cols.length);
  for (const col of r.cols) {
    const kind = Array.isArray(col) ? 0 : TYPED_KIND.get((col as unknown as { constructor: unknown }).constructor);
    if (kind === undefined) return undefined;
    w.u8(kind);
    if (kind === 0) {
      for (let i = 0; i < m; i++) if (!writeValue(w, col[rows ? rows[i]! : i])) return undefined;
      continue;
    }
    const Ctor = (col as unknown as { constructor: new (n: number) => Int32Array | Float64Array | BigInt64Array }).constructor;
    const out = new Ctor(m);
    if (rows) for (let i = 0; i < m; i++) (out as unknown as unknown[])[i] = col[rows[i]!];
    else out.set(col as unknown as ArrayLike<number> & ArrayLike<bigint> as never);
    w.u32(out.byteLength);
    w.ensure(8); while (w.pos % 8 !== 0) w.u8(0);
    w.bytes(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  }
  return w.buf.slice(0, w.pos);
}

/** The rows of a block written by `encodeBlock`. */
export function decodeBlock(b: Uint8Array): Rel {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 0;
  const n = view.getUint32(p, true), ncols = view.getUint32(p + 4, true);
  p += 8;
  const str = (): string => {
    const len = view.getUint32(p, true);
    const s = decoder.decode(b.subarray(p + 4, p + 4 + len));
    p += 4 + len;
    return s;
  };
  const cols: unknown[][] = [];
  for (let c = 0; c < ncols; c++) {
    const kind = b[p++]!;
    if (kind !== 0) {
      const len = view.getUint32(p, true);
      p += 4;
      while (p % 8 !== 0) p++;
      const bytes = b.slice(p, p + len);
      p += len;
      const col = kind === 1 ? new Int32Array(bytes.buffer) : kind === 2 ? new Float64Array(bytes.buffer) : new BigInt64Array(bytes.buffer);
      cols.push(col as unknown as unknown[]);
      continue;
    }
    const col = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const tag = b[p++]!;
      switch (tag) {
        case 0: col[i] = null; break;
        case 1: col[i] = false; break;
        case 2: col[i] = true; break;
        case 3: col[i] = view.getInt32(p, true); p += 4; break;
        case 4: col[i] = view.getFloat64(p, true); p += 8; break;
        case 5: col[i] = str(); break;
        case 6: col[i] = view.getBigInt64(p, true); p += 8; break;
        case 7: col[i] = BigInt(str()); break;
        case 8: { const s = view.getInt32(p, true); p += 4; col[i] = new Decimal(BigInt(str()), s); break; }
        case 9: {
          col[i] = { months: view.getFloat64(p, true), days: view.getFloat64(p + 8, true), us: view.getFloat64(p + 16, true) } satisfies Interval;
          p += 24;
          break;
        }
        default: throw new Error(`spill block: bad value tag ${tag}`);
      }
    }
    cols.push(col);
  }
  return { n, cols };
}
