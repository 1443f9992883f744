/**
 * DuckDB through @duckdb/node-api. Loads with the appender; prepared statements are real.
 * File-backed databases are one file `duckdb.db` in the target directory.
 */
import { DuckDBConnection, DuckDBInstance, dateValue, type DuckDBValue } from '@duckdb/node-api';
import { join } from 'node:path';
import { packageVersion } from './package-version.js';
import type { TableData, TableDef } from '../table-data.js';
import { runTransaction, type EngineAdapter, type OpenTarget, type Prepared, type Row, type Session, type TxnOptions, type TxnStep } from './adapter.js';
import { createTableSql } from './dialect.js';

const version = (): string => packageVersion('@duckdb/node-api');

class DuckSession implements Session {
  constructor(protected conn: DuckDBConnection) {}

  async query(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    const reader = await this.conn.runAndReadAll(sql, params && params.length > 0 ? (params as DuckDBValue[]) : undefined);
    return reader.getRowsJS() as Row[];
  }

  async exec(sql: string, params?: readonly unknown[]): Promise<void> {
    await this.conn.run(sql, params && params.length > 0 ? (params as DuckDBValue[]) : undefined);
  }

  transaction(steps: readonly TxnStep[], opts?: TxnOptions): Promise<void> {
    return runTransaction(this, steps, opts);
  }

  async prepare(sql: string): Promise<Prepared> {
    const stmt = await this.conn.prepare(sql);
    return {
      query: async (params) => {
        stmt.bind(params as DuckDBValue[]);
        return (await stmt.runAndReadAll()).getRowsJS() as Row[];
      },
      close: async () => stmt.destroySync(),
    };
  }

  async close(): Promise<void> {
    this.conn.closeSync();
  }
}

export class DuckDbAdapter extends DuckSession implements EngineAdapter {
  readonly name = 'duckdb' as const;
  readonly caps = { prepare: true, durable: true, transactions: true, connections: true };
  readonly version = version();
  #instance: DuckDBInstance | undefined;

  constructor() {
    super(undefined as unknown as DuckDBConnection);
  }

  async open(target: OpenTarget): Promise<void> {
    this.#instance = await DuckDBInstance.create(target.kind === 'memory' ? ':memory:' : join(target.path, 'duckdb.db'));
    this.conn = await this.#instance.connect();
  }

  async createTable(def: TableDef): Promise<void> {
    await this.exec(createTableSql(def, 'duckdb'));
  }

  async checkpoint(): Promise<void> {
    await this.exec('CHECKPOINT');
  }

  async load(data: TableData): Promise<void> {
    await this.createTable(data.def);
    const app = await this.conn.createAppender(data.def.name);
    const kinds = data.def.columns.map((c) => c.kind);
    const cols = data.columns;
    for (let r = 0; r < data.rowCount; r++) {
      for (let c = 0; c < kinds.length; c++) {
        const v = cols[c]![r]!;
        switch (kinds[c]) {
          case 'int': app.appendInteger(v as number); break;
          case 'double': app.appendDouble(v as number); break;
          case 'varchar': app.appendVarchar(v as string); break;
          case 'date': app.appendDate(dateValue(v as number)); break;
        }
      }
      app.endRow();
    }
    app.closeSync();
  }

  async connect(): Promise<Session> {
    return new DuckSession(await DuckDBConnection.create(this.#instance));
  }

  override async close(): Promise<void> {
    this.conn?.closeSync();
    this.#instance?.closeSync();
    this.#instance = undefined;
  }
}
