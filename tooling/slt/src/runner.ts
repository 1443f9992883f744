/**
 * The sqllogictest runner: executes a parsed script against a fresh database and scores it.
 *
 * Each file gets its own `Database` (':memory:' by default, or a fresh temporary directory), one
 * `Connection` per connection name (`con1`, `con2`, ... plus the unnamed default), and is scored
 * by query records: `queries.ok / (queries.ok + queries.wrong)`.
 *
 * Invariants:
 *  1. Every statement/query record that the engine conditions allow ends in exactly one of ok or
 *     wrong; records excluded by skipif/onlyif are counted as skipped; records after `halt` are
 *     not counted at all.
 *  2. A query is judged against its own expected block only (labels are reported, not compared).
 *  3. A file's failure never stops the next record: errors, wrong results and timeouts are all
 *     counted and the file goes on.
 *
 * Concurrency / timeouts: records run one at a time. A record that has not settled after
 * `timeoutMs` counts as wrong (`timed out`), its connection is abandoned (a fresh one takes its
 * name; the old one is closed in the background) and the file goes on. The runner also counts a
 * record as timed out when it settles later than `timeoutMs` (a statement that never yields to
 * the event loop cannot be interrupted: the timer only fires once the engine awaits something,
 * so such a statement blocks the run until it finishes; `fileBudgetMs` bounds the damage to the
 * rest of the file, and `quiver-slt --isolate` runs each file in a child process that is killed).
 * The runner yields to the event loop between records so timers and I/O progress.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeError, openQuiverDatabase, sqlStateOf } from './database.js';
import type { OpenDatabase, SltConnection, SltDatabase, SltQueryResult } from './database.js';
import { formatValue } from './format-value.js';
import { conditionsAllow, parseScript } from './parser.js';
import type { QueryRecord, SltRecord, SltScript, StatementRecord } from './record.js';
import { compareResult, renderExpected } from './result-set.js';

/** The engine name QuiverDB answers to in skipif/onlyif (it speaks PostgreSQL's dialect). */
export const ENGINE_NAME = 'postgresql';
export const DEFAULT_TIMEOUT_MS = 10_000;
/** An `async` record must still be running this long after it started (it "blocks"). */
export const ASYNC_GRACE_MS = 50;

export interface RunOptions {
  /** Name for skipif/onlyif (default `postgresql`). */
  readonly engine?: string;
  /** How to open a database (default: `Database.open` of `quiverdb`). */
  readonly open?: OpenDatabase;
  /**
   * 'memory' opens ':memory:'; 'directory' opens a fresh temporary directory per file; 'auto'
   * (default) is 'directory' for scripts that use the `restart` directive and 'memory' otherwise.
   */
  readonly storage?: 'memory' | 'directory' | 'auto';
  /** Parent folder of the temporary directories (default: the OS temp dir). */
  readonly tempRoot?: string;
  /** Per-record timeout in ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Wall-clock budget per file in ms: once spent, remaining records count as wrong without running. */
  readonly fileBudgetMs?: number;
  /** Rewrite expected results (`--complete`): the result carries the rewritten text. */
  readonly complete?: boolean;
  /** How many failure details to keep per file (default 50). */
  readonly maxFailureDetails?: number;
  /** Called after each statement/query record is judged or skipped (progress, `--isolate`). */
  readonly onRecord?: (rec: StatementRecord | QueryRecord, outcome: 'ok' | 'wrong' | 'skipped') => void;
}

export interface Tally {
  ok: number;
  wrong: number;
  skipped: number;
}

export interface FailureDetail {
  /** 1-based line of the record's header. */
  readonly line: number;
  readonly kind: 'statement' | 'query';
  readonly sql: string;
  readonly reason: string;
}

export interface FileResult {
  readonly file: string;
  readonly queries: Tally;
  readonly statements: Tally;
  /** Records that timed out (also counted as wrong). */
  timeouts: number;
  /** Directives the runner does not know (skipped; listed in `failures` with kind 'statement'). */
  unsupported: number;
  halted: boolean;
  durationMs: number;
  readonly failures: FailureDetail[];
  /** Set when the file could not run at all (database would not open, file unreadable). */
  fatal: string | undefined;
  /** With `complete`: the script text with rewritten expected results. */
  completed: string | undefined;
}

export function emptyTally(): Tally {
  return { ok: 0, wrong: 0, skipped: 0 };
}

/** Share of query records that passed among those that ran (1 when none ran). */
export function passRate(t: Tally): number {
  const ran = t.ok + t.wrong;
  return ran === 0 ? 1 : t.ok / ran;
}

