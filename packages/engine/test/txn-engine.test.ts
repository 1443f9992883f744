/**
 * Engine-level transaction behaviour beyond the slt files (test/sql/txn): READ COMMITTED re-check
 * under concurrency, SERIALIZABLE predicate reads of scans with pushed-down key predicates, row
 * waits released by ROLLBACK TO SAVEPOINT, lock_timeout set mid-block.
 */
import { describe, expect, it } from 'vitest';
import { Database, type Connection } from '../src/index.js';
import { EngineTransaction, decodeRowKeyLock } from '../src/transaction.js';
import { EngineTable } from '../src/table/engine-table.js';

const settle = (p: Promise<unknown>) =>
  p.then(() => 'ok', (e: { code?: string }) => e.code ?? 'error');

describe('READ COMMITTED re-check', () => {
  it('16 connections incrementing one row lose no update', async () => {
    const db = await Database.open(':memory:');
    const setup = db.connect();
    await setup.query('CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)');
    await setup.query('INSERT INTO c VALUES (1, 0), (2, 0)');
    const conns = Array.from({ length: 16 }, () => db.connect());
    const rounds = 5;
    await Promise.all(conns.map(async (conn) => {
      for (let i = 0; i < rounds; i++) {
        await conn.query('BEGIN');
        await conn.query('UPDATE c SET n = n + 1 WHERE id = 1');
        await new Promise((r) => setImmediate(r));
        await conn.query('UPDATE c SET n = n + 1 WHERE id = 2');
        await conn.query('COMMIT');
      }
    }));
    expect((await setup.query('SELECT n FROM c ORDER BY id')).rows).toEqual([[16 * rounds], [16 * rounds]]);
    db.txns.checkInvariants();
    await db.close();
  });

  it('a re-checked UPDATE changes only rows that matched in its first snapshot', async () => {
    const db = await Database.open(':memory:');
    const [a, b] = [db.connect(), db.connect()];
    await a.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)');
    await a.query('INSERT INTO t VALUES (1, 1), (2, 2), (3, 3)');
    await a.query('BEGIN');
    await a.query('UPDATE t SET v = v + 1'); // 2, 3, 4
    const upd = b.query('UPDATE t SET v = v * 10 WHERE v >= 2'); // snapshot: rows 2, 3 match
    await new Promise((r) => setTimeout(r, 20));
    await a.query('COMMIT');
    await upd;
    // rows 2 and 3 re-checked on their new versions (3, 4 still match); row 1 (now 2) left alone
    expect((await a.query('SELECT id, v FROM t ORDER BY id')).rows).toEqual([[1, 2], [2, 30], [3, 40]]);
    await db.close();
  });
});

describe('SERIALIZABLE predicate reads of key-bounded scans', () => {
  async function twoAccounts(): Promise<{ db: Database; a: Connection; b: Connection }> {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    await a.query('CREATE TABLE acc (id INTEGER PRIMARY KEY, bal INTEGER)');
    await a.query('INSERT INTO acc VALUES (1, 10), (2, 10), (3, 10), (4, 10)');
    return { db, a, b };
  }

  it('transactions on disjoint keys do not conflict', async () => {
    const { db, a, b } = await twoAccounts();
    for (let i = 0; i < 3; i++) {
      await a.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      await b.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      await a.query('SELECT bal FROM acc WHERE id = 1');
      await b.query('SELECT bal FROM acc WHERE id = 3');
      await a.query('SELECT bal FROM acc WHERE id = 2');
      await b.query('SELECT bal FROM acc WHERE id = 4');
      await a.query('INSERT INTO acc VALUES ($1, 0)', [10 + i]);
      await b.query('INSERT INTO acc VALUES ($1, 0)', [20 + i]);
      expect(await settle(a.query('COMMIT'))).toBe('ok');
      expect(await settle(b.query('COMMIT'))).toBe('ok');
    }
    await db.close();
  });

  it('an insert into a key range another transaction read is a conflict (write skew on a range)', async () => {
    const { db, a, b } = await twoAccounts();
    await a.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    await b.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    expect((await a.query('SELECT count(*) FROM acc WHERE id > 100')).rows).toEqual([[0n]]);
    expect((await b.query('SELECT count(*) FROM acc WHERE id > 200')).rows).toEqual([[0n]]);
    await a.query('INSERT INTO acc VALUES (201, 1)'); // into b's range
    await b.query('INSERT INTO acc VALUES (101, 1)'); // into a's range
    const outcomes = [await settle(a.query('COMMIT')), await settle(b.query('COMMIT'))];
    expect(outcomes).toEqual(['ok', '40001']);
    await db.close();
  });
});

