/**
 * EncodeWorker: Parquet encoding of a checkpoint's (or compaction's) segment on a helper thread,
 * so that the database's own thread goes on with statements and commits meanwhile, and a bulk
 * load's inserts and its background checkpoint use both CPUs.
 *
 * Split of the work, per row group:
 *   caller's thread   vectors → Arrow IPC stream (`toIpc`: strings to UTF-8, validity to bits),
 *                     handed over without a copy (transferred)
 *   helper            IPC → parquet-wasm `Table` → the streaming writer (`transformParquetStream`),
 *                     whose output chunks come back transferred, in order, to the caller's `sink`
 * The file's bytes are exactly those of the in-thread `encodeRowGroupsTo` with the same
 * arguments (same writer, same settings, same batches; tested), and all file I/O stays with the
 * caller (its Env), so crash and fault behaviour does not change.
 *
 * Protocol (caller → helper / helper → caller), several jobs may interleave, told apart by id:
 *   { t: 'start', id, rowGroupSize, compression, dictionary }   → nothing
 *   { t: 'group', id, ipc }                                     → { t: 'taken', id } once decoded
 *   { t: 'end', id }                                            → { t: 'chunk', id, bytes }*, { t: 'done', id }
 *   (any failure)                                              → { t: 'error', id, message }
 *   at start-up                                                 → { t: 'ready' }
 *
 * Invariants:
 *  1. One helper per process, started on first use; it is ref'ed only while a job runs, so it
 *     never keeps an idle process alive.
 *  2. At most `IN_FLIGHT` row groups of a job are handed over and not yet taken: the caller's
 *     IPC buffers cannot run ahead of the helper without bound.
 *  3. A helper that fails to start, or dies, fails the jobs it had; later jobs run in the
 *     caller's thread (`available()` turns false). A job failure is an ordinary error of the
 *     checkpoint or compaction that ran it (which leaves the store as it was).
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { invariant } from '@quiverdb/common';
import { compression, dictionaryColumns, toIpc, type RowGroupData, type SegmentCodec, type SegmentColumn } from './parquet-io.js';

/** Row groups handed over and not yet taken, per job (invariant 2). */
const IN_FLIGHT = 2;

