/**
 * Isolation and pgwire behaviour through the BUILT `quiver-server`, as several `pg` clients see
 * it: the classic anomalies answered with PostgreSQL's SQLSTATEs in the ErrorResponse, lock
 * waits that do not stall other clients, deadlocks, SKIP LOCKED queues, lock_timeout, 25P02 and
 * the ReadyForQuery transaction status, CancelRequest, a dropped idle-in-transaction client,
 * prepared statements, error fields, SSL refusal, and HTTP sessions vs sessionless requests.
 *
 * Invariants: every scenario uses its own tables, so the tests are independent of their order.
 * Concurrency: clients are `pg` Clients in this process; a statement that must block is started
 * without awaiting it, and the test proves it is still pending while other clients get answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { pg, postQuery, ServerProcess, type PgClient } from './helpers.js';

interface PgError extends Error {
  code?: string;
  severity?: string;
  position?: string;
  detail?: string;
  hint?: string;
}
interface FullClient extends PgClient {
  query(q: string | { name?: string; text: string; values?: unknown[] }, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null; command: string }>;
  processID: number;
  secretKey: number;
  connection: { on(ev: 'readyForQuery', cb: (m: { status: string }) => void): void; stream: net.Socket };
}

let server: ServerProcess;
let httpPort = 0;
let pgPort = 0;
const clients: FullClient[] = [];

beforeAll(async () => {
  server = ServerProcess.start(['--data', ':memory:', '--http-port', '0', '--pg-port', '0']);
  ({ httpPort, pgPort } = await server.ready());
}, 30_000);
afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  server.kill('SIGKILL');
});

async function client(): Promise<FullClient> {
  const c = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'iso' }) as unknown as FullClient;
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

/** the SQLSTATE a promise fails with, or 'ok' */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as PgError).code ?? `no code: ${String(err)}`;
  }
}

