/**
 * One bench run: workloads in order (TPC-H, then OLTP and concurrency on kv), results collected
 * into a `BenchReport` and written as results/latest.json, latest.md and tpch.svg.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createAdapter } from './engines/registry.js';
import type { BenchContext, BenchOptions } from './harness/context.js';
import type { BenchReport } from './harness/results.js';
import { renderMarkdown } from './report/markdown.js';
import { renderTpchSvg } from './report/svg.js';
import { peakRssMb } from './workloads/memory.js';
import { runIndexes } from './workloads/indexes.js';
import { runOltp } from './workloads/oltp.js';
import { runTpch } from './workloads/tpch.js';

function gitCommit(cwd: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

export interface RunOptions {
  /** Where latest.json / latest.md / tpch.svg go; nothing is written when undefined. */
  readonly outDir?: string;
  readonly log?: (msg: string) => void;
}

export async function runBench(opts: BenchOptions, run: RunOptions = {}): Promise<BenchReport> {
  const started = performance.now();
  const log = run.log ?? (() => {});
  const tmpDir = opts.tmpDir || mkdtempSync(join(os.tmpdir(), 'quiver-bench-'));
  const o: BenchOptions = { ...opts, tmpDir };
  const engines: Record<string, string> = {};
  for (const e of o.engines) engines[e] = createAdapter(e).version;
  const report: BenchReport = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      nproc: os.availableParallelism(),
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      platform: `${os.platform()} ${os.arch()}`,
      totalMemGb: Math.round(os.totalmem() / 2 ** 30),
      ...(gitCommit(process.cwd()) ? { commit: gitCommit(process.cwd())! } : {}),
      options: {
        quick: o.quick, sf: o.sf, seed: o.seed, warmup: o.warmup, runs: o.runs, kvRows: o.kvRows,
        groups: [...o.groups], budgetS: o.budgetMs / 1000,
      },
      engines,
      loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 10) / 10),
    },
    measurements: [],
    memory: [],
    checksums: {},
  };
  const ctx: BenchContext = { opts: o, report, log, add: (m) => report.measurements.push(m) };
  try {
    if (o.groups.has('tpch')) await runTpch(ctx);
    if (o.groups.has('oltp') || o.groups.has('concurrency')) await runOltp(ctx);
    if (o.groups.has('indexes')) await runIndexes(ctx);
  } finally {
    if (!opts.tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  }
  report.meta = { ...report.meta, durationS: Math.round((performance.now() - started) / 100) / 10, peakRssMb: peakRssMb() };
  report.meta = { ...report.meta, loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10) };
  if (run.outDir) writeReports(report, run.outDir);
  return report;
}

/** latest.json (unless it is the source), latest.md and, with TPC-H figures, tpch.svg. */
export function writeReports(report: BenchReport, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(outDir, 'latest.md'), renderMarkdown(report));
  if (report.measurements.some((m) => m.group === 'tpch')) writeFileSync(join(outDir, 'tpch.svg'), renderTpchSvg(report));
}
