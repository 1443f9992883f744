import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { normalizeStatement } from '../src/stats/statement-stats.js';

describe('pg_stat_statements and OPTIMIZE', () => {
  it('counts calls and rows per normalized statement', async () => {
    expect(normalizeStatement("SELECT * FROM t WHERE a = 1 AND b = 'x';")).toBe('SELECT * FROM t WHERE a = $1 AND b = $2');
    // parameters keep their numbers; literals are numbered after the highest one
    expect(normalizeStatement('SELECT v FROM kv WHERE id = $1')).toBe('SELECT v FROM kv WHERE id = $1');
    expect(normalizeStatement('SELECT v FROM kv WHERE id = $2 AND g = 7 AND k = $1')).toBe('SELECT v FROM kv WHERE id = $2 AND g = $3 AND k = $1');
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE t (a INTEGER)');
    await c.query('INSERT INTO t VALUES (1), (2), (3)');
    for (let i = 0; i < 3; i++) await c.query(`SELECT a FROM t WHERE a >= ${i}`);
    const r = await c.query("SELECT calls, rows FROM pg_stat_statements WHERE query = 'SELECT a FROM t WHERE a >= $1'");
    expect(r.rows).toEqual([[3n, 8n]]);
    expect((await c.query('OPTIMIZE t')).command).toBe('OPTIMIZE');
    expect((await c.query('SELECT count(*) FROM t')).rows).toEqual([[3n]]);
    await expect(c.query('OPTIMIZE nope')).rejects.toMatchObject({ code: '42P01' });
    await db.close();
  });
});
