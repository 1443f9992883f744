/**
 * The one small interface every engine sits behind.
 *
 * SQL given to an adapter is written once, in PostgreSQL style: `$1, $2 ...` placeholders and
 * `DATE 'YYYY-MM-DD'` literals. Each adapter rewrites it for its engine (`dialect.ts`).
 * Rows come back as arrays of plain JS values; `normalizeValue` (answers.ts) evens out the
 * rest (bigint, Date, numeric strings).
 *
 * Failure kinds (exhaustive, mutually exclusive):
 *  - `NotApplicable`: the engine has no such feature by design (PGlite has one connection;
 *    AlaSQL keeps no files) — reported `n/a`;
 *  - any other error: for QuiverDB reported `unsupported` (with its SQLSTATE), for a peer
 *    engine reported `error`.
 *
 * Concurrency: an adapter and the sessions it hands out may be used by several async tasks
 * at once only through `connect()`: each task owns one `Session`.
 */
import type { TableData, TableDef } from '../table-data.js';

export type EngineName = 'quiverdb' | 'duckdb' | 'sqlite' | 'pglite' | 'alasql';

export const ALL_ENGINES: readonly EngineName[] = ['quiverdb', 'duckdb', 'sqlite', 'pglite', 'alasql'];

export type Row = unknown[];

/** A statement prepared once and run many times. */
export interface Prepared {
  query(params: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/** One connection: its own transaction state. */
export interface Session {
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Run a statement and ignore what it returns. */
  exec(sql: string, params?: readonly unknown[]): Promise<void>;
  /** Prepared where the engine allows; otherwise a wrapper that calls `query` each time. */
  prepare(sql: string): Promise<Prepared>;
  /**
   * BEGIN, the steps, COMMIT (ROLLBACK and rethrow on failure). Each distinct SQL text is
   * prepared once per call. SQLite runs the whole transaction synchronously (the idiomatic
   * better-sqlite3 way), the others await each statement, so transactions of several sessions
   * interleave.
   */
  transaction(steps: readonly TxnStep[], opts?: TxnOptions): Promise<void>;
  close(): Promise<void>;
}

export type TxnStep = readonly [sql: string, params: readonly unknown[]];

export interface TxnOptions {
  /** `performance.now()` value after which the transaction is rolled back with `QueryTimeout`. */
  readonly deadline?: number;
}

export interface EngineCaps {
  /** Real statement preparation (plan once, bind many). */
  readonly prepare: boolean;
  /** Can keep its data in a directory / file with durable commits. */
  readonly durable: boolean;
  /** BEGIN / COMMIT / ROLLBACK with atomicity. */
  readonly transactions: boolean;
  /** Several connections to one database inside this process. */
  readonly connections: boolean;
}

export type OpenTarget = { readonly kind: 'memory' } | { readonly kind: 'dir'; readonly path: string };

export interface EngineAdapter extends Session {
  readonly name: EngineName;
  readonly caps: EngineCaps;
  /** Engine version as the package reports it. */
  readonly version: string;
  open(target: OpenTarget): Promise<void>;
  /** CREATE TABLE (with its primary key) in this engine's types. */
  createTable(def: TableDef): Promise<void>;
  /** CREATE TABLE and fill it through the engine's fastest sane path. */
  load(data: TableData): Promise<void>;
  /** A further connection to the same database. Throws `NotApplicable` where there is none. */
  connect(): Promise<Session>;
  /**
   * Make the engine's write-ahead log content part of its main storage now (CHECKPOINT; SQLite:
   * `wal_checkpoint(TRUNCATE)`), as pgbench does before a run: a timed workload then does not
   * pay for the checkpoint of what the workloads before it wrote. Nothing where there is no log.
   */
  checkpoint(): Promise<void>;
}

/** The default `Session.transaction`: BEGIN, prepared steps, COMMIT. */
export async function runTransaction(session: Session, steps: readonly TxnStep[], opts: TxnOptions = {}): Promise<void> {
  const prepared = new Map<string, Prepared>();
  const started = performance.now();
  await session.exec('BEGIN');
  try {
    for (const [i, [sql, params]] of steps.entries()) {
      if (opts.deadline !== undefined && (i & 15) === 15 && performance.now() > opts.deadline) {
        throw new QueryTimeout(opts.deadline - started);
      }
      let p = prepared.get(sql);
      if (!p) {
        p = await session.prepare(sql);
        prepared.set(sql, p);
      }
      await p.query(params);
    }
    await session.exec('COMMIT');
  } catch (err) {
    await session.exec('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    for (const p of prepared.values()) await p.close().catch(() => {});
  }
}

/** An engine returned a wrong answer: always reported `error`, for QuiverDB too. */
export class WrongAnswer extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WrongAnswer';
  }
}

/** A query stopped at its time limit (TPC-H phase, worker hosts only): reported `timeout`. */
export class QueryTimeout extends Error {
  constructor(ms: number) {
    super(`stopped after the ${Math.round(ms / 1000)} s time limit`);
    this.name = 'QueryTimeout';
  }
}

export class NotApplicable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotApplicable';
  }
}

/** The SQLSTATE of an error, when it carries one (QuiverDB DbError, PGlite errors). */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length > 300 ? `${msg.slice(0, 297)}...` : msg;
}

/** A `Prepared` for engines that cannot prepare: one `query` per call. */
export function unpreparedStatement(session: Pick<Session, 'query'>, sql: string): Prepared {
  return {
    query: (params) => session.query(sql, params),
    close: async () => {},
  };
}
