/**
 * Every secondary structure the engine keeps per index: the B+ tree (or fractal tree) from
 * @quiverdb/indexes mapping encoded keys to row ids — in memory, and for a database directory
 * persisted through checkpoints.
 *
 * MVCC: an index holds entries for every row version that may be visible to some snapshot
 * (entries are not removed when a version is deleted or its insert rolls back); readers and the
 * uniqueness check filter candidates through the row's stamps. Entries of versions nobody can
 * see any more are dropped when the index is rebuilt (CREATE INDEX, ALTER, a fallback at open).
 *
 * Persistence (database directories; ':memory:' keeps MemPageStore trees):
 *   files     `index/<n>.qix`, one per KeyIndex instance (an EnvPageFile; n never reused)
 *   ahead     before the cut (`prepare`, commits running) dirty nodes off the right edge are
 *             written in slices (BTree.writeAhead), so the cut has less to write
 *   checkpoint at the store's cut (synchronous) every index of the committed catalog writes its
 *             dirty nodes copy-on-write (`KeyIndex.prepareCheckpoint`); the store awaits the
 *             files' flush + fsync, then writes the manifest with the record
 *             `{ v: 1, indexes: [[indexKey, { fp, method, ...PageFileState }], ...] }` — one
 *             atomic switch with the segments; then the files' pending frees become allocatable.
 *   open      an index whose record matches its catalog definition (fingerprint) is reopened from
 *             its file, and the rows the WAL replay put back into the delta are added (deletes
 *             need nothing: entries are filtered by stamps, see MVCC). A missing / corrupt /
 *             mismatched file is logged and rebuilt by a scan; no data lives only in an index.
 * Dead entries: entries of versions nobody can see stay in a persisted tree across reopens; a
 * B+ tree whose entry count passes 2x its table's rows (+ 10,000) is rebuilt at open instead.
 * Why this is enough: an entry (key, rowId) is fixed by the row version (versions are never
 * changed in place), so the tree at the cut holds every row committed before the cut (entries are
 * added when the row is written, before its commit) plus harmless extras; every row committed
 * after the cut is in the replayed delta. Extras point at row ids never reused (the manifest keeps
 * each table's next row id).
 *
 * Invariants:
 *  1. For every index and every row version that is committed-and-live or written by a running
 *     transaction, the index holds (key(row), rowId).
 *  2. An index is keyed by `<tableId>/<schema>.<name>`: a table id is never reused, so a rolled
 *     back CREATE leaves only unreachable garbage.
 *  3. An index file is removed only when neither the durable manifest's record nor a live KeyIndex
 *     refers to it.
 */
import { DbError, NOT_DELETED, SqlState, physicalTypeOf, type ColumnBatch, type PageId, type TableId, type TxnId, type Timestamp } from '@quiverdb/common';
import { EnvPageFile, encodeKeyFromColumns, type KeySpec, type PageFileState } from '@quiverdb/indexes';
import type { Env, Store } from '@quiverdb/storage';
import type { CatalogState, IndexMeta, TableMeta } from '../catalog/catalog-state.js';
import { KeyIndex, type IndexMethod } from './key-index.js';

/** One registry change of a transaction's DDL: the index `key` had `prev` before (undefined: none). */
export interface IndexUndo { readonly key: string; readonly prev: KeyIndex | undefined }

/** per catalog entry (entries are immutable: a catalog change makes new ones), so lookups build no string */
const indexKeys = new WeakMap<IndexMeta, string>();

export const indexKeyOf = (ix: IndexMeta): string => {
  let k = indexKeys.get(ix);
  if (k === undefined) indexKeys.set(ix, (k = `${ix.tableId}/${ix.schema}.${ix.name}`));
  return k;
};

export function keySpecOf(ix: IndexMeta, table: TableMeta): KeySpec {
  return ix.columns.map((c, i) => {
    const t = table.columns[c]!.type;
    return { type: t.id === 'NUMERIC' ? 'numeric' : physicalTypeOf(t), desc: ix.descending[i] ?? false };
  });
}

