/**
 * As PostgreSQL: an error inside a transaction block aborts the transaction at once (or, inside a
 * savepoint, the work since the innermost savepoint), freeing its locks before the client's
 * ROLLBACK; `Connection.cancel()` stops the running statement with 57014 and leaves the session usable.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

const settle = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => 'done', () => 'done'), new Promise((r) => setTimeout(() => r('pending'), ms))]);

async function setup() {
  const db = await Database.open(':memory:');
  const a = db.connect(), b = db.connect();
  await a.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)');
  await a.query('INSERT INTO t VALUES (1, 0), (2, 0)');
  return { db, a, b };
}

describe('a failed transaction block frees its locks at the error', () => {
  it('row locks of a block are freed when a later statement fails, 25P02 until ROLLBACK', async () => {
    const { db, a, b } = await setup();
    await a.query('BEGIN');
    await a.query('UPDATE t SET v = 1 WHERE id = 1');
    await expect(a.query('SELECT 1 / 0')).rejects.toMatchObject({ code: '22012' });
    const other = b.query('UPDATE t SET v = 2 WHERE id = 1');
    expect(await settle(other, 2000)).toBe('done');
    await expect(a.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    expect(a.transactionStatus()).toBe('E');
    expect((await a.query('COMMIT')).command).toBe('ROLLBACK');
    expect((await a.query('SELECT v FROM t WHERE id = 1')).rows).toEqual([[2]]);
    await db.close();
  });

  it('inside a savepoint only the locks taken since it are freed', async () => {
    const { db, a, b } = await setup();
    await a.query('BEGIN');
    await a.query('UPDATE t SET v = 1 WHERE id = 1');
    await a.query('SAVEPOINT s');
    await a.query('UPDATE t SET v = 1 WHERE id = 2');
    await expect(a.query('SELECT 1 / 0')).rejects.toMatchObject({ code: '22012' });
    expect(await settle(b.query('UPDATE t SET v = 2 WHERE id = 2'), 2000)).toBe('done');
    const blocked = b.query('UPDATE t SET v = 2 WHERE id = 1');
    expect(await settle(blocked, 300)).toBe('pending');
    await a.query('ROLLBACK TO SAVEPOINT s');
    await a.query('COMMIT');
    await blocked;
    expect((await a.query('SELECT id, v FROM t ORDER BY id')).rows).toEqual([[1, 2], [2, 2]]);
    await db.close();
  });

  it('the peer of a deadlock victim proceeds before the victim rolls back', async () => {
    const { db, a, b } = await setup();
    await a.query('BEGIN'); await b.query('BEGIN');
    await a.query('UPDATE t SET v = 1 WHERE id = 1');
    await b.query('UPDATE t SET v = 2 WHERE id = 2');
    const pa = a.query('UPDATE t SET v = 1 WHERE id = 2');
    const pb = b.query('UPDATE t SET v = 2 WHERE id = 1');
    const results = await Promise.allSettled([pa, pb]);
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ code: '40P01' });
    const winner = results[0]!.status === 'fulfilled' ? a : b;
    const loser = winner === a ? b : a;
    await winner.query('COMMIT');
    await loser.query('ROLLBACK');
    await db.close();
  });

  it('cancel() stops a running statement with 57014 and the session goes on', async () => {
    const { db, a } = await setup();
    await a.query('CREATE TABLE big (x INTEGER)');
    await a.query('INSERT INTO big SELECT * FROM generate_series(1, 20000)');
    const slow = a.query('SELECT count(*) FROM big p, big q WHERE p.x + q.x = -1');
    setTimeout(() => a.cancel(), 50);
    await expect(slow).rejects.toMatchObject({ code: '57014' });
    expect((await a.query('SELECT count(*) FROM big')).rows).toEqual([[20000n]]);
    a.cancel(); // nothing running: no effect on the next statement
    expect((await a.query('SELECT 1 AS one')).rows).toEqual([[1]]);
    await db.close();
  });
});
