/**
 * Enforcing FOREIGN KEYs (23503), as PostgreSQL's RI triggers do, at the end of each write:
 *
 *  - a row written into a referencing (child) table must find its key in the referenced (parent)
 *    table's unique index among the versions that are committed-and-live or this transaction's
 *    own; a parent version written or deleted by a running transaction is waited for first
 *    (PostgreSQL takes FOR KEY SHARE on the parent row, which waits the same way). A key with a
 *    NULL column is not checked (MATCH SIMPLE).
 *  - when parent rows go away (DELETE, or UPDATE changing the referenced key), the child rows
 *    holding the old keys — committed-and-live or our own — are handled by the key's action:
 *    NO ACTION / RESTRICT → 23503; CASCADE → deleted (or, on UPDATE, given the new key);
 *    SET NULL / SET DEFAULT → the referencing columns set to NULL / their defaults' missing value.
 *    The child writes go through `EngineTable`, so they take locks, maintain indexes and cascade on.
 *
 * Invariants:
 *  1. After a successful statement, every committed-or-own child row with a non-NULL key has a
 *     committed-or-own parent row with that key.
 */
import {
  ABORTED,
  DbError,
  NOT_DELETED,
  SqlState,
  isUncommittedStamp,
  physicalTypeOf,
  type ColumnBatch,
  type ColumnVector,
  type TxnId,
} from '@quiverdb/common';
import { encodeKeyFromColumns, fromBinary, toBinary } from '@quiverdb/indexes';
import type { Database } from '../database.js';
import type { EngineTransaction } from '../transaction.js';
import type { ForeignKeyMeta, TableMeta } from '../catalog/catalog-state.js';
import { latestSnapshot } from './index-registry.js';
import type { KeyIndex } from './key-index.js';

