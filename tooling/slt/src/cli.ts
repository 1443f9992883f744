/**
 * `quiver-slt`: run sqllogictest scripts against QuiverDB.
 *
 *   quiver-slt [options] FILE|DIR ...        run scripts (.test/.slt, directories recursively)
 *   quiver-slt --corpus [quick|full]         run ../shared/slt (quick subset by default)
 *
 * Exit status: 1 when a baseline check finds a drop, or (without --baseline / --allow-failures /
 * --complete, and outside corpus runs) when any record failed; 2 on usage errors; 0 otherwise.
 */
import { realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkBaseline, corpusFiles, defaultCorpusDir, displayName, findScripts, loadBaseline, saveBaseline, updateBaseline } from './corpus.js';
import { formatFailures, formatFileLine, formatTotalLine, percent, totalsOf } from './report.js';
import { runFileIsolated } from './isolate.js';
import { DEFAULT_TIMEOUT_MS, ENGINE_NAME, runFile } from './runner.js';
import type { FileResult, RunOptions } from './runner.js';

const USAGE = `usage: quiver-slt [options] FILE|DIR ...
       quiver-slt --corpus [quick|full] [options]

options:
  --corpus [quick|full]   run the sqllogictest corpus (../shared/slt from the repo root)
  --corpus-dir DIR        corpus root (default: ${'<repo>'}/../shared/slt)
  --root DIR              report file names relative to DIR (default: corpus dir, else cwd)
  --engine NAME           name for skipif/onlyif (default: ${ENGINE_NAME})
  --timeout MS            per-record timeout (default: ${DEFAULT_TIMEOUT_MS})
  --file-budget MS        wall-clock budget per file; records after it count as wrong
  --dir                   run each file on a fresh temporary directory instead of ':memory:'
                          (scripts that use \`restart\` always get one)
  --complete              rewrite the expected results of query records in place
  --baseline FILE         fail (exit 1) when a file's pass rate drops below FILE's
  --update-baseline       write the pass rates of this run into the baseline file
  --allow-failures        exit 0 even when records fail
  --isolate               run each file in a child process, killed after --stall MS without
                          progress (gets past statements that never yield; needs the build)
  --stall MS              with --isolate (default: timeout + 5000)
  -j, --jobs N            with --isolate: run N files at once (default: 1)
  --json FILE             write every file's result as JSON
  -v, --verbose           print failure details (see --max-failures)
  --max-failures N        failure details printed per file with -v (default: 20)
  -q, --quiet             print only the total line
  -h, --help              this text`;

/** tooling/slt (this file is src/cli.ts or dist/cli.js). */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_ROOT = resolve(PACKAGE_DIR, '..', '..');
export const DEFAULT_BASELINE = resolve(PACKAGE_DIR, 'baseline.json');

