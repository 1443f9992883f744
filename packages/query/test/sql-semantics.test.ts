/** End-to-end SQL semantics through the public API on a MemoryCatalog (PostgreSQL behaviour). */
import { describe, expect, it, beforeAll } from 'vitest';
import { testDb } from './helpers.js';
import type { TestDb } from './helpers.js';
import { parseSql, prepareStatement, resultToArrow } from '../src/index.js';
import type { MemoryCatalog } from '../src/index.js';

let db: TestDb;
beforeAll(async () => {
  db = await testDb();
  await db.exec(`CREATE TABLE t(a INTEGER, b INTEGER, c TEXT);
    INSERT INTO t VALUES (1, 10, 'x'), (2, 20, 'y'), (3, NULL, 'z'), (NULL, 40, NULL)`);
  await db.exec(`CREATE TABLE u(a INTEGER PRIMARY KEY, d VARCHAR(5) NOT NULL DEFAULT 'dd', n NUMERIC(6,2) CHECK (n >= 0))`);
});

describe('arithmetic and types', () => {
  it('integer division truncates; int + int stays int', async () => {
    expect(await db.rows('SELECT 7 / 2, -7 / 2, 7 % 3, -7 % 3, 2 + 3')).toEqual([[3, -3, 1, -1, 5]]);
  });
  it('division by zero is 22012, overflow is 22003', async () => {
    expect(await db.code('SELECT 1 / 0')).toBe('22012');
    expect(await db.code('SELECT a / 0 FROM t')).toBe('22012');
    expect(await db.code('SELECT 2147483647 + 1')).toBe('22003');
    expect(await db.code('SELECT CAST(3000000000 AS INTEGER)')).toBe('22003');
  });
  it('numeric literals are exact', async () => {
    expect(await db.rows('SELECT 0.1 + 0.2, 1.50 * 2, 10 / 4.0')).toEqual([['0.3', '3.00', '2.5000000000000000']]);
  });
  it('sum(int) is bigint, avg(int) numeric, count bigint', async () => {
    const r = await db.exec('SELECT sum(a), avg(a), count(*), count(a), min(c), max(b) FROM t');
    expect(r.columns.map((c) => c.type.id)).toEqual(['BIGINT', 'NUMERIC', 'BIGINT', 'BIGINT', 'TEXT', 'INTEGER']);
    expect(await db.rows('SELECT sum(a), avg(a), count(*), count(a), min(c), max(b) FROM t')).toEqual([[6n, '2.0000000000000000', 4n, 3n, 'x', 40]]);
  });
  it('casts follow PostgreSQL', async () => {
    expect(await db.rows("SELECT CAST(2.5 AS INTEGER), CAST(-2.5 AS INTEGER), CAST(2.5::float8 AS INTEGER), '12'::int + 1, CAST(7 AS TEXT) || 'x'"))
      .toEqual([[3, -3, 2, 13, '7x']]);
    expect(await db.code("SELECT 'abc'::integer")).toBe('22P02');
  });
  it('three-valued logic', async () => {
    expect(await db.rows('SELECT NULL AND false, NULL OR true, NOT (NULL::boolean), 1 IN (2, NULL), 1 NOT IN (2, NULL), 1 IN (1, NULL)'))
      .toEqual([[false, true, null, null, null, true]]);
  });
  it('CASE evaluates branches lazily', async () => {
    expect(await db.rows('SELECT CASE WHEN a = 0 THEN 0 ELSE 10 / a END FROM t WHERE a IS NOT NULL ORDER BY 1')).toEqual([[3], [5], [10]]);
  });
  it('text compares by code point and concatenates', async () => {
    expect(await db.rows("SELECT 'B' < 'a', 'abc' || 'd', upper('x'), length('héllo'), substr('hello', 2, 3)")).toEqual([[true, 'abcd', 'X', 5, 'ell']]);
  });
  it('dates, timestamps and intervals', async () => {
    expect(await db.rows("SELECT DATE '2024-01-31' + 1, DATE '2024-03-01' - DATE '2024-02-01', TIMESTAMP '2024-01-31 10:00:00' + INTERVAL '1 month', EXTRACT(YEAR FROM DATE '2024-05-06')"))
      .toEqual([['2024-02-01', 29, '2024-02-29 10:00:00', '2024']]);
    expect(await db.rows('SELECT now(), current_date')).toEqual([['2024-03-05 12:34:56', '2024-03-05']]);
  });
});

