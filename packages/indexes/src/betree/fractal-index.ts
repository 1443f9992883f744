/**
 * FractalIndex: a row-id index (`CREATE INDEX ... USING fractal`) on a Bε-tree, with the same
 * surface as `BTree` (the `OrderedIndex` interface), for write-heavy tables.
 *
 * Layout on the Bε-tree:
 *   unique:     key = userKey                  value = rowId as f64 (8 bytes, big-endian)
 *   non-unique: key = userKey ‖ rowIdSuffix    value = empty
 * Non-unique inserts and deletes are blind messages (no read at all): that is where the
 * Bε-tree's write advantage comes from. Unique inserts read first (the duplicate check), then
 * write a message.
 *
 * Invariants: those of the Bε-tree, plus: non-unique entries have an empty value; unique entries
 * an 8-byte value. The meta page's flags bit 0 records uniqueness.
 */
import { DbError, SqlState, rowId as asRowId, type PageId, type RowId } from '@quiverdb/common';
import type { PageStore } from '../page/page-store.js';
import { BeTree, type BeTreeStats } from './betree.js';
import { binaryPrefixSuccessor, fromBinary, toBinary } from '../key/binary-string.js';
import { checkRowId, rowIdSuffix } from '../page/page-codec.js';
import type { KeyRange } from '../key/key-range.js';
import type { IndexEntry, InsertResult, OrderedIndex } from '../btree/btree.js';

const INSERTED: InsertResult = Object.freeze({ inserted: true });
const EMPTY = new Uint8Array(0);

function rowValue(rowId: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, rowId);
  return b;
}

function suffixRowId(s: string): number {
  let hi = 0;
  let lo = 0;
  const n = s.length;
  for (let i = n - 8; i < n - 4; i++) hi = hi * 256 + s.charCodeAt(i);
  for (let i = n - 4; i < n; i++) lo = lo * 256 + s.charCodeAt(i);
  return hi * 4294967296 + lo;
}

function valueRowId(s: string): number {
  const b = fromBinary(s);
  return new DataView(b.buffer).getFloat64(0);
}

export interface FractalIndexOptions {
  unique: boolean;
  name?: string;
  maxFanout?: number;
}

export class FractalIndex implements OrderedIndex {
  readonly tree: BeTree;
  readonly unique: boolean;
  readonly maxKeyBytes: number;

  private constructor(tree: BeTree) {
    this.tree = tree;
    this.unique = (tree.flags & 1) !== 0;
    this.maxKeyBytes = tree.maxEntryBytes - 8;
  }

  static create(store: PageStore, opts: FractalIndexOptions): FractalIndex {
    return new FractalIndex(BeTree.create(store, { flags: opts.unique ? 1 : 0, ...(opts.name === undefined ? {} : { name: opts.name }), ...(opts.maxFanout === undefined ? {} : { maxFanout: opts.maxFanout }) }));
  }

  static open(store: PageStore, metaPage: PageId, opts: { name?: string } = {}): FractalIndex {
    return new FractalIndex(BeTree.open(store, metaPage, opts));
  }

  get stats(): BeTreeStats {
    return this.tree.stats;
  }

  #stored(key: Uint8Array, rowId: number): Uint8Array {
    if (key.length > this.maxKeyBytes) {
      throw new DbError(SqlState.ProgramLimitExceeded, `index row size ${key.length} exceeds maximum ${this.maxKeyBytes} for this index`);
    }
    if (this.unique) return key;
    checkRowId(rowId);
    const out = new Uint8Array(key.length + 8);
    out.set(key);
    const s = rowIdSuffix(rowId);
    for (let i = 0; i < 8; i++) out[key.length + i] = s.charCodeAt(i);
    return out;
  }

  insert(key: Uint8Array, rowId: RowId | number): InsertResult {
    const k = this.#stored(key, rowId);
    if (this.unique) {
      const old = this.tree.get(k);
      if (old !== undefined) return { inserted: false, existing: asRowId(new DataView(old.buffer, old.byteOffset).getFloat64(0)) };
      this.tree.put(k, rowValue(rowId));
    } else {
      this.tree.put(k, EMPTY);
    }
    return INSERTED;
  }

  /** Unique: deletes only when the key points at `rowId` (reads first). Non-unique: a blind delete; returns true. */
  delete(key: Uint8Array, rowId: RowId | number): boolean {
    const k = this.#stored(key, rowId);
    if (this.unique) {
      const old = this.tree.get(k);
      if (old === undefined || new DataView(old.buffer, old.byteOffset).getFloat64(0) !== rowId) return false;
    }
    this.tree.delete(k);
    return true;
  }

  get(key: Uint8Array): RowId | undefined {
    if (this.unique) {
      const v = this.tree.get(key);
      return v === undefined ? undefined : asRowId(new DataView(v.buffer, v.byteOffset).getFloat64(0));
    }
    return this.getAll(key)[0];
  }

  getAll(key: Uint8Array): RowId[] {
    if (this.unique) {
      const r = this.get(key);
      return r === undefined ? [] : [r];
    }
    const k = toBinary(key);
    const out: RowId[] = [];
    const hi = binaryPrefixSuccessor(k);
    for (const [s] of this.tree.scanBinary({ gte: key, ...(hi === undefined ? {} : { lt: fromBinary(hi) }) })) {
      if (s.length === k.length + 8) out.push(asRowId(suffixRowId(s)));
    }
    return out;
  }

  has(key: Uint8Array, rowId?: number): boolean {
    if (rowId === undefined || this.unique) {
      const r = this.get(key);
      return r !== undefined && (rowId === undefined || r === rowId);
    }
    return this.tree.has(this.#stored(key, rowId));
  }

  *scan(range: KeyRange = {}): Generator<IndexEntry> {
    for (const [k, v] of this.tree.scanBinary(range)) {
      if (this.unique) yield { key: fromBinary(k), rowId: asRowId(valueRowId(v)) };
      else yield { key: fromBinary(k.slice(0, k.length - 8)), rowId: asRowId(suffixRowId(k)) };
    }
  }

  rowIds(range: KeyRange = {}, limit = Infinity): RowId[] {
    const out: RowId[] = [];
    if (limit <= 0) return out;
    for (const [k, v] of this.tree.scanBinary(range)) {
      out.push(asRowId(this.unique ? valueRowId(v) : suffixRowId(k)));
      if (out.length >= limit) break;
    }
    return out;
  }

  prefix(prefix: Uint8Array, reverse = false): Generator<IndexEntry> {
    return this.scan({ gte: prefix, lte: prefix, reverse });
  }

  checkpoint(): PageId {
    return this.tree.checkpoint();
  }

  prepareCheckpoint(): PageId {
    return this.tree.prepareCheckpoint();
  }

  commitCheckpoint(): void {
    this.tree.commitCheckpoint();
  }

  checkInvariants(): { pages: number } {
    return this.tree.checkInvariants();
  }

  unloadClean(): void {
    this.tree.unloadClean();
  }

  drop(): void {
    this.tree.drop();
  }
}
