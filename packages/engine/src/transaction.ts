/**
 * `EngineTransaction`: one transaction as the engine sees it — its id and snapshot from the
 * transaction manager, its storage write list (through savepoint marks), its pending catalog puts,
 * its savepoints, and the locks it holds.
 *
 * Snapshots: READ COMMITTED takes one per statement; REPEATABLE READ and SERIALIZABLE take one at
 * the first statement and keep it (PostgreSQL takes it at the first statement too, not at BEGIN).
 *
 * Invariants:
 *  1. `overlay` holds exactly the catalog puts this transaction made since it began (rolled back to
 *     a savepoint's copy together with the store's write list).
 *  2. Savepoint marks are increasing along `#savepoints`.
 *  3. After `commit` or `rollback` the object is finished and must not be used.
 */
import { DbError, SqlState, type RowId, type Snapshot, type TableId, type TxnId } from '@quiverdb/common';
import type { QualifiedName } from '@quiverdb/query';
import type { Database } from './database.js';
import { CatalogState, DEFAULT_SCHEMA } from './catalog/catalog-state.js';
import { seqDefKey, seqValueKey } from './catalog/sequences.js';
import type { IsolationLevel as TxnIsolation, RowLockMode, TableLockMode, Transaction } from '@quiverdb/txn';

export type IsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';

/**
 * Thrown inside a READ COMMITTED statement that met a row changed by a transaction that committed
 * after the statement's snapshot: the connection undoes the statement and runs it again on a fresh
 * snapshot. Never escapes to the user.
 */
export class RetryStatement extends Error {
  constructor() {
    super('statement must be retried on a newer snapshot');
  }
}

interface Mark {
  readonly store: number;
  readonly overlay: Map<string, string | undefined>;
  readonly locks: number;
  readonly catalogChanged: boolean;
}

interface Savepoint extends Mark {
  readonly name: string;
}

export interface TransactionOptions {
  readonly explicit: boolean;
  readonly isolation: IsolationLevel;
  readonly readOnly: boolean;
  /** lock_timeout in ms (read at each wait: `SET lock_timeout` applies at once, as in PostgreSQL) */
  readonly lockTimeoutMs: () => number;
}

/** Rejection reason of a row wait cut short because the holder rolled back to a savepoint. */
const RECHECK = new DbError(SqlState.LockNotAvailable, 'row wait interrupted for a re-check (never escapes)');

/**
 * Per database: the engine transactions by id (wound-wait aborts them) and the row waits per
 * holder (woken when the holder rolls back to a savepoint: the rows it un-wrote are free, as a
 * PostgreSQL waiter on an aborted subtransaction's xid wakes up).
 */
interface Registry {
  readonly txns: Map<TxnId, EngineTransaction>;
  readonly rowWaits: Map<TxnId, Set<AbortController>>;
}
const registries = new WeakMap<Database, Registry>();
function registryOf(db: Database): Registry {
  let r = registries.get(db);
  if (!r) registries.set(db, (r = { txns: new Map(), rowWaits: new Map() }));
  return r;
}

/** The running engine transaction with this id (for wound-wait). */
export function engineTransactionOf(db: Database, id: TxnId): EngineTransaction | undefined {
  return registryOf(db).txns.get(id);
}

export class EngineTransaction {
  readonly explicit: boolean;
  readonly startTime = new Date();
  isolation: IsolationLevel;
  readOnly: boolean;
  readonly #lockTimeoutMs: () => number;
  failed = false;
  /** set when the transaction was aborted from outside (wound-wait): the next statement reports it */
  abortedBy: DbError | undefined;
  /**
   * READ COMMITTED re-check (PostgreSQL's EvalPlanQual, emulated): a statement that meets a row
   * changed by a transaction that committed after its snapshot skips the row, runs to its end,
   * and is then re-run on a new snapshot (`retryNeeded`). The re-run may only change rows whose
   * key (first unique index; else the row id) the previous run targeted (`retryAllowed`), so a
   * row that only now matches the WHERE clause is left alone, as in PostgreSQL.
   */
  retryNeeded = false;
  /** row ids the running statement targeted (delete / update), per table: READ COMMITTED only */
  targets = new Map<TableId, number[]>();
  /** the previous run's targets while a statement is re-run (undefined: first run) */
  retryAllowed: Map<TableId, number[]> | undefined;
  /** cache of `retryAllowed` turned into keys, per table */
  retryAllowedKeys = new Map<TableId, Set<string>>();

  /** The statement will be re-run: its targets become the re-run's allowed rows. */
  prepareRetry(): void {
    this.retryAllowed = this.targets;
    this.retryAllowedKeys = new Map();
    this.targets = new Map();
    this.retryNeeded = false;
  }

