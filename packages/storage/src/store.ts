/**
 * `openStore`: the Store of api.ts over Env + WAL + delta + Parquet segments + buffer pool.
 *
 * Layout of a database directory: see api.ts. Write path: `insert`/`delete`/DDL/meta apply to
 * memory at once with the txn id as stamp and are kept in the txn's write list (a large insert
 * already encoded as a whole WAL record, header included; small ones encoded at commit from the
 * delta, see InsertWrite); `prepareCommit` appends the list (the deletes of a run of data writes
 * merged into one record per table, and so are the small inserts of a run into one table) +
 * COMMIT to the WAL and awaits the group fsync; `finishCommit` re-stamps synchronously.
 *
 * Checkpoint (one at a time, also serializes compaction):
 *  0. the hook's `prepare` (optional, commits keep running): index pages written ahead.
 *  1. cut: close the commit gate, wait until no txn is between prepareCommit and finishCommit,
 *     record cut LSN = WAL end, and capture (synchronously) the committed delta rows, the
 *     committed deletes, the committed meta map, and the checkpoint hook's state (the engine's
 *     index trees, copy-on-write: `CheckpointHook`); reopen the gate.
 *  2. write one new segment per table with moved rows (fsync'ed file + dir); the hook flushes
 *     (index files written + fsync'ed) at the same time (its I/O overlaps the encoding); once
 *     both are durable, its record goes into the manifest.
 *  3. write MANIFEST-<n>, switch CURRENT atomically (tmp + fsync + rename + dir fsync); tell the
 *     hook (its replaced pages become reusable). With a MetadataBackend (api.ts), `writeManifest`
 *     first hands it the metadata keys changed since its last write (flattenManifest, diffed
 *     against `metaFlat`) and awaits its flush; the manifest then holds only its record, and the
 *     backend is told `committed()` after the switch. Compaction's manifests go the same way.
 *  4. switch memory (synchronously): new segments get the moved rows' CURRENT stamps; the delta
 *     is rebuilt without them; then trim the WAL before the cut and remove unreferenced files.
 * A crash before the CURRENT rename recovers the old manifest + the whole WAL; after it, the new
 * manifest + the WAL from the cut. Deletes replayed on rows already deleted (or compacted away)
 * are no-ops, so replaying a delete the manifest already holds is harmless.
 *
 * Recovery (open): LOCK, CURRENT → manifest (its `metaStore` record loaded through the backend;
 * older manifests and the default keep meta + tables inline), WAL replay from its cut (records of a txn apply only
 * with its COMMIT; replayed commits get timestamps maxCommitTs+1, +2, ... in log order), then
 * removal of files the manifest does not reference.
 *
 * Concurrency: single JS thread. Scans capture the segment list and delta chunk list (with their
 * lengths) when they start, so a checkpoint or compaction switching memory mid-scan does not
 * change what they see; files they may still read are removed only once no older scan runs.
 */
import {
  ABORTED,
  allocateData,
  DbError,
  DataCorrupted,
  InternalError,
  invariant,
  isUncommittedStamp,
  isVisible,
  NOT_DELETED,
  SqlState,
  TXN_ID_START,
  type ColumnBatch,
  type ColumnVector,
  type PhysicalType,
  type Snapshot,
  type TableId,
  type Timestamp,
  type TxnId,
  type VectorData,
} from '@quiverdb/common';
import type {
  ColumnConversion,
  ColumnConverter,
  DeleteOutcome,
  ScanStats,
  StorageScanBatch,
  StorageScanOptions,
  StoredColumn,
  StoredTableSpec,
  Store,
  StoreOptions,
  StoreStats,
  MetadataBackend,
} from './api.js';
import { BufferPool } from './buffer/buffer-pool.js';
import { dirname, type Env } from './env/env.js';
import { NodeEnv } from './env/node-env.js';
import { decodeManifest, decodeOffsets, emptyManifest, encodeManifest, encodeOffsets, flattenManifest, segmentPath, unflattenManifest, type Manifest, type ManifestSegment, type ManifestTable } from './segment/manifest.js';
import { EncodeWorker, type EncodeJob } from './segment/encode-worker.js';
import { encodeRowGroupsTo, openParquet, readRowGroup, readRowGroupFromBytes, splitRowGroups, type RowGroupData, type SegmentCodec } from './segment/parquet-io.js';
import { Segment, runsOf, type RowGroupMeta } from './segment/segment.js';
import { canMatch, computeZone, zoneFromJson, type Zone } from './segment/zone-map.js';
import { absentVector, vectorBytes } from './table/column-ops.js';
import type { ChunkColumn, DeltaChunk } from './table/delta.js';
import { deltaVisibility } from './table/delta-visibility.js';
import { TableState, type RowLoc } from './table/table-state.js';
import { emit, manifestSegment, rowGroupOf, segmentSelection } from './segment/segment-scan.js';
import { defaultHeapBudget, defaultMemoryLimit } from './buffer/memory-budget.js';
import { concatBytes } from './wal/bytes.js';
import { appendOp, decodeOp, encodeOpRecord, RecordType, type WalOp } from './wal/records.js';
import { Wal } from './wal/wal.js';

type Write =
  | InsertWrite
  | { readonly k: 'delete'; readonly table: TableId; readonly rowIds: Float64Array }
  | { readonly k: 'meta'; readonly key: string; readonly value: string | undefined }
  | { readonly k: 'create'; readonly spec: StoredTableSpec }
  | { readonly k: 'drop'; readonly table: TableId }
  | { readonly k: 'alter'; readonly spec: StoredTableSpec; readonly prev: StoredTableSpec };

/**
 * The rows [firstRowId, firstRowId + n) one insert call added to the delta. `rec`: their whole WAL
 * record. A large batch is encoded at once (the batch is not kept); a small one (up to
 * DEFER_ROWS rows: a single-row INSERT) is left undefined and encoded at prepareCommit from the
 * delta (the rows stay there, unchanged, until the txn ends), with the small inserts that
 * continue it as one record: a transaction of 100k single-row INSERTs writes a few records, not
 * 100k, and encodes no record per statement. `colIds` / `types`: the columns at insert time.
 */
interface InsertWrite {
  readonly k: 'insert';
  readonly table: TableId;
  readonly firstRowId: number;
  readonly n: number;
  rec: Uint8Array | undefined;
  readonly colIds: readonly number[];
  readonly types: readonly StoredColumn['type'][];
}

/** Inserts of at most this many rows defer their WAL record (see InsertWrite). */
const DEFER_ROWS = 64;
/** A deferred run's record holds at most this many rows (bounds one record's size). */
const RUN_ROWS = 65_536;

/** Column ids and types of a column list (specs are immutable: cached per list, for every insert). */
const columnListsOf = new WeakMap<readonly StoredColumn[], { colIds: readonly number[]; types: readonly StoredColumn['type'][] }>();
function columnLists(cols: readonly StoredColumn[]): { colIds: readonly number[]; types: readonly StoredColumn['type'][] } {
  let l = columnListsOf.get(cols);
  if (l === undefined) columnListsOf.set(cols, (l = { colIds: cols.map((c) => c.id), types: cols.map((c) => c.type) }));
  return l;
}

interface TxnState {
  writes: Write[];
  /** between prepareCommit start and finishCommit / rollback */
  preparing: boolean;
}

/** Store tuning not in StoreOptions (tests, benchmarks). */
export interface StoreTuning {
  codec?: SegmentCodec;
  walSegmentBytes?: number;
  /** keep a preallocated spare WAL segment (default: on for a durable store on the real file system) */
  walPreallocate?: boolean;
  /** compaction: merge segments smaller than this many rows */
  smallSegmentRows?: number;
  /** compaction: rewrite segments with at least this fraction of deleted rows */
  deleteHeavyFraction?: number;
  /** checkpoint when the in-memory delta holds more than this fraction of the buffer pool budget */
  deltaShare?: number;
  /**
   * encode segments of at least ENCODE_WORKER_MIN_ROWS rows to Parquet on the helper thread of
   * segment/encode-worker.ts (default on; it is not started with one CPU or `QUIVER_ENCODE_WORKER=0`)
   */
  encodeWorker?: boolean;
}

/** Segments smaller than this are encoded in the store's thread: the hand-over would cost more than it saves. */
const ENCODE_WORKER_MIN_ROWS = 8192;

const VALID_TYPES = new Set<number>(Object.values(RecordType));
/** segment files up to this size are read whole and decoded with the sync reader */
const SMALL_FILE_BYTES = 1 << 20;
/** Row groups up to this many rows go to a scan whole (one batch) when it asks no batch size. */
const WHOLE_GROUP_ROWS = 131_072;
const openDirs = new Map<string, true>();

function lockKey(env: Env, dir: string): string {
  return `${envIdentity(env)}|${dir}`;
}
const envIds = new WeakMap<Env, number>();
let nextEnvId = 1;
function envIdentity(env: Env): string {
  let id = envIds.get(env);
  if (id === undefined) { id = nextEnvId++; envIds.set(env, id); }
  const scope = (env as { lockScope?: () => string }).lockScope?.() ?? '';
  return `${id}:${scope}`;
}

class Deferred {
  promise: Promise<void>;
  resolve!: () => void;
  constructor() { this.promise = new Promise<void>((r) => { this.resolve = r; }); }
}

type RowSource = { readonly data: VectorData; readonly validity: Uint8Array | null };
/** `readRowCached`'s columns and sources, reused (the call is synchronous and not re-entered). */
const rowColumns: StoredColumn[] = [];
const rowSources: RowSource[] = [];

/**
 * The delta chunk's vectors of `cols` into `into[0..cols.length)`; false when one is missing or
 * has another type (a column added or retyped after the row was written: `fetch` converts it).
 */
function deltaSources(chunkCols: ReadonlyMap<number, ChunkColumn>, cols: readonly StoredColumn[], into: RowSource[]): boolean {
  for (let j = 0; j < cols.length; j++) {
    const cc = chunkCols.get(cols[j]!.id);
    if (cc === undefined || cc.type !== cols[j]!.type) return false;
    into[j] = cc;
  }
  return true;
}

export class QuiverStore implements Store {
  private readonly tables = new Map<TableId, TableState>();
  private readonly meta = new Map<string, string>();
  private readonly txns = new Map<TxnId, TxnState>();
  private readonly pool: BufferPool<unknown>;
  private wal!: Wal;
  private manifest: Manifest = emptyManifest();
  /** last manifest number used (never reused, even by a failed checkpoint) */
  private manifestSeq = 0;
  /** next segment id (never reused, even by a failed checkpoint / compaction) */
  private segmentSeq = 1;
  private preparingCount = 0;
  private preparedIdle: Deferred | undefined;
  private cutGate: Promise<void> | undefined;
  private maintenance: Promise<void> = Promise.resolve();
  private maintenanceRunning = false;
  private checkpoints = 0;
  private compactions = 0;
  /** segments rewritten for ALTER COLUMN TYPE conversions */
  private rewrites = 0;
  /** bytes of the in-memory delta (all tables), reserved in the buffer pool's budget */
  private deltaBytes = 0;
  private converter: ColumnConverter | undefined;
  /** per-process ids of conversions (buffer pool keys of converted chunks) */
  private readonly convIds = new WeakMap<ColumnConversion, number>();
  private nextConvId = 1;
  /** converted columns of delta chunks written before a type change: chunk → conversion id → vector */
  private readonly deltaConv = new WeakMap<DeltaChunk, Map<number, { n: number; v: ColumnVector }>>();
  private lastCutLsn = 0;
  private maxCommitTs = 0;
  private gcHorizon = 0;
  private scanEpoch = 0;
  private readonly activeScans = new Map<number, number>();
  /** files no longer referenced, removable once no scan older than `epoch` runs */
  private readonly obsolete: { path: string; epoch: number }[] = [];
  private closed = false;
  private readonly knownDirs = new Set<string>();
  private backgroundError: unknown;
  /** the last checkpoint's WAL trim, while it runs (see doCheckpoint) */
  private walTrim: Promise<void> | undefined;
  recoveredCommitTs: Timestamp = 0 as Timestamp;
  readonly rowGroupSize: number;
  private readonly checkpointWalBytes: number;
  private readonly durable: boolean;
  private readonly tuning: Required<StoreTuning>;
  /** durable home of the metadata (undefined: inline in the manifest), see api.ts MetadataBackend */
  private readonly metadata: MetadataBackend | undefined;
  /** with `metadata`: the flat entries it holds in memory (everything passed to its `write`s) */
  private metaFlat = new Map<string, string>();