/**
 * What a persisted tree was built for: table, key column ids (stable across renames and column
 * position shifts), key spec, method. A file is reused at open only for an equal fingerprint.
 */
export function fingerprintOf(ix: IndexMeta, table: TableMeta): string {
  return JSON.stringify([table.id, ix.columns.map((c) => table.columns[c]!.id), keySpecOf(ix, table), ix.method]);
}

/** A snapshot that sees every committed live row (and the given txn's own writes). */
export function latestSnapshot(txn: TxnId) {
  return { txnId: txn, startTs: NOT_DELETED as Timestamp };
}

/** Where persisted indexes live. */
export interface IndexPersistence {
  readonly env: Env;
  /** the database directory */
  readonly dir: string;
  readonly pageSize?: number;
  /** fsync directories (false for stores opened non-durable) */
  readonly durable?: boolean;
  /** where fallbacks (rebuild instead of reopen) are reported; default console.warn */
  readonly log?: (msg: string) => void;
}

export interface IndexOpenStats {
  /** indexes reopened from their files */
  opened: number;
  /** indexes built by a scan (at open, or by CREATE INDEX / ALTER) */
  rebuilt: number;
  /** rebuilds at open because a recorded file was missing, corrupt or did not match */
  fallbacks: number;
  /** replayed delta rows added to reopened indexes */
  deltaRows: number;
  /** recorded trees rebuilt at open because dead entries made them far larger than their table */
  bloated: number;
}

/** Index nodes written ahead of a checkpoint's cut between two yields to the event loop. */
const WRITE_AHEAD_SLICE = 256;

/** At open, a B+ tree with more than BLOAT_FACTOR x the table's rows + BLOAT_SLACK entries is rebuilt. */
const BLOAT_FACTOR = 2;
const BLOAT_SLACK = 10_000;

type IndexRecord = PageFileState & { readonly fp: string; readonly method: IndexMethod };
interface HookRecord { readonly v: 1; readonly indexes: readonly (readonly [string, IndexRecord])[] }

/** The store methods the registry needs at open and checkpoint (QuiverStore has them). */
export interface PersistentStore extends Store {
  readonly checkpointRecord: unknown;
  deltaRowIds(table: TableId): Float64Array;
  setCheckpointHook(hook: CheckpointParticipant | undefined): void;
  /** the store's buffer pool: index page images are charged to its budget (`memory_limit`) */
  readonly bufferPool?: MemoryBudget;
}

/** The registry's side of storage's `CheckpointHook`. */
export interface CheckpointParticipant {
  prepare(): Promise<void>;
  capture(): () => Promise<unknown>;
  committed(): Promise<void>;
  dirty(): boolean;
}

/** The slice of storage's BufferPool used to charge index memory. */
export interface MemoryBudget {
  put(key: string, value: unknown, bytes: number): unknown;
  unpin(key: string): void;
  dropPrefix(prefix: string): void;
}

export class IndexRegistry {
  readonly #indexes = new Map<string, KeyIndex>();
  readonly #persist: IndexPersistence | undefined;
  readonly stats: IndexOpenStats = { opened: 0, rebuilt: 0, fallbacks: 0, deltaRows: 0, bloated: 0 };
  /** every page file not yet closed (live, or referenced by the durable record) */
  readonly #files = new Set<EnvPageFile>();
  /** files named by the durable manifest's record */
  #durable = new Set<string>();
  #nextFile = 1;
  #indexDirReady = false;
  #pagesWritten = 0;
  #budget: MemoryBudget | undefined;
  /** buffer pool keys charged per file path */
  readonly #charged = new Set<string>();

  constructor(persist?: IndexPersistence) {
    this.#persist = persist;
  }

