/**
 * Randomized job-queue test of SELECT ... ORDER BY ... LIMIT n FOR UPDATE [SKIP LOCKED] (the
 * LockRows step, query exec/lock-rows.ts): workers on their own connections repeatedly take up to
 * n jobs, hold them across awaits, then finish them (or give them back with ROLLBACK), at READ
 * COMMITTED and REPEATABLE READ, with and without SKIP LOCKED, on a table with a primary key and on
 * one without any key. Fixed seed; retries on 40001 / 40P01.
 *
 * Checks (a naive model of who holds what): no job is ever handed to two workers at once; no more
 * jobs than asked for; SKIP LOCKED (READ COMMITTED) never comes back empty while a job was free
 * during its whole run; every job is finished exactly once; the lock manager's invariants hold at
 * the end.
 *
 * "Free during its whole run" is counted, not timed: a job free when the SELECT started may be
 * taken by a SELECT that started later and overtook it (a scan yields a macrotask turn after 20 ms,
 * which happens under load), and PostgreSQL's SKIP LOCKED then rightly skips it. So the jobs other
 * SELECTs got while it ran (`grabbed`) and those still being taken when it ends (`taking`) are
 * subtracted; `taking` and `grabbed` change together when a SELECT settles, so the count is the
 * same whatever the interleaving.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { Database, type Connection } from '../src/index.js';

const JOBS = 60;
const WORKERS = 6;

interface Case { isolation: 'READ COMMITTED' | 'REPEATABLE READ'; skipLocked: boolean; keyed: boolean }

async function runQueue(c: Case, seed: number): Promise<void> {
  const rnd = seededRandom(seed);
  const db = await Database.open(':memory:');
  const setup = db.connect();
  // (a table name per kind: the process-wide plan cache must not see two databases' same-text plans)
  const jobs = c.keyed ? 'jobs' : 'jobs_nokey';
  await setup.query(`CREATE TABLE ${jobs} (id INTEGER${c.keyed ? ' PRIMARY KEY' : ''}, state TEXT, done INTEGER)`);
  await setup.query(`INSERT INTO ${jobs} SELECT i, 'new', 0 FROM generate_series(1, ${JOBS}) AS g(i)`);
  const held = new Map<number, number>(); // job → worker holding it (the model)
  let finished = 0;
  let freeButEmpty = 0;
  let freeChecked = 0; // SKIP LOCKED SELECTs that started with a job free throughout (the check is not vacuous)
  let taking = 0; // jobs asked for by SELECTs still running (they may hold locks the model lacks)
  let grabbed = 0; // jobs handed out by all SELECTs so far (updated together with `taking`)
  const pause = async (): Promise<void> => {
    const n = Math.floor(rnd() * 3);
    for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  };
  const worker = async (w: number, conn: Connection): Promise<void> => {
    for (let round = 0; round < 200 && finished < JOBS; round++) {
      const want = 1 + Math.floor(rnd() * 3);
      let mine: number[] = [];
      try {
        await conn.query(`BEGIN ISOLATION LEVEL ${c.isolation}`);
        const free = JOBS - finished - held.size - taking;
        const grabbedBefore = grabbed;
        taking += want;
        const r = await conn.query(`SELECT id FROM ${jobs} WHERE state = 'new' ORDER BY id LIMIT ${want} FOR UPDATE${c.skipLocked ? ' SKIP LOCKED' : ''}`)
          .then((res) => { taking -= want; grabbed += res.rows.length; return res; }, (err: unknown) => { taking -= want; throw err; });
        // jobs free at the start that no other SELECT can have taken meanwhile (`taking`: others only, now)
        const freeThroughout = free - (grabbed - r.rows.length - grabbedBefore) - taking;
        mine = r.rows.map((row) => Number(row[0]));
        for (const id of mine) {
          expect(held.get(id), `job ${id} handed to worker ${w} while worker ${held.get(id)} holds it`).toBeUndefined();
          held.set(id, w);
        }
        expect(mine.length).toBeLessThanOrEqual(want);
        // SKIP LOCKED never comes back empty while a job was new and free throughout its run (jobs
        // only get freed, or finished by commits, meanwhile; a finished job may still be skipped)
        if (c.skipLocked && c.isolation === 'READ COMMITTED' && freeThroughout > 0) {
          freeChecked++;
          if (mine.length === 0) freeButEmpty++;
        }
        await pause();
        if (mine.length > 0) await conn.query(`UPDATE ${jobs} SET state = 'done', done = done + 1 WHERE id IN (${mine.join(', ')})`);
        await pause();
        if (rnd() < 0.2) {
          await conn.query('ROLLBACK');
        } else {
          await conn.query('COMMIT');
          finished += mine.length;
        }
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== '40001' && code !== '40P01') throw err;
        await conn.query('ROLLBACK');
      } finally {
        for (const id of mine) held.delete(id);
      }
    }
  };
  const conns = Array.from({ length: WORKERS }, () => db.connect());
  await Promise.all(conns.map((conn, w) => worker(w, conn)));
  const r = await setup.query(`SELECT state, done, count(*) FROM ${jobs} GROUP BY state, done`);
  expect(r.rows).toEqual([['done', 1, 60n]]);
  expect(finished).toBe(JOBS);
  expect(freeButEmpty).toBe(0);
  if (c.skipLocked && c.isolation === 'READ COMMITTED') expect(freeChecked).toBeGreaterThan(5);
  db.txns.checkInvariants();
  await db.close();
}

describe('job queue: ORDER BY ... LIMIT n FOR UPDATE [SKIP LOCKED], 6 workers, 60 jobs', () => {
  const cases: Case[] = [
    { isolation: 'READ COMMITTED', skipLocked: true, keyed: true },
    { isolation: 'READ COMMITTED', skipLocked: false, keyed: true },
    { isolation: 'REPEATABLE READ', skipLocked: true, keyed: true },
    { isolation: 'REPEATABLE READ', skipLocked: false, keyed: true },
    { isolation: 'READ COMMITTED', skipLocked: true, keyed: false },
    { isolation: 'READ COMMITTED', skipLocked: false, keyed: false },
  ];
  for (const c of cases) {
    it(`${c.isolation}${c.skipLocked ? ', SKIP LOCKED' : ', waiting'}${c.keyed ? '' : ', table without a key'}`, async () => {
      await runQueue(c, 20261125);
    }, 60_000);
  }
});

describe('version chains of a table without a key', () => {
  it('keep a row lock on the row across updates, and are swept once no snapshot needs them', async () => {
    const { versionChainLinks } = await import('../src/transaction.js');
    const db = await Database.open(':memory:');
    const [a, b] = [db.connect(), db.connect()];
    await a.query('CREATE TABLE chained (k INTEGER, v INTEGER)');
    await a.query('INSERT INTO chained SELECT i, 0 FROM generate_series(1, 2000) AS g(i)');
    const id = db.committedCatalog.table('public', 'chained')!.id;
    // b's FOR KEY SHARE on row 1 lets non-key updates through and stays on the row's newest version
    await b.query('BEGIN');
    await b.query('SELECT * FROM chained WHERE k = 1 FOR KEY SHARE');
    for (let i = 0; i < 10; i++) await a.query('UPDATE chained SET v = v + 1');
    let deleted = false;
    const del = a.query('DELETE FROM chained WHERE k = 1').then(() => { deleted = true; });
    await new Promise((r) => setTimeout(r, 50));
    expect(deleted).toBe(false);
    await b.query('COMMIT');
    await del;
    expect(deleted).toBe(true);
    // while b ran, every link was kept (b could re-check any version); once it is gone, 20 more
    // updates (40000 links in all) leave only about the live versions' links after a sweep
    for (let i = 0; i < 20; i++) await a.query('UPDATE chained SET v = v + 1');
    expect(versionChainLinks(db, id)).toBeLessThan(10_000);
    expect(versionChainLinks(db, id)).toBeGreaterThanOrEqual(1999);
    expect((await a.query('SELECT count(*), min(v), max(v) FROM chained')).rows).toEqual([[1999n, 30, 30]]);
    await db.close();
  }, 120_000);
});
