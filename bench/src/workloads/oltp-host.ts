/**
 * Where an engine runs the OLTP and concurrency groups: in a worker thread of its own (the built
 * CLI; oltp-worker.ts), so its measurements run in a heap that holds only its own data; or in
 * this thread (running from TypeScript source, e.g. under vitest, where the worker file does not
 * exist, or with `isolate` off). Both run the same operations (oltp-ops.ts) and return the
 * times measured where the engine runs, so message passing is not counted.
 *
 * Invariants (worker host):
 *  - requests carry ids; a reply settles the request with its id (the caller awaits one at a time);
 *  - an error reply is rebuilt into an error of the same kind and SQLSTATE (`fromWireError`);
 *  - a worker that crashes or exits fails every pending request and every later one with the
 *    reason; a request past `watchdogMs` (far above any run's budget) terminates the worker and
 *    fails as a timeout, so a stuck engine fails instead of hanging the bench;
 *  - `close` closes the database in the worker, then terminates it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { QueryTimeout, type EngineName } from '../engines/adapter.js';
import {
  createOltpState, fromWireError, runOltpOp, type OltpOpArgs, type OltpOpName, type OltpOpResult, type OltpParams, type OltpReply,
  type OltpRequest, type OltpState,
} from './oltp-ops.js';

export interface OltpHost {
  readonly name: EngineName;
  /** Run one operation of oltp-ops.ts on this engine. */
  call<K extends OltpOpName>(op: K, ...args: OltpOpArgs<K>): Promise<OltpOpResult<K>>;
  /** Close the database (and the worker); never throws. */
  close(): Promise<void>;
}

class InProcessHost implements OltpHost {
  readonly #state: OltpState;

  constructor(readonly name: EngineName, params: OltpParams) {
    this.#state = createOltpState(params);
  }

  call<K extends OltpOpName>(op: K, ...args: OltpOpArgs<K>): Promise<OltpOpResult<K>> {
    return runOltpOp(this.#state, op, args);
  }

  async close(): Promise<void> {
    await runOltpOp(this.#state, 'close', []).catch(() => {});
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Time the worker gets to close its database before it is terminated anyway. */
const CLOSE_TIMEOUT_MS = 30_000;

class WorkerHost implements OltpHost {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Why later requests fail at once: the worker is gone. */
  #gone: Error | undefined;

  constructor(readonly name: EngineName, url: URL, params: OltpParams, private readonly watchdogMs: number) {
    this.#worker = new Worker(url, { workerData: params });
    this.#worker.on('message', (r: OltpReply) => {
      const p = this.#pending.get(r.id);
      if (!p) return;
      this.#pending.delete(r.id);
      clearTimeout(p.timer);
      if (r.ok) p.resolve(r.value);
      else p.reject(fromWireError(r.error));
    });
    this.#worker.on('error', (err) => this.#fail(new Error(`worker crashed: ${err.message}`)));
    this.#worker.on('exit', (code) => this.#fail(new Error(`worker exited with code ${code}`)));
  }

  /** The worker is gone: `now` fails the pending requests, `later` (default `now`) every later one. */
  #fail(now: Error, later: Error = now): void {
    this.#gone ??= later;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(now);
    }
  }

  #request(op: OltpOpName, args: readonly unknown[], timeoutMs: number): Promise<unknown> {
    if (this.#gone) return Promise.reject(this.#gone);
    const id = this.#nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new QueryTimeout(timeoutMs), new Error(`worker stopped: a request ran past ${Math.round(timeoutMs / 1000)} s`));
        void this.#worker.terminate();
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#worker.postMessage({ id, op, args } satisfies OltpRequest);
    });
  }

  call<K extends OltpOpName>(op: K, ...args: OltpOpArgs<K>): Promise<OltpOpResult<K>> {
    return this.#request(op, args, this.watchdogMs) as Promise<OltpOpResult<K>>;
  }

  async close(): Promise<void> {
    try {
      if (!this.#gone) await this.#request('close', [], CLOSE_TIMEOUT_MS);
    } catch {
      // terminated below
    }
    this.#gone ??= new Error('worker closed');
    await this.#worker.terminate();
  }
}

/** The worker script next to the running code, when it exists (built CLI only). */
export function oltpWorkerUrl(): URL | undefined {
  const url = new URL('./oltp-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : undefined;
}

/**
 * A host for one engine. `watchdogMs`: how long one request may take in a worker before the
 * worker is stopped (no limit in this thread).
 */
export function createOltpHost(params: OltpParams, opts: { isolate: boolean; watchdogMs: number }): OltpHost {
  const url = opts.isolate ? oltpWorkerUrl() : undefined;
  return url ? new WorkerHost(params.engine, url, params, opts.watchdogMs) : new InProcessHost(params.engine, params);
}
