/**
 * SQLite through better-sqlite3 (synchronous). File-backed databases use WAL with
 * synchronous=FULL, so a commit returns only after its WAL frame is fsync'ed. Dates are
 * ISO text. Loads with one prepared INSERT inside one transaction.
 *
 * Concurrency: better-sqlite3 runs each statement to completion on the main thread, so several
 * connections never overlap; they are real connections (own transaction state, file locks).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { packageVersion } from './package-version.js';
import { daysToDate, type TableData, type TableDef } from '../table-data.js';
import { NotApplicable, type EngineAdapter, type OpenTarget, type Prepared, type Row, type Session, type TxnStep } from './adapter.js';
import { createTableSql, positionalPlaceholders, stripDateLiterals } from './dialect.js';

type Db = InstanceType<typeof Database>;

const version = (): string => packageVersion('better-sqlite3');

const rewrite = (sql: string): string => positionalPlaceholders(stripDateLiterals(sql));

type Statement = Database.Statement<unknown[]>;

/** Statements kept per connection (as an application would), at most this many. */
const STATEMENT_CACHE = 64;

class SqliteSession implements Session {
  #cache = new Map<string, Statement>();

  constructor(protected db: Db) {}

  protected statement(sql: string): Statement {
    let stmt = this.#cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(rewrite(sql));
      if (stmt.reader) stmt.raw(true);
      if (this.#cache.size >= STATEMENT_CACHE) this.#cache.clear();
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }

  protected resetCache(): void {
    this.#cache.clear();
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const stmt = this.statement(sql);
    if (!stmt.reader) {
      stmt.run(...params);
      return [];
    }
    return stmt.all(...params) as Row[];
  }

  async exec(sql: string, params: readonly unknown[] = []): Promise<void> {
    if (params.length === 0 && !/\$\d/.test(sql)) this.db.exec(rewrite(sql));
    else this.statement(sql).run(...params);
  }

  async transaction(steps: readonly TxnStep[]): Promise<void> {
    this.db.transaction(() => {
      for (const [sql, params] of steps) this.statement(sql).run(...params);
    })();
  }

  async prepare(sql: string): Promise<Prepared> {
    const stmt = this.db.prepare(rewrite(sql));
    if (stmt.reader) stmt.raw(true);
    return {
      query: async (params) => {
        if (!stmt.reader) {
          stmt.run(...params);
          return [];
        }
        return stmt.all(...params) as Row[];
      },
      close: async () => {},
    };
  }

  async close(): Promise<void> {
    if (this.db?.open) this.db.close();
  }
}

export class SqliteAdapter extends SqliteSession implements EngineAdapter {
  readonly name = 'sqlite' as const;
  readonly caps = { prepare: true, durable: true, transactions: true, connections: true };
  readonly version = version();
  #file: string | undefined;

  constructor() {
    super(undefined as unknown as Db);
  }

  #openDb(): Db {
    const db = new Database(this.#file ?? ':memory:');
    if (this.#file) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 10000');
    }
    return db;
  }

  async open(target: OpenTarget): Promise<void> {
    this.#file = target.kind === 'dir' ? join(target.path, 'sqlite.db') : undefined;
    this.db = this.#openDb();
    this.resetCache();
  }

  async createTable(def: TableDef): Promise<void> {
    this.db.exec(createTableSql(def, 'sqlite'));
  }

  async checkpoint(): Promise<void> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async load(data: TableData): Promise<void> {
    await this.createTable(data.def);
    const kinds = data.def.columns.map((c) => c.kind);
    const stmt = this.db.prepare(`INSERT INTO ${data.def.name} VALUES (${kinds.map(() => '?').join(', ')})`);
    const row = new Array<unknown>(kinds.length);
    this.db.transaction(() => {
      for (let r = 0; r < data.rowCount; r++) {
        for (let c = 0; c < kinds.length; c++) {
          const v = data.columns[c]![r]!;
          row[c] = kinds[c] === 'date' ? daysToDate(v as number) : v;
        }
        stmt.run(row);
      }
    })();
  }

  async connect(): Promise<Session> {
    if (!this.#file) throw new NotApplicable('an in-memory SQLite database has one connection');
    return new SqliteSession(this.#openDb());
  }
}
