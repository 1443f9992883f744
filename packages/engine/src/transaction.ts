/**
 * `EngineTransaction`: one transaction as the engine sees it — its id and snapshot from the
 * transaction manager, its storage write list (through savepoint marks), its pending catalog puts,
 * its savepoints, and the locks it holds.
 *
 * Snapshots: READ COMMITTED takes one per statement; REPEATABLE READ and SERIALIZABLE take one at
 * the first statement and keep it (PostgreSQL takes it at the first statement too, not at BEGIN).
 * A statement whose table lock had to wait restarts on a new snapshot when it may still take one
 * (`RestartStatement`): PostgreSQL locks before it snapshots.
 *
 * Waits: a writer that meets a row of a running transaction waits for that transaction
 * (`waitFor`); the wait also ends when the holder rolls back to a savepoint (the caller re-checks
 * the row). Row locks of SELECT ... FOR UPDATE / SHARE go through the lock manager (`lockRow`), so
 * savepoints release them. lock_timeout is read at each wait. A READ COMMITTED statement re-run
 * after a concurrent update keeps the locks its first run took (`rollbackStatement(..., true)`).
 *
 * Row identity: a row lock is on the row's unique key when it has one, else on its version chain:
 * updates of tables without a primary key record new version → first version
 * (`noteNewVersions`), so locks and the READ COMMITTED re-check follow the row (`rowChainId`).
 *
 * Invariants:
 *  1. `overlay` holds exactly the catalog puts this transaction made since it began (rolled back to
 *     a savepoint's copy together with the store's write list).
 *  2. Savepoint marks are increasing along `#savepoints`.
 *  3. After `commit` or `rollback` the object is finished and must not be used.
 *  4. While a version of a table without a primary key may still be seen by some snapshot,
 *     `rowChainId` maps it to the id of its row's first version (sweeps drop only unreachable ones).
 */
import { ABORTED, DbError, NOT_DELETED, SqlState, isUncommittedStamp, type RowId, type Snapshot, type TableId, type TxnId } from '@quiverdb/common';
import type { QualifiedName } from '@quiverdb/query';
import type { Database } from './database.js';
import { CatalogState, DEFAULT_SCHEMA } from './catalog/catalog-state.js';
import { seqDefKey, seqValueKey } from './catalog/sequences.js';
import { LockTarget, type IsolationLevel as TxnIsolation, type RowLockMode, type TableLockMode, type Transaction } from '@quiverdb/txn';
import type { IndexUndo } from './table/index-registry.js';

export type IsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';

/**
 * Thrown by `lockTable` when a statement's table lock had to wait and the statement may still
 * take a new snapshot (`restartOnLockWait`): the connection undoes the statement, keeping its
 * locks, and runs it again — bind and plan too — on a fresh snapshot and the committed catalog.
 * PostgreSQL takes a statement's table locks while it parses and plans, before its snapshot, so a
 * statement that waited for a TRUNCATE / ALTER / DROP / LOCK TABLE holder sees what it committed.
 * Never escapes to the user.
 */
export class RestartStatement extends Error {
  constructor() {
    super('statement must be restarted after a table lock wait');
  }
}

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
  readonly overlay: ReadonlyMap<string, string | undefined>;
  readonly locks: number;
  readonly catalogChanged: boolean;
  readonly settings: number;
  /** length of `indexUndo` */
  readonly indexUndo: number;
}

interface Savepoint extends Mark {
  readonly name: string;
}

