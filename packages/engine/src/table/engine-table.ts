/**
 * `EngineTable`: the query engine's `TableSource` for one table, inside one transaction.
 *
 * Reads go to storage with the statement's snapshot. Writes:
 *  - insert: append the rows as this transaction's versions, then add index entries and check
 *    UNIQUE / PRIMARY KEY keys (23505), waiting for a running transaction that wrote the same key;
 *  - delete: stamp the visible versions; a row another running transaction changed is waited for
 *    (through the transaction manager, so deadlocks are found); a row changed by a transaction that
 *    committed after our snapshot is a serialization failure (40001) in REPEATABLE READ /
 *    SERIALIZABLE; in READ COMMITTED the row is skipped and the statement re-run on a new snapshot,
 *    limited to the rows (by key) the first run targeted — PostgreSQL's EvalPlanQual re-check
 *    (EngineTransaction.retryNeeded);
 *  - update = delete of the old version + insert of the new one.
 *
 * Locks: ACCESS SHARE for reads, ROW EXCLUSIVE for writes (PostgreSQL's implicit table locks),
 * ROW SHARE for SELECT ... FOR UPDATE / SHARE, whose rows get lock-manager row locks through
 * `lockRows`, called by the query's LockRows step (query exec/lock-rows.ts) for the rows its LIMIT
 * takes, in order; NOWAIT → 55P03, SKIP LOCKED leaves rows out. Row locks are
 * on the row's primary (else first unique) key, so they follow the row across versions (a FOR KEY
 * SHARE survives another transaction's non-key update); tables without one lock the row's version
 * chain (the first version's id, `EngineTransaction.rowChainId`; updates of tables without a
 * primary key record the chain), which follows the row the same way. Once a table has
 * had such row locks, its writers take FOR UPDATE / FOR NO KEY UPDATE row locks too, so they wait
 * for the lockers; other tables skip that cost.
 *
 * SERIALIZABLE (SSI): index lookups read key ranges + rows; a scan whose pushed-down predicate
 * bounds the leading column of an index reads that key range + the rows passing the predicates;
 * any other scan reads the whole table. Deletes report the old version's index keys.
 *
 * Invariants:
 *  1. Every version this table inserts gets its index entries before the statement returns.
 *  2. A statement that throws has its writes undone by the connection (statement savepoint).
 */
import {
  ABORTED,
  DbError,
  NOT_DELETED,
  SqlState,
  isUncommittedStamp,
  type ColumnBatch,
  type ColumnVector,
  type TxnId,
} from '@quiverdb/common';
import { decodeKey, encodeKeyFromColumns, encodeKeyScratch } from '@quiverdb/indexes';
import type { IndexDef, ScanBatch, ScanRequest, TableDef, TableSource, TableStats } from '@quiverdb/query';
import { valueToText } from '@quiverdb/query';
import type { Database } from '../database.js';
import type { EngineTransaction } from '../transaction.js';
import { indexDefOf, tableDefOf, type IndexMeta, type TableMeta } from '../catalog/catalog-state.js';
import type { KeyIndex } from './key-index.js';
import { checkReferences, onParentKeysRemoved } from './foreign-keys.js';
import type { RowLockMode, SsiKey, SsiKeyPart } from '@quiverdb/txn';

/** Table definitions per catalog entry (entries are immutable: a catalog change makes new ones). */
const defs = new WeakMap<TableMeta, TableDef>();

export class EngineTable implements TableSource {
  readonly def: TableDef;
  readonly #db: Database;
  readonly #txn: EngineTransaction;
  readonly #meta: TableMeta;
  readonly #indexes: readonly IndexMeta[];
  #readLocked = false;
  #writeLocked = false;

  constructor(db: Database, txn: EngineTransaction, meta: TableMeta, indexes: readonly IndexMeta[]) {
    this.#db = db;
    this.#txn = txn;
    this.#meta = meta;
    this.#indexes = indexes;
    let def = defs.get(meta);
    if (!def) defs.set(meta, (def = tableDefOf(meta)));
    this.def = def;
  }

