import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('repeated statement texts (parse cache)', () => {
  it('run the same INSERT / UPDATE / DELETE text many times with different parameters', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT DEFAULT \'d\', n INTEGER)');
    for (let i = 0; i < 50; i++) await c.query('INSERT INTO t (id, n) VALUES ($1, $2), ($3, $4) RETURNING id', [i * 2, i, i * 2 + 1, -i]);
    for (let i = 0; i < 50; i++) await c.query("UPDATE t SET v = v || 'x', n = n + $2 WHERE id = $1", [i, 100]);
    for (let i = 0; i < 10; i++) await c.query('DELETE FROM t WHERE id = $1', [99 - i]);
    const r = await c.query("SELECT count(*), sum(n), count(*) FILTER (WHERE v = 'dx') FROM t");
    // ids 0..49 got +100 each; ids 90..99 were deleted
    expect(r.rows).toEqual([[90n, BigInt(50 * 100 + sumKept()), 50n]]);
    await expect(c.query('INSERT INTO t (id, n) VALUES ($1, $2), ($3, $4) RETURNING id', [0, 0, 500, 0])).rejects.toMatchObject({ code: '23505' });
    await db.close();
  });
});

/** sum of n over the 90 rows left (ids 0..89): even id 2i holds i, odd id 2i+1 holds -i */
function sumKept(): number {
  let s = 0;
  for (let id = 0; id < 90; id++) s += id % 2 === 0 ? id / 2 : -(id - 1) / 2;
  return s;
}
