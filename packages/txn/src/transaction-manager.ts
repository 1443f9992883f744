/**
 * The transaction manager: transaction ids, the logical commit clock, snapshots, commit / abort,
 * the GC horizon, waiting for another transaction, savepoints; it owns the `LockManager` and the
 * `SsiTracker`.
 *
 * Clock. Commit timestamps are small integers (< TXN_ID_START), ids start at TXN_ID_START.
 *   `prepareCommit(txn)` runs the SSI commit check and RESERVES the next timestamp; the engine
 *   then makes the commit durable (WAL) and calls `commit(txn, stamp)`, which stamps the versions
 *   (through `stamp(ts)`, synchronously, before any lock is released or any waiter wakes).
 *   The SNAPSHOT BOUNDARY is the smallest reserved-but-unfinished timestamp, or last + 1 when none
 *   is pending; a new snapshot gets startTs = boundary, so it sees exactly the commits that have
 *   finished with a smaller timestamp, and a commit that finishes later can never appear inside a
 *   snapshot already taken (its ts >= that snapshot's startTs). Commit order = timestamp order =
 *   prepare order, which SSI relies on.
 *
 * Engine protocol (one paragraph in the README has the full sequence):
 *   const txn = tm.begin({ isolation, readOnly });
 *   per statement: txn.assertCanRun(); const snap = tm.statementSnapshot(txn);
 *   writer meets a row of a running txn H:  await tm.waitForTxn(H, txn, { timeoutMs })  then retry
 *   commit:  tm.prepareCommit(txn);                       // may throw 40001 (then abort)
 *            await store.prepareCommit(txn.id);           // WAL + fsync
 *            const ts = tm.commit(txn, (ts) => store.finishCommit(txn.id, ts));
 *            await tm.whenVisible(ts);                    // then acknowledge COMMIT
 *   abort:   tm.abort(txn, () => store.rollback(txn.id));
 *
 * Invariants (checked by `checkInvariants()`):
 *  1. Ids are >= TXN_ID_START and increase; timestamps are < TXN_ID_START and increase.
 *  2. Every open or committing transaction is in `#open` and holds EXCLUSIVE on its own id lock;
 *     finished ones are in neither. Virtual transactions (read-only statements, `beginVirtual`)
 *     are in `#virtual` only, hold no id lock, are never serializable and never commit with a ts.
 *  3. The pending set is exactly the commitTs of transactions in state committing.
 *  4. A repeatable read / serializable snapshot never changes once taken, except by
 *     `resetSnapshot` before the transaction read or wrote anything SSI tracks (and by
 *     `deferrableSnapshot`); every snapshot's startTs <= boundary at the time it is handed out.
 *
 * Concurrency: single JS thread. All methods except `waitForTxn`, `deferrableSnapshot` and
 * `whenVisible` are synchronous; between a reservation (prepareCommit) and `commit` other sessions
 * run freely.
 */
import type { Snapshot, TableId, RowId, Timestamp, TxnId } from '@quiverdb/common';
import { DbError, SqlState, TXN_ID_START, invariant, timestamp, txnId } from '@quiverdb/common';
import { LockManager, type AcquireOptions, type DeadlockPrevention } from './lock-manager.js';
import type { RowLockMode, TableLockMode } from './lock-mode.js';
import { LockTarget } from './lock-target.js';
import type { Savepoint } from './savepoint-stack.js';
import { SsiTracker, type SsiOptions } from './ssi-tracker.js';
import { normalizeIsolation, Transaction, type IsolationLevel, type IsolationLevelInput, type SavepointMarks } from './transaction.js';

export interface TransactionManagerOptions {
  deadlockPrevention?: DeadlockPrevention;
  /** deadlock_timeout (ms) for the periodic re-check. Default 1000. */
  deadlockTimeoutMs?: number;
  /** wound-wait wounded this running transaction: the owner must abort it (called in a microtask). */
  onWound?: (txn: Transaction) => void;
  /** default_transaction_isolation. Default 'read committed'. */
  defaultIsolation?: IsolationLevelInput;
  ssi?: Omit<SsiOptions, 'snapshotFloor'>;
  /** highest commit ts recovered (the clock restarts above it) */
  recoveredTs?: Timestamp;
}

export interface BeginOptions {
  isolation?: IsolationLevelInput;
  readOnly?: boolean;
  deferrable?: boolean;
}

