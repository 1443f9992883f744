/**
 * Multi-row INSERTs of `$n` / `$n::T` parameters (the typed-column path bulk loads take) store what
 * the same rows inserted one at a time store, for every column kind the path handles (INTEGER,
 * DOUBLE, TEXT, DATE from date text or Date objects) and for the values it hands back to the
 * row-by-row path (NULL, a bad date, infinity, a fraction into INTEGER): same rows, same SQLSTATEs.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { Database } from '../src/index.js';

const COLS = 4;
const multi = (rows: number, cast: boolean) =>
  `INSERT INTO t VALUES ${Array.from({ length: rows }, (_, r) => `($${r * COLS + 1}, $${r * COLS + 2}, $${r * COLS + 3}, $${r * COLS + 4}${cast ? '::date' : ''})`).join(', ')}`;

async function outcome(c: ReturnType<Database['connect']>, sql: string, params: unknown[]): Promise<string> {
  try { await c.query(sql, params); return 'ok'; } catch (e) { return (e as { code?: string }).code ?? String(e); }
}

describe('multi-row INSERT with typed parameters', () => {
  it('equals row-by-row inserts of the same values (seeded random batches)', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    await a.query('CREATE TABLE t (i INTEGER, d DOUBLE PRECISION, s TEXT, day DATE)');
    await b.query('CREATE TABLE u (i INTEGER, d DOUBLE PRECISION, s TEXT, day DATE)');
    const rnd = seededRandom(4242);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const odd = [null, 'not a date', 'infinity', '2024-02-30', 1.5];
    const seen = new Set<string>();
    for (let round = 0; round < 120; round++) {
      const rows = 1 + Math.floor(rnd() * 8);
      const cast = rnd() < 0.5;
      const params: unknown[] = [];
      for (let r = 0; r < rows; r++) {
        const days = Math.floor(rnd() * 40000) - 10000;
        const date = new Date(days * 86_400_000);
        const text = date.toISOString().slice(0, 10);
        const rare = rnd() < 0.04;
        params.push(rare ? pick([null, 2.5]) : Math.floor(rnd() * 2e9) - 1e9,
          rnd() * 1e6 - 5e5,
          rare ? pick([null, '']) : `s${round}-${r}`,
          rare ? pick(odd) : rnd() < 0.5 ? date : text);
      }
      const got = await outcome(a, multi(rows, cast), params);
      // the model: the same rows one statement each, all or nothing
      await b.query('BEGIN');
      let want = 'ok';
      for (let r = 0; r < rows && want === 'ok'; r++) {
        want = await outcome(b, `INSERT INTO u VALUES ($1, $2, $3, $4${cast ? '::date' : ''})`, params.slice(r * COLS, r * COLS + COLS));
      }
      await b.query(want === 'ok' ? 'COMMIT' : 'ROLLBACK');
      expect(got, `round ${round}`).toBe(want);
      seen.add(got);
    }
    const t = await a.query('SELECT i, d, s, day::text FROM t ORDER BY s, i');
    const u = await b.query('SELECT i, d, s, day::text FROM u ORDER BY s, i');
    expect(t.rows.length).toBeGreaterThan(200);
    expect(seen.size).toBeGreaterThan(2); // rounds stored, and rounds failed with more than one SQLSTATE
    expect(t.rows).toEqual(u.rows);
    await db.close();
  });
});