  /** The statement is over (success or error): forget its re-check state. */
  endRetry(): void {
    this.retryAllowed = undefined;
    this.retryAllowedKeys = new Map();
    this.targets = new Map();
    this.retryNeeded = false;
  }

  /** a statement of this transaction is running (wound-wait does not roll it back underneath) */
  inStatement = false;
  /** SELECT ... FOR UPDATE / SHARE of the running statement: the row lock its reads take */
  rowLock: { readonly mode: RowLockMode; readonly wait: 'wait' | 'nowait' | 'skipLocked' } | undefined;
  /** catalog puts made by this transaction (key → value, undefined = delete) */
  overlay = new Map<string, string | undefined>();
  catalogChanged = false;
  /** set by the first data write (storage insert or delete) */
  wrote = false;
  /** sequences this transaction advanced: their marks are written with its commit */
  readonly touchedSequences = new Set<string>();
  #snapshot: Snapshot | undefined;
  #statements = 0;
  #savepoints: Savepoint[] = [];
  #catalogCache: CatalogState | undefined;
  #finished = false;
  /** the transaction manager's transaction; begun by the first statement (after SET TRANSACTION) */
  #handle: Transaction | undefined;
  readonly #db: Database;

  constructor(db: Database, opts: TransactionOptions) {
    this.#db = db;
    this.explicit = opts.explicit;
    this.isolation = opts.isolation === 'read uncommitted' ? 'read committed' : opts.isolation;
    this.readOnly = opts.readOnly;
    this.#lockTimeoutMs = opts.lockTimeoutMs;
  }

  get lockTimeoutMs(): number {
    return this.#lockTimeoutMs();
  }

