/**
 * Answers of different engines made comparable, and compared.
 *
 * Normalization: bigint → number; Date → 'YYYY-MM-DD' (UTC); numeric strings stay strings
 * (adapters parse them); numbers rounded to 2 decimals for display and checksums.
 * Comparison: same row count, same order (every bench query has a total ORDER BY or one row),
 * strings equal, numbers equal within 1e-6 relative or 0.01 absolute (sums of DOUBLEs depend on
 * the order of additions).
 */
import type { Row } from '../engines/adapter.js';

export function normalizeValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (v === undefined) return null;
  if (typeof v === 'object' && v !== null && 'toString' in v && !Array.isArray(v)) return String(v);
  return v;
}

export function normalizeRows(rows: readonly Row[]): Row[] {
  return rows.map((r) => r.map(normalizeValue));
}

function numbersMatch(a: number, b: number): boolean {
  if (a === b) return true;
  const diff = Math.abs(a - b);
  return diff <= 0.01 || diff <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
}

/** Undefined when `got` matches `expected`, else a one-line description of the first difference. */
export function compareAnswers(expected: readonly Row[], got: readonly Row[]): string | undefined {
  const e = normalizeRows(expected);
  const g = normalizeRows(got);
  if (e.length !== g.length) return `${g.length} rows, expected ${e.length}`;
  for (let r = 0; r < e.length; r++) {
    const er = e[r]!, gr = g[r]!;
    if (er.length !== gr.length) return `row ${r}: ${gr.length} columns, expected ${er.length}`;
    for (let c = 0; c < er.length; c++) {
      const ev = er[c], gv = gr[c];
      const en = typeof ev === 'number' ? ev : typeof ev === 'string' && gv !== null && typeof gv === 'number' ? Number(ev) : undefined;
      const gn = typeof gv === 'number' ? gv : typeof gv === 'string' && typeof ev === 'number' ? Number(gv) : undefined;
      if (en !== undefined && gn !== undefined) {
        if (!numbersMatch(en, gn)) return `row ${r} col ${c}: ${gv}, expected ${ev}`;
      } else if (ev !== gv) {
        return `row ${r} col ${c}: ${JSON.stringify(gv)}, expected ${JSON.stringify(ev)}`;
      }
    }
  }
  return undefined;
}

/** A short digest of an answer (rounded to 2 decimals), for the JSON report. */
export function answerDigest(rows: readonly Row[]): string {
  let h = 0x811c9dc5;
  for (const r of normalizeRows(rows)) {
    for (const v of r) {
      const s = typeof v === 'number' ? v.toFixed(2) : String(v);
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      h = Math.imul(h ^ 0x1f, 0x01000193);
    }
  }
  return `${rows.length}r:${(h >>> 0).toString(16).padStart(8, '0')}`;
}
