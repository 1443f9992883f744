import { describe, expect, it } from 'vitest';
import { firstKeyword, splitSql } from './sql-split.js';

describe('splitSql', () => {
  it('splits at top-level semicolons and reports offsets of each statement', () => {
    const sql = "SELECT 1;  INSERT INTO t VALUES ('a;b', $2) ; -- done";
    const pieces = splitSql(sql);
    expect(pieces.map((p) => p.text)).toEqual(['SELECT 1', "INSERT INTO t VALUES ('a;b', $2) "]);
    expect(pieces.map((p) => sql.slice(p.start, p.start + p.text.length))).toEqual(pieces.map((p) => p.text));
    expect(pieces.map((p) => p.maxParam)).toEqual([0, 2]);
  });

  it('does not split inside quotes, identifiers, dollar quotes or comments', () => {
    const sql = `SELECT 'it''s;', E'\\';', "a;b", $$x;y$$, $tag$ ; $$ ; $tag$ /* c; /* nested; */ */ -- x;
      FROM t; SELECT 2`;
    expect(splitSql(sql).length).toBe(2);
  });

  it('drops empty statements (only whitespace and comments)', () => {
    expect(splitSql(' ;; -- hi\n /* x */ ;')).toEqual([]);
    expect(splitSql('')).toEqual([]);
  });

  it('finds the highest $n and ignores $ inside identifiers and strings', () => {
    expect(splitSql('SELECT $1, $10, a$1, \'$3\'')[0]!.maxParam).toBe(10);
  });

  it('names the first keyword', () => {
    expect(firstKeyword('  -- c\n /* d */ select 1')).toBe('SELECT');
    expect(firstKeyword('(SELECT 1)')).toBe('SELECT');
    expect(firstKeyword('rollback to s')).toBe('ROLLBACK');
  });
});