/** Child key columns converted to the parent key's physical types (int widths may differ). */
function keyColumns(child: TableMeta, parent: TableMeta, fk: ForeignKeyMeta, batch: ColumnBatch, positions: readonly number[]): ColumnVector[] {
  return fk.columns.map((c, k) => {
    const v = batch.columns[positions[k] ?? c]!;
    const from = physicalTypeOf(child.columns[c]!.type);
    const to = physicalTypeOf(parent.columns[fk.refColumns[k]!]!.type);
    if (from === to || (from !== 'int64' && to !== 'int64')) return v;
    const n = batch.length;
    if (to === 'int64') {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt((v.data as Int32Array)[i]!);
      return { data: out, validity: v.validity };
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = Number((v.data as BigInt64Array)[i]!);
    return { data: out, validity: v.validity };
  });
}

function hasNull(cols: readonly ColumnVector[], i: number): boolean {
  return cols.some((c) => c.validity !== null && c.validity[i] === 0);
}

function parentIndex(db: Database, txn: EngineTransaction, fk: ForeignKeyMeta): { parent: TableMeta; idx: KeyIndex } {
  const st = txn.catalog(db);
  const parent = st.tablesById.get(fk.refTableId);
  const ix = parent && st.index(parent.schema, fk.refIndex);
  if (!parent || !ix) throw new DbError(SqlState.InternalError, `foreign key ${fk.name} lost its referenced index (this is a bug)`);
  return { parent, idx: db.indexes.get(ix, parent) };
}

/** Takes FOR KEY SHARE on parent rows (so a concurrent DELETE of the parent waits for us). */
export type LockParentRows = (parent: TableMeta, rowIds: Float64Array) => Promise<unknown>;

/**
 * Check that every row of `batch` (all child columns, table order) references an existing parent
 * key, and lock the parent row FOR KEY SHARE (as PostgreSQL's RI check does) so it cannot vanish
 * before we commit.
 */
export async function checkReferences(db: Database, txn: EngineTransaction, child: TableMeta, batch: ColumnBatch,
  lockParent?: LockParentRows): Promise<void> {
  for (const fk of child.foreignKeys ?? []) {
    const { parent, idx } = parentIndex(db, txn, fk);
    const cols = keyColumns(child, parent, fk, batch, fk.columns);
    for (let i = 0; i < batch.length; i++) {
      if (hasNull(cols, i)) continue;
      const key = encodeKeyFromColumns(idx.spec, cols, i);
      for (;;) {
        const row = await liveParentRow(db, txn, parent, idx, key);
        if (row === undefined) {
          throw new DbError(SqlState.ForeignKeyViolation,
            `insert or update on table "${child.name}" violates foreign key constraint "${fk.name}"`,
            { detail: `Key is not present in table "${parent.name}".` });
        }
        if (!lockParent) break;
        await lockParent(parent, Float64Array.of(row));
        // the row may have been deleted while we waited for the lock: look again
        if (isLive(db, txn, parent, row)) break;
      }
    }
  }
}

function isLive(db: Database, txn: EngineTransaction, t: TableMeta, row: number): boolean {
  const st = db.store.rowStamps(t.id, row);
  return st !== undefined && st.insert !== ABORTED && (!isUncommittedStamp(st.insert) || st.insert === txn.id)
    && (st.delete === NOT_DELETED || (isUncommittedStamp(st.delete) && st.delete !== txn.id));
}

async function parentKeyExists(db: Database, txn: EngineTransaction, parent: TableMeta, idx: KeyIndex, key: Uint8Array): Promise<boolean> {
  return (await liveParentRow(db, txn, parent, idx, key)) !== undefined;
}

/** A committed-and-live (or own) parent row with `key`, after waiting out running writers of it. */
async function liveParentRow(db: Database, txn: EngineTransaction, parent: TableMeta, idx: KeyIndex, key: Uint8Array): Promise<number | undefined> {
  const me = txn.id;
  for (;;) {
    let waitFor: number | undefined;
    let keptBy: { id: number; writer: number } | undefined; // a committed version a running writer replaced
    let insertedBy: number | undefined;
    for (const id of idx.lookup(key)) {
      const st = db.store.rowStamps(parent.id, id);
      if (!st || st.insert === ABORTED) continue;
      if (isUncommittedStamp(st.insert) && st.insert !== me) {
        if (st.delete === NOT_DELETED) insertedBy = st.insert;
        waitFor ??= st.insert;
        continue;
      }
      if (st.delete === NOT_DELETED) return id;
      if (st.delete === me) continue;
      if (isUncommittedStamp(st.delete)) {
        if (!isUncommittedStamp(st.insert) || st.insert === me) keptBy ??= { id, writer: st.delete };
        waitFor ??= st.delete;
      }
    }
    // a running writer replaced the row by a version with the same key (a non-key UPDATE): the
    // key exists whether it commits or not, and FOR KEY SHARE does not wait for it (PostgreSQL)
    if (keptBy && insertedBy === keptBy.writer) return keptBy.id;
    if (waitFor === undefined) return undefined;
    await txn.waitFor(db, waitFor as TxnId);
  }
}

/**
 * Parent rows `oldRows` (all parent columns; their row ids were deleted by this statement) lose
 * their keys; `newRows` (same order) are their replacements on UPDATE, undefined on DELETE.
 * `childTable` opens a child table for writing inside this transaction.
 */
export async function onParentKeysRemoved(
  db: Database,
  txn: EngineTransaction,
  parent: TableMeta,
  oldRows: ColumnBatch,
  newRows: ColumnBatch | undefined,
  childTable: (child: TableMeta) => {
    delete(rowIds: Float64Array): Promise<number>;
    update(rowIds: Float64Array, batch: ColumnBatch): Promise<number>;
  },
): Promise<void> {
  const refs = txn.catalog(db).referencing(parent.id);
  for (const { child, fk } of refs) {
    const { idx } = parentIndex(db, txn, fk);
    const oldKey = fk.refColumns.map((c) => oldRows.columns[c]!);
    const newKey = newRows ? fk.refColumns.map((c) => newRows.columns[c]!) : undefined;
    // keys that disappear: old key of a row whose replacement (if any) has a different key
    const gone = new Map<string, number>();
    for (let i = 0; i < oldRows.length; i++) {
      if (hasNull(oldKey, i)) continue;
      const k = toBinary(encodeKeyFromColumns(idx.spec, oldKey, i));
      if (newKey && !hasNull(newKey, i) && toBinary(encodeKeyFromColumns(idx.spec, newKey, i)) === k) continue;
      gone.set(k, i);
    }
    if (gone.size === 0) continue;
    // a key that still exists in another live parent row is not gone (UNIQUE allows one, but an
    // UPDATE may swap keys between rows of one statement)
    for (const k of [...gone.keys()]) {
      const key = fromBinary(k);
      if (await parentKeyExists(db, txn, parent, idx, key)) gone.delete(k);
    }
    if (gone.size === 0) continue;
    const action = newRows ? fk.onUpdate : fk.onDelete;
    const hits: number[] = [];
    const hitRows: number[] = [];
    const all = child.columns.map((_, i) => i);
    const parts: ColumnBatch[] = [];
    for await (const b of db.store.scan(child.id, latestSnapshot(txn.id), { columns: all, withRowIds: true })) {
      const cols = keyColumns(child, parent, fk, b.batch, fk.columns);
      for (let i = 0; i < b.batch.length; i++) {
        if (hasNull(cols, i)) continue;
        const src = gone.get(toBinary(encodeKeyFromColumns(idx.spec, cols, i)));
        if (src === undefined) continue;
        hits.push(b.rowIds![i]!);
        hitRows.push(src);
        parts.push(sliceRow(b.batch, i));
      }
    }
    if (hits.length === 0) continue;
    if (action === 'noAction' || action === 'restrict') {
      throw new DbError(SqlState.ForeignKeyViolation,
        `update or delete on table "${parent.name}" violates foreign key constraint "${fk.name}" on table "${child.name}"`,
        { detail: `Key is still referenced from table "${child.name}".` });
    }
    const target = childTable(child);
    const ids = Float64Array.from(hits);
    if (action === 'cascade' && !newRows) {
      await target.delete(ids);
      continue;
    }
    // SET NULL / SET DEFAULT, or CASCADE on UPDATE: rewrite the referencing columns
    const rows = concatRows(parts, child);
    fk.columns.forEach((c, k) => {
      const v = rows.columns[c]! as { data: ColumnVector['data']; validity: Uint8Array | null };
      const validity = v.validity ?? new Uint8Array(rows.length).fill(1);
      for (let r = 0; r < rows.length; r++) {
        if (action === 'cascade') {
          const nv = newKey![k]!;
          const src = hitRows[r]!;
          const x = (nv.data as unknown[])[src];
          const childInt64 = physicalTypeOf(child.columns[c]!.type) === 'int64';
          (v.data as unknown[])[r] = childInt64 && typeof x === 'number' ? BigInt(x) : !childInt64 && typeof x === 'bigint' ? Number(x) : x;
          validity[r] = nv.validity === null ? 1 : nv.validity[src]!;
        } else if (action === 'setDefault' && child.columns[c]!.missing !== undefined) {
          validity[r] = 1;
          (v.data as unknown[])[r] = physicalTypeOf(child.columns[c]!.type) === 'int64' ? BigInt(child.columns[c]!.missing!) : child.columns[c]!.missing;
        } else {
          validity[r] = 0;
        }
      }
      v.validity = validity;
    });
    await target.update(ids, rows);
  }
}

function sliceRow(b: ColumnBatch, i: number): ColumnBatch {
  return {
    length: 1,
    columns: b.columns.map((c) => ({
      data: Array.isArray(c.data) ? [c.data[i]] : (c.data as unknown as { slice(a: number, b: number): ColumnVector['data'] }).slice(i, i + 1),
      validity: c.validity === null ? null : c.validity.slice(i, i + 1),
    })),
  };
}

function concatRows(parts: readonly ColumnBatch[], t: TableMeta): ColumnBatch {
  const n = parts.length;
  return {
    length: n,
    columns: t.columns.map((_col, c) => {
      const first = parts[0]!.columns[c]!.data;
      let data: ColumnVector['data'];
      if (Array.isArray(first)) data = parts.map((p) => (p.columns[c]!.data as unknown[])[0]);
      else {
        const Ctor = first.constructor as new (n: number) => Exclude<ColumnVector['data'], unknown[]>;
        const out = new Ctor(n);
        parts.forEach((p, r) => { (out as unknown as unknown[])[r] = (p.columns[c]!.data as unknown as unknown[])[0]; });
        data = out;
      }
      const validity = new Uint8Array(n);
      parts.forEach((p, r) => { const v = p.columns[c]!.validity; validity[r] = v === null ? 1 : v[0]!; });
      return { data, validity };
    }),
  };
}