  stats(): TableStats {
    const analyzed = this.#db.tableStats(this.#meta.id);
    return { rowCount: this.#db.store.rowCount(this.#meta.id), ...(analyzed ? { columns: analyzed.columns } : {}) };
  }

  indexes(): readonly IndexDef[] {
    return this.#indexes.map((ix) => indexDefOf(ix, this.#meta));
  }

  async *scan(req: ScanRequest): AsyncIterable<ScanBatch> {
    const rowLock = this.#rowLockOf(req);
    await this.#lockForRead(rowLock !== undefined);
    // SERIALIZABLE: a scan reads the whole table's predicate (as PostgreSQL's relation-level
    // SIREAD) unless a pushed-down predicate bounds the leading column of an index: then it reads
    // that key range (inserts into it conflict) and the rows that pass the predicates
    const ssiLead = this.#ssi ? this.#recordScanPredicate(req) : undefined;
    const ssiRows = ssiLead !== undefined;
    // every row of the range is read (as PostgreSQL's tuple SIREADs, taken before other filters):
    // a write keeping the row's key then conflicts through the row, not the range
    const ssiReq = ssiRows ? { ...req, predicates: req.predicates.filter((p) => p.column === ssiLead) } : req;
    const snapshot = this.#txn.snapshot;
    const opts = { columns: req.columns, predicates: req.predicates, withRowIds: req.withRowIds || rowLock !== undefined || ssiRows };
    for await (const b of this.#db.store.scan(this.#meta.id, snapshot, opts)) {
      if (ssiRows && b.rowIds) {
        const read: number[] = [];
        for (let i = 0; i < b.batch.length; i++) if (matchesPredicates(ssiReq, b.batch, i)) read.push(b.rowIds[i]!);
        this.#db.txns.ssi.recordReads(this.#txn.handle, this.#meta.id, Float64Array.from(read));
      }
      if (rowLock !== undefined && b.rowIds) {
        // lock the rows the pushed-down predicates let through (the others are filtered out above)
        const candidates: number[] = [];
        for (let i = 0; i < b.batch.length; i++) if (matchesPredicates(req, b.batch, i)) candidates.push(i);
        const kept = await this.#lockRows(b.rowIds, candidates, rowLock.mode, rowLock.wait);
        if (kept.length !== b.batch.length) {
          const batch = takeRows(b.batch, kept);
          const ids = Float64Array.from(kept, (i) => b.rowIds![i]!);
          if (batch.length > 0) yield req.withRowIds ? { batch, rowIds: ids } : { batch };
          continue;
        }
      }
      yield b.rowIds && req.withRowIds ? { batch: b.batch, rowIds: b.rowIds } : { batch: b.batch };
    }
  }

  /**
   * SSI for a scan: record the key range(s) of an index whose leading column a pushed-down
   * predicate bounds, and return that column (the caller records the rows passing its
   * predicates); or record a table-wide SIREAD and return undefined.
   */
  #recordScanPredicate(req: ScanRequest): number | undefined {
    const ssi = this.#db.txns.ssi;
    for (const ix of this.#indexes) {
      const lead = ix.columns[0];
      // the predicates must be checkable on the batch (their column read) to pick the rows
      if (lead === undefined || !req.predicates.every((p) => req.columns.includes(p.column))) continue;
      const p = req.predicates.find((q) => q.column === lead && q.kind !== 'isNull' && !(q.kind === 'cmp' && (q.value === null || q.value === undefined)));
      if (!p) continue;
      const ranges: { lo?: unknown; hi?: unknown; loInclusive: boolean; hiInclusive: boolean }[] = [];
      if (p.kind === 'cmp') {
        if (p.op === '=') ranges.push({ lo: p.value, hi: p.value, loInclusive: true, hiInclusive: true });
        else if (p.op === '<' || p.op === '<=') ranges.push({ hi: p.value, loInclusive: true, hiInclusive: p.op === '<=' });
        else ranges.push({ lo: p.value, loInclusive: p.op === '>=', hiInclusive: true });
      } else if (p.kind === 'between') {
        ranges.push({ lo: p.low, hi: p.high, loInclusive: true, hiInclusive: true });
      } else if (p.kind === 'in') {
        for (const v of p.values) if (v !== null && v !== undefined) ranges.push({ lo: v, hi: v, loInclusive: true, hiInclusive: true });
      }
      for (const r of ranges) {
        ssi.recordRead(this.#txn.handle, this.#meta.id, {
          kind: 'range',
          space: ix.name,
          ...('lo' in r ? { lo: [ssiKeyPart(r.lo)] } : {}),
          ...('hi' in r ? { hi: [ssiKeyPart(r.hi)] } : {}),
          loInclusive: r.loInclusive,
          hiInclusive: r.hiInclusive,
        });
      }
      return lead;
    }
    ssi.recordRead(this.#txn.handle, this.#meta.id, 'table');
    return undefined;
  }

