/**
 * ANALYZE: per-table and per-column statistics for the planner, kept in the catalog store
 * (`a/<table id>`, JSON) and returned by `TableSource.stats()`.
 *
 * Sampling, as PostgreSQL: a reservoir of 300 x `default_statistics_target` rows (30,000 at the
 * default 100), drawn over one pass of the latest committed rows with Vitter's Algorithm L (it
 * jumps over the rows it does not take, so the per-row cost is paid only for sampled rows), with a
 * seed fixed per table so results repeat. The row count is exact (sum of batch lengths).
 * From the sample, per column: null fraction, distinct count (the Haas-Stokes Duj1 estimator
 * PostgreSQL uses, `estimateDistinct`), the most common values with their frequencies and an
 * equi-depth histogram of the other values (as pg_stats has them), and min / max — exact, from a
 * tight loop over every row, for columns held in number typed arrays (cheap), else from the sample.
 * A table no larger than the sample is read whole: its statistics are exact.
 *
 * Automatic refresh: `needsAnalyze` says when the committed row count moved by more than 10% (or
 * 500 rows) from the analyzed one; the database then re-analyzes in the background.
 *
 * Invariants:
 *  1. 0 <= distinct <= non-null rows; distinct >= distinct values seen in the sample.
 *  2. The sample holds min(rows, sampleRows) rows, each row of the table equally likely.
 */
import { physicalTypeOf, type ColumnVector, type SqlType, type TableId } from '@quiverdb/common';
import type { Store } from '@quiverdb/storage';
import type { TableMeta } from '../catalog/catalog-state.js';
import { latestSnapshot } from '../table/index-registry.js';

/** PostgreSQL's default_statistics_target */
export const DEFAULT_STATISTICS_TARGET = 100;
/** sampled rows per unit of statistics target (PostgreSQL: 300) */
const ROWS_PER_TARGET = 300;
const MCV_COUNT = 20;
const HISTOGRAM_BUCKETS = 50;

export interface ColumnStats {
  readonly distinct: number;
  readonly nullFraction: number;
  readonly min?: unknown;
  readonly max?: unknown;
  readonly mcv?: readonly { readonly value: unknown; readonly frequency: number }[];
  readonly histogram?: readonly unknown[];
}

export interface TableStatistics {
  readonly rowCount: number;
  readonly analyzedAt: string;
  readonly columns: readonly ColumnStats[];
}

export interface AnalyzeOptions {
  /** `default_statistics_target` (1..10000): 300 x target rows are sampled */
  readonly statisticsTarget?: number;
}

export const statsKey = (id: TableId) => `a/${id}`;

function cmp(a: unknown, b: unknown): number {
  return a! < b! ? -1 : a! > b! ? 1 : 0;
}

/**
 * Haas and Stokes' Duj1 estimate of the distinct values of a column (PostgreSQL's estimator):
 * `n` non-null sampled values with `d` distinct, `f1` of them seen exactly once, from `total`
 * non-null values: n*d / (n - f1 + f1*n/total), kept within [d, total]. Every sampled value
 * unique → the column is taken as unique (total); none seen once → d.
 */
export function estimateDistinct(n: number, d: number, f1: number, total: number): number {
  if (n <= 0 || d <= 0) return 0;
  if (n >= total) return d; // the whole column was seen
  if (f1 >= n) return total;
  if (f1 === 0) return d;
  const est = (n * d) / (n - f1 + (f1 * n) / total);
  return Math.round(Math.min(total, Math.max(d, est)));
}

/**
 * Reservoir sampling over a stream of batches (Vitter's Algorithm L): `sample(len, take)` calls
 * `take(row, slot)` for each row of the next batch that enters the reservoir (slot in [0, k)).
 */
export class Reservoir {
  #seen = 0;
  #next = -1;
  #w = 1;
  constructor(readonly k: number, private readonly rand: () => number) {}

