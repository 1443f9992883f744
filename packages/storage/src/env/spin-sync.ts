/**
 * SpinSync: a blocking fdatasync that keeps the calling thread running. A helper thread makes
 * the system call while the caller polls a shared word for its completion.
 *
 * Why: a sole committer's fdatasync is on the critical path of every commit (WAL `sync(lsn,
 * 1)`). When the calling thread sleeps in the kernel for it, its CPU goes idle. On a virtual
 * machine the idle vCPU is halted and its caches go to other work. The commit's own code, before
 * and after the fsync, then ran about 3x slower: per commit 50 + 20 µs against 13 + 7 µs when the
 * caller keeps running (2 vCPUs, 2026-11-26). The helper polls for the next request for
 * `IDLE_SPIN_MS` after each one, then sleeps on a futex. So a client committing in a loop pays no
 * thread wake-up, and an idle database burns no CPU.
 *
 * Protocol, on one Int32Array over a SharedArrayBuffer:
 *   REQ   sequence number of the last request (written by the caller, after FD)
 *   DONE  sequence number of the last completed request (written by the helper, after ERR)
 *   FD    the file descriptor to fdatasync
 *   ERR   0, or the negative errno of the failed request
 *   READY 1 once the helper runs its loop
 * and one Float64 after them (byte 24):
 *   STARTED when the helper took the last request (performance.timeOrigin + now(), ms;
 *           written before its fdatasync, read after DONE)
 *
 * The WAL's group flush uses it too when every open transaction waits for that fsync (nothing
 * else could use the thread meanwhile). Polling for it between microtasks instead, so other
 * sessions could run, was tried: the garbage of the polling loop made the sessions' statements
 * slower (16 connections: 490-590 µs of engine work per round of 16 commits, against 270-410
 * when the thread blocks and 290-435 through the thread pool).
 *
 * Invariants:
 *  1. At most one request is outstanding per thread (DONE !== the last sequence number posted):
 *     a caller that finds the helper busy (invariant 3) makes the call itself.
 *  2. Only used with at least 2 CPUs (`availableParallelism()`): on one CPU the two threads would
 *     take turns and the polling would delay the helper. Until the helper is ready, or after it
 *     died, the caller runs `fs.fdatasyncSync` itself.
 *  3. A request not done within `WAIT_FALLBACK_MS` (the helper stuck or gone) is also done by
 *     the caller. Two fdatasyncs of one descriptor are harmless; the caller returns only after
 *     its own one.
 *  4. The helper is unref'ed: it never keeps the process alive.
 *  5. When the hand-over itself gets slow (the CPUs are contended: see ContentionMonitor), the
 *     caller makes its calls itself for a while; it never spins longer than CALLER_SPIN_MS
 *     before it sleeps on the futex.
 */
import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { Worker } from 'node:worker_threads';

const REQ = 0;
const DONE = 1;
const FD = 2;
const ERR = 3;
const READY = 4;
const WORDS = 6;
/** byte offset of the STARTED Float64 */
const STARTED_AT = 24;

/** How long the helper polls for the next request before it sleeps (ms). */
const IDLE_SPIN_MS = 2;
/** How long the caller polls before it sleeps on the futex (ms): past it, the disk is slow anyway. */
const CALLER_SPIN_MS = 2;
/** See invariant 3 (ms). */
const WAIT_FALLBACK_MS = 2_000;

