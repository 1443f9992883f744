/**
 * The synchronous point lookup (query exec/point-lookup.ts, EngineTable.lookupKey, Connection
 * #pointRead): `SELECT ... WHERE <whole key> = $1` answered in one step. It must give exactly the
 * rows the general operators give — the snapshot's versions under concurrent updates, deletes,
 * uncommitted writes, checkpoints (rows moving from the delta into segments) and DDL — and keep
 * every statement semantic: the ACCESS SHARE lock (a lookup waits for ACCESS EXCLUSIVE and sees
 * what its holder committed), REPEATABLE READ snapshots, statement_timeout, pg_stat_statements,
 * errors. The oracle is the same query with the index rule disabled (a full scan) and a model.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@quiverdb/common';
import { Database } from '../src/index.js';
import { EngineTable } from '../src/table/engine-table.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Counts lookupKey answers (fast path taken) and refusals (general path). */
function spyLookups(): { answered: () => number; refused: () => number } {
  const real = EngineTable.prototype.lookupKey;
  let answered = 0, refused = 0;
  vi.spyOn(EngineTable.prototype, 'lookupKey').mockImplementation(function (this: EngineTable, ...args: Parameters<EngineTable['lookupKey']>) {
    const r = real.apply(this, args);
    if (r === undefined) refused++; else answered++;
    return r;
  });
  return { answered: () => answered, refused: () => refused };
}

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('synchronous point lookups', () => {
  it('agree with a full scan and a model under concurrent writes, uncommitted rows and checkpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qv-point-'));
    dirs.push(dir);
    const db = await Database.open(join(dir, 'db'));
    const reader = db.connect();
    const writer = db.connect();
    const open = db.connect(); // keeps an uncommitted transaction going
    const scan = db.connect();
    await scan.query('SET disable_rule_index_scan = on');
    await writer.query('CREATE TABLE kv (id INTEGER PRIMARY KEY, k VARCHAR, v DOUBLE PRECISION, f BOOLEAN, r REAL)');
    const spy = spyLookups();
    const rnd = seededRandom(6);
    const model = new Map<number, [string, number, boolean | null, number]>();
    const N = 300;
    let uncommitted: number | undefined;
    const sql = 'SELECT k, v, f, r FROM kv WHERE id = $1';
    for (let step = 0; step < 500; step++) {
      const id = 1 + Math.floor(rnd() * N);
      const op = rnd();
      if (op < 0.38 && id === uncommitted) continue; // a writer of that key would wait for `open`
      if (op < 0.3) {
        const row: [string, number, boolean | null, number] = [`k${id}-${step}`, Math.round(rnd() * 1e6) / 100, rnd() < 0.2 ? null : rnd() < 0.5, Math.fround(rnd())];
        if (model.has(id)) await writer.query('UPDATE kv SET k = $2, v = $3, f = $4, r = $5 WHERE id = $1', [id, ...row]);
        else await writer.query('INSERT INTO kv VALUES ($1, $2, $3, $4, $5)', [id, ...row]);
        model.set(id, row);
      } else if (op < 0.38) {
        await writer.query('DELETE FROM kv WHERE id = $1', [id]);
        model.delete(id);
      } else if (op < 0.39) {
        await writer.query('CHECKPOINT');
      } else if (op < 0.42 && uncommitted === undefined && !model.has(id)) {
        // an uncommitted insert (and update of another row) nobody else may see
        await open.query('BEGIN');
        await open.query("INSERT INTO kv VALUES ($1, 'ghost', 0, true, 0)", [id]);
        uncommitted = id;
      } else if (op < 0.45 && uncommitted !== undefined) {
        await open.query('ROLLBACK');
        uncommitted = undefined;
      } else {
        const got = (await reader.query(sql, [id])).rows;
        const m = model.get(id);
        expect(got).toEqual(m ? [m] : []);
        expect(got).toEqual((await scan.query(sql, [id])).rows);
      }
    }
    if (uncommitted !== undefined) await open.query('ROLLBACK');
    expect(spy.answered()).toBeGreaterThan(150); // the fast path did the lookups
    // composite keys, text keys, keys with no row, NULL and lossy key values
    await writer.query('CREATE TABLE c (a INTEGER, b VARCHAR, n NUMERIC(10, 2), PRIMARY KEY (a, b))');
    await writer.query("INSERT INTO c VALUES (1, 'x', 1.50), (1, 'y', NULL), (2, 'x', 3.25)");
    for (const params of [[1, 'x'], [1, 'y'], [2, 'x'], [2, 'y'], [null, 'x'], [1.5, 'x'], ['1', 'y']]) {
      const q = 'SELECT n, a, b FROM c WHERE a = $1 AND b = $2';
      const got = (await reader.query(q, params)).rows;
      expect(got).toEqual((await scan.query(q, params)).rows);
    }
    expect((await reader.query('SELECT n FROM c WHERE a = $1 AND b = $2', [1, 'x'])).rows).toEqual([[(await scan.query('SELECT n FROM c WHERE a = 1 AND b = $1', ['x'])).rows[0]![0]]]);
    expect(db.txns.openTransactions()).toEqual([]);
    expect(db.txns.locks.locks()).toEqual([]);
    db.txns.checkInvariants();
    await db.close();
  }, 180_000);

  it('see their own snapshot: REPEATABLE READ keeps it, a block sees its own writes', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    await a.query('CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)');
    await a.query("INSERT INTO kv VALUES (1, 'one')");
    const spy = spyLookups();
    const sql = 'SELECT v FROM kv WHERE id = $1';
    await b.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    expect((await b.query(sql, [1])).rows).toEqual([['one']]);
    await a.query("UPDATE kv SET v = 'uno' WHERE id = 1");
    await a.query("INSERT INTO kv VALUES (2, 'two')");
    expect((await b.query(sql, [1])).rows).toEqual([['one']]);
    expect((await b.query(sql, [2])).rows).toEqual([]);
    await b.query("INSERT INTO kv VALUES (3, 'mine')");
    expect((await b.query(sql, [3])).rows).toEqual([['mine']]);
    expect((await a.query(sql, [3])).rows).toEqual([]);
    await b.query('COMMIT');
    expect((await b.query(sql, [1])).rows).toEqual([['uno']]);
    expect((await b.query(sql, [3])).rows).toEqual([['mine']]);
    expect(spy.answered()).toBeGreaterThanOrEqual(7);
    await db.close();
  });

  it('wait for ACCESS EXCLUSIVE (general path), then see the DDL holder committed; plans follow DDL', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    await a.query('CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)');
    await a.query("INSERT INTO kv VALUES (1, 'one'), (2, 'two')");
    const sql = 'SELECT * FROM kv WHERE id = $1';
    expect((await b.query(sql, [1])).rows).toEqual([[1, 'one']]);
    const spy = spyLookups();
    await a.query('BEGIN');
    await a.query("ALTER TABLE kv ADD COLUMN w TEXT DEFAULT 'd'");
    await a.query("UPDATE kv SET v = 'uno' WHERE id = 1");
    let settled = false;
    const read = b.query(sql, [1]).then((r) => { settled = true; return r; });
    for (let i = 0; i < 5; i++) await tick();
    expect(settled).toBe(false); // the fast path refused (its lock would wait): the reader waits
    expect(spy.refused()).toBeGreaterThanOrEqual(1);
    expect(db.txns.locks.locks().some((l) => l.mode === 'ACCESS SHARE' && l.granted === false)).toBe(true);
    await a.query('COMMIT');
    const r = await read;
    expect(r.columns.map((c) => c.name)).toEqual(['id', 'v', 'w']);
    expect(r.rows).toEqual([[1, 'uno', 'd']]);
    // the cached plan was replaced with the new catalog: later lookups see the column (the added
    // column is computed on read for the old rows: the fast path hands those to the general one)
    const before = spy.answered() + spy.refused();
    expect((await b.query(sql, [2])).rows).toEqual([[2, 'two', 'd']]);
    expect(spy.answered() + spy.refused()).toBe(before + 1);
    await a.query("INSERT INTO kv VALUES (3, 'three', 'e')");
    expect((await b.query(sql, [3])).rows).toEqual([[3, 'three', 'e']]);
    // FIFO: a lookup queues behind a waiting ACCESS EXCLUSIVE request (as PostgreSQL's would)
    const c = db.connect();
    await c.query('BEGIN');
    expect((await c.query(sql, [2])).rows).toEqual([[2, 'two', 'd']]); // holds ACCESS SHARE
    const truncate = a.query('TRUNCATE kv');
    let done = false;
    const queued = b.query(sql, [2]).then((r) => { done = true; return r; });
    for (let i = 0; i < 5; i++) await tick();
    expect(done).toBe(false);
    await c.query('COMMIT');
    await truncate;
    expect((await queued).rows).toEqual([]); // restarted after its wait: sees the TRUNCATE
    await a.query("INSERT INTO kv VALUES (2, 'two', 'd')");
    // DROP of the table: the lookup fails as the general path does
    await a.query('DROP TABLE kv');
    await expect(b.query(sql, [1])).rejects.toMatchObject({ code: '42P01' });
    expect(db.txns.openTransactions()).toEqual([]);
    expect(db.txns.locks.locks()).toEqual([]);
    await db.close();
  });

  it('keep statement_timeout, pg_stat_statements and error codes', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    await a.query('CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)');
    await a.query("INSERT INTO kv VALUES (1, 'one')");
    const spy = spyLookups();
    const sql = 'SELECT v FROM kv WHERE id = $1';
    for (let i = 0; i < 3; i++) expect((await a.query(sql, [1])).rows).toEqual([['one']]);
    await a.query("SET statement_timeout = '5s'");
    expect((await a.query(sql, [1])).rows).toEqual([['one']]);
    await a.query('RESET statement_timeout');
    expect(spy.answered()).toBe(4);
    const stats = await a.query("SELECT calls, rows FROM pg_stat_statements WHERE query = 'SELECT v FROM kv WHERE id = $1'");
    expect(stats.rows).toEqual([[4n, 4n]]);
    const scan = db.connect();
    await scan.query('SET disable_rule_index_scan = on');
    for (const params of [[], ['x'], [2 ** 40]]) {
      const fast = await a.query(sql, params).then(() => 'ok', (e: { code?: string }) => e.code);
      const slow = await scan.query(sql, params).then(() => 'ok', (e: { code?: string }) => e.code);
      expect(fast).toBe(slow);
    }
    // a failed fast lookup leaves no transaction or lock behind
    expect(db.txns.openTransactions()).toEqual([]);
    expect(db.txns.locks.locks()).toEqual([]);
    await db.close();
  });
});
