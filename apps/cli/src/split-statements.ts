/**
 * Splitting SQL text into statements at top-level semicolons, the way PostgreSQL's lexer sees
 * them: a `;` inside a string ('...', E'...' with backslash escapes), a quoted identifier ("..."),
 * a dollar-quoted string ($$...$$, $tag$...$tag$), a line comment (-- ...) or a block comment
 * (/* ... *\/, nesting) does not end a statement.
 *
 * Invariants:
 *  1. Concatenating the statements' source ranges with the separators gives back the input: no
 *     character is dropped except whitespace/comment-only pieces, which are not statements.
 *  2. `rest` is empty exactly when the text ends at a statement boundary (after `;`, whitespace
 *     or comments), which is what the REPL waits for before running a multi-line statement.
 */

export interface SplitResult {
  /** Complete statements (terminated by `;`), trimmed, without the `;`. */
  readonly statements: string[];
  /** Text after the last top-level `;` that holds SQL (not only whitespace/comments), trimmed; '' if none. */
  readonly rest: string;
  /** Offset in the input where `rest` (or the open quote/comment) begins. */
  readonly restOffset: number;
  /** True when the text ends inside a string, quoted identifier, dollar quote or block comment. */
  readonly open: boolean;
}

const IDENT_CHAR = /[A-Za-z0-9_$]/;
const TAG_START = /[A-Za-z_\u0080-\uffff]/;
const TAG_CHAR = /[A-Za-z0-9_\u0080-\uffff]/;

/** Split `text` into complete statements and an unterminated rest. */
export function splitStatements(text: string): SplitResult {
  const statements: string[] = [];
  let start = 0;
  let hasSql = false; // the current piece has something besides whitespace and comments
  let i = 0;
  const n = text.length;
  let open = false;

  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (text[i] === '*' && text[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) open = true;
      continue;
    }
    if (c === ';') {
      if (hasSql) statements.push(text.slice(start, i).trim());
      start = i + 1;
      hasSql = false;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    hasSql = true;
    if (c === "'") {
      const prev = i > 0 ? text[i - 1]! : '';
      const escapes = (prev === 'E' || prev === 'e') && (i < 2 || !IDENT_CHAR.test(text[i - 2]!));
      i++;
      let closed = false;
      while (i < n) {
        const d = text[i]!;
        if (escapes && d === '\\') {
          i += 2;
          continue;
        }
        if (d === "'") {
          if (text[i + 1] === "'") {
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        i++;
      }
      if (!closed) open = true;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        i++;
      }
      if (!closed) open = true;
      continue;
    }
    if (c === '$' && (i === 0 || !IDENT_CHAR.test(text[i - 1]!))) {
      // $tag$ or $$ (a $1 parameter is not a dollar quote)
      let j = i + 1;
      if (j < n && TAG_START.test(text[j]!)) {
        while (j < n && TAG_CHAR.test(text[j]!)) j++;
      }
      if (text[j] === '$') {
        const tag = text.slice(i, j + 1);
        const end = text.indexOf(tag, j + 1);
        if (end < 0) {
          open = true;
          i = n;
        } else i = end + tag.length;
        continue;
      }
    }
    // An identifier or keyword: skip it whole, so a `$` or `'` inside it is not misread.
    if (IDENT_CHAR.test(c)) {
      while (i < n && IDENT_CHAR.test(text[i]!) && text[i + 1] !== "'") i++;
      if (i < n && IDENT_CHAR.test(text[i]!)) i++;
      continue;
    }
    i++;
  }
  const rest = hasSql ? text.slice(start).trim() : '';
  return { statements, rest, restOffset: start, open };
}

/** All statements of a script; a last statement without `;` counts too. */
export function scriptStatements(text: string): string[] {
  const { statements, rest } = splitStatements(text);
  return rest.length > 0 ? [...statements, rest] : statements;
}
