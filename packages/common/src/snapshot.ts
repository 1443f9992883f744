/**
 * Snapshot and the one visibility function of QuiverDB's MVCC.
 *
 * Storage is handed a `Snapshot` value and never imports the transaction manager
 * (as DuckDB storage only sees `TransactionData {transaction_id, start_time}`).
 *
 * Version stamps (stored per row version as doubles):
 *  - insert stamp: the commit timestamp of the inserting transaction once committed, or its TxnId
 *    (>= TXN_ID_START) while it runs; ABORTED when it rolled back.
 *  - delete stamp: NOT_DELETED, or the deleting transaction's TxnId while it runs, or its commit
 *    timestamp once committed.
 *
 * Visibility rule (`isVisible`): a version is visible to snapshot S when
 *   (ins < S.startTs  or  ins == S.txnId)  and not  (del < S.startTs  or  del == S.txnId)
 * A commit timestamp equal to or above startTs belongs to a transaction that committed after S began.
 */
import { TXN_ID_START, type TxnId, type Timestamp } from './ids.js';

export interface Snapshot {
  /** The reading transaction: its own writes are visible to it. */
  readonly txnId: TxnId;
  /** Commits with timestamp < startTs are visible. */
  readonly startTs: Timestamp;
}

/** Delete stamp of a version nobody deleted. */
export const NOT_DELETED = Number.MAX_VALUE;
/** Insert stamp of a version whose transaction rolled back: visible to nobody. */
export const ABORTED = Number.POSITIVE_INFINITY;

export function isVisible(s: Snapshot, insertStamp: number, deleteStamp: number): boolean {
  const inserted = insertStamp < s.startTs || insertStamp === s.txnId;
  if (!inserted) return false;
  const deleted = deleteStamp < s.startTs || deleteStamp === s.txnId;
  return !deleted;
}

/** Is this stamp the id of a transaction that has not committed (yet)? */
export function isUncommittedStamp(stamp: number): boolean {
  return stamp >= TXN_ID_START && stamp !== NOT_DELETED && stamp !== ABORTED;
}
