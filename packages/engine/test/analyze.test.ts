import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('ANALYZE', () => {
  it('computes row count, distinct counts, null fraction, min/max, MCVs and histograms', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE t (id INTEGER PRIMARY KEY, grp INTEGER, name TEXT)');
    const values: string[] = [];
    for (let i = 0; i < 5000; i++) values.push(`(${i}, ${i % 7}, ${i % 10 === 0 ? 'NULL' : `'n${i % 100}'`})`);
    await c.query(`INSERT INTO t VALUES ${values.join(',')}`);
    await c.query('ANALYZE t');
    const id = db.committedCatalog.table('public', 't')!.id;
    const s = db.tableStats(id)!;
    expect(s.rowCount).toBe(5000);
    const [ids, grp, name] = s.columns;
    expect(Math.abs(ids!.distinct - 5000) / 5000).toBeLessThan(0.05);
    expect(ids!.min).toBe(0);
    expect(ids!.max).toBe(4999);
    expect(grp!.distinct).toBe(7);
    expect(grp!.mcv!.length).toBe(7);
    expect(name!.nullFraction).toBeCloseTo(0.1, 5);
    expect(name!.distinct).toBe(90);
    expect(ids!.histogram!.length).toBeGreaterThan(10);
    await db.close();
  });
});
