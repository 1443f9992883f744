/**
 * The engine-neutral columnar form in which the bench hands data to every adapter.
 *
 * Column kinds (closed, exhaustive):
 *   int     Int32Array             SQL INTEGER
 *   double  Float64Array           SQL DOUBLE (money columns too: see README)
 *   varchar string[]               SQL VARCHAR
 *   date    Int32Array             SQL DATE, days since 1970-01-01 (engines without DATE get 'YYYY-MM-DD' text)
 *
 * Invariants:
 *  1. Every column of a `TableData` holds exactly `rowCount` values (typed arrays are exact, not views).
 *  2. No NULLs: neither TPC-H nor the kv table has any.
 */

export type ColumnKind = 'int' | 'double' | 'varchar' | 'date';

export interface ColumnDef {
  readonly name: string;
  readonly kind: ColumnKind;
}

export interface TableDef {
  readonly name: string;
  readonly columns: readonly ColumnDef[];
  /** Column names of the primary key, if any. */
  readonly primaryKey?: readonly string[];
}

export type ColumnValues = Int32Array | Float64Array | string[];

export interface TableData {
  readonly def: TableDef;
  readonly rowCount: number;
  /** One array per column of `def.columns`, in order. */
  readonly columns: readonly ColumnValues[];
}

export const MS_PER_DAY = 86_400_000;

/** 'YYYY-MM-DD' → days since 1970-01-01. */
export function dateToDays(iso: string): number {
  return Math.round(Date.parse(`${iso}T00:00:00Z`) / MS_PER_DAY);
}

/** Days since 1970-01-01 → 'YYYY-MM-DD'. */
export function daysToDate(days: number): string {
  return new Date(days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The value of row `row`, column `col`, as a JS value (dates as 'YYYY-MM-DD'). */
export function cellValue(t: TableData, col: number, row: number): number | string {
  const values = t.columns[col]!;
  const v = values[row]!;
  return t.def.columns[col]!.kind === 'date' ? daysToDate(v as number) : v;
}

/** Rows `from` (inclusive) to `to` (exclusive) as arrays of JS values. */
export function rowsOf(t: TableData, from = 0, to = t.rowCount): (number | string)[][] {
  const out: (number | string)[][] = [];
  const n = t.def.columns.length;
  for (let r = from; r < to; r++) {
    const row = new Array<number | string>(n);
    for (let c = 0; c < n; c++) row[c] = cellValue(t, c, r);
    out.push(row);
  }
  return out;
}

/** Check invariant 1. */
export function checkTableData(t: TableData): void {
  if (t.columns.length !== t.def.columns.length) throw new Error(`${t.def.name}: ${t.columns.length} columns for ${t.def.columns.length} defs`);
  for (const [i, c] of t.columns.entries()) {
    if (c.length !== t.rowCount) throw new Error(`${t.def.name}.${t.def.columns[i]!.name}: ${c.length} values for ${t.rowCount} rows`);
  }
}

/** FNV-1a over every value of the table, as 8 hex digits: the determinism checksum. */
export function checksumTable(t: TableData): string {
  let h = 0x811c9dc5;
  const mixStr = (s: string): void => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x1f, 0x01000193);
  };
  for (const col of t.columns) {
    if (Array.isArray(col)) {
      for (const s of col) mixStr(s);
    } else if (col instanceof Float64Array) {
      const bytes = new Uint32Array(col.buffer, col.byteOffset, col.length * 2);
      for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    } else {
      for (let i = 0; i < col.length; i++) h = Math.imul(h ^ col[i]!, 0x01000193);
    }
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
