/**
 * The interfaces the SQL stack needs from whoever stores the data (DataFusion's TableProvider,
 * in spirit). packages/engine implements them over storage + indexes + txn; `MemoryCatalog`
 * (catalog/memory-catalog.ts) implements them in memory so the whole SQL stack is testable alone.
 *
 * Contract:
 *  1. A `Catalog` object is bound to one session and its current transaction by the engine: the
 *     SQL stack never sees transactions. Every read through it sees that transaction's snapshot;
 *     every write is that transaction's write (rolled back with it).
 *  2. `TableSource.scan` may ignore `predicates` (they are pruning hints: zone maps, indexes);
 *     the executor always re-applies the full filter. It must honour `columns`.
 *  3. Row ids returned by a scan stay valid for `delete` / `update` within the same statement.
 *  4. Writes raise `DbError` with the SQLSTATE of the violation (23505, 23502, 40001, 40P01, ...).
 *  5. Names arrive already case-folded as PostgreSQL does (unquoted identifiers lower-cased).
 */
import type { ColumnBatch, SqlType } from '@quiverdb/common';

export interface QualifiedName {
  /** undefined = the search path (schema `public`) */
  readonly schema?: string;
  readonly name: string;
}

export interface ColumnDef {
  readonly name: string;
  readonly type: SqlType;
  readonly notNull: boolean;
  /** SQL text of the DEFAULT expression, re-parsed by the SQL stack when used. */
  readonly defaultSql?: string;
}

export interface IndexDef {
  readonly name: string;
  readonly table: string;
  readonly schema?: string;
  /** column positions in the table, in key order */
  readonly columns: readonly number[];
  readonly descending?: readonly boolean[];
  readonly unique: boolean;
  readonly primary: boolean;
  /** 'btree' (default) or 'fractal' */
  readonly method: 'btree' | 'fractal';
}

/** ON DELETE / ON UPDATE actions of a foreign key. */
export type ForeignKeyAction = 'noAction' | 'restrict' | 'cascade' | 'setNull' | 'setDefault';

export interface ForeignKeyDef {
  readonly name?: string;
  /** referencing column positions in this table */
  readonly columns: readonly number[];
  readonly refTable: QualifiedName;
  /** referenced column names; undefined = the referenced table's primary key */
  readonly refColumns?: readonly string[];
  readonly onDelete: ForeignKeyAction;
  readonly onUpdate: ForeignKeyAction;
}

export interface TableDef {
  readonly schema?: string;
  readonly name: string;
  readonly columns: readonly ColumnDef[];
  /** column positions of the primary key, if any */
  readonly primaryKey?: readonly number[];
  /** UNIQUE constraints (column positions) */
  readonly uniques?: readonly (readonly number[])[];
  /** CHECK constraints as SQL text */
  readonly checks?: readonly string[];
  /** FOREIGN KEY ... REFERENCES constraints */
  readonly foreignKeys?: readonly ForeignKeyDef[];
}

export interface ViewDef {
  readonly schema?: string;
  readonly name: string;
  /** SQL text of the defining SELECT */
  readonly sql: string;
  /** explicit column names, if given */
  readonly columnNames?: readonly string[];
}

/** A pruning hint pushed into a scan. Values are in the vector representation of the column type. */
export type ScanPredicate =
  | { readonly kind: 'cmp'; readonly column: number; readonly op: '=' | '<' | '<=' | '>' | '>='; readonly value: unknown }
  | { readonly kind: 'between'; readonly column: number; readonly low: unknown; readonly high: unknown }
  | { readonly kind: 'in'; readonly column: number; readonly values: readonly unknown[] }
  | { readonly kind: 'isNull'; readonly column: number; readonly negated: boolean };

export interface ScanRequest {
  /** table column positions to read, in the order the batch columns come back */
  readonly columns: readonly number[];
  readonly predicates: readonly ScanPredicate[];
  /** also return row ids (for UPDATE / DELETE / row locks) */
  readonly withRowIds: boolean;
  /** SELECT ... FOR UPDATE / FOR SHARE: lock returned rows (engine decides how) */
  readonly lockMode?: 'update' | 'noKeyUpdate' | 'share' | 'keyShare';
  readonly lockWait?: 'wait' | 'nowait' | 'skipLocked';
  /** a limit the caller needs at most (early stop); rows may still be filtered after */
  readonly limitHint?: number;
}

