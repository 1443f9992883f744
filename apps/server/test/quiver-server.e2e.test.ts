/**
 * End to end: the built `quiver-server` as a child process, on free ports, with a real data
 * directory. HTTP and PostgreSQL clients, graceful shutdown (SIGTERM / SIGINT → exit 0 after a
 * checkpoint) and the data still there after a restart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pg, postQuery, ServerProcess } from './helpers.js';

const psqlAvailable = spawnSync('psql', ['--version']).status === 0;
const dirs: string[] = [];
const procs: ServerProcess[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'quiver-server-e2e-'));
  dirs.push(d);
  return d;
}
function start(args: string[], env?: NodeJS.ProcessEnv): ServerProcess {
  const p = ServerProcess.start(args, env);
  procs.push(p);
  return p;
}

afterAll(() => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('quiver-server', () => {
  it('serves HTTP and pgwire, shuts down on SIGTERM with exit 0, and keeps the data', async () => {
    const data = path.join(tempDir(), 'db');
    const server = start(['--data', data, '--http-port', '0', '--pg-port', '0']);
    const { httpPort, pgPort } = await server.ready();
    expect(httpPort).toBeGreaterThan(0);
    expect(pgPort).toBeGreaterThan(0);

    const health = await fetch(`http://127.0.0.1:${httpPort}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });

    expect((await postQuery(httpPort, 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty BIGINT)')).status).toBe(200);
    const ins = await postQuery(httpPort, 'INSERT INTO items VALUES ($1, $2, $3), ($4, $5, $6)', [1, 'apple', 10, 2, 'pear', 20]);
    expect(ins.body).toMatchObject({ command: 'INSERT', rowCount: 2 });
    const sel = await postQuery(httpPort, 'SELECT id, name, qty FROM items ORDER BY id');
    expect(sel.body.rows).toEqual([[1, 'apple', 10], [2, 'pear', 20]]);
    expect(sel.body.columns).toEqual([{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'TEXT' }, { name: 'qty', type: 'BIGINT' }]);
    const err = await postQuery(httpPort, 'SELECT * FROM nope');
    expect(err.status).toBe(400);
    expect(err.body.error.code).toBe('42P01');

    const client = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'e2e', database: 'quiver' });
    await client.connect();
    await client.query('INSERT INTO items VALUES (3, $1, 30)', ['plum']);
    const r = await client.query('SELECT id, name FROM items WHERE id >= $1 ORDER BY id', [2]);
    expect(r.rows).toEqual([{ id: 2, name: 'pear' }, { id: 3, name: 'plum' }]);
    await client.end();

    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^quiver_queries_total\{protocol="pg"\} [1-9]/m);

    server.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'checkpoint done', 'stopped']));

    // restart, configured from the environment this time
    const again = start([], { QUIVER_DATA: data, QUIVER_HTTP_PORT: '0', QUIVER_PG_PORT: 'off' });
    const ports = await again.ready();
    expect(ports.pgPort).toBeNull();
    const after = await postQuery(ports.httpPort, 'SELECT id, name FROM items ORDER BY id');
    expect(after.body.rows).toEqual([[1, 'apple'], [2, 'pear'], [3, 'plum']]);
    again.kill('SIGINT');
    expect((await again.exited).code).toBe(0);
    for (const l of [...server.logs, ...again.logs]) expect(typeof l.ts === 'string' && typeof l.msg === 'string' && l.level !== 'raw').toBe(true);
  });

  it('serves HTTPS with a bearer token when configured', async () => {
    const fixtures = path.resolve(import.meta.dirname, '../../../packages/server/test/fixtures');
    const server = start(['--data', ':memory:', '--pg-port', 'off', '--http-port', '0', '--http-token', 'tok', '--tls-cert', path.join(fixtures, 'test-cert.pem'), '--tls-key', path.join(fixtures, 'test-key.pem')]);
    const { httpPort } = await server.ready();
    const ca = readFileSync(path.join(fixtures, 'test-cert.pem'));
    const post = (auth?: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: httpPort, path: '/v1/query', method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ sql: 'SELECT 7 AS n' }));
    });
    const denied = await post();
    expect(denied.status).toBe(401);
    expect(JSON.parse(denied.body).error.code).toBe('28000');
    const ok = await post('Bearer tok');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).rows).toEqual([[7]]);
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('exits non-zero with a usage error when --data is missing', async () => {
    const server = start([], { QUIVER_DATA: '' });
    const { code } = await server.exited;
    expect(code).toBe(2);
    expect(server.stderr).toMatch(/--data/);
  });

  it('lets a pg transaction roll back when the server stops', async () => {
    const data = path.join(tempDir(), 'db2');
    const server = start(['--data', data, '--http-port', 'off', '--pg-port', '0', '--shutdown-grace-ms', '2000']);
    const { pgPort } = await server.ready();
    const client = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'e2e' });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('CREATE TABLE t (a INTEGER)');
    await client.query('INSERT INTO t VALUES (1)');
    await client.query('BEGIN');
    await client.query('INSERT INTO t VALUES (2)');
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    const again = start(['--data', data, '--http-port', '0', '--pg-port', 'off']);
    const { httpPort } = await again.ready();
    expect((await postQuery(httpPort, 'SELECT a FROM t')).body.rows).toEqual([[1]]);
    again.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  });

  it.skipIf(!psqlAvailable)('serves psql, with a SCRAM password, in plaintext and over TLS', async () => {
    const fixtures = path.resolve(import.meta.dirname, '../../../packages/server/test/fixtures');
    const server = start(['--data', ':memory:', '--http-port', 'off', '--pg-port', '0', '--pg-password', 's3cret', '--tls-cert', path.join(fixtures, 'test-cert.pem'), '--tls-key', path.join(fixtures, 'test-key.pem')]);
    const { pgPort } = await server.ready();
    const psql = (opts: { sslmode: string; password?: string }, ...args: string[]) =>
      spawnSync('psql', [`host=127.0.0.1 port=${pgPort} user=e2e dbname=quiver sslmode=${opts.sslmode}`, '-X', '-A', '-t', '-w', ...args], {
        encoding: 'utf8',
        env: { ...process.env, PGPASSWORD: opts.password ?? 's3cret', PGCONNECT_TIMEOUT: '5' },
      });
    const ok = psql({ sslmode: 'disable' }, '-c', 'CREATE TABLE p (a INTEGER, b TEXT, c DOUBLE PRECISION, d BOOLEAN)', '-c', "INSERT INTO p VALUES (1, 'x', 1e20, true), (2, NULL, 0.5, false)", '-c', 'SELECT a, b, c, d FROM p ORDER BY a');
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim().split('\n')).toEqual(['CREATE TABLE', 'INSERT 0 2', '1|x|1e+20|t', '2||0.5|f']);
    const bad = psql({ sslmode: 'disable' }, '-v', 'ON_ERROR_STOP=1', '-c', 'SELECT * FROM nope');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/relation "nope" does not exist/);
    const tls = psql({ sslmode: 'require' }, '-c', 'SELECT count(*) FROM p');
    expect(tls.status).toBe(0);
    expect(tls.stdout.trim()).toBe('2');
    const wrong = psql({ sslmode: 'require', password: 'wrong' }, '-c', 'SELECT 1');
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/password authentication failed/);
    server.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
