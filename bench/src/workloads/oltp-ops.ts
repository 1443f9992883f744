/**
 * One engine's side of the OLTP and concurrency workloads (workloads/oltp.ts): plain async
 * functions over an `OltpState` (the engine's adapter, the next free kv id, the sessions of the
 * current concurrency workload). The worker entry (oltp-worker.ts) runs them in a worker thread
 * of the engine's own; the in-process host (oltp-host.ts) calls them directly.
 *
 * Invariants:
 *  1. Each function is one engine's part of one run (or of the load, a set-up or the close):
 *     what it returns as `ms` is timed here, around the engine calls only; inputs are derived
 *     here from the seed (`Rng.derive(seed, ...)`, `generateKv`), before the timing starts.
 *  2. Arguments, results and errors cross a thread boundary: plain structured-cloneable values
 *     only; an error crosses as a `WireError` (`kind` keeps NotApplicable / WrongAnswer /
 *     QueryTimeout apart, `code` the SQLSTATE) and is rebuilt by `fromWireError`, so the main
 *     thread classifies it exactly as the error thrown here.
 *  3. Write workloads use ids from `nextId` (n + 1 after the load), advanced by every write run.
 *  4. `openSessions` replaces the current sessions; `closeSessions` closes all but the adapter.
 */
import { mkdirSync } from 'node:fs';
import {
  errorCode, errorMessage, NotApplicable, QueryTimeout, WrongAnswer, type EngineAdapter, type EngineName, type Row, type Session,
} from '../engines/adapter.js';
import { dialectOf, multiRowInsert } from '../engines/dialect.js';
import { createAdapter } from '../engines/registry.js';
import type { BenchOptions } from '../harness/context.js';
import { now } from '../harness/measure.js';
import { generateKv, kvKey } from '../kv.js';
import { Rng } from '../rng.js';
import { rssMb } from './memory.js';

/** The bench options the OLTP operations read. */
export const OLTP_OPTION_KEYS = ['seed', 'kvRows', 'budgetMs', 'pointLookups', 'rangeScans', 'durableInserts', 'bulkRows', 'updates', 'txnsPerRun'] as const;

/** What an engine's host needs to know (plain data: it is the worker's `workerData`). */
export interface OltpParams extends Pick<BenchOptions, (typeof OLTP_OPTION_KEYS)[number]> {
  readonly engine: EngineName;
  /** The engine's database directory (durable engines). */
  readonly dir: string;
}

export interface OltpState {
  readonly params: OltpParams;
  readonly adapter: EngineAdapter;
  /** First kv id no run has used yet. */
  nextId: number;
  /** Sessions of the current concurrency workload (may include the adapter itself). */
  sessions: Session[];
}

export function createOltpState(params: OltpParams): OltpState {
  return { params, adapter: createAdapter(params.engine), nextId: params.kvRows + 1, sessions: [] };
}

export const RANGE = 100;
/**
 * Time cap of one run of a lookup loop: an engine that needs longer (DuckDB and PGlite scan, near
 * 1 ms per lookup) has its per-call time taken from the calls made so far. The loops are long
 * (20,000 lookups) so that the first thousands after a 1M-row load, slow in every engine while
 * its JIT or caches warm and the load's garbage is collected, do not decide the figure.
 */
const LOOKUP_RUN_CAP_MS = 5_000;
const BULK_STATEMENT_ROWS = 1000;
/** connections of the concurrent durable INSERT workload (issue 4's group-commit target) */
export const CONCURRENT_INSERT_CONNECTIONS = 16;

/** Rows one run of the concurrent durable INSERT workload inserts. */
export function concurrentInsertTotal(durableInserts: number): number {
  return durableInserts * 4;
}

/**
 * `count` calls of `body`, timed. If the calls pass `budgetMs`, the loop stops early and the
 * time is scaled to `count` calls (the per-call rate is what is reported).
 */
async function timedLoop(count: number, budgetMs: number, body: (i: number) => Promise<unknown>): Promise<number> {
  const start = now();
  let i = 0;
  while (i < count) {
    await body(i++);
    if ((i & 15) === 0 && now() - start > budgetMs) break;
  }
  const ms = now() - start;
  return i < count ? (ms * count) / i : ms;
}

function isRetryable(err: unknown): boolean {
  const code = errorCode(err);
  if (code === '40001' || code === '40P01' || code === '55P03') return true;
  return /conflict|busy|locked|serializ|deadlock/i.test(errorMessage(err));
}

/**
 * Open the database (file-backed where the engine can be), generate kv (deterministic from the
 * seed) and load it; only `adapter.load` is timed. The generated rows are dropped on return.
 * rss (of the whole process) before the open and after the load.
 */
