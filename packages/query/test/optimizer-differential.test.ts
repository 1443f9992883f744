/**
 * Seeded differential test: random multi-table queries must return the same rows with every
 * optimizer rule on and with them all off (FROM order, no pushdown, no pruning).
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { testDb } from './helpers.js';

const RULES_OFF = { disable_rule_join_reorder: 'on', disable_rule_push_down_filter: 'on', disable_rule_prune_columns: 'on', disable_rule_decorrelate_exists: 'on', disable_rule_index_scan: 'on' };

function canon(rows: unknown[][]): string[] {
  return rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).sort();
}

describe('optimizer rules preserve results', () => {
  it('random joins, filters, aggregates and subqueries (seeded)', async () => {
    const r = seededRandom(42);
    const on = await testDb();
    const off = await testDb(RULES_OFF);
    const tables = 5;
    for (const db of [on, off]) {
      const rr = seededRandom(7);
      for (let t = 0; t < tables; t++) {
        await db.exec(`CREATE TABLE r${t}(a INTEGER, b INTEGER, c TEXT)`);
        const rows = 5 + Math.floor(rr() * 20);
        const vals: string[] = [];
        for (let i = 0; i < rows; i++) {
          const a = rr() < 0.1 ? 'NULL' : String(Math.floor(rr() * 8));
          const b = rr() < 0.1 ? 'NULL' : String(Math.floor(rr() * 8));
          vals.push(`(${a}, ${b}, 'v${Math.floor(rr() * 4)}')`);
        }
        await db.exec(`INSERT INTO r${t} VALUES ${vals.join(', ')}`);
      }
    }
    const iterations = process.env['QUIVER_LONG'] ? 2000 : 150;
    for (let k = 0; k < iterations; k++) {
      const n = 1 + Math.floor(r() * 4);
      const ts = Array.from({ length: n }, () => Math.floor(r() * tables));
      const from = ts.map((t, i) => `r${t} AS x${i}`).join(', ');
      const conds: string[] = [];
      for (let i = 1; i < n; i++) conds.push(`x${Math.floor(r() * i)}.${r() < 0.5 ? 'a' : 'b'} = x${i}.${r() < 0.5 ? 'a' : 'b'}`);
      if (r() < 0.7) conds.push(`x${Math.floor(r() * n)}.a ${['<', '>', '=', '<>'][Math.floor(r() * 4)]} ${Math.floor(r() * 8)}`);
      if (r() < 0.3) conds.push(`x0.b IN (SELECT a FROM r${Math.floor(r() * tables)} WHERE c = 'v${Math.floor(r() * 4)}')`);
      if (r() < 0.2) conds.push(`EXISTS (SELECT 1 FROM r${Math.floor(r() * tables)} z WHERE z.a = x0.a)`);
      if (r() < 0.2) conds.push(`NOT EXISTS (SELECT 1 FROM r${Math.floor(r() * tables)} z WHERE z.b = x${n - 1}.a AND z.c <> 'v1')`);
      const where = conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
      const sql = r() < 0.5
        ? `SELECT x0.a, x${n - 1}.b, x0.c FROM ${from}${where}`
        : `SELECT x0.c, count(*), sum(x${n - 1}.a) FROM ${from}${where} GROUP BY x0.c`;
      expect(canon(await on.rows(sql)), sql).toEqual(canon(await off.rows(sql)));
    }
  });
});