  get seen(): number { return this.#seen; }

  #skip(): number {
    const u = 1 - this.rand(); // (0, 1]
    const l = Math.log(1 - this.#w);
    return l === 0 || !Number.isFinite(l) ? 0 : Math.floor(Math.log(u) / l);
  }

  sample(len: number, take: (row: number, slot: number) => void): void {
    const base = this.#seen;
    const k = this.k;
    let r = 0;
    for (; r < len && base + r < k; r++) take(r, base + r);
    if (base + r >= k && k > 0) {
      if (this.#next < 0) {
        this.#w = Math.exp(Math.log(1 - this.rand()) / k);
        this.#next = k + this.#skip();
      }
      while (this.#next < base + len) {
        take(this.#next - base, Math.floor(this.rand() * k));
        this.#w *= Math.exp(Math.log(1 - this.rand()) / k);
        this.#next += this.#skip() + 1;
      }
    }
    this.#seen = base + len;
  }
}

/** Scan a table (latest committed rows) and compute its statistics from a sample. */
export async function analyzeTable(store: Store, table: TableMeta, txn: number, opts: AnalyzeOptions = {}): Promise<TableStatistics> {
  const target = Math.max(1, Math.min(10_000, Math.floor(opts.statisticsTarget ?? DEFAULT_STATISTICS_TARGET)));
  const n = table.columns.length;
  const sample: unknown[][] = table.columns.map(() => []);
  // exact min / max of columns held in number typed arrays
  const mins = new Array<number>(n).fill(Infinity);
  const maxs = new Array<number>(n).fill(-Infinity);
  const exact = new Array<boolean>(n).fill(true);
  let seed = (table.id * 2654435761) >>> 0 || 1;
  const rand = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 4294967296; };
  const reservoir = new Reservoir(ROWS_PER_TARGET * target, rand);
  const cols = table.columns.map((_, i) => i);
  for await (const b of store.scan(table.id, latestSnapshot(txn as never), { columns: cols })) {
    const len = b.batch.length;
    const vectors = b.batch.columns;
    reservoir.sample(len, (r, slot) => {
      for (let c = 0; c < n; c++) sample[c]![slot] = valueAt(vectors[c]!, r);
    });
    for (let c = 0; c < n; c++) {
      if (!exact[c]) continue;
      const v = vectors[c]!;
      if (!isNumberArray(v.data)) { exact[c] = false; continue; }
      const range = numberRange(v.data, v.validity, len);
      if (range[0] < mins[c]!) mins[c] = range[0];
      if (range[1] > maxs[c]!) maxs[c] = range[1];
    }
  }
  const rows = reservoir.seen;
  const columns: ColumnStats[] = table.columns.map((col, c) => columnStats(sample[c]!, rows, target, orderable(col.type),
    exact[c] && mins[c]! <= maxs[c]! ? [mins[c]!, maxs[c]!] : undefined));
  return { rowCount: rows, analyzedAt: new Date().toISOString(), columns };
}

/**
 * Statistics of one column from its sampled values (null = NULL) out of `rows` rows; `range` is
 * the exact [min, max] when known. Works on the sorted sample: runs of equal values give the
 * distinct count, the values seen once and the MCV candidates; the rest, already in order, gives
 * the histogram bounds.
 */
function columnStats(all: readonly unknown[], rows: number, target: number, ordered: boolean, range: [number, number] | undefined): ColumnStats {
  const total = all.length;
  const values: unknown[] = [];
  let numbers = true, strings = true;
  for (const v of all) {
    if (v === null) continue;
    values.push(v);
    if (typeof v !== 'number') numbers = false;
    if (typeof v !== 'string') strings = false;
  }
  const nonNull = values.length;
  const nullFraction = total === 0 ? 0 : (total - nonNull) / total;
  let sorted: ArrayLike<unknown>;
  if (numbers) sorted = Float64Array.from(values as number[]).sort();
  else if (strings) sorted = values.sort(); // default order: UTF-16 code units, as `<` compares strings
  else if (ordered) sorted = values.sort(cmp);
  else sorted = values.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).sort(); // no order (JSON): equal by text
  // runs of equal values
  const runStart: number[] = [];
  for (let i = 0; i < nonNull; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) runStart.push(i);
  const d = runStart.length;
  let f1 = 0;
  const multiple: { at: number; k: number }[] = [];
  for (let r = 0; r < d; r++) {
    const k = (r + 1 < d ? runStart[r + 1]! : nonNull) - runStart[r]!;
    if (k === 1) f1++; else multiple.push({ at: r, k });
  }
  const distinct = estimateDistinct(nonNull, d, f1, total >= rows ? nonNull : Math.round(rows * (1 - nullFraction)));
  const base: ColumnStats = { distinct, nullFraction };
  if (nonNull === 0 || !ordered) return base;
  // most common values: by count, ties in value order (runs are in value order, sort is stable)
  const mcvRuns = multiple.sort((a, b) => b.k - a.k).slice(0, Math.min(MCV_COUNT, target));
  const mcv = mcvRuns.map((m) => ({ value: sorted[runStart[m.at]!], frequency: m.k / total }));
  const inMcv = new Uint8Array(d);
  for (const m of mcvRuns) inMcv[m.at] = 1;
  const rest: unknown[] = [];
  for (let r = 0; r < d; r++) {
    if (inMcv[r]) continue;
    const end = r + 1 < d ? runStart[r + 1]! : nonNull;
    for (let i = runStart[r]!; i < end; i++) rest.push(sorted[i]);
  }
  const histogram: unknown[] = [];
  if (rest.length > 1) {
    const buckets = Math.min(HISTOGRAM_BUCKETS, target, rest.length - 1);
    for (let i = 0; i <= buckets; i++) histogram.push(rest[Math.round((i * (rest.length - 1)) / buckets)]);
  }
  const min = range ? range[0] : sorted[0];
  const max = range ? range[1] : sorted[nonNull - 1];
  return { ...base, min, max, ...(mcv.length ? { mcv } : {}), ...(histogram.length ? { histogram } : {}) };
}

type NumberArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array;

function isNumberArray(d: unknown): d is NumberArray {
  // Uint8Array is left out: booleans and validity-like bytes are compared as sampled values
  return d instanceof Float64Array || d instanceof Int32Array || d instanceof Float32Array || d instanceof Int16Array
    || d instanceof Int8Array || d instanceof Uint32Array || d instanceof Uint16Array;
}

/** [min, max] of the non-null, non-NaN values of `data[0, len)` ([Infinity, -Infinity] if none). */
function numberRange(data: NumberArray, validity: Uint8Array | null, len: number): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < len; i++) {
    if (validity !== null && validity[i] === 0) continue;
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function orderable(t: SqlType): boolean {
  return physicalTypeOf(t) !== 'json';
}

function valueAt(c: ColumnVector, i: number): unknown {
  if (c.validity !== null && c.validity[i] === 0) return null;
  return (c.data as ArrayLike<unknown>)[i];
}

/** Has the table changed enough since it was analyzed to analyze it again? */
export function needsAnalyze(stats: TableStatistics | undefined, rowCount: number): boolean {
  if (!stats) return rowCount >= 500;
  const moved = Math.abs(rowCount - stats.rowCount);
  return moved > 500 && moved > stats.rowCount * 0.1;
}
