/**
 * `Connection`: one session — its settings, its transaction state, and the statement loop.
 *
 * Statement loop (PostgreSQL semantics):
 *  - outside a transaction block every statement runs in its own transaction (autocommit); a
 *    SELECT without FOR UPDATE / SHARE there runs as a virtual transaction (PostgreSQL's virtual
 *    xid: no id lock, no commit timestamp, nothing to commit; its ACCESS SHARE locks and its
 *    snapshot's hold on the GC horizon are real), in one step unless statement_timeout is set;
 *    a point lookup (query exec/point-lookup.ts) of an idle connection runs from snapshot to the
 *    end of its virtual transaction synchronously (`#pointQuery` / `#pointRead`: no promise
 *    chain, its ACCESS SHARE checked rather than taken — nothing else can run before it would be
 *    released), and falls back to the general path when its table cannot answer at once;
 *  - BEGIN opens a block; a failed statement inside it leaves the block aborted: every statement
 *    but ROLLBACK / ROLLBACK TO / COMMIT (which then rolls back) fails with 25P02;
 *  - each statement is atomic: it runs under an implicit savepoint and is undone alone on error;
 *  - READ COMMITTED takes a snapshot per statement; a statement that hits a row a concurrent
 *    transaction changed and committed is re-run with a fresh snapshot, changing only rows it
 *    targeted the first time (the effect of PostgreSQL's re-check of the newest version);
 *    REPEATABLE READ / SERIALIZABLE keep one snapshot (taken by the first statement) and get 40001;
 *  - a statement whose table lock had to wait starts again (bind and plan too) on a new snapshot
 *    and the committed catalog, keeping its locks, when it may still take a new snapshot (READ
 *    COMMITTED; the first snapshot-taking statement of REPEATABLE READ / SERIALIZABLE): PostgreSQL
 *    takes a statement's locks before its snapshot, so it sees what the lock holder committed
 *    (TRUNCATE, ALTER TABLE, DROP TABLE, rows written under LOCK TABLE);
 *  - any error inside a block, engine statements included (unknown savepoint, late SET
 *    TRANSACTION, LOCK TABLE NOWAIT), aborts the block;
 *  - SELECT ... FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE [NOWAIT | SKIP LOCKED] locks rows
 *    in the plan's LockRows step (the rows its LIMIT takes, of the tables named); the locking
 *    clause is read here only to reject it in a READ ONLY transaction (25006);
 *  - SET / RESET inside a block are undone by ROLLBACK and ROLLBACK TO (to a savepoint taken
 *    before them); SET LOCAL lasts until the block ends (no effect outside one), as in PostgreSQL;
 *  - statement_timeout cancels the statement's lock waits (57014) and fails a statement that
 *    finishes after it; scans are not interrupted mid-way;
 *  - `deadlock_prevention` / `deadlock_timeout` configure the database's lock manager (database-
 *    wide); under wound-wait an idle wounded transaction is rolled back at once and its session's
 *    next statement gets 40P01. Each lock wait also carries the session's own deadlock_timeout:
 *    the member of a deadlock with the shortest one is the victim, as in PostgreSQL.
 *
 * Invariants:
 *  1. At most one statement of a connection runs at a time: `query` calls queue behind each other.
 *  2. `#txn` is set exactly while a transaction (implicit or explicit) is open.
 *
 * Concurrency: statements of different connections interleave at awaits (lock waits, scans that
 * yield between batches, the WAL fsync of a commit).
 */
import { DbError, InternalError, SqlState, T, type SqlType } from '@quiverdb/common';
import {
  executeSelectSync,
  executeStatement,
  cachedStatements,
  isEngineStatement,
  mayBePointLookup,
  parseMemorySize,
  parseSql,
  statementTag,
  type EngineStatement,
  type QueryResult,
  type SessionContext,
  type Statement,
} from '@quiverdb/query';
import type { Database } from './database.js';
import { Result } from './result.js';
import { Settings } from './settings.js';
import { SessionCatalog } from './catalog/session-catalog.js';
import { SpillDir } from './spill-dir.js';
import { EngineTransaction, RestartStatement, RetryStatement, engineTransactionOf, type IsolationLevel } from './transaction.js';
import type { DeadlockPrevention, RowLockMode } from '@quiverdb/txn';

