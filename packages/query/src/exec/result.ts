/**
 * Public forms of a `QueryResult`: rows of public values (common/src/types.ts) and an Arrow table.
 */
import { Bool, Float32, Float64, Int16, Int32, Int64, Table, Utf8, DateDay, TimestampMicrosecond, makeData, makeVector, vectorFromArray } from 'apache-arrow';
import type { DataType, Vector } from 'apache-arrow';
import type { SqlType } from '@quiverdb/common';
import { publicValue, vectorToValues } from '../types/values.js';
import type { QueryResult } from './statement.js';
import { resultRels } from './statement.js';

function internalCols(r: QueryResult): { n: number; cols: unknown[][] } {
  const rel = resultRels.get(r);
  if (rel) return rel;
  const cols: unknown[][] = r.columns.map(() => []);
  let n = 0;
  for (const b of r.batches) {
    r.columns.forEach((c, i) => { const v = vectorToValues(b.columns[i]!, b.length, c.type); for (const x of v) cols[i]!.push(x); });
    n += b.length;
  }
  return { n, cols };
}

export function resultRows(r: QueryResult): unknown[][] {
  const { n, cols } = internalCols(r);
  const rows: unknown[][] = new Array(n);
  const types = r.columns.map((c) => c.type);
  for (let i = 0; i < n; i++) {
    const row = new Array<unknown>(cols.length);
    for (let c = 0; c < cols.length; c++) row[c] = publicValue(cols[c]![i], types[c]!);
    rows[i] = row;
  }
  return rows;
}

function arrowType(t: SqlType): DataType {
  switch (t.id) {
    case 'BOOLEAN': return new Bool();
    case 'SMALLINT': return new Int16();
    case 'INTEGER': return new Int32();
    case 'BIGINT': return new Int64();
    case 'REAL': return new Float32();
    case 'DOUBLE': return new Float64();
    case 'DATE': return new DateDay();
    case 'TIMESTAMP': return new TimestampMicrosecond();
    default: return new Utf8();
  }
}

export function resultToArrow(r: QueryResult): Table {
  const { n, cols } = internalCols(r);
  const vectors: Record<string, Vector> = {};
  r.columns.forEach((c, i) => {
    const t = c.type;
    const vals = cols[i]!;
    const pub = vals.map((v) => publicValue(v, t));
    let vec: Vector;
    if (t.id === 'DATE') {
      const data = new Int32Array(n);
      const valid = new Uint8Array(Math.ceil(n / 8));
      let nulls = 0;
      for (let k = 0; k < n; k++) { const v = vals[k]; if (v === null) { nulls++; continue; } data[k] = v as number; valid[k >> 3]! |= 1 << (k & 7); }
      vec = makeVector(makeData({ type: new DateDay(), length: n, data, nullCount: nulls, nullBitmap: nulls ? valid : null }));
    } else if (t.id === 'TIMESTAMP') {
      const data = new BigInt64Array(n);
      const valid = new Uint8Array(Math.ceil(n / 8));
      let nulls = 0;
      for (let k = 0; k < n; k++) { const v = vals[k]; if (v === null) { nulls++; continue; } data[k] = BigInt(Math.round(v as number)); valid[k >> 3]! |= 1 << (k & 7); }
      vec = makeVector(makeData({ type: new TimestampMicrosecond(), length: n, data, nullCount: nulls, nullBitmap: nulls ? valid : null }));
    } else {
      vec = vectorFromArray(pub.map((v) => (v === null ? null : typeof v === 'object' ? String(v) : v)), arrowType(t) as never);
    }
    let name = c.name;
    let k = 1;
    while (name in vectors) name = `${c.name}_${k++}`;
    vectors[name] = vec;
  });
  return new Table(vectors);
}
