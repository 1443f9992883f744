/**
 * WAL record payloads: the redo of one transaction, logged at commit.
 *
 * A committed transaction is a run of records of one txn id ending in COMMIT; recovery applies
 * a run only when its COMMIT record is present (a run without it was never acknowledged).
 *
 *   payload      := txn:f64 body
 *   INSERT  body := table:f64 firstRowId:f64 rows:u32 ncols:u32 column*ncols
 *   column       := colId:u32 type:u8 hasValidity:u8 [validity:typed<u8>] data
 *   data         := typed<u8>        (bool)
 *                 | typed<i32>       (int16, int32, date32)
 *                 | typed<i64>       (int64)
 *                 | typed<f64>       (float32, float64, timestamp_us)
 *                 | strings          (utf8; json as JSON text)
 *   typed<T>     := n:u32 pad(0..7 to 8-byte alignment) T*n
 *   strings      := n:u32 offsets:u32*(n+1) blobLen:u32 utf8-bytes
 *   DELETE  body := table:f64 rowIds:typed<f64>
 *   META    body := key:str hasValue:u8 [value:str]
 *   CREATE  body := spec:str (JSON of StoredTableSpec)
 *   ALTER   body := spec:str
 *   DROP    body := table:f64
 *   COMMIT  body := (empty)
 *   str          := len:u32 utf8-bytes
 */
import { DataCorrupted, type ColumnBatch, type ColumnVector, type PhysicalType, type TableId, type TxnId } from '@quiverdb/common';
import type { StoredTableSpec } from '../api.js';
import { jsonDecode, jsonEncode } from '../table/json-value.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { RECORD_HEADER, sealRecord, type Wal } from './wal.js';