  constructor(private readonly env: Env, private readonly dir: string, opts: StoreOptions, tuning: StoreTuning = {}) {
    this.pool = new BufferPool<unknown>(opts.memoryLimit ?? defaultMemoryLimit(), 0.25, 4096, defaultHeapBudget());
    this.rowGroupSize = opts.rowGroupSize ?? 122_880;
    this.checkpointWalBytes = opts.checkpointWalBytes ?? 16 << 20;
    this.durable = opts.durable ?? true;
    this.metadata = opts.metadata;
    this.tuning = {
      codec: tuning.codec ?? 'snappy',
      walSegmentBytes: tuning.walSegmentBytes ?? 8 << 20,
      walPreallocate: tuning.walPreallocate ?? (this.durable && env instanceof NodeEnv),
      smallSegmentRows: tuning.smallSegmentRows ?? Math.max(1, Math.floor(this.rowGroupSize / 2)),
      deleteHeavyFraction: tuning.deleteHeavyFraction ?? 0.3,
      deltaShare: tuning.deltaShare ?? 0.5,
      encodeWorker: tuning.encodeWorker ?? true,
    };
  }

  private p(rel: string): string { return `${this.dir}/${rel}`; }

  // ---------------------------------------------------------------- open / recovery

  async open(): Promise<void> {
    const env = this.env;
    if (!(await env.exists(this.dir))) {
      await env.mkdir(this.dir);
      if (this.durable) await env.syncDir(dirname(this.dir));
    }
    // create the subdirectories before the LOCK write, whose dir fsync makes their entries durable
    await env.mkdir(this.p('wal'));
    await env.mkdir(this.p('data'));
    this.knownDirs.add('data');
    await this.takeLock();
    const current = this.p('CURRENT');
    if (await env.exists(current)) {
      const name = new TextDecoder().decode(await env.readFile(current)).trim();
      if (!/^MANIFEST-\d+$/.test(name)) throw new DataCorrupted(`CURRENT names no manifest: ${JSON.stringify(name)}`);
      this.manifest = decodeManifest(await env.readFile(this.p(name)), name);
      // metadata in a backend (older manifests, and the default, keep it inline)
      if (this.manifest.metaStore !== undefined) {
        if (this.metadata === undefined) throw new DataCorrupted(`${name}: its metadata lives in a metadata store this store was opened without`);
        this.metaFlat = await this.metadata.load(this.manifest.metaStore);
        this.manifest = { ...this.manifest, ...unflattenManifest(this.metaFlat) };
      }
    }
    const m = this.manifest;
    this.manifestSeq = m.seq;
    for (const name of await env.list(this.dir)) {
      const mm = /^MANIFEST-(\d+)$/.exec(name);
      if (mm !== null) this.manifestSeq = Math.max(this.manifestSeq, Number(mm[1]));
    }
    this.segmentSeq = m.nextSegmentId;
    for (const td of await env.list(this.p('data'))) {
      for (const f of await env.list(this.p(`data/${td}`))) {
        const sm = /^(\d+)\.parquet$/.exec(f);
        if (sm !== null) this.segmentSeq = Math.max(this.segmentSeq, Number(sm[1]) + 1);
      }
    }
    for (const k of m.meta) this.meta.set(k[0], k[1]);
    for (const mt of m.tables) {
      const t = new TableState(mt.spec, undefined);
      t.nextRowId = mt.nextRowId;
      if (mt.lastCompaction !== undefined) t.lastCompaction = mt.lastCompaction;
      const segs = mt.segments.map((ms) => this.segmentFromManifest(ms));
      t.setSegments(segs);
      t.liveRows = segs.reduce((n, s) => n + s.rows - s.deleted, 0);
      this.tables.set(t.id, t);
    }
    this.maxCommitTs = m.maxCommitTs;
    const { wal, records } = await Wal.open(env, this.p('wal'), m.walStartLsn, {
      durable: this.durable, segmentBytes: this.tuning.walSegmentBytes, validTypes: VALID_TYPES, preallocate: this.tuning.walPreallocate,
    });
    this.wal = wal;
    this.lastCutLsn = m.walStartLsn;
    this.replay(records);
    this.resyncDeltaBytes();
    this.recoveredCommitTs = this.maxCommitTs as Timestamp;
    await this.removeUnreferenced(true);
  }

  private async takeLock(): Promise<void> {
    const key = lockKey(this.env, this.dir);
    const path = this.p('LOCK');
    if (openDirs.has(key)) throw new DbError(SqlState.ObjectInUse, `database ${this.dir} is already open in this process`);
    if (await this.env.exists(path)) {
      const pid = Number(new TextDecoder().decode(await this.env.readFile(path)).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && this.env.processAlive(pid)) {
        throw new DbError(SqlState.ObjectInUse, `database ${this.dir} is in use by process ${pid}`);
      }
    }
    await this.env.writeFileDurable(path, new TextEncoder().encode(`${process.pid}\n`));
    openDirs.set(key, true);
  }

  private segmentFromManifest(ms: ManifestSegment): Segment {
    const seg = new Segment({
      id: ms.id,
      file: ms.file,
      rows: ms.rows,
      bytes: ms.bytes,
      columns: ms.columns,
      runs: ms.runs,
      rowGroups: ms.rowGroups.map((g) => ({ offset: g.offset, rows: g.rows, zones: new Map(g.zones.map(([c, z]) => [c, zoneFromJson(z)])) })),
    });
    for (const off of decodeOffsets(ms.deletes)) seg.setDel(off, 0);
    return seg;
  }

  private replay(records: { lsn: number; type: number; payload: Uint8Array }[]): void {
    const pending = new Map<TxnId, WalOp[]>();
    const deletes: { op: WalOp; ts: number }[] = [];
    for (const r of records) {
      const { txn, op } = decodeOp(r.type, r.payload);
      if (op.t !== 'commit') {
        let l = pending.get(txn);
        if (l === undefined) { l = []; pending.set(txn, l); }
        l.push(op);
        continue;
      }
      const ops = pending.get(txn) ?? [];
      pending.delete(txn);
      const ts = ++this.maxCommitTs;
      for (const o of ops) {
        if (o.t === 'delete') deletes.push({ op: o, ts });
        else this.applyCommitted(o, ts);
      }
    }
    // Inserts replay in commit order, which need not be row-id order: sort the deltas, then
    // apply the deletes (row lookup needs sorted deltas).
    for (const t of this.tables.values()) if (!t.delta.isSorted()) t.delta.rebuild(() => true);
    for (const d of deletes) this.applyCommitted(d.op, d.ts);
  }

  private applyCommitted(op: WalOp, ts: number): void {
    switch (op.t) {
      case 'create':
        this.tables.set(op.spec.id, new TableState(op.spec, undefined));
        return;
      case 'drop':
        this.tables.delete(op.table);
        return;
      // (a delete replayed after its table was dropped finds no table: ignored below)
      case 'alter': {
        const t = this.tables.get(op.spec.id);
        if (t !== undefined) { t.setSpec(op.spec); t.committedSpec = op.spec; }
        return;
      }
      case 'meta':
        if (op.value === undefined) this.meta.delete(op.key); else this.meta.set(op.key, op.value);
        return;
      case 'insert': {
        const t = this.tables.get(op.table);
        if (t === undefined) throw new DataCorrupted(`WAL: insert into unknown table ${op.table}`);
        t.delta.append(op.batch, op.colIds, op.firstRowId, ts);
        t.nextRowId = Math.max(t.nextRowId, op.firstRowId + op.batch.length);
        t.liveRows += op.batch.length;
        return;
      }
      case 'delete': {
        const t = this.tables.get(op.table);
        if (t === undefined) return; // dropped later in the log
        for (const id of op.rowIds) {
          const loc = t.locate(id);
          if (loc === undefined) continue; // compacted away already
          if (t.stamps(loc).delete === NOT_DELETED) { t.setDel(loc, ts); t.liveRows--; }
        }
        return;
      }
      case 'commit':
        return;
    }
  }

  // ---------------------------------------------------------------- metadata & DDL

  metaEntries(): ReadonlyMap<string, string> { return this.meta; }

  private txn(id: TxnId): TxnState {
    let s = this.txns.get(id);
    if (s === undefined) { s = { writes: [], preparing: false }; this.txns.set(id, s); }
    invariant(!s.preparing, () => `txn ${id} writes after prepareCommit`);
    return s;
  }

  private table(id: TableId): TableState {
    const t = this.tables.get(id);
    if (t === undefined) throw new DbError(SqlState.UndefinedTable, `storage: no table ${id}`);
    return t;
  }

  metaPut(txn: TxnId, key: string, value: string | undefined): void {
    this.txn(txn).writes.push({ k: 'meta', key, value });
  }

  createTable(txn: TxnId, spec: StoredTableSpec): void {
    if (this.tables.has(spec.id)) throw new DbError(SqlState.DuplicateTable, `storage: table ${spec.id} exists`);
    this.encodeDeferred(txn);
    this.txn(txn).writes.push({ k: 'create', spec });
    this.tables.set(spec.id, new TableState(spec, txn));
  }

  dropTable(txn: TxnId, id: TableId): void {
    const t = this.table(id);
    this.encodeDeferred(txn);
    this.txn(txn).writes.push({ k: 'drop', table: id });
    t.droppedBy = txn;
  }

  alterTable(txn: TxnId, spec: StoredTableSpec): void {
    const t = this.table(spec.id);
    const merged = mergeConversions(t.spec, spec);
    this.encodeDeferred(txn);
    this.txn(txn).writes.push({ k: 'alter', spec: merged, prev: t.spec });
    t.setSpec(merged);
  }

  hasTable(id: TableId): boolean { return this.tables.has(id); }

  /**
   * Before DDL of `txn`: encode its deferred insert records now, one per write (a later ROLLBACK
   * TO SAVEPOINT may still remove some of those writes, so none covers another), while the rows
   * are in the columns they were inserted under.
   */
  private encodeDeferred(txn: TxnId): void {
    const s = this.txns.get(txn);
    if (s === undefined) return;
    for (const w of s.writes) if (w.k === 'insert' && w.rec === undefined) w.rec = this.encodeInsertRun(txn, w, w.n);
  }

  /** The WAL record of the `n` delta rows from `w.firstRowId` on (`w` and the writes continuing it). */
  private encodeInsertRun(txn: TxnId, w: InsertWrite, n: number): Uint8Array {
    return encodeOpRecord(txn, this.insertRunOp(w, n));
  }

  /** `wal.appendRecord(this.encodeInsertRun(txn, w, n))` (a small record without an array of its own). */
  private appendInsertRun(txn: TxnId, w: InsertWrite, n: number): void {
    appendOp(this.wal, txn, this.insertRunOp(w, n));
  }

  /** The insert op of the run: the delta's own columns where it lies in one chunk, else a copy. */
  private insertRunOp(w: InsertWrite, n: number): WalOp {
    const delta = this.table(w.table).delta;
    const view = delta.view(w.firstRowId, n, w.colIds, w.types);
    if (view !== undefined) return { t: 'insert', table: w.table, firstRowId: w.firstRowId, colIds: w.colIds, types: w.types, batch: view.batch, from: view.from, rows: n };
    const batch = delta.gather(w.firstRowId, n, w.colIds, w.types);
    return { t: 'insert', table: w.table, firstRowId: w.firstRowId, colIds: w.colIds, types: w.types, batch };
  }

  // ---------------------------------------------------------------- writes

  insert(txn: TxnId, tableId: TableId, batch: ColumnBatch): Float64Array {
    const t = this.table(tableId);
    const s = this.txn(txn);
    const cols = t.spec.columns;
    invariant(batch.columns.length === cols.length, () => `insert: ${batch.columns.length} columns for a table of ${cols.length}`);
    const n = batch.length;
    const first = t.nextRowId;
    t.nextRowId += n;
    const { colIds, types } = columnLists(cols);
    const rec = n <= DEFER_ROWS ? undefined : encodeOpRecord(txn, { t: 'insert', table: tableId, firstRowId: first, colIds, types, batch });
    t.delta.append(batch, colIds, first, txn);
    this.reserveDelta(batch);
    s.writes.push({ k: 'insert', table: tableId, firstRowId: first, n, rec, colIds, types });
    const ids = new Float64Array(n);
    for (let i = 0; i < n; i++) ids[i] = first + i;
    return ids;
  }