  /** The transaction manager's transaction, begun on first use. */
  get handle(): Transaction {
    if (!this.#handle) {
      this.#handle = this.#db.txns.begin({ isolation: this.isolation as TxnIsolation, readOnly: this.readOnly });
      registryOf(this.#db).txns.set(this.#handle.id, this);
    }
    return this.#handle;
  }

  get id(): TxnId {
    return this.handle.id;
  }

  get snapshotPerStatement(): boolean {
    return this.isolation === 'read committed';
  }

  /** The snapshot reads of the current statement use. */
  get snapshot(): Snapshot {
    if (!this.#snapshot) throw new DbError(SqlState.InternalError, 'no snapshot outside a statement (this is a bug)');
    return this.#snapshot;
  }

  setCharacteristics(isolation: IsolationLevel | undefined, readOnly: boolean | undefined): void {
    if ((this.#statements > 0 || this.#handle) && isolation !== undefined && isolation !== this.isolation) {
      throw new DbError(SqlState.ActiveSqlTransaction, 'SET TRANSACTION ISOLATION LEVEL must be called before any query');
    }
    if (isolation !== undefined) {
      this.isolation = isolation === 'read uncommitted' ? 'read committed' : isolation;
    }
    if (readOnly !== undefined) this.readOnly = readOnly;
  }

  /** Begin a statement: take the snapshot it reads with, and a mark to undo it alone. */
  statementStart(db: Database): Mark {
    if (this.#snapshot === undefined || this.snapshotPerStatement) {
      this.#snapshot = db.txns.statementSnapshot(this.handle);
    }
    this.#statements++;
    return this.#mark(db);
  }

  statementEnd(): void {}

  rollbackStatement(db: Database, mark: Mark): void {
    this.#undoTo(db, mark);
    if (this.snapshotPerStatement) this.#snapshot = undefined;
  }

  /** The catalog as this transaction sees it: committed state plus its own DDL. */
  catalog(db: Database): CatalogState {
    if (this.overlay.size === 0) return db.committedCatalog;
    if (!this.#catalogCache) this.#catalogCache = CatalogState.build(db.store.metaEntries(), this.overlay);
    return this.#catalogCache;
  }

  metaPut(db: Database, key: string, value: string | undefined): void {
    db.store.metaPut(this.id, key, value);
    this.overlay.set(key, value);
    this.catalogChanged = true;
    this.#catalogCache = undefined;
  }

  savepoint(db: Database, name: string): void {
    this.#savepoints.push({ name, ...this.#mark(db) });
  }

  release(name: string): void {
    const i = this.#findSavepoint(name);
    this.#savepoints.length = i;
  }

  rollbackToSavepoint(db: Database, name: string): void {
    const i = this.#findSavepoint(name);
    const sp = this.#savepoints[i]!;
    this.#undoTo(db, sp);
    this.#savepoints.length = i + 1;
    this.failed = false;
  }

  async lockTables(db: Database, tables: readonly QualifiedName[], mode: string, nowait: boolean): Promise<void> {
    for (const t of tables) {
      const meta = this.catalog(db).table(t.schema ?? DEFAULT_SCHEMA, t.name);
      if (!meta) throw new DbError(SqlState.UndefinedTable, `relation "${t.name}" does not exist`);
      await this.lockTable(db, meta.id, mode, nowait);
    }
  }

  async lockTable(db: Database, table: TableId, mode: string, nowait = false): Promise<void> {
    await db.txns.lockTable(this.handle, table, mode as TableLockMode, { nowait, timeoutMs: this.lockTimeoutMs });
  }

  /**
   * Wait until `holder` ends (a row it wrote is in our way); deadlocks surface as 40P01, lock_timeout
   * as 55P03. Also returns early when the holder rolls back to a savepoint: the caller re-checks
   * the row (and waits again if it is still taken).
   */
  async waitFor(db: Database, holder: TxnId): Promise<void> {
    const reg = registryOf(db);
    const ctl = new AbortController();
    let set = reg.rowWaits.get(holder);
    if (!set) reg.rowWaits.set(holder, (set = new Set()));
    set.add(ctl);
    try {
      await db.txns.waitForTxn(holder, this.handle, { timeoutMs: this.lockTimeoutMs, signal: ctl.signal });
    } catch (err) {
      if (err === RECHECK) return;
      throw err;
    } finally {
      set.delete(ctl);
      if (set.size === 0 && reg.rowWaits.get(holder) === set) reg.rowWaits.delete(holder);
    }
  }

  /** Row lock (SELECT ... FOR UPDATE / SHARE, and writers of rows others locked): false = skipped. */
  async lockRow(db: Database, table: TableId, row: number, mode: RowLockMode, wait: 'wait' | 'nowait' | 'skipLocked'): Promise<boolean> {
    const opts = wait === 'nowait' ? { nowait: true } : wait === 'skipLocked' ? { skipLocked: true } : { timeoutMs: this.lockTimeoutMs };
    return db.txns.lockRow(this.handle, table, row as RowId, mode, opts);
  }

  /**
   * Commit: reserve the commit timestamp (SSI check: may throw 40001), make the writes durable
   * (WAL + fsync, shared with concurrent commits), then stamp them synchronously.
   */
  async commit(db: Database): Promise<void> {
    this.#finish();
    const h = this.#handle;
    if (!h) return;
    for (const key of this.touchedSequences) {
      if (this.overlay.has(seqDefKey(key)) && this.overlay.get(seqDefKey(key)) === undefined) continue; // dropped here
      const st = db.committedCatalog.sequences.get(key) ?? this.catalog(db).sequences.get(key);
      const mark = st ? db.sequences.stored(db.sequences.state(db, key, st)) : undefined;
      if (mark !== undefined) db.store.metaPut(h.id, seqValueKey(key), mark);
    }
    const wrote = this.wrote || this.catalogChanged || this.touchedSequences.size > 0;
    try {
      db.txns.prepareCommit(h);
      if (wrote) await db.store.prepareCommit(h.id);
    } catch (err) {
      db.txns.abort(h, () => db.store.rollback(h.id));
      throw err;
    }
    db.txns.commit(h, (ts) => {
      if (wrote) db.store.finishCommit(h.id, ts);
      else db.store.rollback(h.id);
      if (this.catalogChanged) db.refreshCatalog();
    });
  }

  rollback(db: Database): void {
    if (this.#finished) return;
    this.#finish();
    const h = this.#handle;
    if (h) db.txns.abort(h, () => db.store.rollback(h.id));
  }

  get finished(): boolean {
    return this.#finished;
  }

  #finish(): void {
    if (this.#finished) throw new DbError(SqlState.InternalError, 'transaction already finished (this is a bug)');
    this.#finished = true;
    if (this.#handle) registryOf(this.#db).txns.delete(this.#handle.id);
  }

  #mark(db: Database): Mark {
    return {
      store: db.store.savepoint(this.id),
      overlay: new Map(this.overlay),
      locks: db.txns.locks.mark(this.id),
      catalogChanged: this.catalogChanged,
    };
  }

  #undoTo(db: Database, m: Mark): void {
    db.store.rollbackTo(this.id, m.store);
    db.txns.locks.releaseSince(this.id, m.locks);
    // rows un-written: wake their waiters so they re-check (they wait again if still taken)
    const waits = registryOf(db).rowWaits.get(this.id);
    if (waits) for (const ctl of [...waits]) ctl.abort(RECHECK);
    this.overlay = new Map(m.overlay);
    this.catalogChanged = m.catalogChanged;
    this.#catalogCache = undefined;
  }

  #findSavepoint(name: string): number {
    for (let i = this.#savepoints.length - 1; i >= 0; i--) if (this.#savepoints[i]!.name === name) return i;
    throw new DbError(SqlState.InvalidSavepointSpecification, `savepoint "${name}" does not exist`);
  }
}
