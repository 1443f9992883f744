/**
 * The lock manager: table locks in PostgreSQL's eight modes, row locks in the four FOR ... modes,
 * transaction-id locks (how a writer waits for the transaction that wrote a row) and named object
 * locks; re-entrant holds, upgrades, FIFO wait queues, NOWAIT / SKIP LOCKED / lock_timeout / abort
 * signals, savepoint marks, a view of held and awaited locks, and deadlock handling over a
 * wait-for graph.
 *
 * Granting rule (as PostgreSQL's lock.c / proc.c):
 *   a request of transaction T in mode M on object O is granted iff
 *     (a) M conflicts with no mode held on O by another transaction, and
 *     (b) T holds nothing on O yet, and M conflicts with no request still waiting in O's queue
 *         (first come, first served), or T already holds some mode on O (an upgrade: it is queued
 *         ahead of all plain requests and skips the queue check, as PostgreSQL does to avoid
 *         needless deadlocks), or the request is a row lock (`passWaiters`: PostgreSQL's tuple
 *         locks queue only requests that must wait, so a compatible one passes them).
 *   Re-acquiring a mode already held just counts (re-entrant); each acquire is matched by one
 *   release (explicit, `releaseSince` or `releaseAll`).
 *
 * Wait-for edges of a waiting request: every other holder whose held modes conflict with it, plus
 * (plain requests only) every other request ahead of it in the queue in a conflicting mode.
 *
 * Deadlock handling (`deadlockPrevention`):
 *   'detect' (default)  a cycle search runs whenever a wait adds an edge. A cycle through a
 *                       SOFT edge (a request waiting only because a conflicting request is queued
 *                       ahead of it) is first broken as PostgreSQL's detector does: the request
 *                       moves ahead of the conflicting requests it waits behind when that leaves
 *                       no cycle (it may then be granted at once). Otherwise the VICTIM is the
 *                       member whose wait's deadlock_timeout (`AcquireOptions.deadlockTimeoutMs`,
 *                       timed from the wait's start) runs out first: as in PostgreSQL, nothing is
 *                       searched when a wait begins; when a wait has lasted its deadlock_timeout
 *                       it looks once for a cycle through it and, finding one, fails itself. With
 *                       equal timeouts the first to wait is the victim, and a deadlock costs one
 *                       deadlock_timeout. All the victim's waits are rejected with 40P01, the
 *                       others keep waiting. Then, every 10 deadlock_timeouts, a waiter searches
 *                       again (belt and braces: a cycle formed without a new wait); such a
 *                       re-check takes the youngest member (highest age) as victim.
 *   'wait-die'          a requester may only wait for younger transactions; a younger requester
 *                       "dies" (40P01) instead of waiting for an older one.
 *   'wound-wait'        an older requester wounds every younger transaction it would wait for:
 *                       their waits are rejected with 40P01, later acquires by them fail with
 *                       40P01, and `onWound(txn)` tells the owner to abort them; a younger
 *                       requester waits for older ones.
 *   'no-wait'           every request that would wait fails at once with 40P01.
 *   Age is `ageOf(txn)` (default: the txn id, smaller = older).
 *
 * Invariants (checked by `checkInvariants()`):
 *  1. No two different transactions hold conflicting modes on one object.
 *  2. No waiting request is grantable (no lost wake-ups): every release, cancel and grant
 *     re-runs the grant loop of the object it touched.
 *  3. Each transaction's acquisition log is exactly the multiset of its holds (counts included).
 *  4. The wait-for graph equals the edges recomputed from the queues. Under the prevention
 *     policies it is acyclic between calls; under 'detect' a cycle lives until a member's
 *     deadlock_timeout check runs (every waiter has that check, or a later re-check, armed).
 *  5. Objects with neither holders nor waiters are dropped (the map stays small), except table
 *     objects while the map holds at most MAX_OBJECTS_KEEPING_TABLES objects (each statement locks
 *     its tables again: kept, they cost no allocation).
 *
 * Concurrency: single JS thread. Every method is synchronous and leaves the invariants true
 * before it returns; `acquire` returns a promise that settles later (grant, timeout, signal,
 * deadlock, wound, or the transaction ending). Settling happens in the call that caused it
 * (release, cancel, ...), resolutions run as microtasks afterwards. `onWound` is called in a
 * microtask, never re-entrantly.
 */
import type { RowId, TableId, TxnId } from '@quiverdb/common';
import { DbError, DeadlockDetected, SqlState, invariant } from '@quiverdb/common';
import { conflictMaskOf, conflictsWithMask, MODE_COUNT, modeBit, modesConflict, type LockMode } from './lock-mode.js';
import { assertModeFitsTarget, describeTarget, lockKey, type LockTarget } from './lock-target.js';
import { WaitForGraph } from './wait-for-graph.js';

/** Empty table lock objects stay in the map (for the next lock) while it holds at most this many objects. */
const MAX_OBJECTS_KEEPING_TABLES = 1024;

export type DeadlockPrevention = 'detect' | 'wait-die' | 'wound-wait' | 'no-wait';

