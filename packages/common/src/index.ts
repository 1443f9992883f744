/**
 * @quiverdb/common — what every layer shares: `DbError` with SQLSTATE codes, branded ids,
 * the `Snapshot` value and the one MVCC visibility function, SQL type descriptors, `invariant()`.
 *
 * Imports nothing from the workspace (ARCHITECTURE.md section 1).
 */
export {
  DbError,
  SqlState,
  SyntaxError,
  UndefinedTable,
  DatatypeMismatch,
  SerializationFailure,
  DeadlockDetected,
  FeatureNotSupported,
  OutOfMemory,
  IoError,
  DataCorrupted,
  InternalError,
  invalidatesTransaction,
  invalidatesDatabase,
  isDbError,
} from './errors.js';
export type { DbErrorOptions } from './errors.js';
export { invariant, unreachable } from './invariant.js';
export { TXN_ID_START, txnId, lsn, pageId, rowId, tableId, timestamp } from './ids.js';
export type { TxnId, Lsn, PageId, RowId, TableId, Timestamp } from './ids.js';
export { isVisible, isUncommittedStamp, NOT_DELETED, ABORTED } from './snapshot.js';
export type { Snapshot } from './snapshot.js';
export { T, typeName, isIntegerType, isNumericType, isStringType } from './types.js';
export type { SqlType, TypeId } from './types.js';
export { physicalTypeOf, allocateData, checkBatch } from './vector.js';
export type { PhysicalType, VectorData, ColumnVector, ColumnBatch } from './vector.js';
export { seededRandom } from './seeded-random.js';