export interface ScanBatch {
  readonly batch: ColumnBatch;
  /** row ids, one per batch row, when `withRowIds` */
  readonly rowIds?: Float64Array;
}

export interface TableStats {
  readonly rowCount: number;
  /** per column, when ANALYZE has run */
  readonly columns?: readonly ({ readonly distinct: number; readonly nullFraction: number; readonly min?: unknown; readonly max?: unknown } | undefined)[];
}

export interface TableSource {
  readonly def: TableDef;
  stats(): TableStats;
  scan(req: ScanRequest): AsyncIterable<ScanBatch>;
  /** Insert rows (all table columns, table order, defaults already applied). Returns rows inserted. */
  insert(batch: ColumnBatch): Promise<number>;
  /** Delete rows by id. Returns how many were deleted (rows already gone to this txn are skipped). */
  delete(rowIds: Float64Array): Promise<number>;
  /**
   * Replace whole rows: `batch` holds all table columns for each row id in order. `assigned`, when
   * given, tells which columns the statement assigned (`assigned[c]`); the others hold each row's
   * old value, so an index on them only keeps its keys (no unique check needed for them).
   */
  update(rowIds: Float64Array, batch: ColumnBatch, assigned?: readonly boolean[]): Promise<number>;
  /** Indexes on this table (for planning). */
  indexes(): readonly IndexDef[];
  /**
   * Optional index access: rows whose index key (prefix) lies in [low, high]. Keys are arrays of
   * values in vector representation; undefined bound = open. Returns row ids in index order.
   */
  indexLookup?(index: string, low: readonly unknown[] | undefined, high: readonly unknown[] | undefined,
    opts: { lowInclusive: boolean; highInclusive: boolean; reverse?: boolean; limit?: number }): Promise<Float64Array>;
  /** Fetch rows by id (after an index lookup). */
  fetch?(rowIds: Float64Array, columns: readonly number[]): Promise<ColumnBatch>;
  /**
   * Optional synchronous point lookup (exec/point-lookup.ts): the rows visible to the statement
   * whose whole key of `index` equals `key` (values in vector representation), as `columns`
   * (one array per column, values in vector representation, NULL → null). undefined when it
   * cannot answer without waiting (a lock to wait for, rows not in memory, SSI tracking, ...):
   * the caller then takes `indexLookup` + `fetch`, which give the same rows.
   */
  lookupKey?(index: string, key: readonly unknown[], columns: readonly number[]): unknown[][] | undefined;
  /**
   * Optional row locks (SELECT ... FOR UPDATE / SHARE, exec/lock-rows.ts): lock the rows in order
   * (waiting, NOWAIT → 55P03, or skipping locked rows); returns the positions (in `rowIds`) locked.
   * Rows left out: skipped, or changed by a concurrent transaction (READ COMMITTED re-check).
   * Without it, rows are not locked (a single-session catalog).
   */
  lockRows?(rowIds: Float64Array, mode: 'update' | 'noKeyUpdate' | 'share' | 'keyShare', wait: 'wait' | 'nowait' | 'skipLocked'): Promise<number[]>;
  /**
   * Optional, for UPDATE / DELETE targets before they are written: the positions of the rows the
   * statement may still change (undefined = all). An engine that re-runs a READ COMMITTED statement
   * after a concurrent update limits the re-run to the rows the first run targeted, so RETURNING
   * lists exactly the rows changed.
   */
  retryFilter?(rowIds: Float64Array): Promise<number[] | undefined>;
}

/**
 * One ALTER TABLE action, resolved by the SQL stack (defaults parsed, USING expressions already
 * applied through ordinary UPDATEs — see exec/alter-table.ts).
 */
