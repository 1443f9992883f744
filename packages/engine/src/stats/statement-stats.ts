/**
 * Per-statement execution figures, as PostgreSQL's pg_stat_statements keeps them: calls, total
 * and mean time, rows, keyed by the statement text with literals replaced by placeholders, so
 * `SELECT * FROM t WHERE id = 1` and `... = 2` count as one statement.
 *
 * Invariants:
 *  1. At most MAX_ENTRIES entries; the least-called entry is evicted first.
 */
const MAX_ENTRIES = 5000;
/** characters of a statement's text that are normalized and kept */
const MAX_TEXT = 1000;

export interface StatementFigures {
  readonly query: string;
  calls: number;
  totalMs: number;
  minMs: number;
  maxMs: number;
  rows: number;
}

/**
 * Replace numeric and string literals with `$n` placeholders (a light normalization), in one pass
 * over the text. It gives what these steps give (the test keeps them as its model): trim; drop one
 * trailing `;`; replace each match of /\$\d+|'(?:[^']|'')*'|\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi
 * that is not a parameter by the next `$n`; collapse each run of whitespace to one space. The
 * regular expressions with a replacement callback cost ~2 µs a statement, which every statement
 * with literals (a script of single-row INSERTs) paid.
 */
export function normalizeStatement(sql: string): string {
  // parameters already in the text keep their numbers; literals are numbered after the highest
  // (as pg_stat_statements does)
  // long statements (bulk INSERT ... VALUES) are keyed by their head: normalizing all of a
  // multi-megabyte text would cost more than running it
  let text = sql.length > MAX_TEXT ? `${sql.slice(0, MAX_TEXT)}…` : sql;
  let n = 0;
  if (text.includes('$')) for (const m of text.matchAll(/\$(\d+)/g)) n = Math.max(n, Number(m[1]));
  text = text.trim();
  const end = text.endsWith(';') ? text.length - 1 : text.length;
  let out = '';
  let from = 0; // text[from, i) is still to be copied (whitespace already collapsed)
  let i = 0;
  const flush = (to: number): void => { if (to > from) out += text.slice(from, to); };
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === DOLLAR && isDigit(text.charCodeAt(i + 1))) {
      i += 2;
      while (i < end && isDigit(text.charCodeAt(i))) i++;
      continue;
    }
    // a literal: a string, or a number starting at a word boundary
    const close = c === QUOTE ? stringEnd(text, i, end)
      : isDigit(c) && (i === 0 || !isWord(text.charCodeAt(i - 1))) ? numberEnd(text, i, end) : -1;
    if (close > 0) {
      flush(i);
      out += `$${++n}`;
      i = from = close;
      continue;
    }
    if (isSpace(c)) {
      let j = i + 1;
      while (j < end && isSpace(text.charCodeAt(j))) j++;
      if (j - i > 1 || c !== SPACE) {
        flush(i);
        out += ' ';
        from = j;
      }
      i = j;
      continue;
    }
    i++;
  }
  flush(end);
  return out;
}

const DOLLAR = 36;
const QUOTE = 39;
const SPACE = 32;
const DOT = 46;

function isDigit(c: number): boolean { return c >= 48 && c <= 57; }
/** `\w` of a regular expression without the u flag */
function isWord(c: number): boolean { return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; }
/** `\s` of a regular expression */
function isSpace(c: number): boolean {
  if (c === SPACE || (c >= 9 && c <= 13)) return true;
  return c >= 160 && /\s/.test(String.fromCharCode(c));
}

/**
 * Where `'(?:[^']|'')*'` matching at the quote `q` ends (index after it), or -1: the first quote
 * not followed by another closes it; without one, the regular expression backtracks to the last
 * `''` pair, whose first quote then closes it.
 */
function stringEnd(text: string, q: number, end: number): number {
  let lastPair = -1;
  let j = q + 1;
  for (;;) {
    const k = text.indexOf("'", j);
    if (k < 0 || k >= end) return lastPair < 0 ? -1 : lastPair + 1;
    if (k + 1 < end && text.charCodeAt(k + 1) === QUOTE) {
      lastPair = k;
      j = k + 2;
      continue;
    }
    return k + 1;
  }
}

/**
 * Where `\d+(?:\.\d+)?(?:e[+-]?\d+)?\b` matching at `i` ends, or -1: the longest of digits,
 * digits + fraction, digits + fraction + exponent that a non-word character (or the end) follows,
 * trying them longest first as the regular expression's backtracking does.
 */
function numberEnd(text: string, i: number, end: number): number {
  const at = (k: number): number => (k < end ? text.charCodeAt(k) : -1);
  let j = i;
  while (isDigit(at(j))) j++;
  const ends = [j];
  if (at(j) === DOT && isDigit(at(j + 1))) {
    j += 2;
    while (isDigit(at(j))) j++;
    ends.push(j);
  }
  const e = at(j);
  if (e === 101 || e === 69) {
    let k = j + 1;
    if (at(k) === 43 || at(k) === 45) k++;
    if (isDigit(at(k))) {
      while (isDigit(at(k))) k++;
      ends.push(k);
    }
  }
  for (let x = ends.length - 1; x >= 0; x--) {
    const c = at(ends[x]!);
    if (c < 0 || !isWord(c)) return ends[x]!;
  }
  return -1;
}

export class StatementStats {
  readonly #entries = new Map<string, StatementFigures>();
  /** raw text → normalized text, so a statement run again skips the regex work */
  readonly #normalized = new Map<string, string>();

  record(sql: string, ms: number, rows: number): void {
    // a long text normalizes by its head alone, so the head is its cache key
    const key = sql.length > MAX_TEXT ? sql.slice(0, MAX_TEXT + 1) : sql;
    let query = this.#normalized.get(key);
    if (query === undefined) {
      query = normalizeStatement(sql);
      if (this.#normalized.size >= MAX_ENTRIES) this.#normalized.clear();
      this.#normalized.set(key, query);
    }
    let e = this.#entries.get(query);
    if (!e) {
      if (this.#entries.size >= MAX_ENTRIES) this.#evict();
      e = { query, calls: 0, totalMs: 0, minMs: Infinity, maxMs: 0, rows: 0 };
      this.#entries.set(query, e);
    }
    e.calls++;
    e.totalMs += ms;
    e.minMs = Math.min(e.minMs, ms);
    e.maxMs = Math.max(e.maxMs, ms);
    e.rows += rows;
  }

  entries(): readonly StatementFigures[] {
    return [...this.#entries.values()];
  }

  reset(): void {
    this.#entries.clear();
  }

  #evict(): void {
    let victim: string | undefined;
    let least = Infinity;
    for (const [k, e] of this.#entries) if (e.calls < least) { least = e.calls; victim = k; }
    if (victim !== undefined) this.#entries.delete(victim);
  }
}