  delete(txn: TxnId, snapshot: Snapshot, tableId: TableId, rowIds: Float64Array): DeleteOutcome[] {
    const t = this.table(tableId);
    const s = this.txn(txn);
    const out: DeleteOutcome[] = new Array(rowIds.length);
    const done: number[] = [];
    for (let k = 0; k < rowIds.length; k++) {
      const id = rowIds[k]!;
      const loc = t.locate(id);
      if (loc === undefined) { out[k] = GONE; continue; }
      const { insert: ins, delete: del } = t.stamps(loc);
      const inserted = ins < snapshot.startTs || ins === snapshot.txnId || ins === txn;
      if (!inserted) out[k] = GONE;
      else if (del === NOT_DELETED) { t.setDel(loc, txn); done.push(id); out[k] = DELETED; }
      else if (del === txn || del === snapshot.txnId) out[k] = GONE;
      else if (isUncommittedStamp(del)) out[k] = { kind: 'locked', holder: del as TxnId };
      else if (del < snapshot.startTs) out[k] = GONE;
      else out[k] = { kind: 'concurrentlyDeleted', commitTs: del as Timestamp };
    }
    if (done.length > 0) s.writes.push({ k: 'delete', table: tableId, rowIds: Float64Array.from(done) });
    return out;
  }

  rowStamps(tableId: TableId, rowId: number): { insert: number; delete: number } | undefined {
    const t = this.tables.get(tableId);
    const loc = t?.locate(rowId);
    return loc === undefined ? undefined : t!.stamps(loc);
  }

  savepoint(txn: TxnId): number {
    return this.txns.get(txn)?.writes.length ?? 0;
  }

  rollbackTo(txn: TxnId, mark: number): void {
    const s = this.txns.get(txn);
    if (s === undefined) return;
    invariant(!s.preparing, 'rollbackTo during commit');
    for (let k = s.writes.length - 1; k >= mark; k--) this.undo(txn, s.writes[k]!);
    s.writes.length = Math.min(s.writes.length, mark);
  }

  rollback(txn: TxnId): void {
    const s = this.txns.get(txn);
    if (s === undefined) return;
    for (let k = s.writes.length - 1; k >= 0; k--) this.undo(txn, s.writes[k]!);
    this.txns.delete(txn);
    if (s.preparing) this.donePreparing();
  }

