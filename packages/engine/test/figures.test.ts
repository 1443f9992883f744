import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('per-table and per-index figures', () => {
  it('quiver_tables and quiver_indexes describe storage, statistics and indexes', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    await c.query("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    await c.query('DELETE FROM t WHERE id = 3');
    await c.query('ANALYZE t');
    const r = await c.query("SELECT rows, analyzed_rows, last_analyze IS NOT NULL FROM quiver_tables WHERE table_name = 't'");
    expect(r.rows).toEqual([[2n, 2n, true]]);
    const ix = await c.query("SELECT index_name, method, is_primary, columns, entries FROM quiver_indexes WHERE table_name = 't'");
    expect(ix.rows).toEqual([['t_pkey', 'btree', true, 'id', 3n]]);
    await db.close();
  });
});
