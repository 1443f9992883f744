/**
 * The storage contract the engine codes against. `openStore()` (store.ts) implements it.
 *
 * One database = one directory:
 *   LOCK                          owner pid; a second process gets a DbError (55006), stale locks are taken over
 *   MANIFEST-<n>, CURRENT         metadata root (atomic switch: write, fsync, rename CURRENT, fsync dir)
 *   catalog.qmt                   with an injected MetadataBackend (the engine's Bε-tree): the metadata itself
 *   wal/<seq>.log                 write-ahead log segments
 *   data/<table-id>/<seg-id>.parquet  immutable Parquet segments
 *
 * MVCC (see common/snapshot.ts): every row version has an insert stamp and a delete stamp.
 * Storage never imports the transaction manager; it is handed `Snapshot` values and txn ids.
 *
 * Logging: a transaction's writes are buffered in memory (a redo list per txn) and reach the WAL
 * only at commit, as one group of records ending in a commit record. Uncommitted data never reaches
 * a checkpoint, so the WAL needs no undo records.
 *
 * Commit protocol (two steps so that commit timestamps are applied atomically w.r.t. readers):
 *   await store.prepareCommit(txn)   // WAL records + commit record appended, fsync'ed (group commit)
 *   store.finishCommit(txn, ts)      // synchronous: all of txn's stamps become `ts`
 *
 * Invariants:
 *  1. After `prepareCommit` resolves, the txn survives any crash; before it is called, nothing of the
 *     txn is durable.
 *  2. A scan with snapshot S returns exactly the versions `isVisible(S, ins, del)` accepts.
 *  3. Row ids are stable per table for the life of a version (checkpoints and compaction keep them).
 *  4. `checkpoint()` leaves the directory recoverable at every instant (crash before the CURRENT
 *     rename = the old checkpoint + the whole WAL; after = the new one + the WAL tail).
 *
 * Concurrency: single JS thread; methods that await may interleave with others. `prepareCommit`s
 * that overlap share one fsync. `checkpoint()` may run while transactions read and write.
 */
import type { ColumnBatch, ColumnVector, PhysicalType, Snapshot, TableId, Timestamp, TxnId } from '@quiverdb/common';

export interface StoredColumn {
  /** stable column id: never reused within a table, survives renames */
  readonly id: number;
  readonly name: string;
  readonly type: PhysicalType;
  readonly nullable: boolean;
  /**
   * The value rows read for this column when they were written before it existed (ALTER TABLE ADD
   * COLUMN ... DEFAULT, PostgreSQL's "missing value"): absent = NULL. JSON-safe, as it is logged and
   * kept in the manifest: int64 as decimal text, bool as 0 / 1, json as JSON text, other types as their vector value.
   */
  readonly missing?: string | number | null;
  /**
   * ALTER COLUMN TYPE without a rewrite: rows stored without this column id (older segments and
   * delta chunks) compute it from other column ids through the store's `ColumnConverter`. Dropped
   * by the store once every segment holds the column (background rewrite, `rewriteStep`).
   */
  readonly convert?: ColumnConversion;
}

/** How a re-typed column is computed from the columns it replaced (convert on read). */
export interface ColumnConversion {
  /** source column ids, each in the spec's `columns` or `hidden` */
  readonly from: readonly number[];
  /** opaque to storage: what the converter evaluates (the engine keeps SQL text and names here) */
  readonly expr: string;
}

/** Computes a converted column from its sources' vectors (n rows each); must not throw for a row it cannot convert: NULL instead. */
export type ColumnConverter = (table: TableId, column: StoredColumn, inputs: readonly ColumnVector[], n: number) => Promise<ColumnVector>;

export interface StoredTableSpec {
  readonly id: TableId;
  readonly columns: readonly StoredColumn[];
  /** retired columns (dropped / re-typed) that a pending conversion still reads; kept by the store */
  readonly hidden?: readonly StoredColumn[];
}

/** A pruning predicate on one column, values in the column's vector representation. */
export type StoragePredicate =
  | { readonly kind: 'cmp'; readonly column: number; readonly op: '=' | '<' | '<=' | '>' | '>='; readonly value: unknown }
  | { readonly kind: 'between'; readonly column: number; readonly low: unknown; readonly high: unknown }
  | { readonly kind: 'in'; readonly column: number; readonly values: readonly unknown[] }
  | { readonly kind: 'isNull'; readonly column: number; readonly negated: boolean };

export interface StorageScanOptions {
  /** positions in the table's column list to return, in this order */
  readonly columns: readonly number[];
  /** row groups that cannot match are skipped (rows inside are NOT filtered: the caller filters) */
  readonly predicates?: readonly StoragePredicate[];
  readonly withRowIds?: boolean;
  /** rows per batch, roughly (default 2048..65536) */
  readonly batchSize?: number;
}