export class TransactionManager {
  readonly locks: LockManager;
  readonly ssi: SsiTracker;
  #nextId = TXN_ID_START;
  #lastTs = 0;
  readonly #pending = new Set<number>();
  readonly #open = new Map<TxnId, Transaction>();
  /**
   * running virtual transactions (`beginVirtual`): only their snapshots matter (GC horizon). An
   * array, not a map: it goes from empty to one entry and back on every statement.
   */
  readonly #virtual: Transaction[] = [];
  /** `whenVisible` waiters: resolve once the snapshot boundary passes their timestamp */
  #visibilityWaiters: { ts: number; resolve: () => void }[] = [];
  #defaultIsolation: IsolationLevel;
  /** counters for metrics */
  readonly stats = { begun: 0, committed: 0, aborted: 0 };

  constructor(opts: TransactionManagerOptions = {}) {
    this.locks = new LockManager({
      deadlockPrevention: opts.deadlockPrevention,
      deadlockTimeoutMs: opts.deadlockTimeoutMs,
      onWound: (id) => {
        const t = this.#open.get(id);
        // a committing transaction is past the point of no return: it finishes and releases soon
        if (t && t.state !== 'committing' && opts.onWound) opts.onWound(t);
      },
    });
    this.ssi = new SsiTracker({ ...opts.ssi, snapshotFloor: () => this.snapshotBoundary() });
    this.#defaultIsolation = normalizeIsolation(opts.defaultIsolation ?? 'read committed');
    if (opts.recoveredTs !== undefined) this.restoreClock(opts.recoveredTs);
  }

