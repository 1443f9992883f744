import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../src/index.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'quiver-engine-'));
  dirs.push(d);
  return d;
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('persistence', () => {
  it('reopens committed rows from the WAL, and after a checkpoint from Parquet', async () => {
    const dir = tempDir();
    let db = await Database.open(dir);
    let c = db.connect();
    await c.query('CREATE TABLE t (a INTEGER PRIMARY KEY, b VARCHAR(10), d DATE, ts TIMESTAMP, f BOOLEAN, n BIGINT)');
    await c.query("INSERT INTO t VALUES (1, 'x', '2024-01-02', '2024-01-02 03:04:05', true, 9007199254740993)");
    await c.query("INSERT INTO t VALUES (2, NULL, NULL, NULL, NULL, NULL)");
    await db.close();

    db = await Database.open(dir);
    c = db.connect();
    let r = await c.query('SELECT * FROM t ORDER BY a');
    expect(r.rows).toEqual([
      [1, 'x', '2024-01-02', '2024-01-02 03:04:05', true, 9007199254740993n],
      [2, null, null, null, null, null],
    ]);
    await c.query('CHECKPOINT');
    await c.query('DELETE FROM t WHERE a = 1');
    await c.query("UPDATE t SET b = 'y' WHERE a = 2");
    await db.close();

    db = await Database.open(dir);
    c = db.connect();
    r = await c.query('SELECT a, b FROM t ORDER BY a');
    expect(r.rows).toEqual([[2, 'y']]);
    await expect(c.query("INSERT INTO t (a) VALUES (2)")).rejects.toMatchObject({ code: '23505' });
    await db.close();
  });

  it('rolls back uncommitted work and DDL', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    await a.query('CREATE TABLE acc (id INTEGER PRIMARY KEY, bal INTEGER)');
    await a.query('INSERT INTO acc VALUES (1, 100), (2, 100)');
    await a.query('BEGIN');
    await a.query('UPDATE acc SET bal = bal - 10 WHERE id = 1');
    expect((await b.query('SELECT bal FROM acc WHERE id = 1')).rows).toEqual([[100]]);
    expect((await a.query('SELECT bal FROM acc WHERE id = 1')).rows).toEqual([[90]]);
    await a.query('ROLLBACK');
    expect((await b.query('SELECT bal FROM acc WHERE id = 1')).rows).toEqual([[100]]);

    await a.query('BEGIN');
    await a.query('CREATE TABLE tmp (x INTEGER)');
    await expect(b.query('SELECT * FROM tmp')).rejects.toMatchObject({ code: '42P01' });
    await a.query('ROLLBACK');
    await expect(a.query('SELECT * FROM tmp')).rejects.toMatchObject({ code: '42P01' });

    await a.query('BEGIN');
    await expect(a.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    await expect(a.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    expect(a.transactionStatus()).toBe('E');
    const r = await a.query('COMMIT');
    expect(r.command).toBe('ROLLBACK');
    expect(a.transactionStatus()).toBe('I');
    await db.close();
  });

  it('makes a writer wait for a concurrent writer of the same row', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    await a.query('CREATE TABLE acc (id INTEGER PRIMARY KEY, bal INTEGER)');
    await a.query('INSERT INTO acc VALUES (1, 100)');
    await a.query('BEGIN');
    await a.query('UPDATE acc SET bal = bal + 1 WHERE id = 1');
    let done = false;
    const pb = b.query('UPDATE acc SET bal = bal + 1 WHERE id = 1').then((r) => { done = true; return r; });
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    await a.query('COMMIT');
    const rb = await pb;
    expect(rb.rowCount).toBe(1);
    expect((await a.query('SELECT bal FROM acc')).rows).toEqual([[102]]);

    // REPEATABLE READ: first updater wins, the second gets 40001
    await a.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await b.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await a.query('SELECT * FROM acc');
    await b.query('SELECT * FROM acc');
    await a.query('UPDATE acc SET bal = 0 WHERE id = 1');
    const pb2 = b.query('UPDATE acc SET bal = 1 WHERE id = 1');
    await a.query('COMMIT');
    await expect(pb2).rejects.toMatchObject({ code: '40001' });
    await b.query('ROLLBACK');
    await db.close();
  });
});
