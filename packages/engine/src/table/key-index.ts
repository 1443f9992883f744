/**
 * `KeyIndex`: one SQL index as the engine uses it — an `OrderedIndex` from @quiverdb/indexes (a
 * B+ tree, or a fractal tree for `USING fractal`) over order-preserving encoded keys, plus the
 * key spec and whether the SQL index is UNIQUE.
 *
 * MVCC: the tree is always physically non-unique (key ‖ row id): several versions of a row, or a
 * deleted and a re-inserted row, share a key until old versions are collected. UNIQUE is enforced
 * by the engine (EngineTable's unique check), which looks at every candidate's stamps.
 *
 * Persistence: a KeyIndex of a database directory lives in its own `EnvPageFile` (one file per
 * KeyIndex instance, see index-registry.ts); `prepareCheckpoint()` runs at the checkpoint cut and
 * returns the file state the manifest records. In-memory databases use a `MemPageStore` and never
 * checkpoint their trees.
 *
 * Invariants:
 *  1. (key, rowId) pairs are unique in the tree (`insert` of a present pair is a no-op).
 *  2. A file-backed tree never unloads clean nodes (its page file releases an image once read).
 */
import type { ColumnVector, PageId } from '@quiverdb/common';
import { BTree, EnvPageFile, FractalIndex, MemPageStore, encodeKeyFromColumnsScratch, type KeyRange, type KeySpec, type OrderedIndex, type PageFileState } from '@quiverdb/indexes';

export type IndexMethod = 'btree' | 'fractal';

/** Appends of at least this many keys write the nodes they completed ahead (see `appendBatch`). */
const APPEND_WRITE_AHEAD_MIN = 256;

export class KeyIndex {
  readonly spec: KeySpec;
  readonly unique: boolean;
  readonly method: IndexMethod;
  readonly tree: OrderedIndex;
  /** the page file of a persisted index (undefined in memory) */
  readonly file: EnvPageFile | undefined;
  /** identity of the definition the tree was built for (see index-registry.ts `fingerprintOf`) */
  readonly fingerprint: string;

  constructor(spec: KeySpec, unique: boolean, method: IndexMethod = 'btree', opts: { file?: EnvPageFile; fingerprint?: string; tree?: OrderedIndex } = {}) {
    this.spec = spec;
    this.unique = unique;
    this.method = method;
    this.file = opts.file;
    this.fingerprint = opts.fingerprint ?? '';
    const pages = opts.file ?? new MemPageStore();
    this.tree = opts.tree ?? (method === 'fractal' ? FractalIndex.create(pages, { unique: false }) : BTree.create(pages, { unique: false }));
  }

  /** Reopen a persisted index from its file at a recorded meta page (throws XX002 when it does not fit). */
  static reopen(spec: KeySpec, unique: boolean, method: IndexMethod, file: EnvPageFile, meta: PageId, fingerprint: string): KeyIndex {
    const tree = method === 'fractal' ? FractalIndex.open(file, meta) : BTree.open(file, meta);
    return new KeyIndex(spec, unique, method, { file, fingerprint, tree });
  }

  /** Add (key, rowId); adding a present pair changes nothing (invariant 1). */
  insert(key: Uint8Array, rowId: number): void {
    this.tree.insert(key, rowId);
  }

  /**
   * Add the keys of rows `0 .. n - 1` of `columns` (key columns in spec order) for `rowIds` in one
   * go when they are distinct and all lie past the largest key in the tree (a load in key order,
   * or sorted on a key prefix): then no present entry has any of these keys (no unique check is
   * needed) and true is returned. Otherwise nothing changes and false is returned (insert row by
   * row).
   */
  appendBatch(columns: readonly ColumnVector[], rowIds: ArrayLike<number>, n: number): boolean {
    const tree = this.tree;
    if (!(tree instanceof BTree)) return false;
    const spec = this.spec;
    if (!tree.appendBatch((i) => encodeKeyFromColumnsScratch(spec, columns, i), rowIds, n)) return false;
    // A persisted tree writes the leaves (and inner nodes) a large append completed ahead of the
    // checkpoint, while their key strings are young: they leave the heap in the young generation
    // instead of being promoted and kept until the checkpoint serializes them anyway (the
    // checkpoint's prepare then has little left to write). The right edge stays in memory.
    if (this.file !== undefined && n >= APPEND_WRITE_AHEAD_MIN) tree.writeAhead(Math.ceil(n / 64) + 4);
    return true;
  }

  lookup(key: Uint8Array): readonly number[] {
    return this.tree.getAll(key);
  }

  /** Row ids whose key (or key prefix) lies between `low` and `high`, in key order. */
  range(low: Uint8Array | undefined, high: Uint8Array | undefined, lowInclusive: boolean, highInclusive: boolean, reverse = false, limit = Infinity): number[] {
    // one object shape, no spreads (this is on the path of every index lookup)
    const r: KeyRange = { reverse };
    if (low) { if (lowInclusive) r.gte = low; else r.gt = low; }
    if (high) { if (highInclusive) r.lte = high; else r.lt = high; }
    return this.tree.rowIds(r, limit);
  }

  /**
   * Before a checkpoint's cut: write up to `budget` dirty nodes ahead (see BTree.writeAhead);
   * returns how many (0: nothing to write ahead, or not a B+ tree / not persisted).
   */
  writeAhead(budget: number): number {
    return this.file !== undefined && this.tree instanceof BTree ? this.tree.writeAhead(budget) : 0;
  }

  /**
   * At the checkpoint cut (synchronous): write the tree's dirty nodes copy-on-write and the file's
   * directory; returns the state to record, or undefined for an in-memory index. The pages the
   * tree replaced stay untouched until the file's `committed()` (after the manifest switch).
   */
  prepareCheckpoint(): PageFileState | undefined {
    const f = this.file;
    if (f === undefined) return undefined;
    const meta = this.tree.prepareCheckpoint();
    const last = f.committedState;
    if (last !== undefined && last.meta === meta && f.dirtyPages === 0) return last; // unchanged
    this.tree.commitCheckpoint(); // replaced pages go to the file's pending-free list
    return f.prepare(meta);
  }

  checkInvariants(): void {
    this.tree.checkInvariants();
  }
}