describe('queries', () => {
  it('NULLs sort last ascending and first descending', async () => {
    expect(await db.rows('SELECT a FROM t ORDER BY a')).toEqual([[1], [2], [3], [null]]);
    expect(await db.rows('SELECT a FROM t ORDER BY a DESC')).toEqual([[null], [3], [2], [1]]);
    expect(await db.rows('SELECT a FROM t ORDER BY a NULLS FIRST LIMIT 2')).toEqual([[null], [1]]);
  });
  it('GROUP BY, HAVING, ordinals and aliases', async () => {
    expect(await db.rows('SELECT a % 2 AS p, count(*) AS n FROM t WHERE a IS NOT NULL GROUP BY p HAVING count(*) > 0 ORDER BY 1')).toEqual([[0, 1n], [1, 2n]]);
    expect(await db.code('SELECT a, count(*) FROM t GROUP BY b')).toBe('42803');
  });
  it('ROLLUP and GROUPING SETS', async () => {
    expect(await db.rows('SELECT a % 2, count(*) FROM t WHERE a IS NOT NULL GROUP BY ROLLUP (a % 2) ORDER BY 1 NULLS LAST')).toEqual([[0, 1n], [1, 2n], [null, 3n]]);
    expect(await db.rows('SELECT a % 2, c, GROUPING(a % 2, c), count(*) FROM t WHERE a IS NOT NULL GROUP BY CUBE (a % 2, c) HAVING GROUPING(c) = 1 ORDER BY 3, 1'))
      .toEqual([[0, null, 1, 1n], [1, null, 1, 2n], [null, null, 3, 3n]]);
    expect(await db.rows('SELECT GROUPING(a), count(*) FROM t GROUP BY a HAVING a = 1')).toEqual([[0, 1n]]);
    expect(await db.code('SELECT a FROM t WHERE GROUPING(a) = 0')).toBe('42803');
  });
  it('DISTINCT, DISTINCT ON and aggregates with DISTINCT / FILTER', async () => {
    expect(await db.rows('SELECT DISTINCT a % 2 FROM t ORDER BY 1')).toEqual([[0], [1], [null]]);
    expect(await db.rows('SELECT DISTINCT ON (a % 2) a FROM t WHERE a IS NOT NULL ORDER BY a % 2, a DESC')).toEqual([[2], [3]]);
    expect(await db.rows('SELECT count(DISTINCT a % 2), count(*) FILTER (WHERE b > 15), string_agg(c, \',\' ORDER BY c DESC) FROM t')).toEqual([[2n, 2n, 'z,y,x']]);
  });
  it('subqueries: scalar, IN, EXISTS, correlated, ALL/ANY', async () => {
    expect(await db.rows('SELECT a FROM t x WHERE b > (SELECT avg(b) - 10 FROM t) ORDER BY a')).toEqual([[2], [null]]);
    expect(await db.rows('SELECT a, (SELECT count(*) FROM t y WHERE y.a < x.a) FROM t x WHERE a IS NOT NULL ORDER BY a')).toEqual([[1, 0n], [2, 1n], [3, 2n]]);
    expect(await db.rows('SELECT a FROM t x WHERE EXISTS (SELECT 1 FROM t y WHERE y.b = x.b * 2) ORDER BY a')).toEqual([[1], [2]]);
    expect(await db.rows('SELECT 5 NOT IN (SELECT a FROM t), 1 IN (SELECT a FROM t), 4 > ALL (SELECT a FROM t WHERE a IS NOT NULL)')).toEqual([[null, true, true]]);
    expect(await db.code('SELECT (SELECT a FROM t)')).toBe('21000');
  });
  it('joins: inner, left, right, full, using, natural', async () => {
    await db.exec('CREATE TABLE j1(k INTEGER, v TEXT); CREATE TABLE j2(k INTEGER, w TEXT)');
    await db.exec("INSERT INTO j1 VALUES (1,'a'),(2,'b'),(3,'c'); INSERT INTO j2 VALUES (2,'B'),(3,'C'),(4,'D')");
    expect(await db.rows('SELECT v, w FROM j1 JOIN j2 ON j1.k = j2.k ORDER BY 1')).toEqual([['b', 'B'], ['c', 'C']]);
    expect(await db.rows('SELECT v, w FROM j1 LEFT JOIN j2 USING (k) ORDER BY 1')).toEqual([['a', null], ['b', 'B'], ['c', 'C']]);
    expect(await db.rows('SELECT v, w FROM j1 RIGHT JOIN j2 ON j1.k = j2.k ORDER BY 2')).toEqual([['b', 'B'], ['c', 'C'], [null, 'D']]);
    expect(await db.rows('SELECT v, w FROM j1 FULL JOIN j2 ON j1.k = j2.k ORDER BY 1, 2')).toEqual([['a', null], ['b', 'B'], ['c', 'C'], [null, 'D']]);
    expect(await db.rows('SELECT k, v, w FROM j1 NATURAL JOIN j2 ORDER BY k')).toEqual([[2, 'b', 'B'], [3, 'c', 'C']]);
    expect(await db.rows('SELECT count(*) FROM j1, j2 WHERE j1.k < j2.k')).toEqual([[6n]]);
  });
  it('set operations', async () => {
    expect(await db.rows('SELECT 1 UNION SELECT 1 UNION ALL SELECT 2 ORDER BY 1')).toEqual([[1], [2]]);
    expect(await db.rows('SELECT a FROM t INTERSECT SELECT 2 EXCEPT SELECT 3')).toEqual([[2]]);
    expect(await db.rows('VALUES (1), (1), (2) EXCEPT ALL VALUES (1)')).toEqual([[1], [2]]);
  });
  it('CTEs, recursive CTEs and views', async () => {
    expect(await db.rows('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n) FROM r')).toEqual([[15n]]);
    expect(await db.rows('WITH x AS (SELECT a FROM t WHERE a > 1) SELECT count(*) FROM x, x AS y')).toEqual([[4n]]);
    await db.exec('CREATE VIEW v AS SELECT a, b FROM t WHERE a IS NOT NULL');
    expect(await db.rows('SELECT sum(b) FROM v')).toEqual([[30n]]);
  });
  it('window functions', async () => {
    expect(await db.rows('SELECT a, row_number() OVER (ORDER BY a DESC), sum(a) OVER (ORDER BY a), lag(a) OVER (ORDER BY a), rank() OVER (ORDER BY a % 2) FROM t WHERE a IS NOT NULL ORDER BY a'))
      .toEqual([[1, 3n, 1n, null, 2n], [2, 2n, 3n, 1, 1n], [3, 1n, 6n, 2, 2n]]);
    expect(await db.rows('SELECT a, sum(a) OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM t WHERE a IS NOT NULL ORDER BY a'))
      .toEqual([[1, 3n], [2, 6n], [3, 5n]]);
  });
  it('generate_series', async () => {
    expect(await db.rows('SELECT sum(g) FROM generate_series(1, 100) AS g')).toEqual([[5050n]]);
  });
});

