/**
 * Conversions of ALTER COLUMN TYPE: how a re-typed column's value is computed, on read, for rows
 * stored before the change (storage's `ColumnConversion`, evaluated through its `ColumnConverter`).
 *
 * The conversion's `expr` (opaque to storage) is JSON: the table name, the SQL text
 * `CAST((<USING expression or the column>) AS <type>)` and the names and SQL types its source
 * columns had at ALTER time (`from` holds their column ids, in the same order). The converter
 * evaluates it with the SQL stack over a one-table catalog whose only table holds the source
 * vectors under those names — the same expression the ALTER's validation scan ran.
 *
 * Invariants:
 *  1. The result has exactly `n` rows in the vector representation of the column's physical type.
 *  2. A row whose conversion fails with a data exception (22xxx) reads as NULL (the ALTER checked
 *     every row its snapshot saw; only versions invisible to it — deleted before it, still visible
 *     to older snapshots — can fail here). Failing rows are isolated by halving the range. Any
 *     other error propagates (the read, checkpoint or rewrite fails rather than store NULLs).
 *
 * Concurrency: stateless apart from a parse cache; each call runs its own statement.
 */
import { allocateData, DbError, typeName, type ColumnBatch, type ColumnVector, type SqlType } from '@quiverdb/common';
import { executeStatement, parseSql, type Catalog, type ScanBatch, type ScanRequest, type TableDef, type TableSource } from '@quiverdb/query';
import type { ColumnConversion, ColumnConverter } from '@quiverdb/storage';
import { Settings } from '../settings.js';
import type { ColumnMeta } from './catalog-state.js';

interface ConversionExpr {
  readonly table: string;
  readonly sql: string;
  readonly args: readonly { readonly name: string; readonly type: SqlType }[];
}

/** The storage conversion of a re-typed column: `CAST((usingSql) AS type)` over `sources`. */
export function conversionOf(table: string, sources: readonly ColumnMeta[], usingSql: string, type: SqlType): ColumnConversion {
  const expr: ConversionExpr = { table, sql: `CAST((${usingSql}) AS ${typeName(type)})`, args: sources.map((s) => ({ name: s.name, type: s.type })) };
  return { from: sources.map((s) => s.id), expr: JSON.stringify(expr) };
}

const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** A read-only table holding one batch. */
class BatchTable implements TableSource {
  constructor(readonly def: TableDef, private readonly batch: ColumnBatch) {}
  stats() { return { rowCount: this.batch.length }; }
  async *scan(req: ScanRequest): AsyncIterable<ScanBatch> {
    yield { batch: { length: this.batch.length, columns: req.columns.map((c) => this.batch.columns[c]!) } };
  }
  insert(): Promise<number> { throw new Error('read only'); }
  delete(): Promise<number> { throw new Error('read only'); }
  update(): Promise<number> { throw new Error('read only'); }
  indexes() { return []; }
}

function catalogOf(table: BatchTable): Catalog {
  const no = (): never => { throw new Error('read only'); };
  return {
    getTable: (n) => (n.name === table.def.name ? table : undefined),
    getView: () => undefined,
    createTable: no, dropTable: no, createView: no, dropView: no, createIndex: no, dropIndex: no,
    listTables: () => [table.def],
    listViews: () => [],
  };
}

function slice(v: ColumnVector, from: number, to: number): ColumnVector {
  const d = v.data;
  return {
    data: ArrayBuffer.isView(d) ? (d as Float64Array).subarray(from, to) : (d as unknown[]).slice(from, to),
    validity: v.validity === null ? null : v.validity.subarray(from, to),
  };
}

const settings = new Settings().snapshot();

/** The engine's `ColumnConverter`: evaluates conversions with the SQL stack. */
export function columnConverter(): ColumnConverter {
  const parsed = new Map<string, ConversionExpr>();
  return async (_tableId, column, inputs, n) => {
    const conv = column.convert!;
    let e = parsed.get(conv.expr);
    if (e === undefined) { e = JSON.parse(conv.expr) as ConversionExpr; parsed.set(conv.expr, e); }
    const expr = e;
    const def: TableDef = { name: expr.table, columns: expr.args.map((a) => ({ name: a.name, type: a.type, notNull: false })) };
    const out: ColumnVector = { data: allocateData(column.type, n), validity: new Uint8Array(n) };
    const evalRange = async (from: number, to: number): Promise<void> => {
      if (from >= to) return;
      const batch: ColumnBatch = { length: to - from, columns: inputs.map((v) => slice(v, from, to)) };
      let r;
      try {
        const [st] = parseSql(`SELECT ${expr.sql} FROM ${quote(expr.table)}`);
        r = await executeStatement(st!, { catalog: catalogOf(new BatchTable(def, batch)), params: [], settings, txnStartTime: new Date() });
      } catch (err) {
        // only a value's own failure (data exceptions: 22xxx) is isolated; anything else is a bug
        if (!(err instanceof DbError) || !err.code.startsWith('22')) throw err;
        if (to - from === 1) return; // this row cannot be converted: NULL
        const mid = (from + to) >>> 1;
        await evalRange(from, mid);
        await evalRange(mid, to);
        return;
      }
      let at = from;
      for (const b of r.batches) {
        const v = b.columns[0]!;
        for (let i = 0; i < b.length; i++, at++) {
          const valid = v.validity === null ? 1 : v.validity[i]!;
          out.validity![at] = valid;
          if (valid === 1) (out.data as unknown[])[at] = (v.data as ArrayLike<unknown>)[i];
        }
      }
    };
    await evalRange(0, n);
    return out;
  };
}