describe('row waits and savepoints', () => {
  it('a writer waiting for a row is released when the holder rolls back to a savepoint', async () => {
    const db = await Database.open(':memory:');
    const [a, b] = [db.connect(), db.connect()];
    await a.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)');
    await a.query('INSERT INTO t VALUES (1, 0)');
    await a.query('BEGIN');
    await a.query('SAVEPOINT s');
    await a.query('UPDATE t SET v = 1 WHERE id = 1');
    let done = false;
    const w = b.query('UPDATE t SET v = 2 WHERE id = 1').then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    await a.query('ROLLBACK TO SAVEPOINT s');
    await w;
    // b's autocommit update went through; a's next update works on b's committed version
    await a.query('UPDATE t SET v = v + 10 WHERE id = 1');
    await a.query('COMMIT');
    expect((await a.query('SELECT v FROM t')).rows).toEqual([[12]]);
    await db.close();
  });

  it('lock_timeout set inside a block applies to the next wait', async () => {
    const db = await Database.open(':memory:');
    const [a, b] = [db.connect(), db.connect()];
    await a.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)');
    await a.query('INSERT INTO t VALUES (1, 0)');
    await a.query('BEGIN');
    await a.query('UPDATE t SET v = 1 WHERE id = 1');
    await b.query('BEGIN');
    await b.query('SET lock_timeout = 30');
    const t0 = performance.now();
    await expect(b.query('UPDATE t SET v = 2 WHERE id = 1')).rejects.toMatchObject({ code: '55P03' });
    expect(performance.now() - t0).toBeLessThan(1000);
    await b.query('ROLLBACK');
    await a.query('COMMIT');
    db.txns.checkInvariants();
    await db.close();
  });
});

describe('row locks in the lock view', () => {
  it('SELECT ... FOR KEY SHARE holds a key lock that decodes to its table, key and row mode', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    await a.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)');
    await a.query('INSERT INTO t VALUES (7, 0)');
    await a.query('BEGIN');
    await a.query('SELECT * FROM t WHERE id = 7 FOR KEY SHARE');
    const rows = db.txns.locks.locks()
      .map((l) => (l.target.kind === 'object' ? decodeRowKeyLock(l.target.name, l.mode) : undefined))
      .filter((r) => r !== undefined);
    expect(rows).toEqual([{ table: expect.any(Number), key: '7', mode: 'FOR KEY SHARE' }]);
    await a.query('COMMIT');
    expect(db.txns.locks.locks().filter((l) => l.target.kind === 'object')).toEqual([]);
    await db.close();
  });
});

describe('EngineTable.lockRowsFor (foreign key checks)', () => {
  it('FOR KEY SHARE on a parent row makes a concurrent DELETE of it wait', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    await a.query('CREATE TABLE parent (id INTEGER PRIMARY KEY)');
    await a.query('INSERT INTO parent VALUES (1), (2)');
    const meta = db.committedCatalog.table('public', 'parent')!;
    const t = new EngineTransaction(db, { explicit: true, isolation: 'read committed', readOnly: false, lockTimeoutMs: () => 0 });
    t.statementStart(db);
    const ids: number[] = [];
    for await (const b of db.store.scan(meta.id, t.snapshot, { columns: [0], predicates: [], withRowIds: true })) {
      for (let i = 0; i < b.batch.length; i++) if ((b.batch.columns[0]!.data as ArrayLike<number>)[i] === 1) ids.push(b.rowIds![i]!);
    }
    const table = new EngineTable(db, t, meta, db.committedCatalog.indexesOf(meta.id));
    expect(Array.from(await table.lockRowsFor(Float64Array.from(ids), 'FOR KEY SHARE'))).toEqual(ids);
    let done = false;
    const del = a.query('DELETE FROM parent WHERE id = 1').then(() => { done = true; });
    const other = db.connect();
    await other.query('DELETE FROM parent WHERE id = 2'); // another row: not blocked
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    t.rollback(db);
    await del;
    expect((await other.query('SELECT count(*) FROM parent')).rows).toEqual([[0n]]);
    await db.close();
  });
});