describe('DML and DDL', () => {
  it('defaults, NOT NULL, VARCHAR length, CHECK, PRIMARY KEY', async () => {
    await db.exec('INSERT INTO u(a, n) VALUES (1, 1.234)');
    expect(await db.rows('SELECT a, d, n FROM u')).toEqual([[1, 'dd', '1.23']]);
    expect(await db.code("INSERT INTO u VALUES (2, 'toolong', 1)")).toBe('22001');
    expect(await db.code('INSERT INTO u VALUES (2, NULL, 1)')).toBe('23502');
    expect(await db.code("INSERT INTO u VALUES (2, 'x', -1)")).toBe('23514');
    expect(await db.code("INSERT INTO u VALUES (1, 'x', 1)")).toBe('23505');
    expect(await db.code('INSERT INTO nope VALUES (1)')).toBe('42P01');
    expect(await db.code('SELECT nope FROM u')).toBe('42703');
  });
  it('ON CONFLICT and RETURNING', async () => {
    const r = await db.exec("INSERT INTO u VALUES (1, 'a', 5), (7, 'b', 6) ON CONFLICT (a) DO UPDATE SET n = excluded.n + u.n RETURNING a, n");
    expect(r.rowCount).toBe(2);
    expect(await db.rows('SELECT a, n FROM u ORDER BY a')).toEqual([[1, '6.23'], [7, '6.00']]);
    const r2 = await db.exec("INSERT INTO u VALUES (7, 'c', 1) ON CONFLICT DO NOTHING");
    expect(r2.rowCount).toBe(0);
  });
  it('UPDATE ... FROM, DELETE ... USING, INSERT ... SELECT from itself', async () => {
    await db.exec('CREATE TABLE m(k INTEGER, v INTEGER); INSERT INTO m VALUES (1, 1), (2, 2)');
    await db.exec('INSERT INTO m SELECT k + 10, v FROM m');
    expect(await db.rows('SELECT count(*) FROM m')).toEqual([[4n]]);
    const up = await db.exec('UPDATE m SET v = m.v + j1.k FROM j1 WHERE m.k = j1.k RETURNING k, v');
    expect(up.rowCount).toBe(2);
    const del = await db.exec('DELETE FROM m USING j2 WHERE m.k = j2.k');
    expect(del.rowCount).toBe(1);
    expect(await db.rows('SELECT k, v FROM m ORDER BY k')).toEqual([[1, 2], [11, 1], [12, 2]]);
  });
  it('CREATE INDEX / DROP, CREATE TABLE AS', async () => {
    await db.exec('CREATE INDEX mi ON m(k); DROP INDEX mi; CREATE TABLE m2 AS SELECT k * 2 AS kk FROM m');
    expect(await db.rows('SELECT sum(kk) FROM m2')).toEqual([[48n]]);
    await db.exec('DROP TABLE m2');
    expect(await db.code('SELECT * FROM m2')).toBe('42P01');
  });
});

