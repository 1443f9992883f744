/**
 * Serializable Snapshot Isolation bookkeeping (Cahill et al. 2008; Ports & Grittner 2012, as
 * PostgreSQL's predicate.c does it): SIREAD "locks", rw-antidependency edges, dangerous-structure
 * detection, the read-only safe-snapshot optimisation, and cleanup of committed transactions.
 *
 * Vocabulary. An rw-edge R -rw-> W means R read a version older than one W wrote (R did not see
 * W's write) while R and W were concurrent. Under snapshot isolation every cycle of the
 * dependency graph contains a DANGEROUS STRUCTURE
 *     Tin -rw-> P -rw-> Tout     where Tout commits first of the three (Tin may be Tout), and,
 *                                when Tin is READ ONLY, Tout committed before Tin's snapshot.
 * Aborting one member of every dangerous structure before all three commit keeps committed
 * histories serializable.
 *
 * Where edges come from (the engine reports reads and writes; the tracker matches them):
 *   recordRead(R, table, rowId | range | 'table')  SIREAD on the item; plus an edge R -rw-> W for
 *       every concurrent serializable W that wrote a matching item and that R cannot see
 *       (W uncommitted, or committed at/after R's snapshot): "a read sees a version a concurrent
 *       transaction wrote or deleted".
 *   recordWrite(W, table, rowId, keys?)            an edge R -rw-> W for every SIREAD on the row,
 *       on a range containing one of `keys` (a write naming no key of the range's space matches),
 *       or on the whole table, by a concurrent R (running, or committed at/after W's snapshot).
 *       Deletes and the old version of an update report the old row id; inserts and the new
 *       version report the new row id and its keys.
 *   recordRwConflict(R, writerId)                  an explicit edge (the engine saw the stamp).
 *
 * Commit order is the commit-timestamp order. Timestamps are reserved when `prepare` (the commit
 * check) passes, before the WAL write, and snapshots never include a reserved-but-unfinished
 * timestamp (TransactionManager), so "commits first" is decided exactly at prepare time.
 *
 * When checks run: whenever an edge is added (structures through that edge) and at `prepare`
 * (structures through the committing transaction, which now has a timestamp). The victim of a
 * dangerous structure is the first of [pivot, caller, Tin, Tout] that is still running (not
 * prepared or committed); the caller gets 40001 at once, another victim is DOOMED: its next
 * recordRead / recordWrite / prepare throws 40001 (`isDoomed` lets the engine check earlier).
 *
 * Read-only optimisation: a READ ONLY serializable transaction remembers the read-write
 * serializable transactions running when it took its snapshot. If none, or once all of them have
 * ended and none committed with an rw-edge out to a transaction committed before the snapshot,
 * the snapshot is SAFE: the transaction cannot take part in an anomaly, its SIREADs are dropped
 * and it runs without tracking (`snapshotSafety`).
 *
 * Cleanup: a committed transaction's SIREADs, writes and edges are kept until every running
 * serializable transaction started after it committed; then they are dropped and summarised on
 * its committed neighbours (earliest out-conflict commit ts, "has in-conflict"), as PostgreSQL's
 * summary flags, so structures through dropped transactions are still (conservatively) caught.
 * Row SIREADs beyond `maxRowLocksPerTable` on one table are promoted to a table SIREAD; row writes
 * beyond it to a table-wide write (it then matches every row read and every range on the table).
 *
 * Invariants (checked by `checkInvariants()`):
 *  1. in/out edge sets are mutual mirrors; edges join distinct, tracked transactions.
 *  2. The item indexes (readers / writers per row, range, table) equal the per-transaction sets.
 *  3. No dangerous structure exists whose three members are all prepared or committed and none of
 *     which is doomed (the property that makes committed histories serializable).
 *  4. A tracked committed transaction has ts < the oldest running tracked snapshot + ... i.e. it
 *     overlaps some running tracked transaction, or cleanup has not run yet since it committed.
 *
 * Concurrency: single JS thread; every method is synchronous.
 */
