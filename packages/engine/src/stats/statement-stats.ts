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

/** Replace numeric and string literals with `$n` placeholders (a light normalization). */
export function normalizeStatement(sql: string): string {
  // parameters already in the text keep their numbers; literals are numbered after the highest
  // (as pg_stat_statements does)
  // long statements (bulk INSERT ... VALUES) are keyed by their head: normalizing all of a
  // multi-megabyte text would cost more than running it
  const text = sql.length > MAX_TEXT ? `${sql.slice(0, MAX_TEXT)}…` : sql;
  let n = 0;
  if (text.includes('$')) for (const m of text.matchAll(/\$(\d+)/g)) n = Math.max(n, Number(m[1]));
  return text
    .trim()
    .replace(/;\s*$/, '')
    .replace(/\$\d+|'(?:[^']|'')*'|\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, (m) => (m.startsWith('$') ? m : `$${++n}`))
    .replace(/\s+/g, ' ');
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
