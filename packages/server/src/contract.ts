/**
 * The part of the engine contract (ARCHITECTURE.md section 4) that the server relies on, written
 * structurally so the protocol code can be tested against any object of this shape (a fake in
 * unit tests, the real `quiverdb` Database in integration tests).
 *
 * Invariants:
 *  1. The server never imports engine internals: everything it needs is in these interfaces.
 *  2. Optional members (`transactionStatus`, `describe`, `metrics`) are feature-detected; the
 *     server works (with documented approximations) when they are missing.
 */

/** One result column: its name and SQL type name text ('INTEGER', 'VARCHAR(10)', 'NUMERIC(10,2)'). */
export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}

/** The result of one statement (the last one of a multi-statement string). */
export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly (readonly unknown[])[];
  readonly rowCount: number;
  readonly command: string;
  toArrow?(): unknown;
}

/** 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block (PostgreSQL's ReadyForQuery letters). */
export type TransactionStatus = 'I' | 'T' | 'E';

/** Shape of a statement that has not run: its parameter types and result columns (null = no rows). */
export interface StatementDescription {
  readonly paramTypes?: readonly (string | null)[];
  readonly columns: readonly ResultColumn[] | null;
}

export interface ServerConnection {
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult>;
  close(): Promise<void> | void;
  transactionStatus?(): TransactionStatus;
  /** Optional: plan `sql` without running it. Used for Describe of a prepared statement. */
  describe?(sql: string): Promise<StatementDescription> | StatementDescription;
  /** Optional: abort the statement running on this connection (PostgreSQL CancelRequest). */
  cancel?(): void;
}

export interface ServerDatabase {
  connect(): ServerConnection | Promise<ServerConnection>;
  /** Optional engine metrics: flat or nested numeric counters, or ready Prometheus text. */
  metrics?(): unknown;
}

/** Minimal structured logger: `msg` plus flat fields. */
export interface ServerLogger {
  debug?(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: ServerLogger = {
  info() {},
  warn() {},
  error() {},
};
