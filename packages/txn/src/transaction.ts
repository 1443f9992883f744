/**
 * A transaction as the transaction manager sees it: id, isolation level, read-only flag, state,
 * snapshot, commit timestamp and savepoint stack. Created only by `TransactionManager.begin`.
 *
 * States (closed, exhaustive, mutually exclusive):
 *   active     running statements
 *   failed     a statement failed: only ROLLBACK or ROLLBACK TO are accepted (25P02)
 *   committing passed the commit checks, commit timestamp reserved, waiting for the WAL
 *   committed  / aborted: final
 *
 * Invariants:
 *  1. `id >= TXN_ID_START`; ids increase with `begin` order (smaller id = older).
 *  2. `commitTs` is set iff state is committing or committed, and is < TXN_ID_START.
 *  3. REPEATABLE READ / SERIALIZABLE: `snapshot` is taken at the first statement and never
 *     changes. READ COMMITTED: `snapshot` is the current statement's snapshot.
 *  4. `isolation` is never 'read uncommitted' (mapped to read committed at begin).
 *
 * Concurrency: owned by one session; the manager mutates it only in synchronous calls.
 */
import type { Snapshot, Timestamp, TxnId } from '@quiverdb/common';
import { DbError, SqlState, invariant } from '@quiverdb/common';
import { SavepointStack } from './savepoint-stack.js';

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';
/** What SQL accepts; 'read uncommitted' behaves as read committed (PostgreSQL). */
export type IsolationLevelInput = IsolationLevel | 'read uncommitted';
export type TxnState = 'active' | 'failed' | 'committing' | 'committed' | 'aborted';

/** Parse / normalise an isolation level name (case and spacing insensitive); 22023 if unknown. */
export function normalizeIsolation(level: string): IsolationLevel {
  // the canonical spellings (what every begin passes once normalized) need no string work
  if (level === 'read committed' || level === 'repeatable read' || level === 'serializable') return level;
  const s = level.trim().replace(/\s+/g, ' ').toLowerCase();
  switch (s) {
    case 'read uncommitted':
    case 'read committed': return 'read committed';
    case 'repeatable read': return 'repeatable read';
    case 'serializable': return 'serializable';
    default: throw new DbError(SqlState.InvalidParameterValue, `invalid transaction isolation level "${level}"`);
  }
}

/** The marks a savepoint remembers: the lock manager's, plus whatever the engine adds. */
export interface SavepointMarks {
  readonly lockMark: number;
  /** e.g. storage's write-list mark; opaque here */
  readonly engine?: unknown;
}

export class Transaction {
  readonly id: TxnId;
  readonly savepoints = new SavepointStack<SavepointMarks>();
  /** wall-clock start (ms since the epoch), for activity views */
  readonly startedAt = Date.now();
  #isolation: IsolationLevel;
  #readOnly: boolean;
  #deferrable: boolean;
  #state: TxnState = 'active';
  #snapshot: Snapshot | undefined;
  #commitTs: Timestamp | undefined;

  /** @internal use `TransactionManager.begin` */
  constructor(id: TxnId, isolation: IsolationLevel, readOnly: boolean, deferrable: boolean) {
    this.id = id;
    this.#isolation = isolation;
    this.#readOnly = readOnly;
    this.#deferrable = deferrable;
  }

  get isolation(): IsolationLevel { return this.#isolation; }
  get readOnly(): boolean { return this.#readOnly; }
  /** SERIALIZABLE READ ONLY DEFERRABLE: waits for a safe snapshot (`TransactionManager.deferrableSnapshot`). */
  get deferrable(): boolean { return this.#deferrable; }

  get state(): TxnState { return this.#state; }
  get snapshot(): Snapshot | undefined { return this.#snapshot; }
  get commitTs(): Timestamp | undefined { return this.#commitTs; }
  /** One snapshot for the whole transaction (repeatable read, serializable)? */
  get usesTransactionSnapshot(): boolean { return this.isolation !== 'read committed'; }
  get isSerializable(): boolean { return this.isolation === 'serializable'; }
  /** Still running (active or failed)? */
  get isOpen(): boolean { return this.#state === 'active' || this.#state === 'failed'; }

  /**
   * A statement failed: the transaction accepts only ROLLBACK / ROLLBACK TO from now on.
   * REQUIRES: open.
   */
  markFailed(): void {
    invariant(this.isOpen, 'markFailed on a finished transaction');
    this.#state = 'failed';
  }

  /** Throws 25P02 when failed, 25000 when finished: call before running a statement. */
  assertCanRun(): void {
    if (this.#state === 'failed') {
      throw new DbError(SqlState.InFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block');
    }
    if (this.#state !== 'active') throw new DbError(SqlState.InvalidTransactionState, `transaction is ${this.#state}`);
  }

  /** Throws 25006 in a READ ONLY transaction: call before any write (DML, DDL, nextval ...). */
  assertWritable(): void {
    if (this.#readOnly) throw new DbError(SqlState.ReadOnlySqlTransaction, 'cannot execute this statement in a read-only transaction');
  }

  /** @internal manager only */
  _setCharacteristics(isolation: IsolationLevel, readOnly: boolean, deferrable: boolean): void {
    this.#isolation = isolation;
    this.#readOnly = readOnly;
    this.#deferrable = deferrable;
  }
  /** @internal manager only */
  _clearSnapshot(): void { this.#snapshot = undefined; }
  /** @internal manager only */
  _setState(s: TxnState): void { this.#state = s; }
  /** @internal manager only */
  _setSnapshot(s: Snapshot): void { this.#snapshot = s; }
  /** @internal manager only */
  _setCommitTs(ts: Timestamp | undefined): void { this.#commitTs = ts; }

  checkInvariants(txnIdStart: number): void {
    invariant(this.id >= txnIdStart, 'txn id below TXN_ID_START');
    const hasTs = this.#state === 'committing' || this.#state === 'committed';
    invariant((this.#commitTs !== undefined) === hasTs, 'commitTs set iff committing/committed');
    if (this.#commitTs !== undefined) invariant(this.#commitTs < txnIdStart, 'commit ts in the txn id range');
    if (this.#snapshot) invariant(this.#snapshot.txnId === this.id, 'snapshot of another txn');
    this.savepoints.checkInvariants((p) => p.lockMark);
  }
}
