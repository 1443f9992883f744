/**
 * The PostgreSQL wire protocol against a fake Database, driven by the real `pg` client and by
 * hand-written messages for what `pg` does not exercise (binary formats, row limits, pipelining
 * after an error, empty queries, Close, cancel).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type QuiverServer } from '../src/index.js';
import { FakeDatabase } from './fake-database.js';
import { RawPgClient } from './raw-pg-client.js';

let db: FakeDatabase;
let server: QuiverServer;
let port: number;

beforeAll(async () => {
  db = new FakeDatabase();
  server = createServer(db, { httpPort: null, pgPort: 0 });
  port = (await server.listen()).pgPort!;
});
afterAll(async () => {
  await server.close();
});

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'tester', database: 'quiver' });
  await c.connect();
  return c;
}

describe('pg client', () => {
  it('runs a simple query and reports server parameters', async () => {
    const c = await client();
    try {
      const r = await c.query("SELECT 1 AS a, 'x' AS b, TRUE AS c, 2.5 AS d, NULL AS e");
      expect(r.rows).toEqual([{ a: 1, b: 'x', c: true, d: 2.5, e: null }]);
      expect(r.command).toBe('SELECT');
      expect(r.rowCount).toBe(1);
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([23, 25, 16, 701, 25]);
    } finally {
      await c.end();
    }
  });

  it('runs DDL, inserts with parameters (extended protocol) and reads back typed values', async () => {
    const c = await client();
    try {
      await c.query('CREATE TABLE t1 (id INTEGER, big BIGINT, name TEXT, ok BOOLEAN, score DOUBLE PRECISION)');
      const ins = await c.query('INSERT INTO t1 VALUES ($1, $2, $3, $4, $5), (2, 9007199254740993, NULL, false, 0.1)', [1, '12345678901234567', "it's", true, 1.5]);
      expect(ins.command).toBe('INSERT');
      expect(ins.rowCount).toBe(2);
      const r = await c.query('SELECT * FROM t1 ORDER BY id');
      expect(r.rows).toEqual([
        { id: 1, big: '12345678901234567', name: "it's", ok: true, score: 1.5 },
        { id: 2, big: '9007199254740993', name: null, ok: false, score: 0.1 },
      ]);
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([23, 20, 25, 16, 701]);
      const one = await c.query('SELECT * FROM t1 WHERE id = $1', [2]);
      expect(one.rows.map((x: { id: number }) => x.id)).toEqual([2]);
    } finally {
      await c.end();
    }
  });

  it('returns one result per statement of a multi-statement simple query', async () => {
    const c = await client();
    try {
      const results = (await c.query("CREATE TABLE multi (a INTEGER); INSERT INTO multi VALUES (1), (2); SELECT * FROM multi; SELECT 'semi;colon' AS s")) as unknown as pg.QueryResult[];
      expect(Array.isArray(results)).toBe(true);
      expect(results.map((r) => r.command)).toEqual(['CREATE', 'INSERT', 'SELECT', 'SELECT']);
      expect(results[1]!.rowCount).toBe(2);
      expect(results[2]!.rows).toEqual([{ a: 1 }, { a: 2 }]);
      expect(results[3]!.rows).toEqual([{ s: 'semi;colon' }]);
    } finally {
      await c.end();
    }
  });

  it('runs the statements of one Query string as one implicit transaction', async () => {
    const c = await client();
    try {
      await c.query('CREATE TABLE atom (a INTEGER)');
      await expect(c.query("INSERT INTO atom VALUES (1); SELECT fail('22012')")).rejects.toMatchObject({ code: '22012' });
      expect((await c.query('SELECT * FROM atom')).rowCount).toBe(0);
      expect(txStatus(c)).toBe('I');
      // a string with its own transaction control gets no implicit block
      await expect(c.query("BEGIN; INSERT INTO atom VALUES (2); COMMIT; SELECT fail('22012')")).rejects.toMatchObject({ code: '22012' });
      expect((await c.query('SELECT * FROM atom')).rows).toEqual([{ a: 2 }]);
      const ok = (await c.query('INSERT INTO atom VALUES (3); SELECT * FROM atom ORDER BY a')) as unknown as pg.QueryResult[];
      expect(ok[1]!.rows).toEqual([{ a: 2 }, { a: 3 }]);
      expect(txStatus(c)).toBe('I');
    } finally {
      await c.end();
    }
  });

  it('reports errors with SQLSTATE and position, and the session stays usable', async () => {
    const c = await client();
    try {
      const err = await c.query('SELECT * FROM missing_table').catch((e: unknown) => e as pg.DatabaseError);
      expect(err).toBeInstanceOf(Error);
      expect((err as pg.DatabaseError).code).toBe('42P01');
      expect((err as pg.DatabaseError).position).toBe('15');
      expect((err as pg.DatabaseError).severity).toBe('ERROR');
      // position is relative to the whole string in a multi-statement query
      const err2 = await c.query('SELECT 1; SELECT * FROM nope').catch((e: unknown) => e as pg.DatabaseError);
      expect((err2 as pg.DatabaseError).code).toBe('42P01');
      expect((err2 as pg.DatabaseError).position).toBe('25');
      const err3 = await c.query('SELECT * FROM nope WHERE a = $1', [1]).catch((e: unknown) => e as pg.DatabaseError);
      expect((err3 as pg.DatabaseError).code).toBe('42P01');
      const ok = await c.query('SELECT $1::INTEGER AS v', ['7']);
      expect(ok.rows).toEqual([{ v: 7 }]);
    } finally {
      await c.end();
    }
  });

  it('keeps a transaction across statements and rolls back; a failed block needs ROLLBACK', async () => {
    const c = await client();
    try {
      await c.query('CREATE TABLE tx (a INTEGER)');
      await c.query('BEGIN');
      await c.query('INSERT INTO tx VALUES (1)');
      expect((await c.query('SELECT * FROM tx')).rowCount).toBe(1);
      await c.query('ROLLBACK');
      expect((await c.query('SELECT * FROM tx')).rowCount).toBe(0);
      await c.query('BEGIN');
      await expect(c.query('SELECT * FROM nope')).rejects.toMatchObject({ code: '42P01' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      const commit = await c.query('COMMIT');
      expect(commit.command).toBe('ROLLBACK');
      expect((await c.query('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
    } finally {
      await c.end();
    }
  });

  it('serves two clients concurrently, each with its own transaction state', async () => {
    const [a, b] = await Promise.all([client(), client()]);
    try {
      await a.query('BEGIN');
      const t0 = Date.now();
      const [ra, rb] = await Promise.all([a.query('SELECT sleep(150)'), b.query('SELECT sleep(150)')]);
      expect(Date.now() - t0).toBeLessThan(290);
      expect(ra.rows).toEqual([{ sleep: 150 }]);
      expect(rb.rows).toEqual([{ sleep: 150 }]);
      expect(txStatus(a)).toBe('T');
      expect(txStatus(b)).toBe('I');
      await a.query('COMMIT');
      expect(txStatus(a)).toBe('I');
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('closes the engine connection when the client goes away', async () => {
    await waitFor(() => db.open === 0);
    const before = db.open;
    const c = await client();
    expect(db.open).toBe(before + 1);
    await c.end();
    await waitFor(() => db.open === before);
  });
});

/** ReadyForQuery status as the pg client last saw it */
function txStatus(c: pg.Client): string {
  return (c as unknown as { getTransactionStatus(): string }).getTransactionStatus();
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('raw protocol', () => {
  it('answers SSLRequest with N and then starts up', async () => {
    const c = await RawPgClient.connect(port, { ssl: true });
    expect(c.sslAnswer).toBe('N');
    expect(c.parameters.get('server_version')).toBe('16.0 (QuiverDB)');
    expect(c.parameters.get('integer_datetimes')).toBe('on');
    expect(c.parameters.get('standard_conforming_strings')).toBe('on');
    expect(c.parameters.get('client_encoding')).toBe('UTF8');
    expect(c.backendKey).toBeDefined();
    c.close();
  });

  it('answers an empty query with EmptyQueryResponse', async () => {
    const c = await RawPgClient.connect(port);
    const msgs = await c.simple('  -- just a comment\n ; ');
    expect(msgs.map((m) => m.type)).toEqual(['I', 'Z']);
    c.close();
  });

  it('pages a portal with a row limit (PortalSuspended) and reuses a named statement', async () => {
    const c = await RawPgClient.connect(port);
    c.parse('gen', 'SELECT n FROM generate($1)', [23]);
    c.bind('p1', 'gen', [{ text: '5' }], [0]);
    c.execute('p1', 2);
    c.execute('p1', 2);
    c.execute('p1', 2);
    c.sync();
    const msgs = await c.untilReady();
    expect(msgs.map((m) => m.type).join('')).toBe('12DDsDDsDCZ');
    expect(msgs.filter((m) => m.type === 'D').map((m) => m.fields![0])).toEqual(['1', '2', '3', '4', '5']);
    expect(msgs.find((m) => m.type === 'C')!.tag).toBe('SELECT 1');
    // the statement stays; the named portal is closed explicitly
    c.close_('P', 'p1');
    c.bind('', 'gen', [{ text: '3' }], [0]);
    c.execute('', 0);
    c.sync();
    const again = await c.untilReady();
    expect(again.map((m) => m.type).join('')).toBe('32DDDCZ');
    expect(again.find((m) => m.type === 'C')!.tag).toBe('SELECT 3');
    c.close();
  });

  it('describes a statement and a portal', async () => {
    const c = await RawPgClient.connect(port);
    c.parse('s', 'SELECT $1::INTEGER AS v, $2 AS w', [23, 0]);
    c.describe('S', 's');
    c.bind('', 's', [{ text: '4' }, { text: 'x' }], [0]);
    c.describe('P', '');
    c.execute('', 0);
    c.sync();
    const msgs = await c.untilReady();
    expect(msgs.map((m) => m.type).join('')).toBe('1tT2TDCZ');
    expect(msgs[1]!.paramOids).toEqual([23, 25]);
    expect(msgs[2]!.columns!.map((x) => [x.name, x.oid])).toEqual([['v', 23], ['w', 25]]);
    expect(msgs[5]!.fields).toEqual(['4', 'x']);
    c.close();
  });

  it('takes binary parameters and returns binary results', async () => {
    const c = await RawPgClient.connect(port);
    const i8 = Buffer.alloc(8); i8.writeBigInt64BE(-9007199254740993n);
    const f8 = Buffer.alloc(8); f8.writeDoubleBE(0.1);
    const i4 = Buffer.alloc(4); i4.writeInt32BE(-42);
    const i2 = Buffer.alloc(2); i2.writeInt16BE(7);
    c.parse('', 'SELECT $1 AS a, $2 AS b, $3 AS c, $4 AS d, $5 AS e, $6 AS f', [20, 701, 23, 21, 16, 25]);
    c.bind('', '', [{ binary: i8 }, { binary: f8 }, { binary: i4 }, { binary: i2 }, { binary: Buffer.from([1]) }, { binary: Buffer.from('héllo') }], [1]);
    c.describe('P', '');
    c.execute('', 0);
    c.sync();
    const msgs = await c.untilReady();
    expect(msgs.map((m) => m.type).join('')).toBe('12TDCZ');
    const row = msgs[3]!.raw!;
    expect(row[0]!.readBigInt64BE()).toBe(-9007199254740993n);
    expect(row[1]!.readDoubleBE()).toBe(0.1);
    expect(row[2]!.readInt32BE()).toBe(-42);
    expect(row[3]!.readInt32BE()).toBe(7); // the fake types a number param as INTEGER
    expect([...row[4]!]).toEqual([1]);
    expect(row[5]!.toString()).toBe('héllo');
    expect(msgs[2]!.columns!.map((x) => x.format)).toEqual([1, 1, 1, 1, 1, 1]);
    c.close();
  });

  it('skips everything after an error until Sync, then recovers', async () => {
    const c = await RawPgClient.connect(port);
    c.parse('', 'SELECT * FROM nope', []);
    c.bind('', '', [], []);
    c.execute('', 0);
    c.parse('', 'SELECT 1 AS never', []);
    c.bind('', '', [], []);
    c.execute('', 0);
    c.sync();
    const msgs = await c.untilReady();
    expect(msgs.map((m) => m.type).join('')).toBe('12EZ');
    expect(msgs[2]!.error!['C']).toBe('42P01');
    expect(msgs[2]!.error!['P']).toBe('15');
    expect(msgs[2]!.error!['S']).toBe('ERROR');
    const ok = await c.simple('SELECT 2 AS x');
    expect(ok.map((m) => m.type).join('')).toBe('TDCZ');
    c.close();
  });

  it('rejects bad Bind parameter counts, unknown statements and multi-statement Parse', async () => {
    const c = await RawPgClient.connect(port);
    c.parse('', 'SELECT $1 AS a', []);
    c.bind('', '', [], []);
    c.sync();
    expect((await c.untilReady()).map((m) => m.error?.['C'] ?? m.type)).toEqual(['1', '08P01', 'Z']);
    c.bind('', 'nope', [], []);
    c.sync();
    expect((await c.untilReady()).map((m) => m.error?.['C'] ?? m.type)).toEqual(['26000', 'Z']);
    c.parse('', 'SELECT 1; SELECT 2', []);
    c.sync();
    expect((await c.untilReady()).map((m) => m.error?.['C'] ?? m.type)).toEqual(['42601', 'Z']);
    c.parse('', 'SELECT 1 AS a', [0]);
    c.bind('', '', [{ text: 'x' }], []);
    c.sync();
    // an int4 param that is not an integer
    c.parse('', 'SELECT $1 AS a', [23]);
    c.bind('', '', [{ text: 'abc' }], []);
    c.sync();
    const last = await c.untilReady(2);
    expect(last.map((m) => m.error?.['C'] ?? m.type)).toEqual(['1', '2', 'Z', '1', '22P02', 'Z']);
    c.close();
  });

  it('reports the transaction status in ReadyForQuery', async () => {
    const c = await RawPgClient.connect(port);
    expect(c.lastStatus).toBe('I');
    await c.simple('BEGIN');
    expect(c.lastStatus).toBe('T');
    await c.simple('SELECT fail(\'22012\')');
    expect(c.lastStatus).toBe('E');
    await c.simple('ROLLBACK');
    expect(c.lastStatus).toBe('I');
    c.close();
  });

  it('negotiates down a newer minor protocol version', async () => {
    const c = await RawPgClient.connect(port, { minor: 2, options: { '_pq_.foo': 'x' } });
    expect(c.negotiated).toEqual({ minor: 0, unknown: ['_pq_.foo'] });
    expect(c.lastStatus).toBe('I');
    c.close();
  });

  it('accepts a CancelRequest on a separate connection without disturbing the session', async () => {
    const c = await RawPgClient.connect(port);
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const b = Buffer.alloc(16);
    b.writeInt32BE(16, 0); b.writeInt32BE(80877102, 4); b.writeInt32BE(c.backendKey!.pid, 8); b.writeInt32BE(c.backendKey!.secret, 12);
    sock.write(b);
    await new Promise((r) => sock.once('close', r));
    expect((await c.simple('SELECT 1 AS a')).map((m) => m.type).join('')).toBe('TDCZ');
    c.close();
  });
});

describe('with an engine that can describe statements', () => {
  it('types untyped text parameters as the engine infers them, and answers Describe from it', async () => {
    const fdb = new FakeDatabase(true);
    const s = createServer(fdb, { httpPort: null, pgPort: 0 });
    const p = (await s.listen()).pgPort!;
    try {
      const c = new pg.Client({ host: '127.0.0.1', port: p, user: 'u' });
      c.on('error', () => undefined);
      await c.connect();
      await c.query('CREATE TABLE d (id BIGINT, v TEXT)');
      await c.query("INSERT INTO d VALUES (1, 'a'), (2, 'b')");
      const r = await c.query('SELECT * FROM d WHERE id = $1', ['2']);
      expect(r.rows).toEqual([{ id: '2', v: 'b' }]);
      expect(fdb.lastParams).toEqual([2n]);
      await c.query('SELECT $1::INTEGER AS x, $2 AS y', ['5', '6']);
      expect(fdb.lastParams).toEqual([5, '6']);
      await c.end();
      const raw = await RawPgClient.connect(p);
      raw.parse('q', 'SELECT * FROM d WHERE id = $1', []);
      raw.describe('S', 'q');
      raw.sync();
      const msgs = await raw.untilReady();
      expect(msgs.map((m) => m.type).join('')).toBe('1tTZ');
      expect(msgs[1]!.paramOids).toEqual([20]);
      expect(msgs[2]!.columns!.map((x) => [x.name, x.oid])).toEqual([['id', 20], ['v', 25]]);
      raw.close();
    } finally {
      await s.close();
    }
  });
});

describe('failures around statements', () => {
  it('answers a Query with ErrorResponse + ReadyForQuery when the implicit BEGIN fails', async () => {
    const failing = {
      connect: () => ({
        query: async (sql: string) => {
          if (sql === 'BEGIN') throw Object.assign(new Error('the database is closed'), { code: '57P01' });
          return { command: 'SELECT', rowCount: 1, columns: [{ name: 'a', type: 'INTEGER' }], rows: [[1]] };
        },
        close: () => undefined,
      }),
    };
    const s = createServer(failing, { httpPort: null, pgPort: 0 });
    const p = (await s.listen()).pgPort!;
    try {
      const c = await RawPgClient.connect(p);
      const msgs = await c.simple('SELECT 1; SELECT 2');
      expect(msgs.map((m) => m.error?.['C'] ?? m.type)).toEqual(['57P01', 'Z']);
      expect((await c.simple('SELECT 1')).map((m) => m.type).join('')).toBe('TDCZ');
      c.close();
    } finally {
      await s.close();
    }
  });
});

describe('password authentication', () => {
  for (const method of ['scram-sha-256', 'password'] as const) {
    it(`${method}: accepts the right password and rejects a wrong one with 28P01`, async () => {
      const s = createServer(new FakeDatabase(), { httpPort: null, pgPort: 0, pgPassword: 'sesame', pgAuthMethod: method });
      const p = (await s.listen()).pgPort!;
      try {
        const good = new pg.Client({ host: '127.0.0.1', port: p, user: 'u', password: 'sesame' });
        await good.connect();
        expect((await good.query('SELECT 1 AS a')).rows).toEqual([{ a: 1 }]);
        await good.end();
        const bad = new pg.Client({ host: '127.0.0.1', port: p, user: 'u', password: 'nope' });
        bad.on('error', () => undefined);
        await expect(bad.connect()).rejects.toMatchObject({ code: '28P01' });
      } finally {
        await s.close();
      }
    });
  }

  it('asks for SCRAM-SHA-256 by default', async () => {
    const s = createServer(new FakeDatabase(), { httpPort: null, pgPort: 0, pgPassword: 'x' });
    const p = (await s.listen()).pgPort!;
    try {
      const sock = net.connect(p, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const params = Buffer.from('user\0u\0\0');
      const head = Buffer.alloc(8);
      head.writeInt32BE(8 + params.length, 0);
      head.writeInt32BE(196608, 4);
      sock.write(Buffer.concat([head, params]));
      const reply = await new Promise<Buffer>((r) => sock.once('data', r));
      expect(String.fromCharCode(reply[0]!)).toBe('R');
      expect(reply.readInt32BE(5)).toBe(10);
      expect(reply.subarray(9).toString('latin1')).toBe('SCRAM-SHA-256\0\0');
      sock.destroy();
    } finally {
      await s.close();
    }
  });
});

describe('shutdown', () => {
  it('lets a running statement finish, then terminates sessions with 57P01', async () => {
    const fdb = new FakeDatabase();
    const s = createServer(fdb, { httpPort: null, pgPort: 0 });
    const p = (await s.listen()).pgPort!;
    const c = new pg.Client({ host: '127.0.0.1', port: p, user: 'u' });
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    const running = c.query('SELECT sleep(200)');
    await new Promise((r) => setTimeout(r, 50));
    const closing = s.close();
    expect((await running).rows).toEqual([{ sleep: 200 }]);
    await closing;
    expect(fdb.open).toBe(0);
    await waitFor(() => errors.length > 0);
    expect(errors[0]).toMatchObject({ code: '57P01' });
  });
});

describe('TLS', () => {
  it('switches to TLS on SSLRequest when the server has a certificate, with SCRAM over it', async () => {
    const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
    const tls = { key: readFileSync(path.join(fixtures, 'test-key.pem')), cert: readFileSync(path.join(fixtures, 'test-cert.pem')) };
    const s = createServer(new FakeDatabase(), { httpPort: null, pgPort: 0, pgTls: tls, pgPassword: 'pw' });
    const p = (await s.listen()).pgPort!;
    try {
      const secure = new pg.Client({ host: '127.0.0.1', port: p, user: 'u', password: 'pw', ssl: { ca: tls.cert, servername: 'localhost' } });
      await secure.connect();
      expect((await secure.query("SELECT 'over tls' AS a")).rows).toEqual([{ a: 'over tls' }]);
      const stream = (secure as unknown as { connection: { stream: { encrypted?: boolean; getProtocol?: () => string } } }).connection.stream;
      expect(stream.encrypted).toBe(true);
      await secure.end();
      // clients that do not ask still get plaintext
      const plain = new pg.Client({ host: '127.0.0.1', port: p, user: 'u', password: 'pw' });
      await plain.connect();
      expect((await plain.query('SELECT 1 AS a')).rows).toEqual([{ a: 1 }]);
      await plain.end();
      // plaintext sent right after SSLRequest (before 'S') is refused
      const sock = net.connect(p, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const req = Buffer.alloc(8);
      req.writeInt32BE(8, 0);
      req.writeInt32BE(80877103, 4);
      sock.write(Buffer.concat([req, Buffer.from('Xjunk')]));
      const reply = await new Promise<Buffer>((r) => { let b = Buffer.alloc(0); sock.on('data', (d: Buffer) => { b = Buffer.concat([b, d]); }); sock.on('close', () => r(b)); });
      expect(reply.toString('latin1')).toContain('08P01');
    } finally {
      await s.close();
    }
  });
});