import type { TableId, Timestamp, TxnId } from '@quiverdb/common';
import { SerializationFailure, invariant } from '@quiverdb/common';
import type { Transaction } from './transaction.js';
import { writeMatchesRange, type SsiRange, type SsiWriteKeys } from './ssi-key.js';

export type SsiReadTarget = number | SsiRange | 'table';
export type SnapshotSafety = 'safe' | 'unsafe' | 'pending' | 'untracked';

export interface SsiOptions {
  /** Row SIREADs per table and transaction before promotion to a table SIREAD. Default 4096. */
  maxRowLocksPerTable?: number;
  /**
   * The oldest snapshot start any transaction may still take (TransactionManager: the snapshot
   * boundary). Committed transactions at or above it are kept. Default: no floor.
   */
  snapshotFloor?: () => number;
}

interface Sx {
  readonly txn: Transaction;
  readonly id: TxnId;
  readonly readOnly: boolean;
  readonly startTs: Timestamp;
  state: 'active' | 'prepared' | 'committed';
  ts: Timestamp | undefined;
  doomed: boolean;
  readonly in: Set<Sx>;
  readonly out: Set<Sx>;
  /** a dropped committed transaction had an rw-edge into this one */
  summaryIn: boolean;
  /** earliest commit ts of a dropped transaction this one had an rw-edge to (Infinity: none) */
  summaryOut: number;
  readonly rowReads: Map<TableId, Set<number>>;
  readonly rangeReads: Map<TableId, SsiRange[]>;
  readonly tableReads: Set<TableId>;
  readonly writes: Map<TableId, Map<number, SsiWriteKeys | undefined>>;
  /** tables whose writes were promoted: treated as writing every row and key of the table */
  readonly tableWrites: Set<TableId>;
  /** read-only: read-write transactions running at snapshot time (undefined once decided) */
  possibleUnsafe: Set<Sx> | undefined;
  unsafe: boolean;
  /** read-write: read-only transactions waiting on this one to decide their safety */
  readonly roWatchers: Set<Sx>;
  /** read-only: callbacks waiting for the safety decision (DEFERRABLE) */
  readonly onSafety: ((s: SnapshotSafety) => void)[];
}

/** Stand-ins for dropped transactions in structure checks. */
interface Ghost { readonly ghost: true; readonly ts: number | undefined }
type Member = Sx | Ghost;
const isGhost = (m: Member): m is Ghost => 'ghost' in m;

export class SsiTracker {
  readonly #byId = new Map<TxnId, Sx>();
  readonly #safe = new Set<TxnId>();
  readonly #rowReaders = new Map<TableId, Map<number, Set<Sx>>>();
  readonly #rangeReaders = new Map<TableId, Set<Sx>>();
  readonly #tableReaders = new Map<TableId, Set<Sx>>();
  readonly #rowWriters = new Map<TableId, Map<number, Set<Sx>>>();
  readonly #tableWriters = new Map<TableId, Set<Sx>>();
  /** writers whose writes on the table were promoted (match every row read and every range) */
  readonly #tableWideWriters = new Map<TableId, Set<Sx>>();
  #committed: Sx[] = [];
  readonly #maxRows: number;
  readonly #floor: () => number;
  /** counters for metrics and tests */
  readonly stats = { edges: 0, aborts: 0, dooms: 0, promotions: 0, safeSnapshots: 0, dropped: 0 };

  constructor(opts: SsiOptions = {}) {
    this.#maxRows = opts.maxRowLocksPerTable ?? 4096;
    this.#floor = opts.snapshotFloor ?? (() => Infinity);
  }

