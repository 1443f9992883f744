/**
 * AlaSQL: a pure-JS in-memory SQL engine. No files, so durability workloads are `n/a`; its
 * BEGIN / COMMIT are not atomic, so transactional workloads are `n/a` too. Each adapter gets its
 * own AlaSQL database object. Dates are ISO text; `$n` placeholders become `?`.
 * Loads with `INSERT INTO t SELECT * FROM ?` over row objects (keeps the primary-key index).
 */
import alasql from 'alasql';
import { packageVersion } from './package-version.js';
import { daysToDate, type TableData, type TableDef } from '../table-data.js';
import { NotApplicable, unpreparedStatement, type EngineAdapter, type OpenTarget, type Prepared, type Row, type Session, type TxnStep } from './adapter.js';
import { createTableSql, positionalPlaceholders, stripDateLiterals } from './dialect.js';

const version = (): string => packageVersion('alasql');

interface AlaDatabase {
  exec(sql: string, params?: unknown[]): unknown;
}

let dbCounter = 0;
const LOAD_BATCH = 100_000;

export class AlasqlAdapter implements EngineAdapter {
  readonly name = 'alasql' as const;
  readonly caps = { prepare: false, durable: false, transactions: false, connections: false };
  readonly version = version();
  #db: AlaDatabase | undefined;
  #dbName = '';

  async open(target: OpenTarget): Promise<void> {
    if (target.kind === 'dir') throw new NotApplicable('AlaSQL keeps no files');
    this.#dbName = `bench${++dbCounter}`;
    const Ctor = (alasql as unknown as { Database: new (name: string) => AlaDatabase }).Database;
    this.#db = new Ctor(this.#dbName);
  }

  get #ala(): AlaDatabase {
    if (!this.#db) throw new Error('alasql: not open');
    return this.#db;
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const res = this.#ala.exec(positionalPlaceholders(stripDateLiterals(sql)), [...params]);
    if (!Array.isArray(res)) return [];
    return (res as Record<string, unknown>[]).map((o) => Object.values(o));
  }

  async exec(sql: string, params: readonly unknown[] = []): Promise<void> {
    this.#ala.exec(positionalPlaceholders(stripDateLiterals(sql)), [...params]);
  }

  async transaction(_steps: readonly TxnStep[]): Promise<void> {
    throw new NotApplicable('AlaSQL transactions are not atomic');
  }

  async prepare(sql: string): Promise<Prepared> {
    return unpreparedStatement(this, sql);
  }

  async createTable(def: TableDef): Promise<void> {
    this.#ala.exec(createTableSql(def, 'alasql'));
  }

  async checkpoint(): Promise<void> {
    // in memory: no log
  }

  async load(data: TableData): Promise<void> {
    await this.createTable(data.def);
    const names = data.def.columns.map((c) => c.name);
    const kinds = data.def.columns.map((c) => c.kind);
    for (let from = 0; from < data.rowCount; from += LOAD_BATCH) {
      const to = Math.min(data.rowCount, from + LOAD_BATCH);
      const objs: Record<string, unknown>[] = [];
      for (let r = from; r < to; r++) {
        const o: Record<string, unknown> = {};
        for (let c = 0; c < names.length; c++) {
          const v = data.columns[c]![r]!;
          o[names[c]!] = kinds[c] === 'date' ? daysToDate(v as number) : v;
        }
        objs.push(o);
      }
      this.#ala.exec(`INSERT INTO ${data.def.name} SELECT * FROM ?`, [objs]);
    }
  }

  async connect(): Promise<Session> {
    throw new NotApplicable('AlaSQL has no connections');
  }

  async close(): Promise<void> {
    (alasql as unknown as { exec(sql: string): unknown }).exec(`DROP DATABASE IF EXISTS ${this.#dbName}`);
    this.#db = undefined;
  }
}
