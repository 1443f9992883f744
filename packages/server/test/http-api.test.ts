/**
 * The HTTP API against a fake Database: fastify inject for the request/response shapes, one
 * real port for Arrow over the wire and keep-alive shutdown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC, tableFromArrays } from 'apache-arrow';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type QuiverServer } from '../src/index.js';
import { FakeDatabase } from './fake-database.js';

let db: FakeDatabase;
let server: QuiverServer;

beforeAll(() => {
  db = new FakeDatabase();
  server = createServer(db, { httpPort: null, pgPort: null });
});
afterAll(async () => {
  await server.close();
});

const query = (sql: string, params?: unknown[], headers: Record<string, string> = {}) =>
  server.http.inject({ method: 'POST', url: '/v1/query', payload: params === undefined ? { sql } : { sql, params }, headers });

describe('POST /v1/query', () => {
  it('runs a statement and answers {columns, rows, rowCount, command}', async () => {
    const res = await query("SELECT 1 AS a, 'x' AS b, $1 AS c", [true]);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      columns: [{ name: 'a', type: 'INTEGER' }, { name: 'b', type: 'TEXT' }, { name: 'c', type: 'BOOLEAN' }],
      rows: [[1, 'x', true]],
      rowCount: 1,
      command: 'SELECT',
    });
  });

  it('writes bigint as a number when safe and as a string otherwise', async () => {
    const res = await query('SELECT 5::BIGINT AS small, 9007199254740993::BIGINT AS big, -9007199254740991::BIGINT AS edge');
    expect(res.statusCode).toBe(200);
    expect(res.json().rows).toEqual([[5, '9007199254740993', -9007199254740991]]);
  });

  it('creates, inserts with params and selects; each request autocommits on its own connection', async () => {
    expect((await query('CREATE TABLE h (id INTEGER, name TEXT)')).json()).toMatchObject({ command: 'CREATE TABLE', rowCount: 0 });
    const ins = await query('INSERT INTO h VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
    expect(ins.json()).toMatchObject({ command: 'INSERT', rowCount: 2, rows: [] });
    const sel = await query('SELECT * FROM h WHERE id = $1', [2]);
    expect(sel.json().rows).toEqual([[2, 'two']]);
    expect(db.open).toBe(0);
  });

  it('maps errors to {error: {code, message, position}} with HTTP 400 / 409 / 500', async () => {
    const e1 = await query('SELECT * FROM nope');
    expect(e1.statusCode).toBe(400);
    expect(e1.json().error).toMatchObject({ code: '42P01', position: 15 });
    expect(typeof e1.json().error.message).toBe('string');
    expect((await query("SELECT fail('40001')")).statusCode).toBe(409);
    expect((await query("SELECT fail('40P01')")).statusCode).toBe(409);
    const internal = await query("SELECT fail('XX000')");
    expect(internal.statusCode).toBe(500);
    expect(internal.json().error.code).toBe('XX000');
  });

  it('rejects a malformed body with 400 and a SQLSTATE', async () => {
    const noSql = await server.http.inject({ method: 'POST', url: '/v1/query', payload: { query: 'SELECT 1' } });
    expect(noSql.statusCode).toBe(400);
    expect(noSql.json().error.code).toBe('08P01');
    const badParams = await server.http.inject({ method: 'POST', url: '/v1/query', payload: { sql: 'SELECT 1', params: 3 } });
    expect(badParams.statusCode).toBe(400);
    const badJson = await server.http.inject({ method: 'POST', url: '/v1/query', payload: '{"sql":', headers: { 'content-type': 'application/json' } });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error.code).toBe('08P01');
  });

  it('accepts a text/plain body as the SQL', async () => {
    const res = await server.http.inject({ method: 'POST', url: '/v1/query', payload: 'SELECT 3 AS three', headers: { 'content-type': 'text/plain' } });
    expect(res.json().rows).toEqual([[3]]);
  });

  it('answers an Arrow IPC stream when asked for one', async () => {
    const arrowDb = {
      connect: () => ({
        query: async () => ({
          command: 'SELECT', rowCount: 2, columns: [{ name: 'a', type: 'INTEGER' }], rows: [[1], [2]],
          toArrow: () => tableFromArrays({ a: Int32Array.from([1, 2]) }),
        }),
        close: () => undefined,
      }),
    };
    const s = createServer(arrowDb, { httpPort: null, pgPort: null });
    const res = await s.http.inject({ method: 'POST', url: '/v1/query', payload: { sql: 'SELECT a FROM t' }, headers: { accept: 'application/vnd.apache.arrow.stream' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.apache.arrow.stream');
    expect(res.headers['quiver-row-count']).toBe('2');
    const table = tableFromIPC(res.rawPayload);
    expect(table.numRows).toBe(2);
    expect([...table.getChild('a')!]).toEqual([1, 2]);
    await s.close();
  });
});

describe('sessions', () => {
  it('keeps a transaction across requests on one session and rolls back on DELETE', async () => {
    await query('CREATE TABLE sess (a INTEGER)');
    const created = await server.http.inject({ method: 'POST', url: '/v1/sessions' });
    expect(created.statusCode).toBe(201);
    const id = created.json().session as string;
    const h = { 'quiver-session': id };
    const begin = await query('BEGIN', [], h);
    expect(begin.statusCode).toBe(200);
    expect(begin.headers['quiver-transaction-status']).toBe('T');
    expect((await query('INSERT INTO sess VALUES (1)', [], h)).json().rowCount).toBe(1);
    expect((await query('SELECT * FROM sess', [], h)).json().rowCount).toBe(1);
    const del = await server.http.inject({ method: 'DELETE', url: `/v1/sessions/${id}` });
    expect(del.statusCode).toBe(204);
    expect((await query('SELECT * FROM sess')).json().rowCount).toBe(0);
    const gone = await query('SELECT 1', [], h);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('08003');
  });

  it('refuses a transaction block left open by a sessionless request with 25000, rolled back', async () => {
    await query('CREATE TABLE nosess (a INTEGER)');
    const begin = await query('BEGIN');
    expect(begin.statusCode).toBe(400);
    expect(begin.json().error.code).toBe('25000');
    // autocommit statements and a self-contained COMMIT/ROLLBACK are still fine
    expect((await query('INSERT INTO nosess VALUES (1)')).statusCode).toBe(200);
    expect((await query('SELECT * FROM nosess')).json().rowCount).toBe(1);
  });

  it('runs the requests of one session one at a time, in order', async () => {
    const id = (await server.http.inject({ method: 'POST', url: '/v1/sessions' })).json().session as string;
    const h = { 'quiver-session': id };
    await query('CREATE TABLE ord (a INTEGER)');
    const order: number[] = [];
    await Promise.all([
      query('SELECT sleep(60)', [], h).then(() => order.push(1)),
      query('SELECT sleep(1)', [], h).then(() => order.push(2)),
    ]);
    expect(order).toEqual([1, 2]);
    await server.http.inject({ method: 'DELETE', url: `/v1/sessions/${id}` });
  });
});

describe('GET endpoints', () => {
  it('reports health', async () => {
    const res = await server.http.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('exposes Prometheus metrics with query counts, errors by SQLSTATE, latency and engine metrics', async () => {
    await query('SELECT 1 AS a');
    await query('SELECT * FROM nope');
    const res = await server.http.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    const value = (line: string): number => Number(new RegExp(`^${line.replace(/[{}"+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('quiver_queries_total{protocol="http"}')).toBeGreaterThanOrEqual(2);
    expect(value('quiver_query_errors_total{protocol="http",code="42P01"}')).toBeGreaterThanOrEqual(1);
    expect(value('quiver_query_duration_seconds_count{protocol="http"}')).toBe(value('quiver_queries_total{protocol="http"}'));
    expect(value('quiver_query_duration_seconds_bucket{protocol="http",le="+Inf"}')).toBe(value('quiver_query_duration_seconds_count{protocol="http"}'));
    expect(value('quiver_open_connections{protocol="http"}')).toBe(0);
    expect(value('quiver_engine_buffer_pool_hits')).toBe(3);
    expect(value('quiver_engine_wal_bytes')).toBe(42);
    expect(text).toContain('# TYPE quiver_query_duration_seconds histogram');
  });

  it('answers unknown routes with 404 in the error shape', async () => {
    const res = await server.http.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('08P01');
  });
});

describe('over a real port', () => {
  it('serves HTTP and closes cleanly with a keep-alive client', async () => {
    const s = createServer(new FakeDatabase(), { httpPort: 0, pgPort: null });
    const { httpPort } = await s.listen();
    const res = await fetch(`http://127.0.0.1:${httpPort}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT 1 AS one' }) });
    expect(await res.json()).toMatchObject({ rows: [[1]] });
    const t0 = Date.now();
    await s.close();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('security options', () => {
  it('requires the bearer token on /v1/* when one is set, and keeps /health open', async () => {
    const s = createServer(new FakeDatabase(), { httpPort: null, pgPort: null, httpToken: 't0ken' });
    try {
      const none = await s.http.inject({ method: 'POST', url: '/v1/query', payload: { sql: 'SELECT 1 AS a' } });
      expect(none.statusCode).toBe(401);
      expect(none.json().error.code).toBe('28000');
      expect(none.headers['www-authenticate']).toBe('Bearer');
      const wrong = await s.http.inject({ method: 'POST', url: '/v1/sessions', headers: { authorization: 'Bearer nope' } });
      expect(wrong.statusCode).toBe(401);
      const ok = await s.http.inject({ method: 'POST', url: '/v1/query', payload: { sql: 'SELECT 1 AS a' }, headers: { authorization: 'Bearer t0ken' } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().rows).toEqual([[1]]);
      expect((await s.http.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('serves HTTPS with a certificate', async () => {
    const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
    const cert = readFileSync(path.join(fixtures, 'test-cert.pem'));
    const s = createServer(new FakeDatabase(), { httpPort: 0, pgPort: null, httpTls: { key: readFileSync(path.join(fixtures, 'test-key.pem')), cert } });
    const { httpPort } = await s.listen();
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: httpPort, path: '/v1/query', method: 'POST', ca: cert, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => { text += d; });
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ sql: "SELECT 'secure' AS s" }));
      });
      expect(JSON.parse(body).rows).toEqual([['secure']]);
    } finally {
      await s.close();
    }
  });
});
