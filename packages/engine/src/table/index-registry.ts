/**
 * In-memory state of every secondary structure the engine keeps per index: the B+ tree (or
 * fractal tree) from @quiverdb/indexes mapping encoded keys to row ids.
 *
 * MVCC: an index holds entries for every row version that may be visible to some snapshot
 * (entries are not removed when a version is deleted or its insert rolls back); readers and the
 * uniqueness check filter candidates through the row's stamps. Entries of versions nobody can
 * see any more are dropped when the index is rebuilt (at open, after compaction).
 *
 * Invariants:
 *  1. For every index and every row version that is committed-and-live or written by a running
 *     transaction, the index holds (key(row), rowId).
 *  2. An index is keyed by `<tableId>/<schema>.<name>`: a table id is never reused, so a rolled
 *     back CREATE leaves only unreachable garbage.
 */
import { NOT_DELETED, physicalTypeOf, type ColumnBatch, type TableId, type TxnId, type Timestamp } from '@quiverdb/common';
import { encodeKeyFromColumns, type KeySpec } from '@quiverdb/indexes';
import type { Store } from '@quiverdb/storage';
import type { CatalogState, IndexMeta, TableMeta } from '../catalog/catalog-state.js';
import { KeyIndex } from './key-index.js';

export const indexKeyOf = (ix: IndexMeta) => `${ix.tableId}/${ix.schema}.${ix.name}`;

export function keySpecOf(ix: IndexMeta, table: TableMeta): KeySpec {
  return ix.columns.map((c, i) => {
    const t = table.columns[c]!.type;
    return { type: t.id === 'NUMERIC' ? 'numeric' : physicalTypeOf(t), desc: ix.descending[i] ?? false };
  });
}

/** A snapshot that sees every committed live row (and the given txn's own writes). */
export function latestSnapshot(txn: TxnId) {
  return { txnId: txn, startTs: NOT_DELETED as Timestamp };
}

export class IndexRegistry {
  readonly #indexes = new Map<string, KeyIndex>();

  /** The index structure, created empty on first use (new table / new index). */
  get(ix: IndexMeta, table: TableMeta): KeyIndex {
    const k = indexKeyOf(ix);
    let idx = this.#indexes.get(k);
    if (!idx) {
      idx = new KeyIndex(keySpecOf(ix, table), ix.unique, ix.method);
      this.#indexes.set(k, idx);
    }
    return idx;
  }

  has(ix: IndexMeta): boolean {
    return this.#indexes.has(indexKeyOf(ix));
  }

  drop(ix: IndexMeta): void {
    this.#indexes.delete(indexKeyOf(ix));
  }

  /** Build (or rebuild) one index from the rows `txn` can see as latest. */
  /** Build (or rebuild) one index; `duplicate` tells whether a UNIQUE key occurs twice. */
  async build(store: Store, ix: IndexMeta, table: TableMeta, txn: TxnId): Promise<{ index: KeyIndex; duplicate: boolean }> {
    const idx = new KeyIndex(keySpecOf(ix, table), ix.unique, ix.method);
    let duplicate = false;
    if (store.hasTable(table.id)) {
      for await (const b of store.scan(table.id, latestSnapshot(txn), { columns: ix.columns, withRowIds: true })) {
        if (addRows(idx, b.batch, b.rowIds!, ix.columns.map((_, i) => i))) duplicate = true;
      }
    }
    this.#indexes.set(indexKeyOf(ix), idx);
    return { index: idx, duplicate };
  }

  async rebuildAll(store: Store, catalog: CatalogState): Promise<void> {
    const sys = (2 ** 50 + 1) as TxnId; // no transaction has written anything yet at open
    for (const ix of catalog.indexes.values()) {
      const t = catalog.tablesById.get(ix.tableId as TableId);
      if (t) await this.build(store, ix, t, sys);
    }
  }
}

/**
 * Add rows of `batch` (key columns at `keyCols` positions of the batch) to an index. Returns true
 * when the index is unique and a key without NULLs was already present.
 */
export function addRows(idx: KeyIndex, batch: ColumnBatch, rowIds: Float64Array, keyCols: readonly number[]): boolean {
  const cols = keyCols.map((c) => batch.columns[c]!);
  let duplicate = false;
  for (let i = 0; i < batch.length; i++) {
    const key = encodeKeyFromColumns(idx.spec, cols, i);
    if (idx.unique && !duplicate && idx.lookup(key).length > 0 && !cols.some((c) => c.validity !== null && c.validity[i] === 0)) {
      duplicate = true;
    }
    idx.insert(key, rowIds[i]!);
  }
  return duplicate;
}