export interface StorageScanBatch {
  readonly batch: ColumnBatch;
  readonly rowIds?: Float64Array;
}

export interface ScanStats {
  rowGroupsTotal: number;
  rowGroupsSkipped: number;
}

/** What happened to each row asked to be deleted. */
export type DeleteOutcome =
  | { readonly kind: 'deleted' }
  /** already deleted by this same transaction, or invisible to it: nothing done */
  | { readonly kind: 'gone' }
  /** another running transaction deleted (or updated) it: wait for `holder` then retry */
  | { readonly kind: 'locked'; readonly holder: TxnId }
  /** deleted by a transaction that committed at `commitTs` (>= the snapshot's startTs) */
  | { readonly kind: 'concurrentlyDeleted'; readonly commitTs: Timestamp };

export interface BufferPoolStats {
  readonly limitBytes: number;
  readonly bytesInUse: number;
  readonly peakBytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  /** bytes reserved in the budget outside cached entries (the in-memory delta), included in bytesInUse */
  readonly reservedBytes?: number;
}

export interface StoreStats {
  readonly walBytes: number;
  readonly walSyncs: number;
  readonly checkpoints: number;
  /** compactions that rewrote at least one segment */
  readonly compactions?: number;
  readonly bufferPool: BufferPoolStats;
  readonly tables: readonly {
    readonly id: TableId; readonly segments: number; readonly rows: number; readonly deltaRows: number; readonly deletedRows: number; readonly bytes: number;
    /** ms since the epoch of the last compaction / OPTIMIZE that rewrote segments of the table */
    readonly lastCompaction?: number;
    /** compactions / OPTIMIZEs of the table since open */
    readonly compactionCount?: number;
    /** segments still to rewrite for pending ALTER COLUMN TYPE conversions */
    readonly pendingRewrites?: number;
    /** segment row groups scans came to since open, and those skipped by zone maps */
    readonly rowGroupsScanned?: number;
    readonly rowGroupsSkipped?: number;
  }[];
  /** bytes of delta rows (in-memory, not yet in a segment), reserved in the buffer pool's budget */
  readonly deltaBytes?: number;
  /**
   * WAL activity since open (PostgreSQL's pg_stat_wal): records appended and their bytes, writes
   * and fsyncs of the log, the ms spent in them, and when counting began (ms since the epoch).
   */
  readonly wal?: {
    readonly records: number; readonly bytes: number; readonly writes: number; readonly syncs: number;
    readonly writeMs: number; readonly syncMs: number; readonly since: number;
  };
}

export interface Store {
  /** Committed metadata entries (the catalog lives here), as recovered at open + committed since. */
  metaEntries(): ReadonlyMap<string, string>;
  /** Put (value) or delete (undefined) a metadata entry as part of `txn`; applied at commit. */
  metaPut(txn: TxnId, key: string, value: string | undefined): void;

  /** Create a table's storage as part of `txn` (dropped again if the txn rolls back). */
  createTable(txn: TxnId, spec: StoredTableSpec): void;
  /** Drop a table as part of `txn`; its files are removed after commit + checkpoint. */
  dropTable(txn: TxnId, id: TableId): void;
  /** Replace a table's column list (ADD/DROP/RENAME COLUMN): old segments are read through column ids. */
  alterTable(txn: TxnId, spec: StoredTableSpec): void;
  hasTable(id: TableId): boolean;

  /** Append rows (all columns, table order) as `txn`'s; returns their row ids. */
  insert(txn: TxnId, table: TableId, batch: ColumnBatch): Float64Array;
  /** Delete rows (delete stamp = txn) if visible to `snapshot`; one outcome per row id. */
  delete(txn: TxnId, snapshot: Snapshot, table: TableId, rowIds: Float64Array): DeleteOutcome[];
  /** Stamps of a row version (for conflict checks and row locks). */
  rowStamps(table: TableId, rowId: number): { insert: number; delete: number } | undefined;

  scan(table: TableId, snapshot: Snapshot, opts: StorageScanOptions, stats?: ScanStats): AsyncIterable<StorageScanBatch>;
  /** Rows by id (visible or not: the caller checked visibility), columns as in `scan`. */
  fetch(table: TableId, rowIds: Float64Array, columns: readonly number[]): Promise<ColumnBatch>;
  /**
   * `fetch` answered from memory without waiting (rows in the delta or in row groups whose
   * columns are in the buffer pool), or undefined when it would have to read or convert, or a
   * row id is unknown. Values under a NULL are unspecified (read the validity).
   */
  fetchCached(table: TableId, rowIds: Float64Array, columns: readonly number[]): ColumnBatch | undefined;
  /**
   * One row of `fetchCached` without vectors (point lookups): its values (NULL → null) appended to
   * `out[j]` per column, 1; with `snapshot`, 0 (nothing appended) for a version it does not see;
   * -1, nothing appended, when `fetch` is needed.
   */
  readRowCached(table: TableId, rowId: number, columns: readonly number[], out: unknown[][], snapshot?: Snapshot): number;
  /** Committed row count estimate (segments + delta - deletes). */
  rowCount(table: TableId): number;

