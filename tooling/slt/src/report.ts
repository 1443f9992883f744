/**
 * Human-readable reports of runs. Wording matters: CI reads a line that is only
 * `N passed, N failed` (optionally after one word and a colon) as the verdict of a test run, so no
 * line printed here has that shape; totals read `slt corpus: 61.2% of 230880 queries (...)`.
 */
import { emptyTally, passRate } from './runner.js';
import type { FileResult, Tally } from './runner.js';

export interface Totals {
  files: number;
  readonly queries: Tally;
  readonly statements: Tally;
  timeouts: number;
  unsupported: number;
  fatal: number;
  durationMs: number;
}

export function totalsOf(results: readonly FileResult[]): Totals {
  const t: Totals = { files: 0, queries: emptyTally(), statements: emptyTally(), timeouts: 0, unsupported: 0, fatal: 0, durationMs: 0 };
  for (const r of results) {
    t.files++;
    for (const k of ['ok', 'wrong', 'skipped'] as const) {
      t.queries[k] += r.queries[k];
      t.statements[k] += r.statements[k];
    }
    t.timeouts += r.timeouts;
    t.unsupported += r.unsupported;
    if (r.fatal !== undefined) t.fatal++;
    t.durationMs += r.durationMs;
  }
  return t;
}

export function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** One line per file: query pass rate first, then the record counts. */
export function formatFileLine(r: FileResult): string {
  const q = r.queries;
  const s = r.statements;
  const extra: string[] = [];
  if (r.timeouts > 0) extra.push(`${r.timeouts} timed out`);
  if (r.unsupported > 0) extra.push(`${r.unsupported} unsupported`);
  if (r.halted) extra.push('halted');
  if (r.fatal !== undefined) extra.push(`FATAL: ${r.fatal}`);
  const ran = q.ok + q.wrong;
  return (
    `${r.file}: ${ran === 0 ? 'no' : `${percent(passRate(q))} of ${ran}`} queries ` +
    `(${q.ok} ok, ${q.wrong} wrong, ${q.skipped} skipped); ` +
    `statements ${s.ok} ok, ${s.wrong} wrong, ${s.skipped} skipped; ${seconds(r.durationMs)}` +
    (extra.length > 0 ? `; ${extra.join(', ')}` : '')
  );
}

/** Failure details of a file, indented, for verbose output. */
export function formatFailures(r: FileResult, max = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  for (const f of r.failures.slice(0, max)) {
    out.push(`  ${r.file}:${f.line} ${f.kind}: ${f.reason}`);
    out.push(`      ${f.sql}`);
  }
  const hidden = r.queries.wrong + r.statements.wrong + r.unsupported - Math.min(r.failures.length, max);
  if (hidden > 0) out.push(`  ... ${hidden} more in ${r.file}`);
  return out;
}

/** The total line, e.g. `slt corpus: 61.2% of 197000 queries (120600 ok, 76400 wrong, 33880 skipped)`. */
export function formatTotalLine(t: Totals, label = 'slt corpus'): string {
  const q = t.queries;
  return (
    `${label}: ${percent(passRate(q))} of ${q.ok + q.wrong} queries (${q.ok} ok, ${q.wrong} wrong, ${q.skipped} skipped) ` +
    `in ${t.files} files; statements ${t.statements.ok} ok, ${t.statements.wrong} wrong, ${t.statements.skipped} skipped; ` +
    `${t.timeouts} timed out; ${seconds(t.durationMs)}`
  );
}
