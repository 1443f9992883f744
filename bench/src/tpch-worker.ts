/**
 * Worker thread hosting one engine for the TPC-H phase (see workloads/tpch-host.ts): it
 * generates the data itself (deterministic from seed and scale factor), loads it, then answers
 * `query` messages with the rows and the time measured inside the worker, so that the main
 * thread can stop a query that runs past its time limit by terminating the worker.
 *
 * Protocol (main → worker, worker → main):
 *   { type: 'start' }                       → { type: 'started', loadMs, heapMb } | { type: 'error', ... }
 *   { type: 'query', id, sql }              → { type: 'result', id, rows, ms } | { type: 'error', id, ... }
 *   { type: 'close' }                       → { type: 'closed' }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { errorCode, errorMessage, NotApplicable, type EngineName } from './engines/adapter.js';
import { createAdapter } from './engines/registry.js';
import { generateTpch } from './tpch/generate.js';

interface Init {
  readonly engine: EngineName;
  readonly sf: number;
  readonly seed: number;
}

type Msg = { type: 'start' } | { type: 'query'; id: number; sql: string } | { type: 'close' };

const port = parentPort;
if (port) {
  const init = workerData as Init;
  const adapter = createAdapter(init.engine);
  const fail = (err: unknown, id?: number): void => {
    port.postMessage({
      type: 'error', id, kind: err instanceof NotApplicable ? 'NotApplicable' : 'Error', code: errorCode(err), message: errorMessage(err),
    });
  };
  port.on('message', (msg: Msg) => {
    void (async () => {
      switch (msg.type) {
        case 'start':
          try {
            const data = generateTpch(init.sf, init.seed);
            await adapter.open({ kind: 'memory' });
            const start = performance.now();
            for (const t of Object.values(data)) await adapter.load(t);
            const loadMs = performance.now() - start;
            port.postMessage({ type: 'started', loadMs, heapMb: Math.round(getHeapStatistics().used_heap_size / 1048576) });
          } catch (err) {
            fail(err);
          }
          break;
        case 'query':
          try {
            const start = performance.now();
            const rows = await adapter.query(msg.sql);
            const ms = performance.now() - start;
            port.postMessage({ type: 'result', id: msg.id, rows, ms });
          } catch (err) {
            fail(err, msg.id);
          }
          break;
        case 'close':
          await adapter.close().catch(() => {});
          port.postMessage({ type: 'closed' });
          break;
      }
    })();
  });
}
