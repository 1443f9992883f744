/**
 * Write-ahead log: append-only records in segment files `wal/<startLsn>.log`, group commit,
 * torn-tail recovery.
 *
 * Grammar (all integers little-endian):
 *   segment  := record*                       file name = its first LSN, 20 decimal digits
 *   record   := length:u32 crc:u32 type:u8 payload[length]
 *   crc      := CRC32C(type ++ payload)
 *   LSN      := byte offset of a record in the logical log (segment start LSN + offset in file)
 *
 * Recovery (`Wal.open`): segments are read in LSN order and records checked one by one.
 *  - A record that runs past the end of the LAST segment, or fails its CRC with nothing valid
 *    after it, is a torn tail: the segment is truncated there (and synced).
 *  - A bad record followed by a valid record (or a bad record in any segment but the last) is
 *    corruption: DbError XX001, never skipped.
 *
 * Group commit: `append` only buffers (synchronously, so a txn's records are contiguous and in
 * call order); `sync(lsn)` resolves once the log is fsync'ed up to `lsn`. A writer loop writes
 * everything buffered in one write per round; at most one fsync runs at a time, covering all that
 * was written when it started, and wakes every waiter it covers. Writes go on while an fsync
 * runs (pipelined), so commits arriving during an fsync are already written when it ends and the
 * next fsync starts at once: one fsync per round for all commits waiting, no write on the
 * critical path of a busy log. Before a segment switch the old segment is fsync'ed.
 *
 * Invariants:
 *  1. durableLsn <= writtenLsn <= appendedLsn.
 *  2. Segments are contiguous: each starts where the previous ends; no record spans two.
 *  3. After a write or fsync error the WAL is failed: every later sync rejects with that error.
 */
import { DataCorrupted, IoError, invariant } from '@quiverdb/common';
import type { Env, EnvFile } from '../env/env.js';
import { crc32c } from './crc32c.js';

const HEADER = 9;
const MAX_RECORD = 1 << 30;

export interface WalRecord {
  readonly lsn: number;
  readonly type: number;
  readonly payload: Uint8Array;
}

export interface WalOptions {
  readonly segmentBytes?: number;
  readonly durable?: boolean;
  readonly validTypes?: ReadonlySet<number>;
}

function segName(lsn: number): string {
  return `${String(lsn).padStart(20, '0')}.log`;
}

/** Parse one record at `off`; undefined when it is not a whole valid record. */
function parseAt(buf: Uint8Array, off: number, validTypes?: ReadonlySet<number>): { type: number; payload: Uint8Array; end: number } | undefined {
  if (off + HEADER > buf.length) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset + off, HEADER);
  const len = dv.getUint32(0, true);
  const crc = dv.getUint32(4, true);
  if (len > MAX_RECORD || off + HEADER + len > buf.length) return undefined;
  const body = buf.subarray(off + 8, off + HEADER + len);
  if (crc32c(body) !== crc) return undefined;
  const type = buf[off + 8]!;
  if (validTypes !== undefined && !validTypes.has(type)) return undefined;
  return { type, payload: buf.subarray(off + HEADER, off + HEADER + len), end: off + HEADER + len };
}

export function encodeRecord(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  out.set(payload, HEADER);
  return sealRecord(out, type);
}

/** Bytes a record header takes before the payload. */
export const RECORD_HEADER = HEADER;

/**
 * Fill in the header of a record whose payload was written in place after `RECORD_HEADER`
 * reserved bytes (no copy of the payload); returns `rec`.
 */
export function sealRecord(rec: Uint8Array, type: number): Uint8Array {
  const dv = new DataView(rec.buffer, rec.byteOffset, HEADER);
  dv.setUint32(0, rec.length - HEADER, true);
  rec[8] = type;
  dv.setUint32(4, crc32c(rec.subarray(8)), true);
  return rec;
}

interface Waiter { lsn: number; resolve: () => void; reject: (e: unknown) => void }

export class Wal {
  private file: EnvFile | undefined;
  private fileStart = 0;
  private fileSize = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private waiters: Waiter[] = [];
  /** the writer loop, while it runs */
  private writing: Promise<void> | undefined;
  /** the fsync in flight */
  private syncing: Promise<void> | undefined;
  private failed: unknown;
  private closed = false;
  private rotateRequested = false;
  /** start LSNs of the segments on disk, ascending */
  private segments: number[] = [];
  appendedLsn = 0;
  writtenLsn = 0;
  durableLsn = 0;
  syncs = 0;

  private constructor(private readonly env: Env, private readonly dir: string, private readonly segmentBytes: number, private readonly durable: boolean) {}

