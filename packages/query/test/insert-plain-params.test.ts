/**
 * Multi-row `INSERT ... VALUES ($1, ...), ...` of plain untyped parameters (the bulk-load shape,
 * built straight from the parameters by exec/statement.ts `plainParamValues`) stores exactly what
 * the per-item path stores, and fails with the same SQLSTATE. The model is the same statement
 * with `ON CONFLICT DO NOTHING` (no row conflicts), which always takes the per-item path.
 *
 * Invariants:
 *  1. Seeded (seededRandom): the same cases every run.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { testDb } from './helpers.js';
import type { TestDb } from './helpers.js';

const COLUMNS = '(id INTEGER PRIMARY KEY, i INTEGER, d DOUBLE PRECISION, s TEXT, v VARCHAR, n INTEGER NOT NULL)';

/** Parameter values: mostly ones stored as they are, some needing a cast, a range check or NULL. */
const POOL: unknown[] = [
  0, 1, -1, 42, 2147483647, -2147483648, 2147483648, -2147483649, 1.5, -0, NaN, Infinity, 1e300,
  'abc', '', '12', ' 7 ', 'x\u00e9\u{1F600}', '1e3', 'nan', null, undefined, 10n, 2n ** 40n, true, false,
];

function pick(rnd: () => number): unknown {
  const r = rnd();
  if (r < 0.35) return Math.floor(rnd() * 2000) - 1000;
  if (r < 0.5) return rnd() * 1000;
  if (r < 0.65) return `k${Math.floor(rnd() * 1e6).toString(36)}`;
  return POOL[Math.floor(rnd() * POOL.length)];
}

async function snapshot(db: TestDb, table: string): Promise<unknown[][]> {
  return db.rows(`SELECT id, i, d, s, v, n FROM ${table} ORDER BY id`);
}

let db: TestDb;
beforeAll(async () => {
  db = await testDb();
  await db.exec(`CREATE TABLE fast ${COLUMNS}; CREATE TABLE model ${COLUMNS}`);
});

describe('INSERT of plain $n parameters', () => {
  it('stores what the per-item path stores, or fails with its SQLSTATE (seeded cases)', async () => {
    const rnd = seededRandom(4_2026);
    let nextId = 1;
    let failures = 0;
    for (let c = 0; c < 400; c++) {
      const rows = 1 + Math.floor(rnd() * 12);
      // values stored as they are; in most statements one to three of them replaced by any value
      const params: unknown[] = [];
      const tuples: string[] = [];
      for (let r = 0; r < rows; r++) {
        const p = params.length;
        tuples.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6})`);
        params.push(nextId++, Math.floor(rnd() * 1e6) - 5e5, rnd() * 100, `s${r}`, `v${c}`, r);
      }
      const odd = rnd() < 0.3 ? 0 : 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < odd; k++) {
        const at = Math.floor(rnd() * params.length);
        if (at % 6 !== 0) params[at] = pick(rnd);
      }
      const sql = `VALUES ${tuples.join(', ')}`;
      const fast = await db.code(`INSERT INTO fast ${sql}`, params);
      const model = await db.code(`INSERT INTO model ${sql} ON CONFLICT DO NOTHING`, params);
      expect(fast).toBe(model);
      if (fast !== undefined) failures++;
    }
    // both kinds of statement were met
    expect(failures).toBeGreaterThan(20);
    expect(failures).toBeLessThan(380);
    const a = await snapshot(db, 'fast');
    expect(a.length).toBeGreaterThan(100);
    expect(a).toEqual(await snapshot(db, 'model'));
  });

  it('a missing parameter is 42P02 and a NULL into NOT NULL is 23502, as on the per-item path', async () => {
    expect(await db.code('INSERT INTO fast VALUES ($1, $2, $3, $4, $5, $6)', [100000, 1, 1.5, 'a', 'b'])).toBe('42P02');
    expect(await db.code('INSERT INTO fast VALUES ($1, $2, $3, $4, $5, $6)', [100000, 1, 1.5, 'a', 'b', null])).toBe('23502');
    expect(await db.code('INSERT INTO fast VALUES ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12)',
      [100001, 1, 1.5, 'a', 'b', 1, 100001, 2, 2.5, 'c', 'd', 2])).toBe('23505');
    expect(await db.rows('SELECT count(*) FROM fast WHERE id >= 100000')).toEqual([[0n]]);
  });
});
