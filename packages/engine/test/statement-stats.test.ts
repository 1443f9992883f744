import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { normalizeStatement } from '../src/stats/statement-stats.js';

/** The regular-expression normalization `normalizeStatement` replaces (its naive model). */
function modelNormalize(sql: string): string {
  const text = sql.length > 1000 ? `${sql.slice(0, 1000)}…` : sql;
  let n = 0;
  if (text.includes('$')) for (const m of text.matchAll(/\$(\d+)/g)) n = Math.max(n, Number(m[1]));
  return text
    .trim()
    .replace(/;\s*$/, '')
    .replace(/\$\d+|'(?:[^']|'')*'|\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, (m) => (m.startsWith('$') ? m : `$${++n}`))
    .replace(/\s+/g, ' ');
}

describe('normalizeStatement', () => {
  it('gives what the regular expressions give, on random texts of the tricky characters (fixed seed)', () => {
    const parts = ["'", "''", '$', '$1', '$12', '1', '23', '.', '.5', 'e', 'E', 'e+', '-', '+', 'a', '_', 'x1', ' ', '  ', '\t', '\n', ';', '; ', 'é', '\u00a0', '\u3000', 'SELECT ', ' = ', ',', '(', ')'];
    let seed = 20261126;
    const rnd = (k: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % k; };
    for (let t = 0; t < 20000; t++) {
      let sql = '';
      const len = rnd(14);
      for (let i = 0; i < len; i++) sql += parts[rnd(parts.length)];
      expect(normalizeStatement(sql), JSON.stringify(sql)).toBe(modelNormalize(sql));
    }
    const long = `INSERT INTO t VALUES ${Array.from({ length: 400 }, (_, i) => `(${i}, 'v${i}', ${i}.5e3)`).join(', ')};`;
    expect(normalizeStatement(long)).toBe(modelNormalize(long));
  });
});

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