export interface TransactionOptions {
  readonly explicit: boolean;
  readonly isolation: IsolationLevel;
  readonly readOnly: boolean;
  /** SERIALIZABLE READ ONLY DEFERRABLE: the first statement waits for a safe snapshot */
  readonly deferrable?: boolean;
  /** lock_timeout in ms (read at each wait: `SET lock_timeout` applies at once, as in PostgreSQL) */
  readonly lockTimeoutMs: () => number;
  /** the session's deadlock_timeout in ms (the lock manager's choice of a deadlock victim) */
  readonly deadlockTimeoutMs?: () => number;
  /** put a session setting back (SET inside a block is undone by ROLLBACK / ROLLBACK TO, SET LOCAL at the end) */
  readonly revertSetting?: (name: string, value: string) => void;
  /**
   * One read-only statement outside a block (a SELECT without FOR UPDATE / SHARE, not
   * SERIALIZABLE): runs as a virtual transaction (`TransactionManager.beginVirtual`): no id lock,
   * no commit timestamp, no commit work. A sequence it advanced is written by a real transaction
   * at commit; any other write is a bug (InternalError).
   */
  readonly virtual?: boolean;
}

/**
 * Row modes as table modes with the same conflicts among themselves (checked against PostgreSQL's
 * two tables): KEY SHARE–UPDATE; SHARE–NO KEY UPDATE, UPDATE; NO KEY UPDATE–SHARE, itself, UPDATE;
 * UPDATE–all.
 */
const KEY_LOCK_MODES: Readonly<Record<RowLockMode, TableLockMode>> = {
  'FOR KEY SHARE': 'ROW SHARE',
  'FOR SHARE': 'SHARE',
  'FOR NO KEY UPDATE': 'SHARE ROW EXCLUSIVE',
  'FOR UPDATE': 'ACCESS EXCLUSIVE',
};

/**
 * For lock views (pg_locks): a key row lock taken by `lockRow(..., key)` is an object lock named
 * `row <table> <key>` in a table mode; this gives back its table, key and row mode (else undefined).
 */
export function decodeRowKeyLock(objectName: string, mode: string): { table: number; key: string; mode: RowLockMode } | undefined {
  const m = /^row (\d+) (.*)$/s.exec(objectName);
  if (!m) return undefined;
  const rowMode = (Object.keys(KEY_LOCK_MODES) as RowLockMode[]).find((k) => KEY_LOCK_MODES[k] === mode);
  return rowMode ? { table: Number(m[1]), key: m[2]!, mode: rowMode } : undefined;
}

/** The catalog puts of a mark taken before any (never mutated: `#undoTo` copies it). */
const NO_PUTS: ReadonlyMap<string, string | undefined> = new Map();

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
  /** version chains of tables without a primary key, per table (see `noteNewVersions`) */
  readonly chains: Map<TableId, VersionChains>;
}
const registries = new WeakMap<Database, Registry>();
function registryOf(db: Database): Registry {
  let r = registries.get(db);
  if (!r) registries.set(db, (r = { txns: new Map(), rowWaits: new Map(), chains: new Map() }));
  return r;
}

/**
 * Version chains of one table: the row id of an updated row's new version → the row id of the
 * chain's first version (the row's stable identity). Storage keeps no link between versions
 * (an update is a delete + an insert), so without a key the engine records it here. Entries of
 * versions no snapshot can reach any more are swept whenever the map has doubled.
 */
interface VersionChains {
  readonly first: Map<number, number>;
  sweepAt: number;
}
const CHAIN_SWEEP_MIN = 4096;

function sweepChains(db: Database, table: TableId, c: VersionChains): void {
  const horizon = db.txns.oldestActiveStartTs();
  for (const v of c.first.keys()) {
    const st = db.store.rowStamps(table, v);
    const dead = !st || st.insert === ABORTED
      || (st.delete !== NOT_DELETED && st.delete !== ABORTED && !isUncommittedStamp(st.delete) && st.delete < horizon);
    if (dead) c.first.delete(v);
  }
  c.sweepAt = Math.max(CHAIN_SWEEP_MIN, c.first.size * 2);
}