  /** Savepoint mark inside `txn`'s write list; `rollbackTo` undoes every write after it. */
  savepoint(txn: TxnId): number;
  rollbackTo(txn: TxnId, mark: number): void;
  /**
   * Make `txn`'s writes durable (WAL + fsync, shared with concurrent commits). `openTxns`: how
   * many transactions the database has open, this one included: with 1, no commit can share the
   * fsync and it runs at once on this thread; a group fsync that every open transaction waits
   * for blocks this thread too (wal.ts `sync`).
   */
  prepareCommit(txn: TxnId, opts?: { readonly openTxns?: number }): Promise<void>;
  /** Synchronously stamp `txn`'s versions with `commitTs` and release its write list. */
  finishCommit(txn: TxnId, commitTs: Timestamp): void;
  /** Undo all of `txn`'s writes (never durable, so nothing to log). */
  rollback(txn: TxnId): void;

  /** Write committed delta rows and deletes as segments, switch the manifest, trim the WAL. */
  checkpoint(): Promise<void>;
  /** Merge small segments / rewrite delete-heavy ones (keeps row ids), remove unreferenced files. */
  compact(table?: TableId): Promise<void>;
  /**
   * The oldest startTs any running snapshot may still use; versions deleted before it can be
   * dropped by compaction. The engine sets it from the transaction manager.
   */
  setGcHorizon(ts: Timestamp): void;
  /** The function that computes converted columns (ALTER COLUMN TYPE); set before reads of converted columns. */
  setColumnConverter?(f: ColumnConverter): void;
  /**
   * Background rewrite for ALTER COLUMN TYPE: rewrite one segment still read through a conversion
   * (same path as compaction); drops conversions no longer needed. Resolves true when it did work
   * and more remains (false: done, or blocked for now, e.g. by an open ALTER of the table).
   */
  rewriteStep?(): Promise<boolean>;
  /** Is some committed conversion still applied on read? */
  hasPendingRewrite?(): boolean;
  stats(): StoreStats;
  /** Highest commit timestamp recovered at open (the clock restarts above it). */
  readonly recoveredCommitTs: Timestamp;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** ':memory:' style stores use a MemEnv and never fsync */
  readonly env: import('./env/env.js').Env;
  readonly dir: string;
  /** buffer pool budget in bytes (setting `memory_limit`); default 80 % of usable memory (buffer/memory-budget.ts) */
  readonly memoryLimit?: number;
  /** automatic checkpoint when the WAL grows past this many bytes (default 16 MiB) */
  readonly checkpointWalBytes?: number;
  /** rows per Parquet row group (default 122_880) */
  readonly rowGroupSize?: number;
  /** false: skip fsync (tests, ':memory:') */
  readonly durable?: boolean;
  /**
   * Where checkpoints keep the committed metadata (meta entries, tables, segments with zone maps).
   * Absent: inside the manifest JSON (the default; MemEnv tests, ':memory:'). The engine passes a
   * Bε-tree for database directories (storage never imports indexes, so it is injected).
   */
  readonly metadata?: MetadataBackend;
}

/**
 * A durable home for the committed metadata of a store, switched atomically with the manifest.
 * The store hands it flat string entries (layout: `flattenManifest` in segment/manifest.ts) and
 * records in the manifest only what `write` returns (a root, JSON-safe). Runtime reads keep
 * using the store's in-memory maps; this is the durable form only.
 *
 * Protocol (calls are serialized by the store's maintenance lock):
 *   open        `load(record)` → every entry of the checkpoint that recorded `record`.
 *   checkpoint  `write(changes)`: apply `changes` (key → value, undefined = delete; relative to
 *               everything passed to earlier `write`s, failed ones included) SYNCHRONOUSLY before
 *               its first await, then make them durable without touching what the last committed
 *               record reaches (copy-on-write) → the new record; the manifest naming it is
 *               written and switched; then `committed()` (synchronously). A failed write or
 *               manifest switch never calls `committed()`; a later `write` supersedes it.
 */
export interface MetadataBackend {
  load(record: unknown): Promise<Map<string, string>>;
  write(changes: ReadonlyMap<string, string | undefined>): Promise<unknown>;
  committed(): void;
  close(): Promise<void>;
}