export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        corpus: { type: 'boolean' },
        'corpus-dir': { type: 'string' },
        root: { type: 'string' },
        engine: { type: 'string' },
        timeout: { type: 'string' },
        'file-budget': { type: 'string' },
        dir: { type: 'boolean' },
        complete: { type: 'boolean' },
        baseline: { type: 'string' },
        'update-baseline': { type: 'boolean' },
        'allow-failures': { type: 'boolean' },
        json: { type: 'string' },
        isolate: { type: 'boolean' },
        stall: { type: 'string' },
        jobs: { type: 'string', short: 'j' },
        child: { type: 'boolean' },
        'child-name': { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        'max-failures': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const o = parsed.values;
  if (o.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number, got ${v}`);
    return n;
  };
  let timeoutMs: number | undefined;
  let fileBudgetMs: number | undefined;
  let maxFailures: number;
  let stallMs: number | undefined;
  let jobs: number;
  try {
    stallMs = num(o.stall, 'stall');
    jobs = Math.floor(num(o.jobs, 'jobs') ?? 1);
    timeoutMs = num(o.timeout, 'timeout');
    fileBudgetMs = num(o['file-budget'], 'file-budget');
    maxFailures = num(o['max-failures'], 'max-failures') ?? 20;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }

  let positionals = [...parsed.positionals];
  const corpusRun = o.corpus === true;
  let which: 'quick' | 'full' = 'quick';
  if (corpusRun && (positionals[0] === 'quick' || positionals[0] === 'full')) {
    which = positionals[0];
    positionals = positionals.slice(1);
  }
  const corpusDir = resolve(o['corpus-dir'] ?? defaultCorpusDir(REPO_ROOT));
  let files: string[];
  try {
    files = corpusRun ? await corpusFiles(corpusDir, which) : [];
    files.push(...(await findScripts(positionals)));
  } catch (err) {
    process.stderr.write(`quiver-slt: ${(err as Error).message}\n`);
    return 2;
  }
  if (files.length === 0) {
    process.stderr.write(`quiver-slt: no scripts to run\n${USAGE}\n`);
    return 2;
  }
  const root = resolve(o.root ?? (corpusRun || o['update-baseline'] === true || o.baseline !== undefined ? corpusDir : process.cwd()));

  const options: RunOptions = {
    engine: o.engine ?? ENGINE_NAME,
    storage: o.dir === true ? 'directory' : 'auto',
    complete: o.complete === true,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(fileBudgetMs !== undefined ? { fileBudgetMs } : {}),
    maxFailureDetails: Math.max(maxFailures, 50),
  };

  if (o.child === true) return runChild(files[0]!, o['child-name'] ?? files[0]!, options);
  if (jobs > 1 && o.isolate !== true) {
    process.stderr.write('quiver-slt: --jobs needs --isolate (in-process files run one at a time)\n');
    return 2;
  }
  if (o.isolate === true && options.complete === true) {
    process.stderr.write('quiver-slt: --isolate and --complete do not go together\n');
    return 2;
  }
  const isolate =
    o.isolate === true ? { cliPath: fileURLToPath(import.meta.url), stallMs: stallMs ?? (timeoutMs ?? DEFAULT_TIMEOUT_MS) + 5000 } : undefined;

  const report = async (file: string, r: FileResult): Promise<void> => {
    if (o.quiet !== true) process.stdout.write(`${formatFileLine(r)}\n`);
    if (o.verbose === true) for (const l of formatFailures(r, maxFailures)) process.stdout.write(`${l}\n`);
    if (options.complete === true && r.completed !== undefined && r.fatal === undefined) {
      await writeFile(file, r.completed);
    }
  };
  const slots: (FileResult | undefined)[] = new Array<FileResult | undefined>(files.length);
  if (isolate !== undefined && jobs > 1) {
    // Several child processes at once; lines print as files finish, totals keep file order.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length) {
        const i = next++;
        const file = files[i]!;
        const r = await runFileIsolated(file, displayName(file, root), options, isolate);
        slots[i] = r;
        await report(file, r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  } else {
    for (const [i, file] of files.entries()) {
      const name = displayName(file, root);
      const r = isolate !== undefined ? await runFileIsolated(file, name, options, isolate) : await runFile(file, options, name);
      slots[i] = r;
      await report(file, r);
    }
  }
  const results = slots.filter((r): r is FileResult => r !== undefined);
  const totals = totalsOf(results);
  process.stdout.write(`${formatTotalLine(totals, corpusRun ? 'slt corpus' : 'slt')}\n`);
  if (o.json !== undefined) {
    await writeFile(o.json, `${JSON.stringify(results.map(({ completed: _c, ...r }) => r), null, 2)}\n`);
  }

  let failed = false;
  const baselinePath = o.baseline !== undefined ? resolve(o.baseline) : DEFAULT_BASELINE;
  if (o['update-baseline'] === true) {
    const old = await loadBaseline(baselinePath);
    const { baseline, lowered } = updateBaseline(old, results);
    await saveBaseline(baselinePath, baseline);
    process.stdout.write(`baseline: wrote ${results.length} files to ${baselinePath}\n`);
    for (const l of lowered) {
      process.stdout.write(`baseline: LOWERED ${l.file} from ${percent(l.baseline.rate)} to ${percent(l.rate)}\n`);
    }
  } else if (o.baseline !== undefined) {
    const regressions = checkBaseline(results, await loadBaseline(baselinePath));
    for (const r of regressions) {
      process.stdout.write(`baseline: DROP ${r.file} ${percent(r.rate)} (${r.ok}/${r.ran}) < ${percent(r.baseline.rate)} (${r.baseline.ok}/${r.baseline.ran})\n`);
    }
    if (regressions.length > 0) failed = true;
    else process.stdout.write(`baseline: no file below ${baselinePath}\n`);
  } else if (options.complete === true) {
    failed = totals.fatal > 0;
  } else if (!corpusRun && o['allow-failures'] !== true) {
    failed = totals.queries.wrong + totals.statements.wrong > 0 || totals.fatal > 0;
  }
  return failed ? 1 : 0;
}

/** `--child`: run one file and report progress for `--isolate` (see isolate.ts). */
async function runChild(file: string, name: string, options: RunOptions): Promise<number> {
  const code = { ok: 'o', wrong: 'w', skipped: 's' } as const;
  const r = await runFile(file, { ...options, onRecord: (rec, outcome) => process.stdout.write(`R ${rec.startLine} ${code[outcome]}\n`) }, name);
  const { completed: _c, ...rest } = r;
  process.stdout.write(`DONE ${JSON.stringify(rest)}\n`);
  return 0;
}

function isMainModule(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

const invokedDirectly = isMainModule();
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Exit explicitly: a statement abandoned after a timeout may keep the event loop alive.
      process.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`quiver-slt: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
