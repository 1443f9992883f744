/**
 * Autocommit SELECTs run as virtual transactions (Connection #runVirtualRead): no transaction id
 * lock, no commit work — but the same semantics as any statement: the reader's ACCESS SHARE lock
 * makes it wait for (and block) ACCESS EXCLUSIVE, it sees exactly the commits before it started
 * (or, when its lock had to wait, before the lock was granted: it starts again, bound anew on the
 * committed catalog), a sequence it advances is durable, and the transaction counters count it.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../src/index.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('autocommit reads as virtual transactions', () => {
  it('wait for an ACCESS EXCLUSIVE holder; the next one sees its commit', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    await a.query('CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)');
    await a.query("INSERT INTO kv VALUES (1, 'one'), (2, 'two')");
    await a.query('BEGIN');
    await a.query('LOCK TABLE kv IN ACCESS EXCLUSIVE MODE');
    await a.query("UPDATE kv SET v = 'uno' WHERE id = 1");
    let settled = false;
    const read = b.query('SELECT v FROM kv WHERE id = $1', [1]).then((r) => { settled = true; return r; });
    for (let i = 0; i < 5; i++) await tick();
    expect(settled).toBe(false);
    await a.query('COMMIT');
    // its lock had to wait: it starts again on a new snapshot and sees the holder's commit, as in
    // PostgreSQL (which locks during parse analysis, before the executor's snapshot)
    expect((await read).rows).toEqual([['uno']]);
    expect((await b.query('SELECT v FROM kv WHERE id = $1', [1])).rows).toEqual([['uno']]);
    // later lookups of the same text hit the cached plan and still see new commits
    await a.query("UPDATE kv SET v = 'dos' WHERE id = 2");
    expect((await b.query('SELECT v FROM kv WHERE id = $1', [2])).rows).toEqual([['dos']]);
    expect((await b.query('SELECT v FROM kv WHERE id >= $1 AND id < $2', [1, 3])).rows).toEqual([['uno'], ['dos']]);
    expect(db.txns.openTransactions()).toEqual([]);
    db.txns.checkInvariants();
    await db.close();
  });

  it('that waited for DDL are bound again on the committed catalog (REPEATABLE READ default too)', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    await b.query('SET default_transaction_isolation = "repeatable read"');
    await a.query('CREATE TABLE w (id INTEGER PRIMARY KEY)');
    await a.query('INSERT INTO w VALUES (1)');
    const sql = 'SELECT * FROM w ORDER BY id';
    expect((await b.query(sql)).columns.map((c) => c.name)).toEqual(['id']); // plan cached for this text
    await a.query('BEGIN');
    await a.query("ALTER TABLE w ADD COLUMN note TEXT DEFAULT 'n'");
    await a.query('INSERT INTO w VALUES (2, $1)', ['m']);
    let settled = false;
    const read = b.query(sql).then((r) => { settled = true; return r; });
    for (let i = 0; i < 5; i++) await tick();
    expect(settled).toBe(false);
    await a.query('COMMIT');
    const r = await read;
    expect(r.columns.map((c) => c.name)).toEqual(['id', 'note']);
    expect(r.rows).toEqual([[1, 'n'], [2, 'm']]);
    await a.query('BEGIN');
    await a.query('DROP TABLE w');
    const gone = b.query(sql);
    for (let i = 0; i < 5; i++) await tick();
    await a.query('COMMIT');
    await expect(gone).rejects.toMatchObject({ code: '42P01' });
    expect(db.txns.openTransactions()).toEqual([]);
    expect(db.txns.locks.locks()).toEqual([]);
    await db.close();
  });

  it('block DROP TABLE while they run (a reader waiting on a lock holds its ACCESS SHARE)', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    const c = db.connect();
    await a.query('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    await a.query('CREATE TABLE u (id INTEGER PRIMARY KEY)');
    await a.query('INSERT INTO t VALUES (1)');
    await a.query('BEGIN');
    await a.query('LOCK TABLE u IN ACCESS EXCLUSIVE MODE');
    // b's read locks t, then waits for u
    const read = b.query('SELECT t.id FROM t, u WHERE t.id = u.id');
    for (let i = 0; i < 5; i++) await tick();
    let dropped = false;
    const drop = c.query('DROP TABLE t').then(() => { dropped = true; });
    for (let i = 0; i < 5; i++) await tick();
    const holds = db.txns.locks.locks().filter((l) => l.granted && l.mode === 'ACCESS SHARE');
    await a.query('ROLLBACK');
    expect((await read).rows).toEqual([]);
    await drop;
    expect(dropped).toBe(true);
    expect(holds.length).toBeGreaterThan(0);
    await db.close();
  });

  it('fall back to the full statement loop under statement_timeout and SERIALIZABLE, with the same answers', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)');
    await c.query("INSERT INTO kv VALUES (1, 'one')");
    const begun = db.txns.stats.begun;
    await c.query('SELECT v FROM kv WHERE id = $1', [1]);
    expect(db.txns.stats.begun).toBe(begun + 1);
    await c.query("SET statement_timeout = '5s'");
    expect((await c.query('SELECT v FROM kv WHERE id = $1', [1])).rows).toEqual([['one']]);
    await c.query('SET default_transaction_isolation = serializable');
    expect((await c.query('SELECT v FROM kv WHERE id = $1', [1])).rows).toEqual([['one']]);
    await expect(c.query('SELECT v FROM nope')).rejects.toMatchObject({ code: '42P01' });
    await c.query('RESET ALL');
    await expect(c.query('SELECT 1/0 FROM kv')).rejects.toMatchObject({ code: '22012' });
    expect((await c.query('SELECT v FROM kv WHERE id = $1', [1])).rows).toEqual([['one']]);
    expect(db.txns.openTransactions()).toEqual([]);
    expect(db.txns.locks.locks()).toEqual([]);
    await db.close();
  });

  it('write the sequence values a SELECT hands out (durable across reopen)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-vread-'));
    try {
      let db = await Database.open(dir);
      let c = db.connect();
      await c.query('CREATE SEQUENCE s');
      const got: bigint[] = [];
      for (let i = 0; i < 3; i++) got.push((await c.query("SELECT nextval('s')")).rows[0]![0] as bigint);
      await db.close();
      db = await Database.open(dir);
      c = db.connect();
      const next = (await c.query("SELECT nextval('s')")).rows[0]![0] as bigint;
      expect(next).toBeGreaterThan(got[2]!);
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
