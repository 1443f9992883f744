/**
 * `Database`: one open database directory (or ':memory:'), shared by many `Connection`s.
 *
 * This is the only place where storage, indexes, txn and query meet (ARCHITECTURE.md section 1):
 *   Connection ──parse/execute──▶ @quiverdb/query ──Catalog/TableSource──▶ SessionCatalog / EngineTable
 *        │                                                                     │
 *        └── transactions ──▶ @quiverdb/txn (snapshots, locks, deadlocks, SSI)  └──▶ @quiverdb/storage (+ indexes)
 *
 * Invariants:
 *  1. `committedCatalog` always equals `CatalogState.build(store.metaEntries())`.
 *  2. Every open connection is in `#connections`; `close()` rolls back their transactions first.
 *  3. Commit timestamps handed to storage come from the transaction manager's clock, which restarts
 *     above `store.recoveredCommitTs` after recovery.
 *
 * Concurrency: one JS thread; connections interleave at awaits. A commit's durable step is async
 * (group commit); its visibility step (`finishCommit` + catalog switch) is synchronous.
 */
import { DbError, SqlState, type TableId } from '@quiverdb/common';
import { initSql } from '@quiverdb/query';
import { openStore, NodeEnv, MemEnv, type Store, type Env, type StoreTuning } from '@quiverdb/storage';
import { TransactionManager } from '@quiverdb/txn';
import { CatalogState } from './catalog/catalog-state.js';
import { BetreeMetadata } from './catalog/betree-metadata.js';
import { Connection } from './connection.js';
import { IndexRegistry } from './table/index-registry.js';
import { SequenceRuntime, big, unbig } from './catalog/sequences.js';
import { analyzeTable, needsAnalyze, statsKey, type TableStatistics } from './stats/analyze.js';
import { StatementStats } from './stats/statement-stats.js';
import { columnConverter } from './catalog/column-conversion.js';

export interface DatabaseOptions {
  /** buffer pool budget in bytes (setting `memory_limit`); default 80% of the memory the process may use */
  readonly memoryLimit?: number;
  /** automatic checkpoint when the WAL grows past this many bytes */
  readonly checkpointWalBytes?: number;
  /** rows per Parquet row group */
  readonly rowGroupSize?: number;
  /** fsync on commit (default true for directories; ':memory:' never syncs) */
  readonly durable?: boolean;
  /** file-system implementation (tests pass MemEnv / FaultEnv) */
  readonly env?: Env;
  /**
   * Rewrite segments that predate an ALTER COLUMN TYPE in the background (default true); false:
   * only `rewriteStep()` does it (tests drive it step by step).
   */
  readonly backgroundRewrite?: boolean;
  /** storage tuning for tests and benchmarks (WAL segment size and preallocation, compaction thresholds) */
  readonly storeTuning?: StoreTuning;
}

/** Persisted-index figures for /metrics (index-registry.ts). */
function indexMetrics(r: IndexRegistry): Record<string, number> {
  const p = r.pageFigures();
  return {
    index_files: p.files,
    index_pages_written: p.pagesWritten,
    index_pages_read: p.pagesRead,
    index_resident_bytes: p.residentBytes,
    index_reopened: r.stats.opened,
    index_rebuilt: r.stats.rebuilt,
    index_fallbacks: r.stats.fallbacks,
  };
}

/** Source of catalog versions for every Database of the process (see `#catalogVersion`). */
let catalogVersionClock = 0;

/** Ticks (5 s each) an automatic ANALYZE of a table whose row count keeps moving may wait. */
const AUTO_ANALYZE_MAX_DEFERRALS = 6;

export class Database {
  readonly path: string;
  readonly store: Store;
  readonly txns: TransactionManager;
  readonly indexes: IndexRegistry;
  readonly sequences = new SequenceRuntime();
  /** pg_stat_statements figures */
  readonly statementStats = new StatementStats();
  #committedCatalog: CatalogState;
  /**
   * Changes on every commit that changed the catalog (plan caches key on it). Drawn from one
   * process-wide clock, so two databases of one process never report the same version and never
   * share cached plans (their tables may have the same names and different indexes).
   */
  #catalogVersion = ++catalogVersionClock;
  readonly #connections = new Set<Connection>();
  #closed = false;
  #analyzing = false;
  /** per table: its row count at the previous tick and how many ticks in a row it was deferred */
  readonly #analyzeWatch = new Map<TableId, { rows: number; deferred: number }>();
  readonly #stats = new Map<TableId, TableStatistics | undefined>();
  #gcTimer: NodeJS.Timeout | undefined;
  #autoRewrite = true;
  #rewriting = false;