/** `cause` of an INSERT ... ON CONFLICT's 23505 against a concurrent row (query exec/statement.ts). */
const ON_CONFLICT_RACE = Symbol.for('quiverdb.onConflictRace');

/** `OPTIMIZE [schema.]table [;]` (unquoted names only) */
const OPTIMIZE = /^\s*optimize\s+(?:([a-z_][\w$]*)\.)?([a-z_][\w$]*)\s*;?\s*$/i;

const MAX_STATEMENT_RETRIES = 100;

/** Settings whose `snapshot()` (read by every statement) is built once per change, not per call. */
class SessionSettings extends Settings {
  #snapshot: ReadonlyMap<string, string> | undefined;
  override set(name: string, value: string | null): void {
    super.set(name, value);
    this.#snapshot = undefined;
  }
  override reset(name: string): void {
    super.reset(name);
    this.#snapshot = undefined;
  }
  override snapshot(): ReadonlyMap<string, string> {
    return (this.#snapshot ??= super.snapshot());
  }
}

export class Connection {
  readonly #db: Database;
  readonly #onClose: () => void;
  readonly settings: Settings = new SessionSettings();
  /** currval() per sequence for this session */
  readonly #currvals = new Map<string, bigint>();
  #txn: EngineTransaction | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /**
   * Cancellation of the running statement (pgwire CancelRequest, `cancel()`): the signal of the
   * statement in progress, if any. Statements without statement_timeout share `#cancelCtl`, which
   * is replaced once it has been used, so a cancel never reaches a later statement.
   */
  #cancelCtl = new AbortController();
  #running: AbortController | undefined;

  /** @internal use `db.connect()` */
  constructor(db: Database, onClose: () => void) {
    this.#db = db;
    this.#onClose = onClose;
  }

  /** Run one or more `;`-separated statements; returns the last one's result. */
  query(sql: string, params: readonly unknown[] = []): Promise<Result> {
    let pointTried = false;
    if (this.#queued === 0) {
      // idle connection: a point lookup completes here, synchronously (invariant 1 holds: nothing
      // runs before it ends), without the statement loop's promises
      const fast = this.#pointQuery(sql, params);
      if (fast !== undefined) return fast;
      pointTried = this.#pointRefused;
    }
    // idle connection: start at once (no hop through the queue)
    const run = this.#queued === 0 ? this.#run(sql, params, pointTried) : this.#queue.then(() => this.#run(sql, params));
    this.#queued++;
    this.#queue = run.then(this.#dequeue, this.#dequeue);
    return run;
  }

  /** set by `#pointQuery` when it tried a point lookup and the table could not answer at once */
  #pointRefused = false;

  /**
   * `#run` of a text the parse cache holds as one SELECT that is a point lookup, run as a virtual
   * read (`#virtualRead`), in one synchronous step (`#pointRead`); undefined when the text is
   * anything else or the lookup was refused (`#pointRefused` tells which).
   */
  #pointQuery(sql: string, params: readonly unknown[]): Promise<Result> | undefined {
    this.#pointRefused = false;
    if (this.#closed || this.#db.closed) return undefined;
    const cached = cachedStatements(sql);
    if (cached === undefined || cached.length !== 1) return undefined;
    const s = cached[0]!;
    if (!this.#virtualRead(s) || !mayBePointLookup(s)) return undefined;
    const t0 = performance.now();
    let r: Result | undefined;
    try {
      r = this.#pointRead(s, params);
    } catch (err) {
      return Promise.reject(err);
    }
    if (r === undefined) {
      this.#pointRefused = true;
      return undefined;
    }
    this.#db.statementStats.record(s.sql, performance.now() - t0, r.rowCount);
    return Promise.resolve(r);
  }

  /** `query` calls not settled yet (invariant 1: they run one after another) */
  #queued = 0;
  readonly #dequeue = (): void => {
    this.#queued--;
  };

