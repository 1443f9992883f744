/**
 * Integration with the real engine (`quiverdb`): the `pg` client and HTTP against
 * `Database.open(':memory:')`.
 *
 * The engine is imported through a non-literal specifier so that this package's typecheck does
 * not type-check the engine's sources (the server only relies on the structural contract in
 * src/contract.ts); at run time it is the real `quiverdb`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { tableFromIPC } from 'apache-arrow';
import { createServer, type QuiverServer, type ServerDatabase } from '../src/index.js';
import { RawPgClient } from './raw-pg-client.js';

interface EngineDatabase extends ServerDatabase {
  close(): Promise<void>;
}
const ENGINE: string = 'quiverdb';
let db: EngineDatabase;
let server: QuiverServer;
let pgPort: number;

beforeAll(async () => {
  const { Database } = (await import(ENGINE)) as { Database: { open(path: string): Promise<EngineDatabase> } };
  db = await Database.open(':memory:');
  server = createServer(db, { httpPort: 0, pgPort: 0 });
  pgPort = (await server.listen()).pgPort!;
});
afterAll(async () => {
  await server.close();
  await db.close();
});

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'it', database: 'quiver' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** rows as arrays of the raw text PostgreSQL would send */
const rawText = { rowMode: 'array' as const, types: { getTypeParser: () => (v: string) => v } };

