/**
 * SQL data types shared by every layer (the catalog stores them, the query engine computes with
 * them, storage maps them to Arrow/Parquet types).
 *
 * The `id` union is closed and exhaustive. Persisted in the catalog: DO NOT RENAME the ids.
 *
 * Values of each type at the public API (`Result.rows`) — one representation per type:
 *   BOOLEAN → boolean; SMALLINT, INTEGER, REAL, DOUBLE → number; BIGINT → bigint;
 *   NUMERIC → string (exact decimal text, e.g. '12.50'); VARCHAR, TEXT → string;
 *   DATE → string 'YYYY-MM-DD'; TIMESTAMP → string 'YYYY-MM-DD HH:MM:SS[.ffffff]';
 *   INTERVAL → string in PostgreSQL's output style ('1 day 02:00:00'); NULL → null.
 */
export type TypeId =
  | 'BOOLEAN'
  | 'SMALLINT'
  | 'INTEGER'
  | 'BIGINT'
  | 'REAL'
  | 'DOUBLE'
  | 'NUMERIC'
  | 'VARCHAR'
  | 'TEXT'
  | 'DATE'
  | 'TIMESTAMP'
  | 'INTERVAL'
  /** the type of a bare NULL literal before it is coerced */
  | 'NULL';

export interface SqlType {
  readonly id: TypeId;
  /** NUMERIC precision, when declared */
  readonly precision?: number;
  /** NUMERIC scale, when declared */
  readonly scale?: number;
  /** VARCHAR(n) length, when declared */
  readonly length?: number;
}

export const T = {
  boolean: { id: 'BOOLEAN' } as SqlType,
  smallint: { id: 'SMALLINT' } as SqlType,
  integer: { id: 'INTEGER' } as SqlType,
  bigint: { id: 'BIGINT' } as SqlType,
  real: { id: 'REAL' } as SqlType,
  double: { id: 'DOUBLE' } as SqlType,
  numeric: { id: 'NUMERIC' } as SqlType,
  text: { id: 'TEXT' } as SqlType,
  varchar: { id: 'VARCHAR' } as SqlType,
  date: { id: 'DATE' } as SqlType,
  timestamp: { id: 'TIMESTAMP' } as SqlType,
  interval: { id: 'INTERVAL' } as SqlType,
  null: { id: 'NULL' } as SqlType,
} as const;

/** The name shown in `Result.columns[i].type` and in error messages (PostgreSQL spelling). */
export function typeName(t: SqlType): string {
  switch (t.id) {
    case 'DOUBLE': return 'DOUBLE PRECISION';
    case 'NUMERIC': return t.precision !== undefined ? `NUMERIC(${t.precision},${t.scale ?? 0})` : 'NUMERIC';
    case 'VARCHAR': return t.length !== undefined ? `VARCHAR(${t.length})` : 'VARCHAR';
    default: return t.id;
  }
}

export function isIntegerType(t: SqlType): boolean {
  return t.id === 'SMALLINT' || t.id === 'INTEGER' || t.id === 'BIGINT';
}
export function isNumericType(t: SqlType): boolean {
  return isIntegerType(t) || t.id === 'REAL' || t.id === 'DOUBLE' || t.id === 'NUMERIC';
}
export function isStringType(t: SqlType): boolean {
  return t.id === 'TEXT' || t.id === 'VARCHAR';
}