/** true if `p` has not settled after `ms` */
async function pending(p: Promise<unknown>, ms = 150): Promise<boolean> {
  const marker = Symbol('pending');
  const r = await Promise.race([p.then(() => 'settled', () => 'settled'), new Promise((res) => setTimeout(() => res(marker), ms))]);
  return r === marker;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('isolation through pgwire', () => {
  it('lost update at REPEATABLE READ: the second updater gets 40001 once the first commits', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('CREATE TABLE lu (id INTEGER PRIMARY KEY, n INTEGER)');
    await a.query('INSERT INTO lu VALUES (1, 10)');
    await a.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await b.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    expect((await a.query('SELECT n FROM lu WHERE id = 1')).rows).toEqual([{ n: 10 }]);
    expect((await b.query('SELECT n FROM lu WHERE id = 1')).rows).toEqual([{ n: 10 }]);
    await a.query('UPDATE lu SET n = n + 1 WHERE id = 1');
    const bUpdate = outcome(b.query('UPDATE lu SET n = n + 1 WHERE id = 1'));
    expect(await pending(bUpdate)).toBe(true);
    await a.query('COMMIT');
    expect(await bUpdate).toBe('40001');
    await b.query('ROLLBACK');
    expect((await b.query('SELECT n FROM lu')).rows).toEqual([{ n: 11 }]);
  });

  it('write skew at SERIALIZABLE: one of the two transactions fails with 40001', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('CREATE TABLE doctors (name TEXT PRIMARY KEY, on_call BOOLEAN)');
    await a.query("INSERT INTO doctors VALUES ('alice', true), ('bob', true)");
    await a.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    await b.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    expect((await a.query('SELECT count(*)::INTEGER AS n FROM doctors WHERE on_call')).rows).toEqual([{ n: 2 }]);
    expect((await b.query('SELECT count(*)::INTEGER AS n FROM doctors WHERE on_call')).rows).toEqual([{ n: 2 }]);
    const commit = (c: FullClient): Promise<unknown> => c.query('COMMIT').then((r) => {
      if (r.command !== 'COMMIT') throw Object.assign(new Error('COMMIT answered ROLLBACK'), { code: 'rolled back' });
    });
    const aOut = [await outcome(a.query("UPDATE doctors SET on_call = false WHERE name = 'alice'"))];
    const bOut = [await outcome(b.query("UPDATE doctors SET on_call = false WHERE name = 'bob'"))];
    aOut.push(await outcome(commit(a)));
    bOut.push(await outcome(commit(b)));
    // exactly one transaction fails, and its first failure is 40001
    const failed = [aOut, bOut].filter((o) => o.some((x) => x !== 'ok'));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.find((x) => x !== 'ok')).toBe('40001');
    await a.query('ROLLBACK').catch(() => undefined);
    await b.query('ROLLBACK').catch(() => undefined);
    expect((await a.query('SELECT count(*)::INTEGER AS n FROM doctors WHERE on_call')).rows).toEqual([{ n: 1 }]);
  });

  it('a blocked UPDATE waits while other pg and HTTP clients keep being served', async () => {
    const [a, b, c] = [await client(), await client(), await client()];
    await a.query('CREATE TABLE bw (id INTEGER PRIMARY KEY, n INTEGER)');
    await a.query('INSERT INTO bw VALUES (1, 0), (2, 0)');
    await a.query('BEGIN');
    await a.query('UPDATE bw SET n = 1 WHERE id = 1');
    const blocked = b.query('UPDATE bw SET n = n + 10 WHERE id = 1');
    expect(await pending(blocked)).toBe(true);
    for (let i = 0; i < 20; i++) expect((await c.query('SELECT $1::INTEGER AS i', [i])).rows).toEqual([{ i }]);
    expect((await c.query('UPDATE bw SET n = 5 WHERE id = 2')).rowCount).toBe(1);
    expect((await postQuery(httpPort, 'SELECT n FROM bw WHERE id = 2')).body.rows).toEqual([[5]]);
    expect((await fetch(`http://127.0.0.1:${httpPort}/health`)).status).toBe(200);
    expect(await pending(blocked, 10)).toBe(true);
    await a.query('COMMIT');
    expect((await blocked).rowCount).toBe(1);
    expect((await c.query('SELECT n FROM bw WHERE id = 1')).rows).toEqual([{ n: 11 }]);
  });

  it('a deadlock between two clients: exactly one gets 40P01, the other proceeds', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('CREATE TABLE dl (id INTEGER PRIMARY KEY, n INTEGER)');
    await a.query('INSERT INTO dl VALUES (1, 0), (2, 0)');
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE dl SET n = 1 WHERE id = 1');
    await b.query('UPDATE dl SET n = 2 WHERE id = 2');
    const aWait = outcome(a.query('UPDATE dl SET n = 1 WHERE id = 2'));
    expect(await pending(aWait, 50)).toBe(true);
    const bWait = outcome(b.query('UPDATE dl SET n = 2 WHERE id = 1'));
    // as in PostgreSQL, the first to wait finds the cycle when its deadlock_timeout (1 s) runs out
    // and is the victim; it rolls back, the other proceeds
    expect(await aWait).toBe('40P01');
    await a.query('ROLLBACK');
    expect(await bWait).toBe('ok');
    await b.query('COMMIT');
    const winner = 2;
    expect((await a.query('SELECT n FROM dl ORDER BY id')).rows).toEqual([{ n: winner }, { n: winner }]);
  });

  // PostgreSQL releases the locks of a transaction block when an error aborts it (the block then
  // waits for ROLLBACK holding nothing), so the deadlock winner does not wait for the victim's client.
  it('a deadlock victim holds no locks once it got 40P01 (before its ROLLBACK)', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('CREATE TABLE dl2 (id INTEGER PRIMARY KEY, n INTEGER)');
    await a.query('INSERT INTO dl2 VALUES (1, 0), (2, 0)');
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE dl2 SET n = 1 WHERE id = 1');
    await b.query('UPDATE dl2 SET n = 2 WHERE id = 2');
    const aWait = outcome(a.query('UPDATE dl2 SET n = 1 WHERE id = 2'));
    expect(await pending(aWait, 50)).toBe(true);
    const bWait = outcome(b.query('UPDATE dl2 SET n = 2 WHERE id = 1'));
    try {
      expect(await aWait).toBe('40P01');
      expect(await pending(bWait, 1000)).toBe(false);
    } finally {
      await a.query('ROLLBACK');
      await bWait;
      await b.query('ROLLBACK');
    }
  });

  it('SELECT ... FOR UPDATE SKIP LOCKED: 4 clients drain a job queue, each job taken exactly once', async () => {
    const setup = await client();
    await setup.query('CREATE TABLE jobs (id INTEGER PRIMARY KEY, done_by INTEGER)');
    const n = 40;
    await setup.query(`INSERT INTO jobs SELECT i, NULL FROM generate_series(1, ${n}) AS s(i)`);
    const taken: number[][] = [];
    const workers = await Promise.all([1, 2, 3, 4].map(() => client()));
    await Promise.all(workers.map(async (w, wi) => {
      const mine: number[] = [];
      taken.push(mine);
      for (;;) {
        await w.query('BEGIN');
        const r = await w.query('SELECT id FROM jobs WHERE done_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED');
        if (r.rows.length === 0) {
          await w.query('COMMIT');
          return;
        }
        const id = r.rows[0]!['id'] as number;
        await sleep(5); // hold the row lock while the others look for work
        await w.query('UPDATE jobs SET done_by = $1 WHERE id = $2', [wi, id]);
        await w.query('COMMIT');
        mine.push(id);
      }
    }));
    const all = taken.flat().sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(taken.filter((t) => t.length > 0).length).toBeGreaterThan(1); // the work was shared
    expect((await setup.query('SELECT count(*)::INTEGER AS n FROM jobs WHERE done_by IS NULL')).rows).toEqual([{ n: 0 }]);
  });

  it('lock_timeout fails a lock wait with 55P03', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('CREATE TABLE lt (id INTEGER PRIMARY KEY, n INTEGER)');
    await a.query('INSERT INTO lt VALUES (1, 0)');
    await a.query('BEGIN');
    await a.query('SELECT * FROM lt WHERE id = 1 FOR UPDATE');
    await b.query("SET lock_timeout = '100ms'");
    expect((await b.query('SHOW lock_timeout')).rows).toHaveLength(1);
    expect(await outcome(b.query('UPDATE lt SET n = 1 WHERE id = 1'))).toBe('55P03');
    await a.query('ROLLBACK');
    expect((await b.query('UPDATE lt SET n = 1 WHERE id = 1')).rowCount).toBe(1);
  });

  it('after an error in a transaction: 25P02 until ROLLBACK, and ReadyForQuery says I / T / E', async () => {
    const a = await client();
    const statuses: string[] = [];
    a.connection.on('readyForQuery', (m) => statuses.push(m.status));
    await a.query('SELECT 1');
    await a.query('BEGIN');
    await a.query('SELECT 1');
    expect(await outcome(a.query('SELECT 1 / 0'))).toBe('22012');
    expect(await outcome(a.query('SELECT 1'))).toBe('25P02');
    expect(await outcome(a.query('SELECT $1::INTEGER', [1]))).toBe('25P02'); // extended protocol too
    expect((await a.query('COMMIT')).command).toBe('ROLLBACK'); // COMMIT of a failed block rolls back
    await a.query('SELECT 1');
    expect(statuses).toEqual(['I', 'T', 'T', 'E', 'E', 'E', 'I', 'I']);
  });
});