export interface LockManagerOptions {
  deadlockPrevention?: DeadlockPrevention;
  /** The re-check delay (PostgreSQL deadlock_timeout), ms. Default 1000. */
  deadlockTimeoutMs?: number;
  /** Age of a transaction for wait-die / wound-wait: smaller is older. Default: the id. */
  ageOf?: (txn: TxnId) => number;
  /** wound-wait: the transaction must be aborted by its owner. Called in a microtask. */
  onWound?: (txn: TxnId) => void;
}

export interface AcquireOptions {
  /** Fail with 55P03 at once instead of waiting. */
  readonly nowait?: boolean;
  /** Resolve `false` at once instead of waiting (SELECT ... SKIP LOCKED). */
  readonly skipLocked?: boolean;
  /** lock_timeout in ms: fail with 55P03 when not granted in time. 0 / undefined = no limit. */
  readonly timeoutMs?: number;
  /** Cancel the wait (statement cancel): rejects with the signal's DbError reason, or 57014. */
  readonly signal?: AbortSignal;
  /**
   * The requester's own deadlock_timeout (ms), for the choice of a deadlock victim (PostgreSQL's
   * victim is the waiter whose deadlock_timeout runs out first). Default: `deadlockTimeoutMs`.
   */
  readonly deadlockTimeoutMs?: number;
  /**
   * Row-lock rule (PostgreSQL's tuple locks): a request compatible with every holder is granted at
   * once even past waiting requests (which stay first come, first served among themselves).
   */
  readonly passWaiters?: boolean;
}

/** One row of the lock view (pg_locks-like). */
export interface LockInfo {
  readonly txn: TxnId;
  readonly target: LockTarget;
  readonly mode: LockMode;
  readonly granted: boolean;
  /** re-entrant hold count (1 for waiters) */
  readonly count: number;
}

/** One row of a pg_locks-like system view (flat, SQL-friendly). */
export interface LockViewRow {
  readonly locktype: 'relation' | 'tuple' | 'transactionid' | 'object';
  readonly relation: TableId | null;
  readonly row: RowId | null;
  readonly transactionid: TxnId | null;
  readonly object: string | null;
  /** the transaction holding or awaiting the lock */
  readonly txn: TxnId;
  readonly mode: LockMode;
  readonly granted: boolean;
  /** waiting rows: the transactions this request waits for (pg_blocking_pids); [] when granted */
  readonly blockedBy: readonly TxnId[];
}

interface Holder {
  mask: number;
  readonly counts: Map<LockMode, number>;
}

interface Waiter {
  readonly txn: TxnId;
  readonly mode: LockMode;
  /** modeBit(mode) and conflictMaskOf(mode), precomputed for the grant loops */
  readonly bit: number;
  readonly conflicts: number;
  readonly obj: LockObject;
  readonly resolve: (granted: boolean) => void;
  readonly reject: (err: unknown) => void;
  settled: boolean;
  timers: ReturnType<typeof setTimeout>[];
  cleanupSignal?: () => void;
  /** the requester's deadlock_timeout (undefined: the manager's) */
  readonly deadlockTimeoutMs: number | undefined;
}

/** After its one deadlock check (PostgreSQL's), a waiter re-checks every this many deadlock_timeouts. */
const RECHECK_FACTOR = 10;

interface LockObject {
  readonly key: string;
  readonly target: LockTarget;
  readonly holders: Map<TxnId, Holder>;
  queue: Waiter[];
  /**
   * per mode bit: how many holders hold it / how many queued requests ask for it (waitCounts:
   * NO_WAIT_COUNTS, never written, until the object's first waiter)
   */
  readonly heldCounts: Int32Array;
  waitCounts: Int32Array;
}

/** The `waitCounts` of an object no request has waited on yet (all zero; never written). */
const NO_WAIT_COUNTS = new Int32Array(MODE_COUNT);

interface TxnLocks {
  /** every acquisition, in order: (object key, mode); releases remove the latest match */
  readonly log: { key: string; mode: LockMode }[];
  /** NO_WAITS (shared, never added to) until the transaction's first wait */
  waits: Set<Waiter>;
}

/** The `waits` of a transaction that never waited: most never do, and need no Set of their own. */
const NO_WAITS: ReadonlySet<Waiter> = new Set<Waiter>();

/** Lock keys of table targets, by table id: the same string each time (no build, hash cached). */
const tableKeys: string[] = [];

function keyOf(target: LockTarget): string {
  if (target.kind === 'table') {
    const id = target.table as number;
    if (id >= 0 && id < 65536 && Number.isInteger(id)) return (tableKeys[id] ??= lockKey(target));
  }
  return lockKey(target);
}

export class LockManager {
  /** Tests: cross-check every fast grant decision against the plain rule (slow). */
  static debugChecks = false;

  readonly #objects = new Map<string, LockObject>();
  readonly #txns = new Map<TxnId, TxnLocks>();
  readonly #graph = new WaitForGraph();
  readonly #wounded = new Set<TxnId>();
  #prevention: DeadlockPrevention;
  #deadlockTimeoutMs: number;
  readonly #ageOf: (txn: TxnId) => number;
  #onWound: ((txn: TxnId) => void) | undefined;
  /** counters for metrics and tests */
  readonly stats = { deadlocks: 0, softDeadlocks: 0, preventionAborts: 0, wounds: 0, timeouts: 0, waits: 0 };