export const RecordType = {
  Insert: 1,
  Delete: 2,
  Meta: 3,
  Create: 4,
  Alter: 5,
  Drop: 6,
  Commit: 7,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export type WalOp =
  | {
    readonly t: 'insert'; readonly table: TableId; readonly firstRowId: number; readonly colIds: readonly number[]; readonly types: readonly PhysicalType[];
    /** the rows are `batch`'s [from, from + rows) when `rows` is given (encoding only; decoded: the whole batch) */
    readonly batch: ColumnBatch; readonly from?: number; readonly rows?: number;
  }
  | { readonly t: 'delete'; readonly table: TableId; readonly rowIds: Float64Array }
  | { readonly t: 'meta'; readonly key: string; readonly value: string | undefined }
  | { readonly t: 'create'; readonly spec: StoredTableSpec }
  | { readonly t: 'alter'; readonly spec: StoredTableSpec }
  | { readonly t: 'drop'; readonly table: TableId }
  | { readonly t: 'commit' };

const TYPES: readonly PhysicalType[] = ['bool', 'int16', 'int32', 'int64', 'float32', 'float64', 'date32', 'timestamp_us', 'utf8', 'json'];

/** Rows [from, from + n) of `v`. */
export function encodeColumn(w: ByteWriter, colId: number, type: PhysicalType, v: ColumnVector, n: number, from = 0): void {
  w.u32(colId);
  w.u8(TYPES.indexOf(type));
  if (v.validity === null) w.u8(0);
  else { w.u8(1); w.typed(v.validity, n, from); }
  switch (type) {
    case 'bool': w.typed(v.data as Uint8Array, n, from); break;
    case 'int16': case 'int32': case 'date32': w.typed(v.data as Int32Array, n, from); break;
    case 'int64': w.typed(v.data as BigInt64Array, n, from); break;
    case 'float32': case 'float64': case 'timestamp_us': w.typed(v.data as Float64Array, n, from); break;
    case 'utf8': w.strings(v.data as string[], n, from); break;
    case 'json': {
      const d = v.data as unknown[];
      const ss = new Array<string>(n);
      for (let i = 0; i < n; i++) ss[i] = jsonEncode(d[from + i]);
      w.strings(ss, n);
      break;
    }
  }
}

export function decodeColumn(r: ByteReader): { colId: number; type: PhysicalType; vector: ColumnVector } {
  const colId = r.u32();
  const type = TYPES[r.u8()];
  if (type === undefined) throw new DataCorrupted('WAL: unknown column type');
  const validity = r.u8() === 1 ? r.u8s() : null;
  let data: ColumnVector['data'];
  switch (type) {
    case 'bool': data = r.u8s(); break;
    case 'int16': case 'int32': case 'date32': data = r.i32s(); break;
    case 'int64': data = r.i64s(); break;
    case 'float32': case 'float64': case 'timestamp_us': data = r.f64s(); break;
    case 'utf8': data = r.strings(); break;
    case 'json': data = r.strings().map(jsonDecode); break;
  }
  return { colId, type, vector: { data, validity } };
}

/** Encode one op of `txn` as (record type, payload). */
export function encodeOp(txn: TxnId, op: WalOp): { type: RecordType; payload: Uint8Array } {
  const w = new ByteWriter(initialSize(op));
  return { type: writeOp(w, txn, op), payload: w.finish() };
}

/**
 * Encode one op of `txn` as a whole WAL record (header + payload in one buffer, the payload
 * written in place: no copy), ready for `Wal.appendRecord`.
 */
export function encodeOpRecord(txn: TxnId, op: WalOp): Uint8Array {
  const size = initialSize(op);
  // small records (single-row writes, commits) are encoded in the scratch buffer and copied out
  // at their exact size: one allocation, no view
  const small = size <= SCRATCH_RECORD;
  const w = small ? ByteWriter.scratch(RECORD_HEADER) : new ByteWriter(size, RECORD_HEADER);
  const type = writeOp(w, txn, op);
  return sealRecord(small ? w.finishCopy() : w.finish(), type);
}

/**
 * `wal.appendRecord(encodeOpRecord(txn, op))` without the record's own array when it is small:
 * encoded in the scratch buffer and copied into the WAL's stage. Returns the LSN past it.
 */
export function appendOp(wal: Wal, txn: TxnId, op: WalOp): number {
  if (initialSize(op) > SCRATCH_RECORD) return wal.appendRecord(encodeOpRecord(txn, op));
  const w = ByteWriter.scratch(RECORD_HEADER);
  const type = writeOp(w, txn, op);
  return wal.appendRecordCopy(sealRecord(w.finish(), type));
}

/** records estimated up to this size go through ByteWriter.scratch */
const SCRATCH_RECORD = 4096;

function initialSize(op: WalOp): number {
  // per column ~24 bytes of header, counts and alignment; ~12 bytes a value (a short string)
  if (op.t === 'insert') return 64 + op.colIds.length * (24 + (op.rows ?? op.batch.length) * 12);
  if (op.t === 'delete') return 64 + op.rowIds.length * 8;
  return 64;
}

function writeOp(w: ByteWriter, txn: TxnId, op: WalOp): RecordType {
  w.f64(txn);
  switch (op.t) {
    case 'insert': {
      const rows = op.rows ?? op.batch.length;
      const from = op.rows === undefined ? 0 : op.from ?? 0;
      w.f64(op.table);
      w.f64(op.firstRowId);
      w.u32(rows);
      w.u32(op.colIds.length);
      for (let i = 0; i < op.colIds.length; i++) encodeColumn(w, op.colIds[i]!, op.types[i]!, op.batch.columns[i]!, rows, from);
      return RecordType.Insert;
    }
    case 'delete':
      w.f64(op.table);
      w.typed(op.rowIds, op.rowIds.length);
      return RecordType.Delete;
    case 'meta':
      w.str(op.key);
      if (op.value === undefined) w.u8(0); else { w.u8(1); w.str(op.value); }
      return RecordType.Meta;
    case 'create':
      w.str(JSON.stringify(op.spec));
      return RecordType.Create;
    case 'alter':
      w.str(JSON.stringify(op.spec));
      return RecordType.Alter;
    case 'drop':
      w.f64(op.table);
      return RecordType.Drop;
    case 'commit':
      return RecordType.Commit;
  }
}

export function decodeOp(type: number, payload: Uint8Array): { txn: TxnId; op: WalOp } {
  const r = new ByteReader(payload);
  const txn = r.f64() as TxnId;
  switch (type) {
    case RecordType.Insert: {
      const table = r.f64() as TableId;
      const firstRowId = r.f64();
      const length = r.u32();
      const ncols = r.u32();
      const colIds: number[] = [];
      const types: PhysicalType[] = [];
      const columns: ColumnVector[] = [];
      for (let i = 0; i < ncols; i++) {
        const c = decodeColumn(r);
        colIds.push(c.colId); types.push(c.type); columns.push(c.vector);
      }
      return { txn, op: { t: 'insert', table, firstRowId, colIds, types, batch: { length, columns } } };
    }
    case RecordType.Delete: {
      const table = r.f64() as TableId;
      return { txn, op: { t: 'delete', table, rowIds: r.f64s() } };
    }
    case RecordType.Meta: {
      const key = r.str();
      const value = r.u8() === 1 ? r.str() : undefined;
      return { txn, op: { t: 'meta', key, value } };
    }
    case RecordType.Create: return { txn, op: { t: 'create', spec: JSON.parse(r.str()) as StoredTableSpec } };
    case RecordType.Alter: return { txn, op: { t: 'alter', spec: JSON.parse(r.str()) as StoredTableSpec } };
    case RecordType.Drop: return { txn, op: { t: 'drop', table: r.f64() as TableId } };
    case RecordType.Commit: return { txn, op: { t: 'commit' } };
    default: throw new DataCorrupted(`WAL: unknown record type ${type}`);
  }
}
