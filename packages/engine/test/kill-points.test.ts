/**
 * Process kills at I/O calls, in process (issue 4): the crash tests' workload (fixtures/crash-workload.mjs:
 * transactions of inserts, updates and deletes, bulk inserts, CHECKPOINT, VACUUM, bursts of
 * single-row autocommit INSERTs from 16 connections, automatic checkpoints every 64 KB of WAL) runs
 * on a FaultEnv over a MemEnv; the "kill" is a fault at a chosen I/O call after which every call
 * fails, and what the process leaves is the MemEnv as it stood before that call (`snapshot`: every
 * completed write, synced or not, as the OS keeps it after SIGKILL). The copy is reopened and must
 * hold exactly the acknowledged commits (the in-flight transaction wholly or not at all, each
 * in-flight burst INSERT present with its value or absent); the next iteration's "process" starts
 * from it. Unlike crash.test.ts the kill lands before any I/O call with the same chance, including
 * the many of checkpoints and compactions, and needs no timing luck; unlike the FaultEnv suites it
 * keeps unsynced writes, across hundreds of reopen cycles.
 *
 * The Env under the database runs its asynchronous calls a few event-loop turns late (JitterEnv), so
 * that calls issued together take effect in any order and a kill finds some issued and not done, as
 * on NodeEnv's thread pool; every second kill tears the write it lands on (a prefix written). After
 * each reopen every index is checked against its table (Database.verifyIndexes): the next process
 * finds the rows it updates and deletes through the primary key.
 *
 * Iterations: QUIVER_KILL_POINTS (default 25), seed QUIVER_KILL_SEED (default 1); the table is kept
 * small (bulk inserts stop at QUIVER_KILL_ROWS live rows, default 3,000) so that the default run
 * takes seconds. The workload and the kill's call number are seeded; which call that is also
 * depends on how the background tasks (group commit, checkpoints, compaction) interleave, so two
 * runs of a seed may differ.
 */
import { describe, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { FaultEnv, MemEnv } from '@quiverdb/storage';
import { Database } from '../src/index.js';
import { apply, checkReopened, type Op } from './crash-model.js';
import { runWorkload } from './fixtures/crash-workload.mjs';
import { JitterEnv } from './jitter-env.js';

const ITERATIONS = Number(process.env.QUIVER_KILL_POINTS ?? 25);
const SEED = Number(process.env.QUIVER_KILL_SEED ?? 1);
const BULK_ROWS_LIMIT = Number(process.env.QUIVER_KILL_ROWS ?? 3_000);
/** asynchronous I/O calls a few turns late, in any order (jitter-env.ts): as on the thread pool; QUIVER_KILL_JITTER=0 turns it off */
const JITTER = process.env.QUIVER_KILL_JITTER !== '0';
/** every second kill tears the write it lands on (a prefix of its bytes written), as SIGKILL in a write(2) does; QUIVER_KILL_CUT=0: none */
const CUT = process.env.QUIVER_KILL_CUT !== '0';
/** the workload kept small: bulk inserts of up to half the row limit (the encode worker takes 8,192 rows or more), short bursts */
const WORKLOAD = { bulkRowsLimit: BULK_ROWS_LIMIT, bulkMaxRows: Math.min(12_000, BULK_ROWS_LIMIT / 2), burstMaxRows: 10 };
/**
 * As the crash child's database, plus what the real file system would turn on: a preallocated spare
 * WAL segment (MemEnv alone has none), and segments of 32 KB so that kills land in rotations too.
 */
const OPTIONS = { checkpointWalBytes: 64 * 1024, storeTuning: { walPreallocate: true, walSegmentBytes: 32 * 1024 } };

/** What the parent knows at the kill: acknowledged rows, the transaction in flight, burst INSERTs in flight. */
interface Known { model: Map<number, number>; pending: Op[] | undefined; burst: Map<number, number> }

/**
 * One "process": the crash tests' workload on `env` until the fault fires. Returns what was
 * acknowledged (read when the fault is seen: an acknowledgement after it is of a commit made
 * durable before it, which the copy must hold too).
 */
async function child(env: FaultEnv, it: number, start: Map<number, number>, killAfter: { acks: number; calls: number; cut?: number }): Promise<Known> {
  const known: Known = { model: new Map(start), pending: undefined, burst: new Map() };
  let acks = 0;
  const arm = (): void => {
    if (env.plan === undefined && acks >= killAfter.acks) env.killAfter(killAfter.calls, CUT ? killAfter.cut : undefined);
  };
  let failure: unknown;
  const run = (async () => {
    const db = await Database.open('/db', { ...OPTIONS, env: JITTER ? new JitterEnv(seededRandom(SEED * 7_919 + it), env) : env });
    await runWorkload(db, seededRandom(SEED * 100_003 + it), {
      ready: arm,
      pending: (ops) => { known.pending = ops; },
      ack: () => {
        apply(known.model, known.pending!);
        known.pending = undefined;
        acks++;
        arm();
      },
      cpending: (id, v) => { known.burst.set(id, v); },
      cack: (id) => {
        known.model.set(id, known.burst.get(id)!);
        known.burst.delete(id);
      },
    }, WORKLOAD);
  })();
  run.catch((e: unknown) => { failure = e; });
  // the killed process is abandoned: once its env is dead nothing it does reaches the files
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => { if (env.fired || failure !== undefined) { clearInterval(poll); resolve(); } }, 1);
  });
  if (!env.fired) throw failure;
  return { model: new Map(known.model), pending: known.pending, burst: new Map(known.burst) };
}

describe('process kills at I/O calls (in process)', () => {
  it(`keeps exactly the acknowledged commits over ${ITERATIONS} kills`, async () => {
    const rand = seededRandom(SEED);
    let mem = new MemEnv();
    let model = new Map<number, number>();
    let inflight = 0;
    for (let it = 0; it < ITERATIONS; it++) {
      const env = new FaultEnv(mem);
      // as crash.test.ts: after 0-5 acknowledged transactions, then within a few or a few hundred calls
      const calls = it % 3 === 2 ? 20 + Math.floor(rand() * 400) : Math.floor(rand() * 40);
      const known = await child(env, it, model, { acks: it % 6, calls, cut: it % 2 === 1 ? rand() : undefined });
      const where = env.lastFault;
      // what the killed process left: every write before the faulting call
      mem = mem.snapshot(mem.generation + 1000 + it);
      const db = await Database.open('/db', { ...OPTIONS, env: mem });
      // (the table exists: the kill is armed once its CREATE was acknowledged)
      let rows: [number, number, string][];
      try {
        rows = (await db.connect().query('SELECT id, v, s FROM kv ORDER BY id')).rows as [number, number, string][];
        await db.verifyIndexes(); // (the next process finds the rows it updates and deletes through the primary key)
      } finally {
        await db.close();
      }
      inflight += checkReopened(`kill ${it} (at ${where})`, rows, known.model, known.pending, known.burst);
      model = known.model;
    }
    console.log(`kill points: ${ITERATIONS} kills (seed ${SEED}), ${model.size} rows at the end, ${inflight} in-flight commits found durable`);
  }, Math.max(120_000, ITERATIONS * 20_000)); // (long runs on large tables: seconds a kill on a loaded machine)
});