  constructor(opts: LockManagerOptions = {}) {
    this.#prevention = opts.deadlockPrevention ?? 'detect';
    this.#deadlockTimeoutMs = opts.deadlockTimeoutMs ?? 1000;
    this.#ageOf = opts.ageOf ?? ((t) => t);
    this.#onWound = opts.onWound;
  }

  get deadlockPrevention(): DeadlockPrevention { return this.#prevention; }
  set deadlockPrevention(p: DeadlockPrevention) { this.#prevention = p; }
  get deadlockTimeoutMs(): number { return this.#deadlockTimeoutMs; }
  set deadlockTimeoutMs(ms: number) { this.#deadlockTimeoutMs = ms; }
  set onWound(cb: ((txn: TxnId) => void) | undefined) { this.#onWound = cb; }

  /** The wait-for graph (read it; the manager owns its edges). */
  get graph(): WaitForGraph { return this.#graph; }

  /**
   * Acquire `mode` on `target` for `txn`. Resolves `true` when granted, `false` only with
   * `skipLocked` when it would have to wait; rejects with 55P03 (nowait, lock_timeout), 40P01
   * (deadlock victim, prevention policy, wounded), 57014 (signal, transaction ended).
   */
  acquire(txn: TxnId, target: LockTarget, mode: LockMode, opts: AcquireOptions = {}): Promise<boolean> {
    try {
      const now = this.#tryGrant(txn, target, mode, opts.passWaiters === true);
      if (now === GRANTED) return Promise.resolve(true);
      if (opts.skipLocked) { this.#dropIfEmpty(now); return Promise.resolve(false); }
      if (opts.nowait) {
        this.#dropIfEmpty(now);
        throw new DbError(SqlState.LockNotAvailable, `could not obtain lock on ${describeTarget(target)}`);
      }
      if (opts.signal?.aborted) { this.#dropIfEmpty(now); throw cancelError(opts.signal); }
      return this.#wait(txn, now, mode, opts);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Grant at once or return false without queueing (never waits, never throws on conflict). */
  tryAcquire(txn: TxnId, target: LockTarget, mode: LockMode): boolean {
    const r = this.#tryGrant(txn, target, mode);
    if (r === GRANTED) return true;
    this.#dropIfEmpty(r);
    return false;
  }

  /**
   * Would `tryAcquire(txn, target, mode)` grant now (same rule, queue included)? Records nothing.
   * For a reader that checks, reads and ends its transaction in one synchronous step: no other
   * transaction runs in between, so none can conflict with, wait for or see the hold it would
   * have taken and released (PostgreSQL's fast-path weak locks, for a holder that never yields).
   * A wounded transaction gets its 40P01, as from `tryAcquire`.
   */
  wouldGrant(txn: TxnId, target: LockTarget, mode: LockMode): boolean {
    assertModeFitsTarget(target, mode);
    if (this.#wounded.size > 0 && this.#wounded.has(txn)) throw woundedError(txn);
    const obj = this.#objects.get(keyOf(target));
    if (obj === undefined) return true;
    if (obj.holders.get(txn)?.counts.has(mode)) return true;
    return this.#grantableNow(obj, txn, conflictMaskOf(mode));
  }

  /** Release one hold of `mode` on `target` (the most recent acquisition). Returns false if not held. */
  release(txn: TxnId, target: LockTarget, mode: LockMode): boolean {
    const key = keyOf(target);
    const tl = this.#txns.get(txn);
    if (!tl) return false;
    let i = tl.log.length - 1;
    while (i >= 0 && !(tl.log[i]!.key === key && tl.log[i]!.mode === mode)) i--;
    if (i < 0) return false;
    tl.log.splice(i, 1);
    const obj = this.#objects.get(key)!;
    this.#decrement(obj, txn, mode);
    this.#wake(obj);
    return true;
  }

  /** A savepoint mark: locks acquired after it are released by `releaseSince`. */
  mark(txn: TxnId): number {
    return this.#txns.get(txn)?.log.length ?? 0;
  }

  /** Release every acquisition made after `mark` (ROLLBACK TO SAVEPOINT). */
  releaseSince(txn: TxnId, mark: number): void {
    const tl = this.#txns.get(txn);
    if (!tl || tl.log.length <= mark) return;
    const undone = tl.log.splice(mark);
    const touched = new Set<LockObject>();
    for (let i = undone.length - 1; i >= 0; i--) {
      const e = undone[i]!;
      const obj = this.#objects.get(e.key)!;
      this.#decrement(obj, txn, e.mode);
      touched.add(obj);
    }
    for (const obj of touched) this.#wake(obj);
  }

  /** Release everything `txn` holds and cancel its waits (57014). Call at commit / abort. */
  releaseAll(txn: TxnId): void {
    const tl = this.#txns.get(txn);
    if (tl) {
      if (tl.waits.size > 0) {
        for (const w of [...tl.waits]) {
          this.#dropWaiter(w, new DbError(SqlState.QueryCanceled, 'lock wait canceled: transaction ended'));
        }
      }
      // each object once: after its holder entry is deleted, later log entries of it find none
      const touched: LockObject[] = [];
      for (const e of tl.log) {
        const obj = this.#objects.get(e.key);
        const h = obj?.holders.get(txn);
        if (obj && h) {
          for (let i = 0; i < MODE_COUNT; i++) if ((h.mask >> i) & 1) obj.heldCounts[i]!--;
          obj.holders.delete(txn);
          touched.push(obj);
        }
      }
      tl.log.length = 0;
      this.#txns.delete(txn);
      for (const obj of touched) this.#wake(obj);
    }
    this.#wounded.delete(txn);
    this.#graph.removeNode(txn);
  }

  /** Does `txn` hold `mode` (any mode when omitted) on `target`? */
  holds(txn: TxnId, target: LockTarget, mode?: LockMode): boolean {
    const h = this.#objects.get(keyOf(target))?.holders.get(txn);
    if (!h) return false;
    return mode === undefined || h.counts.has(mode);
  }

  /** Was `txn` wounded (wound-wait) and must be aborted? */
  isWounded(txn: TxnId): boolean {
    return this.#wounded.has(txn);
  }

  /** Transactions `txn` currently waits for. */
  waitingFor(txn: TxnId): readonly TxnId[] {
    return this.#graph.blockersOf(txn);
  }

  /** Held and awaited locks, holders first per object, then waiters in queue order. */
  locks(): LockInfo[] {
    const rows: LockInfo[] = [];
    for (const obj of this.#objects.values()) {
      for (const [txn, h] of obj.holders) {
        for (const [mode, count] of h.counts) rows.push({ txn, target: obj.target, mode, granted: true, count });
      }
      for (const w of obj.queue) rows.push({ txn: w.txn, target: obj.target, mode: w.mode, granted: false, count: 1 });
    }
    return rows;
  }

  /** The lock table as flat rows for a system view, holders first per object, then waiters. */
  view(): LockViewRow[] {
    const rows: LockViewRow[] = [];
    for (const obj of this.#objects.values()) {
      const t = obj.target;
      const base = {
        locktype: t.kind === 'table' ? 'relation' : t.kind === 'row' ? 'tuple' : t.kind === 'transaction' ? 'transactionid' : 'object',
        relation: t.kind === 'table' || t.kind === 'row' ? t.table : null,
        row: t.kind === 'row' ? t.row : null,
        transactionid: t.kind === 'transaction' ? t.txn : null,
        object: t.kind === 'object' ? t.name : null,
      } as const;
      for (const [txn, h] of obj.holders) for (const mode of h.counts.keys()) rows.push({ ...base, txn, mode, granted: true, blockedBy: [] });
      for (const w of obj.queue) rows.push({ ...base, txn: w.txn, mode: w.mode, granted: false, blockedBy: this.#blockersOf(w) });
    }
    return rows;
  }

  /** Search the whole graph now (what the deadlock_timeout re-check does); returns victims. */
  detectDeadlocks(): TxnId[] {
    const victims: TxnId[] = [];
    for (;;) {
      const cycle = this.#graph.findAnyCycle();
      if (!cycle) return victims;
      const victim = this.#youngest(cycle);
      victims.push(victim);
      this.#makeVictim(victim, cycle);
    }
  }

  /** Executable twin of the invariants in the header. */
  checkInvariants(): void {
    this.#graph.checkInvariants();
    const holdCounts = new Map<TxnId, Map<string, number>>();
    for (const [key, obj] of this.#objects) {
      invariant(obj.key === key, 'lock object key mismatch');
      invariant(obj.holders.size > 0 || obj.queue.length > 0 || obj.target.kind === 'table', `empty lock object ${key} kept`);
      const holders = [...obj.holders];
      for (const [txn, h] of holders) {
        invariant(h.counts.size > 0, 'holder without modes');
        let mask = 0;
        for (const [mode, c] of h.counts) {
          invariant(c > 0, 'non-positive hold count');
          mask |= modeBit(mode);
          const m = holdCounts.get(txn) ?? new Map<string, number>();
          m.set(`${key}|${mode}`, c);
          holdCounts.set(txn, m);
        }
        invariant(mask === h.mask, 'holder mask out of date');
        for (const [txn2, h2] of holders) {
          if (txn2 === txn) continue;
          for (const mode of h.counts.keys()) {
            invariant(!conflictsWithMask(mode, h2.mask), () => `conflicting holds on ${key}: ${txn} ${mode} vs ${txn2}`);
          }
        }
      }
      const held = new Int32Array(MODE_COUNT);
      const waiting = new Int32Array(MODE_COUNT);
      for (const h of obj.holders.values()) for (let i = 0; i < MODE_COUNT; i++) held[i]! += (h.mask >> i) & 1;
      for (const w of obj.queue) waiting[bitIndex(w.bit)]!++;
      for (let i = 0; i < MODE_COUNT; i++) {
        invariant(held[i] === obj.heldCounts[i] && waiting[i] === obj.waitCounts[i], () => `mode counts of ${key} out of date`);
      }
      const ahead: Waiter[] = [];
      for (const w of obj.queue) {
        invariant(w.obj === obj && !w.settled, 'queued waiter settled or misplaced');
        invariant(this.#txns.get(w.txn)?.waits.has(w) === true, 'waiter not registered with its txn');
        invariant(!this.#grantable(obj, w.txn, w.mode, ahead), () => `waiter ${w.txn} ${w.mode} on ${key} is grantable (lost wake-up)`);
        ahead.push(w);
      }
    }
    for (const [txn, tl] of this.#txns) {
      const fromLog = new Map<string, number>();
      for (const e of tl.log) fromLog.set(`${e.key}|${e.mode}`, (fromLog.get(`${e.key}|${e.mode}`) ?? 0) + 1);
      const held = holdCounts.get(txn) ?? new Map<string, number>();
      invariant(fromLog.size === held.size, () => `txn ${txn}: log and holds differ`);
      for (const [k, c] of fromLog) invariant(held.get(k) === c, () => `txn ${txn}: log count of ${k} differs`);
      const expected = new Set<TxnId>();
      for (const w of tl.waits) {
        invariant(w.obj.queue.includes(w), 'registered waiter not queued');
        for (const b of this.#blockersOf(w)) expected.add(b);
      }
      const actual = new Set(this.#graph.blockersOf(txn));
      invariant(expected.size === actual.size && [...expected].every((b) => actual.has(b)), () => `txn ${txn}: wait-for edges out of date`);
    }
    for (const [w] of this.#graph.edges()) invariant(this.#txns.has(w), 'graph edge from a txn without lock state');

    if (this.#prevention !== 'detect') invariant(this.#graph.findAnyCycle() === undefined, 'a wait-for cycle survived the call that closed it');
    else for (const tl of this.#txns.values()) for (const w of tl.waits) invariant(w.settled || w.timers.length > 0, 'a waiter without a deadlock check armed');
  }

  // ---------------------------------------------------------------------------------------------

  /** GRANTED, or the object the request would have to wait on. */
  #tryGrant(txn: TxnId, target: LockTarget, mode: LockMode, passWaiters = false): typeof GRANTED | LockObject {
    assertModeFitsTarget(target, mode);
    if (this.#wounded.size > 0 && this.#wounded.has(txn)) throw woundedError(txn);
    const key = keyOf(target);
    let obj = this.#objects.get(key);
    if (!obj) {
      obj = { key, target, holders: new Map(), queue: [], heldCounts: new Int32Array(MODE_COUNT), waitCounts: NO_WAIT_COUNTS };
      this.#objects.set(key, obj);
    }
    const h = obj.holders.get(txn);
    if (h?.counts.has(mode)) {
      h.counts.set(mode, h.counts.get(mode)! + 1);
      this.#logOf(txn).log.push({ key, mode });
      return GRANTED;
    }
    const fast = passWaiters
      ? (conflictMaskOf(mode) & this.#othersHeldMask(obj, txn)) === 0
      : this.#grantableNow(obj, txn, conflictMaskOf(mode));
    if (LockManager.debugChecks) invariant(fast === this.#grantable(obj, txn, mode, passWaiters ? [] : obj.queue), 'fast grant rule disagrees (request)');
    if (fast) {
      this.#addHold(obj, txn, mode);
      // an upgrade skips the queue: waiters may now also wait for this holder's new mode
      if (obj.queue.length > 0) this.#refreshEdges(obj);
      return GRANTED;
    }
    return obj;
  }

  #wait(txn: TxnId, obj: LockObject, mode: LockMode, opts: AcquireOptions): Promise<boolean> {
    let resolve!: (b: boolean) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<boolean>((res, rej) => { resolve = res; reject = rej; });
    const w: Waiter = { txn, mode, bit: modeBit(mode), conflicts: conflictMaskOf(mode), obj, resolve, reject, settled: false, timers: [], deadlockTimeoutMs: opts.deadlockTimeoutMs };
    if (this.#prevention === 'detect' && this.#earlyDeadlock(obj, txn, w)) {
      // PostgreSQL's "simple" deadlock, found at once: an upgrade that must pass a waiter
      // wanting a mode ours conflicts with, while that waiter holds a mode we need
      w.settled = true;
      this.stats.deadlocks++;
      reject(new DeadlockDetected('deadlock detected', { detail: `waiting for ${mode} on ${describeTarget(obj.target)}, which a waiting upgrader needs too`, hint: 'See the lock view for details; retry the transaction.' }));
      return promise;
    }
    if (obj.waitCounts === NO_WAIT_COUNTS) obj.waitCounts = new Int32Array(MODE_COUNT);
    obj.waitCounts[bitIndex(w.bit)]!++;
    const tl = this.#logOf(txn);
    if (tl.waits === NO_WAITS) tl.waits = new Set();
    tl.waits.add(w);
    this.stats.waits++;
    if (obj.holders.has(txn)) {
      // upgrade: ahead of every plain request, behind earlier upgrades; waiters behind it may
      // now wait for it too
      let i = 0;
      while (i < obj.queue.length && obj.holders.has(obj.queue[i]!.txn)) i++;
      obj.queue.splice(i, 0, w);
      this.#refreshEdges(obj);
    } else {
      obj.queue.push(w); // last in line: only its own edges are new
      this.#recomputeEdges(txn);
    }
    const blockers = this.#prevention === 'detect' ? [] : this.#blockersOf(w);
    const myAge = this.#ageOf(txn);

    switch (this.#prevention) {
      case 'no-wait':
        this.stats.preventionAborts++;
        this.#dropWaiter(w, new DeadlockDetected('could not wait for lock: deadlock_prevention = no-wait', { detail: `waiting for ${describeTarget(obj.target)}` }));
        break;
      case 'wait-die':
        if (blockers.some((b) => this.#ageOf(b) < myAge)) {
          this.stats.preventionAborts++;
          this.#dropWaiter(w, new DeadlockDetected('transaction aborted by wait-die: it is younger than a lock holder', { detail: `waiting for ${describeTarget(obj.target)}` }));
        }
        break;
      case 'wound-wait':
        for (const b of blockers) if (this.#ageOf(b) > myAge) this.#wound(b);
        break;
      case 'detect':
        // as in PostgreSQL, nothing is searched now: the wait's own deadlock_timeout timer
        // (#armTimers) looks for a cycle through it when it runs out
        break;
    }
    if (!w.settled) this.#armTimers(w, opts);
    return promise;
  }

  /**
   * ProcSleep's early deadlock test: `txn` already holds modes on `obj` and a queued request of
   * another transaction conflicts with them (it must wait for us) while our new mode conflicts
   * with what that transaction holds here (we must wait for it).
   */
  #earlyDeadlock(obj: LockObject, txn: TxnId, w: Waiter): boolean {
    const mine = obj.holders.get(txn);
    if (!mine) return false;
    for (const q of obj.queue) {
      if (q.txn === txn || (q.conflicts & mine.mask) === 0) continue;
      const theirs = obj.holders.get(q.txn);
      if (theirs && (w.conflicts & theirs.mask) !== 0) return true;
    }
    return false;
  }

  #armTimers(w: Waiter, opts: AcquireOptions): void {
    if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
      const t = setTimeout(() => {
        if (w.settled) return;
        this.stats.timeouts++;
        this.#dropWaiter(w, new DbError(SqlState.LockNotAvailable, 'canceling statement due to lock timeout', { detail: `waiting for ${w.mode} on ${describeTarget(w.obj.target)}` }));
      }, opts.timeoutMs);
      t.unref?.();
      w.timers.push(t);
    }
    if (this.#prevention === 'detect') {
      // PostgreSQL's check: when the wait has lasted the requester's deadlock_timeout, look for a
      // cycle through it; if there is one (and moving queued requests cannot break it) the
      // waiter itself is the victim. So with equal timeouts the first to wait is the victim.
      const ownMs = Math.max(0, w.deadlockTimeoutMs ?? this.#deadlockTimeoutMs);
      // belt and braces, not in PostgreSQL: later, slower re-checks (a cycle formed without a new
      // wait); their victim is the youngest member
      const recheck = (): void => {
        if (w.settled) return;
        if (this.#graph.findCycleThrough(w.txn)) this.#breakCycle(w.txn, 'youngest');
        if (!w.settled) {
          const again = setTimeout(recheck, Math.max(1, ownMs * RECHECK_FACTOR));
          again.unref?.();
          w.timers.push(again);
        }
      };
      const check = (): void => {
        if (w.settled) return;
        if (this.#graph.findCycleThrough(w.txn)) this.#breakCycle(w.txn, 'self');
        if (!w.settled) {
          const again = setTimeout(recheck, Math.max(1, ownMs * RECHECK_FACTOR));
          again.unref?.();
          w.timers.push(again);
        }
      };
      const t = setTimeout(check, ownMs);
      t.unref?.();
      w.timers.push(t);
    }
    const signal = opts.signal;
    if (signal) {
      const onAbort = (): void => {
        if (w.settled) return;
        this.#dropWaiter(w, cancelError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      w.cleanupSignal = () => signal.removeEventListener('abort', onAbort);
    }
  }

  /** Modes held on `obj` by transactions other than `txn`, from the per-mode counts. */
  #othersHeldMask(obj: LockObject, txn: TxnId): number {
    const own = obj.holders.get(txn)?.mask ?? 0;
    let m = 0;
    for (let i = 0; i < MODE_COUNT; i++) if (obj.heldCounts[i]! - ((own >> i) & 1) > 0) m |= 1 << i;
    return m;
  }

  /** The grant rule for a new request (ahead = the whole queue), in O(modes + own waits). */
  #grantableNow(obj: LockObject, txn: TxnId, conflicts: number): boolean {
    if ((conflicts & this.#othersHeldMask(obj, txn)) !== 0) return false;
    if (obj.holders.has(txn) || obj.queue.length === 0) return true;
    const ownWaits = new Int32Array(MODE_COUNT);
    for (const w of this.#txns.get(txn)?.waits ?? []) if (w.obj === obj) ownWaits[bitIndex(w.bit)]!++;
    for (let i = 0; i < MODE_COUNT; i++) {
      if (obj.waitCounts[i]! - ownWaits[i]! > 0 && (conflicts & (1 << i)) !== 0) return false;
    }
    return true;
  }

  /** The grant rule written plainly (used by `checkInvariants` as an independent check). */
  #grantable(obj: LockObject, txn: TxnId, mode: LockMode, ahead: readonly Waiter[]): boolean {
    for (const [t, h] of obj.holders) if (t !== txn && conflictsWithMask(mode, h.mask)) return false;
    if (!obj.holders.has(txn)) {
      for (const w of ahead) if (w.txn !== txn && modesConflict(mode, w.mode)) return false;
    }
    return true;
  }

  #blockersOf(w: Waiter): TxnId[] {
    const out = new Set<TxnId>();
    const obj = w.obj;
    for (const [t, h] of obj.holders) if (t !== w.txn && (w.conflicts & h.mask) !== 0) out.add(t);
    let queued = 0;
    for (let i = 0; i < MODE_COUNT; i++) if (obj.waitCounts[i]! > 0) queued |= 1 << i;
    if (!obj.holders.has(w.txn) && (w.conflicts & queued) !== 0) {
      for (const o of obj.queue) {
        if (o === w) break;
        if (o.txn !== w.txn && (w.conflicts & o.bit) !== 0) out.add(o.txn);
      }
    }
    return [...out];
  }

  #logOf(txn: TxnId): TxnLocks {
    let tl = this.#txns.get(txn);
    if (!tl) this.#txns.set(txn, (tl = { log: [], waits: NO_WAITS as Set<Waiter> }));
    return tl;
  }

  #addHold(obj: LockObject, txn: TxnId, mode: LockMode): void {
    let h = obj.holders.get(txn);
    if (!h) obj.holders.set(txn, (h = { mask: 0, counts: new Map() }));
    const c = h.counts.get(mode) ?? 0;
    h.counts.set(mode, c + 1);
    if (c === 0) {
      h.mask |= modeBit(mode);
      obj.heldCounts[bitIndex(modeBit(mode))]!++;
    }
    this.#logOf(txn).log.push({ key: obj.key, mode });
  }

  #decrement(obj: LockObject, txn: TxnId, mode: LockMode): void {
    const h = obj.holders.get(txn);
    invariant(h !== undefined && h.counts.has(mode), 'release of a lock not held');
    const c = h.counts.get(mode)! - 1;
    if (c > 0) { h.counts.set(mode, c); return; }
    h.counts.delete(mode);
    h.mask &= ~modeBit(mode);
    obj.heldCounts[bitIndex(modeBit(mode))]!--;
    if (h.counts.size === 0) obj.holders.delete(txn);
  }

  /** Grant loop (invariant 2), then refresh edges of everything still waiting on `obj`. */
  #wake(obj: LockObject): void {
    if (obj.queue.length === 0) { this.#dropIfEmpty(obj); return; } // nothing to grant, no edges
    const still: Waiter[] = [];
    const granted: Waiter[] = [];
    const stillCounts = new Int32Array(MODE_COUNT);
    const stillTxns = new Set<TxnId>();
    let stillMask = 0;
    for (const w of obj.queue) {
      let ok = (w.conflicts & this.#othersHeldMask(obj, w.txn)) === 0;
      if (ok && !obj.holders.has(w.txn)) {
        if (stillTxns.has(w.txn)) {
          for (const o of still) if (o.txn !== w.txn && (w.conflicts & o.bit) !== 0) { ok = false; break; }
        } else {
          ok = (w.conflicts & stillMask) === 0;
        }
      }
      if (LockManager.debugChecks) invariant(ok === this.#grantable(obj, w.txn, w.mode, still), 'fast grant rule disagrees (wake)');
      if (ok) {
        this.#addHold(obj, w.txn, w.mode);
        granted.push(w);
      } else {
        still.push(w);
        stillCounts[bitIndex(w.bit)]!++;
        stillTxns.add(w.txn);
        stillMask |= w.bit;
      }
    }
    obj.queue = still;
    obj.waitCounts = stillCounts;
    for (const w of granted) {
      this.#settle(w);
      w.resolve(true);
      this.#recomputeEdges(w.txn);
    }
    this.#refreshEdges(obj);
    this.#dropIfEmpty(obj);
  }

  #refreshEdges(obj: LockObject): void {
    const seen = new Set<TxnId>();
    for (const w of obj.queue) {
      if (seen.has(w.txn)) continue;
      seen.add(w.txn);
      this.#recomputeEdges(w.txn);
    }
  }

  #recomputeEdges(txn: TxnId): void {
    const tl = this.#txns.get(txn);
    const blockers = new Set<TxnId>();
    if (tl) for (const w of tl.waits) for (const b of this.#blockersOf(w)) blockers.add(b);
    this.#graph.setWaits(txn, blockers);
  }

  /**
   * A cycle runs through `start`. First try PostgreSQL's soft-deadlock resolution: an edge
   * "a waits behind b in a queue" (b only queued ahead in a conflicting mode, not holding one) is
   * SOFT; moving a's request ahead of b's (and of every other conflicting request queued before it)
   * may break the cycle (and grant a at once). Soft edges are
   * tried from the end of the cycle back (as PostgreSQL's detector reports them); a move is kept
   * only when no cycle runs through `start` afterwards. Otherwise a victim gets 40P01: `start`
   * itself ('self': its deadlock_timeout ran out, as in PostgreSQL) or the youngest member
   * ('youngest').
   */
  #breakCycle(start: TxnId, rule: 'self' | 'youngest'): void {
    for (let round = 0; round < 16; round++) {
      const cycle = this.#graph.findCycleThrough(start);
      if (!cycle) return;
      let moved = false;
      for (let i = cycle.length - 1; i >= 0 && !moved; i--) {
        const a = cycle[i]!;
        const b = cycle[(i + 1) % cycle.length]!;
        for (const w of this.#txns.get(a)?.waits ?? []) {
          const obj = w.obj;
          if (obj.holders.has(a)) continue; // an upgrade waits for holders only
          const hb = obj.holders.get(b);
          if (hb && (w.conflicts & hb.mask) !== 0) continue; // hard edge
          const qi = obj.queue.indexOf(w);
          const bq = obj.queue.findIndex((o) => o.txn === b && (w.conflicts & o.bit) !== 0);
          if (bq < 0 || bq > qi) continue;
          // ahead of every conflicting request queued before it (it then waits for holders only)
          const bi = obj.queue.findIndex((o) => o.txn !== a && (w.conflicts & o.bit) !== 0);
          const saved = obj.queue.slice();
          obj.queue.splice(qi, 1);
          obj.queue.splice(bi, 0, w);
          this.#refreshEdges(obj);
          if (!this.#graph.findCycleThrough(start)) {
            this.stats.softDeadlocks++;
            this.#wake(obj);
            moved = true;
            break;
          }
          obj.queue = saved;
          this.#refreshEdges(obj);
        }
      }
      if (!moved) {
        this.#makeVictim(rule === 'self' ? start : this.#youngest(cycle), cycle);
        return;
      }
    }
  }

  #makeVictim(victim: TxnId, cycle: readonly TxnId[]): void {
    this.stats.deadlocks++;
    const detail = cycle.map((t) => `transaction ${t}`).join(' waits for ') + ` waits for transaction ${cycle[0]}`;
    const tl = this.#txns.get(victim);
    if (!tl) return;
    for (const w of [...tl.waits]) this.#dropWaiter(w, new DeadlockDetected('deadlock detected', { detail, hint: 'See the lock view for details; retry the transaction.' }));
  }

  #wound(txn: TxnId): void {
    if (this.#wounded.has(txn)) return;
    this.#wounded.add(txn);
    this.stats.wounds++;
    const tl = this.#txns.get(txn);
    if (tl) for (const w of [...tl.waits]) this.#dropWaiter(w, woundedError(txn));
    const cb = this.#onWound;
    if (cb) queueMicrotask(() => cb(txn));
  }

  #youngest(cycle: readonly TxnId[]): TxnId {
    let v = cycle[0]!;
    for (const t of cycle) if (this.#ageOf(t) > this.#ageOf(v)) v = t;
    return v;
  }

  /** Remove a waiter from its queue and reject it; re-runs the grant loop of its object. */
  #dropWaiter(w: Waiter, err: unknown): void {
    if (w.settled) return;
    const obj = w.obj;
    obj.queue = obj.queue.filter((x) => x !== w);
    obj.waitCounts[bitIndex(w.bit)]!--;
    this.#settle(w);
    w.reject(err);
    this.#recomputeEdges(w.txn);
    this.#wake(obj);
  }

  #settle(w: Waiter): void {
    w.settled = true;
    for (const t of w.timers) clearTimeout(t);
    w.timers = [];
    w.cleanupSignal?.();
    const tl = this.#txns.get(w.txn);
    if (tl) {
      tl.waits.delete(w);
      if (tl.waits.size === 0 && tl.log.length === 0) this.#txns.delete(w.txn);
    }
  }

  #dropIfEmpty(obj: LockObject): void {
    if (obj.holders.size === 0 && obj.queue.length === 0 && this.#objects.get(obj.key) === obj) {
      // table objects are locked again and again (every statement's ACCESS SHARE): kept, empty,
      // while the map is small (no allocation per statement)
      if (obj.target.kind === 'table' && this.#objects.size <= MAX_OBJECTS_KEEPING_TABLES) return;
      this.#objects.delete(obj.key);
    }
  }
}

/** `#tryGrant`'s answer for a granted request (no result object per call). */
const GRANTED = 1 as const;

function woundedError(txn: TxnId): DbError {
  return new DeadlockDetected('transaction aborted by wound-wait: an older transaction needs its locks', { detail: `transaction ${txn} was wounded` });
}

function cancelError(signal: AbortSignal): DbError {
  const r: unknown = signal.reason;
  if (r instanceof DbError) return r;
  return new DbError(SqlState.QueryCanceled, 'canceling statement due to user request');
}

function bitIndex(bit: number): number {
  return 31 - Math.clz32(bit);
}
