/**
 * PGlite (PostgreSQL compiled to WASM) through @electric-sql/pglite. One connection per
 * database by design, so multi-connection workloads are `n/a`. Loads with COPY FROM a CSV blob.
 * No client-side prepare API: each parameterized query goes through the extended protocol.
 * int8 and numeric results are parsed to JS numbers, dates kept as 'YYYY-MM-DD' text.
 */
import { PGlite } from '@electric-sql/pglite';
import { join } from 'node:path';
import { packageVersion } from './package-version.js';
import { daysToDate, type TableData, type TableDef } from '../table-data.js';
import { NotApplicable, runTransaction, unpreparedStatement, type EngineAdapter, type OpenTarget, type Prepared, type Row, type Session, type TxnOptions, type TxnStep } from './adapter.js';
import { createTableSql } from './dialect.js';

const version = (): string => packageVersion('@electric-sql/pglite');

const PARSERS = {
  20: (v: string) => Number(v), // int8
  1700: (v: string) => Number(v), // numeric
  1082: (v: string) => v, // date: keep ISO text
};

function csvField(v: string): string {
  return /[",\n\r]/.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v;
}

const COPY_BATCH = 50_000;

export class PgliteAdapter implements EngineAdapter {
  readonly name = 'pglite' as const;
  readonly caps = { prepare: false, durable: true, transactions: true, connections: false };
  readonly version = version();
  #pg: PGlite | undefined;

  get #db(): PGlite {
    if (!this.#pg) throw new Error('pglite: not open');
    return this.#pg;
  }

  async open(target: OpenTarget): Promise<void> {
    this.#pg = target.kind === 'memory' ? await PGlite.create() : await PGlite.create(join(target.path, 'pglite'));
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const res = await this.#db.query<Row>(sql, params as unknown[], { rowMode: 'array', parsers: PARSERS });
    return res.rows;
  }

  async exec(sql: string, params: readonly unknown[] = []): Promise<void> {
    if (params.length === 0) await this.#db.exec(sql);
    else await this.#db.query(sql, params as unknown[]);
  }

  transaction(steps: readonly TxnStep[], opts?: TxnOptions): Promise<void> {
    return runTransaction(this, steps, opts);
  }

  async prepare(sql: string): Promise<Prepared> {
    return unpreparedStatement(this, sql);
  }

  async createTable(def: TableDef): Promise<void> {
    await this.exec(createTableSql(def, 'postgres'));
  }

  async checkpoint(): Promise<void> {
    await this.exec('CHECKPOINT');
  }

  async load(data: TableData): Promise<void> {
    await this.createTable(data.def);
    const kinds = data.def.columns.map((c) => c.kind);
    for (let from = 0; from < data.rowCount; from += COPY_BATCH) {
      const to = Math.min(data.rowCount, from + COPY_BATCH);
      const lines: string[] = [];
      for (let r = from; r < to; r++) {
        const fields = kinds.map((k, c) => {
          const v = data.columns[c]![r]!;
          return k === 'date' ? daysToDate(v as number) : k === 'varchar' ? csvField(v as string) : String(v);
        });
        lines.push(fields.join(','));
      }
      const blob = new Blob([lines.join('\n') + '\n']);
      await this.#db.query(`COPY ${data.def.name} FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob });
    }
  }

  async connect(): Promise<Session> {
    throw new NotApplicable('PGlite serves one connection per database');
  }

  async close(): Promise<void> {
    await this.#pg?.close();
  }
}
