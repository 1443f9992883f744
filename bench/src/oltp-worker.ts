/**
 * Worker thread hosting one engine for the OLTP and concurrency groups (see workloads/oltp.ts and
 * workloads/oltp-host.ts): the engine's database, its kv data (generated here, deterministic
 * from the seed, and dropped after the load), its sessions and its next free id live in this
 * thread's heap only, so one engine's measurements never pay for another engine's garbage.
 * Every operation is a function of workloads/oltp-ops.ts; the times it returns are measured
 * here, so message passing is not counted.
 *
 * Protocol (main → worker, worker → main), `workerData` = `OltpParams`:
 *   { id, op, args }   → { id, ok: true, value } | { id, ok: false, error: { kind, code?, message } }
 * `op` is a name in OLTP_OPS; `args` its arguments after the state. Requests run one at a time,
 * in arrival order. After `close` the main thread terminates the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createOltpState, runOltpOp, toWireError, type OltpParams, type OltpReply, type OltpRequest } from './workloads/oltp-ops.js';

const port = parentPort;
if (port) {
  const state = createOltpState(workerData as OltpParams);
  let queue: Promise<void> = Promise.resolve();
  const handle = async (msg: OltpRequest): Promise<void> => {
    let reply: OltpReply;
    try {
      reply = { id: msg.id, ok: true, value: await runOltpOp(state, msg.op, msg.args as never) };
    } catch (err) {
      reply = { id: msg.id, ok: false, error: toWireError(err) };
    }
    try {
      port.postMessage(reply);
    } catch (err) {
      // a value that cannot be cloned
      port.postMessage({ id: msg.id, ok: false, error: toWireError(err) } satisfies OltpReply);
    }
  };
  port.on('message', (msg: OltpRequest) => {
    queue = queue.then(() => handle(msg));
  });
}