describe('parameters, prepared statements, results', () => {
  it('infers parameter types from context', async () => {
    expect(await db.rows('SELECT a FROM t WHERE a > $1 ORDER BY a', [1])).toEqual([[2], [3]]);
    expect(await db.rows("SELECT $1 || 'x', $2::int + 1", ['a', '41'])).toEqual([['ax', 42]]);
  });
  it('multi-row INSERT with cast parameters: each row cast as written, bad values rejected', async () => {
    await db.exec('CREATE TABLE pc(d DATE, s TEXT, i INTEGER)');
    await db.exec('INSERT INTO pc VALUES ($1::date, $2, $3::int), ($4::date, $5::text, $6::bigint), ($7::timestamp, $8::varchar(2), $9::int)',
      ['2024-02-29', 'a', '7', '1999-12-31', 'b', '8', '2001-01-01', 'xyz', '9']);
    // typed text has no assignment cast to INTEGER or DATE (PostgreSQL: 42804)
    expect(await db.code('INSERT INTO pc VALUES ($1::date, $2, $3::int), ($4::date, $5, $6::text)', ['2024-01-01', 'a', '1', '2024-01-02', 'b', '2'])).toBe('42804');
    expect(await db.code('INSERT INTO pc VALUES ($1::text, $2, $3)', ['2024-01-01', 'a', 1])).toBe('42804');
    expect(await db.rows('SELECT d, s, i FROM pc ORDER BY i')).toEqual([['2024-02-29', 'a', 7], ['1999-12-31', 'b', 8], ['2001-01-01', 'xy', 9]]);
    expect(await db.code('INSERT INTO pc VALUES ($1::date, $2, $3), ($4::date, $5, $6)', ['2024-01-01', 'a', 1, '2023-02-29', 'b', 2])).toBe('22008');
    expect(await db.code('INSERT INTO pc VALUES ($1::date, $2, $3), ($4::date, $5, $6)', ['2024-01-01', 'a', 1, 'nope', 'b', 2])).toBe('22007');
    // a later row cast to another type is bound on its own: the same error as that row alone
    const alone = await db.code('INSERT INTO pc VALUES ($1::int, $2, $3)', [2, 'b', 2]);
    expect(alone).toMatch(/^42/);
    expect(await db.code('INSERT INTO pc VALUES ($1::date, $2, $3), ($4::int, $5, $6)', ['2024-01-01', 'a', 1, 2, 'b', 2])).toBe(alone);
    expect(await db.rows('SELECT count(*) FROM pc')).toEqual([[3n]]);
    await db.exec('DROP TABLE pc');
  });
  it('prepares once and runs many times', async () => {
    const [s] = parseSql('SELECT count(*) FROM t WHERE a >= $1');
    const p = prepareStatement(s!, db.ctx);
    expect(p.paramTypes[0]?.id).toBe('INTEGER');
    const { resultRows } = await import('../src/index.js');
    expect(resultRows(await p.execute({ ...db.ctx, params: [2] }))).toEqual([[2n]]);
    expect(resultRows(await p.execute({ ...db.ctx, params: [3] }))).toEqual([[1n]]);
  });
  it('converts to Arrow', async () => {
    const tbl = resultToArrow(await db.exec('SELECT a, c FROM t ORDER BY a'));
    expect(tbl.numRows).toBe(4);
    expect(tbl.getChild('c')?.toArray()).toEqual(['x', 'y', 'z', null]);
  });
  it('EXPLAIN shows one line per operator with estimates; ANALYZE adds actuals', async () => {
    const plan = (await db.rows('EXPLAIN SELECT a FROM t, j1 WHERE t.a = j1.k')).map((r) => r[0] as string);
    expect(plan.some((l) => l.includes('Hash Join') && l.includes('rows='))).toBe(true);
    const an = (await db.rows('EXPLAIN ANALYZE SELECT a FROM t')).map((r) => r[0] as string);
    expect(an.some((l) => l.includes('actual'))).toBe(true);
  });
  it('syntax errors are 42601 with a position', async () => {
    try { parseSql('SELEC 1'); expect.unreachable(); } catch (e) {
      expect((e as { code: string }).code).toBe('42601');
      expect((e as { position: number }).position).toBe(1);
    }
  });
});

