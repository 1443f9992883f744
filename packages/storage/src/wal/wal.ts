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
 * call order; small ones, such as a single-row commit's, as copies in one reused stage buffer,
 * written from there: no allocation per commit); `sync(lsn)` resolves once the log is fsync'ed
 * up to `lsn`. It schedules a flush
 * for the next turn of the event loop (setImmediate), so every session that commits in this turn
 * joins it. One flush loop at a time writes everything buffered (up to 256 KB with a blocking
 * `writeNow`: a page-cache copy costs less than a thread-pool round trip on a commit's critical
 * path), then runs one fsync (fdatasync on NodeEnv: through the thread pool, or blocking when
 * every open transaction waits for it, see `sync`) and wakes every waiter it covers; records
 * buffered during that fsync go out in its next round at once. Before a segment switch the old
 * segment is fsync'ed. A committer that is alone (no other transaction open, nothing being
 * flushed: `sync(lsn, 1)`) writes and fdatasyncs at once on the calling thread instead.
 *
 * Pipelined flushes: with many sessions committing, their statements run one after the other
 * on this thread, and a group flush at the end of the turn leaves the thread idle for its fsync
 * (in lock step: all statements, then one fsync). When the statements of such a round take
 * longer than its fsync (`cycleMs`, one blocking group flush to the next, above 2 x `fsyncMs`),
 * a round (a write of everything buffered, then an fsync through the thread pool) starts as soon
 * as about half of the sessions recently committing together (`peers`, the most open
 * transactions a committer saw lately) have queued: its fsync then overlaps the other half's
 * statements. While rounds are in flight, the other half starts its own round the same way, its
 * fsync beside the first (up to MAX_ROUNDS at once: concurrent fdatasyncs of one file overlap in
 * the device, and the round need not wait for the thread to see the earlier one's end). When a
 * round's fsync returns, the records buffered meanwhile are written and their round started
 * before the sessions it covered are woken, so the halves keep alternating while commits keep
 * arriving during the fsyncs. An fsync makes durable what was written before it started: a
 * round's LSN is `writtenLsn` then, whichever round ends first. Measured (16 connections, 2
 * vCPUs, 1M-row table): 35-40k commits/s against 32-36k in lock step; two rounds in flight
 * against one (2026-11-26, a slower hour, 12 paired runs): 48 µs a commit against 53.
 *
 * Preallocation (`preallocate`): after the first fsync, a spare segment file `spare.tmp` is
 * written with zeros and fsync'ed in the background; the next segment is renamed from it (a new
 * or reopened log switches to it as soon as it is ready). Appends then overwrite allocated
 * blocks, so fdatasync need not journal a size change. A segment's zero tail reads as a torn
 * tail at recovery (cut there), and rotation cuts it before the next segment's name appears, so
 * a non-final segment never has one.
 *
 * Invariants:
 *  1. durableLsn <= writtenLsn <= appendedLsn.
 *  2. Segments are contiguous: each starts where the previous ends; no record spans two.
 *  3. After a write or fsync error the WAL is failed: every later sync rejects with that error.
 *  4. Only the flush loop writes, fsyncs and rotates (and `sync` while no loop runs: a sole
 *     committer's write and fsync; and pipelined rounds, started by `sync` or by a round's end,
 *     while no loop runs or the loop waits for them in `roundsPhase`). Writes are blocking, so
 *     they never overlap; at most MAX_ROUNDS fsyncs are in flight, all pipelined rounds, and
 *     records written during one are durable only by a later fsync. Nothing is rotated or
 *     written through the thread pool while a round is in flight. `fileSize` (logical) <= the
 *     segment's physical size, the rest being zeros of a spare.
 *  5. Buffered records are `pending` then the stage, in append order: a whole record appended
 *     after staged ones first moves them (copied) to `pending`; `pendingBytes` counts both.
 */
import { DataCorrupted, IoError, invariant } from '@quiverdb/common';
import type { Env, EnvFile } from '../env/env.js';
import { concatBytes } from './bytes.js';
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
  /**
   * Keep a zero-filled, synced spare file ready in the background and start each segment from it,
   * so a commit's fdatasync rewrites allocated blocks and need not journal a size change.
   * Needs `durable`. Default false.
   */
  readonly preallocate?: boolean;
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