export async function load(s: OltpState): Promise<{ loadMs: number; durable: boolean; rssMb: number; deltaMb: number }> {
  const { adapter, params } = s;
  let kv: ReturnType<typeof generateKv> | undefined = generateKv(params.kvRows, params.seed);
  const before = rssMb();
  if (adapter.caps.durable) {
    mkdirSync(params.dir, { recursive: true });
    await adapter.open({ kind: 'dir', path: params.dir });
  } else {
    await adapter.open({ kind: 'memory' });
  }
  const start = now();
  await adapter.load(kv);
  const loadMs = now() - start;
  kv = undefined; // nothing else holds the generated rows: they can be collected
  s.nextId = params.kvRows + 1;
  const after = rssMb();
  return { loadMs, durable: adapter.caps.durable, rssMb: after, deltaMb: after - before };
}

/** Point lookups by primary key, one query per call, prepared where the engine allows. */
export async function pointLookups(s: OltpState, it: number): Promise<number> {
  const { adapter, params } = s;
  const rng = Rng.derive(params.seed, `point:${it}`);
  const ids = Array.from({ length: params.pointLookups }, () => rng.int(1, params.kvRows));
  const stmt = await adapter.prepare('SELECT k, v, grp FROM kv WHERE id = $1');
  try {
    const first = await stmt.query([ids[0]]);
    if (first.length !== 1 || first[0]![0] !== kvKey(ids[0]!)) throw new WrongAnswer(`point lookup of ${ids[0]}: ${JSON.stringify(first)}`);
    return await timedLoop(ids.length, Math.min(params.budgetMs, LOOKUP_RUN_CAP_MS), (i) => stmt.query([ids[i]]));
  } finally {
    await stmt.close();
  }
}

/** `RANGE`-row range scans on the key. */
export async function rangeScans(s: OltpState, it: number): Promise<number> {
  const { adapter, params } = s;
  const rng = Rng.derive(params.seed, `range:${it}`);
  const starts = Array.from({ length: params.rangeScans }, () => rng.int(1, params.kvRows - RANGE));
  const stmt = await adapter.prepare('SELECT id, k, v, grp FROM kv WHERE id >= $1 AND id < $2');
  try {
    const first = await stmt.query([starts[0], starts[0]! + RANGE]);
    if (first.length !== RANGE) throw new WrongAnswer(`range scan from ${starts[0]}: ${first.length} rows`);
    return await timedLoop(starts.length, Math.min(params.budgetMs, LOOKUP_RUN_CAP_MS), (i) => stmt.query([starts[i], starts[i]! + RANGE]));
  } finally {
    await stmt.close();
  }
}

/** One scan query, timed; its rows go back for the answer check. */
export async function scan(s: OltpState, sql: string): Promise<{ ms: number; rows: Row[] }> {
  const start = now();
  const rows = await s.adapter.query(sql);
  const ms = now() - start;
  return { ms, rows };
}

/**
 * QuiverDB: row groups its zone maps skipped in one more (untimed) run of `sql`, from
 * quiver_tables' counters; undefined where the build has no such figures.
 */
export async function rowGroupsSkipped(s: OltpState, sql: string): Promise<string | undefined> {
  try {
    const figures = async (): Promise<Row | undefined> => (await s.adapter.query("SELECT row_groups_scanned, row_groups_skipped, delta_rows FROM quiver_tables WHERE table_name = 'kv'"))[0];
    const before = await figures();
    await s.adapter.query(sql);
    const after = await figures();
    if (!before || !after) return undefined;
    return `row groups skipped: ${Number(after[1]) - Number(before[1])} of ${Number(after[0]) - Number(before[0])}` +
      (Number(after[2]) > 0 ? ` (+ ${Number(after[2])} rows in the in-memory delta)` : '');
  } catch {
    return undefined; // a build without these figures
  }
}

/** A WAL's activity so far, from PostgreSQL's `pg_stat_wal` view (times in ms). */
export interface WalActivity { readonly syncs: number; readonly syncMs: number; readonly writes: number; readonly writeMs: number }

/** QuiverDB: its WAL's fsyncs and writes so far (`pg_stat_wal`); undefined where the build has no such view. */
export async function walActivity(s: OltpState): Promise<WalActivity | undefined> {
  try {
    const r = (await s.adapter.query('SELECT wal_sync, wal_sync_time, wal_write, wal_write_time FROM pg_stat_wal'))[0];
    return r === undefined ? undefined : { syncs: Number(r[0]), syncMs: Number(r[1]), writes: Number(r[2]), writeMs: Number(r[3]) };
  } catch {
    return undefined;
  }
}