  get #indexDir(): string {
    return `${this.#persist!.dir}/index`;
  }

  #newIndex(ix: IndexMeta, table: TableMeta): KeyIndex {
    const spec = keySpecOf(ix, table);
    const fingerprint = fingerprintOf(ix, table);
    const p = this.#persist;
    if (p === undefined) return new KeyIndex(spec, ix.unique, ix.method, { fingerprint });
    const file = EnvPageFile.create(p.env, `${this.#indexDir}/${this.#nextFile++}.qix`, p.pageSize ?? 4096, { durable: p.durable !== false });
    this.#files.add(file);
    return new KeyIndex(spec, ix.unique, ix.method, { file, fingerprint });
  }

  /** The index structure, created empty on first use (new table / new index). */
  get(ix: IndexMeta, table: TableMeta): KeyIndex {
    const k = indexKeyOf(ix);
    let idx = this.#indexes.get(k);
    if (!idx) {
      idx = this.#newIndex(ix, table);
      this.#indexes.set(k, idx);
    }
    return idx;
  }

  has(ix: IndexMeta): boolean {
    return this.#indexes.has(indexKeyOf(ix));
  }

  /** Forget the index of `ix`; with `undo`, a rollback of the dropping transaction brings it back. */
  drop(ix: IndexMeta, undo?: IndexUndo[]): void {
    const k = indexKeyOf(ix);
    undo?.push({ key: k, prev: this.#indexes.get(k) });
    this.#indexes.delete(k);
  }

  /**
   * Undo the registry changes recorded in `undo` after its first `downTo` entries, newest first
   * (ROLLBACK, ROLLBACK TO SAVEPOINT, a failed statement), and truncate it to `downTo`.
   */
  restore(undo: IndexUndo[], downTo: number): void {
    for (let i = undo.length - 1; i >= downTo; i--) {
      const { key, prev } = undo[i]!;
      if (prev === undefined) this.#indexes.delete(key);
      else this.#indexes.set(key, prev);
    }
    if (undo.length > downTo) undo.length = downTo;
  }

  /** Build (or rebuild) one index from the rows `txn` can see as latest; `duplicate` tells whether a UNIQUE key occurs twice. */
  async build(store: Store, ix: IndexMeta, table: TableMeta, txn: TxnId, undo?: IndexUndo[]): Promise<{ index: KeyIndex; duplicate: boolean }> {
    const idx = this.#newIndex(ix, table);
    let duplicate = false;
    if (store.hasTable(table.id)) {
      for await (const b of store.scan(table.id, latestSnapshot(txn), { columns: ix.columns, withRowIds: true })) {
        if (addRows(idx, b.batch, b.rowIds!, ix.columns.map((_, i) => i))) duplicate = true;
      }
    }
    undo?.push({ key: indexKeyOf(ix), prev: this.#indexes.get(indexKeyOf(ix)) });
    this.#indexes.set(indexKeyOf(ix), idx);
    this.stats.rebuilt++;
    return { index: idx, duplicate };
  }

  /**
   * Check every index of `catalog` against its table (PostgreSQL's amcheck, bt_index_parent_check
   * with heapallindexed): the tree's own invariants, and an entry (key, rowId) for every row
   * version `txn` sees as latest. Entries of dead versions are not errors (see MVCC). Throws
   * XX002 naming the index and a few rows it misses; returns how many indexes and rows it checked.
   */
  async verify(store: Store, catalog: CatalogState, txn: TxnId): Promise<{ indexes: number; rows: number }> {
    let indexes = 0;
    let rows = 0;
    for (const ix of catalog.indexes.values()) {
      const t = catalog.tablesById.get(ix.tableId as TableId);
      if (t === undefined) continue;
      const idx = this.#indexes.get(indexKeyOf(ix));
      const name = `${ix.schema}.${ix.name}`;
      if (idx === undefined) throw new DbError(SqlState.IndexCorrupted, `index ${name} is missing`);
      try {
        idx.checkInvariants();
      } catch (e) {
        throw new DbError(SqlState.IndexCorrupted, `index ${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      const missing: number[] = [];
      let nMissing = 0;
      if (store.hasTable(t.id)) {
        for await (const b of store.scan(t.id, latestSnapshot(txn), { columns: ix.columns, withRowIds: true })) {
          const cols = b.batch.columns; // (the key columns, in key order)
          for (let i = 0; i < b.batch.length; i++) {
            const rowId = b.rowIds![i]!;
            if (!idx.lookup(encodeKeyFromColumns(idx.spec, cols, i)).includes(rowId)) {
              if (nMissing++ < 5) missing.push(rowId);
            }
          }
          rows += b.batch.length;
        }
      }
      if (nMissing > 0) {
        throw new DbError(SqlState.IndexCorrupted, `index ${name} has no entry for ${nMissing} row(s) of table ${t.name}`,
          { detail: `row ids ${missing.join(', ')}${nMissing > missing.length ? ', ...' : ''}` });
      }
      indexes++;
    }
    return { indexes, rows };
  }

  /** Build every index of the catalog by scanning (in-memory databases, and the fallback). */
  async rebuildAll(store: Store, catalog: CatalogState): Promise<void> {
    const sys = (2 ** 50 + 1) as TxnId; // no transaction has written anything yet at open
    for (const ix of catalog.indexes.values()) {
      const t = catalog.tablesById.get(ix.tableId as TableId);
      if (t) await this.build(store, ix, t, sys);
    }
  }

  /**
   * At open: reopen every index the recovered manifest recorded for its current definition and
   * add the replayed delta rows; build the others by a scan. Then remove index files nothing
   * refers to. Without persistence: `rebuildAll`.
   */
  async openAll(store: PersistentStore, catalog: CatalogState): Promise<void> {
    const p = this.#persist;
    if (p === undefined) return this.rebuildAll(store, catalog);
    const log = p.log ?? ((m: string) => console.warn(`quiverdb: ${m}`));
    await this.#ensureIndexDir();
    for (const name of await p.env.list(this.#indexDir)) {
      const m = /^(\d+)\.qix$/.exec(name);
      if (m !== null) this.#nextFile = Math.max(this.#nextFile, Number(m[1]) + 1);
    }
    const records = new Map(parseRecord(store.checkpointRecord)?.indexes ?? []);
    const sys = (2 ** 50 + 1) as TxnId;
    for (const ix of catalog.indexes.values()) {
      const t = catalog.tablesById.get(ix.tableId as TableId);
      if (!t) continue;
      const key = indexKeyOf(ix);
      const rec = records.get(key);
      if (rec !== undefined && store.hasTable(t.id)) {
        const fp = fingerprintOf(ix, t);
        if (rec.fp !== fp || rec.method !== ix.method) {
          log(`index ${ix.schema}.${ix.name}: its file was written for another definition; rebuilding it by a scan`);
          this.stats.fallbacks++;
        } else {
          try {
            if (await this.#reopen(store, ix, t, rec)) continue;
            this.stats.bloated++;
          } catch (e) {
            log(`index ${ix.schema}.${ix.name}: ${e instanceof Error ? e.message : String(e)}; rebuilding it by a scan`);
            this.stats.fallbacks++;
          }
        }
      }
      await this.build(store, ix, t, sys);
    }
    this.#durable = new Set([...records.values()].map((r) => r.file));
    await this.#removeUnused();
    this.#budget = store.bufferPool;
    this.#chargeMemory();
  }

  /**
   * Charge each file's resident page images (not yet decoded after a reopen, or written and not
   * yet flushed) to the buffer pool as one pinned entry, re-sized at open and after each
   * checkpoint. (The decoded nodes the trees keep are JS objects outside the pool, as before.)
   */
  #chargeMemory(): void {
    const pool = this.#budget;
    if (pool === undefined) return;
    const now = new Map<string, number>();
    for (const f of this.#files) if (f.residentBytes > 0) now.set(`ix:${f.path}|`, f.residentBytes);
    for (const key of new Set([...this.#charged, ...now.keys()])) {
      if (this.#charged.delete(key)) { pool.unpin(key); pool.dropPrefix(key); }
      const bytes = now.get(key);
      if (bytes !== undefined && pool.put(key, null, bytes) !== undefined) this.#charged.add(key);
    }
  }

  /** Reopen one index from its file; false when it holds too many dead entries (the caller rebuilds it). */
  async #reopen(store: PersistentStore, ix: IndexMeta, t: TableMeta, rec: IndexRecord): Promise<boolean> {
    const file = await EnvPageFile.open(this.#persist!.env, rec, { durable: this.#persist!.durable !== false });
    try {
      const idx = KeyIndex.reopen(keySpecOf(ix, t), ix.unique, ix.method, file, rec.meta as PageId, rec.fp);
      // entries of dead versions accumulate (see MVCC); a tree far larger than its table is rebuilt
      const size = (idx.tree as { size?: number }).size;
      if (typeof size === 'number' && size > BLOAT_FACTOR * store.rowCount(t.id) + BLOAT_SLACK) {
        await file.close();
        return false;
      }
      // rows committed after the cut: the WAL replay put them (and only them) in the delta
      const ids = store.deltaRowIds(t.id);
      const CHUNK = 65_536;
      for (let o = 0; o < ids.length; o += CHUNK) {
        const part = ids.subarray(o, Math.min(ids.length, o + CHUNK));
        const batch = await store.fetch(t.id, part, ix.columns);
        addRows(idx, batch, part, ix.columns.map((_, i) => i));
      }
      this.stats.deltaRows += ids.length;
      this.stats.opened++;
      this.#files.add(file);
      this.#indexes.set(indexKeyOf(ix), idx);
      return true;
    } catch (e) {
      await file.close().catch(() => undefined);
      throw e;
    }
  }

  async #ensureIndexDir(): Promise<void> {
    if (this.#indexDirReady) return;
    const p = this.#persist!;
    if (!(await p.env.exists(this.#indexDir))) {
      await p.env.mkdir(this.#indexDir);
      if (p.durable !== false) await p.env.syncDir(p.dir);
    }
    this.#indexDirReady = true;
  }

  /**
   * The store's checkpoint participant: `catalog()` is the committed catalog at the cut (its
   * indexes are the ones recorded).
   */
  checkpointHook(catalog: () => CatalogState): CheckpointParticipant {
    let captured: { files: EnvPageFile[]; record: HookRecord } | undefined;
    return {
      // before the cut: write the trees' dirty pages ahead in slices, yielding between them, so
      // the synchronous capture writes only what changed since (commits run in between)
      prepare: async () => {
        const cat = catalog();
        for (const ix of cat.indexes.values()) {
          const table = cat.tablesById.get(ix.tableId as TableId);
          for (;;) {
            // (only trees capture records: see there)
            const idx = this.#indexes.get(indexKeyOf(ix));
            if (idx === undefined || table === undefined || fingerprintOf(ix, table) !== idx.fingerprint) break;
            if (idx.writeAhead(WRITE_AHEAD_SLICE) === 0) break;
            await new Promise<void>((r) => setImmediate(r));
          }
        }
      },
      // an index of the committed catalog never recorded (rebuilt at open, say) asks for a checkpoint
      dirty: () => {
        const cat = catalog();
        for (const ix of cat.indexes.values()) {
          const idx = this.#indexes.get(indexKeyOf(ix));
          const t = cat.tablesById.get(ix.tableId as TableId);
          if (idx?.file !== undefined && t !== undefined && idx.file.committedState === undefined && fingerprintOf(ix, t) === idx.fingerprint) return true;
        }
        return false;
      },
      capture: () => {
        const cat = catalog();
        const files: EnvPageFile[] = [];
        const entries: (readonly [string, IndexRecord])[] = [];
        for (const ix of cat.indexes.values()) {
          const key = indexKeyOf(ix);
          const idx = this.#indexes.get(key);
          if (idx === undefined || idx.file === undefined) continue;
          // a tree built for another definition (a running or rolled back ALTER) is not recorded:
          // the next open rebuilds that index unless a later checkpoint records a matching one
          const table = cat.tablesById.get(ix.tableId as TableId);
          if (table === undefined || fingerprintOf(ix, table) !== idx.fingerprint) continue;
          const st = idx.prepareCheckpoint()!;
          files.push(idx.file);
          this.#files.add(idx.file);
          entries.push([key, { ...st, fp: idx.fingerprint, method: idx.method }]);
        }
        const record: HookRecord = { v: 1, indexes: entries };
        captured = undefined;
        return async () => {
          await this.#ensureIndexDir();
          // (a new file's flush also fsyncs the directory: its entry is durable before the manifest names it)
          for (const f of files) {
            const n = f.dirtyPages;
            if (n === 0) continue;
            await f.flush();
            this.#pagesWritten += n;
          }
          captured = { files, record };
          return record;
        };
      },
      committed: async () => {
        const c = captured;
        captured = undefined;
        if (c === undefined) return;
        for (const f of c.files) f.committed(); // synchronous part: right after the manifest switch
        this.#durable = new Set(c.record.indexes.map(([, r]) => r.file));
        try { await this.#removeUnused(); } catch { /* retried after the next checkpoint */ }
        this.#chargeMemory();
      },
    };
  }

  /**
   * Close and remove files neither a live index (one in the registry) nor the durable record
   * refers to (invariant 3). (The registry keeps the indexes of a dropped table: their files go at
   * the next open.)
   */
  async #removeUnused(): Promise<void> {
    const p = this.#persist;
    if (p === undefined) return;
    const live = new Set<EnvPageFile>();
    for (const idx of this.#indexes.values()) if (idx.file !== undefined) live.add(idx.file);
    for (const f of [...this.#files]) {
      if (live.has(f) || this.#durable.has(f.path)) continue;
      this.#files.delete(f);
      await f.close();
    }
    const keep = new Set([...this.#durable, ...[...live].map((f) => f.path)]);
    for (const name of await p.env.list(this.#indexDir)) {
      const path = `${this.#indexDir}/${name}`;
      if (!keep.has(path)) await p.env.remove(path);
    }
  }

  /** I/O figures of the index files (metrics): pages written by checkpoints, pages read, resident page images. */
  pageFigures(): { files: number; pagesWritten: number; pagesRead: number; residentBytes: number } {
    let pagesRead = 0;
    let residentBytes = 0;
    for (const f of this.#files) { pagesRead += f.stats.reads; residentBytes += f.residentBytes; }
    return { files: this.#files.size, pagesWritten: this.#pagesWritten, pagesRead, residentBytes };
  }

  /** Close every index file (after the store's final checkpoint). */
  async close(): Promise<void> {
    for (const f of this.#files) await f.close().catch(() => undefined);
    this.#files.clear();
  }
}

function parseRecord(raw: unknown): HookRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Partial<HookRecord>;
  return r.v === 1 && Array.isArray(r.indexes) ? (r as HookRecord) : undefined;
}

/**
 * Add rows of `batch` (key columns at `keyCols` positions of the batch) to an index. Returns true
 * when the index is unique and a key without NULLs was already present.
 */
export function addRows(idx: KeyIndex, batch: ColumnBatch, rowIds: Float64Array, keyCols: readonly number[]): boolean {
  const cols = keyCols.map((c) => batch.columns[c]!);
  let duplicate = false;
  for (let i = 0; i < batch.length; i++) {
    const key = encodeKeyFromColumns(idx.spec, cols, i);
    if (idx.unique && !duplicate && idx.lookup(key).length > 0 && !cols.some((c) => c.validity !== null && c.validity[i] === 0)) {
      duplicate = true;
    }
    idx.insert(key, rowIds[i]!);
  }
  return duplicate;
}
