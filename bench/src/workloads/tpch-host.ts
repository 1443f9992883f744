/**
 * Where an engine runs the TPC-H phase: in a worker thread of its own (the built CLI), so a
 * query past its time limit is stopped by terminating the worker and reported `timeout`
 * (the next query restarts the worker and reloads, untimed); or in this thread (running from
 * TypeScript source, e.g. under vitest, where the worker file does not exist), without limit.
 *
 * Times are measured where the engine runs, so message passing is not counted.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { NotApplicable, QueryTimeout, type EngineAdapter, type EngineName, type Row } from '../engines/adapter.js';
import { createAdapter } from '../engines/registry.js';
import type { TpchData } from '../tpch/generate.js';

export interface TpchHost {
  readonly name: EngineName;
  /** Open and load; resolves with the load time. */
  start(): Promise<{ loadMs: number }>;
  query(sql: string, timeoutMs: number): Promise<{ rows: Row[]; ms: number }>;
  close(): Promise<void>;
}

class InProcessHost implements TpchHost {
  readonly #adapter: EngineAdapter;

  constructor(readonly name: EngineName, private readonly data: TpchData) {
    this.#adapter = createAdapter(name);
  }

  async start(): Promise<{ loadMs: number }> {
    await this.#adapter.open({ kind: 'memory' });
    const start = performance.now();
    for (const t of Object.values(this.data)) await this.#adapter.load(t);
    return { loadMs: performance.now() - start };
  }

  async query(sql: string): Promise<{ rows: Row[]; ms: number }> {
    const start = performance.now();
    const rows = await this.#adapter.query(sql);
    return { rows, ms: performance.now() - start };
  }

  async close(): Promise<void> {
    await this.#adapter.close();
  }
}

interface WorkerReply {
  type: 'started' | 'result' | 'error' | 'closed';
  id?: number;
  loadMs?: number;
  rows?: Row[];
  ms?: number;
  kind?: string;
  code?: string;
  message?: string;
}

function replyError(r: WorkerReply): Error {
  if (r.kind === 'NotApplicable') return new NotApplicable(r.message ?? '');
  const err = new Error(r.message ?? 'unknown error') as Error & { code?: string };
  if (r.code) err.code = r.code;
  return err;
}

class WorkerHost implements TpchHost {
  #worker: Worker | undefined;
  #pending: ((r: WorkerReply) => void) | undefined;
  #nextId = 1;
  #started = false;

  constructor(readonly name: EngineName, private readonly url: URL, private readonly sf: number, private readonly seed: number) {}

  #spawn(): Worker {
    const w = new Worker(this.url, { workerData: { engine: this.name, sf: this.sf, seed: this.seed } });
    w.on('message', (r: WorkerReply) => {
      const p = this.#pending;
      this.#pending = undefined;
      p?.(r);
    });
    w.on('error', (err) => {
      const p = this.#pending;
      this.#pending = undefined;
      p?.({ type: 'error', message: `worker crashed: ${err.message}` });
    });
    w.on('exit', (code) => {
      const p = this.#pending;
      this.#pending = undefined;
      p?.({ type: 'error', message: `worker exited with code ${code}` });
    });
    return w;
  }

  #request(msg: object, timeoutMs?: number): Promise<WorkerReply> {
    const w = this.#worker!;
    return new Promise<WorkerReply>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      this.#pending = (r) => {
        if (timer) clearTimeout(timer);
        resolve(r);
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#pending = undefined;
          this.#started = false;
          this.#worker = undefined;
          void w.terminate();
          reject(new QueryTimeout(timeoutMs));
        }, timeoutMs);
      }
      w.postMessage(msg);
    });
  }

  async start(): Promise<{ loadMs: number }> {
    this.#worker = this.#spawn();
    const r = await this.#request({ type: 'start' });
    if (r.type !== 'started') {
      await this.#worker?.terminate();
      this.#worker = undefined;
      throw replyError(r);
    }
    this.#started = true;
    return { loadMs: r.loadMs ?? 0 };
  }

  async query(sql: string, timeoutMs: number): Promise<{ rows: Row[]; ms: number }> {
    if (!this.#started) await this.start(); // after a timeout: restart and reload, untimed
    const r = await this.#request({ type: 'query', id: this.#nextId++, sql }, timeoutMs);
    if (r.type !== 'result') throw replyError(r);
    return { rows: r.rows ?? [], ms: r.ms ?? 0 };
  }

  async close(): Promise<void> {
    const w = this.#worker;
    if (!w) return;
    try {
      if (this.#started) await this.#request({ type: 'close' }, 10_000);
    } catch {
      // terminated below
    }
    await w.terminate();
    this.#worker = undefined;
  }
}

/** The worker script next to the running code, when it exists (built CLI only). */
export function workerUrl(): URL | undefined {
  const url = new URL('./tpch-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : undefined;
}

export function createTpchHost(name: EngineName, opts: { sf: number; seed: number; isolate: boolean }, data: () => TpchData): TpchHost {
  const url = opts.isolate ? workerUrl() : undefined;
  return url ? new WorkerHost(name, url, opts.sf, opts.seed) : new InProcessHost(name, data());
}
