/**
 * Result comparison: sort modes, MD5 hashing of results, and matching against the expected block
 * of a query record.
 *
 * Expected blocks come in three shapes, all accepted:
 *   hash     `N values hashing to <md5>`: md5 over every value followed by '\n' (reference harness)
 *   values   one value per line (sqllogictest): exactly rows*columns lines
 *   rows     one row per line, values separated by a tab (DuckDB) or by spaces: exactly `rows` lines
 *
 * Invariants:
 *  1. Sorting uses byte order of the formatted strings (strcmp), rows compared column by column.
 *  2. Expected values are sorted with the same comparator as actual ones, so an expected block
 *     already in sorted order (every sqllogictest file) is left as is.
 *  3. Values compare after trailing whitespace is removed (script lines cannot keep it); hashes
 *     are computed on the values as formatted.
 */
import { createHash } from 'node:crypto';
import type { SortMode } from './record.js';

export const HASH_LINE_RE = /^(\d+) values hashing to ([0-9a-f]{32})$/;

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRows(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/**
 * Apply a sort mode to formatted rows and flatten them into the value list the harness compares.
 * Large results (10,000-row corpus tables) sort without a comparator callback: the default sort
 * orders strings by UTF-16 code units, the same order as `compareStrings`; rows become one string
 * with NUL between values, which orders column by column because NUL sorts before every other
 * character (rows holding a NUL take the comparator path).
 */
export function sortedValues(rows: readonly (readonly string[])[], mode: SortMode): string[] {
  if (mode === 'rowsort') {
    if (rows.length === 0) return [];
    const width = rows[0]!.length;
    if (width === 1 && rows.every((r) => r.length === 1)) return rows.map((r) => r[0]!).sort();
    if (width > 1 && rows.every((r) => r.length === width && r.every((v) => !v.includes('\0')))) {
      return rows.map((r) => r.join('\0')).sort().flatMap((k) => k.split('\0'));
    }
    return [...rows].sort(compareRows).flat();
  }
  const flat = rows.flat();
  if (mode === 'valuesort') flat.sort();
  return flat;
}

/** MD5 of the values as the reference harness computes it (each value followed by a newline). */
export function hashValues(values: readonly string[]): string {
  const h = createHash('md5');
  if (values.length > 0) h.update(values.join('\n') + '\n');
  return h.digest('hex');
}

export interface CompareOutcome {
  readonly ok: boolean;
  /** Why it failed (for the report); undefined when ok. */
  readonly reason: string | undefined;
}

const OK: CompareOutcome = { ok: true, reason: undefined };

function trimEnd(s: string): string {
  return s.replace(/\s+$/, '');
}

function chunk(values: readonly string[], width: number): string[][] {
  const rows: string[][] = [];
  for (let i = 0; i < values.length; i += width) rows.push(values.slice(i, i + width));
  return rows;
}

function splitRowLine(line: string, width: number): string[] {
  if (width === 1) return [line];
  const byTab = line.split('\t');
  if (byTab.length === width) return byTab;
  return line.trim().split(/ +/);
}

function preview(values: readonly string[], max = 12): string {
  const shown = values.slice(0, max).join(' | ');
  return values.length > max ? `${shown} | ... (${values.length} values)` : shown;
}

/**
 * Compare formatted result rows against a query's expected lines.
 * REQUIRES: every row of `rows` has `width` values.
 */
export function compareResult(
  rows: readonly (readonly string[])[],
  width: number,
  mode: SortMode,
  expected: readonly string[],
): CompareOutcome {
  const actual = sortedValues(rows, mode);
  const first = expected[0];
  if (expected.length === 1 && first !== undefined) {
    const m = HASH_LINE_RE.exec(first.trim());
    if (m !== null) {
      const count = Number(m[1]);
      const hash = hashValues(actual);
      if (count === actual.length && hash === m[2]) return OK;
      return { ok: false, reason: `expected ${count} values hashing to ${m[2]}, got ${actual.length} values hashing to ${hash}` };
    }
  }
  const actualTrimmed = actual.map(trimEnd);
  let expectedValues: string[];
  if (expected.length === actual.length) {
    expectedValues = width > 0 ? sortedValues(chunk(expected, width), mode) : [...expected];
  } else if (width > 0 && expected.length === rows.length) {
    expectedValues = sortedValues(expected.map((l) => splitRowLine(l, width)), mode);
  } else {
    return {
      ok: false,
      reason: `expected ${expected.length} lines, got ${rows.length} rows of ${width} values: ${preview(actualTrimmed)}`,
    };
  }
  const expectedTrimmed = expectedValues.map(trimEnd);
  for (let i = 0; i < Math.max(expectedTrimmed.length, actualTrimmed.length); i++) {
    if (expectedTrimmed[i] !== actualTrimmed[i]) {
      return {
        ok: false,
        reason: `value ${i + 1}: expected ${JSON.stringify(expectedTrimmed[i] ?? null)}, got ${JSON.stringify(actualTrimmed[i] ?? null)}` +
          `\n      expected: ${preview(expectedTrimmed)}\n      actual:   ${preview(actualTrimmed)}`,
      };
    }
  }
  return OK;
}

/**
 * The expected block `--complete` writes for a result: a hash line above the threshold
 * (0 = never), else one row per line with tab-separated values (or one value per line when
 * `style` is 'values', the sqllogictest layout).
 */
export function renderExpected(
  rows: readonly (readonly string[])[],
  mode: SortMode,
  hashThreshold: number,
  style: 'rows' | 'values',
): string[] {
  const values = sortedValues(rows, mode);
  if (hashThreshold > 0 && values.length > hashThreshold) {
    return [`${values.length} values hashing to ${hashValues(values)}`];
  }
  if (style === 'values') return values;
  const ordered = mode === 'rowsort' ? [...rows].sort(compareRows) : mode === 'valuesort' ? chunk(values, rows[0]?.length ?? 1) : rows;
  return ordered.map((r) => r.join('\t'));
}