/** The helper (CommonJS, evaluated by the worker; parquet-wasm required by the path the caller resolved). */
const HELPER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const pw = require(workerData.parquetWasm);
const jobs = new Map();
function props(m) {
  let b = new pw.WriterPropertiesBuilder()
    .setMaxRowGroupSize(m.rowGroupSize)
    .setCompression(m.compression)
    .setCreatedBy('quiverdb')
    .setStatisticsEnabled(pw.EnabledStatistics.None)
    .setDictionaryEnabled(false);
  for (const name of m.dictionary) b = b.setColumnDictionaryEnabled(name, true);
  return b.build();
}
async function run(m, j) {
  try {
    const input = new ReadableStream({
      async pull(ctrl) {
        while (j.queue.length === 0 && !j.ended) await new Promise((r) => { j.wake = r; });
        if (j.queue.length === 0) { ctrl.close(); return; }
        const rb = pw.Table.fromIPCStream(j.queue.shift()).recordBatch(0);
        if (rb === undefined) throw new Error('parquet encode: empty IPC stream');
        parentPort.postMessage({ t: 'taken', id: m.id });
        ctrl.enqueue(rb);
      },
    });
    const reader = (await pw.transformParquetStream(input, props(m))).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const own = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice();
      parentPort.postMessage({ t: 'chunk', id: m.id, bytes: own }, [own.buffer]);
    }
    parentPort.postMessage({ t: 'done', id: m.id });
  } catch (e) {
    parentPort.postMessage({ t: 'error', id: m.id, message: String((e && e.message) || e) });
  } finally {
    jobs.delete(m.id);
  }
}
parentPort.on('message', (m) => {
  if (m.t === 'start') {
    const j = { queue: [], ended: false, wake: null };
    jobs.set(m.id, j);
    void run(m, j);
    return;
  }
  const j = jobs.get(m.id);
  if (j === undefined) return;
  if (m.t === 'group') j.queue.push(m.ipc);
  else j.ended = true;
  if (j.wake !== null) { const w = j.wake; j.wake = null; w(); }
});
parentPort.postMessage({ t: 'ready' });
`;

type Reply =
  | { t: 'ready' }
  | { t: 'taken'; id: number }
  | { t: 'chunk'; id: number; bytes: Uint8Array }
  | { t: 'done'; id: number }
  | { t: 'error'; id: number; message: string };

/**
 * One segment's encode on the helper. `pump` hands row groups over synchronously (a checkpoint
 * cut starts the encode this way before its own synchronous index work); `run` hands over the
 * rest, with flow control, and delivers the file's bytes to its sink. Chunks that arrive before
 * `run` wait for it.
 */
export class EncodeJob {
  /** row groups handed over so far */
  private next = 0;
  /** handed over and not yet taken by the helper */
  private inFlight = 0;
  private room: (() => void) | undefined;
  private sink: ((chunk: Uint8Array) => void) | undefined;
  private early: Uint8Array[] = [];
  private size = 0;
  private failure: Error | undefined;
  private finished = false;
  private settle: ((err?: Error) => void) | undefined;

  constructor(
    private readonly owner: EncodeWorker,
    readonly id: number,
    private readonly cols: readonly SegmentColumn[],
    private readonly groups: readonly RowGroupData[],
  ) {}

  /** Hand over row groups while fewer than `inFlight` are not yet taken (synchronous). */
  pump(inFlight = IN_FLIGHT): void {
    while (this.next < this.groups.length && this.inFlight < inFlight && this.failure === undefined) {
      const g = this.groups[this.next++]!;
      let ipc = toIpc(this.cols, g.vectors, g.rows);
      if (ipc.byteOffset !== 0 || ipc.byteLength !== ipc.buffer.byteLength) ipc = ipc.slice();
      this.inFlight++;
      this.owner.post({ t: 'group', id: this.id, ipc }, [ipc.buffer as ArrayBuffer]);
    }
    if (this.next === this.groups.length && this.failure === undefined) {
      this.next++; // (past the end: 'end' goes once)
      this.owner.post({ t: 'end', id: this.id });
    }
  }

  /** The file's bytes to `sink`, in order; resolves to its size once the last chunk went there. */
  async run(sink: (chunk: Uint8Array) => void): Promise<number> {
    const done = new Promise<void>((resolve, reject) => {
      this.settle = (err) => (err === undefined ? resolve() : reject(err));
    });
    done.catch(() => undefined); // (awaited below; it may settle before)
    this.sink = sink;
    const early = this.early;
    this.early = [];
    for (const c of early) this.chunk(c); // (a throwing sink fails the job, as for later chunks)
    if (this.finished || this.failure !== undefined) this.settle!(this.failure);
    while (this.next <= this.groups.length && this.failure === undefined) {
      // let I/O callbacks and other statements run between row groups, as the in-thread encoder does
      await new Promise<void>((r) => setImmediate(r));
      while (this.inFlight >= IN_FLIGHT && this.failure === undefined) await new Promise<void>((r) => { this.room = r; });
      this.pump(IN_FLIGHT);
    }
    await done;
    return this.size;
  }

  /** Wake `run` waiting for a row group to be taken. */
  private wakeRoom(): void {
    const room = this.room;
    this.room = undefined;
    room?.();
  }

  /** From the helper: a row group was taken. */
  taken(): void {
    this.inFlight--;
    this.wakeRoom();
  }

  /** From the helper: the next chunk of the file (kept until `run` gives a sink). */
  chunk(c: Uint8Array): void {
    if (this.sink === undefined) { this.early.push(c); return; }
    if (this.failure !== undefined) return;
    try {
      this.size += c.length;
      this.sink(c);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** From the helper: the file is complete. */
  done(): void {
    this.finished = true;
    this.owner.forget(this.id);
    this.settle?.();
  }

  /** Give the job up (its checkpoint failed): the helper finishes it, its bytes are dropped. */
  cancel(): void {
    this.fail(new Error('parquet encode cancelled'));
  }

  /** The job failed (or was given up): its run rejects with `err`; the helper is told to finish it. */
  fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    // (a finished job fails only through its sink, on chunks delivered late by `run`)
    if (!this.finished) {
      if (this.next <= this.groups.length) {
        this.next = this.groups.length + 1;
        this.owner.post({ t: 'end', id: this.id });
      }
      this.owner.forget(this.id);
    }
    this.wakeRoom();
    this.settle?.(err);
  }
}

export class EncodeWorker {
  private static instance: EncodeWorker | undefined | null = null;

  /** The process's helper, started on first call; undefined with one CPU, `QUIVER_ENCODE_WORKER=0`, or once it failed. */
  static get(): EncodeWorker | undefined {
    if (EncodeWorker.instance === null) {
      EncodeWorker.instance = availableParallelism() >= 2 && process.env.QUIVER_ENCODE_WORKER !== '0' ? new EncodeWorker() : undefined;
    }
    const w = EncodeWorker.instance;
    return w !== undefined && w.available() ? w : undefined;
  }

  private readonly worker: Worker | undefined;
  private readonly jobs = new Map<number, EncodeJob>();
  private nextId = 1;
  private dead = false;

  /** jobs started so far */
  get started(): number {
    return this.nextId - 1;
  }

  private constructor() {
    let worker: Worker | undefined;
    try {
      const parquetWasm = createRequire(import.meta.url).resolve('parquet-wasm');
      worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { parquetWasm } });
      worker.unref();
      worker.on('message', (r: Reply) => this.onReply(r));
      worker.on('error', (e) => this.die(e));
      worker.on('exit', (code) => this.die(new Error(`parquet encode worker exited (code ${code})`)));
    } catch {
      this.dead = true;
    }
    this.worker = worker;
  }

  /** Can it take a job (invariant 3)? */
  available(): boolean {
    return !this.dead && this.worker !== undefined;
  }

  /**
   * A job encoding `groups` as `encodeRowGroupsTo` (parquet-io.ts) would, with the same bytes;
   * nothing is handed over before its `pump` or `run`.
   */
  start(cols: readonly SegmentColumn[], groups: readonly RowGroupData[], rowGroupSize: number, codec: SegmentCodec, dictionary: boolean): EncodeJob {
    const worker = this.worker;
    invariant(worker !== undefined && !this.dead, 'parquet encode worker unavailable');
    const job = new EncodeJob(this, this.nextId++, cols, groups);
    if (this.jobs.size === 0) worker.ref();
    this.jobs.set(job.id, job);
    worker.postMessage({ t: 'start', id: job.id, rowGroupSize, compression: compression(codec), dictionary: dictionaryColumns(cols, dictionary, groups) });
    return job;
  }

  /** (for EncodeJob) */
  post(msg: object, transfer?: ArrayBuffer[]): void {
    this.worker?.postMessage(msg, transfer);
  }

  /** (for EncodeJob) the job is settled */
  forget(id: number): void {
    this.jobs.delete(id);
    if (this.jobs.size === 0) this.worker?.unref();
  }

  private onReply(r: Reply): void {
    if (r.t === 'ready') return;
    const job = this.jobs.get(r.id);
    if (job === undefined) return;
    switch (r.t) {
      case 'taken': job.taken(); return;
      case 'chunk': job.chunk(r.bytes); return;
      case 'done': job.done(); return;
      case 'error': job.fail(new Error(`parquet encode: ${r.message}`)); return;
    }
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    for (const j of [...this.jobs.values()]) j.fail(err);
    this.jobs.clear();
  }
}
