/**
 * Byte-level framing of the PostgreSQL v3 protocol: `PgWriter` builds backend messages into one
 * growing buffer, `PgFrameReader` cuts the incoming byte stream into frontend messages, and
 * `PgBody` reads the fields of one message body.
 *
 * Frames: the first message of a connection is [int32 length][payload] (StartupMessage,
 * SSLRequest, GSSENCRequest, CancelRequest); every later one is [byte type][int32 length][payload].
 * The length counts itself but not the type byte.
 *
 * Invariants:
 *  1. PgWriter: between begin() and end() exactly one message is open; end() patches its length.
 *  2. PgFrameReader never returns a partial frame, and rejects a length < 4 or > MAX_MESSAGE.
 */
import { ProtocolError } from './error-info.js';

export const MAX_MESSAGE = 256 * 1024 * 1024;

export class PgWriter {
  private buf = Buffer.allocUnsafe(16 * 1024);
  private pos = 0;
  private lengthAt = -1;

  get size(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  begin(type: string): this {
    this.ensure(5);
    this.buf[this.pos] = type.charCodeAt(0);
    this.lengthAt = this.pos + 1;
    this.pos += 5;
    return this;
  }

  end(): void {
    this.buf.writeInt32BE(this.pos - this.lengthAt, this.lengthAt);
    this.lengthAt = -1;
  }

  byte(b: number): this {
    this.ensure(1);
    this.buf[this.pos++] = b;
    return this;
  }

  int16(n: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(n, this.pos);
    this.pos += 2;
    return this;
  }

  int32(n: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(n: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
    return this;
  }

  cstring(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.ensure(len + 1);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
    this.buf[this.pos++] = 0;
    return this;
  }

  /** raw bytes */
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** int32 length + UTF-8 bytes (a DataRow field) */
  lengthPrefixedString(s: string): this {
    // one pass: reserve the UTF-8 worst case (3 bytes per UTF-16 unit), write, then patch the length
    this.ensure(s.length * 3 + 4);
    const n = this.buf.write(s, this.pos + 4, 'utf8');
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4 + n;
    return this;
  }

  /** int32 length + bytes (a DataRow field) */
  lengthPrefixedBytes(b: Uint8Array): this {
    this.ensure(b.length + 4);
    this.buf.writeInt32BE(b.length, this.pos);
    this.pos += 4;
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Copy out everything written so far and start over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}

export interface Frame {
  /** message type letter; '' for the untyped first message of a connection */
  readonly type: string;
  readonly body: Buffer;
}

export class PgFrameReader {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;

  /** bytes received and not yet returned as frames */
  get buffered(): number {
    return this.bufferedBytes;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
  }

  /** Is a complete frame buffered? */
  hasFrame(typed: boolean): boolean {
    const header = typed ? 5 : 4;
    if (this.bufferedBytes < header) return false;
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    const len = this.chunks[0]!.readInt32BE(typed ? 1 : 0);
    return len < 4 || this.bufferedBytes >= len + (typed ? 1 : 0);
  }

  /** The next complete frame, or null when more bytes are needed. */
  next(typed: boolean): Frame | null {
    const header = typed ? 5 : 4;
    if (this.bufferedBytes < header) return null;
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    const buf = this.chunks[0]!;
    const len = buf.readInt32BE(typed ? 1 : 0);
    if (len < 4 || len > MAX_MESSAGE) throw new ProtocolError('08P01', `invalid message length ${len}`, { fatal: true });
    const total = len + (typed ? 1 : 0);
    if (this.bufferedBytes < total) return null;
    const type = typed ? String.fromCharCode(buf[0]!) : '';
    const body = buf.subarray(header, total);
    const rest = buf.subarray(total);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    return { type, body };
  }
}

export class PgBody {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtocolError('08P01', 'message is shorter than its fields');
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new ProtocolError('08P01', 'unterminated string in message');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}