/** Close and reopen the database (untimed), then time the first full scan and check its count. */
export async function coldScan(s: OltpState, sql: string): Promise<number> {
  const { adapter, params } = s;
  if (!adapter.caps.durable) throw new NotApplicable('no files to reopen');
  await adapter.close();
  await adapter.open({ kind: 'dir', path: params.dir });
  const start = now();
  const rows = await adapter.query(sql);
  const ms = now() - start;
  if (Number(rows[0]?.[0]) !== params.kvRows) throw new WrongAnswer(`cold scan after reopen: count ${String(rows[0]?.[0])}, expected ${params.kvRows}`);
  return ms;
}

export async function checkpoint(s: OltpState): Promise<void> {
  await s.adapter.checkpoint();
}

/** Single-row INSERTs, autocommit, durable, at fresh ids. */
export async function durableInserts(s: OltpState): Promise<number> {
  const { adapter, params } = s;
  if (!adapter.caps.durable) throw new NotApplicable('no durable storage');
  const stmt = await adapter.prepare('INSERT INTO kv VALUES ($1, $2, $3, $4)');
  try {
    const first = s.nextId;
    s.nextId += params.durableInserts;
    return await timedLoop(params.durableInserts, params.budgetMs, (i) => stmt.query([first + i, kvKey(first + i), (first + i) / 7, (first + i) % 100]));
  } finally {
    await stmt.close();
  }
}

/** Multi-row INSERT statements of `BULK_STATEMENT_ROWS` rows, all in one transaction where the engine has them. */
export async function bulkInsert(s: OltpState): Promise<number> {
  const { adapter, params } = s;
  const first = s.nextId;
  s.nextId += params.bulkRows;
  const rows = generateKv(params.bulkRows, params.seed, first);
  const statements: string[] = [];
  for (let from = 0; from < rows.rowCount; from += BULK_STATEMENT_ROWS) {
    statements.push(multiRowInsert(rows, from, Math.min(rows.rowCount, from + BULK_STATEMENT_ROWS), dialectOf(params.engine), 'kv'));
  }
  const txn = adapter.caps.transactions;
  const start = now();
  if (txn) await adapter.exec('BEGIN');
  try {
    for (const sql of statements) await adapter.exec(sql);
    if (txn) await adapter.exec('COMMIT');
  } catch (err) {
    if (txn) await adapter.exec('ROLLBACK').catch(() => {});
    throw err;
  }
  return now() - start;
}

/** Updates by key in one transaction (rolled back with QueryTimeout past the budget). */
export async function updatesByKey(s: OltpState, it: number): Promise<number> {
  const { adapter, params } = s;
  if (!adapter.caps.transactions) throw new NotApplicable('no atomic transactions');
  const rng = Rng.derive(params.seed, `update:${it}`);
  const steps = Array.from({ length: params.updates }, () => ['UPDATE kv SET v = v + 1 WHERE id = $1', [rng.int(1, params.kvRows)]] as const);
  const start = now();
  await adapter.transaction(steps, { deadline: start + params.budgetMs });
  return now() - start;
}

/**
 * The sessions of a concurrency workload: `count` new connections for the concurrent INSERTs;
 * for the transfer transactions the adapter itself when `count` is 1, else `count` new ones.
 * Throws NotApplicable where the engine has no durable storage (or, for transactions, no atomic
 * ones) or no further connections; connections opened before a failure are closed.
 */
export async function openSessions(s: OltpState, count: number, purpose: 'insert' | 'txn'): Promise<void> {
  await closeSessions(s);
  const { adapter } = s;
  if (!adapter.caps.durable) throw new NotApplicable('no durable storage');
  if (purpose === 'txn' && !adapter.caps.transactions) throw new NotApplicable('no atomic transactions');
  const list: Session[] = purpose === 'txn' && count === 1 ? [adapter] : [];
  try {
    for (let i = list.length; i < count; i++) list.push(await adapter.connect());
  } catch (err) {
    for (const x of list) if (x !== adapter) await x.close().catch(() => {});
    throw err;
  }
  s.sessions = list;
}

export async function closeSessions(s: OltpState): Promise<void> {
  const list = s.sessions;
  s.sessions = [];
  for (const x of list) if (x !== s.adapter) await x.close().catch(() => {});
}

/**
 * Durable single-row INSERTs (autocommit) from every open session at once, from a shared
 * counter of fresh ids; stopped at the budget, the time is scaled to the full count.
 */
export async function concurrentInserts(s: OltpState): Promise<number> {
  const { params } = s;
  const total = concurrentInsertTotal(params.durableInserts);
  const first = s.nextId;
  s.nextId += total;
  let next = 0;
  const start = now();
  const deadline = start + params.budgetMs;
  const worker = async (session: Session): Promise<void> => {
    const stmt = await session.prepare('INSERT INTO kv VALUES ($1, $2, $3, $4)');
    try {
      while (next < total && now() < deadline) {
        const id = first + next++;
        await stmt.query([id, kvKey(id), id / 7, id % 100]);
      }
    } finally {
      await stmt.close();
    }
  };
  await Promise.all(s.sessions.map(worker));
  const ms = now() - start;
  // stopped at the budget: scale to the full count (the rate is what is reported)
  return next < total ? (ms * total) / Math.max(1, next) : ms;
}

