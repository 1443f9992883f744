/**
 * @quiverdb/txn — transactions for QuiverDB: the transaction manager (ids, commit clock,
 * snapshots, commit / abort, GC horizon), the lock manager (PostgreSQL's table and row lock
 * modes, wait queues, NOWAIT / SKIP LOCKED / lock_timeout), the wait-for graph with deadlock
 * detection or prevention, serializable snapshot isolation tracking, savepoints, and a
 * serializability checker for recorded histories.
 *
 *   engine ──► TransactionManager ──► LockManager ──► WaitForGraph
 *                      │
 *                      └──────────► SsiTracker (SIREADs, rw-edges, dangerous structures)
 *
 * Visibility itself is `isVisible` in @quiverdb/common: storage is handed `Snapshot` values and
 * never imports this package.
 */
export { TransactionManager } from './transaction-manager.js';
export type { TransactionManagerOptions, BeginOptions } from './transaction-manager.js';
export { Transaction, normalizeIsolation } from './transaction.js';
export type { IsolationLevel, IsolationLevelInput, TxnState, SavepointMarks } from './transaction.js';
export { LockManager } from './lock-manager.js';
export type { LockManagerOptions, AcquireOptions, LockInfo, LockViewRow, DeadlockPrevention } from './lock-manager.js';
export {
  TABLE_LOCK_MODES,
  ROW_LOCK_MODES,
  modesConflict,
  isTableLockMode,
  isRowLockMode,
  parseLockMode,
  checkConflictTables,
} from './lock-mode.js';
export type { TableLockMode, RowLockMode, LockMode } from './lock-mode.js';
export { LockTarget, lockKey, describeTarget } from './lock-target.js';
export { WaitForGraph } from './wait-for-graph.js';
export { SsiTracker } from './ssi-tracker.js';
export type { SsiOptions, SsiReadTarget, SnapshotSafety } from './ssi-tracker.js';
export { compareSsiKeys, keyInRange, writeMatchesRange } from './ssi-key.js';
export type { SsiKey, SsiKeyPart, SsiRange, SsiWriteKeys } from './ssi-key.js';
export { SavepointStack } from './savepoint-stack.js';
export type { Savepoint } from './savepoint-stack.js';
export { checkSerializable, dependencyEdges } from './history-checker.js';
export type {
  HistoryTransaction,
  HistoryRead,
  HistoryTxnId,
  HistoryVerdict,
  DependencyEdge,
  DependencyKind,
} from './history-checker.js';