  private undo(txn: TxnId, w: Write): void {
    switch (w.k) {
      case 'insert': {
        const t = this.tables.get(w.table);
        t?.stampInserted(w.firstRowId, w.n, ABORTED);
        return;
      }
      case 'delete': {
        const t = this.tables.get(w.table);
        if (t === undefined) return;
        for (const id of w.rowIds) {
          const loc = t.locate(id);
          if (loc !== undefined && t.stamps(loc).delete === txn) t.setDel(loc, NOT_DELETED);
        }
        return;
      }
      case 'meta': return;
      case 'create': {
        const t = this.tables.get(w.spec.id);
        if (t !== undefined && t.createdBy === txn) { this.tables.delete(w.spec.id); this.forgetTable(t); }
        return;
      }
      case 'drop': {
        const t = this.tables.get(w.table);
        if (t !== undefined && t.droppedBy === txn) t.droppedBy = undefined;
        return;
      }
      case 'alter': {
        const t = this.tables.get(w.spec.id);
        t?.setSpec(w.prev);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- commit

  async prepareCommit(txn: TxnId, opts?: { readonly openTxns?: number }): Promise<void> {
    if (this.backgroundError !== undefined && this.wal.isFailed) throw this.backgroundError;
    const s = this.txns.get(txn);
    if (s === undefined || s.writes.length === 0) return;
    // backpressure: the delta fills the memory budget while maintenance runs: let it move rows out;
    // or the log grew 4x the checkpoint distance since the last cut: the running checkpoint falls
    // behind, or starves (its steps wait for a macrotask turn, which a writer that only awaits
    // microtasks, as on a non-durable store, never gives)
    while (this.maintenanceRunning && (this.deltaOverShare(1.5) || this.wal.appendedLsn - this.lastCutLsn > 4 * this.checkpointWalBytes)) await this.maintenance;
    while (this.cutGate !== undefined) await this.cutGate;
    invariant(!s.preparing, `txn ${txn}: prepareCommit twice`);
    s.preparing = true;
    this.preparingCount++;
    try {
      this.appendWrites(txn, s.writes);
      const lsn = appendOp(this.wal, txn, { t: 'commit' });
      await this.wal.sync(lsn, opts?.openTxns ?? 0);
    } catch (e) {
      // not acknowledged (its records may or may not have reached the disk): the WAL is failed,
      // the database takes no more commits; the caller rolls the txn back
      s.preparing = false;
      this.donePreparing();
      throw e instanceof DbError ? e : DbError.wrap('commit', e);
    }
  }

  /**
   * Append `writes` as WAL records. Deletes of a run of data writes go out as one record per table
   * at the run's end (replay applies a txn's deletes after every insert anyway; DDL / meta writes
   * end a run). Deferred inserts (InsertWrite): a run of them into one table with consecutive row
   * ids (deletes between them, as an UPDATE's, do not end it) goes out as one record; nothing can
   * roll part of it back any more. (No closures and no map unless there are deletes: this runs
   * once per commit.)
   */
  private appendWrites(txn: TxnId, writes: readonly Write[]): void {
    let dels: Map<TableId, Float64Array[]> | undefined;
    let run: InsertWrite | undefined;
    let runN = 0;
    for (const w of writes) {
      if (w.k === 'delete') {
        dels ??= new Map();
        const l = dels.get(w.table);
        if (l === undefined) dels.set(w.table, [w.rowIds]); else l.push(w.rowIds);
        continue;
      }
      if (w.k === 'insert' && w.rec === undefined) {
        if (run !== undefined && run.table === w.table && run.colIds === w.colIds && run.firstRowId + runN === w.firstRowId && runN + w.n <= RUN_ROWS) {
          runN += w.n;
          continue;
        }
        if (run !== undefined) this.appendInsertRun(txn, run, runN);
        run = w;
        runN = w.n;
        continue;
      }
      if (run !== undefined) this.appendInsertRun(txn, run, runN);
      run = undefined;
      if (w.k !== 'insert' && dels !== undefined) { this.appendDeletes(txn, dels); dels = undefined; }
      this.appendWrite(txn, w);
    }
    if (run !== undefined) this.appendInsertRun(txn, run, runN);
    if (dels !== undefined) this.appendDeletes(txn, dels);
  }

  private appendDeletes(txn: TxnId, dels: ReadonlyMap<TableId, Float64Array[]>): void {
    for (const [table, parts] of dels) appendOp(this.wal, txn, { t: 'delete', table, rowIds: concatIds(parts) });
  }

  /** One write as a whole WAL record. */
  private appendWrite(txn: TxnId, w: Write): void {
    switch (w.k) {
      case 'insert':
        if (w.rec !== undefined) this.wal.appendRecord(w.rec);
        else this.appendInsertRun(txn, w, w.n);
        return;
      case 'delete': appendOp(this.wal, txn, { t: 'delete', table: w.table, rowIds: w.rowIds }); return;
      case 'meta': appendOp(this.wal, txn, { t: 'meta', key: w.key, value: w.value }); return;
      case 'create': appendOp(this.wal, txn, { t: 'create', spec: w.spec }); return;
      case 'drop': appendOp(this.wal, txn, { t: 'drop', table: w.table }); return;
      case 'alter': appendOp(this.wal, txn, { t: 'alter', spec: w.spec }); return;
    }
  }

  finishCommit(txn: TxnId, commitTs: Timestamp): void {
    const s = this.txns.get(txn);
    if (s === undefined) return;
    invariant(commitTs < TXN_ID_START, 'commit timestamp in the txn id range');
    // consecutive rows of inserts into one table (single-row INSERTs, an UPDATE's new versions)
    // are stamped in one pass: one locate, not one per write
    let runTable: TableState | undefined;
    let runFirst = 0;
    let runN = 0;
    for (const w of s.writes) {
      if (w.k !== 'insert' && w.k !== 'delete' && runTable !== undefined) { runTable.stampInserted(runFirst, runN, commitTs); runTable = undefined; }
      switch (w.k) {
        case 'insert': {
          const t = this.tables.get(w.table);
          if (t === undefined) break;
          if (runTable === t && runFirst + runN === w.firstRowId) {
            runN += w.n;
          } else {
            if (runTable !== undefined) runTable.stampInserted(runFirst, runN, commitTs);
            runTable = t;
            runFirst = w.firstRowId;
            runN = w.n;
          }
          t.liveRows += w.n;
          break;
        }
        case 'delete': {
          const t = this.tables.get(w.table);
          if (t === undefined) break;
          for (const id of w.rowIds) {
            const loc = t.locate(id);
            if (loc !== undefined && t.stamps(loc).delete === txn) { t.setDel(loc, commitTs); t.liveRows--; }
          }
          break;
        }
        case 'meta':
          if (w.value === undefined) this.meta.delete(w.key); else this.meta.set(w.key, w.value);
          break;
        case 'create': {
          const t = this.tables.get(w.spec.id);
          if (t !== undefined && t.createdBy === txn) { t.createdBy = undefined; t.committedSpec = t.spec; }
          break;
        }
        case 'alter': {
          const t = this.tables.get(w.spec.id);
          if (t !== undefined) t.committedSpec = w.spec;
          break;
        }
        case 'drop': {
          const t = this.tables.get(w.table);
          if (t !== undefined) { this.tables.delete(w.table); this.forgetTable(t); }
          break;
        }
      }
    }
    if (runTable !== undefined) runTable.stampInserted(runFirst, runN, commitTs);
    if (commitTs > this.maxCommitTs) this.maxCommitTs = commitTs;
    this.txns.delete(txn);
    if (s.preparing) this.donePreparing();
    this.maybeAutoCheckpoint();
  }

  private donePreparing(): void {
    this.preparingCount--;
    if (this.preparingCount === 0 && this.preparedIdle !== undefined) {
      const d = this.preparedIdle;
      this.preparedIdle = undefined;
      d.resolve();
    }
  }

  private forgetTable(t: TableState): void {
    for (const s of t.segments) this.pool.dropPrefix(`s${s.meta.id}:`);
  }

  private maybeAutoCheckpoint(): void {
    if (this.closed || this.maintenanceRunning || this.wal.isFailed) return;
    if (this.wal.appendedLsn - this.lastCutLsn < this.checkpointWalBytes && !this.deltaOverShare()) return;
    // from the next turn of the event loop: the commit that triggered it is acknowledged first
    // (its caller's continuation runs before the cut, which may take a while for a large delta)
    this.exclusive(async () => { await yieldToEventLoop(); await this.doCheckpoint(); })
      .then(() => (this.needsCompaction() ? this.compact() : undefined))
      .catch((e: unknown) => { this.backgroundError = e; });
  }

  // ---------------------------------------------------------------- reads

  rowCount(tableId: TableId): number {
    return Math.max(0, this.tables.get(tableId)?.liveRows ?? 0);
  }

  private poolKey(seg: Segment, rg: number, colId: number): string {
    return `s${seg.meta.id}:${rg}:${colId}`;
  }

  private parquetOf(seg: Segment): Promise<import('parquet-wasm').ParquetFile> {
    if (seg.file === undefined) {
      seg.file = this.env.openBlob(this.p(seg.meta.file)).then(openParquet);
      seg.file.catch(() => { seg.file = undefined; });
    }
    return seg.file;
  }

  /**
   * Column chunks of row group `rg` for `cols` (by column id), pinned; `release` unpins.
   * Columns the segment does not have read as NULL.
   */
  private async readChunk(seg: Segment, rg: number, cols: readonly StoredColumn[], spec?: StoredTableSpec): Promise<{ vectors: ColumnVector[]; release: () => void }> {
    const g = seg.meta.rowGroups[rg]!;
    const vectors: (ColumnVector | undefined)[] = new Array(cols.length);
    const pinned: string[] = [];
    const missing: { k: number; col: StoredColumn; name: string; type: PhysicalType }[] = [];
    const converted: { k: number; col: StoredColumn }[] = [];
    for (let k = 0; k < cols.length; k++) {
      const c = cols[k]!;
      const sc = seg.meta.columns.find((x) => x.id === c.id);
      if (sc === undefined || sc.type !== c.type) {
        // re-typed column (ALTER COLUMN TYPE) this segment predates: computed from its sources
        if (c.convert !== undefined && spec !== undefined) converted.push({ k, col: c });
        else vectors[k] = absentVector(c, g.rows);
        continue;
      }
      const key = this.poolKey(seg, rg, c.id);
      const hit = this.pool.get(key) as ColumnVector | undefined;
      if (hit !== undefined) { vectors[k] = hit; pinned.push(key); continue; }
      if (!missing.some((m) => m.col.id === c.id)) missing.push({ k, col: c, name: sc.name, type: sc.type });
    }
    if (missing.length > 0) {
      const want = missing.map((m) => ({ name: m.name, type: m.type }));
      let read: ColumnVector[];
      if (seg.meta.bytes <= SMALL_FILE_BYTES) {
        // small file: keep its bytes in the pool and decode with the sync reader
        const fkey = `s${seg.meta.id}:file`;
        let bytes = this.pool.get(fkey) as Uint8Array | undefined;
        let pinnedFile = bytes !== undefined;
        if (bytes === undefined) {
          const b = await this.env.readFile(this.p(seg.meta.file));
          const cached = this.pool.put(fkey, b, b.length) as Uint8Array | undefined;
          pinnedFile = cached !== undefined;
          bytes = cached ?? b;
        }
        try { read = readRowGroupFromBytes(bytes, rg, g.rows, want); } finally { if (pinnedFile) this.pool.unpin(fkey); }
      } else {
        read = await readRowGroup(await this.parquetOf(seg), rg, g.rows, want);
      }
      missing.forEach((m, j) => {
        const v = read[j]!;
        const key = this.poolKey(seg, rg, m.col.id);
        const cached = this.pool.put(key, v, vectorBytes(v, g.rows), !ArrayBuffer.isView(v.data)) as ColumnVector | undefined;
        if (cached !== undefined) pinned.push(key);
        vectors[m.k] = cached ?? v;
      });
      for (let k = 0; k < cols.length; k++) {
        if (vectors[k] === undefined && cols[k]!.convert === undefined) vectors[k] = vectors[cols.findIndex((c) => c.id === cols[k]!.id)];
      }
    }
    try {
      for (const { k, col } of converted) {
        const key = `s${seg.meta.id}:${rg}:${col.id}:c${this.convId(col.convert!)}`;
        const hit = this.pool.get(key) as ColumnVector | undefined;
        if (hit !== undefined) { vectors[k] = hit; pinned.push(key); continue; }
        const src = await this.readChunk(seg, rg, this.sourcesOf(spec!, col, seg), spec);
        let v: ColumnVector;
        try { v = await this.convertColumn(spec!, col, src.vectors, g.rows); } finally { src.release(); }
        const cached = this.pool.put(key, v, vectorBytes(v, g.rows), !ArrayBuffer.isView(v.data)) as ColumnVector | undefined;
        if (cached !== undefined) pinned.push(key);
        vectors[k] = cached ?? v;
      }
    } catch (e) {
      for (const key of pinned) this.pool.unpin(key);
      throw e;
    }
    let released = false;
    return {
      vectors: vectors as ColumnVector[],
      release: () => {
        if (released) return;
        released = true;
        for (const key of pinned) this.pool.unpin(key);
      },
    };
  }

  scan(tableId: TableId, snapshot: Snapshot, opts: StorageScanOptions, stats?: ScanStats): AsyncIterable<StorageScanBatch> {
    return this.scanGen(tableId, snapshot, opts, stats);
  }

  private async *scanGen(tableId: TableId, snap: Snapshot, opts: StorageScanOptions, stats?: ScanStats): AsyncGenerator<StorageScanBatch> {
    const t = this.table(tableId);
    const spec = t.spec;
    const cols = opts.columns.map((i) => {
      const c = spec.columns[i];
      if (c === undefined) throw new InternalError(`scan: no column position ${i} in table ${tableId}`);
      return c;
    });
    const segs = t.segments.slice();
    const chunks = t.delta.chunks.slice();
    const lens = chunks.map((c) => c.length);
    const batchSize = Math.max(1, opts.batchSize ?? 32768);
    const preds = opts.predicates ?? [];
    const epoch = ++this.scanEpoch;
    this.activeScans.set(epoch, epoch);
    try {
      for (const seg of segs) {
        for (let rg = 0; rg < seg.meta.rowGroups.length; rg++) {
          const g = seg.meta.rowGroups[rg]!;
          if (stats) stats.rowGroupsTotal++;
          t.rowGroupsScanned++;
          if (preds.length > 0 && !preds.every((p) => canMatch(this.zoneFor(seg, g, spec, p.column), p))) {
            if (stats) stats.rowGroupsSkipped++;
            t.rowGroupsSkipped++;
            continue;
          }
          const sel = segmentSelection(seg, g, snap);
          if (sel !== null && sel.n === 0) continue;
          const chunk = await this.readChunk(seg, rg, cols, spec);
          try {
            let ids: Float64Array | undefined;
            if (opts.withRowIds) { ids = new Float64Array(g.rows); seg.rowIds(g.offset, g.offset + g.rows, ids, 0); }
            if (sel === null && opts.batchSize === undefined && g.rows <= WHOLE_GROUP_ROWS && chunk.vectors.every((v) => v.data.length === g.rows)) {
              // a row group seen whole, no batch size asked: its (pinned) column arrays as they are,
              // not sliced into copies (scan consumers copy what they keep)
              const batch: ColumnBatch = { length: g.rows, columns: chunk.vectors };
              yield ids === undefined ? { batch } : { batch, rowIds: ids };
              continue;
            }
            yield* emit(chunk.vectors, cols, g.rows, sel, ids, batchSize);
          } finally {
            chunk.release();
          }
        }
      }
      for (let ci = 0; ci < chunks.length; ci++) {
        const c = chunks[ci]!;
        const n = lens[ci]!;
        const sel = deltaVisibility(c, n, snap);
        const m = sel === null ? n : sel.n;
        if (m === 0) continue;
        const vectors: ColumnVector[] = [];
        for (const col of cols) {
          const cc = c.cols.get(col.id);
          vectors.push(cc !== undefined && cc.type === col.type ? { data: cc.data, validity: cc.validity } : await this.deltaColumn(spec, c, n, col));
        }
        if (sel === null && n <= batchSize && vectors.every((v) => v.data.length === n)) {
          // a full chunk seen whole: its column arrays as they are (scan consumers copy what they keep)
          const batch: ColumnBatch = { length: n, columns: vectors };
          yield opts.withRowIds ? { batch, rowIds: c.rowIds.slice(0, n) } : { batch };
          continue;
        }
        yield* emit(vectors, cols, n, sel, opts.withRowIds ? c.rowIds : undefined, batchSize);
      }
    } finally {
      this.activeScans.delete(epoch);
    }
  }

  private zoneFor(seg: Segment, g: RowGroupMeta, spec: StoredTableSpec, pos: number): Zone | undefined {
    const c = spec.columns[pos];
    if (c === undefined) return undefined;
    const sc = seg.meta.columns.find((x) => x.id === c.id);
    // column added later (or re-typed under the same id): reads as its missing value or NULL
    if (sc === undefined || sc.type !== c.type) {
      if (c.convert !== undefined) return undefined; // computed on read: no zone
      if (c.missing === undefined || c.missing === null) return { nulls: g.rows, rows: g.rows };
      if (c.type === 'json') return undefined; // no order: never prune
      const v = c.type === 'int64' ? BigInt(c.missing) : c.missing;
      return { min: v, max: v, nulls: 0, rows: g.rows };
    }
    return g.zones.get(c.id);
  }

  async fetch(tableId: TableId, rowIds: Float64Array, columns: readonly number[]): Promise<ColumnBatch> {
    // registered like a scan: files it may read are not removed under it
    const epoch = ++this.scanEpoch;
    this.activeScans.set(epoch, epoch);
    try {
      return await this.fetchRows(tableId, rowIds, columns);
    } finally {
      this.activeScans.delete(epoch);
    }
  }

  fetchCached(tableId: TableId, rowIds: Float64Array, columns: readonly number[]): ColumnBatch | undefined {
    const t = this.tables.get(tableId);
    if (t === undefined) return undefined;
    const m = columns.length;
    const n = rowIds.length;
    const cols: StoredColumn[] = new Array<StoredColumn>(m);
    const data: unknown[][] = new Array<unknown[]>(m);
    for (let j = 0; j < m; j++) {
      const c = t.spec.columns[columns[j]!];
      if (c === undefined || c.convert !== undefined) return undefined; // computed on read: `fetch`
      cols[j] = c;
      data[j] = allocateData(c.type, n) as unknown[];
    }
    // validity arrays only for columns where a NULL shows up
    const validity: (Uint8Array | null)[] = new Array<Uint8Array | null>(m).fill(null);
    let seg: Segment | undefined;
    let rg = -1;
    let base = 0;
    let vecs: ColumnVector[] | undefined;
    for (let k = 0; k < n; k++) {
      const loc = t.locate(rowIds[k]!);
      if (loc === undefined) return undefined; // no such row: `fetch` gives its absent values
      let src: readonly RowSource[];
      let at: number;
      if (loc.where === 'delta') {
        const picked = new Array<RowSource>(m);
        if (!deltaSources(loc.chunk.cols, cols, picked)) return undefined;
        src = picked;
        at = loc.i;
      } else {
        const g = rowGroupOf(loc.seg, loc.off);
        if (loc.seg !== seg || g !== rg) {
          vecs = this.pooledChunk(loc.seg, g, cols);
          if (vecs === undefined) return undefined;
          seg = loc.seg;
          rg = g;
          base = loc.seg.meta.rowGroups[g]!.offset;
        }
        src = vecs!;
        at = loc.off - base;
      }
      for (let j = 0; j < m; j++) {
        const v = src[j]!;
        if (v.validity !== null && v.validity[at] === 0) {
          let vj = validity[j];
          if (vj === null || vj === undefined) validity[j] = vj = new Uint8Array(n).fill(1);
          vj[k] = 0;
        } else {
          data[j]![k] = (v.data as unknown[])[at];
        }
      }
    }
    const out = new Array<ColumnVector>(m);
    for (let j = 0; j < m; j++) out[j] = { data: data[j] as unknown as VectorData, validity: validity[j]! };
    return { length: n, columns: out };
  }

  /**
   * One row for a point lookup, synchronously and without building vectors: appends the stored
   * values of `columns` of `rowId` (NULL → null, values as the vectors hold them) to `out[j]` and
   * returns 1. With `snapshot`, a version it does not see (or no version with that id) appends
   * nothing and returns 0. Returns -1, appending nothing, when the row is not in memory (a row
   * group out of the pool, a column computed on read, an unknown id without `snapshot`): the
   * caller then uses `fetch`.
   */
  readRowCached(tableId: TableId, rowId: number, columns: readonly number[], out: unknown[][], snapshot?: Snapshot): number {
    const t = this.tables.get(tableId);
    if (t === undefined) return -1;
    const loc = t.locate(rowId);
    if (loc === undefined) return snapshot === undefined ? -1 : 0;
    if (snapshot !== undefined) {
      const visible = loc.where === 'delta'
        ? isVisible(snapshot, loc.chunk.ins[loc.i]!, loc.chunk.del[loc.i]!)
        : isVisible(snapshot, loc.seg.insAt(loc.off), loc.seg.delAt(loc.off));
      if (!visible) return 0;
    }
    const m = columns.length;
    const cols = rowColumns;
    cols.length = m;
    for (let j = 0; j < m; j++) {
      const c = t.spec.columns[columns[j]!];
      if (c === undefined || c.convert !== undefined) return -1;
      cols[j] = c;
    }
    let src: readonly RowSource[];
    let at: number;
    if (loc.where === 'delta') {
      rowSources.length = m;
      if (!deltaSources(loc.chunk.cols, cols, rowSources)) return -1;
      src = rowSources;
      at = loc.i;
    } else {
      const g = rowGroupOf(loc.seg, loc.off);
      const vecs = this.pooledChunk(loc.seg, g, cols);
      if (vecs === undefined) return -1;
      src = vecs;
      at = loc.off - loc.seg.meta.rowGroups[g]!.offset;
    }
    for (let j = 0; j < m; j++) {
      const v = src[j]!;
      out[j]!.push(v.validity !== null && v.validity[at] === 0 ? null : (v.data as ArrayLike<unknown>)[at]);
    }
    return 1;
  }

  /** The pooled column chunks of a row group (not pinned: use before yielding), or undefined if one is not in the pool. */
  private pooledChunk(seg: Segment, rg: number, cols: readonly StoredColumn[]): ColumnVector[] | undefined {
    const out = new Array<ColumnVector>(cols.length);
    for (let k = 0; k < cols.length; k++) {
      const c = cols[k]!;
      const sc = seg.meta.columns.find((x) => x.id === c.id);
      if (sc === undefined || sc.type !== c.type) return undefined;
      const v = this.pool.peek(this.poolKey(seg, rg, c.id)) as ColumnVector | undefined;
      if (v === undefined) return undefined;
      out[k] = v;
    }
    return out;
  }

  private async fetchRows(tableId: TableId, rowIds: Float64Array, columns: readonly number[]): Promise<ColumnBatch> {
    const t = this.table(tableId);
    const cols = columns.map((i) => t.spec.columns[i]!);
    const n = rowIds.length;
    const out = cols.map((c) => absentVector(c, n));
    const outValid = out.map((v) => v.validity!);
    // group segment rows by (segment, row group)
    const bySegRg = new Map<string, { seg: Segment; rg: number; at: number[]; offs: number[] }>();
    for (let k = 0; k < n; k++) {
      const loc = t.locate(rowIds[k]!);
      if (loc === undefined) continue;
      if (loc.where === 'delta') {
        for (let j = 0; j < cols.length; j++) {
          const col = cols[j]!;
          const native = loc.chunk.cols.get(col.id);
          const cc = native !== undefined && native.type === col.type ? native : await this.deltaColumn(t.spec, loc.chunk, loc.chunk.length, col);
          (out[j]!.data as unknown[])[k] = (cc.data as unknown[])[loc.i];
          outValid[j]![k] = cc.validity === null ? 1 : cc.validity[loc.i]!;
        }
      } else {
        const rg = rowGroupOf(loc.seg, loc.off);
        const key = `${loc.seg.meta.id}:${rg}`;
        let e = bySegRg.get(key);
        if (e === undefined) { e = { seg: loc.seg, rg, at: [], offs: [] }; bySegRg.set(key, e); }
        e.at.push(k);
        e.offs.push(loc.off - loc.seg.meta.rowGroups[rg]!.offset);
      }
    }
    for (const e of bySegRg.values()) {
      const chunk = await this.readChunk(e.seg, e.rg, cols, t.spec);
      try {
        cols.forEach((_c, j) => {
          const v = chunk.vectors[j]!;
          for (let q = 0; q < e.at.length; q++) {
            const k = e.at[q]!;
            const o = e.offs[q]!;
            (out[j]!.data as unknown[])[k] = (v.data as unknown[])[o];
            outValid[j]![k] = v.validity === null ? 1 : v.validity[o]!;
          }
        });
      } finally {
        chunk.release();
      }
    }
    return { length: n, columns: out.map((v) => ({ data: v.data, validity: v.validity!.every((x) => x === 1) ? null : v.validity })) };
  }

  // ---------------------------------------------------------------- checkpoint

  /** Run `f` as the only maintenance task (checkpoint / compaction). */
  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.maintenance.then(async () => {
      this.maintenanceRunning = true;
      try { return await f(); } finally { this.maintenanceRunning = false; }
    });
    this.maintenance = run.then(() => undefined, () => undefined);
    return run;
  }

  checkpoint(): Promise<void> {
    return this.exclusive(() => this.doCheckpoint());
  }

  /** Close the commit gate and wait until every prepared txn finished: the cut. */
  private async withCut<T>(f: () => T): Promise<T> {
    const gate = new Deferred();
    while (this.cutGate !== undefined) await this.cutGate;
    this.cutGate = gate.promise;
    try {
      while (this.preparingCount > 0) {
        if (this.preparedIdle === undefined) this.preparedIdle = new Deferred();
        await this.preparedIdle.promise;
      }
      return f();
    } finally {
      this.cutGate = undefined;
      gate.resolve();
    }
  }

  private async doCheckpoint(): Promise<void> {
    if (this.closed) return;
    let cut: ReturnType<QuiverStore['captureCut']> | 'retry';
    // the participant's early work (index pages written ahead): the cut then only adds what
    // changed since, instead of stalling commits for all of it
    await this.checkpointHook?.prepare?.();
    // delta rows written before an ALTER COLUMN TYPE are converted (async) before the cut, which
    // is synchronous; an ALTER committed meanwhile makes the cut ask again
    for (let attempt = 0; ; attempt++) {
      await this.prepareDeltaConversions();
      cut = await this.withCut(() => (this.deltaConversionsReady() ? this.captureCut() : 'retry' as const));
      if (cut !== 'retry') break;
      invariant(attempt < 100, 'checkpoint: delta conversions never ready');
    }
    if (cut === undefined) return;
    // checkpoint participants (the engine's index files) flush while the segments are encoded:
    // their writes and fsyncs overlap the encoding; both are durable before the manifest names them
    const hookFlush = cut.hookFlush?.();
    // (its failure is taken where it is awaited below, not reported as unhandled meanwhile)
    hookFlush?.catch(() => undefined);
    let hookRecord: unknown;
    const metas = new Map<CutWrite, Segment['meta']>();
    try {
      // encode (zone maps + Parquet) and write the new segments; commits run meanwhile
      for (const w of cut.writes) {
        await yieldToEventLoop();
        const meta = await this.writeCutSegment(w);
        const ms = manifestSegment(new Segment(meta));
        ms.deletes = encodeOffsets(Uint32Array.from(w.deleted));
        w.mt.segments.push(ms);
        metas.set(w, meta);
      }
      hookRecord = await hookFlush;
    } catch (err) {
      for (const w of cut.writes) w.job?.cancel();
      // a failed checkpoint ends only once the flush settled (the next one's prepare must not overlap it)
      await hookFlush?.catch(() => undefined);
      throw err;
    }
    // the manifest records the participants' state
    if (cut.hookFlush !== undefined) (cut.manifest as Manifest & { hook?: unknown }).hook = hookRecord;
    await this.writeManifest(cut.manifest);
    const hookDone = cut.hookFlush !== undefined ? this.checkpointHook?.committed() : undefined;
    // switch memory
    for (const w of cut.writes) {
      const t = this.tables.get(w.table.id);
      if (t !== w.table) continue; // dropped meanwhile
      const seg = new Segment(metas.get(w)!);
      seg.ins = w.ins;
      seg.maxIns = w.ins.reduce((a, b) => Math.max(a, b), 0);
      let off = 0;
      for (const [c, mask] of w.masks) off = copyDelStamps(seg, off, c, mask);
      invariant(off === w.n, 'checkpoint: moved row count changed');
      // the delta keeps what did not move, minus rolled back rows
      t.delta.rebuild((c, i) => { const mask = w.masks.get(c); return (mask === undefined || mask[i] !== 1) && c.ins[i] !== ABORTED; });
      t.setSegments([...t.segments, seg]);
      if (seg.maxIns < this.gcHorizon) seg.ins = null;
      this.offerWritten(seg, w.spec, w.groups);
    }
    const rebuilt = new Set(cut.writes.map((w) => w.table));
    for (const t of this.tables.values()) {
      if (rebuilt.has(t)) continue;
      if (t.delta.chunks.some((c) => c.ins.subarray(0, c.length).includes(ABORTED))) t.delta.rebuild((c, i) => c.ins[i] !== ABORTED);
    }
    this.manifest = cut.manifest;
    this.resyncDeltaBytes();
    this.lastCutLsn = cut.manifest.walStartLsn;
    this.checkpoints++;
    this.wal.requestRotate();
    // the WAL segments the new manifest no longer needs go in the background (unlinking a
    // preallocated segment takes ~10 ms): one trim at a time, the next checkpoint and close wait
    // for it; a failed unlink is retried by the next trim (a leftover segment is harmless)
    const trimTo = cut.manifest.walStartLsn;
    this.walTrim = (this.walTrim ?? Promise.resolve()).then(() => this.wal.trim(trimTo)).catch(() => undefined);
    await this.removeUnreferenced(false);
    await hookDone;
  }

  /**
   * Write-through: the rows a checkpoint just moved are at hand decoded, so their row groups go
   * into the buffer pool while it has free budget (never evicting), and the first scan of a new
   * segment costs what a delta scan costs instead of a Parquet decode.
   */
  private offerWritten(seg: Segment, spec: StoredTableSpec, groups: readonly RowGroupData[]): void {
    for (let rg = 0; rg < seg.meta.rowGroups.length; rg++) {
      const g = seg.meta.rowGroups[rg]!;
      const data = groups[rg];
      if (data === undefined || data.rows !== g.rows) continue;
      spec.columns.forEach((col, j) => {
        const sc = seg.meta.columns.find((x) => x.id === col.id);
        // float32 is narrowed and json re-parsed by a read: their read-back is not these values
        if (sc === undefined || sc.type !== col.type || col.type === 'float32' || col.type === 'json') return;
        // the cut's own per-row-group arrays, in the form a Parquet read gives (see captureCut): no copy
        const v = data.vectors[j]!;
        this.pool.offer(this.poolKey(seg, rg, col.id), v, vectorBytes(v, g.rows), !ArrayBuffer.isView(v.data));
      });
    }
  }

  /** Synchronous: what the checkpoint will write (data copied out of the delta), or undefined when nothing changed. */
  private captureCut(): { manifest: Manifest; writes: CutWrite[]; hookFlush?: () => Promise<unknown> } | undefined {
    if (this.wal.appendedLsn === this.lastCutLsn && this.checkpointHook?.dirty() !== true) return undefined;
    const writes: CutWrite[] = [];
    const m: Manifest = {
      version: 1,
      seq: ++this.manifestSeq,
      walStartLsn: this.wal.appendedLsn,
      maxCommitTs: this.maxCommitTs,
      nextSegmentId: this.segmentSeq,
      meta: [...this.meta.entries()],
      tables: [],
    };
    invariant(this.wal.appendedLsn === this.wal.durableLsn, 'checkpoint cut with non-durable WAL records');
    for (const t of this.tables.values()) {
      if (t.createdBy !== undefined) continue;
      const spec = t.committedSpec;
      const mt: ManifestTable = { spec, nextRowId: t.nextRowId, segments: t.segments.map((s) => manifestSegment(s)), ...(t.lastCompaction !== undefined ? { lastCompaction: t.lastCompaction } : {}) };
      // committed delta rows move to a new segment
      const masks = new Map<DeltaChunk, Uint8Array>();
      let n = 0;
      const whole = new Set<DeltaChunk>();
      for (const c of t.delta.chunks) {
        const mask = new Uint8Array(c.length);
        const k = committedMask(c, mask);
        if (k === c.length) whole.add(c);
        n += k;
        masks.set(c, mask);
      }
      if (n > 0) {
        const id = this.segmentSeq++;
        m.nextSegmentId = this.segmentSeq;
        const ids = new Float64Array(n);
        const ins = new Float64Array(n);
        const deleted: number[] = [];
        // the rows go straight into per-row-group arrays: the encoder and the buffer pool
        // (offerWritten) take them as they are, without slicing copies
        const R = this.rowGroupSize;
        const groups: ColumnVector[][] = [];
        for (let off = 0; off < n; off += R) groups.push(spec.columns.map((col) => absentVector(col, Math.min(R, n - off))));
        let o = 0;
        for (const c of t.delta.chunks) {
          const mask = masks.get(c)!;
          const all = whole.has(c);
          const sel = all ? EMPTY_SEL : new Uint32Array(c.length);
          const k = takeMasked(c, mask, sel, ids, ins, o, deleted, all);
          if (k === 0) continue;
          spec.columns.forEach((col, j) => {
            const cc = this.deltaColumnSync(c, col);
            if (cc === undefined) return; // stays NULL (or its missing value)
            for (let p = 0; p < k;) {
              const g = Math.floor((o + p) / R);
              const at = o + p - g * R;
              const take = Math.min(R - at, k - p);
              gatherInto(groups[g]![j]!, at, cc, sel, p, take, all);
              p += take;
            }
          });
          o += k;
        }
        // a column without NULLs in a row group: validity null (as a Parquet read returns it)
        const rowGroups: RowGroupData[] = groups.map((vs, g) => ({
          rows: Math.min(R, n - g * R),
          vectors: vs.map((v) => (v.validity !== null && !v.validity.includes(0) ? { data: v.data, validity: null } : v)),
        }));
        const job = this.startEncode(spec, rowGroups, n);
        writes.push({ table: t, id, spec, groups: rowGroups, n, ids, deleted, mt, ins, masks, ...(job !== undefined ? { job } : {}) });
      }
      m.tables.push(mt);
    }
    // the encode worker starts on the first row groups while the participants capture
    for (const w of writes) w.job?.pump();
    const hookFlush = this.checkpointHook?.capture();
    return { manifest: m, writes, ...(hookFlush !== undefined ? { hookFlush } : {}) };
  }

  /** Zone maps + Parquet bytes of `n` rows (row ids ascending; in row groups of `rowGroupSize`, the last may be shorter) as segment `id`. */
  private async buildSegment(table: TableId, id: number, spec: StoredTableSpec, groups: readonly RowGroupData[], n: number, ids: Float64Array): Promise<{ meta: Segment['meta']; bytes: Uint8Array }> {
    const rowGroups = zoneMapsOf(spec, groups, n);
    const chunks: Uint8Array[] = [];
    const bytes = concatBytes(chunks, await this.encodeTo(spec, groups, n, (c) => chunks.push(c)));
    return { meta: { id, file: segmentPath(table, id), rows: n, bytes: bytes.length, columns: spec.columns, runs: runsOf(ids, n), rowGroups }, bytes };
  }

  /**
   * The Parquet file of `n` rows in `groups` to `sink`, chunk by chunk in order; returns its size.
   * Large segments are encoded on the encode worker; if that helper is gone before it produced a
   * byte (it failed to start), here instead.
   */
  private async encodeTo(spec: StoredTableSpec, groups: readonly RowGroupData[], n: number, sink: (chunk: Uint8Array) => void, started?: EncodeJob): Promise<number> {
    const job = started ?? this.startEncode(spec, groups, n);
    if (job !== undefined) {
      let produced = false;
      try {
        return await job.run((c) => { produced = true; sink(c); });
      } catch (err) {
        if (produced || EncodeWorker.get() !== undefined) throw err;
      }
    }
    return encodeRowGroupsTo(spec.columns, groups, this.rowGroupSize, this.tuning.codec, true, sink);
  }

  /** The encode of `n` rows on the encode worker, or undefined (a small segment, or no worker). */
  private startEncode(spec: StoredTableSpec, groups: readonly RowGroupData[], n: number): EncodeJob | undefined {
    if (!this.tuning.encodeWorker || n < ENCODE_WORKER_MIN_ROWS) return undefined;
    return EncodeWorker.get()?.start(spec.columns, groups, this.rowGroupSize, this.tuning.codec, true);
  }

  /**
   * The checkpoint's segment of `w`: zone maps, then the Parquet file. A durable store writes the
   * file as the encoder produces it (one write per row group, each overlapping the encoding of
   * the next), then fsyncs it and its directory once; the manifest names it only after that.
   */
  private async writeCutSegment(w: CutWrite): Promise<Segment['meta']> {
    await this.ensureDir(`data/${w.table.id}`);
    if (!this.durable) {
      // a non-durable store (':memory:') never syncs: no durable copy of the file either
      const { meta, bytes } = await this.buildSegment(w.table.id, w.id, w.spec, w.groups, w.n, w.ids);
      await this.env.writeFile(this.p(meta.file), bytes);
      return meta;
    }
    const file = segmentPath(w.table.id, w.id);
    const f = await this.env.open(this.p(file), { create: true, truncate: true });
    let size: number;
    let rowGroups: RowGroupMeta[];
    let at = 0;
    let writing: Promise<void> = Promise.resolve();
    try {
      const sink = (chunk: Uint8Array): void => {
        const off = at;
        at += chunk.length;
        writing = writing.then(() => f.write(off, chunk));
        writing.catch(() => undefined); // taken where it is awaited
      };
      // the encode starts (chunks the worker made during the cut go to the file at once), and the
      // zone maps are computed while those writes run
      const encoding = this.encodeTo(w.spec, w.groups, w.n, sink, w.job);
      encoding.catch(() => undefined); // taken where it is awaited
      rowGroups = zoneMapsOf(w.spec, w.groups, w.n);
      size = await encoding;
      await writing;
      await f.sync();
    } catch (err) {
      await writing.catch(() => undefined);
      throw err;
    } finally {
      await f.close();
    }
    await this.env.syncDir(this.p(`data/${w.table.id}`));
    return { id: w.id, file, rows: w.n, bytes: size, columns: w.spec.columns, runs: runsOf(w.ids, w.n), rowGroups };
  }

  /** mkdir + fsync of the parent, so the new directory's entry survives a power loss. */
  private async ensureDir(rel: string): Promise<void> {
    if (this.knownDirs.has(rel)) return;
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    if (parent !== '') await this.ensureDir(parent);
    if (!(await this.env.exists(this.p(rel)))) {
      await this.env.mkdir(this.p(rel));
      if (this.durable) await this.env.syncDir(parent === '' ? this.dir : this.p(parent));
    }
    this.knownDirs.add(rel);
  }

  private async writeManifest(m: Manifest): Promise<void> {
    const name = `MANIFEST-${String(m.seq).padStart(10, '0')}`;
    let onDisk: Manifest = m;
    const md = this.metadata;
    if (md !== undefined) {
      // only the keys changed since the last write go to the backend; the manifest keeps its root
      const flat = flattenManifest(m);
      const changes = new Map<string, string | undefined>();
      for (const [k, v] of flat) if (this.metaFlat.get(k) !== v) changes.set(k, v);
      for (const k of this.metaFlat.keys()) if (!flat.has(k)) changes.set(k, undefined);
      const pending = md.write(changes); // applied synchronously: the backend now holds `flat`
      this.metaFlat = flat;
      // no `meta` / `tables` keys at all: a version that predates backends fails to open it
      // instead of reading an empty catalog
      const { meta: _meta, tables: _tables, ...rest } = m;
      onDisk = { ...rest, metaStore: await pending } as Manifest;
    }
    await this.env.writeFileDurable(this.p(name), encodeManifest(onDisk));
    await this.env.writeFileDurable(this.p('CURRENT.tmp'), new TextEncoder().encode(`${name}\n`));
    await this.env.rename(this.p('CURRENT.tmp'), this.p('CURRENT'));
    await this.env.syncDir(this.dir);
    md?.committed();
  }

  /** Remove data files, manifests and table dirs the current manifest does not reference. */
  private async removeUnreferenced(atOpen: boolean): Promise<void> {
    const m = this.manifest;
    const live = new Set<string>();
    for (const t of m.tables) for (const s of t.segments) live.add(s.file);
    const tableDirs = new Set(m.tables.map((t) => String(t.spec.id)));
    // tables that exist in memory (created since) keep their dirs
    for (const t of this.tables.values()) tableDirs.add(String(t.id));
    const curName = `MANIFEST-${String(m.seq).padStart(10, '0')}`;
    const oldest = this.activeScans.size === 0 ? Infinity : Math.min(...this.activeScans.keys());
    for (const name of await this.env.list(this.dir)) {
      if ((name.startsWith('MANIFEST-') && name !== curName) || name === 'CURRENT.tmp') await this.env.remove(this.p(name));
    }
    const doomed: string[] = [];
    for (const td of await this.env.list(this.p('data'))) {
      if (!tableDirs.has(td)) { doomed.push(`data/${td}`); continue; }
      for (const f of await this.env.list(this.p(`data/${td}`))) {
        const rel = `data/${td}/${f}`;
        if (!live.has(rel)) doomed.push(rel);
      }
    }
    for (const rel of doomed) {
      if (!atOpen && !this.obsolete.some((o) => o.path === rel)) this.obsolete.push({ path: rel, epoch: this.scanEpoch });
    }
    const keep: { path: string; epoch: number }[] = [];
    const removeNow = atOpen ? doomed : [];
    for (const o of this.obsolete) (o.epoch < oldest ? removeNow.push(o.path) : keep.push(o));
    this.obsolete.length = 0;
    this.obsolete.push(...keep);
    for (const rel of removeNow) await this.env.remove(this.p(rel));
  }

  // ---------------------------------------------------------------- compaction

  compact(table?: TableId): Promise<void> {
    return this.exclusive(() => this.doCompact(table));
  }

  /**
   * Compaction of one table: the selected segments (all segments smaller than
   * `smallSegmentRows` when there are two or more, plus every segment with at least
   * `deleteHeavyFraction` deleted rows) are rewritten as one segment holding their rows in row-id
   * order, minus the versions whose delete committed before the GC horizon (no snapshot can see
   * them). Row ids of kept rows do not change. The new manifest is the current one with those
   * segments replaced (same WAL start: deletes replayed on dropped rows are no-ops).
   * `only` set (OPTIMIZE table): the table's last-compaction time is set even with nothing to do.
   */
  private async doCompact(only?: TableId): Promise<void> {
    if (this.closed) return;
    const plans: RewritePlan[] = [];
    for (const t of this.tables.values()) {
      if (only !== undefined && t.id !== only) continue;
      const segs = this.manifestSegmentsOf(t);
      if (segs === undefined) continue;
      const small = segs.filter((x) => x.rows < this.tuning.smallSegmentRows);
      const heavy = segs.filter((x) => this.deleteHeavy(x));
      const chosen = [...new Set([...(small.length >= 2 ? small : []), ...heavy])];
      if (chosen.length === 0) {
        if (only !== undefined) { t.lastCompaction = Date.now(); t.compactionCount++; }
        continue;
      }
      plans.push(await this.planRewrite(t, chosen));
    }
    if (plans.length === 0) return;
    await this.applyRewrite(plans, true);
    this.compactions++;
  }

  /** Segments of `t` that the current manifest holds (undefined: the table is not in it yet). */
  private manifestSegmentsOf(t: TableState): Segment[] | undefined {
    const mt = this.manifest.tables.find((x) => x.spec.id === t.id);
    if (mt === undefined || t.createdBy !== undefined) return undefined;
    const inManifest = new Set(mt.segments.map((x) => x.id));
    return t.segments.filter((x) => inManifest.has(x.meta.id));
  }

  /**
   * Read the rows of `chosen` (all of `t`'s committed columns, converted ones computed) that some
   * snapshot may still see, and encode them as one new segment (not yet written).
   */
  private async planRewrite(t: TableState, chosen: Segment[]): Promise<RewritePlan> {
    // rows kept: not deleted by a commit older than the horizon
    const keep: { seg: Segment; off: number; id: number }[] = [];
    const ids = new Float64Array(Math.max(...chosen.map((x) => x.rows)));
    for (const seg of chosen) {
      seg.rowIds(0, seg.rows, ids, 0);
      for (let off = 0; off < seg.rows; off++) {
        const d = seg.delAt(off);
        if (d < TXN_ID_START && d < this.gcHorizon) continue;
        keep.push({ seg, off, id: ids[off]! });
      }
    }
    keep.sort((a, b) => a.id - b.id);
    const spec = t.committedSpec;
    const n = keep.length;
    if (n === 0) return { t, old: chosen, meta: undefined, bytes: undefined, keep: [] };
    const vectors: ColumnVector[] = spec.columns.map((c) => absentVector(c, n));
    // gather column values segment by segment, row group by row group
    const bySeg = new Map<Segment, { off: number; at: number }[]>();
    keep.forEach((k, at) => {
      let l = bySeg.get(k.seg);
      if (l === undefined) { l = []; bySeg.set(k.seg, l); }
      l.push({ off: k.off, at });
    });
    for (const [seg, list] of bySeg) {
      list.sort((a, b) => a.off - b.off);
      let q = 0;
      for (let rg = 0; rg < seg.meta.rowGroups.length && q < list.length; rg++) {
        const g = seg.meta.rowGroups[rg]!;
        if (list[q]!.off >= g.offset + g.rows) continue;
        await yieldToEventLoop(); // background work: let foreground I/O callbacks run
        const chunk = await this.readChunk(seg, rg, spec.columns, spec);
        try {
          for (; q < list.length && list[q]!.off < g.offset + g.rows; q++) {
            const { off, at } = list[q]!;
            spec.columns.forEach((_c, j) => {
              const v = chunk.vectors[j]!;
              const o = off - g.offset;
              (vectors[j]!.data as unknown[])[at] = (v.data as unknown[])[o];
              vectors[j]!.validity![at] = v.validity === null ? 1 : v.validity[o]!;
            });
          }
        } finally {
          chunk.release();
        }
      }
    }
    const id = this.segmentSeq++;
    const rowIds = Float64Array.from(keep, (k) => k.id);
    await yieldToEventLoop();
    const { meta, bytes } = await this.buildSegment(t.id, id, spec, splitRowGroups(vectors, n, this.rowGroupSize), n, rowIds);
    return { t, old: chosen, meta, bytes, keep };
  }

  /**
   * The segment-replace path shared by compaction and the ALTER COLUMN TYPE rewrite: write the
   * new segments, a manifest with the old ones replaced (stamps as of now), then switch memory.
   */
  private async applyRewrite(plans: RewritePlan[], compaction: boolean): Promise<void> {
    const m = this.manifest;
    const nextSeg = this.segmentSeq;
    for (const pl of plans) {
      if (pl.meta === undefined) continue;
      await this.ensureDir(`data/${pl.t.id}`);
      await (this.durable ? this.env.writeFileDurable(this.p(pl.meta.file), pl.bytes!) : this.env.writeFile(this.p(pl.meta.file), pl.bytes!));
    }
    const newSegs = new Map<TableState, Segment | undefined>();
    for (const pl of plans) newSegs.set(pl.t, pl.meta === undefined ? undefined : new Segment(pl.meta));
    const fillStamps = (): void => {
      for (const pl of plans) {
        const seg = newSegs.get(pl.t);
        if (seg === undefined) continue;
        const anyIns = pl.old.some((o) => o.ins !== null);
        seg.ins = anyIns ? Float64Array.from(pl.keep, (k) => k.seg.insAt(k.off)) : null;
        seg.maxIns = seg.ins === null ? 0 : seg.ins.reduce((a, b) => Math.max(a, b), 0);
        seg.del = null;
        seg.deleted = 0;
        pl.keep.forEach((k, i) => seg.setDel(i, k.seg.delAt(k.off)));
      }
    };
    fillStamps();
    const now = Date.now();
    const nm: Manifest = { ...m, seq: ++this.manifestSeq, nextSegmentId: nextSeg, tables: m.tables.map((mt) => {
      const pl = plans.find((x) => x.t.id === mt.spec.id);
      if (pl === undefined) return mt;
      const gone = new Set(pl.old.map((o) => o.meta.id));
      const segs = mt.segments.filter((x) => !gone.has(x.id));
      const seg = newSegs.get(pl.t);
      if (seg !== undefined) segs.push(manifestSegment(seg));
      const last = compaction ? now : pl.t.lastCompaction;
      return { ...mt, segments: segs, ...(last !== undefined ? { lastCompaction: last } : {}) };
    }) };
    await this.writeManifest(nm);
    // switch memory: stamps again (deletes may have happened while we wrote)
    fillStamps();
    for (const pl of plans) {
      if (this.tables.get(pl.t.id) !== pl.t) continue;
      const gone = new Set(pl.old);
      const seg = newSegs.get(pl.t);
      pl.t.setSegments([...pl.t.segments.filter((x) => !gone.has(x)), ...(seg === undefined ? [] : [seg])]);
      if (compaction) { pl.t.lastCompaction = now; pl.t.compactionCount++; }
      for (const o of pl.old) this.pool.dropPrefix(`s${o.meta.id}:`);
    }
    this.manifest = nm;
    await this.removeUnreferenced(false);
  }

  // ---------------------------------------------------------------- memory of the delta

  /** Count an inserted batch's bytes in the delta's reservation (checkpoint trigger: `deltaOverShare`). */
  private reserveDelta(batch: ColumnBatch): void {
    let b = batch.length * 24; // row id + stamps
    for (const v of batch.columns) b += vectorBytes(v, batch.length);
    this.deltaBytes += b;
    this.pool.setReserved(this.deltaBytes);
  }

  /** Recount the delta's bytes (after a checkpoint moved rows out, after recovery). */
  private resyncDeltaBytes(): void {
    let b = 0;
    for (const t of this.tables.values()) {
      for (const c of t.delta.chunks) {
        b += c.length * 24;
        for (const col of c.cols.values()) b += vectorBytes({ data: col.data, validity: col.validity }, c.length);
      }
    }
    this.deltaBytes = b;
    this.pool.setReserved(b);
  }

  /**
   * The delta holds more than its share of the memory budget: time for a checkpoint (as WAL size
   * is). (Uncommitted rows cannot move: a transaction larger than the budget stays in memory.)
   */
  private deltaOverShare(factor = 1): boolean {
    return this.deltaBytes > this.pool.limitBytes * Math.min(1, this.tuning.deltaShare * factor);
  }

  // ---------------------------------------------------------------- ALTER COLUMN TYPE: convert on read, rewrite in the background

  setColumnConverter(f: ColumnConverter): void { this.converter = f; }

  private convId(c: ColumnConversion): number {
    let id = this.convIds.get(c);
    if (id === undefined) { id = this.nextConvId++; this.convIds.set(c, id); }
    return id;
  }

  /** The columns a conversion reads (visible or hidden in `spec`, else as the segment stored them). */
  private sourcesOf(spec: StoredTableSpec, col: StoredColumn, seg: Segment | undefined): StoredColumn[] {
    return col.convert!.from.map((id) => {
      const c = spec.columns.find((x) => x.id === id) ?? spec.hidden?.find((x) => x.id === id) ?? seg?.meta.columns.find((x) => x.id === id);
      if (c === undefined) throw new InternalError(`table ${spec.id}: conversion of column ${col.id} reads unknown column ${id}`);
      return c;
    });
  }

  private convertColumn(spec: StoredTableSpec, col: StoredColumn, inputs: readonly ColumnVector[], n: number): Promise<ColumnVector> {
    if (this.converter === undefined) throw new InternalError(`table ${spec.id}: column ${col.id} is converted on read but no converter is set`);
    return this.converter(spec.id, col, inputs, n);
  }

  /** Column `col` of the first `n` rows of delta chunk `c`: native, converted (cached per chunk) or absent. */
  private async deltaColumn(spec: StoredTableSpec, c: DeltaChunk, n: number, col: StoredColumn): Promise<ColumnVector> {
    const cc = c.cols.get(col.id);
    if (cc !== undefined && cc.type === col.type) return { data: cc.data, validity: cc.validity };
    if (col.convert === undefined) return absentVector(col, n);
    const id = this.convId(col.convert);
    let m = this.deltaConv.get(c);
    if (m === undefined) { m = new Map(); this.deltaConv.set(c, m); }
    const hit = m.get(id);
    if (hit !== undefined && hit.n >= n) return hit.v;
    const inputs: ColumnVector[] = [];
    for (const s of this.sourcesOf(spec, col, undefined)) inputs.push(await this.deltaColumn(spec, c, n, s));
    const v = await this.convertColumn(spec, col, inputs, n);
    m.set(id, { n, v });
    return v;
  }

  /** As `deltaColumn` for the whole chunk, synchronously: undefined = absent (NULL / missing) or not converted yet. */
  private deltaColumnSync(c: DeltaChunk, col: StoredColumn): ColumnVector | undefined {
    const cc = c.cols.get(col.id);
    if (cc !== undefined && cc.type === col.type) return { data: cc.data, validity: cc.validity };
    if (col.convert === undefined) return undefined;
    const hit = this.deltaConv.get(c)?.get(this.convId(col.convert));
    return hit !== undefined && hit.n >= c.length ? hit.v : undefined;
  }

  private convertedColumns(spec: StoredTableSpec): StoredColumn[] {
    return spec.columns.filter((c) => c.convert !== undefined);
  }

  /** Delta chunks of `t` holding rows stored before one of `conv`'s type changes. */
  private oldChunks(t: TableState, conv: readonly StoredColumn[]): DeltaChunk[] {
    return t.delta.chunks.filter((c) => c.length > 0 && conv.some((col) => c.cols.get(col.id)?.type !== col.type));
  }

  /** Convert (and cache) the committed converted columns of every old delta chunk: the checkpoint cut needs them synchronously. */
  private async prepareDeltaConversions(): Promise<void> {
    for (const t of [...this.tables.values()]) {
      if (t.createdBy !== undefined) continue;
      const spec = t.committedSpec;
      const conv = this.convertedColumns(spec);
      if (conv.length === 0) continue;
      for (const c of this.oldChunks(t, conv)) for (const col of conv) await this.deltaColumn(spec, c, c.length, col);
    }
  }

  private deltaConversionsReady(): boolean {
    for (const t of this.tables.values()) {
      if (t.createdBy !== undefined) continue;
      const conv = this.convertedColumns(t.committedSpec);
      if (conv.length === 0) continue;
      for (const c of this.oldChunks(t, conv)) for (const col of conv) if (this.deltaColumnSync(c, col) === undefined) return false;
    }
    return true;
  }

  /** Segments of `t` still read through a conversion of its committed spec. */
  private segmentsToRewrite(t: TableState): Segment[] {
    const conv = this.convertedColumns(t.committedSpec);
    if (conv.length === 0) return [];
    return t.segments.filter((s) => conv.some((col) => !s.meta.columns.some((x) => x.id === col.id && x.type === col.type)));
  }

  hasPendingRewrite(): boolean {
    for (const t of this.tables.values()) if (t.createdBy === undefined && this.convertedColumns(t.committedSpec).length > 0) return true;
    return false;
  }

  rewriteStep(): Promise<boolean> {
    return this.exclusive(() => this.doRewriteStep());
  }

  /**
   * One step of the background rewrite of ALTER COLUMN TYPE: rewrite one segment that predates a
   * committed type change (its rows converted, through compaction's segment-replace path); when
   * none is left, checkpoint the delta rows that predate it; when those are gone too, drop the
   * conversions from the spec (in memory; the next manifest records it — a replayed ALTER record
   * brings back a conversion nothing reads, dropped again by the next step). True when it did
   * work and more remains: a caller looping on it never spins on work it cannot do yet.
   */
  private async doRewriteStep(): Promise<boolean> {
    if (this.closed) return false;
    let progressed = false;
    for (const t of [...this.tables.values()]) {
      if (t.createdBy !== undefined || this.tables.get(t.id) !== t) continue;
      if (this.convertedColumns(t.committedSpec).length === 0) continue;
      const inManifest = new Set(this.manifestSegmentsOf(t) ?? []);
      const seg = this.segmentsToRewrite(t).find((x) => inManifest.has(x));
      if (seg !== undefined) {
        await this.applyRewrite([await this.planRewrite(t, [seg])], false);
        this.rewrites++;
        return true;
      }
      if (this.oldChunks(t, this.convertedColumns(t.committedSpec)).length > 0) await this.doCheckpoint();
      // still read through a conversion (rows a checkpoint could not move yet) or an uncommitted
      // ALTER of the table: the next background tick tries again
      if (this.segmentsToRewrite(t).length > 0 || this.oldChunks(t, this.convertedColumns(t.committedSpec)).length > 0) continue;
      if (t.spec !== t.committedSpec) continue;
      const plain: StoredTableSpec = { id: t.committedSpec.id, columns: t.committedSpec.columns.map(({ convert: _c, ...rest }) => rest) };
      t.committedSpec = plain;
      t.setSpec(plain);
      progressed = true;
    }
    return progressed && this.hasPendingRewrite();
  }

  /** Does `seg` have at least `deleteHeavyFraction` rows that compaction can drop now? */
  private deleteHeavy(seg: Segment): boolean {
    if (seg.rows === 0 || seg.del === null || seg.deleted / seg.rows < this.tuning.deleteHeavyFraction) return false;
    const h = Math.min(this.gcHorizon, TXN_ID_START);
    let n = 0;
    for (let i = 0; i < seg.rows; i++) if (seg.del[i]! < h) n++;
    return n / seg.rows >= this.tuning.deleteHeavyFraction;
  }

  /** Background policy: enough small segments, or a delete-heavy one, in some table. */
  private needsCompaction(): boolean {
    for (const t of this.tables.values()) {
      let small = 0;
      for (const x of t.segments) {
        if (x.rows < this.tuning.smallSegmentRows) small++;
        if (this.deleteHeavy(x)) return true;
      }
      if (small >= 4) return true;
    }
    return false;
  }

  /** Error of the last background checkpoint / compaction, if any (cleared on read). */
  takeBackgroundError(): unknown {
    const e = this.backgroundError;
    this.backgroundError = undefined;
    return e;
  }

  setGcHorizon(ts: Timestamp): void {
    this.gcHorizon = ts;
    for (const t of this.tables.values()) for (const s of t.segments) if (s.ins !== null && s.maxIns < ts) s.ins = null;
  }

  stats(): StoreStats {
    return {
      walBytes: this.wal.bytes,
      walSyncs: this.wal.syncs,
      wal: { ...this.wal.activity, syncs: this.wal.syncs },
      checkpoints: this.checkpoints,
      deltaBytes: this.deltaBytes,
      compactions: this.compactions,
      bufferPool: this.pool.stats(),
      tables: [...this.tables.values()].map((t) => ({
        id: t.id,
        segments: t.segments.length,
        rows: t.segments.reduce((n, s) => n + s.rows, 0) + t.delta.rows,
        deltaRows: t.delta.rows,
        deletedRows: t.segments.reduce((n, s) => n + s.deleted, 0),
        bytes: t.segments.reduce((n, s) => n + s.meta.bytes, 0),
        ...(t.lastCompaction !== undefined ? { lastCompaction: t.lastCompaction } : {}),
        compactionCount: t.compactionCount,
        pendingRewrites: this.segmentsToRewrite(t).length,
        rowGroupsScanned: t.rowGroupsScanned,
        rowGroupsSkipped: t.rowGroupsSkipped,
      })),
    };
  }

  /**
   * The buffer pool: one budget for decoded column chunks (keys `s<segment>:...`) and whatever
   * else shares it (index pages: use your own key prefix). `setLimit` applies `memory_limit`.
   */
  get bufferPool(): BufferPool<unknown> { return this.pool; }

  private checkpointHook: CheckpointHook | undefined;

  /** Register the participant of every checkpoint (the engine's persisted indexes). */
  setCheckpointHook(hook: CheckpointHook | undefined): void { this.checkpointHook = hook; }

  /** The metadata backend given at open (undefined: metadata inline in the manifest). */
  get metadataBackend(): MetadataBackend | undefined { return this.metadata; }

  /** What the checkpoint hook recorded in the current manifest (at open: the recovered one's), if anything. */
  get checkpointRecord(): unknown { return (this.manifest as Manifest & { hook?: unknown }).hook; }

  /** Row ids in a table's in-memory delta; right after open: exactly the rows the WAL replay put back. */
  deltaRowIds(tableId: TableId): Float64Array {
    const t = this.table(tableId);
    const out = new Float64Array(t.delta.chunks.reduce((a, c) => a + c.length, 0));
    let n = 0;
    for (const c of t.delta.chunks) for (let i = 0; i < c.length; i++) out[n++] = c.rowIds[i]!;
    return out;
  }

  checkInvariants(): void {
    for (const t of this.tables.values()) t.checkInvariants();
    this.pool.checkInvariants();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // a clean close leaves an empty WAL tail, so the next open replays nothing
    if (!this.wal.isFailed && this.txns.size === 0 && (this.wal.appendedLsn !== this.lastCutLsn || this.checkpointHook?.dirty() === true)) {
      try { await this.checkpoint(); } catch { /* the WAL still holds everything */ }
    }
    await this.maintenance;
    await this.walTrim;
    this.closed = true;
    await this.wal.close();
    await this.metadata?.close();
    openDirs.delete(lockKey(this.env, this.dir));
    try { await this.env.remove(this.p('LOCK')); } catch { /* best effort */ }
  }

  /** A failed open: release the in-process lock registration (unless the lock was someone else's). */
  async abortOpen(err: unknown): Promise<void> {
    this.closed = true;
    if (err instanceof DbError && err.code === SqlState.ObjectInUse) return;
    openDirs.delete(lockKey(this.env, this.dir));
    try { await this.wal?.close(); } catch { /* best effort */ }
    try { await this.metadata?.close(); } catch { /* best effort */ }
  }

  /** Forget this store without closing files (after a simulated crash in tests). */
  abandon(): void {
    this.closed = true;
    openDirs.delete(lockKey(this.env, this.dir));
  }
}

interface RewritePlan {
  readonly t: TableState;
  readonly old: Segment[];
  readonly meta: Segment['meta'] | undefined;
  readonly bytes: Uint8Array | undefined;
  readonly keep: { seg: Segment; off: number }[];
}

/**
 * The spec an ALTER installs: `next` (built by the engine from its catalog) plus the conversions
 * of `prev` that still apply (a column keeping its id keeps its conversion) and, as `hidden`, the
 * retired columns those conversions read (transitively).
 */
export function mergeConversions(prev: StoredTableSpec, next: StoredTableSpec): StoredTableSpec {
  const prevById = new Map<number, StoredColumn>();
  for (const c of [...(prev.hidden ?? []), ...prev.columns]) prevById.set(c.id, c);
  const columns = next.columns.map((c) => {
    if (c.convert !== undefined) return c;
    const p = prevById.get(c.id);
    return p?.convert !== undefined && p.type === c.type ? { ...c, convert: p.convert } : c;
  });
  const visible = new Set(columns.map((c) => c.id));
  const pool = new Map(prevById);
  for (const c of next.hidden ?? []) pool.set(c.id, c);
  const hidden: StoredColumn[] = [];
  const seen = new Set<number>();
  const queue = columns.flatMap((c) => c.convert?.from ?? []);
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (seen.has(id) || visible.has(id)) continue;
    seen.add(id);
    const c = pool.get(id);
    if (c === undefined) continue;
    hidden.push(c);
    if (c.convert !== undefined) queue.push(...c.convert.from);
  }
  return hidden.length > 0 ? { id: next.id, columns, hidden } : { id: next.id, columns };
}

/**
 * A participant of every checkpoint (the engine's index files): `capture` runs synchronously at
 * the cut and returns the flush the checkpoint awaits before writing the manifest; the manifest
 * records the flush's (JSON-safe) result, read back with `checkpointRecord`; `dirty` asks for a
 * checkpoint (explicit, or at close) when the WAL did not grow. `committed` is called
 * synchronously right after the manifest switch (its promise must not reject). A failed checkpoint
 * never calls `committed` for its capture.
 */
export interface CheckpointHook {
  /**
   * Optional, before the cut (commits keep running): work the participant can do early so the
   * synchronous `capture` has less to do (the engine writes index pages ahead, yielding between
   * slices). Its failure fails the checkpoint like any other step.
   */
  prepare?(): Promise<void>;
  capture(): () => Promise<unknown>;
  committed(): Promise<void>;
  /** Something to record although the WAL did not grow (a checkpoint then runs anyway). */
  dirty(): boolean;
}

interface CutWrite {
  readonly table: TableState;
  readonly id: number;
  readonly spec: StoredTableSpec;
  /** the moved rows, row group by row group */
  readonly groups: RowGroupData[];
  readonly n: number;
  readonly ids: Float64Array;
  readonly deleted: number[];
  readonly mt: ManifestTable;
  readonly ins: Float64Array;
  readonly masks: Map<DeltaChunk, Uint8Array>;
  /** the Parquet encode, started on the encode worker at the cut (large segments) */
  readonly job?: EncodeJob;
}

// (the per-row loops of the checkpoint cut live in small functions called per chunk: V8 optimizes
// them after a few chunks, where loops inside the one long cut function ran unoptimized)

/** Zone maps of `groups` (`n` rows in all), with each row group's offset in the segment. */
function zoneMapsOf(spec: StoredTableSpec, groups: readonly RowGroupData[], n: number): RowGroupMeta[] {
  const rowGroups: RowGroupMeta[] = [];
  let off = 0;
  for (const g of groups) {
    if (g.rows === 0) continue;
    const zones = new Map<number, Zone>();
    spec.columns.forEach((col, j) => zones.set(col.id, computeZone(g.vectors[j]!, col.type, 0, g.rows)));
    rowGroups.push({ offset: off, rows: g.rows, zones });
    off += g.rows;
  }
  invariant(off === n, 'segment: row groups do not add up to the row count');
  return rowGroups;
}

/** Delete stamps of the rows of `c` set in `mask` onto `seg` from offset `off`; returns the next offset. */
function copyDelStamps(seg: Segment, off: number, c: DeltaChunk, mask: Uint8Array): number {
  const del = c.del;
  for (let i = 0; i < c.length; i++) if (mask[i] === 1) seg.setDel(off++, del[i]!);
  return off;
}

/** The selection of a chunk whose rows all move (takeMasked / gatherInto ignore it then). */
const EMPTY_SEL = new Uint32Array(0);

/** Set `mask[i]` for the committed rows of `c` (insert stamp below TXN_ID_START); returns how many. */
function committedMask(c: DeltaChunk, mask: Uint8Array): number {
  const ins = c.ins;
  const len = c.length;
  let i = 0;
  while (i < len && ins[i]! < TXN_ID_START) i++;
  if (i === len) { mask.fill(1); return len; }
  mask.fill(1, 0, i);
  let n = i;
  for (; i < len; i++) if (ins[i]! < TXN_ID_START) { mask[i] = 1; n++; }
  return n;
}

/**
 * The rows of `c` set in `mask`: their positions into `sel`, row ids and insert stamps into
 * `ids` / `ins` at `o`, the output positions of the deleted ones onto `deleted`; returns how many.
 */
function takeMasked(c: DeltaChunk, mask: Uint8Array, sel: Uint32Array, ids: Float64Array, ins: Float64Array, o: number, deleted: number[], whole: boolean): number {
  const rowIds = c.rowIds;
  const cIns = c.ins;
  const del = c.del;
  const len = c.length;
  if (whole) {
    // every row moves (the common case): block copies, `sel` stays unused (identity)
    ids.set(rowIds.subarray(0, len), o);
    ins.set(cIns.subarray(0, len), o);
    for (let i = 0; i < len; i++) if (del[i]! < TXN_ID_START) deleted.push(o + i);
    return len;
  }
  let k = 0;
  for (let i = 0; i < c.length; i++) {
    if (mask[i] !== 1) continue;
    sel[k] = i;
    ids[o + k] = rowIds[i]!;
    ins[o + k] = cIns[i]!;
    if (del[i]! < TXN_ID_START) deleted.push(o + k);
    k++;
  }
  return k;
}

/**
 * Rows `sel[from .. from + n)` of `src` into `dst` at `at` (`identity`: sel[i] = i, a plain copy).
 * `dst` has a validity array (absentVector).
 */
function gatherInto(dst: ColumnVector, at: number, src: ColumnVector, sel: Uint32Array, from: number, n: number, identity: boolean): void {
  const dv = dst.validity!;
  const sv = src.validity;
  if (ArrayBuffer.isView(dst.data)) {
    const d = dst.data as Float64Array;
    const s = src.data as Float64Array;
    if (identity) d.set(s.subarray(from, from + n), at);
    else for (let i = 0; i < n; i++) d[at + i] = s[sel[from + i]!]!;
  } else {
    const d = dst.data as unknown[];
    const s = src.data as unknown[];
    if (identity) for (let i = 0; i < n; i++) d[at + i] = s[from + i];
    else for (let i = 0; i < n; i++) d[at + i] = s[sel[from + i]!];
  }
  if (sv === null) dv.fill(1, at, at + n);
  else if (identity) dv.set(sv.subarray(from, from + n), at);
  else for (let i = 0; i < n; i++) dv[at + i] = sv[sel[from + i]!]!;
}

/** The row ids of several delete writes, in order, as one array. */
function concatIds(parts: readonly Float64Array[]): Float64Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float64Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

const GONE: DeleteOutcome = { kind: 'gone' };
const DELETED: DeleteOutcome = { kind: 'deleted' };

/** Open (creating when missing) the store in `opts.dir`, recovering from the WAL. */
export async function openStore(opts: StoreOptions, tuning?: StoreTuning): Promise<Store & QuiverStore> {
  const s = new QuiverStore(opts.env, opts.dir, opts, tuning);
  try {
    await s.open();
  } catch (e) {
    await s.abortOpen(e);
    throw e;
  }
  return s;
}

export type { RowLoc };
