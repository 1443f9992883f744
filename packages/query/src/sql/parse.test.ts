/**
 * parseSql: statement texts of a multi-statement string, and the parse cache's kinds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initSql, parseSql } from './parse.js';
import { cachedParse } from '../exec/plan-cache.js';

beforeAll(async () => { await initSql(); });

describe('parseSql', () => {
  it('gives each statement its own text, also after non-ASCII characters', () => {
    const s = parseSql("SELECT 'été €' AS a;  SELECT '😀', 2 ; INSERT INTO t VALUES ('😀');SELECT 3");
    expect(s.map((x) => x.sql)).toEqual(["SELECT 'été €' AS a", "SELECT '😀', 2", "INSERT INTO t VALUES ('😀')", 'SELECT 3']);
  });

  it('caches transaction control texts, not other engine statements', () => {
    for (const sql of ['BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT s_parse_test', 'RELEASE SAVEPOINT s_parse_test',
      'ROLLBACK TO SAVEPOINT s_parse_test', 'START TRANSACTION ISOLATION LEVEL SERIALIZABLE']) {
      const first = parseSql(sql);
      expect(cachedParse(sql), sql).toEqual(first);
      expect(parseSql(sql)).toEqual(first);
    }
    parseSql('SET search_path = public');
    expect(cachedParse('SET search_path = public')).toBeUndefined();
  });
});
