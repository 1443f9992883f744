/**
 * createServer / startServer lifecycle: ports, failures to listen, connection limits, and a
 * graceful close that lets in-flight HTTP requests finish.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { createServer, startServer } from '../src/index.js';
import { FakeDatabase } from './fake-database.js';

describe('server lifecycle', () => {
  it('reports the bound ports and rejects a port that is taken', async () => {
    const db = new FakeDatabase();
    const a = await startServer({ db, httpPort: 0, pgPort: 0 });
    expect(a.httpPort).toBeGreaterThan(0);
    expect(a.pgPort).toBeGreaterThan(0);
    await expect(startServer({ db, httpPort: 0, pgPort: a.pgPort })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(startServer({ db, httpPort: a.httpPort, pgPort: null })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await a.close();
    await a.close(); // idempotent
  });

  it('lets an in-flight HTTP request finish on close, then refuses new connections', async () => {
    const s = await startServer({ db: new FakeDatabase(), httpPort: 0, pgPort: null });
    const url = `http://127.0.0.1:${s.httpPort}/v1/query`;
    const slow = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT sleep(300)' }) });
    await new Promise((r) => setTimeout(r, 100));
    const closing = s.close();
    const res = await slow;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { rows: unknown }).rows).toEqual([[300]]);
    await closing;
    await expect(fetch(url, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('refuses pg clients beyond maxPgConnections with 53300', async () => {
    const s = await startServer({ db: new FakeDatabase(), httpPort: null, pgPort: 0, maxPgConnections: 1 });
    try {
      const first = new pg.Client({ host: '127.0.0.1', port: s.pgPort!, user: 'u' });
      await first.connect();
      const second = new pg.Client({ host: '127.0.0.1', port: s.pgPort!, user: 'u' });
      second.on('error', () => undefined);
      await expect(second.connect()).rejects.toMatchObject({ code: '53300' });
      await first.end();
    } finally {
      await s.close();
    }
  });

  it('closes HTTP sessions (rolling back) when the server closes', async () => {
    const db = new FakeDatabase();
    const s = createServer(db, { httpPort: null, pgPort: null });
    const id = (await s.http.inject({ method: 'POST', url: '/v1/sessions' })).json().session as string;
    await s.http.inject({ method: 'POST', url: '/v1/query', payload: { sql: 'BEGIN' }, headers: { 'quiver-session': id } });
    expect(db.open).toBe(1);
    await s.close();
    expect(db.open).toBe(0);
    expect(s.metrics.openConnections('http')).toBe(0);
  });
});

describe('slow query log', () => {
  it('logs statements at or over slowQueryMs, from both protocols', async () => {
    const warnings: [string, Record<string, unknown> | undefined][] = [];
    const logger = { info() {}, error() {}, warn: (msg: string, fields?: Record<string, unknown>) => warnings.push([msg, fields]) };
    const s = await startServer({ db: new FakeDatabase(), httpPort: null, pgPort: 0, logger, slowQueryMs: 60 });
    try {
      await s.http.inject({ method: 'POST', url: '/v1/query', payload: { sql: 'SELECT sleep(80)' } });
      await s.http.inject({ method: 'POST', url: '/v1/query', payload: { sql: 'SELECT 1 AS fast' } });
      const c = new pg.Client({ host: '127.0.0.1', port: s.pgPort!, user: 'u' });
      await c.connect();
      await c.query('SELECT sleep(70) AS pg');
      await c.end();
      expect(warnings.map(([m, f]) => [m, f?.['protocol'], f?.['sql']])).toEqual([
        ['slow query', 'http', 'SELECT sleep(80)'],
        ['slow query', 'pg', 'SELECT sleep(70) AS pg'],
      ]);
      expect(warnings[0]![1]!['ms']).toBeGreaterThanOrEqual(60);
    } finally {
      await s.close();
    }
  });
});
