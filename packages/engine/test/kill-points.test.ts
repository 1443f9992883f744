/**
 * Process kills at I/O calls, in process (issue 4): the crash test's workload (crash-child.mjs:
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
 * Iterations: QUIVER_KILL_POINTS (default 25), seed QUIVER_KILL_SEED (default 1); the table is kept
 * small (bulk inserts stop at QUIVER_KILL_ROWS live rows, default 3,000) so that the default run takes seconds. The workload
 * and the kill's call number are seeded; which call that is also depends on how the background
 * tasks (group commit, checkpoints, compaction) interleave, so two runs of a seed may differ.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { FaultEnv, MemEnv } from '@quiverdb/storage';
import { Database } from '../src/index.js';
import { apply, describeDiff, type Op } from './crash-model.js';

const ITERATIONS = Number(process.env.QUIVER_KILL_POINTS ?? 25);
const SEED = Number(process.env.QUIVER_KILL_SEED ?? 1);
const BULK_ROWS_LIMIT = Number(process.env.QUIVER_KILL_ROWS ?? 3_000);
/**
 * As the crash child's database, plus what the real file system would turn on: a preallocated spare
 * WAL segment (MemEnv alone has none), and segments of 32 KB so that kills land in rotations too.
 */
const OPTIONS = { checkpointWalBytes: 64 * 1024, storeTuning: { walPreallocate: true, walSegmentBytes: 32 * 1024 } };


/** What the parent knows at the kill: acknowledged rows, the transaction in flight, burst INSERTs in flight. */
interface Known { model: Map<number, number>; pending: Op[] | undefined; burst: Map<number, number> }

/**
 * One "process": the crash child's workload on `env` until the fault fires. Returns what was
 * acknowledged (read when the fault is seen: an acknowledgement after it is of a commit made
 * durable before it, which the copy must hold too).
 */
async function child(env: FaultEnv, it: number, start: Map<number, number>, killAfter: { acks: number; calls: number }): Promise<Known> {
  const rand = seededRandom(SEED * 100_003 + it);
  const known: Known = { model: new Map(start), pending: undefined, burst: new Map() };
  let failure: unknown;
  const run = (async () => {
    const db = await Database.open('/db', { ...OPTIONS, env });
    const c = db.connect();
    await c.query('CREATE TABLE IF NOT EXISTS kv (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, s TEXT)');
    const live = (await c.query('SELECT id FROM kv')).rows.map((r) => Number(r[0]));
    let nextId = live.reduce((m, x) => Math.max(m, x), 0) + 1;
    let acks = 0;
    const arm = (): void => {
      if (env.plan === undefined && acks >= killAfter.acks) env.killAfter(killAfter.calls);
    };
    arm();
    let sessions: ReturnType<Database['connect']>[] | undefined;
    for (;;) {
      const ops: Op[] = [];
      if (rand() < 0.03 && live.length < BULK_ROWS_LIMIT) {
        // (up to 12,000 rows as in the crash child when the table may grow large: a checkpoint of
        // 8,192 rows or more encodes on the encode worker)
        const count = 100 + Math.floor(rand() * Math.min(12_000, BULK_ROWS_LIMIT / 2));
        ops.push(['b', nextId, count, Math.floor(rand() * 1000)]);
        nextId += count;
      }
      const k = 1 + Math.floor(rand() * 4);
      for (let j = 0; j < k; j++) {
        const r = rand();
        if (r < 0.55 || live.length === 0) ops.push(['i', nextId++, Math.floor(rand() * 1000)]);
        else if (r < 0.8) ops.push(['u', live[Math.floor(rand() * live.length)]!, Math.floor(rand() * 1000)]);
        else ops.push(['d', live.splice(Math.floor(rand() * live.length), 1)[0]!]);
      }
      known.pending = ops;
      await c.query('BEGIN');
      for (const op of ops) {
        if (op[0] === 'i') {
          await c.query('INSERT INTO kv VALUES ($1, $2, $3)', [op[1], op[2], `row ${op[1]}`]);
          live.push(op[1]);
        } else if (op[0] === 'b') {
          for (let from = 0; from < op[2]; from += 500) {
            const m = Math.min(500, op[2] - from);
            const params: unknown[] = [];
            const tuples: string[] = [];
            for (let i = 0; i < m; i++) {
              const id = op[1] + from + i;
              tuples.push(`($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`);
              params.push(id, (op[3] + from + i) % 1000, `row ${id}`);
              live.push(id);
            }
            await c.query(`INSERT INTO kv VALUES ${tuples.join(', ')}`, params);
          }
        } else if (op[0] === 'u') await c.query('UPDATE kv SET v = $2 WHERE id = $1', [op[1], op[2]]);
        else await c.query('DELETE FROM kv WHERE id = $1', [op[1]]);
      }
      await c.query('COMMIT');
      apply(known.model, ops);
      known.pending = undefined;
      acks++;
      arm();
      if (rand() < 0.05) await c.query('CHECKPOINT');
      if (rand() < 0.02) await c.query('VACUUM');
      if (rand() < 0.04) {
        const perSession = 3 + Math.floor(rand() * 10);
        sessions ??= Array.from({ length: 16 }, () => db.connect());
        await Promise.all(sessions.map(async (s) => {
          for (let q = 0; q < perSession; q++) {
            const id = nextId++;
            const v = Math.floor(rand() * 1000);
            known.burst.set(id, v);
            await s.query('INSERT INTO kv VALUES ($1, $2, $3)', [id, v, `row ${id}`]);
            live.push(id);
            known.model.set(id, v);
            known.burst.delete(id);
          }
        }));
      }
    }
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
      const known = await child(env, it, model, { acks: it % 6, calls });
      const where = env.lastFault;
      // what the killed process left: every write before the faulting call
      mem = mem.snapshot(mem.generation + 1000 + it);
      const db = await Database.open('/db', { ...OPTIONS, env: mem });
      let rows: [number, number, string][];
      try {
        rows = (await db.connect().query('SELECT id, v, s FROM kv ORDER BY id')).rows as [number, number, string][];
      } catch (e) {
        // killed before its table was created
        if (!(e instanceof Error && /does not exist/.test(e.message)) || known.model.size > 0) throw e;
        rows = [];
      } finally {
        await db.close();
      }
      const got = new Map(rows.map((r) => [Number(r[0]), Number(r[1])]));
      expect(rows.find((r) => r[2] !== `row ${r[0]}`), `kill ${it}: a row's text`).toBeUndefined();
      for (const [id, v] of known.burst) {
        if (!got.has(id)) continue;
        expect(got.get(id), `kill ${it}: in-flight burst row ${id}`).toBe(v);
        known.model.set(id, v);
        inflight++;
      }
      const same = (m: Map<number, number>): boolean => m.size === got.size && [...m].every(([k, v]) => got.get(k) === v);
      let next = known.model;
      if (!same(next)) {
        const withInflight = new Map(next);
        if (known.pending !== undefined) apply(withInflight, known.pending);
        const detail = `kill ${it} (at ${where}): ${describeDiff(next, got)}; with the in-flight transaction: ${known.pending === undefined ? 'none' : describeDiff(withInflight, got)}`;
        expect(known.pending, detail).toBeDefined();
        expect(same(withInflight), detail).toBe(true);
        next = withInflight;
        inflight++;
      }
      model = next;
    }
    console.log(`kill points: ${ITERATIONS} kills (seed ${SEED}), ${model.size} rows at the end, ${inflight} in-flight commits found durable`);
  }, Math.max(120_000, ITERATIONS * 5_000));
});
