/**
 * Multi-row INSERTs into a table with unique keys, on and off the append path of the index
 * (keys ascending past the largest one present): every guarantee of the row-by-row path holds —
 * 23505 within the batch and against present rows (the statement leaves nothing behind), waits
 * for a running transaction's key, NOT NULL / type errors — checked against a model of the keys.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { Database } from '../src/index.js';

const values = (ids: readonly number[]) => `VALUES ${ids.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')}`;
const params = (ids: readonly number[]) => ids.flatMap((id) => [id, `v${id}`]);

describe('multi-row INSERT and unique keys', () => {
  for (const where of ['memory', 'directory'] as const) {
    it(`agrees with a model on random batches (${where})`, async () => {
      const dir = where === 'directory' ? mkdtempSync(join(tmpdir(), 'qv-bulk-')) : undefined;
      try {
        const db = await Database.open(dir ?? ':memory:');
        const c = db.connect();
        await c.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, u INTEGER UNIQUE)');
        const present = new Set<number>();
        let max = 0;
        const rnd = seededRandom(77);
        for (let round = 0; round < 300; round++) {
          const n = 1 + Math.floor(rnd() * 30);
          const kind = rnd();
          let ids: number[];
          if (kind < 0.4) ids = Array.from({ length: n }, (_, i) => max + 1 + i); // append path
          else if (kind < 0.5) ids = Array.from({ length: n }, (_, i) => max + n - i); // descending past the end: appended sorted
          else if (kind < 0.65) ids = Array.from({ length: n }, (_, i) => max + 1 + Math.floor(i / 2)); // duplicate inside
          else if (kind < 0.8) ids = Array.from({ length: n }, (_, i) => max + i); // starts at the largest key
          else ids = Array.from({ length: n }, () => 1 + Math.floor(rnd() * (max + 10))); // anywhere
          const fresh = new Set(ids).size === ids.length && ids.every((id) => !present.has(id));
          const p = c.query(`INSERT INTO t (id, v) ${values(ids)}`, params(ids));
          if (fresh) {
            await p;
            for (const id of ids) present.add(id);
            max = Math.max(max, ...ids);
          } else {
            await expect(p).rejects.toMatchObject({ code: '23505' });
          }
          if (round % 60 === 0 && present.size > 0) {
            // deletes leave index entries behind: re-inserting the largest keys must still work
            const gone = [...present].sort((a, b) => b - a).slice(0, 3);
            await c.query(`DELETE FROM t WHERE id IN (${gone.join(', ')})`);
            for (const id of gone) present.delete(id);
          }
        }
        const r = await c.query('SELECT id FROM t ORDER BY id');
        expect(r.rows.map((x) => x[0])).toEqual([...present].sort((a, b) => a - b));
        for (const id of [...present].slice(0, 20)) expect((await c.query('SELECT v FROM t WHERE id = $1', [id])).rows).toEqual([[`v${id}`]]);
        // the second unique index takes the append path too, with NULLs allowed twice
        await c.query(`UPDATE t SET u = id WHERE id > ${max - 5}`);
        await expect(c.query('INSERT INTO t (id, v, u) VALUES ($1, $2, $3), ($4, $5, $6)', [max + 1, 'a', max + 1, max + 2, 'b', max + 1])).rejects.toMatchObject({ code: '23505' });
        await c.query('INSERT INTO t (id, v, u) VALUES ($1, $2, NULL), ($3, $4, NULL)', [max + 1, 'a', max + 2, 'b']);
        await expect(c.query('INSERT INTO t (id, v) VALUES ($1, $2), ($3, NULL)', [max + 3, 'a', max + 4])).rejects.toMatchObject({ code: '23502' });
        await expect(c.query('INSERT INTO t (id, v) VALUES ($1, $2), ($3, $4)', [max + 3, 'a', 'x', 'b'])).rejects.toMatchObject({ code: '22P02' });
        expect((await c.query(`SELECT count(*) FROM t WHERE id > ${max + 2}`)).rows).toEqual([[0n]]);
        await c.close();
        await db.close();
        if (dir) {
          // reopened: the persisted index holds what the appends added
          const db2 = await Database.open(dir);
          const c2 = db2.connect();
          await expect(c2.query('INSERT INTO t (id, v) VALUES ($1, $2), ($3, $4)', [max + 2, 'x', max + 3, 'y'])).rejects.toMatchObject({ code: '23505' });
          await c2.query('INSERT INTO t (id, v) VALUES ($1, $2), ($3, $4)', [max + 3, 'x', max + 4, 'y']);
          expect((await c2.query('SELECT count(*) FROM t')).rows).toEqual([[BigInt(present.size + 4)]]);
          await c2.close();
          await db2.close();
        }
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }

  it('an append past a running transaction\'s uncommitted key waits for it (23505 once it commits)', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    await a.query('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    await a.query('INSERT INTO t VALUES (1), (2)');
    await a.query('BEGIN');
    await a.query('INSERT INTO t VALUES (3), (4)');
    // b's batch starts at a's uncommitted largest key: not an append, it waits for a
    let settled = false;
    const p = b.query('INSERT INTO t VALUES (4), (5)').finally(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    await a.query('COMMIT');
    await expect(p).rejects.toMatchObject({ code: '23505' });
    // past every key: appended without waiting
    await b.query('INSERT INTO t VALUES (5), (6)');
    expect((await a.query('SELECT count(*) FROM t')).rows).toEqual([[6n]]);
    await a.close();
    await b.close();
    await db.close();
  });
});