  /**
   * Open the log in `dir`, recovering records at or after `fromLsn` (earlier ones belong to the
   * last checkpoint). Creates the directory and a first segment when empty.
   */
  static async open(env: Env, dir: string, fromLsn: number, opts: WalOptions = {}): Promise<{ wal: Wal; records: WalRecord[] }> {
    const wal = new Wal(env, dir, opts.segmentBytes ?? 8 << 20, opts.durable ?? true);
    await env.mkdir(dir);
    const names = (await env.list(dir)).filter((n) => /^\d{20}\.log$/.test(n));
    const starts = names.map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);
    const records: WalRecord[] = [];
    let end = fromLsn;
    const live: number[] = [];
    for (let si = 0; si < starts.length; si++) {
      const start = starts[si]!;
      const next = starts[si + 1];
      if (next !== undefined && next <= fromLsn) {
        await env.remove(`${dir}/${segName(start)}`); // wholly before the checkpoint (a trim undone by a crash)
        continue;
      }
      const isLast = si === starts.length - 1;
      const path = `${dir}/${segName(start)}`;
      const buf = await env.readFile(path);
      if (live.length > 0 && start !== end) throw new DataCorrupted(`WAL segment ${segName(start)} does not start where the previous ends (${end})`);
      let off = 0;
      while (off < buf.length) {
        const rec = parseAt(buf, off, opts.validTypes);
        if (rec === undefined) {
          if (!isLast) throw new DataCorrupted(`WAL: corrupt record at LSN ${start + off} in a non-final segment`);
          if (Wal.validAfter(buf, off + 1, opts.validTypes)) throw new DataCorrupted(`WAL: corrupt record at LSN ${start + off} followed by valid records`);
          // torn tail: cut it
          const f = await env.open(path);
          await f.truncate(off);
          if (wal.durable) await f.sync();
          await f.close();
          break;
        }
        if (start + off >= fromLsn) records.push({ lsn: start + off, type: rec.type, payload: rec.payload });
        off = rec.end;
      }
      live.push(start);
      end = start + off;
      if (live.length === 1 && start > fromLsn) throw new DataCorrupted(`WAL: no segment holds LSN ${fromLsn}`);
    }
    if (live.length === 0) {
      end = fromLsn;
      const f = await env.open(`${dir}/${segName(end)}`, { create: true, truncate: true });
      if (wal.durable) await env.syncDir(dir);
      wal.file = f;
      wal.fileStart = end;
      wal.fileSize = 0;
      live.push(end);
    } else {
      if (end < fromLsn) throw new DataCorrupted(`WAL ends at ${end}, before the checkpoint's LSN ${fromLsn}`);
      const last = live[live.length - 1]!;
      wal.file = await env.open(`${dir}/${segName(last)}`);
      wal.fileStart = last;
      wal.fileSize = end - last;
    }
    wal.segments = live;
    wal.appendedLsn = wal.writtenLsn = wal.durableLsn = end;
    return { wal, records };
  }

  /** Is there any whole valid record starting at or after `from`? (scan, bounded) */
  private static validAfter(buf: Uint8Array, from: number, validTypes?: ReadonlySet<number>): boolean {
    const limit = Math.min(buf.length - HEADER, from + (16 << 20));
    for (let o = from; o <= limit; o++) {
      const len = buf[o]! | (buf[o + 1]! << 8) | (buf[o + 2]! << 16) | (buf[o + 3]! << 24);
      if (len < 8 || len > buf.length - o - HEADER) continue; // every payload has at least a txn id
      if (parseAt(buf, o, validTypes) !== undefined) return true;
    }
    return false;
  }

  /** Buffer one record; returns the LSN just past it. Synchronous. */
  append(type: number, payload: Uint8Array): number {
    return this.appendRecord(encodeRecord(type, payload));
  }

  /**
   * Buffer one whole record (header included, as `encodeRecord` or `sealRecord` make
   * it; not copied, so the caller must not change it); returns the LSN just past it.
   */
  appendRecord(rec: Uint8Array): number {
    if (this.failed !== undefined) throw this.failed;
    invariant(!this.closed, 'WAL append after close');
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    this.appendedLsn += rec.length;
    return this.appendedLsn;
  }

  /** Resolve when everything up to `lsn` is durable (group commit). */
  sync(lsn = this.appendedLsn): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (lsn <= this.durableLsn) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ lsn, resolve, reject });
      this.kick();
    });
  }

  /** Start the writer (buffered records) and / or an fsync (waiters past durableLsn) if idle. */
  private kick(): void {
    if (this.failed !== undefined) return;
    if (this.pending.length > 0 && this.writing === undefined) this.writing = this.writeLoop();
    else this.maybeStartSync();
  }

  /**
   * Write buffered records, one write per round, while there are any. Runs concurrently with an
   * fsync in flight: records written meanwhile are covered by the next fsync.
   */
  private async writeLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 && this.failed === undefined) {
        if (this.fileSize > 0 && (this.fileSize >= this.segmentBytes || this.rotateRequested)) await this.rotate();
        const bufs = this.pending;
        const total = this.pendingBytes;
        this.pending = [];
        this.pendingBytes = 0;
        const target = this.writtenLsn + total;
        let data: Uint8Array;
        if (bufs.length === 1) data = bufs[0]!;
        else {
          data = new Uint8Array(total);
          let o = 0;
          for (const b of bufs) { data.set(b, o); o += b.length; }
        }
        await this.file!.append(data);
        this.fileSize += total;
        this.writtenLsn = target;
        if (!this.durable) { this.durableLsn = target; this.wake(); }
        this.maybeStartSync();
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.writing = undefined;
    }
  }

  /** One fsync at a time, covering everything written when it starts; wakes the waiters it covers. */
  private maybeStartSync(): void {
    if (!this.durable || this.syncing !== undefined || this.failed !== undefined) return;
    if (this.writtenLsn <= this.durableLsn) return;
    const durable = this.durableLsn;
    if (!this.waiters.some((w) => w.lsn > durable)) return;
    this.syncing = this.syncOnce();
  }

  private async syncOnce(): Promise<void> {
    const target = this.writtenLsn;
    try {
      await this.file!.sync();
      this.syncs++;
      this.durableLsn = Math.max(this.durableLsn, target);
      this.wake();
    } catch (e) {
      this.fail(e);
    } finally {
      this.syncing = undefined;
    }
    this.maybeStartSync();
  }

  private wake(): void {
    const durable = this.durableLsn;
    const still: Waiter[] = [];
    for (const w of this.waiters) (w.lsn <= durable ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  private fail(e: unknown): void {
    if (this.failed === undefined) {
      this.failed = e instanceof IoError ? e : new IoError(`WAL write failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    for (const w of this.waiters) w.reject(this.failed);
    this.waiters = [];
  }

  /**
   * Wait until no fsync runs; then make the current segment durable up to writtenLsn (as the
   * one fsync in flight, so no other starts on this file meanwhile). Called by the writer only,
   * so writtenLsn does not move while it waits.
   */
  private async syncCurrentFile(): Promise<void> {
    while (this.syncing !== undefined) await this.syncing;
    if (this.failed !== undefined) throw this.failed;
    if (this.durable && this.writtenLsn > this.durableLsn) {
      this.syncing = this.syncOnce();
      await this.syncing;
      if (this.failed !== undefined) throw this.failed;
    }
  }

  private async rotate(): Promise<void> {
    // the old segment must be durable before records go to the next one (an fsync covers one file)
    await this.syncCurrentFile();
    const start = this.writtenLsn;
    invariant(start === this.fileStart + this.fileSize, 'WAL rotate: position mismatch');
    const f = await this.env.open(`${this.dir}/${segName(start)}`, { create: true, truncate: true });
    if (this.durable) await this.env.syncDir(this.dir);
    await this.file!.close();
    this.file = f;
    this.fileStart = start;
    this.fileSize = 0;
    this.segments.push(start);
    this.rotateRequested = false;
  }

  /** Bytes of log kept on disk (from the oldest retained segment). */
  get bytes(): number {
    return this.appendedLsn - (this.segments[0] ?? 0);
  }

  /**
   * Drop segments wholly before `lsn` (the checkpoint's start point). Starts a new segment first
   * when the current one holds records before `lsn`, so the old one can go.
   */
  async trim(lsn: number): Promise<void> {
    if (this.failed !== undefined) return;
    const removable = this.segments.filter((s, i) => i < this.segments.length - 1 && (this.segments[i + 1]! <= lsn));
    for (const s of removable) await this.env.remove(`${this.dir}/${segName(s)}`);
    this.segments = this.segments.filter((s) => !removable.includes(s));
  }

  /** Force the next flush to start a new segment (used after a checkpoint so trim can free the old one). */
  requestRotate(): void {
    this.rotateRequested = true;
  }

  get isFailed(): boolean { return this.failed !== undefined; }

  async close(): Promise<void> {
    while (this.writing !== undefined || this.syncing !== undefined) {
      if (this.writing !== undefined) await this.writing;
      if (this.syncing !== undefined) await this.syncing;
    }
    this.closed = true;
    await this.file?.close();
  }
}
