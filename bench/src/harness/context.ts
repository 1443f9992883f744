/** Options of one bench run and the context workloads share. */
import type { EngineName } from '../engines/adapter.js';
import type { BenchReport, Measurement } from './results.js';

export const ALL_GROUPS = ['tpch', 'oltp', 'concurrency', 'indexes'] as const;
export type Group = (typeof ALL_GROUPS)[number];

export interface BenchOptions {
  readonly quick: boolean;
  readonly sf: number;
  readonly groups: ReadonlySet<Group>;
  readonly engines: readonly EngineName[];
  readonly seed: number;
  readonly warmup: number;
  readonly runs: number;
  /** A run longer than this ends that engine's further runs of the workload. */
  readonly budgetMs: number;
  /**
   * Run each engine in a worker thread of its own (built CLI only): its TPC-H phase, so a query
   * can be stopped at `queryTimeoutMs`, and its OLTP and concurrency groups, so its figures come
   * from a heap that holds only its own data.
   */
  readonly isolate: boolean;
  readonly queryTimeoutMs: number;
  readonly kvRows: number;
  readonly pointLookups: number;
  readonly rangeScans: number;
  readonly durableInserts: number;
  readonly bulkRows: number;
  readonly updates: number;
  readonly txnsPerRun: number;
  readonly connections: readonly number[];
  /** Directory for file-backed databases (removed afterwards). */
  readonly tmpDir: string;
}

export function defaultOptions(quick: boolean, overrides: Partial<BenchOptions> = {}): BenchOptions {
  const base: Omit<BenchOptions, 'tmpDir' | 'groups' | 'engines'> = quick
    ? {
      quick, sf: 0.01, seed: 20_260_101, warmup: 1, runs: 3, budgetMs: 3_000, isolate: true, queryTimeoutMs: 10_000,
      kvRows: 10_000, pointLookups: 200, rangeScans: 40, durableInserts: 20, bulkRows: 2_000, updates: 200,
      txnsPerRun: 32, connections: [1, 4, 16],
    }
    : {
      quick, sf: 0.1, seed: 20_260_101, warmup: 1, runs: 5, budgetMs: 60_000, isolate: true, queryTimeoutMs: 300_000,
      kvRows: 1_000_000, pointLookups: 20_000, rangeScans: 2_000, durableInserts: 5_000, bulkRows: 100_000, updates: 10_000,
      txnsPerRun: 320, connections: [1, 4, 16],
    };
  return {
    ...base,
    // 'indexes' (QuiverDB's B+ tree vs Bε-tree, no peer figures) runs only when named in --only
    groups: new Set(ALL_GROUPS.filter((g) => g !== 'indexes')),
    engines: ['quiverdb', 'duckdb', 'sqlite', 'pglite', 'alasql'],
    tmpDir: '',
    ...overrides,
  };
}

export interface BenchContext {
  readonly opts: BenchOptions;
  readonly report: BenchReport;
  log(msg: string): void;
  add(m: Measurement): void;
}
