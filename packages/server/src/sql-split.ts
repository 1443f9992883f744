/**
 * Splits a SQL string into statements at top-level semicolons, the way PostgreSQL's simple Query
 * message needs it (one RowDescription / DataRow* / CommandComplete per statement), and finds the
 * highest `$n` parameter reference of a statement.
 *
 * A small lexer, not a parser: it knows just enough to not split inside
 * 'strings' (with '' escapes), E'strings' (with backslash escapes), "identifiers", $tag$dollar
 * quoted$tag$ strings, -- line comments and nested block comments.
 *
 * Invariants:
 *  1. `text` of each piece is a verbatim slice of the input starting at `start` (its first
 *     token: leading whitespace and comments are not part of it), so an error position p
 *     (1-based) inside the piece is p + start in the whole string.
 *  2. Pieces that hold only whitespace and comments are dropped (PostgreSQL's EmptyQueryResponse
 *     is for a string in which every piece is empty).
 */

export interface SqlPiece {
  /** the statement text, without its terminating semicolon */
  readonly text: string;
  /** 0-based offset of `text` in the input */
  readonly start: number;
  /** highest $n referenced in the statement (0 when none) */
  readonly maxParam: number;
}

const isIdentStart = (c: string): boolean => /[A-Za-z_\u0080-\uffff]/.test(c);
const isIdentChar = (c: string): boolean => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

export function splitSql(sql: string): SqlPiece[] {
  const pieces: SqlPiece[] = [];
  let start = 0;
  let meaningful = false;
  let maxParam = 0;
  let i = 0;
  const n = sql.length;
  const finish = (end: number): void => {
    if (meaningful) pieces.push({ text: sql.slice(start, end), start, maxParam });
    start = end + 1;
    meaningful = false;
    maxParam = 0;
  };
  while (i < n) {
    const c = sql[i]!;
    if (c === ';') {
      finish(i);
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') { depth++; i += 2; }
        else if (sql[i] === '*' && sql[i + 1] === '/') { depth--; i += 2; }
        else i++;
      }
      continue;
    }
    if (!meaningful) {
      meaningful = true;
      start = i;
    }
    if (c === "'") {
      const backslash = i > 0 && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && (i < 2 || !isIdentChar(sql[i - 2]!));
      i = skipQuoted(sql, i + 1, "'", backslash);
      continue;
    }
    if (c === '"') {
      i = skipQuoted(sql, i + 1, '"', false);
      continue;
    }
    if (c === '$') {
      const next = sql[i + 1];
      if (next !== undefined && next >= '0' && next <= '9') {
        let j = i + 1;
        while (j < n && sql[j]! >= '0' && sql[j]! <= '9') j++;
        maxParam = Math.max(maxParam, Number(sql.slice(i + 1, j)));
        i = j;
        continue;
      }
      const m = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64));
      if (m) {
        const tag = m[0];
        const close = sql.indexOf(tag, i + tag.length);
        i = close < 0 ? n : close + tag.length;
        continue;
      }
      i++;
      continue;
    }
    if (isIdentStart(c)) {
      // skip a whole identifier / keyword so that a '$' inside it (legal in PG) is not a param
      let j = i + 1;
      while (j < n && isIdentChar(sql[j]!)) j++;
      // leave a trailing E of E'..' to the quote branch, which looks back at it
      i = j;
      continue;
    }
    i++;
  }
  finish(n);
  return pieces;
}

function skipQuoted(sql: string, i: number, quote: string, backslash: boolean): number {
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (backslash && c === '\\') { i += 2; continue; }
    if (c === quote) {
      if (sql[i + 1] === quote) { i += 2; continue; }
      return i + 1;
    }
    i++;
  }
  return n;
}

/** The first keyword of a statement, upper-cased ('' when none). */
export function firstKeyword(sql: string): string {
  const pieces = splitSql(sql);
  const text = pieces.length > 0 ? pieces[0]!.text : sql;
  const stripped = text.replace(/^(\s|--[^\n]*\n?|\/\*[\s\S]*?\*\/)*/, '');
  const m = /^[A-Za-z_]+/.exec(stripped.replace(/^\(+\s*/, ''));
  return m ? m[0].toUpperCase() : '';
}
