/**
 * Seeded randomized protocol test: several pg clients fire interleaved simple and extended
 * queries (some failing) without waiting for each other; every answer must be the one its own
 * query asked for, in order, per session — the model is "each query's expected outcome".
 * QUIVER_LONG=1 runs more clients and queries.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import net from 'node:net';
import { createServer } from '../src/index.js';
import { FakeDatabase } from './fake-database.js';
import { seededRandom } from '@quiverdb/common';

const LONG = process.env['QUIVER_LONG'] === '1';

describe('many clients, interleaved', () => {
  it('answers every query of every session with its own result, in order', async () => {
    const db = new FakeDatabase();
    const server = createServer(db, { httpPort: null, pgPort: 0 });
    const port = (await server.listen()).pgPort!;
    const clients = LONG ? 16 : 5;
    const perClient = LONG ? 400 : 40;
    try {
      await Promise.all(Array.from({ length: clients }, async (_, ci) => {
        const random = seededRandom(1000 + ci);
        const c = new pg.Client({ host: '127.0.0.1', port, user: `u${ci}` });
        await c.connect();
        const pending: Promise<void>[] = [];
        for (let q = 0; q < perClient; q++) {
          const n = Math.floor(random() * 1e6);
          const kind = Math.floor(random() * 4);
          if (kind === 0) {
            pending.push(c.query(`SELECT ${n} AS n, '${ci}-${q}' AS tag`).then((r) => expect(r.rows).toEqual([{ n, tag: `${ci}-${q}` }])));
          } else if (kind === 1) {
            pending.push(c.query('SELECT $1::INTEGER AS n, $2 AS tag', [n, `${ci}-${q}`]).then((r) => expect(r.rows).toEqual([{ n, tag: `${ci}-${q}` }])));
          } else if (kind === 2) {
            pending.push(c.query('SELECT * FROM no_such_table_' + n).then(
              () => { throw new Error('expected an error'); },
              (e: pg.DatabaseError) => expect(e.code).toBe('42P01'),
            ));
          } else {
            pending.push(c.query('SELECT n FROM generate($1)', [n % 50]).then((r) => expect(r.rowCount).toBe(n % 50)));
          }
        }
        await Promise.all(pending);
        await c.end();
      }));
    } finally {
      await server.close();
    }
  });
});

describe('framing', () => {
  it('reassembles messages that arrive one byte at a time', async () => {
    const server = createServer(new FakeDatabase(), { httpPort: null, pgPort: 0 });
    const port = (await server.listen()).pgPort!;
    try {
      const sock = net.connect(port, '127.0.0.1');
      sock.setNoDelay(true);
      await new Promise((r) => sock.once('connect', r));
      let received = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => { received = Buffer.concat([received, d]); });
      const params = Buffer.from('user\0bytes\0\0');
      const startup = Buffer.alloc(8);
      startup.writeInt32BE(8 + params.length, 0);
      startup.writeInt32BE(196608, 4);
      const sql = Buffer.from("SELECT 'ok' AS a\0");
      const q = Buffer.alloc(5);
      q[0] = 0x51;
      q.writeInt32BE(4 + sql.length, 1);
      const all = Buffer.concat([startup, params, q, sql]);
      for (const byte of all) {
        sock.write(Buffer.from([byte]));
        await new Promise((r) => setImmediate(r));
      }
      const end = Date.now() + 5000;
      // wait for the second ReadyForQuery ('Z' after the query)
      while ((received.toString('latin1').match(/Z\0\0\0\x05I/g) ?? []).length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      const text = received.toString('latin1');
      expect((text.match(/Z\0\0\0\x05I/g) ?? []).length).toBe(2);
      expect(text).toContain('SELECT 1\0');
      expect(text).toContain('ok');
      sock.destroy();
    } finally {
      await server.close();
    }
  });

  it('closes the connection with FATAL 08P01 on an invalid message type', async () => {
    const server = createServer(new FakeDatabase(), { httpPort: null, pgPort: 0 });
    const port = (await server.listen()).pgPort!;
    try {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'u' });
      await c.connect();
      const errors: unknown[] = [];
      c.on('error', (e) => errors.push(e));
      const sock = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
      const bad = Buffer.alloc(5);
      bad[0] = 0x7a; // 'z' is not a frontend message
      bad.writeInt32BE(4, 1);
      sock.write(bad);
      const end = Date.now() + 5000;
      while (errors.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(errors[0]).toMatchObject({ code: '08P01', severity: 'FATAL' });
    } finally {
      await server.close();
    }
  });
});
