import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('statement_timeout', () => {
  it('stops a long scan between batches with 57014 and leaves the session usable', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE big (a INTEGER)');
    await c.query('INSERT INTO big SELECT * FROM generate_series(1, 200000)');
    await c.query("SET statement_timeout = '30ms'");
    const t0 = performance.now();
    await expect(c.query('SELECT count(*) FROM big x, big y WHERE x.a + y.a = -1')).rejects.toMatchObject({ code: '57014' });
    expect(performance.now() - t0).toBeLessThan(20_000);
    await c.query('RESET statement_timeout');
    expect((await c.query('SELECT count(*) FROM big')).rows).toEqual([[200000n]]);
    await db.close();
  });
});