export type AlterTableAction =
  /** `missing`: the value existing rows read (the default evaluated once), vector representation */
  | { readonly kind: 'addColumn'; readonly column: ColumnDef; readonly ifNotExists: boolean; readonly missing?: unknown }
  | { readonly kind: 'dropColumn'; readonly name: string; readonly ifExists: boolean; readonly cascade: boolean }
  | { readonly kind: 'renameColumn'; readonly from: string; readonly to: string }
  | { readonly kind: 'renameTable'; readonly to: string }
  /** put column `source` (its data) in place of column `target`, under target's name and position */
  | { readonly kind: 'replaceColumn'; readonly target: string; readonly source: string }
  /**
   * ALTER COLUMN TYPE without a rewrite: column `name` becomes `type` under a new id; rows stored
   * before read `CAST((usingSql) AS type)`, an expression over the columns named in `sources`
   * (the SQL stack already evaluated it over every row), until a background rewrite stores them so.
   */
  | { readonly kind: 'alterColumnType'; readonly name: string; readonly type: SqlType; readonly usingSql: string; readonly sources: readonly string[] }
  | { readonly kind: 'setDefault'; readonly name: string; readonly defaultSql: string | undefined }
  | { readonly kind: 'setNotNull'; readonly name: string; readonly notNull: boolean }
  | { readonly kind: 'addUnique'; readonly name: string | undefined; readonly columns: readonly number[]; readonly primary: boolean }
  | { readonly kind: 'addCheck'; readonly name: string | undefined; readonly checkSql: string }
  | { readonly kind: 'addForeignKey'; readonly fk: ForeignKeyDef }
  | { readonly kind: 'dropConstraint'; readonly name: string; readonly ifExists: boolean };

/** CREATE SEQUENCE options, resolved to PostgreSQL's defaults. */
export interface SequenceDef {
  readonly schema?: string;
  readonly name: string;
  readonly start: bigint;
  readonly increment: bigint;
  readonly min: bigint;
  readonly max: bigint;
  readonly cycle: boolean;
}

export interface Catalog {
  getTable(name: QualifiedName): TableSource | undefined;
  getView(name: QualifiedName): ViewDef | undefined;
  createTable(def: TableDef, opts: { ifNotExists: boolean }): Promise<void>;
  dropTable(name: QualifiedName, opts: { ifExists: boolean; cascade: boolean }): Promise<void>;
  createView(def: ViewDef, opts: { orReplace: boolean }): Promise<void>;
  dropView(name: QualifiedName, opts: { ifExists: boolean }): Promise<void>;
  createIndex(def: IndexDef, opts: { ifNotExists: boolean }): Promise<void>;
  dropIndex(name: QualifiedName, opts: { ifExists: boolean }): Promise<void>;
  /** ALTER TABLE (optional: catalogs without it reject ALTER TABLE with 0A000). */
  alterTable?(name: QualifiedName, action: AlterTableAction): Promise<void>;
  /** Take a table lock of one of PostgreSQL's eight modes for the rest of the transaction (TRUNCATE: ACCESS EXCLUSIVE). */
  lockTable?(name: QualifiedName, mode: 'ACCESS EXCLUSIVE'): Promise<void>;
  /** Names of CHECK constraints, parallel to `TableDef.checks`. */
  checkNames?(name: QualifiedName): readonly string[];
  createSchema?(name: string, opts: { ifNotExists: boolean }): Promise<void>;
  dropSchema?(name: string, opts: { ifExists: boolean; cascade: boolean }): Promise<void>;
  createSequence?(def: SequenceDef, opts: { ifNotExists: boolean }): Promise<void>;
  dropSequence?(name: QualifiedName, opts: { ifExists: boolean }): Promise<void>;
  /** ALTER SEQUENCE ... RESTART [WITH n] */
  restartSequence?(name: QualifiedName, value: bigint | undefined): Promise<void>;
  /** Sequence functions (non-transactional, as in PostgreSQL). */
  nextval?(name: QualifiedName): bigint;
  currval?(name: QualifiedName): bigint;
  setval?(name: QualifiedName, value: bigint, isCalled: boolean): bigint;
  /** PostgreSQL catalog functions over OIDs (regclass_in, pg_get_constraintdef, ...): undefined = unknown here. */
  systemFunction?(name: string, args: readonly unknown[]): unknown;
  /**
   * Optional: a number that changes whenever what this session's statements bind against may
   * have changed (committed DDL); non-finite while the transaction has uncommitted DDL. Lets the
   * SQL stack reuse plans of repeated statements (exec/plan-cache.ts).
   */
  version?(): number;
  /** All tables and views visible to the session (for information_schema). */
  listTables(): readonly TableDef[];
  listViews(): readonly ViewDef[];
}