  /**
   * Start tracking a serializable transaction once it has its snapshot.
   * REQUIRES: txn.isSerializable, txn.snapshot set, not registered yet.
   */
  register(txn: Transaction): void {
    invariant(txn.isSerializable && txn.snapshot !== undefined, 'SSI register needs a serializable txn with a snapshot');
    invariant(!this.#byId.has(txn.id) && !this.#safe.has(txn.id), 'SSI register twice');
    const sx: Sx = {
      txn, id: txn.id, readOnly: txn.readOnly, startTs: txn.snapshot.startTs, state: 'active', ts: undefined,
      doomed: false, in: new Set(), out: new Set(), summaryIn: false, summaryOut: Infinity,
      rowReads: new Map(), rangeReads: new Map(), tableReads: new Set(), writes: new Map(), tableWrites: new Set(),
      possibleUnsafe: undefined, unsafe: false, roWatchers: new Set(), onSafety: [],
    };
    if (sx.readOnly) {
      // read-write transactions this snapshot does not see: running, prepared, or committed at or
      // above the snapshot start (a commit can finish after a later-reserved one: see the boundary)
      const concurrent = new Set<Sx>();
      for (const o of this.#byId.values()) {
        if (o.readOnly || this.#visibleTo(o, sx)) continue;
        if (o.state === 'committed') {
          if (this.#committedUnsafeFor(o, sx)) { sx.unsafe = true; concurrent.clear(); break; }
          continue; // finished without a dangerous out-conflict: it can no longer get one
        }
        concurrent.add(o);
      }
      if (sx.unsafe) {
        // tracked like any serializable transaction
      } else if (concurrent.size === 0) {
        this.#safe.add(txn.id);
        this.stats.safeSnapshots++;
        return;
      } else {
        sx.possibleUnsafe = concurrent;
        for (const o of concurrent) o.roWatchers.add(sx);
      }
    }
    this.#byId.set(txn.id, sx);
  }

  /**
   * Resolves when a read-only transaction's snapshot is known safe or unsafe (at once when it
   * already is, or 'untracked' for other transactions). For SERIALIZABLE READ ONLY DEFERRABLE.
   */
  whenSafetyKnown(txn: Transaction): Promise<SnapshotSafety> {
    const now = this.snapshotSafety(txn);
    if (now !== 'pending') return Promise.resolve(now);
    const sx = this.#byId.get(txn.id)!;
    return new Promise((resolve) => sx.onSafety.push(resolve));
  }

  /**
   * Stop tracking a transaction that has not read or written anything yet, so it can take a new
   * snapshot (DEFERRABLE retry after an unsafe snapshot). REQUIRES: no reads, writes or edges.
   */
  unregister(txn: Transaction): void {
    if (this.#safe.delete(txn.id)) return;
    const sx = this.#byId.get(txn.id);
    if (!sx) return;
    invariant(this.#untouched(sx), 'SSI unregister of a transaction that did work');
    this.#notifySafety(sx, 'untracked');
    this.#forget(sx);
  }

  /** May `unregister` drop this transaction (not tracked, or nothing read, written or linked yet)? */
  canUnregister(txn: Transaction): boolean {
    const sx = this.#byId.get(txn.id);
    return sx === undefined || this.#untouched(sx);
  }

  #untouched(sx: Sx): boolean {
    return sx.state === 'active' && sx.in.size === 0 && sx.out.size === 0 && sx.writes.size === 0 &&
      sx.rowReads.size === 0 && sx.rangeReads.size === 0 && sx.tableReads.size === 0 && sx.tableWrites.size === 0;
  }

  /** Is this transaction tracked (serializable, registered, snapshot not known safe)? */
  isTracked(txn: Transaction): boolean {
    return this.#byId.has(txn.id);
  }

  isDoomed(txn: Transaction): boolean {
    return this.#byId.get(txn.id)?.doomed === true;
  }

  snapshotSafety(txn: Transaction): SnapshotSafety {
    if (this.#safe.has(txn.id)) return 'safe';
    const sx = this.#byId.get(txn.id);
    if (!sx || !sx.readOnly) return 'untracked';
    return sx.unsafe ? 'unsafe' : 'pending';
  }

  /** Record a read (SIREAD) and the rw-edges to concurrent writers of the item. May throw 40001. */
  recordRead(txn: Transaction, table: TableId, target: SsiReadTarget): void {
    const sx = this.#live(txn);
    if (!sx) return;
    const writers = new Set<Sx>();
    if (target === 'table') {
      if (!sx.tableReads.has(table)) {
        this.#dropRowAndRangeReads(sx, table);
        sx.tableReads.add(table);
        addTo(this.#tableReaders, table, sx);
      }
      for (const w of this.#tableWriters.get(table) ?? []) writers.add(w);
    } else if (typeof target === 'number') {
      if (!sx.tableReads.has(table)) {
        let rows = sx.rowReads.get(table);
        if (!rows) sx.rowReads.set(table, (rows = new Set()));
        if (!rows.has(target)) {
          rows.add(target);
          let idx = this.#rowReaders.get(table);
          if (!idx) this.#rowReaders.set(table, (idx = new Map()));
          let s = idx.get(target);
          if (!s) idx.set(target, (s = new Set()));
          s.add(sx);
          if (rows.size > this.#maxRows) {
            this.stats.promotions++;
            this.#dropRowAndRangeReads(sx, table);
            sx.tableReads.add(table);
            addTo(this.#tableReaders, table, sx);
          }
        }
      }
      for (const w of this.#rowWriters.get(table)?.get(target) ?? []) writers.add(w);
      for (const w of this.#tableWideWriters.get(table) ?? []) writers.add(w);
    } else {
      if (!sx.tableReads.has(table)) {
        let rs = sx.rangeReads.get(table);
        if (!rs) sx.rangeReads.set(table, (rs = []));
        rs.push(target);
        addTo(this.#rangeReaders, table, sx);
      }
      for (const w of this.#tableWriters.get(table) ?? []) {
        if (w.tableWrites.has(table)) { writers.add(w); continue; }
        for (const keys of w.writes.get(table)?.values() ?? []) {
          if (writeMatchesRange(keys, target)) { writers.add(w); break; }
        }
      }
    }
    for (const w of writers) {
      if (w !== sx && !this.#visibleTo(w, sx)) this.#addEdge(sx, w, sx);
    }
  }

  /** Record row reads in bulk (a scan's visible row ids). */
  recordReads(txn: Transaction, table: TableId, rowIds: ArrayLike<number>): void {
    if (!this.#byId.has(txn.id)) { this.#live(txn); return; }
    for (let i = 0; i < rowIds.length; i++) this.recordRead(txn, table, rowIds[i]!);
  }

  /** Record a write (insert, delete, either half of an update) and rw-edges from concurrent readers. */
  recordWrite(txn: Transaction, table: TableId, rowId: number, keys?: SsiWriteKeys): void {
    const sx = this.#live(txn);
    if (!sx) return;
    let rows = sx.writes.get(table);
    if (!rows) sx.writes.set(table, (rows = new Map()));
    addTo(this.#tableWriters, table, sx);
    if (!sx.tableWrites.has(table) && !rows.has(rowId)) {
      rows.set(rowId, keys);
      let idx = this.#rowWriters.get(table);
      if (!idx) this.#rowWriters.set(table, (idx = new Map()));
      let s = idx.get(rowId);
      if (!s) idx.set(rowId, (s = new Set()));
      s.add(sx);
      if (rows.size > this.#maxRows) {
        // a bulk write: keep one table-wide entry instead of one per row (conservative)
        this.stats.promotions++;
        this.#dropRowWrites(sx, table);
        sx.writes.set(table, new Map());
        sx.tableWrites.add(table);
        addTo(this.#tableWideWriters, table, sx);
      }
    }

    const readers = new Set<Sx>();
    for (const r of this.#rowReaders.get(table)?.get(rowId) ?? []) readers.add(r);
    for (const r of this.#tableReaders.get(table) ?? []) readers.add(r);
    for (const r of this.#rangeReaders.get(table) ?? []) {
      if (r.rangeReads.get(table)?.some((rg) => writeMatchesRange(keys, rg))) readers.add(r);
    }
    for (const r of readers) {
      if (r !== sx && this.#concurrentReader(r, sx)) this.#addEdge(r, sx, sx);
    }
  }

  /** Record writes in bulk (an INSERT batch, a DELETE's row ids); `keysOf(i)` gives row i's keys. */
  recordWrites(txn: Transaction, table: TableId, rowIds: ArrayLike<number>, keysOf?: (i: number) => SsiWriteKeys | undefined): void {
    if (!this.#byId.has(txn.id)) { this.#live(txn); return; }
    for (let i = 0; i < rowIds.length; i++) this.recordWrite(txn, table, rowIds[i]!, keysOf?.(i));
  }

  /** An rw-edge the engine saw directly (reader skipped or saw-deleted a version by `writer`). */
  recordRwConflict(reader: Transaction, writer: TxnId): void {
    const r = this.#live(reader);
    if (!r) return;
    const w = this.#byId.get(writer);
    if (!w || w === r || this.#visibleTo(w, r)) return;
    this.#addEdge(r, w, r);
  }

  /**
   * The commit check: with the commit timestamp `ts` the transaction will get, look for
   * dangerous structures through it; throws 40001 if it must abort, else it is PREPARED (it can no
   * longer be chosen as a victim). REQUIRES: ts greater than every ts given before.
   */
  prepare(txn: Transaction, ts: Timestamp): void {
    const sx = this.#byId.get(txn.id);
    if (!sx) return; // not serializable, never took a snapshot, or a safe read-only snapshot
    invariant(sx.state === 'active', 'SSI: prepare twice');
    if (sx.doomed) throw doomedError();
    sx.ts = ts;
    sx.state = 'prepared';
    try {
      for (const p of sx.in) {
        for (const tin of this.#ins(p)) this.#consider(tin, p, sx, sx);
      }
      for (const tout of this.#outs(sx)) {
        for (const tin of this.#ins(sx)) this.#consider(tin, sx, tout, sx);
      }
      for (const p of sx.out) {
        for (const tout of this.#outs(p)) this.#consider(sx, p, tout, sx);
      }
    } catch (err) {
      sx.ts = undefined;
      sx.state = 'active';
      throw err;
    }
  }

  /**
   * The transaction ended (committed after `prepare`, or aborted at any point). Call it for every
   * transaction, serializable or not: it also runs cleanup, which depends on the snapshot floor.
   */
  onEnd(txn: Transaction, committed: boolean): void {
    if (this.#safe.delete(txn.id)) { this.#cleanup(); return; }
    const sx = this.#byId.get(txn.id);
    if (!sx) { this.#cleanup(); return; }
    if (committed) {
      invariant(sx.state === 'prepared' && sx.ts !== undefined, 'SSI commit without prepare');
      sx.state = 'committed';
      const c = this.#committed;
      c.push(sx);
      for (let i = c.length - 1; i > 0 && c[i - 1]!.ts! > c[i]!.ts!; i--) [c[i - 1], c[i]] = [c[i]!, c[i - 1]!];
      this.#settleWatchers(sx, true);
      if (sx.readOnly) this.#unwatch(sx);
    } else {
      this.#settleWatchers(sx, false);
      this.#forget(sx);
    }
    this.#cleanup();
  }

  /** Number of tracked transactions (running + committed kept for overlap). */
  get trackedCount(): number {
    return this.#byId.size;
  }

  /** Edges as [reader, writer] id pairs (for tests and views). */
  edges(): [TxnId, TxnId][] {
    const r: [TxnId, TxnId][] = [];
    for (const sx of this.#byId.values()) for (const o of sx.out) r.push([sx.id, o.id]);
    return r;
  }

  checkInvariants(): void {
    for (const sx of this.#byId.values()) {
      for (const o of sx.out) {
        invariant(o !== sx && o.in.has(sx) && this.#byId.get(o.id) === o, 'SSI out edge not mirrored / untracked');
      }
      for (const i of sx.in) invariant(i.out.has(sx) && this.#byId.get(i.id) === i, 'SSI in edge not mirrored / untracked');
      invariant((sx.ts !== undefined) === (sx.state !== 'active'), 'SSI ts iff prepared/committed');
      for (const [t, rows] of sx.rowReads) {
        invariant(!sx.tableReads.has(t), 'row SIREADs kept under a table SIREAD');
        for (const r of rows) invariant(this.#rowReaders.get(t)?.get(r)?.has(sx) === true, 'row reader index');
      }
      for (const t of sx.tableReads) invariant(this.#tableReaders.get(t)?.has(sx) === true, 'table reader index');
      for (const t of sx.rangeReads.keys()) invariant(this.#rangeReaders.get(t)?.has(sx) === true, 'range reader index');
      for (const [t, rows] of sx.writes) {
        invariant(this.#tableWriters.get(t)?.has(sx) === true, 'table writer index');
        for (const r of rows.keys()) invariant(this.#rowWriters.get(t)?.get(r)?.has(sx) === true, 'row writer index');
        if (sx.tableWrites.has(t)) invariant(rows.size === 0 && this.#tableWideWriters.get(t)?.has(sx) === true, 'promoted writes still per row');
      }
      for (const t of sx.tableWrites) invariant(sx.writes.has(t), 'promoted writes without a table entry');
    }
    const all = (m: Map<TableId, Map<number, Set<Sx>>>, f: (sx: Sx, t: TableId, r: number) => boolean): void => {
      for (const [t, rows] of m) for (const [r, s] of rows) {
        invariant(s.size > 0, 'empty index set');
        for (const sx of s) invariant(this.#byId.get(sx.id) === sx && f(sx, t, r), 'index entry without a source');
      }
    };
    all(this.#rowReaders, (sx, t, r) => sx.rowReads.get(t)?.has(r) === true);
    all(this.#rowWriters, (sx, t, r) => sx.writes.get(t)?.has(r) === true);
    for (const [t, s] of this.#tableReaders) for (const sx of s) invariant(sx.tableReads.has(t), 'table reader index stale');
    for (const [t, s] of this.#rangeReaders) for (const sx of s) invariant(sx.rangeReads.has(t), 'range reader index stale');
    for (const [t, s] of this.#tableWriters) for (const sx of s) invariant(sx.writes.has(t), 'table writer index stale');
    for (const [t, s] of this.#tableWideWriters) for (const sx of s) invariant(sx.tableWrites.has(t), 'table-wide writer index stale');
    for (let i = 1; i < this.#committed.length; i++) invariant(this.#committed[i - 1]!.ts! < this.#committed[i]!.ts!, 'committed list order');
    // 3. no unresolvable dangerous structure
    for (const p of this.#byId.values()) {
      for (const tin of this.#ins(p)) for (const tout of this.#outs(p)) {
        if (!this.#dangerous(tin, p, tout)) continue;
        if (isGhost(tin) || isGhost(tout)) continue; // summaries are conservative, not exact
        const members = [tin, p, tout];
        if (members.some((m) => m.doomed || m.state === 'active')) continue;
        invariant(false, () => `SSI: dangerous structure among finished transactions (pivot ${p.id})`);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  #live(txn: Transaction): Sx | undefined {
    if (!txn.isSerializable || this.#safe.has(txn.id)) return undefined;
    const sx = this.#byId.get(txn.id);
    invariant(sx !== undefined, 'SSI: serializable transaction used before its snapshot was registered');
    invariant(sx.state === 'active', 'SSI: read or write after prepare');
    if (sx.doomed) throw doomedError();
    return sx;
  }

  /** Did `w` commit before `r`'s snapshot (so r sees w's writes)? */
  #visibleTo(w: Sx, r: Sx): boolean {
    return w.ts !== undefined && w.state === 'committed' && w.ts < r.startTs;
  }

  /** Is reader `r` concurrent with writer `w` (r did not commit before w's snapshot)? */
  #concurrentReader(r: Sx, w: Sx): boolean {
    return !(r.ts !== undefined && r.state === 'committed' && r.ts < w.startTs);
  }

  #ins(p: Sx): Member[] {
    const r: Member[] = [...p.in];
    if (p.summaryIn) r.push({ ghost: true, ts: undefined });
    return r;
  }

  #outs(p: Sx): Member[] {
    const r: Member[] = [...p.out];
    if (p.summaryOut !== Infinity) r.push({ ghost: true, ts: p.summaryOut });
    return r;
  }

  #addEdge(r: Sx, w: Sx, caller: Sx): void {
    if (r.out.has(w)) return;
    r.out.add(w);
    w.in.add(r);
    this.stats.edges++;
    for (const tout of this.#outs(w)) this.#consider(r, w, tout, caller);
    for (const tin of this.#ins(r)) this.#consider(tin, r, w, caller);
  }

  /** Is Tin -rw-> P -rw-> Tout dangerous (Tout commits first; read-only Tin refinement)? */
  #dangerous(tin: Member, p: Sx, tout: Member): boolean {
    const toutTs = tout.ts;
    if (toutTs === undefined) return false; // Tout still running: checked again when it prepares
    if (p.ts !== undefined && !(toutTs < p.ts)) return false;
    if (isGhost(tin)) return true; // a dropped committed Tin: assume the worst
    if (tin.ts !== undefined && !(toutTs <= tin.ts)) return false;
    if (tin.readOnly && !(toutTs < tin.startTs)) return false;
    return true;
  }

  #consider(tin: Member, p: Sx, tout: Member, caller: Sx): void {
    if (!this.#dangerous(tin, p, tout)) return;
    const members = [tin, p, tout].filter((m): m is Sx => !isGhost(m));
    if (members.some((m) => m.doomed)) return;
    const abortable = (m: Member): m is Sx => !isGhost(m) && (m.state === 'active' || m === caller) && m.state !== 'committed';
    const order: Member[] = [p, caller, tin, tout];
    const victim = order.find((m) => members.includes(m as Sx) && abortable(m)) as Sx | undefined;
    invariant(victim !== undefined, 'SSI: dangerous structure with no abortable member');
    victim.doomed = true;
    if (victim === caller) {
      this.stats.aborts++;
      throw doomedError();
    }
    this.stats.dooms++;
  }

  #settleWatchers(w: Sx, committed: boolean): void {
    for (const ro of w.roWatchers) {
      if (!ro.possibleUnsafe) continue;
      ro.possibleUnsafe.delete(w);
      if (committed) {
        if (this.#committedUnsafeFor(w, ro)) {
          ro.unsafe = true;
          this.#notifySafety(ro, 'unsafe');
          this.#unwatch(ro);
          continue;
        }
      }
      if (ro.possibleUnsafe.size === 0) {
        ro.possibleUnsafe = undefined;
        if (ro.state === 'active') {
          this.#safe.add(ro.id);
          this.stats.safeSnapshots++;
          this.#forget(ro);
          this.#notifySafety(ro, 'safe');
        }
      }
    }
    w.roWatchers.clear();
  }

  /** Did read-write `w` commit with an rw-edge out to a transaction committed before ro's snapshot? */
  #committedUnsafeFor(w: Sx, ro: Sx): boolean {
    if (w.summaryOut < ro.startTs) return true;
    for (const o of w.out) if (o.ts !== undefined && o.state === 'committed' && o.ts < ro.startTs) return true;
    return false;
  }

  #notifySafety(ro: Sx, s: SnapshotSafety): void {
    const cbs = ro.onSafety.splice(0);
    for (const cb of cbs) cb(s);
  }

  #unwatch(ro: Sx): void {
    for (const w of ro.possibleUnsafe ?? []) w.roWatchers.delete(ro);
    ro.possibleUnsafe = undefined;
  }

  /** Remove every trace of a transaction (aborted, or read-only with a safe snapshot). */
  #forget(sx: Sx): void {
    for (const o of sx.out) o.in.delete(sx);
    for (const i of sx.in) i.out.delete(sx);
    sx.out.clear();
    sx.in.clear();
    this.#unwatch(sx);
    for (const w of sx.roWatchers) w.possibleUnsafe?.delete(sx);
    this.#dropItems(sx);
    this.#byId.delete(sx.id);
  }

  #dropItems(sx: Sx): void {
    for (const t of [...sx.rowReads.keys(), ...sx.rangeReads.keys()]) this.#dropRowAndRangeReads(sx, t);
    for (const t of sx.tableReads) removeFrom(this.#tableReaders, t, sx);
    sx.tableReads.clear();
    for (const t of sx.writes.keys()) {
      this.#dropRowWrites(sx, t);
      removeFrom(this.#tableWriters, t, sx);
    }
    for (const t of sx.tableWrites) removeFrom(this.#tableWideWriters, t, sx);
    sx.tableWrites.clear();
    sx.writes.clear();
  }

  #dropRowWrites(sx: Sx, table: TableId): void {
    const rows = sx.writes.get(table);
    if (!rows) return;
    const idx = this.#rowWriters.get(table);
    for (const r of rows.keys()) {
      const s = idx?.get(r);
      s?.delete(sx);
      if (s?.size === 0) idx!.delete(r);
    }
    if (idx?.size === 0) this.#rowWriters.delete(table);
    rows.clear();
  }

  #dropRowAndRangeReads(sx: Sx, table: TableId): void {
    const rows = sx.rowReads.get(table);
    if (rows) {
      const idx = this.#rowReaders.get(table);
      for (const r of rows) {
        const s = idx?.get(r);
        s?.delete(sx);
        if (s?.size === 0) idx!.delete(r);
      }
      if (idx?.size === 0) this.#rowReaders.delete(table);
      sx.rowReads.delete(table);
    }
    if (sx.rangeReads.delete(table)) removeFrom(this.#rangeReaders, table, sx);
  }

  /** Drop committed transactions no running tracked transaction overlaps, with summaries. */
  #cleanup(): void {
    let horizon = this.#floor();
    for (const sx of this.#byId.values()) if (sx.state !== 'committed' && sx.startTs < horizon) horizon = sx.startTs;
    let n = 0;
    while (n < this.#committed.length && this.#committed[n]!.ts! < horizon) n++;
    if (n === 0) return;
    const drop = this.#committed.slice(0, n);
    this.#committed = this.#committed.slice(n);
    for (const c of drop) {
      for (const p of c.in) {
        if (c.ts! < p.summaryOut) p.summaryOut = c.ts!;
        p.out.delete(c);
      }
      for (const x of c.out) {
        x.summaryIn = true;
        x.in.delete(c);
      }
      c.in.clear();
      c.out.clear();
      this.#dropItems(c);
      this.#byId.delete(c.id);
      this.stats.dropped++;
    }
  }
}

function doomedError(): SerializationFailure {
  return new SerializationFailure('could not serialize access due to read/write dependencies among transactions', {
    hint: 'The transaction might succeed if retried.',
  });
}

function addTo(m: Map<TableId, Set<Sx>>, t: TableId, sx: Sx): void {
  let s = m.get(t);
  if (!s) m.set(t, (s = new Set()));
  s.add(sx);
}

function removeFrom(m: Map<TableId, Set<Sx>>, t: TableId, sx: Sx): void {
  const s = m.get(t);
  if (!s) return;
  s.delete(sx);
  if (s.size === 0) m.delete(t);
}
