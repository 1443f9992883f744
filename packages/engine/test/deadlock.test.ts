/**
 * Deadlocks through the engine: 2-, 3- and 5-party cycles of row updates resolve after
 * deadlock_timeout with exactly one victim (40P01), the first to wait (PostgreSQL: its timer runs
 * out first, so it finds the cycle), while the others proceed; and the
 * `deadlock_prevention` alternatives (no-wait, wait-die, wound-wait) behave as the lock manager
 * documents (age = transaction id: the transaction that ran its first statement first is older).
 */
import { describe, expect, it } from 'vitest';
import { Database, type Connection } from '../src/index.js';

type Outcome = { ok: true } | { ok: false; code: string };
const settle = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(() => ({ ok: true }) as Outcome, (e: { code?: string }) => ({ ok: false, code: e.code ?? 'none' }));
/** Has the promise settled within `ms`? */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void p.finally(() => { done = true; }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, ms));
  return done;
}

async function setup(n: number): Promise<{ db: Database; conns: Connection[] }> {
  const db = await Database.open(':memory:');
  const conns = Array.from({ length: n }, () => db.connect());
  await conns[0]!.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)');
  await conns[0]!.query(`INSERT INTO t VALUES ${Array.from({ length: n }, (_, i) => `(${i}, 0)`).join(', ')}`);
  return { db, conns };
}

describe('deadlock cycles', () => {
  for (const n of [2, 3, 5]) {
    it(`${n}-party cycle: exactly one victim, the others commit`, async () => {
      const { db, conns } = await setup(n);
      // as in PostgreSQL, the first waiter's deadlock_timeout check finds the cycle
      const timeout = 100;
      await conns[0]!.query(`SET deadlock_timeout = ${timeout}`);
      for (let i = 0; i < n; i++) {
        await conns[i]!.query('BEGIN');
        await conns[i]!.query(`UPDATE t SET v = v + 1 WHERE id = ${i}`);
      }
      const started = performance.now();
      // conn i now wants row i+1: every conn waits for the next one, conn 0 first
      const waits = conns.map((c, i) => settle(c.query(`UPDATE t SET v = v + 10 WHERE id = ${(i + 1) % n}`)));
      // the victim is known after deadlock_timeout; when it rolls back, the chain unwinds
      const victims: number[] = [];
      let victimAfter = Infinity;
      const finishers = waits.map(async (w, i) => {
        const o = await w;
        if (!o.ok) {
          victimAfter = performance.now() - started;
          expect(o.code).toBe('40P01');
          victims.push(i);
          await conns[i]!.query('ROLLBACK');
        } else {
          await conns[i]!.query('COMMIT');
        }
      });
      await Promise.all(finishers);
      const elapsed = performance.now() - started;
      expect(victims).toHaveLength(1);
      console.log(`${n}-party cycle: victim chosen after ${victimAfter.toFixed(1)} ms, all done in ${elapsed.toFixed(1)} ms (deadlock_timeout ${timeout} ms)`);
      expect(victims).toEqual([0]);
      expect(victimAfter).toBeGreaterThanOrEqual(timeout * 0.9);
      const rows = (await conns[0]!.query('SELECT id, v FROM t ORDER BY id')).rows;
      // each survivor i added 1 to row i and 10 to row i+1; the victim's changes are gone
      const v = victims[0]!;
      const expected = Array.from({ length: n }, (_, id) => {
        let x = 0;
        if (id !== v) x += 1;
        if ((id - 1 + n) % n !== v) x += 10;
        return [id, x];
      });
      expect(rows).toEqual(expected);
      db.txns.checkInvariants();
      await db.close();
    });
  }

  it('a cycle through SELECT ... FOR UPDATE row locks is found too', async () => {
    const { db, conns } = await setup(2);
    const [a, b] = conns as [Connection, Connection];
    await a.query('SET deadlock_timeout = 50');
    await b.query('SET deadlock_timeout = 50');
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('SELECT * FROM t WHERE id = 0 FOR UPDATE');
    await b.query('SELECT * FROM t WHERE id = 1 FOR UPDATE');
    const wa = settle(a.query('SELECT * FROM t WHERE id = 1 FOR UPDATE'));
    expect(await settledWithin(wa, 20)).toBe(false);
    const wb = settle(b.query('UPDATE t SET v = 5 WHERE id = 0'));
    // a waited first: its check finds the cycle and a is the victim; b proceeds once a rolls back
    expect(await wa).toEqual({ ok: false, code: '40P01' });
    await a.query('ROLLBACK');
    expect(await wb).toEqual({ ok: true });
    await b.query('COMMIT');
    await db.close();
  });
});