  /** 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block (pgwire ReadyForQuery). */
  transactionStatus(): 'I' | 'T' | 'E' {
    if (!this.#txn || !this.#txn.explicit) return 'I';
    return this.#txn.failed ? 'E' : 'T';
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Cancel the statement this connection is running, if any (PostgreSQL's pg_cancel_backend /
   * CancelRequest): it fails with 57014 at its next lock wait or batch boundary; the session stays
   * usable (inside a block, the block is failed as after any error).
   */
  cancel(): void {
    this.#running?.abort(new DbError(SqlState.QueryCanceled, 'canceling statement due to user request'));
  }

  /** The signal for a statement without statement_timeout (see `#cancelCtl`). */
  #idleSignal(): AbortSignal {
    if (this.#cancelCtl.signal.aborted) this.#cancelCtl = new AbortController();
    this.#running = this.#cancelCtl;
    return this.#cancelCtl.signal;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    if (this.#txn) this.#rollback(this.#txn);
    this.#onClose();
  }

  /** `pointTried`: `#pointQuery` just had this text's point lookup refused (do not try again). */
  async #run(sql: string, params: readonly unknown[], pointTried = false): Promise<Result> {
    if (this.#closed) throw new DbError(SqlState.ConnectionException, 'the connection is closed');
    if (this.#db.closed) throw new DbError(SqlState.AdminShutdown, 'the database is closed');
    const optimize = OPTIMIZE.exec(sql);
    if (optimize) return this.#optimize(optimize[1], optimize[2]!);
    let statements: Statement[];
    try {
      statements = parseSql(sql);
    } catch (err) {
      if (this.#txn?.explicit) this.#failBlock(this.#txn);
      throw err;
    }
    if (statements.length === 0) return Result.of('EMPTY');
    let last!: Result;
    for (const s of statements) {
      const t0 = performance.now();
      if (!this.#virtualRead(s)) last = await this.#runOne(s, params);
      else if (pointTried) last = await this.#runVirtualRead(s, params, true);
      else if (!mayBePointLookup(s)) last = await this.#runVirtualRead(s, params);
      else last = this.#pointRead(s, params) ?? await this.#runVirtualRead(s, params, true);
      this.#db.statementStats.record(s.sql, performance.now() - t0, last.rowCount);
    }
    return last;
  }

  /** OPTIMIZE [schema.]table: compaction on demand (QuiverDB's own statement, not PostgreSQL's). */
  async #optimize(schema: string | undefined, name: string): Promise<Result> {
    if (this.#txn?.explicit) throw new DbError(SqlState.ActiveSqlTransaction, 'OPTIMIZE cannot run inside a transaction block');
    await this.#db.store.compact(this.#tableIdOf(schema?.toLowerCase(), name.toLowerCase()));
    return Result.of('OPTIMIZE');
  }

  async #runOne(s: Statement, params: readonly unknown[]): Promise<Result> {
    if (isEngineStatement(s)) {
      try {
        return await this.#runEngineStatement(s);
      } catch (err) {
        // as in PostgreSQL, any error inside a block (unknown savepoint, SET TRANSACTION too late,
        // a failed LOCK ...) aborts it
        if (this.#txn?.explicit) this.#failBlock(this.#txn);
        throw err;
      }
    }
    const txn = this.#txn;
    if (txn?.abortedBy) {
      // aborted from outside (wound-wait) while idle: report it once, then 25P02 until ROLLBACK
      const err = txn.abortedBy;
      txn.abortedBy = undefined;
      throw err;
    }
    if (txn?.failed) {
      throw new DbError(SqlState.InFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block');
    }
    const implicit = txn === undefined;
    // a lone SELECT without FOR UPDATE / SHARE runs as a virtual transaction (no id, no commit work)
    const t = txn ?? this.#begin(false, undefined, undefined, false, s.kind === 'select' && rowLockOf(s) === undefined);
    try {
      const result = await this.#runInTransaction(t, s, params);
      if (implicit) {
        if (t.commitVirtual(this.#db)) this.#txn = undefined;
        else await this.#commit(t);
      }
      return result;
    } catch (err) {
      if (implicit) {
        if (this.#txn === t) this.#rollback(t);
      } else {
        this.#failBlock(t);
      }
      throw toDbError(err);
    }
  }

  /**
   * Runs as `#runVirtualRead`: a SELECT without FOR UPDATE / SHARE outside a transaction block,
   * not SERIALIZABLE (SSI tracks reads), without statement_timeout (no timer, no signal).
   */
  #virtualRead(s: Statement): boolean {
    if (this.#txn !== undefined || s.kind !== 'select' || rowLockOf(s) !== undefined) return false;
    const settings = this.settings.snapshot();
    return settings.get('default_transaction_isolation') !== 'serializable' && Number(settings.get('statement_timeout')) <= 0;
  }

  /**
   * `#runOne` of a `#virtualRead` statement in one step: a virtual transaction (no id, no commit
   * work), one attempt (a plain read never waits for a row, so never re-runs) unless a table lock
   * had to wait (restart on a new snapshot), no undo mark (an error rolls the whole transaction back).
   */
  async #runVirtualRead(s: Statement, params: readonly unknown[], skipPointLookup = false): Promise<Result> {
    const t = this.#begin(false, undefined, undefined, false, true);
    t.inStatement = true;
    try {
      let r: Awaited<ReturnType<typeof executeStatement>>;
      for (let attempt = 0; ; attempt++) {
        t.startVirtualStatement(this.#db);
        t.restartOnLockWait = attempt < MAX_STATEMENT_RETRIES;
        const spill = new SpillDir(this.#db.path); // temp files of operators over memory_limit, removed at statement end
        const signal = this.#idleSignal();
        t.statementSignal = signal;
        const ctx: SessionContext = {
          catalog: new SessionCatalog(this.#db, t, this.settings, this.#currvals),
          params,
          settings: this.settings.snapshot(),
          txnStartTime: t.startTime,
          signal,
          spill,
          skipPointLookup: skipPointLookup && attempt === 0, // `#pointRead` tried it
        };
        try {
          r = await executeStatement(s, ctx);
          if (signal.aborted) throw signal.reason;
          break;
        } catch (err) {
          if (!(err instanceof RestartStatement)) throw err;
          t.prepareRestart(this.#db);
        } finally {
          t.restartOnLockWait = false;
          t.statementSignal = undefined;
          this.#running = undefined;
          await spill.close();
        }
      }
      if (t.retryNeeded) throw new DbError(SqlState.InternalError, 'internal error (this is a bug): a plain read asked for a re-run');
      if (this.#db.txns.locks.isWounded(t.id)) {
        throw new DbError(SqlState.DeadlockDetected, 'transaction aborted by wound-wait: an older transaction needs its locks');
      }
      t.inStatement = false;
      if (t.commitVirtual(this.#db)) this.#txn = undefined;
      else await this.#commit(t); // it advanced a sequence: a real transaction writes the marks
      return new Result(r.command, r.rowCount, r);
    } catch (err) {
      t.inStatement = false;
      if (this.#txn === t) this.#rollback(t);
      throw toDbError(err);
    }
  }

  /**
   * `#runVirtualRead` of a point lookup (query exec/point-lookup.ts) in one synchronous step: no
   * await (so nothing can cancel it or run in between: no signal), no spill space. undefined when
   * `s` is no point lookup or its table cannot answer at once; its virtual transaction is then
   * ended (releasing a lock it may have taken) and `#runVirtualRead` runs the statement afresh.
   */
  #pointRead(s: Statement, params: readonly unknown[]): Result | undefined {
    const db = this.#db;
    const t = this.#begin(false, undefined, undefined, false, true);
    t.inStatement = true;
    t.syncStep = true; // no await from here to the end of the transaction
    let r: QueryResult | undefined;
    try {
      t.startVirtualStatement(db);
      r = executeSelectSync(s, {
        catalog: new SessionCatalog(db, t, this.settings, this.#currvals),
        params,
        settings: this.settings.snapshot(),
        txnStartTime: t.startTime,
      });
      if (r !== undefined && db.txns.locks.isWounded(t.id)) {
        throw new DbError(SqlState.DeadlockDetected, 'transaction aborted by wound-wait: an older transaction needs its locks');
      }
    } catch (err) {
      t.inStatement = false;
      if (this.#txn === t) this.#rollback(t);
      throw toDbError(err);
    }
    t.inStatement = false;
    // nothing was written: a virtual transaction ends without commit work
    if (t.commitVirtual(db)) this.#txn = undefined;
    else this.#rollback(t); // never for a point lookup (it advances no sequence)
    return r === undefined ? undefined : new Result(r.command, r.rowCount, r);
  }

  /**
   * Give `t` the running statement's signal: with statement_timeout set, an AbortController that
   * fires 57014 after it (also what cancel() aborts); else the idle signal. Returns the timer to clear.
   */
  #armStatementTimeout(t: EngineTransaction): NodeJS.Timeout | undefined {
    const ms = Number(this.settings.get('statement_timeout'));
    if (!(ms > 0)) {
      t.statementSignal = this.#idleSignal();
      return undefined;
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new DbError(SqlState.QueryCanceled, 'canceling statement due to statement timeout')), ms);
    timer.unref();
    t.statementSignal = ctl.signal;
    this.#running = ctl;
    return timer;
  }

  async #runInTransaction(t: EngineTransaction, s: Statement, params: readonly unknown[]): Promise<Result> {
    t.inStatement = true;
    // statement_timeout: cancels the statement's lock waits at once, stops its scans between
    // batches, and fails a statement that ran past it when it completes (57014)
    const timer = this.#armStatementTimeout(t);
    try {
      return await this.#attempts(t, s, params);
    } finally {
      if (timer) clearTimeout(timer);
      this.#running = undefined;
      t.statementSignal = undefined;
      t.restartOnLockWait = false;
      t.inStatement = false;
    }
  }

  async #attempts(t: EngineTransaction, s: Statement, params: readonly unknown[]): Promise<Result> {
    if (t.deferrable) await t.awaitSafeSnapshot(this.#db);
    for (let attempt = 0; ; attempt++) {
      const mark = t.statementStart(this.#db);
      t.restartOnLockWait = attempt < MAX_STATEMENT_RETRIES;
      try {
        const rowLock = rowLockOf(s);
        if (t.readOnly && (writes(s) || rowLock)) {
          const what = rowLock ? `SELECT ${rowLock.mode}` : statementTag(s);
          throw new DbError(SqlState.ReadOnlySqlTransaction, `cannot execute ${what} in a read-only transaction`);
        }
        const spill = new SpillDir(this.#db.path); // temp files of operators over memory_limit, removed at statement end
        const ctx: SessionContext = {
          catalog: new SessionCatalog(this.#db, t, this.settings, this.#currvals),
          params,
          settings: this.settings.snapshot(),
          txnStartTime: t.startTime,
          spill,
        };
        if (t.statementSignal) ctx.signal = t.statementSignal;
        // FOR UPDATE / SHARE row locks are taken by the plan's LockRows step (query exec/lock-rows.ts)
        // as its LIMIT takes rows, through EngineTable.lockRows: not by every scan of the statement
        let r: QueryResult;
        try {
          r = await executeStatement(s, ctx);
        } finally {
          if (spill.openFiles > 0) await spill.close();
        }
        if (t.statementSignal?.aborted) throw t.statementSignal.reason;
        if (t.retryNeeded) throw new RetryStatement();
        t.endRetry();
        if (this.#db.txns.locks.isWounded(t.id)) {
          throw new DbError(SqlState.DeadlockDetected, 'transaction aborted by wound-wait: an older transaction needs its locks');
        }
        t.statementEnd();
        return new Result(r.command, r.rowCount, r);
      } catch (err) {
        const restart = err instanceof RestartStatement; // only thrown while restartOnLockWait
        if (err instanceof DbError && err.cause === ON_CONFLICT_RACE) {
          // INSERT ... ON CONFLICT met a concurrent transaction's row: READ COMMITTED re-runs the
          // statement on a fresh snapshot (it then takes the conflict path); otherwise 40001
          if (t.snapshotPerStatement && attempt < MAX_STATEMENT_RETRIES) {
            t.rollbackStatement(this.#db, mark, true);
            t.endRetry(); // a fresh run: the conflicting row was no target of this one
            continue;
          }
          t.rollbackStatement(this.#db, mark, false);
          t.endRetry();
          throw new DbError(SqlState.SerializationFailure, 'could not serialize access due to concurrent update', { detail: err.detail });
        }
        t.rollbackStatement(this.#db, mark, restart || (err instanceof RetryStatement && attempt < MAX_STATEMENT_RETRIES));
        if (restart) {
          t.prepareRestart(this.#db);
          continue;
        }
        if (err instanceof RetryStatement && attempt < MAX_STATEMENT_RETRIES) {
          t.prepareRetry();
          continue;
        }
        t.endRetry();
        if (err instanceof RetryStatement) {
          throw new DbError(SqlState.SerializationFailure, 'could not serialize access due to concurrent update (retries exhausted)');
        }
        throw err;
      }
    }
  }

  #begin(explicit: boolean, isolation: IsolationLevel | undefined, readOnly: boolean | undefined, deferrable = false, virtual = false): EngineTransaction {
    const iso = isolation ?? (this.settings.get('default_transaction_isolation') as IsolationLevel);
    const ro = readOnly ?? this.settings.get('default_transaction_read_only') === 'on';
    const t = new EngineTransaction(this.#db, {
      explicit,
      isolation: iso,
      readOnly: ro,
      deferrable,
      virtual,
      lockTimeoutMs: this.#lockTimeoutMs,
      deadlockTimeoutMs: this.#deadlockTimeoutMs,
      revertSetting: this.#revertSetting,
    });
    this.#txn = t;
    return t;
  }

  readonly #lockTimeoutMs = (): number => Number(this.settings.get('lock_timeout'));
  readonly #deadlockTimeoutMs = (): number => Number(this.settings.get('deadlock_timeout'));
  readonly #revertSetting = (name: string, value: string): void => {
    this.settings.set(name, value);
    this.#applyLockSettings(name);
  };

  async #commit(t: EngineTransaction): Promise<void> {
    try {
      await t.commit(this.#db);
    } catch (err) {
      if (this.#txn === t) this.#rollback(t);
      throw toDbError(err);
    }
    if (this.#txn === t) this.#txn = undefined;
  }

  /**
   * A statement failed inside a transaction block. As PostgreSQL aborts the (sub)transaction at
   * the error, not at the client's ROLLBACK: inside a savepoint, what was done since the innermost
   * savepoint is undone and its locks are freed; otherwise the whole transaction is rolled back
   * now (its locks freed, so a deadlock victim's peers proceed at once). Either way the block
   * stays failed (25P02) until ROLLBACK or ROLLBACK TO SAVEPOINT.
   */
  #failBlock(t: EngineTransaction): void {
    if (!t.finished) {
      const sp = t.innermostSavepoint();
      if (sp !== undefined) t.rollbackToSavepoint(this.#db, sp);
      else t.rollback(this.#db);
    }
    t.failed = true;
  }

  #rollback(t: EngineTransaction): void {
    t.rollback(this.#db);
    if (this.#txn === t) this.#txn = undefined;
  }

  async #runEngineStatement(s: EngineStatement): Promise<Result> {
    const t = this.#txn;
    switch (s.kind) {
      case 'begin':
        if (t?.explicit) return Result.of('BEGIN'); // PostgreSQL: WARNING, already in a transaction
        this.#begin(true, s.isolation, s.readOnly, s.deferrable ?? false);
        return Result.of('BEGIN');
      case 'commit':
        if (!t) return Result.of('COMMIT'); // WARNING: no transaction in progress
        if (t.failed) {
          this.#rollback(t);
          return Result.of('ROLLBACK');
        }
        await this.#commit(t);
        return Result.of('COMMIT');
      case 'rollback':
        if (t) this.#rollback(t);
        return Result.of('ROLLBACK');
      case 'savepoint':
        this.#requireBlock('SAVEPOINT');
        this.#requireNotFailed();
        this.#txn!.savepoint(this.#db, s.name);
        return Result.of('SAVEPOINT');
      case 'release':
        this.#requireBlock('RELEASE SAVEPOINT');
        this.#requireNotFailed();
        this.#txn!.release(s.name);
        return Result.of('RELEASE');
      case 'rollbackTo':
        this.#requireBlock('ROLLBACK TO SAVEPOINT');
        this.#txn!.rollbackToSavepoint(this.#db, s.name);
        return Result.of('ROLLBACK');
      case 'setTransaction':
        if (!t?.explicit) {
          throw new DbError(SqlState.NoActiveSqlTransaction, 'SET TRANSACTION can only be used in transaction blocks');
        }
        this.#requireNotFailed();
        t.setCharacteristics(s.isolation, s.readOnly);
        return Result.of('SET');
      case 'set': {
        this.#requireNotFailed();
        const name = s.name.toLowerCase();
        if (name === 'transaction_isolation') {
          if (!t?.explicit) throw new DbError(SqlState.NoActiveSqlTransaction, 'SET TRANSACTION can only be used in transaction blocks');
          t.setCharacteristics((s.value ?? 'read committed').toLowerCase() as IsolationLevel, undefined);
          return Result.of('SET');
        }
        if (s.local && !t?.explicit) return Result.of('SET'); // PostgreSQL: WARNING, no effect
        if (name === 'memory_limit' && s.value !== null) parseMemorySize(s.value); // 22023 now, not at the next query
        const prev = this.settings.get(name);
        this.settings.set(name, s.value);
        if (t?.explicit) t.settingsLog.push({ name, prev, local: s.local });
        this.#applyLockSettings(name);
        return Result.of('SET');
      }
      case 'reset':
        this.#requireNotFailed();
        if (t?.explicit && s.name.toLowerCase() !== 'all') {
          t.settingsLog.push({ name: s.name.toLowerCase(), prev: this.settings.get(s.name), local: false });
        }
        this.settings.reset(s.name);
        this.#applyLockSettings(s.name.toLowerCase());
        return Result.of('RESET');
      case 'show': {
        this.#requireNotFailed();
        const name = s.name.toLowerCase();
        let value: string;
        if (name === 'transaction_isolation') value = t?.isolation ?? this.settings.get('default_transaction_isolation');
        else if (name === 'transaction_read_only') value = (t?.readOnly ?? false) ? 'on' : 'off';
        else if (name === 'all') {
          const rows = [...this.settings.snapshot()].map(([k, v]) => [k, v]);
          return Result.of('SHOW', [{ name: 'name', type: T.text }, { name: 'setting', type: T.text }], rows);
        } else value = this.settings.get(name);
        return Result.of('SHOW', [{ name, type: T.text }], [[value]]);
      }
      case 'checkpoint':
        this.#requireNotFailed();
        if (t?.explicit) throw new DbError(SqlState.ActiveSqlTransaction, 'CHECKPOINT cannot run inside a transaction block');
        await this.#db.checkpoint();
        return Result.of('CHECKPOINT');
      case 'lock': {
        if (!t?.explicit) throw new DbError(SqlState.NoActiveSqlTransaction, 'LOCK TABLE can only be used in transaction blocks');
        this.#requireNotFailed();
        // statement_timeout and cancel() end the wait (57014), as for any statement
        const timer = this.#armStatementTimeout(t);
        try {
          await t.lockTables(this.#db, s.tables, s.mode, s.nowait);
        } catch (err) {
          this.#failBlock(t);
          throw toDbError(err);
        } finally {
          if (timer) clearTimeout(timer);
          this.#running = undefined;
          t.statementSignal = undefined;
        }
        return Result.of('LOCK TABLE');
      }
      case 'vacuum':
        this.#requireNotFailed();
        if (t?.explicit) throw new DbError(SqlState.ActiveSqlTransaction, 'VACUUM cannot run inside a transaction block');
        await this.#db.store.compact(s.table ? this.#tableIdOf(s.table.schema, s.table.name) : undefined);
        return Result.of('VACUUM');
      case 'analyze':
        this.#requireNotFailed();
        await this.#db.analyze(s.table ? [this.#tableIdOf(s.table.schema, s.table.name)] : undefined,
          { statisticsTarget: Number(this.settings.get('default_statistics_target')) });
        return Result.of('ANALYZE');
    }
  }

  /**
   * deadlock_prevention and deadlock_timeout configure the database's one lock manager: they are
   * database-wide (the last SET wins). The session's deadlock_timeout also goes with each of its
   * lock waits (`#deadlockTimeoutMs`), to choose a deadlock victim as PostgreSQL does.
   */
  #applyLockSettings(name: string): void {
    const locks = this.#db.txns.locks;
    if (name === 'deadlock_timeout' || name === 'all') locks.deadlockTimeoutMs = Number(this.settings.get('deadlock_timeout'));
    if (name === 'deadlock_prevention' || name === 'all') {
      locks.deadlockPrevention = this.settings.get('deadlock_prevention') as DeadlockPrevention;
      const db = this.#db;
      // wound-wait: a wounded transaction idle between statements is rolled back at once (its
      // locks freed for the older one); a running one fails at its next lock wait or statement end
      locks.onWound = (id) => {
        const victim = engineTransactionOf(db, id);
        if (!victim || victim.finished || victim.inStatement) return;
        victim.rollback(db);
        victim.failed = true;
        victim.abortedBy = new DbError(SqlState.DeadlockDetected, 'transaction aborted by wound-wait: an older transaction needs its locks');
      };
    }
  }

  #tableIdOf(schema: string | undefined, name: string) {
    const t = this.#db.committedCatalog.table(schema ?? 'public', name);
    if (!t) throw new DbError(SqlState.UndefinedTable, `relation "${name}" does not exist`);
    return t.id;
  }

  #requireBlock(what: string): void {
    if (!this.#txn?.explicit) throw new DbError(SqlState.NoActiveSqlTransaction, `${what} can only be used in transaction blocks`);
  }

  #requireNotFailed(): void {
    if (this.#txn?.failed) {
      throw new DbError(SqlState.InFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block');
    }
  }
}

const ROW_LOCK_STRENGTH: Readonly<Record<string, RowLockMode>> = {
  LCS_FORKEYSHARE: 'FOR KEY SHARE',
  LCS_FORSHARE: 'FOR SHARE',
  LCS_FORNOKEYUPDATE: 'FOR NO KEY UPDATE',
  LCS_FORUPDATE: 'FOR UPDATE',
};

interface RowLockClause { readonly mode: RowLockMode; readonly wait: 'wait' | 'nowait' | 'skipLocked' }
const rowLocks = new WeakMap<Statement, RowLockClause | null>();

/**
 * SELECT ... FOR UPDATE / SHARE [NOWAIT | SKIP LOCKED] anywhere in a SELECT statement (subqueries
 * too): the strongest clause, or undefined. Such a statement takes row locks (not a virtual
 * transaction; 25006 in a READ ONLY one). Cached per parsed statement.
 */
function rowLockOf(s: Statement): RowLockClause | undefined {
  if (s.kind !== 'select') return undefined;
  let best = rowLocks.get(s);
  if (best !== undefined) return best ?? undefined;
  best = null;
  const order = Object.values(ROW_LOCK_STRENGTH);
  const visit = (n: unknown): void => {
    if (n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) { for (const x of n) visit(x); return; }
    for (const [k, v] of Object.entries(n)) {
      if (k === 'LockingClause') {
        const c = v as { strength?: string; waitPolicy?: string };
        const mode = ROW_LOCK_STRENGTH[c.strength ?? ''];
        const wait = c.waitPolicy === 'LockWaitError' ? 'nowait' : c.waitPolicy === 'LockWaitSkip' ? 'skipLocked' : 'wait';
        if (mode && (!best || order.indexOf(mode) > order.indexOf(best.mode))) best = { mode, wait };
      } else visit(v);
    }
  };
  visit(s.node);
  rowLocks.set(s, best);
  return best ?? undefined;
}

function writes(s: Statement): boolean {
  switch (s.kind) {
    case 'select': return false;
    case 'explain': return s.analyze && writes(s.statement);
    default: return true;
  }
}

function toDbError(err: unknown): DbError {
  if (err instanceof DbError) return err;
  if (err instanceof RangeError && /memory|allocation/i.test(err.message)) {
    return new DbError(SqlState.OutOfMemory, err.message, { cause: err });
  }
  return new InternalError(err instanceof Error ? err.message : String(err), { cause: err });
}

export type { SqlType };
