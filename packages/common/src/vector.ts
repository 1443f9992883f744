/**
 * The physical column layout shared by storage and the query engine, so that a batch moves from
 * a Parquet row group to an operator (and from an INSERT to the WAL) without conversion.
 *
 * A `ColumnVector` is `data` (one slot per row) plus `validity` (one byte per row: 1 = value,
 * 0 = NULL; `null` means "no NULLs"). The slot of a NULL row holds an unspecified value of the
 * right JS type (0, 0n, '' ...).
 *
 * Physical types (closed, exhaustive; persisted in the catalog — DO NOT RENAME):
 *   bool          Uint8Array (0 / 1)
 *   int16, int32  Int32Array
 *   int64         BigInt64Array
 *   float32, float64  Float64Array (float32 values are Math.fround'ed)
 *   date32        Int32Array: days since 1970-01-01
 *   timestamp_us  Float64Array: microseconds since 1970-01-01 00:00:00 (exact to ±285 years)
 *   utf8          string[]
 *   json          unknown[]: JS values stored as JSON text (bigint as {"$n":"123"})
 *
 * Invariants:
 *  1. Every column of a batch has `length` slots (typed arrays may be longer views; only the
 *     first `length` count) and `validity` is null or has at least `length` bytes.
 */
import type { SqlType } from './types.js';

export type PhysicalType = 'bool' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'date32' | 'timestamp_us' | 'utf8' | 'json';

export type VectorData = Uint8Array | Int32Array | BigInt64Array | Float64Array | unknown[];

export interface ColumnVector {
  readonly data: VectorData;
  readonly validity: Uint8Array | null;
}

export interface ColumnBatch {
  readonly length: number;
  readonly columns: readonly ColumnVector[];
}

/** The physical type used to store and compute a SQL type. NUMERIC: exact decimal text in utf8. */
export function physicalTypeOf(t: SqlType): PhysicalType {
  switch (t.id) {
    case 'BOOLEAN': return 'bool';
    case 'SMALLINT': return 'int16';
    case 'INTEGER': return 'int32';
    case 'BIGINT': return 'int64';
    case 'REAL': return 'float32';
    case 'DOUBLE': return 'float64';
    case 'NUMERIC': return 'utf8';
    case 'VARCHAR': case 'TEXT': return 'utf8';
    case 'DATE': return 'date32';
    case 'TIMESTAMP': return 'timestamp_us';
    case 'INTERVAL': return 'json';
    case 'NULL': return 'int32';
  }
}

/** A new empty data array of `length` slots for a physical type. */
export function allocateData(p: PhysicalType, length: number): VectorData {
  switch (p) {
    case 'bool': return new Uint8Array(length);
    case 'int16': case 'int32': case 'date32': return new Int32Array(length);
    case 'int64': return new BigInt64Array(length);
    case 'float32': case 'float64': case 'timestamp_us': return new Float64Array(length);
    case 'utf8': return new Array<string>(length).fill('');
    case 'json': return new Array<unknown>(length).fill(null);
  }
}

/** Check invariant 1 of a batch; throws with a description when broken. */
export function checkBatch(b: ColumnBatch): void {
  for (const [i, c] of b.columns.entries()) {
    if (c.data.length < b.length) throw new Error(`column ${i}: ${c.data.length} slots < batch length ${b.length}`);
    if (c.validity !== null && c.validity.length < b.length) throw new Error(`column ${i}: validity shorter than batch`);
  }
}
