/**
 * `--isolate`: run each file in a child process (the built `quiver-slt` in `--child` mode) and
 * kill it when it stops making progress — the only way to get past a statement that never yields
 * to the event loop (an in-process timer cannot fire while it runs).
 *
 * Child protocol on stdout, one line each:
 *   R <startLine> <o|w|s>      a statement/query record was judged ok / wrong / skipped
 *   DONE <FileResult as JSON>  the file finished
 *
 * Invariants:
 *  1. A killed file is scored like a finished one: the records the child reported keep their
 *     outcome, the record it was stuck on and every later runnable record count as wrong, and
 *     skipif/onlyif/halt are honoured for the rest, so rates stay comparable to in-process runs.
 *  2. The parent never waits more than `stallMs` without a line from the child.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { conditionsAllow, parseScript } from './parser.js';
import { emptyTally, ENGINE_NAME } from './runner.js';
import type { FileResult, RunOptions } from './runner.js';

export interface IsolateOptions {
  /** Path of the built cli.js to run in `--child` mode. */
  readonly cliPath: string;
  /** Kill the child after this long without progress (ms). */
  readonly stallMs: number;
}

/** Arguments that make the child run `file` with the same options. */
function childArgs(file: string, name: string, o: RunOptions): string[] {
  const args = ['--child', '--child-name', name];
  if (o.engine !== undefined) args.push('--engine', o.engine);
  if (o.timeoutMs !== undefined) args.push('--timeout', String(o.timeoutMs));
  if (o.fileBudgetMs !== undefined) args.push('--file-budget', String(o.fileBudgetMs));
  if (o.storage === 'directory') args.push('--dir');
  args.push(file);
  return args;
}

export async function runFileIsolated(file: string, name: string, options: RunOptions, iso: IsolateOptions): Promise<FileResult> {
  const started = performance.now();
  const child = spawn(process.execPath, [iso.cliPath, ...childArgs(file, name, options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const reported = new Map<number, 'o' | 'w' | 's'>();
  let done: FileResult | undefined;
  let stderr = '';
  let last = performance.now();
  child.stderr.on('data', (d: Buffer) => {
    last = performance.now();
    if (stderr.length < 4000) stderr += d.toString();
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    last = performance.now();
    if (line.startsWith('R ')) {
      const [, at, o] = line.split(' ');
      reported.set(Number(at), o as 'o' | 'w' | 's');
    } else if (line.startsWith('DONE ')) {
      done = JSON.parse(line.slice(5)) as FileResult;
      // The child exits by itself; make sure a leftover statement cannot keep it alive.
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    }
  });
  let killed = false;
  const watchdog = setInterval(() => {
    if (performance.now() - last > iso.stallMs) {
      killed = true;
      child.kill('SIGKILL');
    }
  }, Math.min(1000, iso.stallMs));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearInterval(watchdog);
  if (done !== undefined) return done;

  // The child died or was killed: rebuild the score from what it reported.
  const script = parseScript(await readFile(file, 'utf8').catch(() => ''), name);
  const result: FileResult = {
    file: name,
    queries: emptyTally(),
    statements: emptyTally(),
    timeouts: killed ? 1 : 0,
    unsupported: 0,
    halted: false,
    durationMs: performance.now() - started,
    failures: [],
    fatal: killed
      ? `killed after ${iso.stallMs} ms without progress (a statement that never yields)`
      : `child exited with ${exitCode}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
    completed: undefined,
  };
  const engine = options.engine ?? ENGINE_NAME;
  let stuckReported = false;
  for (const rec of script.records) {
    if (rec.kind !== 'statement' && rec.kind !== 'query') {
      if (rec.kind === 'halt' && conditionsAllow(rec.conditions, engine) && !reported.has(rec.startLine)) {
        // A halt is only reached if every record before it was reported.
        const before = script.records.filter((r) => (r.kind === 'statement' || r.kind === 'query') && r.startLine < rec.startLine);
        if (before.every((r) => reported.has(r.startLine))) {
          result.halted = true;
          break;
        }
      }
      if (rec.kind === 'unsupported' && conditionsAllow(rec.conditions, engine)) result.unsupported++;
      continue;
    }
    const tally = rec.kind === 'query' ? result.queries : result.statements;
    const o = reported.get(rec.startLine);
    if (o === 'o') tally.ok++;
    else if (o === 's') tally.skipped++;
    else if (o === 'w') tally.wrong++;
    else if (!conditionsAllow(rec.conditions, engine)) tally.skipped++;
    else {
      tally.wrong++;
      if (!stuckReported) {
        stuckReported = true;
        result.failures.push({ line: rec.startLine, kind: rec.kind, sql: rec.sql.replace(/\s+/g, ' ').slice(0, 160), reason: result.fatal! });
      }
    }
  }
  return result;
}
