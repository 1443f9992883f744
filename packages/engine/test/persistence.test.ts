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

describe('index pages written ahead by large appends', () => {
  it('a key-ordered bulk load (whose appends write index leaves ahead on a file-backed database); rollback, more appends, checkpoint and reopen keep the index exact', async () => {
    const dir = tempDir();
    let db = await Database.open(dir);
    let c = db.connect();
    await c.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR, g INTEGER)');
    await c.query('CREATE INDEX t_g ON t (g)');
    const insert = async (from: number, n: number): Promise<void> => {
      const params: unknown[] = [];
      const tuples: string[] = [];
      for (let i = 0; i < n; i++) {
        tuples.push(`($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`);
        params.push(from + i, `v${from + i}`, from + i); // g ascending too: both trees append
      }
      await c.query(`INSERT INTO t VALUES ${tuples.join(', ')}`, params);
    };
    // committed appends of 2,000 rows a statement: leaves are written before any checkpoint
    await c.query('BEGIN');
    for (let from = 1; from <= 20_000; from += 2_000) await insert(from, 2_000);
    await c.query('COMMIT');
    // an append rolled back: its leaves (written ahead or not) are dropped again
    await c.query('BEGIN');
    for (let from = 20_001; from <= 30_000; from += 2_000) await insert(from, 2_000);
    await c.query('ROLLBACK');
    // then appends that reuse those keys, and one below the right edge (not an append)
    await c.query('BEGIN');
    for (let from = 20_001; from <= 26_000; from += 2_000) await insert(from, 2_000);
    await c.query("INSERT INTO t VALUES (0, 'v0', 0)");
    await c.query('COMMIT');
    const check = async (): Promise<void> => {
      expect((await c.query('SELECT count(*), min(id), max(id) FROM t')).rows).toEqual([[26_001n, 0, 26_000]]);
      for (const id of [0, 1, 777, 19_999, 20_000, 20_001, 25_999, 26_000]) {
        expect((await c.query('SELECT v FROM t WHERE id = $1', [id])).rows).toEqual([[`v${id}`]]);
        expect((await c.query('SELECT id FROM t WHERE g = $1', [id])).rows).toEqual([[id]]);
      }
      for (const id of [26_001, 29_999]) expect((await c.query('SELECT v FROM t WHERE id = $1', [id])).rows).toEqual([]);
      expect((await c.query('SELECT count(*) FROM t WHERE id BETWEEN 19990 AND 20010')).rows).toEqual([[21n]]);
      await expect(c.query("INSERT INTO t VALUES (20500, 'dup', 1)")).rejects.toMatchObject({ code: '23505' });
    };
    await check();
    await c.query('CHECKPOINT');
    await check();
    await db.close();
    db = await Database.open(dir);
    c = db.connect();
    await check();
    await db.close();
  });
});