  /**
   * The row lock a scan request asks for (`ScanRequest.lockMode`). The query engine no longer sets
   * it (its LockRows step calls `lockRows` for the rows the LIMIT takes); other callers may.
   */
  #rowLockOf(req?: ScanRequest): { mode: RowLockMode; wait: 'wait' | 'nowait' | 'skipLocked' } | undefined {
    if (req?.lockMode === undefined) return undefined;
    return { mode: ROW_MODES[req.lockMode], wait: req.lockWait ?? 'wait' };
  }

  async insert(batch: ColumnBatch): Promise<number> {
    if (batch.length === 0) return 0;
    if (!this.#tryLockForWrite()) await this.#lockForWrite();
    const rowIds = this.#db.store.insert(this.#txn.id, this.#meta.id, batch);
    this.#txn.wrote = true;
    this.#recordWrites(rowIds, batch);
    await this.#indexRows(batch, rowIds);
    if (this.#meta.foreignKeys?.length) await checkReferences(this.#db, this.#txn, this.#meta, batch, this.#lockParentRows);
    return batch.length;
  }

  async delete(rowIds: Float64Array): Promise<number> {
    if (rowIds.length === 0) return 0;
    await this.#lockForWrite();
    const keep = await this.#recheckTargets(rowIds);
    if (keep) rowIds = Float64Array.from(keep, (i) => rowIds[i]!);
    const done = await this.#deleteRows(rowIds);
    await this.#parentKeysRemoved(rowIds, done, undefined);
    return done.length;
  }

  /** FOR KEY SHARE on referenced parent rows (foreign-key checks). */
  readonly #lockParentRows = (parent: TableMeta, rowIds: Float64Array): Promise<Float64Array> =>
    new EngineTable(this.#db, this.#txn, parent, this.#txn.catalog(this.#db).indexesOf(parent.id)).lockRowsFor(rowIds, 'FOR KEY SHARE');

  /** Foreign keys referencing this table: act on the keys the deleted / updated rows held. */
  async #parentKeysRemoved(rowIds: Float64Array, done: readonly number[], newRows: ColumnBatch | undefined): Promise<void> {
    if (done.length === 0) return;
    const st = this.#txn.catalog(this.#db);
    if (st.referencing(this.#meta.id).length === 0) return;
    const ids = done.length === rowIds.length ? rowIds : Float64Array.from(done, (i) => rowIds[i]!);
    const old = await this.#db.store.fetch(this.#meta.id, ids, this.#meta.columns.map((_, i) => i));
    await onParentKeysRemoved(this.#db, this.#txn, this.#meta, old, newRows,
      (child) => new EngineTable(this.#db, this.#txn, child, st.indexesOf(child.id)));
  }

  async update(rowIds: Float64Array, batch: ColumnBatch, assigned?: readonly boolean[]): Promise<number> {
    if (rowIds.length === 0) return 0;
    await this.#lockForWrite();
    const keep = await this.#recheckTargets(rowIds);
    if (keep) {
      const ids = rowIds;
      rowIds = Float64Array.from(keep, (i) => ids[i]!);
      batch = takeRows(batch, keep);
    }
    // PostgreSQL: an update takes FOR NO KEY UPDATE, or FOR UPDATE when it changes a unique key
    // (so it conflicts with the FOR KEY SHARE of a foreign key check); only rows of tables that
    // carry row locks need the distinction
    const keyChanged = isRowLocked(this.#db, this.#meta.id) && !this.#keepsUniqueKeys(assigned) ? await this.#keyChanges(rowIds, batch) : undefined;
    // SSI: the indexes whose key each row keeps (its versions then meet no range read of them)
    const kept = this.#ssi ? await this.#keptIndexKeys(rowIds, batch) : undefined;
    const deleted = await this.#deleteRows(rowIds, (i) => (keyChanged?.[i] ? 'FOR UPDATE' : 'FOR NO KEY UPDATE'), kept);
    if (deleted.length === 0) return 0;
    const rows = deleted.length === rowIds.length ? batch : takeRows(batch, deleted);
    const newIds = this.#db.store.insert(this.#txn.id, this.#meta.id, rows);
    // without a primary key, the row's identity (row locks, READ COMMITTED re-check) is its version chain
    if (!this.#indexes.some((ix) => ix.primary)) this.#txn.noteNewVersions(this.#meta.id, deleted.map((i) => rowIds[i]!), newIds);
    this.#recordWrites(newIds, rows, undefined, kept && ((i) => kept[deleted[i]!]!));
    await this.#indexRows(rows, newIds, assigned);
    if (this.#meta.foreignKeys?.length) await checkReferences(this.#db, this.#txn, this.#meta, rows, this.#lockParentRows);
    await this.#parentKeysRemoved(rowIds, deleted, rows);
    return deleted.length;
  }

  /** Does an UPDATE that assigned `assigned` keep the key of every unique index (`keepsKey`)? */
  #keepsUniqueKeys(assigned: readonly boolean[] | undefined): boolean {
    for (const ix of this.#indexes) if (ix.unique && !keepsKey(ix, assigned)) return false;
    return true;
  }

  async fetch(rowIds: Float64Array, columns: readonly number[]): Promise<ColumnBatch> {
    if (!this.#tryLockForRead()) await this.#lockForRead(false);
    if (this.#ssi) this.#db.txns.ssi.recordReads(this.#txn.handle, this.#meta.id, rowIds);
    // rows in memory (delta, pooled row groups) are copied out without waiting
    return this.#db.store.fetchCached(this.#meta.id, rowIds, columns) ?? this.#db.store.fetch(this.#meta.id, rowIds, columns);
  }

  async indexLookup(
    index: string,
    low: readonly unknown[] | undefined,
    high: readonly unknown[] | undefined,
    opts: { lowInclusive: boolean; highInclusive: boolean; reverse?: boolean; limit?: number },
  ): Promise<Float64Array> {
    if (!this.#tryLockForRead()) await this.#lockForRead(false);
    let ix: IndexMeta | undefined;
    for (const i of this.#indexes) if (i.name === index) { ix = i; break; }
    if (!ix) throw new DbError(SqlState.UndefinedObject, `index "${index}" does not exist`);
    const idx = this.#db.indexes.get(ix, this.#meta);
    let candidates: readonly number[];
    if (low !== undefined && low.length === idx.spec.length && !opts.reverse && opts.lowInclusive && opts.highInclusive && sameValues(low, high)) {
      // a point lookup on the whole key: encoded into the shared scratch buffer, which the tree
      // reads before anything else encodes
      candidates = idx.lookup(encodeKeyScratch(idx.spec, low));
    } else {
      const enc = (vals: readonly unknown[] | undefined): Uint8Array | undefined => {
        if (!vals) return undefined;
        const cols: ColumnVector[] = vals.map((v) => ({ data: [v], validity: v === null ? new Uint8Array(1) : null }));
        return encodeKeyFromColumns(vals.length === idx.spec.length ? idx.spec : idx.spec.slice(0, vals.length), cols, 0);
      };
      const lowKey = enc(low);
      if (low !== undefined && opts.lowInclusive && opts.highInclusive && sameValues(low, high)) {
        // equality on a key prefix: one encoding
        candidates = idx.range(lowKey, lowKey, true, true, opts.reverse ?? false);
      } else {
        candidates = idx.range(lowKey, enc(high), opts.lowInclusive, opts.highInclusive, opts.reverse ?? false);
      }
    }
    if (this.#ssi) {
      this.#db.txns.ssi.recordRead(this.#txn.handle, this.#meta.id, {
        kind: 'range',
        space: ix.name,
        ...(low ? { lo: low.map(ssiKeyPart) } : {}),
        ...(high ? { hi: high.map(ssiKeyPart) } : {}),
        loInclusive: opts.lowInclusive,
        hiInclusive: opts.highInclusive,
      });
    }
    const snapshot = this.#txn.snapshot;
    // the visible candidates, in a buffer of their count (a point lookup: one row id, no copy)
    let ids = new Float64Array(opts.limit === undefined ? candidates.length : Math.min(candidates.length, opts.limit));
    let m = 0;
    for (let c = 0; c < candidates.length && m < ids.length; c++) {
      const id = candidates[c]!;
      const st = this.#db.store.rowStamps(this.#meta.id, id);
      if (!st) continue;
      const ins = st.insert < snapshot.startTs || st.insert === snapshot.txnId;
      const del = st.delete < snapshot.startTs || st.delete === snapshot.txnId;
      if (ins && !del) ids[m++] = id;
    }
    if (m < ids.length) ids = ids.slice(0, m);
    const rowLock = this.#rowLockOf();
    if (rowLock) {
      await this.#lockForRead(true);
      const kept = await this.#lockRows(ids, ids.map((_, i) => i), rowLock.mode, rowLock.wait);
      if (kept.length !== ids.length) ids = Float64Array.from(kept, (i) => ids[i]!);
    }
    if (this.#ssi) this.#db.txns.ssi.recordReads(this.#txn.handle, this.#meta.id, ids);
    return ids;
  }

  /**
   * The synchronous point lookup (TableSource.lookupKey): ACCESS SHARE when granted at once (only
   * checked in a transaction's synchronous step: EngineTransaction.syncStep), one
   * key encode into the scratch buffer, one tree descent, the snapshot's visibility per candidate,
   * each visible row's values from memory. undefined — nothing read, only the lock possibly taken
   * (which `indexLookup` takes anyway) — when SSI tracks this transaction, the lock would wait, or
   * a row is not in memory: `indexLookup` + `fetch` answer then.
   */
  lookupKey(index: string, key: readonly unknown[], columns: readonly number[]): unknown[][] | undefined {
    if (this.#ssi) return undefined;
    const locked = this.#txn.syncStep ? this.#txn.canLockTableNow(this.#db, this.#meta.id, 'ACCESS SHARE') : this.#tryLockForRead();
    if (!locked) return undefined;
    let ix: IndexMeta | undefined;
    for (const i of this.#indexes) if (i.name === index) { ix = i; break; }
    if (ix === undefined) return undefined; // `indexLookup` reports it
    const idx = this.#db.indexes.get(ix, this.#meta);
    if (key.length !== idx.spec.length) return undefined;
    const candidates = idx.lookup(encodeKeyScratch(idx.spec, key));
    const m = columns.length;
    const out = new Array<unknown[]>(m);
    for (let j = 0; j < m; j++) out[j] = [];
    const snapshot = this.#txn.snapshot;
    const store = this.#db.store;
    const table = this.#meta.id;
    // visibility and values with one row locate each
    for (let c = 0; c < candidates.length; c++) if (store.readRowCached(table, candidates[c]!, columns, out, snapshot) < 0) return undefined;
    return out;
  }

  /**
   * Take row locks on rows of this table as SELECT ... FOR <mode> does (waiting; a row changed by
   * a transaction that committed after our snapshot: 40001, or a READ COMMITTED re-run). For
   * foreign key checks: FOR KEY SHARE on the parent row makes a concurrent delete or key update
   * of it wait, as in PostgreSQL. Returns the row ids locked (rows deleted meanwhile are left out).
   */
  async lockRowsFor(rowIds: Float64Array, mode: RowLockMode): Promise<Float64Array> {
    if (rowIds.length === 0) return rowIds;
    await this.#lockForRead(true);
    const kept = await this.#lockRows(rowIds, rowIds.map((_, i) => i), mode, 'wait');
    return kept.length === rowIds.length ? rowIds : Float64Array.from(kept, (i) => rowIds[i]!);
  }

  /**
   * SELECT ... FOR UPDATE / SHARE (the query engine's LockRows step, exec/lock-rows.ts): lock the
   * rows in order under ROW SHARE; returns the positions locked (SKIP LOCKED and READ COMMITTED
   * re-checks leave rows out).
   */
  async lockRows(rowIds: Float64Array, mode: NonNullable<ScanRequest['lockMode']>, wait: 'wait' | 'nowait' | 'skipLocked'): Promise<number[]> {
    if (rowIds.length === 0) return [];
    await this.#lockForRead(true);
    return this.#lockRows(rowIds, rowIds.map((_, i) => i), ROW_MODES[mode], wait);
  }

  /** Is this a SERIALIZABLE transaction whose reads and writes SSI must track? */
  get #ssi(): boolean {
    return this.#txn.isolation === 'serializable' && this.#db.txns.ssi.isTracked(this.#txn.handle);
  }

  /** SSI: report written versions (old row ids of deletes, new rows with their index keys). */
  #recordWrites(rowIds: ArrayLike<number>, batch?: ColumnBatch, positions?: readonly number[], keptOf?: (i: number) => ReadonlySet<string>): void {
    if (!this.#ssi) return;
    const ssi = this.#db.txns.ssi;
    for (let i = 0; i < rowIds.length; i++) {
      let keys: Record<string, SsiKey | undefined> | undefined;
      if (batch) {
        keys = {};
        const row = positions ? positions[i]! : i;
        const kept = keptOf?.(i);
        // an index whose key the update keeps: `undefined` (no range read of it is met)
        for (const ix of this.#indexes) keys[ix.name] = kept?.has(ix.name) ? undefined : ix.columns.map((c) => ssiKeyPart(valueAt(batch.columns[c]!, row)));
      }
      ssi.recordWrite(this.#txn.handle, this.#meta.id, rowIds[i]!, keys);
    }
  }

  /** ACCESS SHARE without waiting when it is granted at once (the usual case); false: use `#lockForRead`. */
  #tryLockForRead(): boolean {
    if (this.#readLocked) return true;
    if (!this.#txn.tryLockTable(this.#db, this.#meta.id, 'ACCESS SHARE')) return false;
    this.#readLocked = true;
    return true;
  }

  async #lockForRead(forUpdate: boolean): Promise<void> {
    if (this.#readLocked && !forUpdate) return;
    await this.#txn.lockTable(this.#db, this.#meta.id, forUpdate ? 'ROW SHARE' : 'ACCESS SHARE');
    this.#readLocked = true;
  }

  /** ROW EXCLUSIVE without waiting when it is granted at once (the usual case); false: use `#lockForWrite`. */
  #tryLockForWrite(): boolean {
    if (this.#writeLocked) return true;
    if (!this.#txn.tryLockTable(this.#db, this.#meta.id, 'ROW EXCLUSIVE')) return false;
    this.#writeLocked = true;
    return true;
  }

  async #lockForWrite(): Promise<void> {
    if (this.#writeLocked) return;
    await this.#txn.lockTable(this.#db, this.#meta.id, 'ROW EXCLUSIVE');
    this.#writeLocked = true;
  }

  /**
   * SELECT ... FOR UPDATE / SHARE: take the row lock in the lock manager (so other lockers and
   * writers of this table wait for it), then wait out a running writer of the row, as PostgreSQL
   * does. A row changed by a transaction that committed after our snapshot is a concurrent update
   * (READ COMMITTED: statement retry on a new snapshot; otherwise 40001). NOWAIT: 55P03 instead of
   * any wait; SKIP LOCKED: such rows are left out. Returns the positions (of `candidates`) kept.
   */
  async #lockRows(rowIds: Float64Array, candidates: ArrayLike<number>, mode: RowLockMode, wait: 'wait' | 'nowait' | 'skipLocked'): Promise<number[]> {
    markRowLocked(this.#db, this.#meta.id);
    const kept: number[] = [];
    if (this.#txn.snapshotPerStatement) {
      // READ COMMITTED re-run: lock only the rows (by key) the first run locked, as for writes
      const ids = Float64Array.from(candidates, (i) => rowIds[i]!);
      const keep = await this.#recheckTargets(ids);
      if (keep) candidates = keep.map((k) => candidates[k]!);
    }
    const busy = (): never => {
      throw new DbError(SqlState.LockNotAvailable, `could not obtain lock on row in relation "${this.#meta.name}"`);
    };
    const keys = await this.#rowLockKeys(Float64Array.from(candidates, (i) => rowIds[i]!));
    rows: for (let k = 0; k < candidates.length; k++) {
      const i = candidates[k]!;
      const id = rowIds[i]!;
      if (!(await this.#txn.lockRow(this.#db, this.#meta.id, id, mode, wait, keys?.[k]))) continue; // SKIP LOCKED
      for (;;) {
        const st = this.#db.store.rowStamps(this.#meta.id, id);
        if (!st || st.delete === NOT_DELETED || st.delete === ABORTED || st.delete === this.#txn.id) break;
        // FOR KEY SHARE neither waits for nor fails on a non-key update of the row (PostgreSQL);
        // READ COMMITTED still re-runs after a committed one (its rows show the newest versions)
        if (mode === 'FOR KEY SHARE' && (isUncommittedStamp(st.delete) || !this.#txn.snapshotPerStatement)
          && (this.#txn.writerKeptKey(this.#db, this.#meta.id, id, st.delete as TxnId, keys?.[k]) || await this.#replacedKeepingKey(id, st.delete))) break;
        if (!isUncommittedStamp(st.delete)) {
          this.#concurrentUpdate();
          continue rows;
        }
        if (wait === 'nowait') busy();
        if (wait === 'skipLocked') continue rows;
        await this.#txn.waitFor(this.#db, st.delete as TxnId);
      }
      kept.push(i);
    }
    return kept;
  }

  /**
   * Row lock identities: the primary (else first unique) key as text, so a lock follows the row
   * across versions; undefined (lock the version's id) without such an index or for NULL keys.
   */
  async #rowLockKeys(ids: Float64Array): Promise<(string | undefined)[] | undefined> {
    const ix = this.#indexes.find((i) => i.primary) ?? this.#indexes.find((i) => i.unique);
    if (!ix || ids.length === 0) return undefined;
    const b = await this.#db.store.fetch(this.#meta.id, ids, ix.columns);
    return Array.from(ids, (_, i) => {
      const vals = b.columns.map((c) => valueAt(c, i));
      if (vals.some((v) => v === null)) return undefined;
      return vals.map((v) => (typeof v === 'bigint' ? `${v}n` : JSON.stringify(v))).join(',');
    });
  }

  /**
   * Did `writer` replace row `id` by a live version with the same primary (else first unique) key,
   * i.e. was its change a non-key UPDATE? (Tables without such a key: false.)
   */
  async #replacedKeepingKey(id: number, writer: number): Promise<boolean> {
    const ix = this.#indexes.find((i) => i.primary) ?? this.#indexes.find((i) => i.unique);
    if (!ix) return false;
    const idx = this.#db.indexes.get(ix, this.#meta);
    const b = await this.#db.store.fetch(this.#meta.id, Float64Array.of(id), ix.columns);
    if (b.columns.some((c) => valueAt(c, 0) === null)) return false;
    for (const other of idx.lookup(encodeKeyFromColumns(idx.spec, b.columns, 0))) {
      if (other === id) continue;
      const st = this.#db.store.rowStamps(this.#meta.id, other);
      if (st && st.insert === writer && st.delete !== writer) return true;
    }
    return false;
  }

  /** Per row of an update: does it change the key of a unique index? */
  async #keyChanges(rowIds: Float64Array, batch: ColumnBatch): Promise<boolean[]> {
    const cols = [...new Set(this.#indexes.filter((ix) => ix.unique).flatMap((ix) => ix.columns))];
    const out = new Array<boolean>(rowIds.length).fill(false);
    if (cols.length === 0) return out;
    const old = await this.#db.store.fetch(this.#meta.id, rowIds, cols);
    for (let i = 0; i < rowIds.length; i++) {
      out[i] = cols.some((c, j) => valueAt(old.columns[j]!, i) !== valueAt(batch.columns[c]!, i));
    }
    return out;
  }

  /** Delete rows; returns the positions (in `rowIds`) actually deleted by this call. */
  async #deleteRows(rowIds: Float64Array, modeOf: (i: number) => RowLockMode = () => 'FOR UPDATE', keptKeys?: readonly ReadonlySet<string>[]): Promise<number[]> {
    const store = this.#db.store;
    if (isRowLocked(this.#db, this.#meta.id)) {
      // rows of this table may carry SELECT ... FOR SHARE / UPDATE locks: respect them
      const keys = await this.#rowLockKeys(rowIds);
      for (let i = 0; i < rowIds.length; i++) await this.#txn.lockRow(this.#db, this.#meta.id, rowIds[i]!, modeOf(i), 'wait', keys?.[i]);
    }
    const outcomes = store.delete(this.#txn.id, this.#txn.snapshot, this.#meta.id, rowIds);
    this.#txn.wrote = true;
    const done: number[] = [];
    for (let i = 0; i < outcomes.length; i++) {
      let o = outcomes[i]!;
      while (o.kind === 'locked') {
        await this.#txn.waitFor(this.#db, o.holder);
        o = store.delete(this.#txn.id, this.#txn.snapshot, this.#meta.id, rowIds.subarray(i, i + 1))[0]!;
      }
      if (o.kind === 'deleted') done.push(i);
      else if (o.kind === 'concurrentlyDeleted') this.#concurrentUpdate();
    }
    if (this.#ssi && done.length > 0) {
      // the old versions' index keys: a delete then matches only the ranges that contained the row
      // (without keys it would match every range read of the table: a flood of false conflicts)
      const ids = Float64Array.from(done, (i) => rowIds[i]!);
      const cols = [...new Set(this.#indexes.flatMap((ix) => ix.columns))];
      const old = cols.length > 0 ? await store.fetch(this.#meta.id, ids, cols) : undefined;
      const full = old ? { length: old.length, columns: remap(old, cols, this.#meta.columns.length) } : undefined;
      this.#recordWrites(ids, full, undefined, keptKeys && ((j) => keptKeys[done[j]!]!));
    }
    return done;
  }

  /** Per row of an update: the names of the indexes whose key the new values keep. */
  async #keptIndexKeys(rowIds: Float64Array, batch: ColumnBatch): Promise<Set<string>[]> {
    const cols = [...new Set(this.#indexes.flatMap((ix) => ix.columns))];
    const out = Array.from({ length: rowIds.length }, () => new Set<string>());
    if (cols.length === 0) return out;
    const old = await this.#db.store.fetch(this.#meta.id, rowIds, cols);
    for (let i = 0; i < rowIds.length; i++) {
      for (const ix of this.#indexes) {
        if (ix.columns.every((c) => valueAt(old.columns[cols.indexOf(c)]!, i) === valueAt(batch.columns[c]!, i))) out[i]!.add(ix.name);
      }
    }
    return out;
  }

  /**
   * A row changed by a transaction that committed after our snapshot. READ COMMITTED: skip it,
   * finish the statement, then re-run it (see EngineTransaction.retryNeeded); otherwise 40001.
   */
  #concurrentUpdate(): void {
    if (this.#txn.snapshotPerStatement) {
      this.#txn.retryNeeded = true;
      return;
    }
    throw new DbError(SqlState.SerializationFailure, 'could not serialize access due to concurrent update');
  }

  /**
   * READ COMMITTED: note the rows a delete / update targets; in a re-run, keep only the rows whose
   * key the previous run targeted (their newest versions). Returns the positions kept, or
   * undefined when all are.
   */
  async #recheckTargets(rowIds: Float64Array): Promise<number[] | undefined> {
    const t = this.#txn;
    if (!t.snapshotPerStatement) return undefined;
    const keep = await this.#allowedInRetry(rowIds);
    let targets = t.targets.get(this.#meta.id);
    if (!targets) t.targets.set(this.#meta.id, (targets = []));
    targets.push(keep ? Float64Array.from(keep, (i) => rowIds[i]!) : rowIds.slice());
    return keep;
  }

  /**
   * UPDATE / DELETE targets before they are written (so RETURNING lists only the rows changed):
   * in a READ COMMITTED re-run, the positions of the rows the first run targeted (undefined = all).
   */
  async retryFilter(rowIds: Float64Array): Promise<number[] | undefined> {
    return this.#txn.snapshotPerStatement ? this.#allowedInRetry(rowIds) : undefined;
  }

  /** In a READ COMMITTED re-run: the positions of the rows (by key) the previous run targeted; undefined = all. */
  async #allowedInRetry(rowIds: Float64Array): Promise<number[] | undefined> {
    const t = this.#txn;
    const table = this.#meta.id;
    const allowedIds = t.retryAllowed ? (t.retryAllowed.get(table) ?? []) : undefined;
    let keep: number[] | undefined;
    if (allowedIds) {
      const ix = this.#indexes.find((i) => i.unique);
      let allowed = t.retryAllowedKeys.get(table);
      const keysOf = async (ids: Float64Array): Promise<string[]> => {
        if (!ix) return Array.from(ids, (id) => String(t.rowChainId(table, id)));
        const b = await this.#db.store.fetch(table, ids, ix.columns);
        return Array.from(ids, (_, i) => JSON.stringify(b.columns.map((c) => ssiKeyPart(valueAt(c, i)))));
      };
      if (!allowed) {
        allowed = new Set<string>();
        for (const chunk of allowedIds) for (const k of await keysOf(chunk)) allowed.add(k);
        t.retryAllowedKeys.set(table, allowed);
      }
      const keys = await keysOf(rowIds);
      keep = [];
      for (let i = 0; i < keys.length; i++) if (allowed.has(keys[i]!)) keep.push(i);
      if (keep.length === rowIds.length) keep = undefined;
    }
    return keep;
  }

  /**
   * Index entries for new row versions. `assigned` (an UPDATE's assigned columns): a unique index
   * none of whose columns was assigned keeps each row's key, and needs no unique check: the
   * version this update replaced held the key while live, and the check of any other writer of
   * the key saw it (23505) or waits for this transaction.
   */
  async #indexRows(batch: ColumnBatch, rowIds: Float64Array, assigned?: readonly boolean[]): Promise<void> {
    for (const ix of this.#indexes) {
      const idx = this.#db.indexes.get(ix, this.#meta);
      const cols = ix.columns.map((c) => batch.columns[c]!);
      // distinct keys past the end of the index (a load): no entry has any of them, so there is
      // nothing to check or wait for
      if (idx.appendBatch(cols, rowIds, batch.length)) continue;
      const nullable = cols.some((c) => c.validity !== null);
      const check = ix.unique && !keepsKey(ix, assigned);
      for (let i = 0; i < batch.length; i++) {
        const key = encodeKeyFromColumns(idx.spec, cols, i);
        if (check && !(nullable && cols.some((c) => c.validity !== null && c.validity[i] === 0))) {
          // synchronous unless a running transaction holds the key (then wait and re-check)
          if (this.#uniqueHolder(ix, idx, key, rowIds[i]!) !== undefined) await this.#checkUnique(ix, idx, key, rowIds[i]!);
        }
        idx.insert(key, rowIds[i]!);
      }
    }
  }

  /**
   * The unique check without waiting: throws 23505 on a live or own duplicate; returns the id of
   * a running transaction whose version of the key must be waited for, else undefined.
   */
  #uniqueHolder(ix: IndexMeta, idx: KeyIndex, key: Uint8Array, self: number): TxnId | undefined {
    const me = this.#txn.id;
    for (const id of idx.lookup(key)) {
      if (id === self) continue;
      const st = this.#db.store.rowStamps(this.#meta.id, id);
      if (!st || st.insert === ABORTED) continue;
      if (st.insert === me) {
        if (st.delete === me) continue;
        this.#uniqueViolation(ix, idx, key);
      }
      if (isUncommittedStamp(st.insert)) return st.insert as TxnId;
      if (st.delete === NOT_DELETED) this.#uniqueViolation(ix, idx, key);
      if (st.delete === me) continue;
      if (isUncommittedStamp(st.delete)) return st.delete as TxnId;
    }
    return undefined;
  }

  /**
   * PostgreSQL's unique check: any live or in-progress version with the same key is a conflict;
   * a running transaction's version is waited for, then the key is checked again from the start.
   */
  async #checkUnique(ix: IndexMeta, idx: KeyIndex, key: Uint8Array, self: number): Promise<void> {
    for (let holder = this.#uniqueHolder(ix, idx, key, self); holder !== undefined; holder = this.#uniqueHolder(ix, idx, key, self)) {
      await this.#txn.waitFor(this.#db, holder);
    }
  }

  /** 23505 with PostgreSQL's detail: `Key (a, b)=(1, x) already exists.` */
  #uniqueViolation(ix: IndexMeta, idx: KeyIndex, key: Uint8Array): never {
    const cols = ix.columns.map((c) => this.#meta.columns[c]!.name).join(', ');
    let values: string;
    try {
      const decoded = decodeKey(idx.spec, key);
      values = ix.columns.map((c, i) => {
        const v = decoded[i];
        return v === null || v === undefined ? 'null' : valueToText(v, this.#meta.columns[c]!.type);
      }).join(', ');
    } catch {
      values = '?';
    }
    throw new DbError(SqlState.UniqueViolation, `duplicate key value violates unique constraint "${ix.name}"`, {
      detail: `Key (${cols})=(${values}) already exists.`,
    });
  }
}

/**
 * Does an UPDATE that assigned the columns `assigned` (TableSource.update; undefined: not known)
 * keep `ix`'s key in every row: none of the index's columns assigned?
 */
function keepsKey(ix: IndexMeta, assigned: readonly boolean[] | undefined): boolean {
  return assigned !== undefined && !ix.columns.some((c) => assigned[c] === true);
}

const ROW_MODES: Readonly<Record<NonNullable<ScanRequest['lockMode']>, RowLockMode>> = {
  update: 'FOR UPDATE',
  noKeyUpdate: 'FOR NO KEY UPDATE',
  share: 'FOR SHARE',
  keyShare: 'FOR KEY SHARE',
};

/**
 * Tables on which SELECT ... FOR ... has taken row locks (per database). Writers of such tables
 * take row locks too, so they wait for those readers; other tables skip that cost.
 */
const rowLockedTables = new WeakMap<Database, Set<number>>();
/**
 * Mark a table as carrying row locks, so its writers take row locks too. Call it before taking a
 * row lock yourself (e.g. FOR KEY SHARE on a parent row in a foreign key check).
 */
export function markRowLocked(db: Database, table: number): void {
  let s = rowLockedTables.get(db);
  if (!s) rowLockedTables.set(db, (s = new Set()));
  s.add(table);
}
function isRowLocked(db: Database, table: number): boolean {
  return rowLockedTables.get(db)?.has(table) ?? false;
}

/** Does row `i` of a scan batch pass the request's pushed-down predicates? (unknown → yes) */
/** `a` and `b` hold the same values (index bounds of an equality lookup: usually one array). */
function sameValues(a: readonly unknown[], b: readonly unknown[] | undefined): boolean {
  if (a === b) return true;
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function matchesPredicates(req: ScanRequest, batch: ColumnBatch, i: number): boolean {
  for (const p of req.predicates) {
    const at = req.columns.indexOf(p.column);
    if (at < 0) continue;
    const v = valueAt(batch.columns[at]!, i) as number | string | bigint | null;
    switch (p.kind) {
      case 'isNull':
        if ((v === null) === p.negated) return false;
        break;
      case 'cmp': {
        if (v === null || p.value === null || p.value === undefined) return false;
        const w = p.value as number | string | bigint;
        const ok = p.op === '=' ? v == w : p.op === '<' ? v < w : p.op === '<=' ? v <= w : p.op === '>' ? v > w : v >= w;
        if (!ok) return false;
        break;
      }
      case 'between':
        if (v === null || !(v >= (p.low as typeof v) && v <= (p.high as typeof v))) return false;
        break;
      case 'in':
        if (v === null || !p.values.some((w) => w == v)) return false;
        break;
    }
  }
  return true;
}

/** A batch holding `cols` (table positions) as a sparse all-columns batch (other slots empty). */
function remap(b: ColumnBatch, cols: readonly number[], width: number): ColumnVector[] {
  const out: ColumnVector[] = Array.from({ length: width }, () => ({ data: [], validity: null }));
  cols.forEach((c, j) => { out[c] = b.columns[j]!; });
  return out;
}

/** The JS value of one slot (null for NULL). */
function valueAt(c: ColumnVector, i: number): unknown {
  if (c.validity !== null && c.validity[i] === 0) return null;
  return (c.data as ArrayLike<unknown>)[i];
}

/** A key value as SSI compares it (numbers, bigints, strings; other values by their text). */
function ssiKeyPart(v: unknown): SsiKeyPart {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return JSON.stringify(v);
}

/** The rows at `positions` of a batch, as a new batch. */
function takeRows(batch: ColumnBatch, positions: readonly number[]): ColumnBatch {
  const n = positions.length;
  const columns = batch.columns.map((c) => {
    const src = c.data;
    let data: ColumnVector['data'];
    if (Array.isArray(src)) data = positions.map((p) => src[p]);
    else {
      const Ctor = src.constructor as new (n: number) => typeof src;
      const out = new Ctor(n);
      for (let i = 0; i < n; i++) (out as unknown as number[])[i] = (src as unknown as number[])[positions[i]!]!;
      data = out as ColumnVector['data'];
    }
    let validity: Uint8Array | null = null;
    if (c.validity) {
      validity = new Uint8Array(n);
      for (let i = 0; i < n; i++) validity[i] = c.validity[positions[i]!]!;
    }
    return { data, validity };
  });
  return { length: n, columns };
}