/** For tests: how many version-chain links are kept for a table (bounded by the sweep). */
export function versionChainLinks(db: Database, table: TableId): number {
  return registryOf(db).chains.get(table)?.first.size ?? 0;
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
  readonly deferrable: boolean;
  readonly #lockTimeoutMs: () => number;
  readonly #deadlockTimeoutMs: (() => number) | undefined;
  readonly #revertSetting: ((name: string, value: string) => void) | undefined;
  /** session settings changed inside this block, with their previous values (PostgreSQL undoes them) */
  readonly settingsLog: { readonly name: string; readonly prev: string; readonly local: boolean }[] = [];
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
  get targets(): Map<TableId, Float64Array[]> {
    return (this.#targets ??= new Map());
  }
  set targets(m: Map<TableId, Float64Array[]>) {
    this.#targets = m;
  }
  #targets: Map<TableId, Float64Array[]> | undefined; // created on first use (most statements never write)
  /** the previous run's targets while a statement is re-run (undefined: first run) */
  retryAllowed: Map<TableId, Float64Array[]> | undefined;
  /** cache of `retryAllowed` turned into keys, per table */
  get retryAllowedKeys(): Map<TableId, Set<string>> {
    return (this.#retryAllowedKeys ??= new Map());
  }
  set retryAllowedKeys(m: Map<TableId, Set<string>>) {
    this.#retryAllowedKeys = m;
  }
  #retryAllowedKeys: Map<TableId, Set<string>> | undefined;

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
    this.#retryAllowedKeys = undefined; // fresh empty maps on next use
    this.#targets = undefined;
    this.retryNeeded = false;
  }

  /**
   * Set by the connection while a statement attempt runs that may be restarted: a table lock
   * that has to wait then throws `RestartStatement` once granted, if the statement may still take
   * a new snapshot (`#mayTakeNewSnapshot`).
   */
  restartOnLockWait = false;
  /** `#statements` when `#snapshot` was taken (REPEATABLE READ / SERIALIZABLE: the first statement) */
  #snapshotStatement = -1;

  /** statement_timeout of the running statement: aborts its lock waits (57014) */
  statementSignal: AbortSignal | undefined;
  /** a statement of this transaction is running (wound-wait does not roll it back underneath) */
  inStatement = false;
  /**
   * Set by the connection while a statement runs from its snapshot to the end of its virtual
   * transaction in one synchronous step (Connection #pointRead): its reads check their ACCESS
   * SHARE lock (`canLockTableNow`) instead of taking it, since no other transaction can run — and
   * so conflict with, wait for or see the lock — before it would be released.
   */
  syncStep = false;
  /** catalog puts made by this transaction (key → value, undefined = delete); NO_PUTS until the first */
  get overlay(): ReadonlyMap<string, string | undefined> {
    return this.#overlay;
  }
  #overlay: ReadonlyMap<string, string | undefined> = NO_PUTS;
  catalogChanged = false;
  /** index registry changes of this transaction's DDL, undone by ROLLBACK / ROLLBACK TO */
  readonly indexUndo: IndexUndo[] = [];
  /** set by the first data write (storage insert or delete) */
  wrote = false;
  /** sequences this transaction advanced: their marks are written with its commit */
  get touchedSequences(): Set<string> {
    return (this.#touchedSequences ??= new Set());
  }
  #touchedSequences: Set<string> | undefined; // created on first use
  #snapshot: Snapshot | undefined;
  #statements = 0;
  #savepoints: Savepoint[] = [];
  #catalogCache: CatalogState | undefined;
  #finished = false;
  /** the transaction manager's transaction; begun by the first statement (after SET TRANSACTION) */
  #handle: Transaction | undefined;
  /** `#handle` is (or will be) a virtual transaction (TransactionOptions.virtual) */
  #virtual: boolean;
  readonly #db: Database;

  constructor(db: Database, opts: TransactionOptions) {
    this.#db = db;
    this.explicit = opts.explicit;
    this.isolation = opts.isolation === 'read uncommitted' ? 'read committed' : opts.isolation;
    this.readOnly = opts.readOnly;
    this.deferrable = opts.deferrable ?? false;
    this.#lockTimeoutMs = opts.lockTimeoutMs;
    this.#deadlockTimeoutMs = opts.deadlockTimeoutMs;
    this.#revertSetting = opts.revertSetting;
    this.#virtual = opts.virtual === true && !opts.explicit && this.isolation !== 'serializable';
  }

  get lockTimeoutMs(): number {
    return this.#lockTimeoutMs();
  }

  /** Options of a lock wait: lock_timeout, and deadlock_timeout for the victim choice. */
  #waitOpts(): { timeoutMs: number; deadlockTimeoutMs?: number } {
    const dl = this.#deadlockTimeoutMs?.();
    return dl === undefined ? { timeoutMs: this.lockTimeoutMs } : { timeoutMs: this.lockTimeoutMs, deadlockTimeoutMs: dl };
  }

  /** The transaction manager's transaction, begun on first use. */
  get handle(): Transaction {
    if (!this.#handle && this.#virtual) {
      this.#handle = this.#db.txns.beginVirtual(this.isolation as 'read committed' | 'repeatable read');
    } else if (!this.#handle) {
      this.#handle = this.#db.txns.begin({ isolation: this.isolation as TxnIsolation, readOnly: this.readOnly, deferrable: this.deferrable });
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
    this.#statements++;
    if (this.#snapshot === undefined || this.snapshotPerStatement) {
      this.#snapshot = db.txns.statementSnapshot(this.handle);
      this.#snapshotStatement = this.#statements;
    }
    return this.#mark(db);
  }

  statementEnd(): void {}

  /**
   * `statementStart` for the one statement of a virtual transaction: only the snapshot (no undo
   * mark: an error rolls the whole transaction back). REQUIRES: begun with `virtual`, not SERIALIZABLE.
   */
  startVirtualStatement(db: Database): void {
    if (!this.#virtual) throw new DbError(SqlState.InternalError, 'internal error (this is a bug): not a virtual transaction');
    this.#statements++;
    this.#snapshot = db.txns.statementSnapshot(this.handle);
    this.#snapshotStatement = this.#statements;
  }

  /**
   * May the running statement still move to a new snapshot? READ COMMITTED: always (it is re-run
   * from the start). REPEATABLE READ / SERIALIZABLE: only the statement that took the
   * transaction's snapshot, while SSI tracked nothing under it, and not DEFERRABLE (its snapshot
   * was waited for). A transaction whose snapshot an earlier statement used keeps it.
   */
  #mayTakeNewSnapshot(db: Database): boolean {
    if (this.snapshotPerStatement) return true;
    return !this.deferrable && this.#snapshotStatement === this.#statements && db.txns.canResetSnapshot(this.handle);
  }

  /**
   * After `RestartStatement` (and `rollbackStatement(..., true)` of a statement with a mark): drop
   * the statement's snapshot and its re-check state of this run, so its next start takes a new
   * snapshot. The previous run's READ COMMITTED targets (`retryAllowed`), if any, stay. (Should
   * SSI have tracked work meanwhile, the snapshot stays: the re-run is then as before the wait.)
   */
  prepareRestart(db: Database): void {
    this.#targets = undefined;
    this.retryNeeded = false;
    if (this.snapshotPerStatement) {
      this.#snapshot = undefined;
    } else if (db.txns.canResetSnapshot(this.handle)) {
      db.txns.resetSnapshot(this.handle);
      this.#snapshot = undefined;
    }
  }

  /**
   * SERIALIZABLE READ ONLY DEFERRABLE, first statement: wait until a snapshot is known safe (no
   * read-write serializable transaction that was running can make it part of an anomaly); the
   * transaction then runs without SSI tracking and never fails with 40001, as in PostgreSQL.
   */
  async awaitSafeSnapshot(db: Database): Promise<void> {
    if (this.#snapshot !== undefined || !this.deferrable || !this.readOnly || this.isolation !== 'serializable') return;
    await db.txns.deferrableSnapshot(this.handle);
  }

  /**
   * Undo a statement. `keepLocks`: it is re-run (READ COMMITTED re-check), so its locks stay, as
   * PostgreSQL's EvalPlanQual keeps the row locks it took: the re-run finds its rows still its own
   * (a SKIP LOCKED neighbour cannot take them in between).
   */
  rollbackStatement(db: Database, mark: Mark, keepLocks = false): void {
    this.#undoTo(db, mark, keepLocks);
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
    const overlay = this.#overlay === NO_PUTS ? new Map<string, string | undefined>() : this.#overlay as Map<string, string | undefined>;
    overlay.set(key, value);
    this.#overlay = overlay;
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

  /** Name of the innermost savepoint, if any. */
  innermostSavepoint(): string | undefined {
    return this.#savepoints.at(-1)?.name;
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

  /** The table lock if it can be granted at once, without queueing; false: it would wait (use `lockTable`). */
  tryLockTable(db: Database, table: TableId, mode: TableLockMode): boolean {
    const h = this.handle;
    h.assertCanRun();
    return db.txns.locks.tryAcquire(h.id, LockTarget.table(table), mode);
  }

  /** Would `tryLockTable` grant now? Takes nothing (see `syncStep`). */
  canLockTableNow(db: Database, table: TableId, mode: TableLockMode): boolean {
    const h = this.handle;
    h.assertCanRun();
    return db.txns.locks.wouldGrant(h.id, LockTarget.table(table), mode);
  }

  /**
   * A table lock, waiting if needed. A statement attempt that had to wait restarts on a new
   * snapshot (`RestartStatement`) when it may (`restartOnLockWait`, `#mayTakeNewSnapshot`).
   */
  async lockTable(db: Database, table: TableId, mode: string, nowait = false): Promise<void> {
    if (this.tryLockTable(db, table, mode as TableLockMode)) return;
    await db.txns.lockTable(this.handle, table, mode as TableLockMode, { nowait, ...this.#waitOpts(), ...this.#signalOpt() });
    if (this.restartOnLockWait && !this.#finished && this.#mayTakeNewSnapshot(db)) throw new RestartStatement();
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
      const signal = this.statementSignal ? AbortSignal.any([ctl.signal, this.statementSignal]) : ctl.signal;
      await db.txns.waitForTxn(holder, this.handle, { ...this.#waitOpts(), signal });
    } catch (err) {
      if (err === RECHECK) return;
      throw err;
    } finally {
      set.delete(ctl);
      if (set.size === 0 && reg.rowWaits.get(holder) === set) reg.rowWaits.delete(holder);
    }
  }

  /**
   * Row lock (SELECT ... FOR UPDATE / SHARE, and writers of rows others locked): false = skipped.
   * With `key` (the row's unique key as text) the lock is on the key, so it survives another
   * transaction's non-key update (a new version under FOR KEY SHARE): an object lock whose table
   * modes have the row modes' conflict table (KEY_LOCK_MODES); otherwise on the row's version
   * chain (`rowChainId`: the id of its first version), which survives updates the same way.
   */
  async lockRow(db: Database, table: TableId, row: number, mode: RowLockMode, wait: 'wait' | 'nowait' | 'skipLocked', key?: string): Promise<boolean> {
    // row lock rule: a request compatible with the holders passes waiting requests (PostgreSQL)
    const opts = wait === 'nowait' ? { nowait: true, passWaiters: true } : wait === 'skipLocked' ? { skipLocked: true, passWaiters: true }
      : { ...this.#waitOpts(), ...this.#signalOpt(), passWaiters: true };
    if (key !== undefined) return db.txns.locks.acquire(this.id, LockTarget.object(`row ${table} ${key}`), KEY_LOCK_MODES[mode], opts);
    return db.txns.lockRow(this.handle, table, this.rowChainId(table, row) as RowId, mode, opts);
  }

  /**
   * Did running transaction `writer` change this row without touching its key? True when it holds
   * the row's FOR NO KEY UPDATE lock and not FOR UPDATE (writers of row-locked tables take one or
   * the other, `lockRow` arguments as there): then FOR KEY SHARE need not wait for it (PostgreSQL).
   */
  writerKeptKey(db: Database, table: TableId, row: number, writer: TxnId, key?: string): boolean {
    const locks = db.txns.locks;
    if (key !== undefined) {
      const target = LockTarget.object(`row ${table} ${key}`);
      return locks.holds(writer, target, KEY_LOCK_MODES['FOR NO KEY UPDATE']) && !locks.holds(writer, target, KEY_LOCK_MODES['FOR UPDATE']);
    }
    const target = LockTarget.row(table, this.rowChainId(table, row) as RowId);
    return locks.holds(writer, target, 'FOR NO KEY UPDATE') && !locks.holds(writer, target, 'FOR UPDATE');
  }

  /**
   * An update of a table without a primary key wrote `newIds[i]` as the next version of
   * `oldIds[i]`: record the chain, so row locks and the READ COMMITTED re-check know the new
   * version is the same row (`rowChainId`). Rolled back versions are swept like dead ones.
   */
  noteNewVersions(table: TableId, oldIds: ArrayLike<number>, newIds: ArrayLike<number>): void {
    const reg = registryOf(this.#db);
    let c = reg.chains.get(table);
    if (!c) reg.chains.set(table, (c = { first: new Map(), sweepAt: CHAIN_SWEEP_MIN }));
    for (let i = 0; i < newIds.length; i++) {
      const old = oldIds[i]!;
      c.first.set(newIds[i]!, c.first.get(old) ?? old);
    }
    if (c.first.size >= c.sweepAt) sweepChains(this.#db, table, c);
  }

  /** The stable identity of a row version: the row id of its chain's first version. */
  rowChainId(table: TableId, row: number): number {
    return registryOf(this.#db).chains.get(table)?.first.get(row) ?? row;
  }

  /**
   * Commit: reserve the commit timestamp (SSI check: may throw 40001), make the writes durable
   * (WAL + fsync, shared with concurrent commits), then stamp them synchronously.
   */
  async commit(db: Database): Promise<void> {
    if (this.commitVirtual(db)) return;
    this.#finish();
    for (let i = this.settingsLog.length - 1; i >= 0; i--) {
      const e = this.settingsLog[i]!;
      if (e.local) this.#revertSetting?.(e.name, e.prev);
    }
    const h = this.#handle;
    if (!h) return;
    const sequences = this.#touchedSequences;
    if (sequences !== undefined) {
      for (const key of sequences) {
        if (this.overlay.has(seqDefKey(key)) && this.overlay.get(seqDefKey(key)) === undefined) continue; // dropped here
        const st = db.committedCatalog.sequences.get(key) ?? this.catalog(db).sequences.get(key);
        const mark = st ? db.sequences.stored(db.sequences.state(db, key, st)) : undefined;
        if (mark !== undefined) db.store.metaPut(h.id, seqValueKey(key), mark);
      }
    }
    const wrote = this.wrote || this.catalogChanged || (sequences !== undefined && sequences.size > 0);
    try {
      db.txns.prepareCommit(h);
      // with the open transaction count the WAL runs the fsync at once when nothing could share it
      // or run meanwhile (wal.ts `sync`)
      if (wrote) await db.store.prepareCommit(h.id, { openTxns: db.txns.openCount });
    } catch (err) {
      db.indexes.restore(this.indexUndo, 0);
      db.txns.abort(h, () => db.store.rollback(h.id));
      throw err;
    }
    const ts = db.txns.commit(h, (ts) => {
      if (wrote) db.store.finishCommit(h.id, ts);
      else db.store.rollback(h.id);
      if (this.catalogChanged) db.refreshCatalog();
    });
    // acknowledge only once every earlier-reserved commit is visible too, so this session's
    // next snapshot surely includes its own commit
    await db.txns.whenVisible(ts);
  }

  /**
   * Commit of a virtual transaction, synchronous: true when done. False (nothing done) when it
   * is not virtual, or when it advanced a sequence: its handle is then a real transaction that
   * `commit` writes the sequence marks with.
   */
  commitVirtual(db: Database): boolean {
    const h = this.#handle;
    if (!this.#virtual || this.#finished) return false;
    if (this.wrote || this.catalogChanged) {
      this.rollback(db);
      throw new DbError(SqlState.InternalError, 'internal error (this is a bug): a virtual transaction wrote');
    }
    if (h) db.txns.endVirtual(h, true);
    this.#virtual = false;
    if (this.#touchedSequences !== undefined && this.#touchedSequences.size > 0) {
      this.#handle = db.txns.begin({ isolation: this.isolation as TxnIsolation, readOnly: false });
      return false;
    }
    this.#handle = undefined;
    this.#finish();
    return true;
  }

  rollback(db: Database): void {
    if (this.#finished) return;
    this.#finish();
    this.#revertSettingsTo(0);
    db.indexes.restore(this.indexUndo, 0);
    if (this.#virtual) {
      const v = this.#handle;
      if (v) {
        db.store.rollback(v.id);
        db.txns.endVirtual(v, false);
      }
      return;
    }
    const h = this.#handle;
    if (h) db.txns.abort(h, () => db.store.rollback(h.id));
  }

  #signalOpt(): { signal?: AbortSignal } {
    return this.statementSignal ? { signal: this.statementSignal } : {};
  }

  get finished(): boolean {
    return this.#finished;
  }

  #finish(): void {
    if (this.#finished) throw new DbError(SqlState.InternalError, 'transaction already finished (this is a bug)');
    this.#finished = true;
    if (this.#handle && !this.#virtual) registryOf(this.#db).txns.delete(this.#handle.id);
  }

  #mark(db: Database): Mark {
    return {
      store: db.store.savepoint(this.id),
      overlay: this.overlay.size === 0 ? NO_PUTS : new Map(this.overlay),
      locks: db.txns.locks.mark(this.id),
      catalogChanged: this.catalogChanged,
      settings: this.settingsLog.length,
      indexUndo: this.indexUndo.length,
    };
  }

  #revertSettingsTo(n: number): void {
    for (let i = this.settingsLog.length - 1; i >= n; i--) {
      const e = this.settingsLog[i]!;
      this.#revertSetting?.(e.name, e.prev);
    }
    this.settingsLog.length = n;
  }

  #undoTo(db: Database, m: Mark, keepLocks = false): void {
    this.#revertSettingsTo(m.settings);
    db.indexes.restore(this.indexUndo, m.indexUndo);
    db.store.rollbackTo(this.id, m.store);
    if (!keepLocks) db.txns.locks.releaseSince(this.id, m.locks);
    // rows un-written: wake their waiters so they re-check (they wait again if still taken)
    const waits = registryOf(db).rowWaits.get(this.id);
    if (waits) for (const ctl of [...waits]) ctl.abort(RECHECK);
    this.#overlay = m.overlay.size === 0 ? NO_PUTS : new Map(m.overlay);
    this.catalogChanged = m.catalogChanged;
    this.#catalogCache = undefined;
  }

  #findSavepoint(name: string): number {
    for (let i = this.#savepoints.length - 1; i >= 0; i--) if (this.#savepoints[i]!.name === name) return i;
    throw new DbError(SqlState.InvalidSavepointSpecification, `savepoint "${name}" does not exist`);
  }
}
