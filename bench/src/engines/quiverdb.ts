/**
 * QuiverDB through its public API only (ARCHITECTURE.md section 4): `Database.open`,
 * `db.connect()`, `conn.query(sql, params)`, `DbError.code`.
 *
 * The module is imported by name at run time (`import('quiverdb')`) and typed here by the
 * contract, so the bench typechecks and runs while the engine is still being written: if the
 * engine cannot be loaded, every QuiverDB workload is reported `unsupported` with the reason.
 * Loads in transactions of up to 500,000 rows (SQLite's adapter uses one per table) with parameterized multi-row
 * INSERT statements (measured faster than literal VALUES:
 * 20,000 lineitem rows took 1.4 s with parameters against 1.7–2.3 s with literals, in-memory
 * database, 2026-11-25). There is no prepare in the contract: repeated
 * statements go through `conn.query` with `$n` parameters (the engine may cache plans).
 */
import { join } from 'node:path';
import { runTransaction, unpreparedStatement, type EngineAdapter, type OpenTarget, type Prepared, type Row, type Session, type TxnOptions, type TxnStep } from './adapter.js';
import { createTableSql } from './dialect.js';
import { MS_PER_DAY, type TableData, type TableDef } from '../table-data.js';

/** The slice of the `quiverdb` contract the bench uses. */
export interface QuiverResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: unknown[][];
  readonly rowCount: number;
  readonly command: string;
}
export interface QuiverConnection {
  /** (the engine reads `params`, never changes them: passed as they are, no copy per call) */
  query(sql: string, params?: readonly unknown[]): Promise<QuiverResult>;
  close(): Promise<void>;
}
export interface QuiverDatabase {
  connect(): QuiverConnection | Promise<QuiverConnection>;
  close(): Promise<void>;
}
export interface QuiverModule {
  readonly Database: { open(path: string): Promise<QuiverDatabase> };
}

/** `QUIVER_MODULE` (a file path or URL) runs the bench against another build, e.g. a source bundle. */
const MODULE_NAME = process.env.QUIVER_MODULE ?? 'quiverdb';
let modulePromise: Promise<QuiverModule> | undefined;

/** Load the engine once; rejects with the import error when it is not there yet. */
export function loadQuiver(): Promise<QuiverModule> {
  modulePromise ??= (import(/* @vite-ignore */ MODULE_NAME) as Promise<QuiverModule>).then((m) => {
    if (typeof m?.Database?.open !== 'function') throw new Error('quiverdb: the module has no Database.open yet');
    return m;
  });
  return modulePromise;
}

/** Rows per load transaction (see `load`). */
const LOAD_ROWS_PER_TXN = 500_000;
/** Parameters per multi-row INSERT statement during loads (PostgreSQL's limit is 65,535). */
const LOAD_VALUES_PER_STATEMENT = 16_000;

/** `INSERT INTO t VALUES ($1, $2, ...), (...)` for `rows` rows; dates cast from ISO text. */
function parameterizedInsert(def: TableDef, rows: number): string {
  let p = 0;
  const tuple = (): string => `(${def.columns.map((c) => (c.kind === 'date' ? `$${++p}::date` : `$${++p}`)).join(', ')})`;
  return `INSERT INTO ${def.name} VALUES ${Array.from({ length: rows }, tuple).join(', ')}`;
}

class QuiverSession implements Session {
  constructor(protected conn: QuiverConnection) {}

  async query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const r = await this.conn.query(sql, params.length > 0 ? params : undefined);
    return r.rows;
  }

  async exec(sql: string, params: readonly unknown[] = []): Promise<void> {
    await this.conn.query(sql, params.length > 0 ? params : undefined);
  }

  transaction(steps: readonly TxnStep[], opts?: TxnOptions): Promise<void> {
    return runTransaction(this, steps, opts);
  }

  async prepare(sql: string): Promise<Prepared> {
    return unpreparedStatement(this, sql);
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}

export class QuiverAdapter extends QuiverSession implements EngineAdapter {
  readonly name = 'quiverdb' as const;
  readonly caps = { prepare: false, durable: true, transactions: true, connections: true };
  readonly version = 'workspace';
  #db: QuiverDatabase | undefined;

  constructor() {
    super(undefined as unknown as QuiverConnection);
  }

  async open(target: OpenTarget): Promise<void> {
    const { Database } = await loadQuiver();
    this.#db = await Database.open(target.kind === 'memory' ? ':memory:' : join(target.path, 'quiverdb'));
    this.conn = await this.#db.connect();
  }

  async createTable(def: TableDef): Promise<void> {
    await this.exec(createTableSql(def, 'postgres'));
  }

  async checkpoint(): Promise<void> {
    await this.exec('CHECKPOINT');
  }

  async load(data: TableData): Promise<void> {
    await this.createTable(data.def);
    const width = data.def.columns.length;
    const batch = Math.max(1, Math.floor(LOAD_VALUES_PER_STATEMENT / width));
    const kinds = data.def.columns.map((c) => c.kind);
    let fullSql: string | undefined;
    // transactions of up to LOAD_ROWS_PER_TXN rows, as the SQLite adapter loads a table in one
    // (a few durable commits, not one per statement; uncommitted rows cannot be checkpointed, so
    // a bound keeps a large table's load within memory)
    await this.exec('BEGIN');
    let inTxn = 0;
    for (let from = 0; from < data.rowCount; from += batch) {
      if (inTxn >= LOAD_ROWS_PER_TXN) {
        await this.exec('COMMIT');
        await this.exec('BEGIN');
        inTxn = 0;
      }
      inTxn += Math.min(batch, data.rowCount - from);
      const to = Math.min(data.rowCount, from + batch);
      const sql = to - from === batch ? (fullSql ??= parameterizedInsert(data.def, batch)) : parameterizedInsert(data.def, to - from);
      const params = new Array<unknown>((to - from) * width);
      for (let r = from, i = 0; r < to; r++) {
        for (let c = 0; c < width; c++, i++) {
          const v = data.columns[c]![r]!;
          // a DATE goes as a JS Date (UTC midnight), as node-postgres hands one over
          params[i] = kinds[c] === 'date' ? new Date((v as number) * MS_PER_DAY) : v;
        }
      }
      await this.exec(sql, params);
    }
    await this.exec('COMMIT');
    // SQLite and DuckDB checkpoint inside their load's commit (WAL past its auto-checkpoint size);
    // QuiverDB would move the rows into Parquet segments in the background, during the timed
    // queries that follow: its load time includes that checkpoint too
    await this.exec('CHECKPOINT');
  }

  async connect(): Promise<Session> {
    if (!this.#db) throw new Error('quiverdb: not open');
    return new QuiverSession(await this.#db.connect());
  }

  override async close(): Promise<void> {
    if (this.conn) await this.conn.close();
    await this.#db?.close();
  }
}
