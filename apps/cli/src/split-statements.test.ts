import { describe, expect, it } from 'vitest';
import { scriptStatements, splitStatements } from './split-statements.js';

describe('scriptStatements', () => {
  it('splits at top-level semicolons and keeps a last statement without one', () => {
    expect(scriptStatements('SELECT 1; SELECT 2;\nSELECT 3')).toEqual(['SELECT 1', 'SELECT 2', 'SELECT 3']);
  });

  it('ignores semicolons in strings, quoted identifiers, dollar quotes and comments', () => {
    const sql = `INSERT INTO t VALUES ('a;b', 'it''s;');
SELECT "we;ird" FROM "t;";
SELECT $$x;y$$, $fn$ a $$ ; $fn$;
-- a comment; with a semicolon
SELECT 1 /* block; /* nested; */ still; */ + 2;
SELECT E'back\\'slash;', 'plain\\';`;
    expect(scriptStatements(sql)).toEqual([
      "INSERT INTO t VALUES ('a;b', 'it''s;')",
      'SELECT "we;ird" FROM "t;"',
      'SELECT $$x;y$$, $fn$ a $$ ; $fn$',
      '-- a comment; with a semicolon\nSELECT 1 /* block; /* nested; */ still; */ + 2',
      "SELECT E'back\\'slash;', 'plain\\'",
    ]);
  });

  it('does not read $1 parameters or identifiers with $ as dollar quotes', () => {
    expect(scriptStatements('SELECT $1; SELECT a$b$c FROM t; SELECT 2')).toEqual(['SELECT $1', 'SELECT a$b$c FROM t', 'SELECT 2']);
  });

  it('drops empty statements and comment-only pieces', () => {
    expect(scriptStatements(';;  ; -- nothing\n/* nothing */ ;')).toEqual([]);
    expect(scriptStatements('')).toEqual([]);
  });
});

describe('splitStatements', () => {
  it('reports an unterminated statement as rest', () => {
    const r = splitStatements('SELECT 1; SELECT\n  2');
    expect(r.statements).toEqual(['SELECT 1']);
    expect(r.rest).toBe('SELECT\n  2');
    expect(r.open).toBe(false);
  });

  it('reports text that ends inside a quote or comment as open', () => {
    expect(splitStatements("SELECT 'abc;").open).toBe(true);
    expect(splitStatements("SELECT 'abc;").statements).toEqual([]);
    expect(splitStatements('SELECT $$ x;').open).toBe(true);
    expect(splitStatements('SELECT 1 /* x;').open).toBe(true);
    expect(splitStatements('SELECT "x;').open).toBe(true);
    expect(splitStatements('SELECT 1; -- done').rest).toBe('');
  });

  it('gives the offset of the rest so the REPL keeps it verbatim', () => {
    const text = "SELECT 1; SELECT 'a  \n";
    const r = splitStatements(text);
    expect(text.slice(r.restOffset)).toBe(" SELECT 'a  \n");
  });
});
