/**
 * memory_limit through SQL on a MemoryCatalog: ORDER BY spills (external merge sort) and keeps
 * the order; hash aggregation, hash joins, DISTINCT / set operations, windows and CTEs over the
 * limit fail with 53200 and leave the session usable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { testDb } from './helpers.js';
import type { TestDb } from './helpers.js';
import { MemorySpillSpace } from '../src/index.js';

const N = 20_000;
let db: TestDb;
let spill: MemorySpillSpace;
let settings: Map<string, string>;
/** the rows of big, as the model */
const model: { id: number; g: number; s: string; x: number | null }[] = [];

beforeAll(async () => {
  db = await testDb();
  settings = db.ctx.settings as Map<string, string>;
  spill = new MemorySpillSpace();
  db.ctx.spill = spill;
  const rnd = seededRandom(42);
  await db.exec('CREATE TABLE big(id INTEGER, g INTEGER, s TEXT, x DOUBLE PRECISION)');
  const values: string[] = [];
  for (let i = 0; i < N; i++) {
    const r = { id: i, g: Math.floor(rnd() * 50), s: `name-${Math.floor(rnd() * 5000)}`, x: rnd() < 0.05 ? null : Math.round(rnd() * 1e6) / 100 };
    model.push(r);
    values.push(`(${r.id}, ${r.g}, '${r.s}', ${r.x === null ? 'NULL' : r.x})`);
  }
  for (let i = 0; i < values.length; i += 2000) await db.exec(`INSERT INTO big VALUES ${values.slice(i, i + 2000).join(',')}`);
});

function withLimit<T>(limit: string | undefined, f: () => Promise<T>): Promise<T> {
  if (limit === undefined) settings.delete('memory_limit'); else settings.set('memory_limit', limit);
  return f().finally(() => settings.delete('memory_limit'));
}

describe('ORDER BY over memory_limit', () => {
  it('spills to sorted runs and returns the same order as in memory', async () => {
    const sql = 'SELECT id, s, x FROM big ORDER BY s DESC, x NULLS FIRST, id';
    const inMemory = await db.rows(sql);
    const before = spill.created;
    const spilled = await withLimit('256kB', () => db.rows(sql));
    expect(spill.created - before).toBeGreaterThan(1);
    expect(spill.live.size).toBe(0);
    expect(spilled).toEqual(inMemory);
    // against the model
    const want = [...model].sort((a, b) => (a.s < b.s ? 1 : a.s > b.s ? -1 : 0)
      || (a.x === b.x ? 0 : a.x === null ? -1 : b.x === null ? 1 : a.x - b.x) || a.id - b.id).map((r) => [r.id, r.s, r.x]);
    expect(spilled).toEqual(want);
  });
  it('ORDER BY ... LIMIT spills too and keeps the first rows', async () => {
    const sql = 'SELECT id, g FROM big ORDER BY g DESC, id LIMIT 25 OFFSET 10';
    expect(await withLimit('96kB', () => db.rows(sql))).toEqual(await db.rows(sql));
  });
  it('without a spill space it fails with 53200, and the session goes on', async () => {
    db.ctx.spill = undefined;
    try {
      expect(await withLimit('256kB', () => db.code('SELECT id, s FROM big ORDER BY s, id'))).toBe('53200');
      expect(await withLimit('256kB', () => db.rows('SELECT count(*) FROM big'))).toEqual([[BigInt(N)]]);
    } finally { db.ctx.spill = spill; }
  });
  it('a small sort stays in memory', async () => {
    const before = spill.created;
    expect(await withLimit('256kB', () => db.rows('SELECT g FROM big WHERE id < 5 ORDER BY g, id'))).toHaveLength(5);
    expect(spill.created).toBe(before);
  });
});

describe('hash aggregate over memory_limit', () => {
  it('many groups fail with 53200; the session stays usable; a larger limit succeeds', async () => {
    const sql = 'SELECT id, count(*), sum(x) FROM big GROUP BY id';
    expect(await withLimit('512kB', () => db.code(sql))).toBe('53200');
    expect(await withLimit('512kB', () => db.rows('SELECT g, count(*) FROM big WHERE g < 2 GROUP BY g ORDER BY g')))
      .toEqual([0, 1].map((g) => [g, BigInt(model.filter((r) => r.g === g).length)]));
    expect((await withLimit('64MB', () => db.rows(sql))).length).toBe(N);
  });
  it('count(DISTINCT) state is counted too', async () => {
    expect(await withLimit('256kB', () => db.code('SELECT g, count(DISTINCT s) FROM big GROUP BY g'))).toBe('53200');
    expect((await db.rows('SELECT g, count(DISTINCT s) FROM big GROUP BY g')).length).toBe(50);
  });
});

describe('joins, DISTINCT, set operations, windows, CTEs over memory_limit', () => {
  it('a hash join whose build side does not fit fails with 53200, then the session works', async () => {
    const sql = 'SELECT count(*) FROM big a JOIN big b ON a.s = b.s AND a.id = b.id';
    expect(await withLimit('256kB', () => db.code(sql))).toBe('53200');
    expect(await withLimit('256kB', () => db.rows('SELECT count(*) FROM big WHERE g = 7'))).toEqual([[BigInt(model.filter((r) => r.g === 7).length)]]);
    expect(await db.rows(sql)).toEqual([[BigInt(N)]]);
  });
  it('a join whose result does not fit fails with 53200', async () => {
    // about 8 M joined rows
    expect(await withLimit('16MB', () => db.code('SELECT count(*) FROM big a JOIN big b ON a.g = b.g'))).toBe('53200');
  });
  it('a cross join is checked before its pairs are allocated', async () => {
    expect(await withLimit('16MB', () => db.code('SELECT count(*) FROM big a CROSS JOIN big b'))).toBe('53200');
  });
  it('DISTINCT and UNION hash sets', async () => {
    expect(await withLimit('128kB', () => db.code('SELECT DISTINCT id, s FROM big'))).toBe('53200');
    expect(await withLimit('128kB', () => db.code('SELECT id FROM big UNION SELECT id + 1 FROM big'))).toBe('53200');
    expect((await db.rows('SELECT id FROM big UNION SELECT id + 1 FROM big')).length).toBe(N + 1);
  });
  it('window partitions and CTE work tables', async () => {
    expect(await withLimit('128kB', () => db.code('SELECT id, row_number() OVER (PARTITION BY g ORDER BY id) FROM big'))).toBe('53200');
    expect(await withLimit('128kB', () => db.code('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 50000) SELECT count(*) FROM r'))).toBe('53200');
    expect(await db.rows('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 50000) SELECT count(*) FROM r')).toEqual([[50000n]]);
  });
  it('an invalid memory_limit is 22023', async () => {
    expect(await withLimit('lots', () => db.code('SELECT count(*) FROM big GROUP BY g'))).toBe('22023');
  });
});