/**
 * Short transfer transactions (two updates by key, smaller id first) from every open session,
 * from a shared list; serialization failures, deadlocks and busy errors are retried (up to 50
 * times each) and counted. `c` is the workload's connection count (it names the rng stream).
 */
export async function transferTxns(s: OltpState, c: number, it: number): Promise<{ ms: number; retried: number }> {
  const { params } = s;
  const n = params.kvRows;
  const rng = Rng.derive(params.seed, `txn:${c}:${it}`);
  const pairs = Array.from({ length: params.txnsPerRun }, () => {
    const a = rng.int(1, n);
    let b = rng.int(1, n);
    if (b === a) b = a === n ? 1 : a + 1;
    return a < b ? [a, b] : [b, a];
  });
  let next = 0;
  let retried = 0;
  const start = now();
  const deadline = start + params.budgetMs;
  const worker = async (session: Session): Promise<void> => {
    while (next < pairs.length && now() < deadline) {
      const [a, b] = pairs[next++]!;
      for (let attempt = 0; ; attempt++) {
        try {
          await session.transaction([
            ['UPDATE kv SET v = v + 1 WHERE id = $1', [a]],
            ['UPDATE kv SET v = v - 1 WHERE id = $1', [b]],
          ]);
          break;
        } catch (err) {
          if (!isRetryable(err) || attempt >= 50) throw err;
          retried++;
          await new Promise((r) => setTimeout(r, attempt));
        }
      }
    }
  };
  await Promise.all(s.sessions.map(worker));
  const ms = now() - start;
  // Stopped at the budget: scale to the full count (the rate is what is reported).
  return { ms: next < pairs.length ? (ms * pairs.length) / Math.max(1, next) : ms, retried };
}

/** Close the sessions and the database. */
export async function close(s: OltpState): Promise<void> {
  await closeSessions(s);
  await s.adapter.close();
}

/** Every operation by name: the request vocabulary of the worker protocol. */
export const OLTP_OPS = {
  load, pointLookups, rangeScans, scan, rowGroupsSkipped, walActivity, coldScan, checkpoint, durableInserts, bulkInsert, updatesByKey,
  openSessions, closeSessions, concurrentInserts, transferTxns, close,
} as const;

export type OltpOpName = keyof typeof OLTP_OPS;
export type OltpOpArgs<K extends OltpOpName> = (typeof OLTP_OPS)[K] extends (s: OltpState, ...args: infer A) => Promise<unknown> ? A : never;
export type OltpOpResult<K extends OltpOpName> = Awaited<ReturnType<(typeof OLTP_OPS)[K]>>;

/** Run operation `op` on `s` (the one place that looks an operation up by name). */
export function runOltpOp<K extends OltpOpName>(s: OltpState, op: K, args: OltpOpArgs<K>): Promise<OltpOpResult<K>> {
  const fn = OLTP_OPS[op] as unknown as (s: OltpState, ...a: readonly unknown[]) => Promise<OltpOpResult<K>>;
  return fn(s, ...args);
}

/** Protocol messages (see oltp-worker.ts). */
export interface OltpRequest {
  readonly id: number;
  readonly op: OltpOpName;
  readonly args: readonly unknown[];
}
export type OltpReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** An error as it crosses the thread boundary. */
export interface WireError {
  readonly kind: 'NotApplicable' | 'WrongAnswer' | 'QueryTimeout' | 'Error';
  readonly code?: string;
  readonly message: string;
}

export function toWireError(err: unknown): WireError {
  const kind = err instanceof NotApplicable ? 'NotApplicable'
    : err instanceof WrongAnswer ? 'WrongAnswer'
      : err instanceof QueryTimeout ? 'QueryTimeout'
        : 'Error';
  const code = errorCode(err);
  return { kind, ...(code ? { code } : {}), message: err instanceof Error ? err.message : String(err) };
}

/** The error `toWireError` saw, as far as classification goes: same class, message and code. */
export function fromWireError(w: WireError): Error {
  let err: Error & { code?: string };
  switch (w.kind) {
    case 'NotApplicable': err = new NotApplicable(w.message); break;
    case 'WrongAnswer': err = new WrongAnswer(w.message); break;
    case 'QueryTimeout': err = new QueryTimeout(0); err.message = w.message; break;
    default: err = new Error(w.message);
  }
  if (w.code) err.code = w.code;
  return err;
}