type Settled<T> = { kind: 'ok'; value: T } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/** Run `work` and settle within `ms` (see the header: only a yielding statement can be cut off). */
export async function settleWithin<T>(work: () => Promise<T>, ms: number): Promise<Settled<T>> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
  });
  let p: Promise<T>;
  try {
    p = work();
  } catch (error) {
    clearTimeout(timer);
    return { kind: 'error', error };
  }
  const done = p.then(
    (value): Settled<T> => ({ kind: 'ok', value }),
    (error: unknown): Settled<T> => ({ kind: 'error', error }),
  );
  const r = await Promise.race([done, timeout]);
  clearTimeout(timer);
  if (r.kind !== 'timeout' && performance.now() - start > ms) return { kind: 'timeout' };
  return r;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function firstLine(sql: string): string {
  const one = sql.replace(/\s+/g, ' ').trim();
  return one.length > 160 ? `${one.slice(0, 157)}...` : one;
}

/** Does a thrown error satisfy `statement error [code]` / a `----` expected-error block? */
function errorMatches(err: unknown, code: string | undefined, expectedText: string | undefined): string | undefined {
  const actual = sqlStateOf(err);
  if (code !== undefined && actual !== code) return `expected SQLSTATE ${code}, got ${describeError(err)}`;
  if (expectedText !== undefined && expectedText.length > 0) {
    if (/^[0-9A-Z]{5}$/.test(expectedText)) {
      if (actual !== expectedText) return `expected SQLSTATE ${expectedText}, got ${describeError(err)}`;
    } else {
      const msg = err instanceof Error ? err.message : String(err);
      if (!msg.includes(expectedText)) return `expected an error containing ${JSON.stringify(expectedText)}, got ${describeError(err)}`;
    }
  }
  return undefined;
}