describe('more SQL', () => {
  it('LATERAL subqueries see the FROM items to their left', async () => {
    expect(await db.rows('SELECT t.a, s.m FROM t, LATERAL (SELECT max(a) AS m FROM t u WHERE u.a < t.a) s WHERE t.a IS NOT NULL ORDER BY 1'))
      .toEqual([[1, null], [2, 1], [3, 2]]);
    expect(await db.rows('SELECT t.a, s.m FROM t LEFT JOIN LATERAL (SELECT u.a AS m FROM t u WHERE u.a > t.a ORDER BY u.a LIMIT 1) s ON true WHERE t.a IS NOT NULL ORDER BY 1'))
      .toEqual([[1, 2], [2, 3], [3, null]]);
  });
  it('ordered-set aggregates', async () => {
    expect(await db.rows('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY b), percentile_disc(0.5) WITHIN GROUP (ORDER BY b) FROM t'))
      .toEqual([[20, 20]]);
  });
  it('SELECT ... FOR UPDATE locks the rows the LIMIT takes (TableSource.lockRows), in order; skipped rows do not count', async () => {
    const seen: unknown[] = [];
    const inner = db.ctx.catalog as MemoryCatalog;
    const spy = Object.create(inner) as typeof inner;
    spy.getTable = (n) => {
      const t = inner.getTable(n);
      if (!t) return t;
      return { ...t, def: t.def, stats: () => t.stats(), indexes: () => t.indexes(), insert: (b) => t.insert(b), delete: (r) => t.delete(r),
        update: (r, b) => t.update(r, b), scan: (req) => { seen.push(req.lockMode ?? null); return t.scan(req); },
        // the row with id 0 is "locked by someone else": skipped (SKIP LOCKED), else granted
        lockRows: async (ids: Float64Array, mode: string, wait: string) => {
          seen.push([ids.length, mode, wait]);
          return Array.from(ids, (_x, i) => i).filter((i) => wait !== 'skipLocked' || ids[i] !== 0);
        } };
    };
    const { parseSql: parse, executeStatement: exec } = await import('../src/index.js');
    const { resultRels } = await import('../src/exec/statement.js');
    const run = async (sql: string): Promise<unknown[][]> => {
      const r = await exec(parse(sql)[0]!, { ...db.ctx, catalog: spy });
      const rel = resultRels.get(r)!;
      return Array.from({ length: rel.n }, (_x, i) => rel.cols.map((c) => c[i]));
    };
    expect(await run('SELECT a FROM t WHERE a = 1 FOR UPDATE NOWAIT')).toEqual([[1]]);
    // the scan itself locks nothing; the LockRows step asks for one row
    expect(seen).toEqual([null, [1, 'update', 'nowait']]);
    seen.length = 0;
    // LIMIT 2 over a (1, 2, 3): row 1 (id 0) is skipped and does not count; rows are asked for as needed
    expect(await run('SELECT a FROM t WHERE a IS NOT NULL ORDER BY a LIMIT 2 FOR SHARE SKIP LOCKED')).toEqual([[2], [3]]);
    expect(seen).toEqual([null, [2, 'share', 'skipLocked'], [1, 'share', 'skipLocked']]);
    seen.length = 0;
    expect(await run('SELECT a FROM t WHERE a IS NOT NULL ORDER BY a DESC LIMIT 1 FOR KEY SHARE')).toEqual([[3]]);
    expect(seen).toEqual([null, [1, 'keyShare', 'wait']]);
  });
});
