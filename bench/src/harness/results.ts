/**
 * The result model every workload reports into, and the JSON document written to
 * results/latest.json.
 *
 * Status (exhaustive, mutually exclusive):
 *   ok           measured; `samples` holds one value per timed run
 *   unsupported  QuiverDB could not run it (yet): `error` holds its SQLSTATE and message
 *   error        a peer engine failed, or an engine's answer differed from the reference
 *   timeout      stopped at the time limit (TPC-H queries in the built CLI)
 *   n/a          the engine has no such feature by design (e.g. PGlite: one connection)
 * Every time is "lower is better"; `throughput` is derived from the median for display.
 */
import type { EngineName } from '../engines/adapter.js';

export type Status = 'ok' | 'unsupported' | 'error' | 'timeout' | 'n/a';

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly p25: number;
  readonly p75: number;
}

export interface Measurement {
  readonly group: string;
  readonly workload: string;
  readonly engine: EngineName;
  readonly status: Status;
  /** Unit of `samples` and `stats`: 'ms' for a whole run, 'us/op' per operation. */
  readonly unit: string;
  readonly samples: readonly number[];
  readonly stats?: Stats;
  readonly throughput?: { readonly value: number; readonly unit: string };
  readonly error?: { readonly code?: string; readonly message: string };
  /** Answer digest (rows + hash) for query workloads. */
  readonly answer?: string;
  readonly note?: string;
}

export interface MemoryNote {
  readonly phase: string;
  readonly engine: EngineName;
  /** Process rss after the engine loaded its data, MB. */
  readonly rssMb: number;
  /** rss change across the load, MB (one process for all engines: indicative only). */
  readonly deltaMb: number;
}

export interface BenchMeta {
  readonly date: string;
  readonly node: string;
  readonly nproc: number;
  readonly cpu: string;
  readonly platform: string;
  readonly totalMemGb: number;
  readonly commit?: string;
  readonly options: Record<string, unknown>;
  readonly engines: Record<string, string>;
  readonly durationS?: number;
  /** `os.loadavg()` (1, 5, 15 min) at the start and at the end: how busy the machine was. */
  readonly loadAverageAtStart?: readonly number[];
  readonly loadAverage?: readonly number[];
  readonly peakRssMb?: number;
}

export interface BenchReport {
  meta: BenchMeta;
  measurements: Measurement[];
  memory: MemoryNote[];
  /** TPC-H data checksums per table (determinism witness). */
  checksums: Record<string, string>;
}

export function computeStats(samples: readonly number[]): Stats | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => {
    const pos = (s.length - 1) * p;
    const lo = Math.floor(pos), hi = Math.ceil(pos);
    return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
  };
  return { median: q(0.5), min: s[0]!, max: s[s.length - 1]!, p25: q(0.25), p75: q(0.75) };
}