describe('deadlock_prevention', () => {
  it('no-wait: any wait fails at once with 40P01', async () => {
    const { db, conns } = await setup(2);
    const [a, b] = conns as [Connection, Connection];
    await a.query("SET deadlock_prevention = 'no-wait'");
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE t SET v = 1 WHERE id = 0');
    await expect(b.query('UPDATE t SET v = 2 WHERE id = 0')).rejects.toMatchObject({ code: '40P01' });
    await b.query('ROLLBACK');
    await a.query('COMMIT');
    await db.close();
  });

  it('wait-die: a younger requester dies, an older one waits', async () => {
    const { db, conns } = await setup(2);
    const [older, younger] = conns as [Connection, Connection];
    await older.query("SET deadlock_prevention = 'wait-die'");
    await older.query('BEGIN');
    await older.query('UPDATE t SET v = 1 WHERE id = 0'); // older gets its id first
    await younger.query('BEGIN');
    await younger.query('UPDATE t SET v = 2 WHERE id = 1');
    await expect(younger.query('UPDATE t SET v = 2 WHERE id = 0')).rejects.toMatchObject({ code: '40P01' });
    // the younger's error aborted its transaction at once (as in PostgreSQL): row 1 is free for
    // the older one before the younger's client says ROLLBACK
    expect(await settle(older.query('UPDATE t SET v = 1 WHERE id = 1'))).toEqual({ ok: true });
    await expect(younger.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await younger.query('ROLLBACK');
    await older.query('COMMIT');
    expect((await older.query('SELECT v FROM t ORDER BY id')).rows).toEqual([[1], [1]]);
    await db.close();
  });

  it('wound-wait: an older requester wounds the younger holder; a younger requester waits', async () => {
    const { db, conns } = await setup(2);
    const [older, younger] = conns as [Connection, Connection];
    await older.query("SET deadlock_prevention = 'wound-wait'");
    await older.query('BEGIN');
    await older.query('UPDATE t SET v = 1 WHERE id = 0');
    await younger.query('BEGIN');
    await younger.query('UPDATE t SET v = 2 WHERE id = 1');
    // younger waits for older
    const w = settle(younger.query('UPDATE t SET v = 2 WHERE id = 0'));
    expect(await settledWithin(w, 30)).toBe(false);
    // older needs row 1: the younger (waiting) is wounded, its wait fails with 40P01, and the
    // older proceeds once the younger rolls back
    const o = settle(older.query('UPDATE t SET v = 1 WHERE id = 1'));
    expect(await w).toEqual({ ok: false, code: '40P01' });
    await younger.query('ROLLBACK');
    expect(await o).toEqual({ ok: true });
    await older.query('COMMIT');
    expect((await older.query('SELECT v FROM t ORDER BY id')).rows).toEqual([[1], [1]]);
    await db.close();
  });

  it('wound-wait: a wounded idle transaction is rolled back at once and told so', async () => {
    const { db, conns } = await setup(2);
    const [older, younger] = conns as [Connection, Connection];
    await older.query("SET deadlock_prevention = 'wound-wait'");
    await older.query('BEGIN');
    await older.query('UPDATE t SET v = 1 WHERE id = 0');
    await younger.query('BEGIN');
    await younger.query('UPDATE t SET v = 2 WHERE id = 1');
    // the younger is idle: the older does not wait for it to come back
    await older.query('UPDATE t SET v = 1 WHERE id = 1');
    await older.query('COMMIT');
    await expect(younger.query('SELECT 1')).rejects.toMatchObject({ code: '40P01' });
    await expect(younger.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await younger.query('ROLLBACK');
    expect((await younger.query('SELECT v FROM t ORDER BY id')).rows).toEqual([[1], [1]]);
    db.txns.checkInvariants();
    await db.close();
  });
});

describe('random lock orders', () => {
  it('16 connections updating rows in random orders never hang and lose nothing', async () => {
    const rows = 8;
    const { db, conns: [setupConn] } = await setup(rows);
    const conns = Array.from({ length: 16 }, () => db.connect());
    // every deadlock costs one deadlock_timeout: keep it short under this much contention
    for (const c of conns) await c.query('SET deadlock_timeout = 1');
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const perConn = process.env.QUIVER_LONG === '1' ? 50 : 8;
    let committed = 0;
    let deadlocks = 0;
    await Promise.all(conns.map(async (c) => {
      for (let n = 0; n < perConn; n++) {
        const picks = new Set<number>();
        while (picks.size < 3) picks.add(Math.floor(random() * rows));
        for (;;) {
          try {
            await c.query('BEGIN');
            for (const id of picks) {
              await c.query(`UPDATE t SET v = v + 1 WHERE id = ${id}`);
              await new Promise((r) => setImmediate(r));
            }
            await c.query('COMMIT');
            committed++;
            break;
          } catch (e) {
            expect((e as { code?: string }).code).toBe('40P01');
            deadlocks++;
            await c.query('ROLLBACK');
            // a victim that retries at once re-forms the cycle with the same peers: back off a
            // random 0-3 ms, as clients do (without it this ran 2-12 s alone, past 60 s under load)
            await new Promise((r) => setTimeout(r, Math.floor(random() * 4)));
          }
        }
      }
    }));
    expect(committed).toBe(16 * perConn);
    const sum = (await setupConn!.query('SELECT sum(v) FROM t')).rows[0]![0];
    expect(Number(sum)).toBe(3 * committed);
    expect(deadlocks).toBeGreaterThan(0);
    console.log(`random lock orders: ${committed} committed, ${deadlocks} deadlock victims`);
    db.txns.checkInvariants();
    await db.close();
  }, 60_000);
});
