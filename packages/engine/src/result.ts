/**
 * `Result`: what `Connection.query` returns (ARCHITECTURE.md section 4, a fixed contract).
 *
 *   columns   [{ name, type }]  type = PostgreSQL type name ('INTEGER', 'DOUBLE PRECISION', ...)
 *   rows      unknown[][]       one array per row; NULL → null; BIGINT → bigint
 *   rowCount  rows returned, or rows affected by INSERT / UPDATE / DELETE
 *   command   'SELECT' | 'INSERT' | 'CREATE TABLE' | ...
 *   toArrow() apache-arrow Table of the rows
 *
 * Rows are materialized lazily from the columnar batches the executor produced. `columns` and
 * `columnTypes` may be frozen arrays shared by the results of one cached plan (point lookups).
 */
import type { Table } from 'apache-arrow';
import { typeName, type SqlType } from '@quiverdb/common';
import { resultRows, resultToArrow, type QueryResult } from '@quiverdb/query';

export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}

/** Descriptions of frozen (shared) executor column lists: results of one cached plan share them. */
const described = new WeakMap<readonly unknown[], { readonly columns: readonly ResultColumn[]; readonly columnTypes: readonly SqlType[] }>();

export class Result {
  readonly command: string;
  readonly rowCount: number;
  readonly columns: readonly ResultColumn[];
  /** SQL types of the columns, for protocol layers (pgwire type OIDs). */
  readonly columnTypes: readonly SqlType[];
  readonly #inner: QueryResult | undefined;
  #rows: unknown[][] | undefined;

  constructor(command: string, rowCount: number, inner?: QueryResult) {
    this.command = command;
    this.rowCount = rowCount;
    this.#inner = inner;
    if (inner && Object.isFrozen(inner.columns)) {
      // a column list the executor shares between results (point lookups): described once
      let d = described.get(inner.columns);
      if (!d) {
        d = {
          columnTypes: Object.freeze(inner.columns.map((c) => c.type)),
          columns: Object.freeze(inner.columns.map((c) => Object.freeze({ name: c.name, type: typeName(c.type) }))),
        };
        described.set(inner.columns, d);
      }
      this.columnTypes = d.columnTypes;
      this.columns = d.columns;
      return;
    }
    this.columnTypes = inner ? inner.columns.map((c) => c.type) : [];
    this.columns = inner ? inner.columns.map((c) => ({ name: c.name, type: typeName(c.type) })) : [];
  }

  /** A result of a statement the engine ran itself (BEGIN, SET, SHOW ...). */
  static of(command: string, columns: { name: string; type: SqlType }[] = [], rows: unknown[][] = [], rowCount = rows.length): Result {
    const r = new Result(command, rowCount, undefined);
    (r as { columns: readonly ResultColumn[] }).columns = columns.map((c) => ({ name: c.name, type: typeName(c.type) }));
    (r as { columnTypes: readonly SqlType[] }).columnTypes = columns.map((c) => c.type);
    r.#rows = rows;
    return r;
  }

  get rows(): unknown[][] {
    this.#rows ??= this.#inner ? resultRows(this.#inner) : [];
    return this.#rows;
  }

  toArrow(): Table {
    if (this.#inner) return resultToArrow(this.#inner);
    return rowsToArrow(this.columns.map((c) => c.name), this.columnTypes, this.rows);
  }
}

import { tableFromArrays } from 'apache-arrow';
function rowsToArrow(names: readonly string[], _types: readonly SqlType[], rows: unknown[][]): Table {
  const cols: Record<string, unknown[]> = {};
  names.forEach((n, i) => { cols[n] = rows.map((r) => r[i]); });
  return tableFromArrays(cols as never) as unknown as Table;
}
