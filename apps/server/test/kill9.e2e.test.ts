/**
 * kill -9 through the fixed contracts: the BUILT `quiver-server` serves concurrent `pg` and HTTP
 * clients committing single-row and multi-row transactions; it is SIGKILLed at a seeded random
 * moment, restarted on the same --data directory, and the data must equal exactly the
 * acknowledged commits. Then the same for the `quiver` CLI: exit status 0 means durable.
 *
 * Invariants checked after every restart:
 *  1. Every transaction whose COMMIT (or autocommit statement) was acknowledged is present.
 *  2. Every transaction present was attempted (acknowledged or in flight at the kill) and is
 *     whole: all its rows, and its increment of its worker's counter row, or none of them.
 *  3. An in-flight transaction found committed after one restart stays so after the next ones.
 *
 * Iterations: QUIVER_KILL9_ITERATIONS (default 5, ~20 s); e.g. 200 for a long run.
 * Seed: QUIVER_KILL9_SEED (default 7), so a failure is reproducible in its kill moments.
 *
 * Concurrency: the workers are async loops in this process; each owns its ids and its counter
 * row, so they never conflict with one another (conflicts are the isolation test's subject).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { appDir, pg, postQuery, ServerProcess, type PgClient } from './helpers.js';

const ITERATIONS = Number(process.env['QUIVER_KILL9_ITERATIONS'] ?? 5);
const SEED = Number(process.env['QUIVER_KILL9_SEED'] ?? 7);
const PG_WORKERS = 3;
const HTTP_WORKERS = 2;
const cliBin = path.resolve(appDir, '../cli/dist/quiver.js');

const dirs: string[] = [];
const procs: ServerProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Txn {
  id: number; // first row id; rows are id .. id + size - 1
  worker: number;
  size: number;
  counted: boolean; // also adds `size` to its worker's counter row
  state: 'sent' | 'acked';
}

async function startServer(data: string): Promise<{ server: ServerProcess; httpPort: number; pgPort: number }> {
  const server = ServerProcess.start(['--data', data, '--http-port', '0', '--pg-port', '0']);
  procs.push(server);
  const { httpPort, pgPort } = await server.ready();
  return { server, httpPort, pgPort };
}

function rowsSql(t: Txn): string {
  return Array.from({ length: t.size }, (_, i) => `(${t.id + i}, ${t.id}, ${t.worker})`).join(', ');
}

async function pgWorker(pgPort: number, worker: number, rnd: () => number, nextId: () => number, log: Txn[], stop: { v: boolean }): Promise<void> {
  const c: PgClient = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'kill9' });
  c.on('error', () => undefined);
  try {
    await c.connect();
  } catch {
    return;
  }
  while (!stop.v) {
    const kind = rnd();
    const size = kind < 0.3 ? 1 : 1 + Math.floor(rnd() * 5);
    const t: Txn = { id: nextId(), worker, size, counted: kind >= 0.3, state: 'sent' };
    log.push(t);
    try {
      if (!t.counted) {
        await c.query('INSERT INTO t VALUES ($1, $2, $3)', [t.id, t.id, worker]); // autocommit, extended protocol
      } else if (kind < 0.65) {
        // one simple Query: BEGIN; ...; COMMIT
        await c.query(`BEGIN; INSERT INTO t VALUES ${rowsSql(t)}; UPDATE counters SET n = n + ${size} WHERE worker = ${worker}; COMMIT`);
      } else {
        await c.query('BEGIN');
        for (let i = 0; i < size; i++) await c.query('INSERT INTO t VALUES ($1, $2, $3)', [t.id + i, t.id, worker]);
        await c.query('UPDATE counters SET n = n + $1 WHERE worker = $2', [size, worker]);
        await c.query('COMMIT');
      }
      t.state = 'acked';
    } catch {
      return; // the server went away: this transaction stays 'sent' (in flight)
    }
  }
  await c.end().catch(() => undefined);
}

async function httpWorker(httpPort: number, worker: number, rnd: () => number, nextId: () => number, log: Txn[], stop: { v: boolean }): Promise<void> {
  const url = `http://127.0.0.1:${httpPort}`;
  while (!stop.v) {
    const kind = rnd();
    const size = 1 + Math.floor(rnd() * 5);
    const t: Txn = { id: nextId(), worker, size, counted: kind >= 0.5, state: 'sent' };
    log.push(t);
    try {
      if (!t.counted) {
        const r = await postQuery(httpPort, `INSERT INTO t VALUES ${rowsSql(t)}`); // one autocommit statement
        if (r.status !== 200) throw new Error(JSON.stringify(r.body));
      } else {
        // a session: BEGIN, INSERT, UPDATE, COMMIT as four requests
        const s = await fetch(`${url}/v1/sessions`, { method: 'POST' });
        const { session } = (await s.json()) as { session: string };
        for (const sql of ['BEGIN', `INSERT INTO t VALUES ${rowsSql(t)}`, `UPDATE counters SET n = n + ${size} WHERE worker = ${worker}`, 'COMMIT']) {
          const r = await fetch(`${url}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json', 'quiver-session': session }, body: JSON.stringify({ sql }) });
          const body = (await r.json()) as { command?: string };
          if (r.status !== 200) throw new Error(JSON.stringify(body));
          if (sql === 'COMMIT' && body.command !== 'COMMIT') throw new Error(`COMMIT answered ${body.command}`);
        }
        await fetch(`${url}/v1/sessions/${session}`, { method: 'DELETE' });
      }
      t.state = 'acked';
    } catch {
      return;
    }
  }
}

async function verify(httpPort: number, log: Txn[], workers: number, inflightPresent: Set<number>): Promise<void> {
  const rows = await postQuery(httpPort, 'SELECT txn, count(*) AS n, min(id) AS lo, max(id) AS hi FROM t GROUP BY txn ORDER BY txn');
  expect(rows.status).toBe(200);
  const present = new Map<number, { n: number; lo: number; hi: number }>();
  for (const [txn, n, lo, hi] of rows.body.rows as number[][]) present.set(Number(txn), { n: Number(n), lo: Number(lo), hi: Number(hi) });
  const byId = new Map(log.map((t) => [t.id, t]));
  const expectedCounter = new Array<number>(workers).fill(0);
  const newlyPresent: number[] = [];
  for (const [id, g] of present) {
    const t = byId.get(id);
    expect(t, `transaction ${id} is present but was never attempted`).toBeDefined();
    expect(g, `transaction ${id} is not whole`).toEqual({ n: t!.size, lo: id, hi: id + t!.size - 1 });
    if (t!.counted) expectedCounter[t!.worker] += t!.size;
    if (t!.state !== 'acked') newlyPresent.push(id);
  }
  for (const t of log) if (t.state === 'acked') expect(present.has(t.id), `acknowledged transaction ${t.id} is missing`).toBe(true);
  // an in-flight transaction found committed after one restart stays committed after the next ones
  for (const id of inflightPresent) expect(present.has(id), `recovered transaction ${id} vanished`).toBe(true);
  for (const id of newlyPresent) inflightPresent.add(id);
  const counters = await postQuery(httpPort, 'SELECT worker, n FROM counters ORDER BY worker');
  expect(counters.body.rows.map((r: number[]) => Number(r[1]))).toEqual(expectedCounter);
}

describe('quiver-server under kill -9', () => {
  it(`keeps exactly the acknowledged commits of concurrent pg and HTTP clients (${ITERATIONS} kills, seed ${SEED})`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'quiver-kill9-'));
    dirs.push(dir);
    const data = path.join(dir, 'db');
    const rnd = seededRandom(SEED);
    const workers = PG_WORKERS + HTTP_WORKERS;
    {
      const { server, httpPort } = await startServer(data);
      expect((await postQuery(httpPort, 'CREATE TABLE t (id INTEGER PRIMARY KEY, txn INTEGER NOT NULL, worker INTEGER NOT NULL)')).status).toBe(200);
      expect((await postQuery(httpPort, 'CREATE TABLE counters (worker INTEGER PRIMARY KEY, n BIGINT NOT NULL)')).status).toBe(200);
      const values = Array.from({ length: workers }, (_, w) => `(${w}, 0)`).join(', ');
      expect((await postQuery(httpPort, `INSERT INTO counters VALUES ${values}`)).status).toBe(200);
      server.kill('SIGKILL');
      await server.exited;
    }
    const log: Txn[] = [];
    let next = 1;
    const nextId = (): number => {
      const id = next;
      next += 10; // room for up to 5 rows per transaction
      return id;
    };
    const inflightPresent = new Set<number>(); // in flight at a kill, found committed after it
    for (let iter = 0; iter < ITERATIONS; iter++) {
      const { server, httpPort, pgPort } = await startServer(data);
      // the previous run's data, after its kill, before any new work
      await verify(httpPort, log, workers, inflightPresent);
      const stop = { v: false };
      const runs: Promise<void>[] = [];
      for (let w = 0; w < PG_WORKERS; w++) runs.push(pgWorker(pgPort, w, seededRandom(SEED * 1000 + iter * 10 + w), nextId, log, stop));
      for (let w = 0; w < HTTP_WORKERS; w++) runs.push(httpWorker(httpPort, PG_WORKERS + w, seededRandom(SEED * 1000 + iter * 10 + PG_WORKERS + w), nextId, log, stop));
      await new Promise((r) => setTimeout(r, 300 + Math.floor(rnd() * 1200)));
      server.kill('SIGKILL');
      expect((await server.exited).signal).toBe('SIGKILL');
      stop.v = true;
      await Promise.all(runs);
    }
    const { server, httpPort } = await startServer(data);
    await verify(httpPort, log, workers, inflightPresent);
    const acked = log.filter((t) => t.state === 'acked').length;
    const inflight = log.length - acked;
    server.kill('SIGKILL');
    // work was really done and interrupted: commits were acknowledged in every run
    expect(acked).toBeGreaterThan(ITERATIONS * 5);
    expect(inflight).toBeGreaterThan(0);
    console.log(`kill9: ${ITERATIONS} kills, ${acked} acknowledged transactions, ${inflight} in flight at a kill (${inflightPresent.size} of them present)`);
  }, 60_000 + ITERATIONS * 8_000);
});

describe('quiver CLI under kill -9', () => {
  it('exit status 0 means durable; a killed run leaves its statement wholly present or absent', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'quiver-kill9-cli-'));
    dirs.push(dir);
    const data = path.join(dir, 'db');
    const cli = (sql: string, killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [cliBin, data, '-c', sql, '--format', 'csv'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
        child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
        let timer: NodeJS.Timeout | undefined;
        if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        child.on('close', (code, signal) => { // (not 'exit': it may come before the last output is read)
          if (timer) clearTimeout(timer);
          resolve({ code, signal, stdout, stderr });
        });
      });
    const created = await cli('CREATE TABLE t (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL)');
    expect(created.code, created.stderr).toBe(0);
    const rnd = seededRandom(SEED + 1);
    const outcome = new Map<number, 'acked' | 'killed'>();
    for (let b = 1; b <= 8; b++) {
      const values = Array.from({ length: 50 }, (_, i) => `(${b * 100 + i}, ${b})`).join(', ');
      // odd batches run to the end; even ones are SIGKILLed at a random moment (maybe after exit)
      const r = await cli(`INSERT INTO t VALUES ${values}`, b % 2 === 0 ? 100 + Math.floor(rnd() * 600) : undefined);
      if (r.signal === 'SIGKILL') outcome.set(b, 'killed');
      else {
        expect(r.code, r.stderr).toBe(0);
        outcome.set(b, 'acked');
      }
    }
    const check = await cli('SELECT batch, count(*) FROM t GROUP BY batch ORDER BY batch');
    expect(check.code, check.stderr).toBe(0);
    const counts = new Map(check.stdout.trim().split('\n').slice(1).map((l) => l.split(',').map(Number) as [number, number]));
    for (const [b, o] of outcome) {
      if (o === 'acked') expect(counts.get(b), `batch ${b} exited 0 but is missing`).toBe(50);
      else expect([undefined, 50]).toContain(counts.get(b));
    }
    for (const b of counts.keys()) expect(outcome.has(b)).toBe(true);
    expect([...outcome.values()].filter((o) => o === 'acked').length).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
