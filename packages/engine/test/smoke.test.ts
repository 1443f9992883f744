import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('engine end to end', () => {
  it('creates, inserts, selects in memory', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c DOUBLE PRECISION)');
    const ins = await c.query("INSERT INTO t VALUES (1, 'one', 1.5), (2, 'two', 2.5), ($1, $2, $3)", [3, 'three', 3.5]);
    expect(ins.rowCount).toBe(3);
    expect(ins.command).toBe('INSERT');
    const r = await c.query('SELECT a, b FROM t WHERE a > $1 ORDER BY a DESC LIMIT 2', [1]);
    expect(r.columns).toEqual([{ name: 'a', type: 'INTEGER' }, { name: 'b', type: 'TEXT' }]);
    expect(r.rows).toEqual([[3, 'three'], [2, 'two']]);
    await expect(c.query("INSERT INTO t VALUES (1, 'dup', 0)")).rejects.toMatchObject({ code: '23505' });
    await expect(c.query('SELECT * FROM nope')).rejects.toMatchObject({ code: '42P01' });
    await c.close();
    await db.close();
  });
});