  private constructor(path: string, store: Store, txns: TransactionManager, indexes: IndexRegistry) {
    this.path = path;
    this.store = store;
    this.txns = txns;
    this.indexes = indexes;
    this.#committedCatalog = CatalogState.build(store.metaEntries());
  }

  /** Open (creating when missing) a database directory, or ':memory:' for an in-memory one. */
  static async open(path: string, options: DatabaseOptions = {}): Promise<Database> {
    await initSql();
    const memory = path === ':memory:' || path === '';
    const env = options.env ?? (memory ? new MemEnv() : new NodeEnv());
    const dir = memory ? '/db' : path;
    const store = await openStore({
      env,
      dir,
      durable: options.durable ?? !memory,
      ...(options.memoryLimit !== undefined ? { memoryLimit: options.memoryLimit } : {}),
      ...(options.checkpointWalBytes !== undefined ? { checkpointWalBytes: options.checkpointWalBytes } : {}),
      ...(options.rowGroupSize !== undefined ? { rowGroupSize: options.rowGroupSize } : {}),
      // a directory keeps its committed metadata in a Bε-tree (catalog/betree-metadata.ts); ':memory:' inline
      ...(memory ? {} : { metadata: new BetreeMetadata(env, dir, { durable: options.durable ?? true }) }),
    }, options.storeTuning);
    store.setColumnConverter?.(columnConverter());
    const txns = new TransactionManager();
    txns.restoreClock(store.recoveredCommitTs);
    // indexes of a directory persist through checkpoints (index-registry.ts); ':memory:' rebuilds nothing
    const indexes = new IndexRegistry(memory ? undefined : { env, dir, durable: options.durable ?? true });
    const db = new Database(memory ? ':memory:' : path, store, txns, indexes);
    await db.indexes.openAll(store, db.#committedCatalog);
    if (!memory) store.setCheckpointHook(db.indexes.checkpointHook(() => db.#committedCatalog));
    db.#autoRewrite = options.backgroundRewrite ?? true;
    db.#gcTimer = setInterval(() => db.#gcTick(), 5_000);
    db.#gcTimer.unref();
    db.#kickRewrite();
    return db;
  }

  /** A new session with its own transaction state. */
  connect(): Connection {
    this.#assertOpen();
    const c = new Connection(this, () => this.#connections.delete(c));
    this.#connections.add(c);
    return c;
  }

  /** The committed catalog (what a new transaction starts from). */
  get committedCatalog(): CatalogState {
    return this.#committedCatalog;
  }

  /** Version of the committed catalog: changes on every commit that changed it. */
  get catalogVersion(): number {
    return this.#catalogVersion;
  }

  /** Called synchronously inside a commit that changed the catalog. */
  refreshCatalog(): void {
    this.#catalogVersion = ++catalogVersionClock;
    this.#committedCatalog = CatalogState.build(this.store.metaEntries());
    this.#stats.clear();
    this.#kickRewrite();
  }

  /**
   * One step of the background rewrite of ALTER COLUMN TYPE (one old segment rewritten in the new
   * type, or the conversion dropped when nothing needs it): true while work remains.
   */
  async rewriteStep(): Promise<boolean> {
    this.#assertOpen();
    return (await this.store.rewriteStep?.()) ?? false;
  }

  /** Background rewrite: steps until done, yielding between them; runs again after the next ALTER. */
  #kickRewrite(): void {
    if (this.#closed || !this.#autoRewrite || this.#rewriting || !this.store.hasPendingRewrite?.()) return;
    this.#rewriting = true;
    void (async () => {
      try {
        while (!this.#closed && (await this.store.rewriteStep!())) await new Promise((r) => setImmediate(r));
      } catch {
        // retried at the next tick (e.g. after a transient I/O error)
      } finally {
        this.#rewriting = false;
      }
    })();
  }

  /**
   * Check every index against its table (see IndexRegistry.verify): throws XX002 when an index
   * lacks an entry for a committed row or its tree breaks an invariant.
   */
  async verifyIndexes(): Promise<{ indexes: number; rows: number }> {
    this.#assertOpen();
    // an id no other transaction has (a virtual one): the check sees the latest committed rows
    const txn = this.txns.beginVirtual('read committed');
    try {
      return await this.indexes.verify(this.store, this.#committedCatalog, txn.id);
    } finally {
      this.txns.endVirtual(txn);
    }
  }

  /** Write everything committed as Parquet segments and trim the WAL. */
  async checkpoint(): Promise<void> {
    this.#assertOpen();
    await this.store.checkpoint();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Figures for /metrics and the system views. */
  metrics(): Record<string, number> {
    const s = this.store.stats();
    return {
      connections: this.#connections.size,
      wal_bytes: s.walBytes,
      wal_syncs: s.walSyncs,
      checkpoints: s.checkpoints,
      buffer_pool_bytes: s.bufferPool.bytesInUse,
      buffer_pool_limit_bytes: s.bufferPool.limitBytes,
      buffer_pool_hits: s.bufferPool.hits,
      buffer_pool_misses: s.bufferPool.misses,
      buffer_pool_evictions: s.bufferPool.evictions,
      ...indexMetrics(this.indexes),
    };
  }

  /** Statistics of a table from its last ANALYZE (automatic or explicit), if any. */
  tableStats(id: TableId): TableStatistics | undefined {
    if (!this.#stats.has(id)) {
      const raw = this.store.metaEntries().get(statsKey(id));
      this.#stats.set(id, raw === undefined ? undefined : (JSON.parse(raw, unbig) as TableStatistics));
    }
    return this.#stats.get(id);
  }

  /**
   * ANALYZE: compute statistics of the given tables (all when omitted) from their latest committed
   * rows and store them, in a transaction of its own (statistics are not transactional data).
   */
  async analyze(ids?: readonly TableId[], opts: { statisticsTarget?: number } = {}): Promise<void> {
    this.#assertOpen();
    const catalog = this.#committedCatalog;
    const tables = (ids ?? [...catalog.tablesById.keys()]).map((id) => catalog.tablesById.get(id)).filter((t) => t !== undefined);
    if (tables.length === 0) return;
    const h = this.txns.begin({ isolation: 'read committed' });
    try {
      const computed: [TableId, TableStatistics][] = [];
      for (const t of tables) {
        if (!this.store.hasTable(t.id)) continue;
        const stats = await analyzeTable(this.store, t, h.id, opts);
        this.store.metaPut(h.id, statsKey(t.id), JSON.stringify(stats, big));
        computed.push([t.id, stats]);
      }
      this.txns.prepareCommit(h);
      await this.store.prepareCommit(h.id);
      const ts = this.txns.commit(h, (ts) => this.store.finishCommit(h.id, ts));
      for (const [id, stats] of computed) this.#stats.set(id, stats);
      await this.txns.whenVisible(ts);
    } catch (err) {
      this.txns.abort(h, () => this.store.rollback(h.id));
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    for (const c of [...this.#connections]) await c.close();
    this.#closed = true;
    if (this.#gcTimer) clearInterval(this.#gcTimer);
    await this.store.close();
    await this.indexes.close();
  }

  #gcTick(): void {
    if (this.#closed) return;
    this.store.setGcHorizon(this.txns.oldestActiveStartTs());
    this.#kickRewrite();
    // automatic ANALYZE of tables whose row count moved enough since their statistics
    if (this.#analyzing) return;
    // a table still growing or shrinking since the previous tick (a load, a write storm) waits
    // until its writes pause, at most AUTO_ANALYZE_MAX_DEFERRALS ticks: each ANALYZE reads the
    // table, so one at the end of a load instead of one per 10% of growth. A table seen for the
    // first time waits one tick too (it may be in the middle of its first load: an ANALYZE then
    // would read a part of it, competing with the load, and be redone after it)
    const stale: TableId[] = [];
    for (const t of this.#committedCatalog.tablesById.values()) {
      if (!this.store.hasTable(t.id)) continue;
      const rows = this.store.rowCount(t.id);
      const seen = this.#analyzeWatch.get(t.id);
      const due = needsAnalyze(this.tableStats(t.id), rows);
      if (due && (seen === undefined || (seen.rows !== rows && seen.deferred < AUTO_ANALYZE_MAX_DEFERRALS))) {
        this.#analyzeWatch.set(t.id, { rows, deferred: (seen?.deferred ?? 0) + 1 });
        continue;
      }
      this.#analyzeWatch.set(t.id, { rows, deferred: 0 });
      if (due) stale.push(t.id);
    }
    for (const id of this.#analyzeWatch.keys()) if (!this.#committedCatalog.tablesById.has(id)) this.#analyzeWatch.delete(id);
    if (stale.length === 0) return;
    this.#analyzing = true;
    this.analyze(stale).catch(() => undefined).finally(() => { this.#analyzing = false; });
  }

  #assertOpen(): void {
    if (this.#closed) throw new DbError(SqlState.ObjectNotInPrerequisiteState, 'the database is closed');
  }
}