/** The helper's loop (CommonJS, evaluated by the worker). Checks the clock every 256 polls. */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const s = new Int32Array(workerData.sab, 0, ${WORDS});
const started = new Float64Array(workerData.sab, ${STARTED_AT}, 1);
const idleMs = workerData.idleMs;
let seen = Atomics.load(s, ${REQ});
Atomics.store(s, ${READY}, 1);
for (;;) {
  let t0 = performance.now();
  let n = 0;
  let req;
  while ((req = Atomics.load(s, ${REQ})) === seen) {
    if ((++n & 255) === 0 && performance.now() - t0 > idleMs) {
      Atomics.wait(s, ${REQ}, seen);
      t0 = performance.now();
    }
  }
  seen = req;
  let err = 0;
  started[0] = performance.timeOrigin + performance.now();
  try { fs.fdatasyncSync(Atomics.load(s, ${FD})); } catch (e) { err = typeof e.errno === 'number' && e.errno < 0 ? e.errno : -5; }
  Atomics.store(s, ${ERR}, err);
  Atomics.store(s, ${DONE}, req);
  Atomics.notify(s, ${DONE});
}
`;

/**
 * Is the helper worth using? The hand-over costs the caller a few µs when both threads have a CPU
 * each. When other work competes for the CPUs (another process, the engine's own worker
 * threads), the two polling threads and the rest take turns in scheduler time slices, and a
 * request can wait milliseconds for the helper to run (measured with one CPU-bound process beside
 * a committing client, 2 vCPUs: 290-1,600 µs a commit through the helper, 170-350 µs calling
 * fdatasync directly; SQLite 120-190). A request is late when the helper took it more than
 * `LATE_US` after it was posted (a pause of the caller itself, such as a garbage collection
 * while it polls, does not count: the caller would pay it without the helper too). A decaying
 * count of late requests (weight 31/32 per request) past `LATE_LIMIT`, about one in eight of the
 * recent ones, makes the caller sync directly for `BACKOFF_MS`, then try the helper again. A
 * single late one (the helper woken from its sleep) does not.
 */
export class ContentionMonitor {
  private lateScore = 0;
  private backoffUntil = -Infinity;
  /** times the monitor backed off */
  backoffs = 0;

  static readonly LATE_US = 250;
  static readonly LATE_LIMIT = 4;
  static readonly BACKOFF_MS = 250;

  /** May the next request go to the helper (at time `nowMs`)? */
  useHelper(nowMs: number): boolean {
    return nowMs >= this.backoffUntil;
  }

  /** A request posted at `nowMs` waited `startDelayUs` for the helper to take it. */
  record(startDelayUs: number, nowMs: number): void {
    this.lateScore = this.lateScore * (31 / 32) + (startDelayUs > ContentionMonitor.LATE_US ? 1 : 0);
    if (this.lateScore > ContentionMonitor.LATE_LIMIT) {
      this.backoffUntil = nowMs + ContentionMonitor.BACKOFF_MS;
      this.lateScore = 0;
      this.backoffs++;
    }
  }
}

export class SpinSync {
  private static instance: SpinSync | undefined | null = null;

  /** The thread's helper, started on first use; undefined where it is not used (one CPU, `QUIVER_SPIN_SYNC=0`). */
  static get(): SpinSync | undefined {
    if (SpinSync.instance === null) {
      SpinSync.instance = availableParallelism() >= 2 && process.env.QUIVER_SPIN_SYNC !== '0' ? new SpinSync() : undefined;
    }
    return SpinSync.instance;
  }

  private readonly state = new Int32Array(new SharedArrayBuffer(STARTED_AT + 8), 0, WORDS);
  private readonly started = new Float64Array(this.state.buffer, STARTED_AT, 1);
  private seq = 0;
  private dead = false;
  readonly contention = new ContentionMonitor();

  private constructor() {
    try {
      const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { sab: this.state.buffer, idleMs: IDLE_SPIN_MS } });
      worker.unref();
      worker.on('error', () => { this.dead = true; });
      worker.on('exit', () => { this.dead = true; });
    } catch {
      this.dead = true;
    }
  }

  /** The helper runs its loop (until then, and after it died, calls are made directly). */
  get ready(): boolean {
    return !this.dead && Atomics.load(this.state, READY) === 1;
  }

  /** A request is outstanding (one given up on, invariant 3). */
  private busy(): boolean {
    return Atomics.load(this.state, DONE) !== this.seq;
  }

  private usable(): boolean {
    return this.ready && !this.busy();
  }

  private post(fd: number): number {
    const s = this.state;
    const seq = (this.seq = (this.seq + 1) | 0);
    Atomics.store(s, FD, fd);
    Atomics.store(s, REQ, seq);
    Atomics.notify(s, REQ);
    return seq;
  }

  private result(): void {
    const err = Atomics.load(this.state, ERR);
    if (err !== 0) {
      const name = getSystemErrorName(err);
      throw Object.assign(new Error(`${name}: fdatasync failed`), { errno: err, code: name, syscall: 'fdatasync' });
    }
  }

  /** Make `fd`'s written data durable (as `fs.fdatasyncSync`), the calling thread kept running. */
  fdatasync(fd: number): void {
    const t0 = performance.now();
    if (!this.usable() || !this.contention.useHelper(t0)) { fs.fdatasyncSync(fd); return; }
    const s = this.state;
    const prev = this.seq;
    const seq = this.post(fd);
    let n = 0;
    while (Atomics.load(s, DONE) !== seq) {
      if ((++n & 4095) !== 0) continue; // (the clock is read rarely: each read is a heap number)
      const waited = performance.now() - t0;
      if (waited < CALLER_SPIN_MS) continue;
      if (waited > WAIT_FALLBACK_MS) { fs.fdatasyncSync(fd); return; }
      Atomics.wait(s, DONE, prev, 50);
    }
    // how long the request waited for the helper to take it (both clocks as absolute times)
    this.contention.record((this.started[0]! - (performance.timeOrigin + t0)) * 1000, t0);
    this.result();
  }
}