describe('pgwire details a client expects', () => {
  // The server forwards a CancelRequest to the engine Connection's `cancel()`.
  it('CancelRequest cancels a waiting statement with 57014 and the session stays usable', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('CREATE TABLE cx (id INTEGER PRIMARY KEY, n INTEGER)');
    await a.query('INSERT INTO cx VALUES (1, 0)');
    await a.query('BEGIN');
    await a.query('UPDATE cx SET n = 1 WHERE id = 1');
    const waiting = outcome(b.query('UPDATE cx SET n = 2 WHERE id = 1'));
    expect(await pending(waiting)).toBe(true);
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(pgPort, '127.0.0.1', () => {
        const m = Buffer.alloc(16);
        m.writeInt32BE(16, 0);
        m.writeInt32BE(80877102, 4);
        m.writeInt32BE(b.processID, 8);
        m.writeInt32BE(b.secretKey, 12);
        s.end(m);
      });
      s.on('error', reject);
      s.on('close', () => resolve());
    });
    try {
      expect(await pending(waiting, 1000)).toBe(false);
      expect(await waiting).toBe('57014');
      expect((await b.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    } finally {
      await a.query('ROLLBACK');
      await waiting;
    }
  });

  it('a client that disconnects while idle in transaction: rolled back, its locks released', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('CREATE TABLE idle (id INTEGER PRIMARY KEY, n INTEGER)');
    await a.query('INSERT INTO idle VALUES (1, 0)');
    await a.query('BEGIN');
    await a.query('UPDATE idle SET n = 99 WHERE id = 1');
    const waiting = b.query('UPDATE idle SET n = n + 1 WHERE id = 1');
    expect(await pending(waiting)).toBe(true);
    a.connection.stream.destroy(); // no Terminate: the socket just goes away
    expect((await waiting).rowCount).toBe(1);
    expect((await b.query('SELECT n FROM idle')).rows).toEqual([{ n: 1 }]);
  });

  it('reuses a named prepared statement many times, with inferred parameter types', async () => {
    const a = await client();
    await a.query('CREATE TABLE ps (id INTEGER PRIMARY KEY, name TEXT, score DOUBLE PRECISION)');
    for (let i = 0; i < 100; i++) {
      const r = await a.query({ name: 'ins', text: 'INSERT INTO ps VALUES ($1, $2, $3)', values: [i, `n${i}`, i / 2] });
      expect(r.rowCount).toBe(1);
    }
    for (let i = 0; i < 100; i += 7) {
      const r = await a.query({ name: 'get', text: 'SELECT id, name, score FROM ps WHERE id = $1', values: [String(i)] });
      expect(r.rows).toEqual([{ id: i, name: `n${i}`, score: i / 2 }]);
    }
    expect((await a.query('SELECT count(*)::INTEGER AS n FROM ps')).rows).toEqual([{ n: 100 }]);
  });

  it('reports error fields: severity, code, message, position, detail', async () => {
    const a = await client();
    const err = (await a.query('SELECT 1 FROM (SELECT 1 AS x) AS s WHERE').catch((e: unknown) => e)) as PgError;
    expect(err.severity).toBe('ERROR');
    expect(err.code).toBe('42601');
    expect(err.message).toMatch(/syntax error/);
    expect(Number(err.position)).toBe(41); // at end of input, as PostgreSQL counts it
    expect(await outcome(a.query('SELECT nope FROM (SELECT 1 AS x) AS s'))).toBe('42703');
    await a.query('CREATE TABLE ef (id INTEGER PRIMARY KEY)');
    await a.query('INSERT INTO ef VALUES (1)');
    const dup = (await a.query('INSERT INTO ef VALUES (1)').catch((e: unknown) => e)) as PgError;
    expect(dup.code).toBe('23505');
    expect(dup.detail).toMatch(/^Key \(id\)/); // the D field reaches the client
  });

  it('runs several statements in one simple Query, empty queries, SET and SHOW', async () => {
    const a = await client();
    const r = (await a.query('CREATE TABLE ms (a INTEGER); INSERT INTO ms VALUES (1), (2); SELECT sum(a)::INTEGER AS s FROM ms')) as unknown as { rows: unknown[] }[];
    expect(r).toHaveLength(3);
    expect(r[2]!.rows).toEqual([{ s: 3 }]);
    expect((await a.query('')).command).toBeFalsy();
    await a.query("SET lock_timeout = '2s'");
    expect(Object.values((await a.query('SHOW lock_timeout')).rows[0]!)[0]).toMatch(/^2s|2000/);
  });

  it('refuses SSL when TLS is off, and the client is told so', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'iso', ssl: true } as never);
    c.on('error', () => undefined);
    await expect(c.connect()).rejects.toThrow(/does not support SSL/);
  });
});

