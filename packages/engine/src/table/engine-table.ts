/**
 * `EngineTable`: the query engine's `TableSource` for one table, inside one transaction.
 *
 * Reads go to storage with the statement's snapshot. Writes:
 *  - insert: append the rows as this transaction's versions, then add index entries and check
 *    UNIQUE / PRIMARY KEY keys (23505), waiting for a running transaction that wrote the same key;
 *  - delete: stamp the visible versions; a row another running transaction changed is waited for
 *    (through the transaction manager, so deadlocks are found); a row changed by a transaction that
 *    committed after our snapshot is a serialization failure (40001) in REPEATABLE READ /
 *    SERIALIZABLE and a statement retry on a new snapshot in READ COMMITTED;
 *  - update = delete of the old version + insert of the new one.
 *
 * Locks: ACCESS SHARE for reads, ROW EXCLUSIVE for writes (PostgreSQL's implicit table locks).
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
import { encodeKeyFromColumns } from '@quiverdb/indexes';
import type { IndexDef, ScanBatch, ScanRequest, TableDef, TableSource, TableStats } from '@quiverdb/query';
import type { Database } from '../database.js';
import { RetryStatement, type EngineTransaction } from '../transaction.js';
import { indexDefOf, tableDefOf, type IndexMeta, type TableMeta } from '../catalog/catalog-state.js';
import type { KeyIndex } from './key-index.js';
import type { SsiKey, SsiKeyPart } from '@quiverdb/txn';

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
    this.def = tableDefOf(meta);
  }

  stats(): TableStats {
    return { rowCount: this.#db.store.rowCount(this.#meta.id) };
  }

  indexes(): readonly IndexDef[] {
    return this.#indexes.map((ix) => indexDefOf(ix, this.#meta));
  }

  async *scan(req: ScanRequest): AsyncIterable<ScanBatch> {
    await this.#lockForRead(req.lockMode !== undefined);
    // SERIALIZABLE: a scan reads the whole table's predicate (as PostgreSQL's relation-level SIREAD)
    if (this.#ssi) this.#db.txns.ssi.recordRead(this.#txn.handle, this.#meta.id, 'table');
    const snapshot = this.#txn.snapshot;
    const opts = { columns: req.columns, predicates: req.predicates, withRowIds: req.withRowIds || req.lockMode !== undefined };
    for await (const b of this.#db.store.scan(this.#meta.id, snapshot, opts)) {
      if (req.lockMode !== undefined && b.rowIds) {
        await this.#lockRows(b.rowIds, req.lockWait ?? 'wait');
      }
      yield b.rowIds ? { batch: b.batch, rowIds: b.rowIds } : { batch: b.batch };
    }
  }

  async insert(batch: ColumnBatch): Promise<number> {
    if (batch.length === 0) return 0;
    await this.#lockForWrite();
    const rowIds = this.#db.store.insert(this.#txn.id, this.#meta.id, batch);
    this.#txn.wrote = true;
    this.#recordWrites(rowIds, batch);
    await this.#indexRows(batch, rowIds);
    return batch.length;
  }

  async delete(rowIds: Float64Array): Promise<number> {
    if (rowIds.length === 0) return 0;
    await this.#lockForWrite();
    return (await this.#deleteRows(rowIds)).length;
  }

  async update(rowIds: Float64Array, batch: ColumnBatch): Promise<number> {
    if (rowIds.length === 0) return 0;
    await this.#lockForWrite();
    const deleted = await this.#deleteRows(rowIds);
    if (deleted.length === 0) return 0;
    const rows = deleted.length === rowIds.length ? batch : takeRows(batch, deleted);
    const newIds = this.#db.store.insert(this.#txn.id, this.#meta.id, rows);
    this.#recordWrites(newIds, rows);
    await this.#indexRows(rows, newIds);
    return deleted.length;
  }

  async fetch(rowIds: Float64Array, columns: readonly number[]): Promise<ColumnBatch> {
    await this.#lockForRead(false);
    if (this.#ssi) this.#db.txns.ssi.recordReads(this.#txn.handle, this.#meta.id, rowIds);
    return this.#db.store.fetch(this.#meta.id, rowIds, columns);
  }

  async indexLookup(
    index: string,
    low: readonly unknown[] | undefined,
    high: readonly unknown[] | undefined,
    opts: { lowInclusive: boolean; highInclusive: boolean; reverse?: boolean; limit?: number },
  ): Promise<Float64Array> {
    await this.#lockForRead(false);
    const ix = this.#indexes.find((i) => i.name === index);
    if (!ix) throw new DbError(SqlState.UndefinedObject, `index "${index}" does not exist`);
    const idx = this.#db.indexes.get(ix, this.#meta);
    const enc = (vals: readonly unknown[] | undefined) => {
      if (!vals) return undefined;
      const cols: ColumnVector[] = vals.map((v) => ({ data: [v], validity: v === null ? new Uint8Array(1) : null }));
      return encodeKeyFromColumns(idx.spec.slice(0, vals.length), cols, 0);
    };
    const candidates = idx.range(enc(low), enc(high), opts.lowInclusive, opts.highInclusive, opts.reverse ?? false);
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
    const out: number[] = [];
    for (const id of candidates) {
      const st = this.#db.store.rowStamps(this.#meta.id, id);
      if (!st) continue;
      const ins = st.insert < snapshot.startTs || st.insert === snapshot.txnId;
      const del = st.delete < snapshot.startTs || st.delete === snapshot.txnId;
      if (ins && !del) {
        out.push(id);
        if (opts.limit !== undefined && out.length >= opts.limit) break;
      }
    }
    const ids = Float64Array.from(out);
    if (this.#ssi) this.#db.txns.ssi.recordReads(this.#txn.handle, this.#meta.id, ids);
    return ids;
  }

  /** Is this a SERIALIZABLE transaction whose reads and writes SSI must track? */
  get #ssi(): boolean {
    return this.#txn.isolation === 'serializable' && this.#db.txns.ssi.isTracked(this.#txn.handle);
  }

  /** SSI: report written versions (old row ids of deletes, new rows with their index keys). */
  #recordWrites(rowIds: ArrayLike<number>, batch?: ColumnBatch, positions?: readonly number[]): void {
    if (!this.#ssi) return;
    const ssi = this.#db.txns.ssi;
    for (let i = 0; i < rowIds.length; i++) {
      let keys: Record<string, SsiKey> | undefined;
      if (batch) {
        keys = {};
        const row = positions ? positions[i]! : i;
        for (const ix of this.#indexes) keys[ix.name] = ix.columns.map((c) => ssiKeyPart(valueAt(batch.columns[c]!, row)));
      }
      ssi.recordWrite(this.#txn.handle, this.#meta.id, rowIds[i]!, keys);
    }
  }

  async #lockForRead(forUpdate: boolean): Promise<void> {
    if (this.#readLocked && !forUpdate) return;
    await this.#txn.lockTable(this.#db, this.#meta.id, forUpdate ? 'ROW SHARE' : 'ACCESS SHARE');
    this.#readLocked = true;
  }

  async #lockForWrite(): Promise<void> {
    if (this.#writeLocked) return;
    await this.#txn.lockTable(this.#db, this.#meta.id, 'ROW EXCLUSIVE');
    this.#writeLocked = true;
  }

  /** SELECT ... FOR UPDATE / SHARE: wait out running writers of the rows, as PostgreSQL does. */
  async #lockRows(rowIds: Float64Array, wait: 'wait' | 'nowait' | 'skipLocked'): Promise<void> {
    for (const id of rowIds) {
      for (;;) {
        const st = this.#db.store.rowStamps(this.#meta.id, id);
        if (!st || !isUncommittedStamp(st.delete) || st.delete === this.#txn.id) break;
        if (wait === 'nowait') throw new DbError(SqlState.LockNotAvailable, `could not obtain lock on row in relation "${this.#meta.name}"`);
        if (wait === 'skipLocked') break;
        await this.#txn.waitFor(this.#db, st.delete as TxnId);
        const after = this.#db.store.rowStamps(this.#meta.id, id);
        if (after && after.delete !== NOT_DELETED && !isUncommittedStamp(after.delete)) this.#concurrentUpdate();
      }
    }
  }

  /** Delete rows; returns the positions (in `rowIds`) actually deleted by this call. */
  async #deleteRows(rowIds: Float64Array): Promise<number[]> {
    const store = this.#db.store;
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
    this.#recordWrites(done.map((i) => rowIds[i]!));
    return done;
  }

  #concurrentUpdate(): never {
    if (this.#txn.snapshotPerStatement) throw new RetryStatement();
    throw new DbError(SqlState.SerializationFailure, 'could not serialize access due to concurrent update');
  }

  async #indexRows(batch: ColumnBatch, rowIds: Float64Array): Promise<void> {
    for (const ix of this.#indexes) {
      const idx = this.#db.indexes.get(ix, this.#meta);
      const cols = ix.columns.map((c) => batch.columns[c]!);
      for (let i = 0; i < batch.length; i++) {
        const key = encodeKeyFromColumns(idx.spec, cols, i);
        if (ix.unique && !cols.some((c) => c.validity !== null && c.validity[i] === 0)) {
          await this.#checkUnique(ix, idx, key, rowIds[i]!);
        }
        idx.insert(key, rowIds[i]!);
      }
    }
  }

  /** PostgreSQL's unique check: any live or in-progress version with the same key is a conflict. */
  async #checkUnique(ix: IndexMeta, idx: KeyIndex, key: Uint8Array, self: number): Promise<void> {
    const me = this.#txn.id;
    restart: for (;;) {
      for (const id of idx.lookup(key)) {
        if (id === self) continue;
        const st = this.#db.store.rowStamps(this.#meta.id, id);
        if (!st || st.insert === ABORTED) continue;
        if (st.insert === me) {
          if (st.delete === me) continue;
          this.#uniqueViolation(ix);
        }
        if (isUncommittedStamp(st.insert)) {
          await this.#txn.waitFor(this.#db, st.insert as TxnId);
          continue restart;
        }
        if (st.delete === NOT_DELETED) this.#uniqueViolation(ix);
        if (st.delete === me) continue;
        if (isUncommittedStamp(st.delete)) {
          await this.#txn.waitFor(this.#db, st.delete as TxnId);
          continue restart;
        }
      }
      return;
    }
  }

  #uniqueViolation(ix: IndexMeta): never {
    const cols = ix.columns.map((c) => this.#meta.columns[c]!.name).join(', ');
    throw new DbError(SqlState.UniqueViolation, `duplicate key value violates unique constraint "${ix.name}"`, {
      detail: `Key (${cols}) already exists.`,
    });
  }
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