/**
 * `bufs` as write units in order: a buffer of at least `max / 4` bytes alone (not copied), runs of
 * smaller ones joined into arrays of at most `max` bytes. Their concatenation is that of `bufs`.
 */
export function joinSmall(bufs: readonly Uint8Array[], max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const endRun = (): void => {
    if (run.length > 0) out.push(concatBytes(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const b of bufs) {
    if (b.length >= max / 4) { endRun(); out.push(b); continue; }
    if (runBytes + b.length > max) endRun();
    run.push(b);
    runBytes += b.length;
  }
  endRun();
  return out;
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
  rec[8] = type;
  putU32(rec, 0, rec.length - HEADER);
  putU32(rec, 4, crc32c(rec.subarray(8)));
  return rec;
}

/** `v` as a little-endian u32 at `rec[at]` (no DataView for a record header). */
function putU32(rec: Uint8Array, at: number, v: number): void {
  rec[at] = v & 0xff;
  rec[at + 1] = (v >>> 8) & 0xff;
  rec[at + 2] = (v >>> 16) & 0xff;
  rec[at + 3] = v >>> 24;
}

/** `open`: the open transactions its committer saw (0: not known) */
interface Waiter { lsn: number; open: number; resolve: () => void; reject: (e: unknown) => void }

/** Buffered bytes up to this size are written with a blocking `writeNow`; larger ones through the thread pool. */
const WRITE_NOW_MAX = 256 << 10;
/** Size of the stage small records are copied into (`appendRecordCopy`); larger ones are appended whole. */
const STAGE_BYTES = 64 << 10;
/** Name of the zero-filled, synced file the next segment is renamed from (not a segment: no LSN name). */
const SPARE = 'spare.tmp';
/**
 * The spare is zero-filled in writes of this size. The page cache sizes its folios by the write
 * that creates them, and a later small write into a large folio costs more: the file system walks
 * every block of the folio (ext4, Linux 6.18, 2026-11-26, a bare loop of 150-byte pwrites and
 * fdatasyncs into a file zero-filled in chunks of 4 KB / 16 KB / 64 KB / 1 MB: pwrite median
 * 4.2-5.3 / 5.4-5.8 / 6.1-8.3 / 8.7-11.1 µs, fdatasync 132-152 / 123-152 / 140-157 / 146-167 µs).
 */
const ZERO_CHUNK = 16 << 10;
/** Zero-fill writes of the spare in flight at once (through the thread pool). */
const ZERO_CHUNK_WRITES = 16;
/** A sole committer's sync resolves at once, but lets the event loop turn at least this often (ms). */
const YIELD_MS = 2;
/**
 * Pipelined rounds in flight at once at most. Concurrent fdatasyncs of one file overlap in the
 * device (2 vCPUs, virtio disk, 2026-11-26: one every 220-270 µs with one in flight, 140-160 with
 * two, 100-120 with three; each 200-230 µs, 250-280, 270-350).
 */
const MAX_ROUNDS = 2;

export class Wal {
  private file: EnvFile | undefined;
  private fileStart = 0;
  /** logical size of the current segment: bytes of records written to it */
  private fileSize = 0;
  /** physical size when it was opened: above fileSize, the rest is preallocated zeros */
  private fileAllocated = 0;
  /** buffered records not written yet: `pending` (whole arrays, in order), then the `stage` bytes */
  private pending: Uint8Array[] = [];
  /** copies of small records (`appendRecordCopy`), end to end: they follow every `pending` array */
  private stage = new Uint8Array(STAGE_BYTES);
  private stageLen = 0;
  /** bytes of `pending` and the stage */
  private pendingBytes = 0;
  private waiters: Waiter[] = [];
  /** a flush is scheduled (setImmediate) */
  private flushScheduled = false;
  /** the flush loop, while it runs (the only writer, fsyncer and rotator of the log, but for its pipelined rounds) */
  private flushing: Promise<void> | undefined;
  /** pipelined rounds in flight (fsyncs through the thread pool; at most MAX_ROUNDS) */
  private rounds = 0;
  /** the flush loop waits for its pipelined rounds to end (`roundsPhase`): more may start */
  private inRounds = false;
  /** ends the flush loop's wait when the last round in flight ends */
  private roundsIdle: (() => void) | undefined;
  /** the LSN the latest round's fsync makes durable */
  private syncingLsn = 0;
  /** preparing the spare segment, while it runs */
  private spareTask: Promise<void> | undefined;
  private spareReady = false;
  /** when a sole committer's sync last resolved through a turn of the event loop */
  private lastTurn = 0;
  /** waiters whose records are not written yet (a write takes every pending record) */
  private unwritten = 0;
  /** recent most open transactions a committer saw (decaying): the sessions committing together */
  private peers = 0;
  /** when the last commit was queued for a flush */
  private lastArrival = 0;
  /** mean time an fsync of the log takes (ms, moving average; 0 until the first one) */
  private fsyncMs = 0;
  /** mean time from one lock-step group flush to the next under load (ms, moving average) */
  private cycleMs = 0;
  private lastBlockingEnd = 0;
  private failed: unknown;
  private closing = false;
  private closed = false;
  private rotateRequested = false;
  /** start LSNs of the segments on disk, ascending */
  private segments: number[] = [];
  appendedLsn = 0;
  writtenLsn = 0;
  durableLsn = 0;
  syncs = 0;
  /** Activity since open (PostgreSQL's pg_stat_wal): records appended, writes, and the ms spent writing and fsyncing. */
  readonly activity = { records: 0, bytes: 0, writes: 0, writeMs: 0, syncMs: 0, since: Date.now() };

  private constructor(private readonly env: Env, private readonly dir: string, private readonly segmentBytes: number,
    private readonly durable: boolean, private readonly preallocate: boolean) {}

  /**
   * Open the log in `dir`, recovering records at or after `fromLsn` (earlier ones belong to the
   * last checkpoint). Creates the directory and a first segment when empty.
   */
  static async open(env: Env, dir: string, fromLsn: number, opts: WalOptions = {}): Promise<{ wal: Wal; records: WalRecord[] }> {
    const durable = opts.durable ?? true;
    const wal = new Wal(env, dir, opts.segmentBytes ?? 8 << 20, durable, durable && (opts.preallocate ?? false));
    await env.mkdir(dir);
    const all = await env.list(dir);
    if (all.includes(SPARE)) await env.remove(`${dir}/${SPARE}`); // may be partly written: prepared anew
    const names = all.filter((n) => /^\d{20}\.log$/.test(n));
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
      if (live.length > 0 && start !== end) throw new DataCorrupted(`WAL segment ${segName(start)} does not start where the previous ends (${end})`);
      // The segment holding the checkpoint's LSN is read from there: the records before it belong
      // to the checkpoint (fromLsn is a record boundary), and after a large load they can be tens
      // of megabytes that an open would otherwise read and checksum for nothing.
      const { buf, base } = await Wal.readFrom(env, path, Math.max(0, fromLsn - start));
      let off = 0;
      while (off < buf.length) {
        const rec = parseAt(buf, off, opts.validTypes);
        if (rec === undefined) {
          if (!isLast) throw new DataCorrupted(`WAL: corrupt record at LSN ${start + base + off} in a non-final segment`);
          if (Wal.validAfter(buf, off + 1, opts.validTypes)) throw new DataCorrupted(`WAL: corrupt record at LSN ${start + base + off} followed by valid records`);
          // torn tail: cut it
          const f = await env.open(path);
          await f.truncate(base + off);
          if (wal.durable) await f.sync();
          await f.close();
          break;
        }
        records.push({ lsn: start + base + off, type: rec.type, payload: rec.payload });
        off = rec.end;
      }
      live.push(start);
      end = start + base + off;
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
    wal.fileAllocated = wal.fileSize;
    wal.segments = live;
    wal.appendedLsn = wal.writtenLsn = wal.durableLsn = end;
    return { wal, records };
  }

  /**
   * The bytes of the file at `path` from offset `skip` on, and where they start (`base`: `skip`,
   * or the file's size when it is shorter, so that the caller sees the log end there).
   */
  private static async readFrom(env: Env, path: string, skip: number): Promise<{ buf: Uint8Array; base: number }> {
    if (skip === 0) return { buf: await env.readFile(path), base: 0 };
    const f = await env.open(path);
    try {
      const size = await f.size();
      if (size <= skip) return { buf: new Uint8Array(0), base: size };
      return { buf: await f.read(skip, size - skip), base: skip };
    } finally {
      await f.close();
    }
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
    this.assertAppendable();
    this.sealStage();
    this.pending.push(rec);
    return this.buffered(rec.length);
  }

  /**
   * `appendRecord` of a copy of `rec`, which the caller may then reuse (a view of a scratch
   * buffer): a small record is copied into the stage, so a commit's records cost no allocation
   * and are written from there without joining them.
   */
  appendRecordCopy(rec: Uint8Array): number {
    if (rec.length > STAGE_BYTES / 4) return this.appendRecord(rec.slice());
    this.assertAppendable();
    if (this.stageLen + rec.length > STAGE_BYTES) this.sealStage();
    this.stage.set(rec, this.stageLen);
    this.stageLen += rec.length;
    return this.buffered(rec.length);
  }

  private assertAppendable(): void {
    if (this.failed !== undefined) throw this.failed;
    invariant(!this.closed, 'WAL append after close');
  }

  /** A record of `len` bytes was just buffered: count it; returns the LSN just past it. */
  private buffered(len: number): number {
    this.pendingBytes += len;
    this.appendedLsn += len;
    this.activity.records++;
    this.activity.bytes += len;
    return this.appendedLsn;
  }

  /** Move the staged bytes (a copy) to the end of `pending`, emptying the stage. */
  private sealStage(): void {
    if (this.stageLen === 0) return;
    this.pending.push(this.stage.slice(0, this.stageLen));
    this.stageLen = 0;
  }

  /**
   * Resolve when everything up to `lsn` is durable (group commit). `openTxns`: how many
   * transactions the database has open, the caller's included (0: not known).
   *  - 1, the caller alone: when no flush runs or waits either, the write and the fdatasync are
   *    done at once on this thread, as SQLite does, instead of a turn of the event loop and a
   *    thread-pool round trip, since no commit could share them (at least every YIELD_MS it
   *    resolves at the next turn of the event loop, so a client committing in a loop does not
   *    starve other work);
   *  - the group flush makes its fdatasync on this thread too (blocking, `syncNow`) when it covers
   *    as many waiters as any of them saw open transactions, and as the sessions recently
   *    committing together (`peers`): every open transaction waits for it, so no statement could
   *    run meanwhile; else through the thread pool, so other sessions run;
   *  - under load, a flush may start here, before the end of the turn (see "Pipelined flushes").
   */
  sync(lsn = this.appendedLsn, openTxns = 0): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (lsn <= this.durableLsn) return Promise.resolve();
    if (openTxns === 1 && this.durable && this.flushing === undefined && !this.flushScheduled && this.waiters.length === 0
      && this.pendingBytes <= WRITE_NOW_MAX && !this.rotationDue()) {
      try {
        this.writePendingNow();
        this.syncFileNow();
        // a client committing in a loop must not starve I/O callbacks and timers (the spare's,
        // too): at least every YIELD_MS, resolve at the next turn of the event loop
        const now = performance.now();
        if (now - this.lastTurn < YIELD_MS) return Promise.resolve();
        return new Promise<void>((resolve) => setImmediate(() => { this.lastTurn = performance.now(); resolve(); }));
      } catch (e) {
        this.fail(e);
        return Promise.reject(this.failed);
      }
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ lsn, open: openTxns, resolve, reject });
      if (this.pipelineNow(openTxns) && this.canStartRound()) {
        // the round starts here, not in a later microtask: the other sessions' commits are due
        // in the microtasks already queued
        try {
          this.startRound();
          this.flushing ??= this.flushLoop(true);
        } catch (e) {
          this.fail(e);
        }
      } else {
        this.scheduleFlush();
      }
    });
  }

  /**
   * A commit was just queued (`openTxns` open, as `sync` takes it): start the flush now rather
   * than at the end of the turn (see "Pipelined flushes" above)?
   */
  private pipelineNow(openTxns: number): boolean {
    const now = performance.now();
    this.lastArrival = now;
    this.unwritten++;
    this.peers = Math.max(openTxns, this.peers * 0.98);
    const queued = this.unwritten;
    // in the turn after a lock-step round whose statements took longer than its fsync:
    // overlapping the two pays
    if (!this.durable || queued < 2 || queued * 2 < this.peers) return false;
    // while rounds are in flight, another may overlap them (when the sessions committing
    // together are known: halves of at least 2)
    return (this.inRounds && this.peers >= 4) || (this.fsyncMs > 0 && this.cycleMs > 2 * this.fsyncMs && now - this.lastBlockingEnd < this.cycleMs);
  }

  /**
   * Does every open transaction wait for the flush (see `sync`)? Not while more of the sessions
   * that recently committed together are expected (`peers`): their statements can run meanwhile.
   */
  private everyOpenTxnWaits(): boolean {
    let open = 0;
    for (const w of this.waiters) {
      if (w.open === 0) return false;
      if (w.open > open) open = w.open;
    }
    return this.waiters.length >= open && this.waiters.length >= Math.floor(this.peers);
  }

  /**
   * Start a flush at the next turn of the event loop, unless one runs or is scheduled: sessions
   * that commit in the same turn (or while a flush runs) share its write and fsync.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing !== undefined || this.failed !== undefined) return;
    if (!this.durable) { this.flushing = this.flushLoop(); return; } // no fsync to share: write now
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.flushing === undefined) this.flushing = this.flushLoop();
    });
  }

  /** A waiter not yet covered by `durableLsn`? */
  private waiting(): boolean {
    return this.waitingPast(this.durableLsn);
  }

  /** A waiter for an LSN past `lsn`? */
  private waitingPast(lsn: number): boolean {
    for (const w of this.waiters) if (w.lsn > lsn) return true;
    return false;
  }

  /**
   * The one writer: each round writes everything buffered (rotating first when due), then one
   * fsync covers it and wakes every waiter it covers. Records buffered during a round go out in
   * the next, at once. `roundsStarted`: `sync` started pipelined rounds before the loop.
   */
  private async flushLoop(roundsStarted = false): Promise<void> {
    await undefined; // the caller sets `flushing` before the body runs (and its finally clears it)
    try {
      if (roundsStarted) await this.roundsPhase();
      while (this.failed === undefined) {
        if (this.pendingBytes > 0) await this.writePending();
        if (!this.durable) {
          this.durableLsn = this.writtenLsn;
          this.wake();
        } else if (this.writtenLsn > this.durableLsn && this.waiting()) {
          if (this.everyOpenTxnWaits()) {
            this.syncFileNow();
            this.lockStepRound();
          } else {
            this.startRound();
            await this.roundsPhase();
          }
        }
        if (this.pendingBytes === 0) break;
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.flushing = undefined;
    }
    if (this.failed === undefined && (this.pendingBytes > 0 || this.waiting())) this.scheduleFlush();
  }

  /**
   * The flush loop waits while pipelined rounds (fsyncs through the thread pool) are in flight:
   * meanwhile `sync` and each round's end start more (up to MAX_ROUNDS at once, see "Pipelined
   * flushes"). Ends when none is in flight; nothing is rotated or written through the thread
   * pool meanwhile.
   */
  private async roundsPhase(): Promise<void> {
    if (this.rounds === 0) return;
    this.inRounds = true;
    try {
      await new Promise<void>((resolve) => { this.roundsIdle = resolve; });
    } finally {
      this.inRounds = false;
    }
  }

  /** May a pipelined round start now (with `startRound`)? */
  private canStartRound(): boolean {
    return (this.flushing === undefined || this.inRounds) && this.rounds < MAX_ROUNDS && this.failed === undefined
      && this.pendingBytes <= WRITE_NOW_MAX && !this.rotationDue();
  }

  /**
   * Write every buffered record (blocking) and start an fsync of the segment through the thread
   * pool, beside those in flight: it makes durable what is written now. The caller checked
   * `canStartRound`.
   */
  private startRound(): void {
    this.writePendingNow();
    this.syncingLsn = this.writtenLsn;
    this.rounds++;
    const t0 = performance.now();
    this.startSync().then((target) => this.roundEnded(target, t0), (e: unknown) => {
      this.fail(e);
      this.roundEnded(-1, t0);
    });
  }

  /**
   * A round started at `started` ended: its fsync made the log durable up to `target` (-1: it
   * failed). Before its waiters are woken, the records buffered meanwhile are written and their
   * round started, when commits kept coming during the fsync (else the thread idled: the
   * sessions it wakes are better joined by the others, in one round).
   */
  private roundEnded(target: number, started: number): void {
    this.rounds--;
    if (target >= 0) {
      const busy = this.lastArrival - started >= this.fsyncMs / 2;
      try {
        // a waiter past the latest round's LSN: its records are still buffered
        this.synced(target, () => {
          if (busy && this.canStartRound() && this.waitingPast(this.syncingLsn)) this.startRound();
        });
      } catch (e) {
        this.fail(e); // the next round's write failed (its waiters are rejected)
      }
    }
    if (this.rounds === 0 && this.roundsIdle !== undefined) {
      const resolve = this.roundsIdle;
      this.roundsIdle = undefined;
      resolve();
    }
  }

  /** Start an fsync of the current segment (thread pool); resolves with the LSN it makes durable. */
  private startSync(): Promise<number> {
    const target = this.writtenLsn;
    const t0 = performance.now();
    return this.file!.sync().then(() => {
      this.timed(t0);
      return target;
    });
  }

  /** Is a segment switch due before the next write? */
  private rotationDue(): boolean {
    // an empty segment is only replaced to start from the spare (rotate renames it over the empty file)
    return (this.fileSize > 0 || (this.spareReady && this.fileAllocated === 0)) && (this.fileSize >= this.segmentBytes || this.rotateRequested);
  }

  /** Write every buffered record at the end of the current segment (a new one when due). */
  private async writePending(): Promise<void> {
    if (this.rotationDue()) await this.rotate();
    if (this.pendingBytes <= WRITE_NOW_MAX) { this.writePendingNow(); return; }
    // a large transaction's records (each insert of many rows is one record of its own) are
    // written as they are, runs of small ones joined: no copy of the whole buffer (15 MB of
    // records, one 500k-row commit: 47 ms of copying)
    for (const data of joinSmall(this.takeBuffers(), WRITE_NOW_MAX)) {
      const t0 = performance.now();
      await this.file!.write(this.fileSize, data);
      this.wrote(t0);
      this.fileSize += data.length;
      this.writtenLsn += data.length;
    }
  }

  /** Write the buffered records with a blocking `writeNow` (no rotation: the caller checked). */
  private writePendingNow(): void {
    if (this.pendingBytes === 0) return;
    let data: Uint8Array;
    if (this.pending.length === 0) {
      // staged records only (a commit's): written from the stage, which a blocking write is done
      // with when it returns
      data = this.stage.subarray(0, this.stageLen);
      this.emptyBuffer();
    } else {
      const total = this.pendingBytes;
      data = concatBytes(this.takeBuffers(), total);
    }
    const t0 = performance.now();
    this.file!.writeNow(this.fileSize, data);
    this.wrote(t0);
    this.fileSize += data.length;
    this.writtenLsn += data.length;
  }

  /** The buffered records, in order; the buffer is emptied (their waiters' records are being written). */
  private takeBuffers(): Uint8Array[] {
    this.sealStage();
    const bufs = this.pending;
    this.emptyBuffer();
    return bufs;
  }

  /** The one place the buffer is emptied (its records are being written), with the count of their waiters. */
  private emptyBuffer(): void {
    if (this.pending.length > 0) this.pending = [];
    this.stageLen = 0;
    this.pendingBytes = 0;
    this.unwritten = 0;
  }

  /** fsync the current segment: everything written so far becomes durable. */
  private async syncFile(): Promise<void> {
    this.synced(await this.startSync());
  }

  /** `syncFile`, blocking this thread (NodeEnv: through the helper of env/spin-sync.ts). */
  private syncFileNow(): void {
    const target = this.writtenLsn;
    const t0 = performance.now();
    this.file!.syncNow();
    this.timed(t0);
    this.synced(target);
  }

  /** A group flush every open transaction waited for just ended: update `cycleMs` (under load only). */
  private lockStepRound(): void {
    const end = performance.now();
    const ms = end - this.lastBlockingEnd;
    if (ms < 20) this.cycleMs = this.cycleMs === 0 ? ms : this.cycleMs + (ms - this.cycleMs) / 8;
    this.lastBlockingEnd = end;
  }

  /** An fsync started at `t0` just returned: update `fsyncMs` and the activity figures. */
  private timed(t0: number): void {
    const ms = performance.now() - t0;
    this.fsyncMs = this.fsyncMs === 0 ? ms : this.fsyncMs + (ms - this.fsyncMs) / 8;
    this.activity.syncMs += ms;
  }

  /** A write of records started at `t0` just returned. */
  private wrote(t0: number): void {
    this.activity.writes++;
    this.activity.writeMs += performance.now() - t0;
  }

  /**
   * An fsync made the log durable up to `target`: wake the waiters it covers (after `beforeWake`,
   * which may start the next round; they are woken even when it throws).
   */
  private synced(target: number, beforeWake?: () => void): void {
    this.syncs++;
    this.durableLsn = Math.max(this.durableLsn, target);
    try {
      beforeWake?.();
    } finally {
      this.wake();
    }
    this.prepareSpare(); // a log that commits (not one only opened to read) keeps a spare ready
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
   * Close the current segment and start the next at `writtenLsn` (from the spare when one is
   * ready). Called by the flush loop only, so nothing is written meanwhile. Order, for recovery:
   * the old segment loses its preallocated zero tail and is fsync'ed (an fsync covers one file,
   * and a non-final segment must end where the next starts) before the new name appears; the
   * directory is fsync'ed before any record goes to the new file.
   */
  private async rotate(): Promise<void> {
    const old = this.file!;
    const cut = this.fileAllocated > this.fileSize;
    if (cut) await old.truncate(this.fileSize);
    if (this.durable && (cut || this.writtenLsn > this.durableLsn)) await this.syncFile();
    const start = this.writtenLsn;
    invariant(start === this.fileStart + this.fileSize, 'WAL rotate: position mismatch');
    const replace = this.fileSize === 0; // the spare takes the empty current segment's name
    const path = `${this.dir}/${segName(start)}`;
    let f: EnvFile;
    let allocated = 0;
    if (this.spareReady) {
      invariant(!replace || this.fileAllocated === 0, 'WAL rotate: a preallocated empty segment replaced');
      this.spareReady = false;
      await this.env.rename(`${this.dir}/${SPARE}`, path);
      f = await this.env.open(path);
      allocated = await f.size();
    } else {
      invariant(!replace, 'WAL rotate: an empty segment without a spare');
      f = await this.env.open(path, { create: true, truncate: true });
    }
    if (this.durable) await this.env.syncDir(this.dir);
    await old.close();
    this.file = f;
    this.fileStart = start;
    this.fileSize = 0;
    this.fileAllocated = allocated;
    if (!replace) this.segments.push(start);
    this.rotateRequested = false;
    this.prepareSpare();
  }

  /**
   * With `preallocate`: write the spare segment (zeros, fsync'ed) in the background, unless one
   * is ready or being written. A failure only means the next segment starts empty. When the
   * spare is ready while the current segment is not preallocated (a new or reopened log), the
   * next flush switches to it.
   */
  private prepareSpare(): void {
    if (!this.preallocate || this.spareReady || this.spareTask !== undefined || this.closing || this.failed !== undefined) return;
    const path = `${this.dir}/${SPARE}`;
    const size = this.segmentBytes;
    this.spareTask = (async () => {
      const f = await this.env.open(path, { create: true, truncate: true });
      try {
        // ZERO_CHUNK_WRITES writes at a time: each batch needs only one turn of the event loop,
        // which a client committing in a loop gives every YIELD_MS
        const zeros = new Uint8Array(Math.min(ZERO_CHUNK, size));
        const batch: Promise<void>[] = [];
        for (let off = 0; off < size && !this.closing;) {
          for (let k = 0; k < ZERO_CHUNK_WRITES && off < size; k++, off += zeros.length) batch.push(f.write(off, zeros.subarray(0, Math.min(zeros.length, size - off))));
          await Promise.all(batch);
          batch.length = 0;
        }
        if (this.closing) return;
        await f.sync();
      } finally {
        await f.close();
      }
      this.spareReady = true;
      // a segment not started from a spare (a new or reopened log) grows with every commit, and
      // each fdatasync then writes the inode too (its size): switch at once
      if (this.fileAllocated < this.segmentBytes) this.rotateRequested = true;
    })().catch(() => { /* no spare: the next segment starts empty */ }).finally(() => { this.spareTask = undefined; });
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
    this.closing = true;
    while (this.flushing !== undefined || this.flushScheduled || this.spareTask !== undefined) {
      if (this.flushing !== undefined) await this.flushing;
      else if (this.spareTask !== undefined) await this.spareTask;
      else await new Promise<void>((r) => setImmediate(r));
    }
    this.closed = true;
    await this.file?.close();
  }
}