describe('pgwire over the real engine', () => {
  it('creates, inserts with parameters and reads back every type in PostgreSQL text format', async () => {
    const c = await client();
    try {
      await c.query('CREATE TABLE every (i INTEGER PRIMARY KEY, b BIGINT, d DOUBLE PRECISION, t TEXT, v VARCHAR(10), ok BOOLEAN, day DATE, ts TIMESTAMP)');
      const ins = await c.query('INSERT INTO every VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [1, '9007199254740993', 0.1, "it's", 'short', true, '2024-02-29', '2024-02-29 13:45:01']);
      expect(ins.command).toBe('INSERT');
      expect(ins.rowCount).toBe(1);
      await c.query("INSERT INTO every VALUES (2, -5, 1e15, NULL, 'x', false, '1999-12-31', '2000-01-01 00:00:00.5')");
      const r = await c.query({ text: 'SELECT i, b, d, t, v, ok, day, ts FROM every ORDER BY i', ...rawText });
      expect(r.rows).toEqual([
        ['1', '9007199254740993', '0.1', "it's", 'short', 't', '2024-02-29', '2024-02-29 13:45:01'],
        ['2', '-5', '1e+15', null, 'x', 'f', '1999-12-31', '2000-01-01 00:00:00.5'],
      ]);
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([23, 20, 701, 25, 1043, 16, 1082, 1114]);
      const typed = await c.query('SELECT i, b, d, ok FROM every WHERE i = $1', [2]);
      expect(typed.rows).toEqual([{ i: 2, b: '-5', d: 1e15, ok: false }]);
    } finally {
      await c.end();
    }
  });

  it('reports SQLSTATE codes and positions', async () => {
    const c = await client();
    try {
      await expect(c.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
      await expect(c.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
      await c.query('CREATE TABLE uniq (a INTEGER PRIMARY KEY)');
      await c.query('INSERT INTO uniq VALUES (1)');
      await expect(c.query('INSERT INTO uniq VALUES ($1)', [1])).rejects.toMatchObject({ code: '23505' });
      // the position of an error in the second statement counts from the start of the whole string
      const e = await c.query('SELECT 1;  SELEC 2').catch((err: pg.DatabaseError) => err);
      expect(e).toMatchObject({ code: '42601', position: '12' });
      const e2 = await c.query('SELECT 1 +').catch((err: pg.DatabaseError) => err);
      expect(e2).toMatchObject({ code: '42601', position: '11' });
    } finally {
      await c.end();
    }
  });

  it('runs a multi-statement simple query, one result each', async () => {
    const c = await client();
    try {
      const rs = (await c.query('CREATE TABLE ms (a INTEGER); INSERT INTO ms VALUES (1), (2), (3); SELECT a FROM ms ORDER BY a DESC LIMIT 2')) as unknown as pg.QueryResult[];
      expect(rs.map((r) => r.command)).toEqual(['CREATE', 'INSERT', 'SELECT']);
      expect(rs[1]!.rowCount).toBe(3);
      expect(rs[2]!.rows).toEqual([{ a: 3 }, { a: 2 }]);
      // one implicit transaction: the INSERT before the failing statement is rolled back
      await expect(c.query('INSERT INTO ms VALUES (9); SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
      expect((await c.query('SELECT a FROM ms WHERE a = 9')).rowCount).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('isolates transactions of two clients and reports the transaction status', async () => {
    const [a, b] = await Promise.all([client(), client()]);
    const status = (c: pg.Client): string => (c as unknown as { getTransactionStatus(): string }).getTransactionStatus();
    try {
      await a.query('CREATE TABLE acct (id INTEGER PRIMARY KEY, n INTEGER)');
      await a.query('INSERT INTO acct VALUES (1, 10)');
      await a.query('BEGIN');
      expect(status(a)).toBe('T');
      await a.query('INSERT INTO acct VALUES (2, 20)');
      expect((await b.query('SELECT id FROM acct ORDER BY id')).rows).toEqual([{ id: 1 }]);
      await a.query('COMMIT');
      expect(status(a)).toBe('I');
      expect((await b.query('SELECT id FROM acct ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
      await b.query('BEGIN');
      await b.query('INSERT INTO acct VALUES (3, 30)');
      await expect(b.query('SELECT * FROM nope')).rejects.toMatchObject({ code: '42P01' });
      expect(status(b)).toBe('E');
      await expect(b.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      expect((await b.query('COMMIT')).command).toBe('ROLLBACK');
      expect(status(b)).toBe('I');
      expect((await a.query('SELECT count(*) AS n FROM acct')).rows).toEqual([{ n: '2' }]);
      const results = await Promise.all([1, 2, 3, 4].map((i) => (i % 2 ? a : b).query('SELECT n FROM acct WHERE id = $1', [i % 2 ? 1 : 2])));
      expect(results.map((r) => r.rows[0].n)).toEqual([10, 20, 10, 20]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});

describe('pgwire details over the real engine', () => {
  it('sends binary results the pg client decodes to the same values as text', async () => {
    const c = await client();
    try {
      await c.query('CREATE TABLE bin (i INTEGER, b BIGINT, d DOUBLE PRECISION, r REAL, ok BOOLEAN, t TEXT, n NUMERIC(10,2), day DATE, ts TIMESTAMP, s SMALLINT)');
      await c.query("INSERT INTO bin VALUES (-7, 9007199254740993, -0.25, 1.5, true, 'héllo', 12.5, '2024-02-29', '2024-02-29 13:45:01.25', 3), (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
      const sql = 'SELECT i, b, d, r, ok, t, n, day, ts, s FROM bin ORDER BY i';
      const asText = await c.query({ text: sql, ...rawText });
      const asBinary = await c.query({ text: sql, values: [], binary: true, rowMode: 'array' } as pg.QueryArrayConfig);
      expect(asText.rows[0]).toEqual(['-7', '9007199254740993', '-0.25', '1.5', 't', 'héllo', '12.50', '2024-02-29', '2024-02-29 13:45:01.25', '3']);
      const row = asBinary.rows[0] as unknown[];
      expect(row.slice(0, 7)).toEqual([-7, '9007199254740993', -0.25, 1.5, true, 'héllo', '12.50']);
      expect(row[9]).toBe(3);
      const day = row[7] as Date;
      expect([day.getFullYear(), day.getMonth() + 1, day.getDate()]).toEqual([2024, 2, 29]);
      expect(asBinary.rows[1]).toEqual([null, null, null, null, null, null, null, null, null, null]);
    } finally {
      await c.end();
    }
  });

  it('reuses a named prepared statement', async () => {
    const c = await client();
    try {
      await c.query('CREATE TABLE prep (a INTEGER, b TEXT)');
      for (let i = 0; i < 3; i++) await c.query({ name: 'ins', text: 'INSERT INTO prep VALUES ($1, $2)', values: [i, `v${i}`] });
      const r = await c.query({ name: 'sel', text: 'SELECT b FROM prep WHERE a >= $1 ORDER BY a', values: [1] });
      const again = await c.query({ name: 'sel', text: 'SELECT b FROM prep WHERE a >= $1 ORDER BY a', values: [2] });
      expect(r.rows).toEqual([{ b: 'v1' }, { b: 'v2' }]);
      expect(again.rows).toEqual([{ b: 'v2' }]);
    } finally {
      await c.end();
    }
  });

  it('describes a prepared statement without running it, and pages a portal', async () => {
    const setup = await client();
    await setup.query('CREATE TABLE pages (a INTEGER, b TEXT)');
    await setup.query("INSERT INTO pages VALUES (1, 'x'), (2, 'y'), (3, 'z')");
    await setup.end();
    const c = await RawPgClient.connect(pgPort);
    c.parse('s', 'SELECT a, b FROM pages WHERE a >= $1 ORDER BY a', [23]);
    c.describe('S', 's');
    c.bind('p', 's', [{ text: '1' }], []);
    c.execute('p', 2);
    c.execute('p', 2);
    c.sync();
    const msgs = await c.untilReady();
    expect(msgs.map((m) => m.type).join('')).toBe('1tT2DDsDCZ');
    expect(msgs[1]!.paramOids).toEqual([23]);
    expect(msgs[2]!.columns!.map((x) => [x.name, x.oid])).toEqual([['a', 23], ['b', 25]]);
    expect(msgs.filter((m) => m.type === 'D').map((m) => m.fields)).toEqual([['1', 'x'], ['2', 'y'], ['3', 'z']]);
    c.close();
  });

  it('describes a statement inside a transaction block without disturbing it', async () => {
    const c = await RawPgClient.connect(pgPort);
    await c.simple('CREATE TABLE dtx (a INTEGER, b TEXT)');
    await c.simple('BEGIN');
    await c.simple("INSERT INTO dtx VALUES (1, 'one')");
    c.parse('good', 'SELECT b, a FROM dtx WHERE a = $1', [23]);
    c.describe('S', 'good');
    c.parse('bad', 'SELECT nope FROM dtx', []);
    c.describe('S', 'bad');
    c.sync();
    const msgs = await c.untilReady();
    expect(msgs.map((m) => m.type).join('')).toBe('1tT1tnZ');
    expect(msgs[2]!.columns!.map((x) => [x.name, x.oid])).toEqual([['b', 25], ['a', 23]]);
    expect(c.lastStatus).toBe('T');
    const sel = await c.simple('SELECT a, b FROM dtx');
    expect(sel.filter((m) => m.type === 'D').map((m) => m.fields)).toEqual([['1', 'one']]);
    await c.simple('COMMIT');
    expect(c.lastStatus).toBe('I');
    c.close();
  });

  it('prints REAL, NUMERIC and INTERVAL as PostgreSQL does', async () => {
    const c = await client();
    try {
      const r = await c.query({ text: "SELECT 0.1::real AS r, 1e300::float8 AS f, 12.50::numeric AS n, interval '1 day' AS i", ...rawText });
      expect(r.rows).toEqual([['0.1', '1e+300', '12.50', '1 day']]);
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([700, 701, 1700, 1186]);
    } finally {
      await c.end();
    }
  });
});

describe('HTTP over the real engine', () => {
  it('answers JSON and Arrow', async () => {
    const q = (payload: unknown, headers: Record<string, string> = {}) => server.http.inject({ method: 'POST', url: '/v1/query', payload: payload as object, headers });
    expect((await q({ sql: 'CREATE TABLE h (a INTEGER, big BIGINT, s TEXT)' })).statusCode).toBe(200);
    const ins = await q({ sql: 'INSERT INTO h VALUES ($1, $2, $3), (2, 9007199254740993, NULL)', params: [1, 5, 'x'] });
    expect(ins.json()).toMatchObject({ command: 'INSERT', rowCount: 2 });
    const sel = await q({ sql: 'SELECT a, big, s FROM h ORDER BY a' });
    expect(sel.json()).toEqual({
      columns: [{ name: 'a', type: 'INTEGER' }, { name: 'big', type: 'BIGINT' }, { name: 's', type: 'TEXT' }],
      rows: [[1, 5, 'x'], [2, '9007199254740993', null]],
      rowCount: 2,
      command: 'SELECT',
    });
    const err = await q({ sql: 'SELECT * FROM nope' });
    expect(err.statusCode).toBe(400);
    expect(err.json().error.code).toBe('42P01');
    const arrow = await q({ sql: 'SELECT a FROM h ORDER BY a' }, { accept: 'application/vnd.apache.arrow.stream' });
    expect(arrow.statusCode).toBe(200);
    const t = tableFromIPC(arrow.rawPayload);
    expect(t.numRows).toBe(2);
    const metrics = await server.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^quiver_engine_\w+ \d/m);
  });
});
