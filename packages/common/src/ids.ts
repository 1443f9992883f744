/**
 * Branded numeric ids. Numbers, never mixed up at compile time.
 *
 * Invariants:
 *  1. A `TxnId` is >= TXN_ID_START; a commit timestamp is < TXN_ID_START. Version stamps in
 *     storage use that split to tell "committed at ts" from "written by the running txn id".
 *  2. `RowId`s are stable for the life of a row version within one table (segment rows and delta
 *     rows alike) and fit in a double exactly (< 2^53).
 */
export type TxnId = number & { readonly __brand: 'TxnId' };
export type Lsn = number & { readonly __brand: 'Lsn' };
export type PageId = number & { readonly __brand: 'PageId' };
export type RowId = number & { readonly __brand: 'RowId' };
export type TableId = number & { readonly __brand: 'TableId' };
/** A commit timestamp (logical clock). */
export type Timestamp = number & { readonly __brand: 'Timestamp' };

/** First transaction id. Every stamp >= this is an uncommitted transaction's id. */
export const TXN_ID_START = 2 ** 50;

export const txnId = (n: number): TxnId => n as TxnId;
export const lsn = (n: number): Lsn => n as Lsn;
export const pageId = (n: number): PageId => n as PageId;
export const rowId = (n: number): RowId => n as RowId;
export const tableId = (n: number): TableId => n as TableId;
export const timestamp = (n: number): Timestamp => n as Timestamp;
