/**
 * Little-endian binary writer / reader used by WAL payloads and the manifest.
 *
 * Invariants:
 *  1. Every `put*` of ByteWriter has a matching `get*` of ByteReader that returns the same value.
 *  2. ByteReader never reads past its end: a short buffer is a DataCorrupted (XX001) error.
 */
import { DataCorrupted } from '@quiverdb/common';
import { decodeStrings, encodeStrings } from '../table/utf8.js';

const enc = new TextEncoder();
/** up to this many values are written value by value (no temporary arrays or views) */
const SMALL = 16;
const dec = new TextDecoder('utf-8', { fatal: false });

/** size of the scratch buffer small records are encoded in (ByteWriter.scratch) */
const SCRATCH_BYTES = 16 << 10;
let scratchWriter: ByteWriter | undefined;

/** `parts` end to end (`total`: their summed length); the only part itself when there is one. */
export function concatBytes(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export class ByteWriter {
  private buf: Uint8Array;
  private dv: DataView;
  len: number;
  /**
   * `base`: bytes reserved before the data (a record header written later); alignment of
   * `typed` is relative to the data start, so the bytes read the same without the prefix.
   */
  constructor(initial = 256, private base = 0) {
    this.buf = new Uint8Array(initial + base);
    this.dv = new DataView(this.buf.buffer);
    this.len = base;
  }

  /**
   * A writer over one module-wide scratch buffer, for small records (a single-row write, a
   * commit): no allocation but the exact-size copy `finishCopy` makes. Not reentrant: finish one
   * before starting the next (every user is synchronous).
   */
  static scratch(base = 0): ByteWriter {
    const w = scratchWriter ??= new ByteWriter(SCRATCH_BYTES);
    if (w.buf.length > 4 * SCRATCH_BYTES) { w.buf = new Uint8Array(SCRATCH_BYTES); w.dv = new DataView(w.buf.buffer); } // grown by an odd record
    w.base = base;
    w.len = base;
    return w;
  }
  private ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u8(v: number): void { this.ensure(1); this.buf[this.len++] = v; }
  u32(v: number): void { this.ensure(4); this.dv.setUint32(this.len, v, true); this.len += 4; }
  f64(v: number): void { this.ensure(8); this.dv.setFloat64(this.len, v, true); this.len += 8; }
  /** length-prefixed raw bytes */
  bytes(b: Uint8Array): void { this.u32(b.length); this.raw(b); }
  raw(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.len); this.len += b.length; }
  /** `a[from, from + n)`, 8-byte aligned within the payload so the reader can view them */
  typed(a: Int32Array | Float64Array | BigInt64Array | Uint8Array, n: number, from = 0): void {
    const bytesPer = a.BYTES_PER_ELEMENT;
    this.u32(n);
    const pad = (8 - ((this.len - this.base) % 8)) % 8;
    this.ensure(pad + n * bytesPer);
    this.buf.fill(0, this.len, this.len + pad); // a reused (scratch) buffer holds old bytes there
    this.len += pad;
    if (n <= SMALL) {
      // a few values (single-row writes): no view allocation
      const dv = this.dv;
      let o = this.len;
      const end = from + n;
      if (a instanceof Float64Array) for (let i = from; i < end; i++, o += 8) dv.setFloat64(o, a[i]!, true);
      else if (a instanceof Int32Array) for (let i = from; i < end; i++, o += 4) dv.setInt32(o, a[i]!, true);
      else if (a instanceof BigInt64Array) for (let i = from; i < end; i++, o += 8) dv.setBigInt64(o, a[i]!, true);
      else for (let i = from; i < end; i++) this.buf[o++] = a[i]!;
    } else {
      this.buf.set(new Uint8Array(a.buffer, a.byteOffset + from * bytesPer, n * bytesPer), this.len);
    }
    this.len += n * bytesPer;
  }
  str(s: string): void {
    const b = enc.encode(s);
    this.bytes(b);
  }
  /** `ss[from, from + n)`: n, offsets (n+1), then one utf8 blob (a missing value is written as '') */
  strings(ss: readonly string[], n: number, from = 0): void {
    if (n > SMALL) {
      const { bytes, offsets } = encodeStrings(from === 0 ? ss : ss.slice(from, from + n), n);
      this.u32(n);
      this.typed(offsets, n + 1);
      this.bytes(bytes);
      return;
    }
    // a few strings: offsets and UTF-8 written in place (same bytes as the general path)
    this.u32(n);
    this.u32(n + 1);
    const pad = (8 - ((this.len - this.base) % 8)) % 8;
    this.ensure(pad + (n + 1) * 4 + 4);
    this.buf.fill(0, this.len, this.len + pad); // a reused (scratch) buffer holds old bytes there
    this.len += pad;
    const offAt = this.len;
    this.len += (n + 1) * 4;
    const lenAt = this.len;
    this.len += 4;
    let o = 0;
    for (let i = 0; i < n; i++) {
      const x = ss[from + i] as unknown;
      const str = typeof x === 'string' ? x : String(x ?? '');
      this.ensure(str.length * 3);
      this.dv.setInt32(offAt + i * 4, o, true);
      const w = enc.encodeInto(str, this.buf.subarray(this.len)).written;
      this.len += w;
      o += w;
    }
    this.dv.setInt32(offAt + n * 4, o, true);
    this.dv.setUint32(lenAt, o, true);
  }
  /** The bytes written, after the reserved prefix when there is one (a view, not a copy). */
  finish(): Uint8Array { return this.buf.subarray(0, this.len); }
  /** The bytes written, as a new exact-size array (what a `scratch` writer hands out). */
  finishCopy(): Uint8Array { return this.buf.slice(0, this.len); }
}

export class ByteReader {
  private readonly dv: DataView;
  pos = 0;
  constructor(private readonly buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get remaining(): number { return this.buf.length - this.pos; }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DataCorrupted(`record payload too short (${this.pos}+${n} > ${this.buf.length})`);
  }
  u8(): number { this.need(1); return this.buf[this.pos++]!; }
  u32(): number { this.need(4); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  f64(): number { this.need(8); const v = this.dv.getFloat64(this.pos, true); this.pos += 8; return v; }
  bytes(): Uint8Array { const n = this.u32(); this.need(n); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }
  private typedBytes(bytesPer: number): { n: number; copy: Uint8Array } {
    const n = this.u32();
    this.pos += (8 - (this.pos % 8)) % 8;
    this.need(n * bytesPer);
    const copy = this.buf.slice(this.pos, this.pos + n * bytesPer);
    this.pos += n * bytesPer;
    return { n, copy };
  }
  i32s(): Int32Array { const { n, copy } = this.typedBytes(4); return new Int32Array(copy.buffer, 0, n); }
  f64s(): Float64Array { const { n, copy } = this.typedBytes(8); return new Float64Array(copy.buffer, 0, n); }
  i64s(): BigInt64Array { const { n, copy } = this.typedBytes(8); return new BigInt64Array(copy.buffer, 0, n); }
  u8s(): Uint8Array { const { copy } = this.typedBytes(1); return copy; }
  str(): string { return dec.decode(this.bytes()); }
  strings(): string[] {
    const n = this.u32();
    const offs = this.i32s();
    const blob = this.bytes();
    const out = new Array<string>(n);
    decodeStrings(blob, offs, 0, n, out, 0);
    return out;
  }
}
