/**
 * CLI: `node dist/main.js [--quick] [--sf 0.01|0.1|1] [--only tpch,oltp,concurrency]
 *       [--engines quiverdb,duckdb,...] [--runs N] [--kv-rows N] [--query-timeout S] [--out DIR]`
 *
 * Prints the Markdown table and writes results/latest.{json,md} and results/tpch.svg.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_ENGINES, type EngineName } from './engines/adapter.js';
import { ALL_GROUPS, defaultOptions, type BenchOptions, type Group } from './harness/context.js';
import { renderMarkdown } from './report/markdown.js';
import { runBench, writeReports } from './run-bench.js';
import type { BenchReport } from './harness/results.js';
import { readFileSync } from 'node:fs';
import { updateReadmeSection } from './report/readme.js';

const USAGE = `usage: bench [--quick] [--sf 0.01|0.1|1] [--only ${ALL_GROUPS.join(',')}] [--engines ${ALL_ENGINES.join(',')}]
             [--runs N] [--kv-rows N] [--query-timeout S] [--out DIR] [--update-readme] [--quiet]
       bench --from-json FILE [--out DIR] [--update-readme]   (re-render md, svg, README from a JSON report)`;

export function parseArgs(argv: readonly string[]): {
  opts: BenchOptions; outDir: string; quiet: boolean; updateReadme: boolean; fromJson?: string;
} {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${USAGE}`);
    const [k, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (k === 'quick' || k === 'quiet' || k === 'help' || k === 'update-readme') flags.set(k, true);
    else {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`--${k} needs a value\n${USAGE}`);
      flags.set(k, v);
    }
  }
  if (flags.has('help')) throw new Error(USAGE);
  const quick = flags.has('quick');
  const overrides: { -readonly [K in keyof BenchOptions]?: BenchOptions[K] } = {};
  const num = (k: string): number | undefined => {
    const v = flags.get(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k}: not a positive number: ${String(v)}`);
    return n;
  };
  const sf = num('sf');
  if (sf !== undefined) overrides.sf = sf;
  const runs = num('runs');
  if (runs !== undefined) overrides.runs = Math.round(runs);
  const kvRows = num('kv-rows');
  if (kvRows !== undefined) overrides.kvRows = Math.round(kvRows);
  // seconds a TPC-H query may run before it is stopped and reported as a timeout (default 300)
  const timeout = num('query-timeout');
  if (timeout !== undefined) overrides.queryTimeoutMs = Math.round(timeout * 1000);
  const only = flags.get('only');
  if (typeof only === 'string') {
    const gs = only.split(',').map((s) => s.trim());
    for (const g of gs) if (!(ALL_GROUPS as readonly string[]).includes(g)) throw new Error(`--only: unknown group ${g} (${ALL_GROUPS.join(', ')})`);
    overrides.groups = new Set(gs as Group[]);
  }
  const engines = flags.get('engines');
  if (typeof engines === 'string') {
    const es = engines.split(',').map((s) => s.trim());
    for (const e of es) if (!(ALL_ENGINES as readonly string[]).includes(e)) throw new Error(`--engines: unknown engine ${e} (${ALL_ENGINES.join(', ')})`);
    overrides.engines = es as EngineName[];
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const out = flags.get('out');
  return {
    opts: defaultOptions(quick, overrides),
    outDir: typeof out === 'string' ? resolve(out) : join(here, '..', 'results'),
    quiet: flags.has('quiet'),
    updateReadme: flags.has('update-readme'),
    ...(typeof flags.get('from-json') === 'string' ? { fromJson: resolve(flags.get('from-json') as string) } : {}),
  };
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const { opts, outDir, quiet, updateReadme, fromJson } = parsed;
  if (fromJson) {
    const report = JSON.parse(readFileSync(fromJson, 'utf8')) as BenchReport;
    writeReports(report, outDir);
    if (updateReadme) updateReadmeSection(join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md'), report);
    console.log(renderMarkdown(report));
    return;
  }
  const log = quiet ? () => {} : (msg: string) => console.error(`[bench] ${msg}`);
  log(`${opts.quick ? 'quick' : 'full'} run: SF ${opts.sf}, kv ${opts.kvRows} rows, ${opts.runs} runs, engines ${opts.engines.join(', ')}`);
  const report = await runBench(opts, { outDir, log });
  console.log(renderMarkdown(report));
  if (updateReadme) {
    const readme = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
    updateReadmeSection(readme, report);
    log(`updated ${readme}`);
  }
  log(`wrote ${join(outDir, 'latest.json')}, latest.md${opts.groups.has('tpch') ? ', tpch.svg' : ''} in ${report.meta.durationS} s`);
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