/** Run one parsed script. Never throws: problems are counted and described in the result. */
export async function runScript(script: SltScript, options: RunOptions = {}): Promise<FileResult> {
  const engine = options.engine ?? ENGINE_NAME;
  const open = options.open ?? openQuiverDatabase;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxDetails = options.maxFailureDetails ?? 50;
  const started = performance.now();
  const result: FileResult = {
    file: script.fileName,
    queries: emptyTally(),
    statements: emptyTally(),
    timeouts: 0,
    unsupported: 0,
    halted: false,
    durationMs: 0,
    failures: [],
    fatal: undefined,
    completed: undefined,
  };
  const onRecord = options.onRecord;
  const fail = (rec: StatementRecord | QueryRecord, reason: string): void => {
    (rec.kind === 'query' ? result.queries : result.statements).wrong++;
    onRecord?.(rec, 'wrong');
    if (result.failures.length < maxDetails) {
      result.failures.push({ line: rec.startLine, kind: rec.kind, sql: firstLine(rec.sql), reason });
    }
  };
  const pass = (rec: StatementRecord | QueryRecord): void => {
    (rec.kind === 'query' ? result.queries : result.statements).ok++;
    onRecord?.(rec, 'ok');
  };

  let dir: string | undefined;
  let db: SltDatabase | undefined;
  const connections = new Map<string, SltConnection>();
  let broken: string | undefined;

  const openDb = async (): Promise<void> => {
    const path = dir ?? ':memory:';
    const opened = await settleWithin(() => open(path), Math.max(timeoutMs, 30_000));
    if (opened.kind === 'ok') db = opened.value;
    else {
      broken = `database did not open: ${opened.kind === 'timeout' ? 'timed out' : describeError(opened.error)}`;
      result.fatal = broken;
    }
  };
  const closeAll = async (): Promise<void> => {
    for (const c of connections.values()) await settleWithin(() => c.close(), timeoutMs);
    connections.clear();
    if (db !== undefined) {
      const d = db;
      db = undefined;
      // After a timeout the database may wait forever for the abandoned statement: do not wait long.
      await settleWithin(() => d.close(), result.timeouts > 0 ? 1000 : Math.max(timeoutMs, 30_000));
    }
  };
  const connection = async (name: string | undefined): Promise<SltConnection> => {
    const key = name ?? '';
    let c = connections.get(key);
    if (c === undefined) {
      if (db === undefined) throw new Error('no database');
      c = await db.connect();
      connections.set(key, c);
    }
    return c;
  };
  /** Abandon a connection whose statement timed out: the name gets a fresh connection next time. */
  const abandon = (name: string | undefined): void => {
    const key = name ?? '';
    const c = connections.get(key);
    connections.delete(key);
    if (c !== undefined) void c.close().catch(() => undefined);
  };
  const execute = async (name: string | undefined, sql: string): Promise<Settled<SltQueryResult>> => {
    let conn: SltConnection;
    try {
      conn = await connection(name);
    } catch (error) {
      return { kind: 'error', error };
    }
    const r = await settleWithin(() => conn.query(sql), timeoutMs);
    if (r.kind === 'timeout') {
      result.timeouts++;
      abandon(name);
    }
    return r;
  };

  const replacements: Replacement[] = [];
  let hashThreshold = 0;
  const judge = (rec: StatementRecord | QueryRecord, r: Settled<SltQueryResult>): void => {
    if (rec.kind === 'statement') {
      judgeStatement(rec, r, pass, fail, timeoutMs);
    } else {
      const header = script.lines[rec.headerLine - 1] ?? '';
      const rendered = judgeQuery(rec, r, pass, fail, timeoutMs, hashThreshold, options.complete === true, header);
      if (rendered !== undefined) replacements.push(...rendered);
    }
  };
  /** `async` records still running, by connection name ('' = unnamed). */
  const pending = new Map<string, { rec: StatementRecord | QueryRecord; promise: Promise<Settled<SltQueryResult>> }>();
  /** Await and judge the connection's pending `async` record, if any (`wait`, or its next record). */
  const settlePending = async (name: string | undefined): Promise<void> => {
    const p = pending.get(name ?? '');
    if (p === undefined) return;
    pending.delete(name ?? '');
    judge(p.rec, await p.promise);
  };

  try {
    const storage = options.storage ?? 'auto';
    const restarts = script.records.some((r) => r.kind === 'restart');
    if (storage === 'directory' || (storage === 'auto' && restarts)) {
      dir = await mkdtemp(join(options.tempRoot ?? tmpdir(), 'quiver-slt-'));
      dir = join(dir, 'db');
    }
    await openDb();

    for (const rec of script.records) {
      if (!conditionsAllow(rec.conditions, engine)) {
        if (rec.kind === 'query' || rec.kind === 'statement') {
          (rec.kind === 'query' ? result.queries : result.statements).skipped++;
          onRecord?.(rec, 'skipped');
        }
        continue;
      }
      if (rec.kind === 'halt') {
        result.halted = true;
        break;
      }
      if (rec.kind === 'hash-threshold') {
        hashThreshold = rec.threshold;
        continue;
      }
      if (rec.kind === 'restart') {
        if (broken === undefined) {
          await closeAll();
          await openDb();
        }
        continue;
      }
      if (rec.kind === 'wait') {
        await settlePending(rec.connection);
        continue;
      }
      if (rec.kind === 'unsupported') {
        result.unsupported++;
        if (result.failures.length < maxDetails) {
          result.failures.push({ line: rec.startLine, kind: 'statement', sql: rec.directive, reason: 'unsupported directive (skipped)' });
        }
        continue;
      }
      if (broken !== undefined) {
        fail(rec, broken);
        continue;
      }
      if (options.fileBudgetMs !== undefined && performance.now() - started > options.fileBudgetMs) {
        fail(rec, `file time budget of ${options.fileBudgetMs} ms exhausted (not run)`);
        continue;
      }
      await settlePending(rec.connection);
      await yieldToEventLoop();
      if (rec.async === true) {
        // `async`: the record must block (still unsettled after the grace period); `wait` judges it
        let done = false;
        const promise = execute(rec.connection, rec.sql).then((r) => { done = true; return r; });
        await new Promise((resolve) => setTimeout(resolve, ASYNC_GRACE_MS));
        if (done) {
          fail(rec, `expected the statement to block, but it finished within ${ASYNC_GRACE_MS} ms`);
          await promise;
        } else {
          pending.set(rec.connection ?? '', { rec, promise });
        }
        continue;
      }
      judge(rec, await execute(rec.connection, rec.sql));
    }
    for (const key of [...pending.keys()]) await settlePending(key === '' ? undefined : key);
  } catch (error) {
    result.fatal = `runner error: ${describeError(error)}`;
  } finally {
    await closeAll();
    if (dir !== undefined) await rm(join(dir, '..'), { recursive: true, force: true }).catch(() => undefined);
  }

  if (options.complete === true) {
    const lines = [...script.lines];
    for (const rep of [...replacements].sort((a, b) => b.start - a.start)) {
      lines.splice(rep.start, rep.end - rep.start, ...rep.lines);
    }
    result.completed = lines.join('\n');
  }
  result.durationMs = performance.now() - started;
  return result;
}

