/**
 * What a lock protects. A closed, exhaustive, mutually exclusive union:
 *  - `table`        a table (or any relation-like catalog object with a TableId); table modes
 *  - `row`          one row version of a table, by row id; row modes
 *  - `transaction`  a transaction id: each transaction holds EXCLUSIVE on its own id while it runs,
 *                   and a writer that meets a row written by a running transaction waits for SHARE
 *                   on that id (as PostgreSQL's XactLockTableWait); table modes
 *  - `object`       any other named object (advisory locks, catalog names); table modes
 *
 * Invariants:
 *  1. `lockKey` is injective: two targets share a key iff they are equal.
 *
 * Concurrency: pure values.
 */
import type { RowId, TableId, TxnId } from '@quiverdb/common';
import { invariant } from '@quiverdb/common';
import { isRowLockMode, type LockMode } from './lock-mode.js';

export type LockTarget =
  | { readonly kind: 'table'; readonly table: TableId }
  | { readonly kind: 'row'; readonly table: TableId; readonly row: RowId }
  | { readonly kind: 'transaction'; readonly txn: TxnId }
  | { readonly kind: 'object'; readonly name: string };

export const LockTarget = Object.freeze({
  table: (table: TableId): LockTarget => ({ kind: 'table', table }),
  row: (table: TableId, row: RowId): LockTarget => ({ kind: 'row', table, row }),
  transaction: (txn: TxnId): LockTarget => ({ kind: 'transaction', txn }),
  object: (name: string): LockTarget => ({ kind: 'object', name }),
});

/** A string key, unique per target (invariant 1). */
export function lockKey(t: LockTarget): string {
  switch (t.kind) {
    case 'table': return `t${t.table}`;
    case 'row': return `r${t.table}:${t.row}`;
    case 'transaction': return `x${t.txn}`;
    case 'object': return `o${t.name}`;
  }
}

/** REQUIRES: row targets take row modes, every other target takes table modes. */
export function assertModeFitsTarget(t: LockTarget, mode: LockMode): void {
  invariant((t.kind === 'row') === isRowLockMode(mode), () => `lock mode ${mode} cannot lock a ${t.kind}`);
}

/** One-line rendering for messages and the lock view. */
export function describeTarget(t: LockTarget): string {
  switch (t.kind) {
    case 'table': return `table ${t.table}`;
    case 'row': return `row ${t.row} of table ${t.table}`;
    case 'transaction': return `transaction ${t.txn}`;
    case 'object': return `object ${t.name}`;
  }
}
