/**
 * ANALYZE: per-table and per-column statistics for the planner, kept in the catalog store
 * (`a/<table id>`, JSON) and returned by `TableSource.stats()`.
 *
 * Per column: distinct count (HyperLogLog over every row), null fraction, min / max, the most
 * common values with their frequencies (from a reservoir sample) and an equi-depth histogram of the
 * other values (bucket bounds from the sorted sample), as PostgreSQL's pg_stats has them.
 *
 * Sampling: every row feeds the sketches and min/max; a reservoir of SAMPLE_ROWS rows (Algorithm R,
 * fixed seed per table so results are repeatable) feeds MCVs and histograms.
 *
 * Automatic refresh: `needsAnalyze` says when the committed row count moved by more than 10% (or
 * 500 rows) from the analyzed one; the database then re-analyzes in the background.
 */
import { physicalTypeOf, type ColumnVector, type SqlType, type TableId } from '@quiverdb/common';
import type { Store } from '@quiverdb/storage';
import type { TableMeta } from '../catalog/catalog-state.js';
import { latestSnapshot } from '../table/index-registry.js';
import { HyperLogLog } from './hyperloglog.js';

const SAMPLE_ROWS = 30_000;
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

export const statsKey = (id: TableId) => `a/${id}`;

function cmp(a: unknown, b: unknown): number {
  return a! < b! ? -1 : a! > b! ? 1 : 0;
}

/** Scan a table (latest committed rows) and compute its statistics. */
export async function analyzeTable(store: Store, table: TableMeta, txn: number): Promise<TableStatistics> {
  const n = table.columns.length;
  const hll = table.columns.map(() => new HyperLogLog());
  const nulls = new Array<number>(n).fill(0);
  const mins = new Array<unknown>(n).fill(undefined);
  const maxs = new Array<unknown>(n).fill(undefined);
  const sample: unknown[][] = table.columns.map(() => []);
  let rows = 0;
  let seed = (table.id * 2654435761) >>> 0 || 1;
  const rand = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 4294967296; };
  const cols = table.columns.map((_, i) => i);
  for await (const b of store.scan(table.id, latestSnapshot(txn as never), { columns: cols })) {
    const len = b.batch.length;
    for (let r = 0; r < len; r++, rows++) {
      // reservoir slot for this row (Algorithm R)
      let slot = -1;
      if (rows < SAMPLE_ROWS) slot = rows;
      else {
        const j = Math.floor(rand() * (rows + 1));
        if (j < SAMPLE_ROWS) slot = j;
      }
      for (let c = 0; c < n; c++) {
        const v = valueAt(b.batch.columns[c]!, r);
        if (v === null) { nulls[c]!++; if (slot >= 0) sample[c]![slot] = null; continue; }
        hll[c]!.add(v);
        if (mins[c] === undefined || cmp(v, mins[c]) < 0) mins[c] = v;
        if (maxs[c] === undefined || cmp(v, maxs[c]) > 0) maxs[c] = v;
        if (slot >= 0) sample[c]![slot] = v;
      }
    }
  }
  const columns: ColumnStats[] = table.columns.map((col, c) => {
    const distinct = Math.min(hll[c]!.estimate(), rows - nulls[c]!);
    const base: ColumnStats = { distinct, nullFraction: rows === 0 ? 0 : nulls[c]! / rows };
    if (mins[c] === undefined || !orderable(col.type)) return base;
    const values = sample[c]!.filter((v) => v !== null);
    const counts = new Map<unknown, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    const total = sample[c]!.length;
    const mcv = [...counts].filter(([, k]) => k > 1).sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).slice(0, MCV_COUNT)
      .map(([value, k]) => ({ value, frequency: k / total }));
    const inMcv = new Set(mcv.map((m) => m.value));
    const rest = values.filter((v) => !inMcv.has(v)).sort(cmp);
    const histogram: unknown[] = [];
    if (rest.length > 1) {
      const buckets = Math.min(HISTOGRAM_BUCKETS, rest.length - 1);
      for (let i = 0; i <= buckets; i++) histogram.push(rest[Math.round((i * (rest.length - 1)) / buckets)]);
    }
    return { ...base, min: mins[c], max: maxs[c], ...(mcv.length ? { mcv } : {}), ...(histogram.length ? { histogram } : {}) };
  });
  return { rowCount: rows, analyzedAt: new Date().toISOString(), columns };
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