function judgeStatement(
  rec: StatementRecord,
  r: Settled<SltQueryResult>,
  pass: (rec: StatementRecord) => void,
  fail: (rec: StatementRecord, reason: string) => void,
  timeoutMs: number,
): void {
  if (r.kind === 'timeout') return fail(rec, `timed out after ${timeoutMs} ms`);
  if (rec.expect === 'ok') {
    if (r.kind === 'ok') return pass(rec);
    return fail(rec, `statement failed: ${describeError(r.error)}`);
  }
  if (r.kind === 'ok') return fail(rec, 'statement succeeded but an error was expected');
  const mismatch = errorMatches(r.error, rec.errorCode, rec.expectedError);
  if (mismatch === undefined) return pass(rec);
  return fail(rec, mismatch);
}

/** Judge a query record; in complete mode, return the replacement of its lines. */
function judgeQuery(
  rec: QueryRecord,
  r: Settled<SltQueryResult>,
  pass: (rec: QueryRecord) => void,
  fail: (rec: QueryRecord, reason: string) => void,
  timeoutMs: number,
  hashThreshold: number,
  complete: boolean,
  headerText: string,
): Replacement[] | undefined {
  if (r.kind === 'timeout') {
    fail(rec, `timed out after ${timeoutMs} ms`);
    return undefined;
  }
  if (rec.expectError) {
    if (r.kind === 'ok') fail(rec, 'query succeeded but an error was expected');
    else {
      const mismatch = errorMatches(r.error, rec.errorCode, undefined);
      if (mismatch === undefined) pass(rec);
      else fail(rec, mismatch);
    }
    return undefined;
  }
  if (r.kind === 'error') {
    fail(rec, `query failed: ${describeError(r.error)}`);
    return undefined;
  }
  const res = r.value;
  const out: Replacement[] = [];
  let types = [...rec.types];
  if (res.columns.length !== types.length) {
    fail(rec, `expected ${types.length} columns (${rec.types}), got ${res.columns.length}`);
    if (!complete) return undefined;
    // --complete: the type letters follow the result's columns too.
    types = res.columns.map((c) => typeLetter(c.type));
    out.push({ start: rec.headerLine - 1, end: rec.headerLine, lines: [headerText.replace(/^(\s*query\s+)\S+/, `$1${types.join('')}`)] });
  }
  const width = types.length;
  const rows = res.rows.map((row) => types.map((t, i) => formatValue(row[i], t)));
  if (out.length === 0) {
    const outcome = compareResult(rows, width, rec.sortMode, rec.expected);
    if (outcome.ok) pass(rec);
    else fail(rec, outcome.reason ?? 'wrong result');
  }
  if (!complete) return undefined;
  const valuesStyle = rec.expected.length > 0 && width > 1 && rec.expected.length === rows.length * width;
  const block = renderExpected(rows, rec.sortMode, hashThreshold, valuesStyle ? 'values' : 'rows');
  // Lines are 0-based here: header..sql end stays; `----` and the results are rewritten.
  const sepIndex = rec.resultLine !== undefined ? rec.resultLine - 1 : rec.endLine;
  out.push({ start: sepIndex, end: rec.endLine, lines: ['----', ...block] });
  return out;
}

/** A span of script lines (0-based, end exclusive) that `--complete` replaces. */
interface Replacement {
  readonly start: number;
  readonly end: number;
  readonly lines: string[];
}

/** Type letter `--complete` writes for a result column: I for integers, R for floats, T otherwise. */
export function typeLetter(sqlType: string): 'I' | 'R' | 'T' {
  const t = sqlType.toUpperCase();
  if (/^(SMALLINT|INTEGER|INT|INT2|INT4|INT8|BIGINT)\b/.test(t)) return 'I';
  if (/^(REAL|DOUBLE|FLOAT)/.test(t)) return 'R';
  return 'T';
}

/** Read, parse and run one file. `displayName` names it in the result (default: the path). */
export async function runFile(path: string, options: RunOptions = {}, displayName?: string): Promise<FileResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const r = await runScript(parseScript('', displayName ?? path), { ...options, open: async () => Promise.reject(error) });
    r.fatal = `cannot read ${path}: ${describeError(error)}`;
    return r;
  }
  return runScript(parseScript(text, displayName ?? path), options);
}

export type { SltRecord };
