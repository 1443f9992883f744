import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('UPDATE / DELETE by key', () => {
  it('find their rows through the primary key index and agree with a full scan', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE kv (id INTEGER PRIMARY KEY, v INTEGER, grp INTEGER)');
    const rows: string[] = [];
    for (let i = 0; i < 20000; i++) rows.push(`(${i}, ${i}, ${i % 10})`);
    await c.query(`INSERT INTO kv VALUES ${rows.join(',')}`);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) await c.query('UPDATE kv SET v = v + 1 WHERE id = $1', [i * 7]);
    const perUpdate = (performance.now() - t0) / 200;
    await c.query('DELETE FROM kv WHERE id IN (1, 2, 3) OR id = 5');
    await c.query('SET disable_rule_index_scan = on');
    const viaScan = (await c.query('SELECT sum(v), count(*) FROM kv')).rows;
    await c.query('RESET disable_rule_index_scan');
    expect((await c.query('SELECT sum(v), count(*) FROM kv')).rows).toEqual(viaScan);
    expect(viaScan).toEqual([[BigInt((19999 * 20000) / 2 + 200 - (1 + 2 + 3 + 5)), 19996n]]);
    expect((await c.query('SELECT v FROM kv WHERE id = 7')).rows).toEqual([[8]]);
    // a full scan of 20,000 rows per statement would take several ms; the index makes it far less
    await c.query('SET disable_rule_index_scan = on');
    const t1 = performance.now();
    for (let i = 0; i < 20; i++) await c.query('UPDATE kv SET v = v WHERE id = $1', [i * 7]);
    const perScan = (performance.now() - t1) / 20;
    console.log(`update by key: ${perUpdate.toFixed(2)} ms per statement with the index, ${perScan.toFixed(2)} ms with a scan`);
    await db.close();
  });
});