  get defaultIsolation(): IsolationLevel { return this.#defaultIsolation; }
  set defaultIsolation(level: string) { this.#defaultIsolation = normalizeIsolation(level); }

  /** Start a transaction. Its snapshot is taken by the first `statementSnapshot` call. */
  begin(opts: BeginOptions = {}): Transaction {
    const isolation = normalizeIsolation(opts.isolation ?? this.#defaultIsolation);
    const id = txnId(this.#nextId++);
    invariant(id < Number.MAX_SAFE_INTEGER, 'transaction ids exhausted');
    const txn = new Transaction(id, isolation, opts.readOnly ?? false, opts.deferrable ?? false);
    this.#open.set(id, txn);
    const ok = this.locks.tryAcquire(id, LockTarget.transaction(id), 'EXCLUSIVE');
    invariant(ok, 'fresh transaction id already locked');
    this.stats.begun++;
    return txn;
  }

  /**
   * A virtual transaction (PostgreSQL's virtual xid) for one read-only statement outside a
   * transaction block: an id from the same counter (lock-manager ages stay ordered) and a
   * snapshot, but no id lock (nobody waits for a transaction that writes nothing), no commit
   * timestamp, no SSI tracking (so never SERIALIZABLE). It may take locks (a reader's ACCESS
   * SHARE) and its snapshot holds back the GC horizon. It must never write. End it with
   * `endVirtual`.
   */
  beginVirtual(isolation: 'read committed' | 'repeatable read'): Transaction {
    const id = txnId(this.#nextId++);
    const txn = new Transaction(id, isolation, true, false);
    this.#virtual.push(txn);
    this.stats.begun++;
    return txn;
  }

  /** End a virtual transaction: release its locks (counted as a commit, or an abort). */
  endVirtual(txn: Transaction, committed = true): void {
    const i = this.#virtual.lastIndexOf(txn);
    if (i < 0) return;
    const last = this.#virtual.pop()!;
    if (i < this.#virtual.length) this.#virtual[i] = last;
    txn._setState(committed ? 'committed' : 'aborted');
    this.locks.releaseAll(txn.id);
    if (committed) this.stats.committed++;
    else this.stats.aborted++;
  }

  /**
   * The snapshot for the statement about to run: a fresh one per statement at READ COMMITTED,
   * the transaction's single snapshot (taken now if this is its first statement) otherwise.
   * REQUIRES: txn open.
   */
  statementSnapshot(txn: Transaction): Snapshot {
    invariant(txn.isOpen, 'statementSnapshot on a finished transaction');
    if (txn.usesTransactionSnapshot && txn.snapshot) return txn.snapshot;
    const snap: Snapshot = { txnId: txn.id, startTs: this.snapshotBoundary() };
    txn._setSnapshot(snap);
    if (txn.isSerializable) this.ssi.register(txn);
    return snap;
  }

  /**
   * Can `resetSnapshot` drop this transaction's snapshot? Always at READ COMMITTED; at repeatable
   * read / serializable while SSI tracked nothing under it (no read, write or conflict edge).
   */
  canResetSnapshot(txn: Transaction): boolean {
    return !txn.isSerializable || this.ssi.canUnregister(txn);
  }

  /**
   * Drop the transaction's snapshot: the next `statementSnapshot` takes a new one. For the engine's
   * restart of a statement whose table lock had to wait (PostgreSQL locks a statement's tables
   * before it takes the snapshot, so a waiter sees what the lock holder committed); at repeatable
   * read / serializable only while the first snapshot-taking statement runs, its work undone.
   * REQUIRES: `canResetSnapshot(txn)`.
   */
  resetSnapshot(txn: Transaction): void {
    invariant(this.canResetSnapshot(txn), 'resetSnapshot of a transaction SSI tracked work for');
    if (txn.isSerializable) this.ssi.unregister(txn);
    txn._clearSnapshot();
  }

  /**
   * SET TRANSACTION ISOLATION LEVEL ... / READ ONLY / READ WRITE / [NOT] DEFERRABLE: only before
   * the first statement took a snapshot (25001 afterwards, as PostgreSQL).
   */
  setCharacteristics(txn: Transaction, opts: BeginOptions): void {
    txn.assertCanRun();
    if (txn.snapshot !== undefined && opts.isolation !== undefined && normalizeIsolation(opts.isolation) !== txn.isolation) {
      throw new DbError(SqlState.ActiveSqlTransaction, 'SET TRANSACTION ISOLATION LEVEL must be called before any query');
    }
    if (txn.snapshot !== undefined && opts.readOnly === false && txn.readOnly && txn.isSerializable) {
      throw new DbError(SqlState.ActiveSqlTransaction, 'transaction read-write mode must be set before any query');
    }
    txn._setCharacteristics(
      opts.isolation !== undefined ? normalizeIsolation(opts.isolation) : txn.isolation,
      opts.readOnly ?? txn.readOnly,
      opts.deferrable ?? txn.deferrable,
    );
  }

  /**
   * The first snapshot of a SERIALIZABLE READ ONLY DEFERRABLE transaction: waits until a snapshot
   * is known safe (no SSI tracking needed, never a 40001), taking a new one whenever the current
   * one turns out unsafe. Other transactions get `statementSnapshot` at once.
   */
  async deferrableSnapshot(txn: Transaction, signal?: AbortSignal): Promise<Snapshot> {
    for (;;) {
      const snap = this.statementSnapshot(txn);
      if (!(txn.isSerializable && txn.readOnly && txn.deferrable)) return snap;
      const safety = await this.ssi.whenSafetyKnown(txn);
      if (signal?.aborted) throw new DbError(SqlState.QueryCanceled, 'canceling statement due to user request');
      if (safety !== 'unsafe') return snap;
      this.ssi.unregister(txn);
      txn._clearSnapshot();
      // let other sessions run (pending commits finish) before the next try: never spin in microtasks
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /**
   * The statement finished. At READ COMMITTED its snapshot is dropped, so an idle transaction does
   * not hold back the GC horizon (repeatable read / serializable keep theirs).
   */
  statementDone(txn: Transaction): void {
    if (!txn.usesTransactionSnapshot && txn.isOpen) txn._clearSnapshot();
  }

  /**
   * Resolves once commit `ts` is inside new snapshots (no earlier reservation still pending).
   * The engine awaits it before acknowledging COMMIT, so a session always sees its own commits
   * even when an earlier-reserved commit finishes later.
   */
  whenVisible(ts: Timestamp): Promise<void> {
    if (this.snapshotBoundary() > ts) return Promise.resolve();
    return new Promise((resolve) => this.#visibilityWaiters.push({ ts, resolve }));
  }

  #wakeVisibilityWaiters(): void {
    if (this.#visibilityWaiters.length === 0) return;
    const b = this.snapshotBoundary();
    const still: { ts: number; resolve: () => void }[] = [];
    for (const w of this.#visibilityWaiters) {
      if (b > w.ts) w.resolve();
      else still.push(w);
    }
    this.#visibilityWaiters = still;
  }

  /** Commits with a timestamp below this are finished; new snapshots start here. */
  snapshotBoundary(): Timestamp {
    let b = this.#lastTs + 1;
    for (const p of this.#pending) if (p < b) b = p;
    return timestamp(b);
  }

  /** The highest commit timestamp handed out so far. */
  currentTs(): Timestamp {
    return timestamp(this.#lastTs);
  }

  /** Reserve the next commit timestamp (pending until `commit` / `abort`). Used by prepareCommit. */
  nextCommitTs(): Timestamp {
    const ts = ++this.#lastTs;
    invariant(ts < TXN_ID_START, 'commit timestamps exhausted');
    this.#pending.add(ts);
    return timestamp(ts);
  }

  /**
   * Commit check + timestamp reservation; after it the transaction is `committing` and cannot be
   * chosen as an SSI victim. Throws 40001 (SSI) — the caller must then `abort` it — or 25P02 if
   * the transaction is failed. REQUIRES: txn active.
   */
  prepareCommit(txn: Transaction): Timestamp {
    txn.assertCanRun();
    if (this.locks.isWounded(txn.id)) {
      throw new DbError(SqlState.DeadlockDetected, 'transaction aborted by wound-wait: an older transaction needs its locks');
    }
    this.ssi.prepare(txn, timestamp(this.#lastTs + 1));
    const ts = this.nextCommitTs();
    txn._setCommitTs(ts);
    txn._setState('committing');
    return ts;
  }

  /**
   * Finish a commit: `stamp(ts)` runs first (make the versions carry `ts`), then SSI state, locks
   * and waiters are released. Calls `prepareCommit` itself if the engine did not.
   */
  commit(txn: Transaction, stamp?: (ts: Timestamp) => void): Timestamp {
    if (txn.state !== 'committing') this.prepareCommit(txn);
    const ts = txn.commitTs!;
    stamp?.(ts);
    txn._setState('committed');
    this.#pending.delete(ts);
    this.#wakeVisibilityWaiters();
    this.#open.delete(txn.id);
    this.ssi.onEnd(txn, true);
    this.locks.releaseAll(txn.id);
    this.stats.committed++;
    return ts;
  }

  /**
   * Roll back: `undo()` runs first (storage rollback), then SSI state, locks and waiters are
   * released. Idempotent on aborted transactions. REQUIRES: not committed.
   */
  abort(txn: Transaction, undo?: () => void): void {
    if (txn.state === 'aborted') return;
    invariant(txn.state !== 'committed', 'abort of a committed transaction');
    const ts = txn.commitTs;
    undo?.();
    if (ts !== undefined) {
      this.#pending.delete(ts);
      this.#wakeVisibilityWaiters();
    }
    txn._setCommitTs(undefined);
    txn._setState('aborted');
    txn.savepoints.clear();
    this.#open.delete(txn.id);
    this.ssi.onEnd(txn, false);
    this.locks.releaseAll(txn.id);
    this.stats.aborted++;
  }

  /**
   * The GC horizon: no running transaction can see versions deleted by commits below it.
   * = min(snapshot boundary, startTs of every open transaction's current snapshot).
   */
  oldestActiveStartTs(): Timestamp {
    let h: number = this.snapshotBoundary();
    for (const t of this.#open.values()) {
      const s = t.snapshot;
      if (s && s.startTs < h) h = s.startTs;
    }
    for (const t of this.#virtual) {
      const s = t.snapshot;
      if (s && s.startTs < h) h = s.startTs;
    }
    return timestamp(h);
  }

  /**
   * Wait until transaction `holder` ends (commits or aborts), as `waiter`: a SHARE request on the
   * holder's id lock, so the wait is in the wait-for graph (deadlocks: 40P01), honours
   * lock_timeout (55P03) and cancellation. Resolves at once if `holder` already ended.
   */
  async waitForTxn(holder: TxnId, waiter: Transaction, opts: AcquireOptions = {}): Promise<void> {
    invariant(holder !== waiter.id, 'a transaction cannot wait for itself');
    waiter.assertCanRun();
    if (!this.#open.has(holder)) return;
    const target = LockTarget.transaction(holder);
    const granted = await this.locks.acquire(waiter.id, target, 'SHARE', opts);
    if (granted) this.locks.release(waiter.id, target, 'SHARE');
    else throw new DbError(SqlState.LockNotAvailable, `could not wait for transaction ${holder}`);
  }

  /** How many transactions are open (running, failed or committing); virtual ones not counted. */
  get openCount(): number {
    return this.#open.size;
  }

  /** Is the transaction with this id still open (running, failed or committing)? */
  isRunning(id: TxnId): boolean {
    return this.#open.has(id);
  }

  get(id: TxnId): Transaction | undefined {
    return this.#open.get(id);
  }

  openTransactions(): Transaction[] {
    return [...this.#open.values()];
  }

  /** After recovery: continue the clock above the highest recovered commit timestamp. */
  restoreClock(ts: Timestamp): void {
    invariant(ts < TXN_ID_START, 'recovered timestamp in the txn id range');
    if (ts > this.#lastTs) this.#lastTs = ts;
  }

  // ---- convenience lock calls --------------------------------------------------------------

  /** LOCK TABLE / implicit statement locks. REQUIRES: txn active (else 25P02 / 25000). */
  lockTable(txn: Transaction, table: TableId, mode: TableLockMode, opts?: AcquireOptions): Promise<boolean> {
    try { txn.assertCanRun(); } catch (e) { return Promise.reject(e); }
    return this.locks.acquire(txn.id, LockTarget.table(table), mode, opts);
  }

  /** SELECT ... FOR UPDATE / SHARE ..., UPDATE, DELETE. REQUIRES: txn active. */
  lockRow(txn: Transaction, table: TableId, row: RowId, mode: RowLockMode, opts?: AcquireOptions): Promise<boolean> {
    try { txn.assertCanRun(); } catch (e) { return Promise.reject(e); }
    return this.locks.acquire(txn.id, LockTarget.row(table, row), mode, opts);
  }

  // ---- savepoints --------------------------------------------------------------------------

  /** SAVEPOINT name: remembers the lock mark and the engine's own marks. REQUIRES: txn active. */
  savepoint(txn: Transaction, name: string, engine?: unknown): Savepoint<SavepointMarks> {
    txn.assertCanRun();
    return txn.savepoints.push(name, { lockMark: this.locks.mark(txn.id), engine });
  }

  /**
   * ROLLBACK TO name: releases locks taken since, discards later savepoints, keeps this one,
   * returns to active from failed. The engine undoes its own state with the returned marks
   * (the savepoint's `engine`). 3B001 if unknown.
   */
  rollbackToSavepoint(txn: Transaction, name: string): { savepoint: Savepoint<SavepointMarks>; discarded: Savepoint<SavepointMarks>[] } {
    invariant(txn.isOpen, 'rollback to savepoint on a finished transaction');
    const r = txn.savepoints.rollbackTo(name);
    this.locks.releaseSince(txn.id, r.savepoint.payload.lockMark);
    txn._setState('active');
    return r;
  }

  /** RELEASE name: forgets it and every later savepoint (locks are kept). 3B001 if unknown. */
  releaseSavepoint(txn: Transaction, name: string): Savepoint<SavepointMarks>[] {
    txn.assertCanRun();
    return txn.savepoints.release(name);
  }

  checkInvariants(): void {
    let committing = 0;
    for (const [id, t] of this.#open) {
      invariant(t.id === id && (t.isOpen || t.state === 'committing'), 'finished txn kept open');
      t.checkInvariants(TXN_ID_START);
      invariant(t.id < this.#nextId, 'txn id not below nextId');
      invariant(this.locks.holds(id, LockTarget.transaction(id), 'EXCLUSIVE'), 'open txn without its id lock');
      if (t.state === 'committing') {
        committing++;
        invariant(this.#pending.has(t.commitTs!), 'committing txn ts not pending');
      }
      if (t.snapshot) invariant(t.snapshot.startTs <= this.#lastTs + 1, 'snapshot from the future');
    }
    for (const t of this.#virtual) {
      invariant(t.isOpen && !t.isSerializable && !this.#open.has(t.id), 'bad virtual txn');
      if (t.snapshot) invariant(t.snapshot.startTs <= this.#lastTs + 1, 'snapshot from the future');
    }
    invariant(committing === this.#pending.size, 'pending set differs from committing txns');
    for (const p of this.#pending) invariant(p <= this.#lastTs, 'pending ts above the clock');
    this.locks.checkInvariants();
    this.ssi.checkInvariants();
  }
}
