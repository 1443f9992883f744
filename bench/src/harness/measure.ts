/**
 * Timed runs, interleaved across engines: warm-up runs first (untimed), then for run i every
 * engine runs once, in an order rotated by i, so that drift on a noisy machine (other
 * processes, thermal state, GC) falls on all engines alike.
 *
 * A run returns the time it measured itself (so set-up inside a run is not counted). The first
 * failure of an engine ends its runs; a run longer than `budgetMs`, or runs adding up to twice
 * `budgetMs`, end its further runs (the samples so far are kept and a note says so).
 */
import { errorCode, errorMessage, NotApplicable, QueryTimeout, WrongAnswer, type EngineName } from '../engines/adapter.js';
import { computeStats, type Measurement, type Status } from './results.js';

export interface RunOutcome {
  samples: number[];
  failure?: { status: Status; code?: string; message: string };
  note?: string;
}

export function classifyFailure(engine: EngineName, err: unknown): { status: Status; code?: string; message: string } {
  const code = errorCode(err);
  const message = errorMessage(err);
  if (err instanceof NotApplicable) return { status: 'n/a', message };
  if (err instanceof WrongAnswer) return { status: 'error', message };
  if (err instanceof QueryTimeout) return { status: 'timeout', message };
  return { status: engine === 'quiverdb' ? 'unsupported' : 'error', ...(code ? { code } : {}), message };
}

/** An engine whose runs of one workload add up to this many budgets stops after its current run. */
const TOTAL_BUDGETS = 2;

export interface InterleaveOptions {
  readonly warmup: number;
  readonly runs: number;
  readonly budgetMs: number;
}

export async function interleave<E extends { name: EngineName }>(
  engines: readonly E[],
  opts: InterleaveOptions,
  run: (engine: E, iteration: number) => Promise<number>,
): Promise<Map<EngineName, RunOutcome>> {
  const out = new Map<EngineName, RunOutcome>(engines.map((e) => [e.name, { samples: [] }]));
  const stopped = new Set<EngineName>();
  const spent = new Map<EngineName, number>();
  const total = opts.warmup + opts.runs;
  for (let i = 0; i < total; i++) {
    const order = engines.map((_, j) => engines[(i + j) % engines.length]!);
    for (const e of order) {
      if (stopped.has(e.name)) continue;
      const o = out.get(e.name)!;
      try {
        const ms = await run(e, i);
        if (i >= opts.warmup) o.samples.push(ms);
        spent.set(e.name, (spent.get(e.name) ?? 0) + ms);
        const overRun = ms > opts.budgetMs;
        const overTotal = spent.get(e.name)! > TOTAL_BUDGETS * opts.budgetMs && o.samples.length > 0;
        if ((overRun || overTotal) && i + 1 < total) {
          stopped.add(e.name);
          if (o.samples.length === 0) o.samples.push(ms);
          o.note = overRun
            ? `over the ${Math.round(opts.budgetMs / 1000)} s budget: ${o.samples.length} run(s)`
            : `over ${TOTAL_BUDGETS}x the ${Math.round(opts.budgetMs / 1000)} s budget in all: ${o.samples.length} run(s)`;
        }
      } catch (err) {
        o.failure = classifyFailure(e.name, err);
        stopped.add(e.name);
      }
    }
  }
  return out;
}

/** A `Measurement` from a run outcome. `perRun` = operations per run for throughput. */
export function toMeasurement(
  base: { group: string; workload: string; engine: EngineName },
  o: RunOutcome,
  opts: { unit?: string; ops?: number; throughputUnit?: string; scale?: number; answer?: string; note?: string } = {},
): Measurement {
  const notes = [opts.note, o.note].filter((n): n is string => !!n);
  if (o.failure) {
    return {
      ...base,
      status: o.failure.status,
      unit: opts.unit ?? 'ms',
      samples: [],
      error: { ...(o.failure.code ? { code: o.failure.code } : {}), message: o.failure.message },
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  }
  const scale = opts.scale ?? 1;
  const samples = o.samples.map((s) => s * scale);
  const stats = computeStats(samples);
  const throughput = stats && opts.ops && opts.throughputUnit
    ? { value: (opts.ops / (stats.median / scale)) * 1000, unit: opts.throughputUnit }
    : undefined;
  return {
    ...base,
    status: 'ok',
    unit: opts.unit ?? 'ms',
    samples,
    ...(stats ? { stats } : {}),
    ...(throughput ? { throughput } : {}),
    ...(opts.answer ? { answer: opts.answer } : {}),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}

export function failed(base: { group: string; workload: string; engine: EngineName }, err: unknown, unit = 'ms'): Measurement {
  const f = classifyFailure(base.engine, err);
  return { ...base, status: f.status, unit, samples: [], error: { ...(f.code ? { code: f.code } : {}), message: f.message } };
}

export function now(): number {
  return performance.now();
}
