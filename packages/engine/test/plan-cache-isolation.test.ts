/**
 * Cached plans belong to one database: two databases of one process with the same DDL history
 * (same catalog version count) but different indexes must not share a plan for the same text.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('plan cache across databases', () => {
  it('never serves a plan built for another database', async () => {
    const a = await Database.open(':memory:');
    const b = await Database.open(':memory:');
    const ca = a.connect(), cb = b.connect();
    await ca.query('CREATE TABLE jobs (id INTEGER PRIMARY KEY, v TEXT)');
    await cb.query('CREATE TABLE jobs (id INTEGER, v TEXT)');
    await ca.query("INSERT INTO jobs VALUES (1, 'a'), (2, 'b')");
    await cb.query("INSERT INTO jobs VALUES (1, 'x'), (1, 'y'), (2, 'z')");
    const sql = 'SELECT v FROM jobs WHERE id = $1 ORDER BY v';
    for (let i = 0; i < 3; i++) {
      expect((await ca.query(sql, [1])).rows).toEqual([['a']]);
      expect((await cb.query(sql, [1])).rows).toEqual([['x'], ['y']]);
    }
    await a.close(); await b.close();
  });
});