describe('HTTP', () => {
  it('runs concurrent requests on their own connections, errors as {code, message} with 4xx', async () => {
    await postQuery(httpPort, 'CREATE TABLE hc (id INTEGER PRIMARY KEY)');
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => postQuery(httpPort, 'INSERT INTO hc VALUES ($1)', [i % 10])));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(10);
    for (const r of rs.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(400); // documented: 409 only for 40001 / 40P01
      expect(r.body.error.code).toBe('23505');
      expect(typeof r.body.error.message).toBe('string');
    }
  });

  it('refuses a sessionless BEGIN clearly (a transaction needs a session), and it works on a session', async () => {
    const r = await postQuery(httpPort, 'BEGIN');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('25000');
    expect(r.body.error.message).toMatch(/session/);
    const s = (await (await fetch(`http://127.0.0.1:${httpPort}/v1/sessions`, { method: 'POST' })).json()) as { session: string };
    const q = async (sql: string) => fetch(`http://127.0.0.1:${httpPort}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json', 'quiver-session': s.session }, body: JSON.stringify({ sql }) });
    expect((await q('BEGIN')).headers.get('quiver-transaction-status')).toBe('T');
    expect((await q('SELECT 1 / 0')).status).toBe(400);
    const aborted = await q('SELECT 1');
    expect(aborted.headers.get('quiver-transaction-status')).toBe('E');
    expect(((await aborted.json()) as { error: { code: string } }).error.code).toBe('25P02');
    expect((await q('ROLLBACK')).headers.get('quiver-transaction-status')).toBe('I');
  });
});
