/**
 * B+ tree over fixed-size pages of a `PageStore`: encoded keys (see key-encoding.ts) → row ids.
 *
 * Keys are byte strings compared with memcmp; inside the tree they are binary strings (see
 * binary-string.ts) so that comparison is V8's one-byte string comparison.
 *
 * Unique and non-unique trees:
 *  - unique: the stored key is the user key; inserting a present key returns
 *    `{ inserted: false, existing }` (the engine raises 23505 after checking visibility).
 *  - non-unique: the stored key is userKey ‖ rowIdSuffix(rowId) (8 bytes, big-endian), so
 *    entries are unique and equal user keys are ordered by row id.
 *
 * Node format (DO NOT CHANGE: persisted):
 *   node  := kind:u8 (1 leaf | 2 inner) | 0:u8 | count:u16 | 0:u32 | body
 *   leaf  := (klen:u16 key:u8[klen] rowId:f64)^count
 *   inner := child0:u32 (klen:u16 sep:u8[klen] child:u32)^count
 * Child i of an inner node holds the keys k with sep[i-1] <= k < sep[i]. Separators between
 * leaves are suffix-truncated: the shortest byte string s with lastLeft < s <= firstRight.
 *
 * Persistence (copy-on-write, LMDB style): pages reachable from the last durable meta page are
 * never overwritten. A modified node is "dirty" and lives only in memory until `checkpoint()`,
 * which writes every dirty node (post-order) to a fresh page, then the meta page (root page id,
 * height, count — see page-codec.ts), then records it with `store.setRoot(name)`, and only then
 * frees the pages of the previous version. A crash before `setRoot` leaves the previous version
 * intact; the engine rebuilds later changes from the WAL. Leaves carry no sibling pointers on disk
 * (a COW of one leaf would cascade through its neighbours); cursors walk a parent stack.
 *
 * Invariants (checked by `checkInvariants()`):
 *  1. Keys strictly increase within a node and across the in-order leaf sequence.
 *  2. Every key k in child i of an inner node satisfies sep[i-1] <= k < sep[i] (and the bounds
 *     inherited from ancestors); an inner node with n separators has n + 1 children.
 *  3. Every leaf is at depth `height`; the byte size of a node (its serialized size) is at most
 *     `pageSize`, and at least `pageSize / 4` unless it is the root.
 *  4. A clean node has a page and only clean children; a dirty node has no page (page 0).
 *  5. Pages reachable from the root, retired pages and the meta page are pairwise distinct.
 *  6. Non-unique trees: the last 8 key bytes of an entry encode its row id. `count` = entries.
 *  7. A clean node's `img` is its serialized page and `pfx` its search table (see Leaf); a dirty
 *     node's are null. Point lookups (`get`, `getAll`) search clean nodes in `img`, dirty ones in
 *     `keys`, so both forms must say the same (the page codec is the one source of the layout).
 *
 * Concurrency: synchronous. Cursors are generators; a cursor that sees a mutation of the tree
 * between two steps re-seeks from the last key it returned, so iterating while inserting or
 * deleting is safe (it sees a consistent key order, like a B-link scan).
 */
import { DbError, InternalError, SqlState, invariant, pageId, rowId as asRowId, type PageId, type RowId } from '@quiverdb/common';
import type { PageStore } from '../page/page-store.js';
import { decodeMeta, encodeMeta, getBinary, lowerBound, rowIdSuffix, checkRowId, shortestSeparator, upperBound } from '../page/page-codec.js';
import { toBinary, fromBinary, binaryPrefixSuccessor } from '../key/binary-string.js';
import { toBounds, type Bounds, type KeyRange } from '../key/key-range.js';

export type { KeyRange } from '../key/key-range.js';

const LEAF_HDR = 8;
const INNER_HDR = 12;
const KIND_LEAF = 1;
const KIND_INNER = 2;

/**
 * `img`/`pfx`: while a node is clean, its page image (the persisted layout) and a search table
 * of three u32 per entry: the first 8 bytes of its key as two big-endian words (zero-padded) and
 * the entry's offset in `img`. Both are views of ONE buffer (table, then image). Point lookups
 * binary-search the table and read the image only on equal prefixes and for the result, instead
 * of following a heap string per probe: on a large tree each probe used to be a cache (and TLB)
 * miss of its own. Null while dirty (see #touch, #write, #load, attachImage).
 */
/** Keys of a clean node, decoded from its image and search table (invariant 7: the same keys). */
function imageKeys(img: Uint8Array, pfx: Uint32Array): string[] {
  const count = pfx.length / 3;
  const keys = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const o = pfx[3 * i + 2]!;
    keys[i] = getBinary(img, o + 2, (img[o]! << 8) | img[o + 1]!);
  }
  return keys;
}

/**
 * `keys` of a node are held as strings only while it is dirty or after some operation needed
 * them: a clean node's are decoded from its image on first use (`keys`), and a checkpoint drops
 * them again (`shed`), so a large checkpointed tree keeps one buffer per node in memory, not a
 * string per key (full garbage collections mark every string the heap holds).
 */
abstract class Node {
  #keys: string[] | null;
  constructor(
    public page: number,
    public dirty: boolean,
    keys: string[] | null,
    public bytes: number,
    public img: Uint8Array | null = null,
    public pfx: Uint32Array | null = null,
  ) { this.#keys = keys; }
  get keys(): string[] { return (this.#keys ??= imageKeys(this.img!, this.pfx!)); }
  set keys(k: string[]) { this.#keys = k; }
  /** Drop the key strings of a clean node (decoded from its image again when needed). */
  shed(): void { if (this.img !== null) this.#keys = null; }
}

class Leaf extends Node {
  readonly leaf = true as const;
  constructor(page: number, dirty: boolean, keys: string[] | null, public vals: number[], bytes: number) {
    super(page, dirty, keys, bytes);
  }
}

class Inner extends Node {
  readonly leaf = false as const;
  constructor(page: number, dirty: boolean, keys: string[] | null, public kids: (BNode | null)[], public kidPages: number[], bytes: number) {
    super(page, dirty, keys, bytes);
  }
}

type BNode = Leaf | Inner;

const leafEntry = (k: string): number => 10 + k.length;
const innerEntry = (k: string): number => 6 + k.length;

export interface BTreeOptions {
  unique: boolean;
  /** Name of the root record in the PageStore (`setRoot`) updated at each checkpoint. */
  name?: string;
}

export interface BTreeStats {
  /** node pages written by checkpoints (meta pages included) */
  pageWrites: number;
  /** node pages read (loaded lazily) */
  pageReads: number;
  splits: number;
  merges: number;
  redistributions: number;
  checkpoints: number;
}

export type InsertResult = { readonly inserted: true } | { readonly inserted: false; readonly existing: RowId };

export interface IndexEntry {
  /** the user key (without the row id suffix of non-unique trees) */
  key: Uint8Array;
  rowId: RowId;
}

/**
 * What the engine needs from a row-id index, whatever its structure (BTree, FractalIndex).
 * Keys are encoded with `encodeKey`; bounds of `scan` / `rowIds` follow KeyRange's prefix rules.
 */
export interface OrderedIndex {
  readonly unique: boolean;
  /** keys longer than this are rejected with 54000 */
  readonly maxKeyBytes: number;
  insert(key: Uint8Array, rowId: RowId | number): InsertResult;
  delete(key: Uint8Array, rowId: RowId | number): boolean;
  get(key: Uint8Array): RowId | undefined;
  getAll(key: Uint8Array): RowId[];
  has(key: Uint8Array, rowId?: number): boolean;
  scan(range?: KeyRange): Generator<IndexEntry>;
  rowIds(range?: KeyRange, limit?: number): RowId[];
  prefix(prefix: Uint8Array, reverse?: boolean): Generator<IndexEntry>;
  /** write dirty pages + a meta page, publish it (named trees), free replaced pages; returns the meta page id */
  checkpoint(): PageId;
  /** two-phase checkpoint for trees whose meta page id is recorded by the caller */
  prepareCheckpoint(): PageId;
  commitCheckpoint(): void;
  checkInvariants(): { pages: number };
  unloadClean(): void;
  drop(): void;
}

/** Bytes `at`..`at + 3` of `b` as a big-endian u32, zero-padded from `n` on (default: the end of `b`). */
function prefixWord(b: Uint8Array, at: number, n = b.length): number {
  return (
    ((at < n ? b[at]! : 0) * 0x1000000) +
    ((at + 1 < n ? b[at + 1]! : 0) << 16) +
    ((at + 2 < n ? b[at + 2]! : 0) << 8) +
    (at + 3 < n ? b[at + 3]! : 0)
  );
}

/** Set `img` / `pfx` of a clean node from its serialized page (`p` bytes, entries at `offs`). */
function attachImage(n: BNode, page: Uint8Array, offs: Int32Array, p: number): void {
  const count = offs.length;
  const ab = new ArrayBuffer(count * 12 + p);
  const pfx = new Uint32Array(ab, 0, count * 3);
  const img = new Uint8Array(ab, count * 12, p);
  img.set(page.subarray(0, p));
  for (let i = 0; i < count; i++) {
    const o = offs[i]!;
    const end = o + 2 + ((img[o]! << 8) | img[o + 1]!);
    pfx[3 * i] = prefixWord(img, o + 2, end);
    pfx[3 * i + 1] = prefixWord(img, o + 6, end);
    pfx[3 * i + 2] = o;
  }
  n.img = img;
  n.pfx = pfx;
}

/**
 * Write entry `i`'s key (klen:u16 key bytes) at `img[p]` and its search-table row (see
 * attachImage: the first 8 key bytes as two big-endian words, zero-padded, and the offset);
 * returns the position after the key.
 */
function putEntryKey(img: Uint8Array, pfx: Uint32Array, i: number, p: number, k: string): number {
  const len = k.length;
  img[p] = len >>> 8;
  img[p + 1] = len & 0xff;
  const q = p + 2;
  for (let j = 0; j < len; j++) img[q + j] = k.charCodeAt(j);
  // the words from the bytes just written (no closure, no second read of the string)
  pfx[3 * i] = prefixWord(img, q, q + len);
  pfx[3 * i + 1] = prefixWord(img, q + 4, q + len);
  pfx[3 * i + 2] = p;
  return q + len;
}

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The big-endian f64 at `img[at]` (a leaf entry's row id). */
function rowIdAt(img: Uint8Array, at: number): number {
  if (littleEndian) for (let i = 0; i < 8; i++) f64b[i] = img[at + 7 - i]!;
  else for (let i = 0; i < 8; i++) f64b[i] = img[at + i]!;
  return f64[0]!;
}

/** memcmp order of the node entry key at `img[off]` (klen:u16 bytes) against `q`. */
function compareAt(img: Uint8Array, off: number, q: Uint8Array): number {
  const len = (img[off]! << 8) | img[off + 1]!;
  const qn = q.length;
  const n = len < qn ? len : qn;
  const p = off + 2;
  for (let i = 0; i < n; i++) {
    const d = img[p + i]! - q[i]!;
    if (d !== 0) return d;
  }
  return len - qn;
}

/** Does the node entry key at `img[off]` start with `q`? */
function startsWithAt(img: Uint8Array, off: number, q: Uint8Array): boolean {
  const len = (img[off]! << 8) | img[off + 1]!;
  const qn = q.length;
  if (len < qn) return false;
  const p = off + 2;
  for (let i = 0; i < qn; i++) if (img[p + i] !== q[i]) return false;
  return true;
}

const INSERTED: InsertResult = Object.freeze({ inserted: true });

/** Where `#storedKey` assembles key ‖ row id suffix. */
let storedScratch = new Uint8Array(64);

/** Is the byte string `a[0, al)` greater than `b[0, bl)` (binary strings, memcmp order)? */
function userKeyGreater(a: string, al: number, b: string, bl: number): boolean {
  const n = al < bl ? al : bl;
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d > 0;
  }
  return al > bl;
}

/**
 * A persistent B+ tree index. Create with `BTree.create`, `BTree.build` (bulk, from sorted input)
 * or `BTree.open` (from a meta page written by `checkpoint`).
 *
 * @example
 *   const t = BTree.create(new MemPageStore(), { unique: true });
 *   t.insert(encodeKey(spec, [42]), rowId(7));
 *   t.get(encodeKey(spec, [42])); // 7
 *   const meta = t.checkpoint();  // later: BTree.open(store, meta)
 */
export class BTree implements OrderedIndex {
  readonly store: PageStore;
  readonly unique: boolean;
  readonly name: string | undefined;
  readonly stats: BTreeStats = { pageWrites: 0, pageReads: 0, splits: 0, merges: 0, redistributions: 0, checkpoints: 0 };
  readonly maxKeyBytes: number;
  #root: BNode;
  #height = 0;
  #count = 0;
  #version = 0;
  #seq = 0;
  #metaPage = 0;
  /** pages of replaced node versions: freed after the next durable checkpoint */
  #retired: number[] = [];
  /** pages replaced before the last prepared checkpoint: freed by commitCheckpoint */
  #releasable: number[] = [];
  readonly #pageSize: number;
  readonly #minBytes: number;
  /** set while a split runs for an insert past the right edge (see #splitLeaf) */
  #appendSplit = false;

  private constructor(store: PageStore, opts: BTreeOptions, root: BNode) {
    this.store = store;
    this.unique = opts.unique;
    this.name = opts.name;
    this.#pageSize = store.pageSize;
    this.#minBytes = Math.floor(store.pageSize / 4);
    // entries <= pageSize / 8 keep both halves of any split or rebalance above pageSize / 4
    this.maxKeyBytes = Math.floor(store.pageSize / 8) - 10 - (opts.unique ? 0 : 8);
    invariant(this.maxKeyBytes >= 8, `page size ${store.pageSize} too small for a B+ tree`);
    this.#root = root;
  }

  static create(store: PageStore, opts: BTreeOptions): BTree {
    return new BTree(store, opts, new Leaf(0, true, [], [], LEAF_HDR));
  }

  /** Reopen a tree from the meta page id returned by `checkpoint()`. */
  static open(store: PageStore, metaPage: PageId, opts: { name?: string } = {}): BTree {
    const meta = decodeMeta(store.read(metaPage), 1);
    const t = new BTree(store, { unique: (meta.flags & 1) !== 0, ...opts }, new Leaf(0, true, [], [], LEAF_HDR));
    t.#root = t.#load(meta.root);
    t.#height = meta.height;
    t.#count = meta.count;
    t.#seq = meta.seq;
    t.#metaPage = metaPage;
    return t;
  }

  /**
   * Bulk build from entries sorted by key (then row id for non-unique trees), leaves filled to
   * `fill` of a page. Throws 23505 on a duplicate key of a unique tree, 22023 when unsorted.
   */
  static build(store: PageStore, opts: BTreeOptions, entries: Iterable<{ key: Uint8Array; rowId: number }>, fill = 0.9): BTree {
    const t = BTree.create(store, opts);
    const target = Math.max(t.#minBytes * 2, Math.floor(store.pageSize * fill));
    const keys: string[] = [];
    const vals: number[] = [];
    let prev: string | undefined;
    for (const e of entries) {
      const k = t.#storedKey(e.key, e.rowId);
      if (prev !== undefined && k <= prev) {
        if (k === prev) throw new DbError(SqlState.UniqueViolation, 'could not create unique index: duplicate key');
        throw new DbError(SqlState.InvalidParameterValue, 'bulk build input is not sorted by key');
      }
      prev = k;
      keys.push(k);
      vals.push(e.rowId);
    }
    t.#count = keys.length;
    if (keys.length === 0) return t;
    // leaves
    const leafGroups = packGroups(keys.length, (i) => leafEntry(keys[i]!), LEAF_HDR, target, store.pageSize, t.#minBytes, () => 0);
    let level: BNode[] = leafGroups.map(([a, b]) => {
      const ks = keys.slice(a, b);
      let bytes = LEAF_HDR;
      for (const k of ks) bytes += leafEntry(k);
      return new Leaf(0, true, ks, vals.slice(a, b), bytes);
    });
    let seps: string[] = [];
    for (let i = 1; i < level.length; i++) {
      const l = level[i - 1] as Leaf;
      const r = level[i] as Leaf;
      seps.push(shortestSeparator(l.keys[l.keys.length - 1]!, r.keys[0]!));
    }
    let height = 0;
    while (level.length > 1) {
      // item i = child level[i]; its separator (for i > 0) is seps[i - 1]
      const lv = level;
      const sp = seps;
      const groups = packGroups(lv.length, (i) => (i === 0 ? 4 : innerEntry(sp[i - 1]!)), INNER_HDR - 4, target, store.pageSize, t.#minBytes, (i) => innerEntry(sp[i - 1]!) - 4);
      const next: BNode[] = [];
      const nextSeps: string[] = [];
      for (const [a, b] of groups) {
        if (a > 0) nextSeps.push(sp[a - 1]!);
        const ks = sp.slice(a, b - 1);
        let bytes = INNER_HDR;
        for (const k of ks) bytes += innerEntry(k);
        next.push(new Inner(0, true, ks, lv.slice(a, b), new Array<number>(b - a).fill(0), bytes));
      }
      level = next;
      seps = nextSeps;
      height++;
    }
    t.#root = level[0]!;
    t.#height = height;
    return t;
  }

  get size(): number {
    return this.#count;
  }

  get height(): number {
    return this.#height;
  }

  /** The meta page of the last checkpoint (0 before the first). */
  get metaPage(): PageId {
    return pageId(this.#metaPage);
  }

  // ---- keys ---------------------------------------------------------------------------------

  #userKey(stored: string): Uint8Array {
    return fromBinary(this.unique ? stored : stored.slice(0, stored.length - 8));
  }

  // ---- nodes --------------------------------------------------------------------------------

  #load(page: number): BNode {
    this.stats.pageReads++;
    const buf = this.store.read(pageId(page));
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const kind = buf[0];
    const n = v.getUint16(2);
    let p = 8;
    if (kind === KIND_LEAF) {
      // (keys stay in the image until something needs them as strings: Leaf.keys)
      const vals = new Array<number>(n);
      const offs = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const len = v.getUint16(p);
        offs[i] = p;
        vals[i] = v.getFloat64(p + 2 + len);
        p += 10 + len;
      }
      const leaf = new Leaf(page, false, null, vals, p);
      attachImage(leaf, buf, offs, p);
      return leaf;
    }
    if (kind !== KIND_INNER) throw new DbError(SqlState.IndexCorrupted, `B+ tree page ${page} has kind ${kind}`);
    const kidPages = new Array<number>(n + 1);
    kidPages[0] = v.getUint32(8);
    p = 12;
    const offs = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const len = v.getUint16(p);
      offs[i] = p;
      kidPages[i + 1] = v.getUint32(p + 2 + len);
      p += 6 + len;
    }
    const inner = new Inner(page, false, null, new Array<BNode | null>(n + 1).fill(null), kidPages, p);
    attachImage(inner, buf, offs, p);
    return inner;
  }

  #kid(n: Inner, i: number): BNode {
    let k = n.kids[i];
    if (k === null || k === undefined) {
      k = this.#load(n.kidPages[i]!);
      n.kids[i] = k;
    }
    return k;
  }

  #touch(n: BNode): void {
    if (n.dirty) return;
    void n.keys; // decoded from the image before it goes (a dirty node's keys are its strings)
    n.dirty = true;
    n.img = null;
    n.pfx = null;
    if (n.page !== 0) this.#retired.push(n.page);
    n.page = 0;
  }

  #retire(n: BNode): void {
    if (!n.dirty && n.page !== 0) this.#retired.push(n.page);
    if (n.img !== null) void n.keys; // (see #touch)
    n.img = null;
    n.pfx = null;
    n.page = 0;
  }

  // ---- point operations ---------------------------------------------------------------------

  /**
   * The leaf whose range holds the first stored key >= `q` (the descent of a point lookup): clean
   * nodes are searched in their page image, dirty ones in their key strings (`k`, made on demand).
   */
  #leafOf(q: Uint8Array): Leaf {
    let n = this.#root;
    let k: string | undefined;
    this.#qBinary = undefined;
    while (!n.leaf) {
      let c: number;
      const img = n.img;
      if (img !== null && !n.dirty) {
        // upper bound: first separator > q
        const pfx = n.pfx!;
        const qh = prefixWord(q, 0);
        const ql = prefixWord(q, 4);
        let lo = 0;
        let hi = pfx.length / 3;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          const h = pfx[3 * mid]!;
          const l = pfx[3 * mid + 1]!;
          const d = h !== qh ? h - qh : l !== ql ? l - ql : compareAt(img, pfx[3 * mid + 2]!, q);
          if (d <= 0) lo = mid + 1;
          else hi = mid;
        }
        c = lo;
      } else {
        k ??= this.#qBinary = toBinary(q);
        c = upperBound(n.keys, k);
      }
      n = this.#kid(n, c);
    }
    return n;
  }

  /** `toBinary(q)` of the last `#leafOf(q)` when its descent made it (dirty nodes), for the leaf search. */
  #qBinary: string | undefined;

  /**
   * Row ids of the entries of a non-unique tree stored under user key `q`, appended to `out` (or
   * the first one only when `first`). Returns false when the entries may continue past the end
   * of the leaf (the caller then takes the general walk).
   */
  static #runInLeaf(n: Leaf, q: Uint8Array, out: RowId[], first: boolean, qBinary?: string): boolean {
    const want = q.length + 8;
    const img = n.img;
    if (img !== null && !n.dirty) {
      const pfx = n.pfx!;
      const count = pfx.length / 3;
      const qh = prefixWord(q, 0);
      const ql = prefixWord(q, 4);
      let lo = 0;
      let hi = count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const h = pfx[3 * mid]!;
        const l = pfx[3 * mid + 1]!;
        const d = h !== qh ? h - qh : l !== ql ? l - ql : compareAt(img, pfx[3 * mid + 2]!, q);
        if (d < 0) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < count; i++) {
        const o = pfx[3 * i + 2]!;
        if (!startsWithAt(img, o, q)) return true;
        if (((img[o]! << 8) | img[o + 1]!) === want) {
          out.push(asRowId(rowIdAt(img, o + 2 + want)));
          if (first) return true;
        }
      }
      return false;
    }
    const k = qBinary ?? toBinary(q);
    const keys = n.keys;
    for (let i = lowerBound(keys, k); i < keys.length; i++) {
      const s = keys[i]!;
      if (!s.startsWith(k)) return true;
      if (s.length === want) {
        out.push(asRowId(n.vals[i]!));
        if (first) return true;
      }
    }
    return false;
  }

  /** The row id of `key` (unique), or of its first entry (non-unique); undefined if absent. */
  get(key: Uint8Array): RowId | undefined {
    if (this.unique) {
      const k = toBinary(key);
      let n = this.#root;
      while (!n.leaf) n = this.#kid(n, upperBound(n.keys, k));
      const i = lowerBound(n.keys, k);
      return n.keys[i] === k ? asRowId(n.vals[i]!) : undefined;
    }
    const one: RowId[] = [];
    if (BTree.#runInLeaf(this.#leafOf(key), key, one, true)) return one[0];
    // the entries under `key` may continue in the next leaf: the general walk
    const k = toBinary(key);
    let found: RowId | undefined;
    this.#collect({ lo: k, hi: binaryPrefixSuccessor(k), empty: false }, false, Infinity, (s, v) => {
      if (s.length !== k.length + 8) return true;
      found = asRowId(v);
      return false;
    });
    return found;
  }

  /** Every row id stored under `key` (one at most for unique trees), in row id order. */
  getAll(key: Uint8Array): RowId[] {
    if (this.unique) {
      const r = this.get(key);
      return r === undefined ? [] : [r];
    }
    // point-lookup path: one descent and a binary search in the leaf over page images, then the
    // run of entries that start with `key`; the general walk only when the run reaches the end
    // of the leaf
    const out: RowId[] = [];
    const leaf = this.#leafOf(key);
    if (BTree.#runInLeaf(leaf, key, out, false, this.#qBinary)) return out;
    out.length = 0;
    const k = toBinary(key);
    this.#collect({ lo: k, hi: binaryPrefixSuccessor(k), empty: false }, false, Infinity, (s, v) => {
      if (s.length === k.length + 8) out.push(asRowId(v));
    });
    return out;
  }

  has(key: Uint8Array, rowId?: number): boolean {
    if (this.unique) {
      const r = this.get(key);
      return r !== undefined && (rowId === undefined || r === rowId);
    }
    if (rowId === undefined) return this.get(key) !== undefined;
    const k = this.#storedKey(key, rowId);
    let n = this.#root;
    while (!n.leaf) n = this.#kid(n, upperBound(n.keys, k));
    return n.keys[lowerBound(n.keys, k)] === k;
  }

  /**
   * Insert (key, rowId). Unique trees: a present key is not changed and the existing row id is
   * returned. Non-unique trees: a present (key, rowId) pair likewise.
   * Throws 54000 when the key exceeds `maxKeyBytes`.
   */
  insert(key: Uint8Array, rowId: RowId | number): InsertResult {
    const k = this.#storedKey(key, rowId);
    const path: Inner[] = [];
    const idx: number[] = [];
    let n = this.#root;
    while (!n.leaf) {
      const i = upperBound(n.keys, k);
      path.push(n);
      idx.push(i);
      n = this.#kid(n, i);
    }
    const i = lowerBound(n.keys, k);
    if (n.keys[i] === k) return { inserted: false, existing: asRowId(n.vals[i]!) };
    for (const p of path) this.#touch(p);
    this.#touch(n);
    n.keys.splice(i, 0, k);
    n.vals.splice(i, 0, rowId);
    n.bytes += leafEntry(k);
    this.#count++;
    this.#version++;
    if (n.bytes > this.#pageSize) {
      // a new largest key (ascending inserts): split off a small right leaf, so leaves fill to ~3/4
      this.#appendSplit = i === n.keys.length - 1 && path.every((p, l) => idx[l] === p.kids.length - 1);
      try {
        this.#splitUp(n, path, idx);
      } finally {
        this.#appendSplit = false;
      }
    }
    return INSERTED;
  }

  /**
   * Batch insert of entries that all go past the right edge of the tree: when the user keys
   * `keyAt(0) .. keyAt(n - 1)`, sorted, strictly increase and the first is greater than every key
   * in the tree, append them all in key order (one walk down the right spine per leaf, no search, leaves split so
   * they fill to ~3/4) and return true; otherwise change nothing and return false (the caller
   * inserts one by one). Since no present entry has any of these keys, a true result also says
   * none was present. `keyAt` may return a scratch view (it is read before the next call).
   * Throws 54000 like `insert` for a key longer than `maxKeyBytes`.
   */
  appendBatch(keyAt: (i: number) => Uint8Array, rowIds: ArrayLike<number>, n: number): boolean {
    if (n === 0) return true;
    const sfx = this.unique ? 0 : 8;
    let stored = new Array<string>(n);
    let ascending = true;
    for (let i = 0; i < n; i++) {
      stored[i] = this.#storedKey(keyAt(i), rowIds[i]!);
      if (i > 0 && ascending && stored[i]! <= stored[i - 1]!) ascending = false;
    }
    if (!ascending) {
      // a batch in another order (a load sorted on a prefix of the key only): append it sorted
      const order = Array.from({ length: n }, (_, i) => i);
      const st = stored;
      order.sort((a, b) => (st[a]! < st[b]! ? -1 : st[a]! > st[b]! ? 1 : 0));
      stored = order.map((i) => st[i]!);
      const ids = new Float64Array(n);
      for (let i = 0; i < n; i++) ids[i] = rowIds[order[i]!]!;
      rowIds = ids;
    }
    // user keys strictly increase, and so do the stored keys (also when one user key is a prefix of the next);
    // a unique tree's stored key is its user key, so an ascending batch has shown that already
    if (!ascending || sfx !== 0) for (let i = 1; i < n; i++) {
      const s = stored[i]!;
      const prev = stored[i - 1]!;
      if (s <= prev || !userKeyGreater(s, s.length - sfx, prev, prev.length - sfx)) return false;
    }
    // the tree's largest entry must sort before the first user key: then every entry is below
    // every key of the batch, so none has a key of the batch
    let r = this.#root;
    while (!r.leaf) r = this.#kid(r, r.kids.length - 1);
    const max = r.keys[r.keys.length - 1];
    if (max !== undefined && !userKeyGreater(stored[0]!, stored[0]!.length - sfx, max, max.length)) return false;
    const spine: Inner[] = [];
    const idx: number[] = [];
    let leaf = this.#rightSpine(spine, idx);
    this.#appendSplit = true;
    try {
      for (let i = 0; i < n; i++) {
        const k = stored[i]!;
        leaf.keys.push(k);
        leaf.vals.push(rowIds[i]!);
        leaf.bytes += leafEntry(k);
        this.#count++;
        if (leaf.bytes > this.#pageSize) {
          this.#splitUp(leaf, spine, idx);
          spine.length = 0;
          idx.length = 0;
          leaf = this.#rightSpine(spine, idx);
        }
      }
    } finally {
      this.#appendSplit = false;
      this.#version++;
    }
    return true;
  }

  /** Walk (and mark dirty) the right spine: fills `path` / `idx` as `insert` does; returns the last leaf. */
  #rightSpine(path: Inner[], idx: number[]): Leaf {
    let n = this.#root;
    while (!n.leaf) {
      this.#touch(n);
      const i = n.kids.length - 1;
      path.push(n);
      idx.push(i);
      n = this.#kid(n, i);
    }
    this.#touch(n);
    return n;
  }

  /** The stored key of (key, rowId): key ‖ big-endian row id (non-unique trees), one flat string (see getBinary). */
  #storedKey(key: Uint8Array, rowId: number): string {
    const len = key.length;
    if (len > this.maxKeyBytes) {
      throw new DbError(SqlState.ProgramLimitExceeded, `index row size ${len} exceeds maximum ${this.maxKeyBytes} for this index`);
    }
    if (this.unique) return getBinary(key, 0, len);
    checkRowId(rowId);
    let buf = storedScratch;
    if (buf.length < len + 8) buf = storedScratch = new Uint8Array(2 * (len + 8));
    buf.set(key);
    const hi = Math.floor(rowId / 4294967296);
    const lo = rowId >>> 0;
    buf[len] = hi >>> 24; buf[len + 1] = (hi >>> 16) & 0xff; buf[len + 2] = (hi >>> 8) & 0xff; buf[len + 3] = hi & 0xff;
    buf[len + 4] = lo >>> 24; buf[len + 5] = (lo >>> 16) & 0xff; buf[len + 6] = (lo >>> 8) & 0xff; buf[len + 7] = lo & 0xff;
    return getBinary(buf, 0, len + 8);
  }

  /** Unique trees: point `key` at `rowId`, inserting it if absent. Returns the previous row id. */
  set(key: Uint8Array, rowId: RowId | number): RowId | undefined {
    invariant(this.unique, 'BTree.set is for unique trees');
    const r = this.insert(key, rowId);
    if (r.inserted) return undefined;
    const k = toBinary(key);
    let n = this.#root;
    const path: BNode[] = [];
    while (!n.leaf) {
      path.push(n);
      n = this.#kid(n, upperBound(n.keys, k));
    }
    for (const p of path) this.#touch(p);
    this.#touch(n);
    n.vals[lowerBound(n.keys, k)] = rowId;
    this.#version++;
    return r.existing;
  }

  #splitUp(n: BNode, path: Inner[], idx: number[]): void {
    let node = n;
    for (let level = path.length - 1; ; level--) {
      if (node.bytes <= this.#pageSize) return;
      this.stats.splits++;
      const { sep, right } = node.leaf ? this.#splitLeaf(node) : this.#splitInner(node);
      if (level < 0) {
        this.#root = new Inner(0, true, [sep], [node, right], [0, 0], INNER_HDR + innerEntry(sep));
        this.#height++;
        return;
      }
      const parent = path[level]!;
      const i = idx[level]!;
      parent.keys.splice(i, 0, sep);
      parent.kids.splice(i + 1, 0, right);
      parent.kidPages.splice(i + 1, 0, 0);
      parent.bytes += innerEntry(sep);
      node = parent;
    }
  }

  #splitLeaf(n: Leaf): { sep: string; right: Leaf } {
    let m = 0;
    if (this.#appendSplit) {
      // right-edge append: the right leaf takes the fewest last entries that reach the minimum fill
      let rb = LEAF_HDR;
      m = n.keys.length;
      while (m > 1 && rb < this.#minBytes) rb += leafEntry(n.keys[--m]!);
    } else {
      const half = (n.bytes - LEAF_HDR) / 2;
      let acc = 0;
      while (m < n.keys.length - 1 && acc + leafEntry(n.keys[m]!) / 2 < half) acc += leafEntry(n.keys[m++]!);
    }
    if (m === 0) m = 1;
    const rk = n.keys.splice(m);
    const rv = n.vals.splice(m);
    let rb = LEAF_HDR;
    for (const k of rk) rb += leafEntry(k);
    n.bytes -= rb - LEAF_HDR;
    const right = new Leaf(0, true, rk, rv, rb);
    return { sep: shortestSeparator(n.keys[n.keys.length - 1]!, rk[0]!), right };
  }

  #splitInner(n: Inner): { sep: string; right: Inner } {
    const m = balancedInnerSplit(n.keys);
    const sep = n.keys[m]!;
    const rk = n.keys.splice(m + 1);
    n.keys.pop();
    const kids = n.kids.splice(m + 1);
    const kidPages = n.kidPages.splice(m + 1);
    let rb = INNER_HDR;
    for (const k of rk) rb += innerEntry(k);
    n.bytes -= rb - INNER_HDR + innerEntry(sep);
    return { sep, right: new Inner(0, true, rk, kids, kidPages, rb) };
  }

  /** Delete (key, rowId). Unique trees delete only when the key points at `rowId`. */
  delete(key: Uint8Array, rowId: RowId | number): boolean {
    const k = this.#storedKey(key, rowId);
    const path: Inner[] = [];
    const idx: number[] = [];
    let n = this.#root;
    while (!n.leaf) {
      const i = upperBound(n.keys, k);
      path.push(n);
      idx.push(i);
      n = this.#kid(n, i);
    }
    const i = lowerBound(n.keys, k);
    if (n.keys[i] !== k || (this.unique && n.vals[i] !== rowId)) return false;
    for (const p of path) this.#touch(p);
    this.#touch(n);
    n.keys.splice(i, 1);
    n.vals.splice(i, 1);
    n.bytes -= leafEntry(k);
    this.#count--;
    this.#version++;
    // rebalance bottom-up
    let node: BNode = n;
    for (let level = path.length - 1; level >= 0; level--) {
      if (node.bytes >= this.#minBytes) break;
      const parent = path[level]!;
      this.#fix(parent, idx[level]!);
      // a rebalance can lengthen the parent's separator past the page size
      if (parent.bytes > this.#pageSize) {
        this.#splitUp(parent, path.slice(0, level), idx.slice(0, level));
        break;
      }
      node = parent;
    }
    const root = this.#root;
    if (!root.leaf && root.keys.length === 0) {
      this.#retire(root);
      this.#root = this.#kid(root, 0);
      this.#height--;
    }
    return true;
  }

  /** Child i of `p` is under-full: merge it with a sibling or borrow from one. */
  #fix(p: Inner, i: number): void {
    const j = i > 0 ? i - 1 : i; // pair (j, j + 1)
    if (p.kids.length < 2) return;
    const L = this.#kid(p, j);
    const R = this.#kid(p, j + 1);
    this.#touch(L);
    this.#touch(R);
    const sep = p.keys[j]!;
    if (L.leaf && R.leaf) {
      if (L.bytes + R.bytes - LEAF_HDR <= this.#pageSize) {
        this.stats.merges++;
        L.keys.push(...R.keys);
        L.vals.push(...R.vals);
        L.bytes += R.bytes - LEAF_HDR;
        this.#removeKid(p, j);
        return;
      }
      this.stats.redistributions++;
      const keys = L.keys.concat(R.keys);
      const vals = L.vals.concat(R.vals);
      const total = L.bytes + R.bytes - 2 * LEAF_HDR;
      let acc = 0;
      let m = 0;
      while (m < keys.length - 1 && acc + leafEntry(keys[m]!) / 2 < total / 2) acc += leafEntry(keys[m++]!);
      if (m === 0) m = 1;
      L.keys = keys.slice(0, m);
      L.vals = vals.slice(0, m);
      R.keys = keys.slice(m);
      R.vals = vals.slice(m);
      L.bytes = LEAF_HDR + acc;
      R.bytes = LEAF_HDR + total - acc;
      const ns = shortestSeparator(L.keys[L.keys.length - 1]!, R.keys[0]!);
      p.bytes += ns.length - sep.length;
      p.keys[j] = ns;
      return;
    }
    invariant(!L.leaf && !R.leaf, 'siblings at different depths');
    if (L.bytes + R.bytes - INNER_HDR + innerEntry(sep) <= this.#pageSize) {
      this.stats.merges++;
      L.keys.push(sep, ...R.keys);
      L.kids.push(...R.kids);
      L.kidPages.push(...R.kidPages);
      L.bytes += R.bytes - INNER_HDR + innerEntry(sep);
      this.#removeKid(p, j);
      return;
    }
    this.stats.redistributions++;
    const keys = [...L.keys, sep, ...R.keys];
    const kids = L.kids.concat(R.kids);
    const kidPages = L.kidPages.concat(R.kidPages);
    const m = balancedInnerSplit(keys);
    L.keys = keys.slice(0, m);
    R.keys = keys.slice(m + 1);
    L.kids = kids.slice(0, m + 1);
    R.kids = kids.slice(m + 1);
    L.kidPages = kidPages.slice(0, m + 1);
    R.kidPages = kidPages.slice(m + 1);
    L.bytes = INNER_HDR;
    for (const k of L.keys) L.bytes += innerEntry(k);
    R.bytes = INNER_HDR;
    for (const k of R.keys) R.bytes += innerEntry(k);
    const ns = keys[m]!;
    p.bytes += ns.length - sep.length;
    p.keys[j] = ns;
  }

  /** Remove separator j and child j + 1 (merged into child j). */
  #removeKid(p: Inner, j: number): void {
    const gone = p.kids[j + 1];
    if (gone !== null && gone !== undefined) this.#retire(gone);
    p.bytes -= innerEntry(p.keys[j]!);
    p.keys.splice(j, 1);
    p.kids.splice(j + 1, 1);
    p.kidPages.splice(j + 1, 1);
  }

  // ---- cursors ------------------------------------------------------------------------------

  /** Entries in key order (or reverse) within `range`. Safe against concurrent mutation. */
  *scan(range: KeyRange = {}): Generator<IndexEntry> {
    for (const e of this.#iterate(toBounds(range), range.reverse === true)) {
      yield { key: this.#userKey(e.k), rowId: asRowId(e.v) };
    }
  }

  /** Row ids within `range` in key order (or reverse), at most `limit`. */
  rowIds(range: KeyRange = {}, limit = Infinity): RowId[] {
    const out: RowId[] = [];
    this.#collect(toBounds(range), range.reverse === true, limit, (_k, v) => {
      out.push(asRowId(v));
    });
    return out;
  }

  /** Entries whose key starts with `prefix` (a key of fewer columns). */
  prefix(prefix: Uint8Array, reverse = false): Generator<IndexEntry> {
    return this.scan({ gte: prefix, lte: prefix, reverse });
  }

  /**
   * Visit stored entries within bounds, in order (or reverse), at most `limit`: the generator-free
   * path of point lookups and `rowIds`. `visit` returns false to stop.
   * REQUIRES: `visit` does not modify the tree.
   */
  #collect(b: Bounds, reverse: boolean, limit: number, visit: (k: string, v: number) => boolean | void): void {
    if (b.empty || limit <= 0) return;
    const nodes: Inner[] = [];
    const pos: number[] = [];
    const target = reverse ? b.hi : b.lo;
    let n = this.#root;
    while (!n.leaf) {
      const c = target === undefined ? (reverse ? n.keys.length : 0) : reverse ? lowerBound(n.keys, target) : upperBound(n.keys, target);
      nodes.push(n);
      pos.push(c);
      n = this.#kid(n, c);
    }
    let leaf: Leaf = n;
    let i = target === undefined ? (reverse ? leaf.keys.length - 1 : 0) : reverse ? lowerBound(leaf.keys, target) - 1 : lowerBound(leaf.keys, target);
    let count = 0;
    for (;;) {
      if (i < 0 || i >= leaf.keys.length) {
        let d = nodes.length - 1;
        while (d >= 0 && (reverse ? pos[d]! === 0 : pos[d]! === nodes[d]!.keys.length)) d--;
        if (d < 0) return;
        pos[d] = pos[d]! + (reverse ? -1 : 1);
        nodes.length = d + 1;
        pos.length = d + 1;
        let m = this.#kid(nodes[d]!, pos[d]!);
        while (!m.leaf) {
          const c = reverse ? m.keys.length : 0;
          nodes.push(m);
          pos.push(c);
          m = this.#kid(m, c);
        }
        leaf = m;
        i = reverse ? m.keys.length - 1 : 0;
        continue;
      }
      const k = leaf.keys[i]!;
      if (reverse ? b.lo !== undefined && k < b.lo : b.hi !== undefined && k >= b.hi) return;
      if (visit(k, leaf.vals[i]!) === false || ++count >= limit) return;
      i += reverse ? -1 : 1;
    }
  }

  /**
   * Yields stored entries within bounds. The yielded object is reused: copy before keeping it.
   * The stack holds (inner node, child index) from the root to the current leaf.
   */
  *#iterate(b: Bounds, reverse: boolean): Generator<{ k: string; v: number }> {
    if (b.empty) return;
    const out = { k: '', v: 0 };
    const nodes: Inner[] = [];
    const pos: number[] = [];
    let leaf: Leaf;
    let i = 0;
    let version = this.#version;
    let last: string | undefined;
    const seek = (): void => {
      nodes.length = 0;
      pos.length = 0;
      let n = this.#root;
      // forward: first key >= lo (or > last); reverse: last key < hi (or < last)
      const target = last ?? (reverse ? b.hi : b.lo);
      while (!n.leaf) {
        const c = target === undefined ? (reverse ? n.keys.length : 0) : reverse ? lowerBound(n.keys, target) : upperBound(n.keys, target);
        nodes.push(n);
        pos.push(c);
        n = this.#kid(n, c);
      }
      leaf = n;
      if (target === undefined) i = reverse ? n.keys.length - 1 : 0;
      else if (reverse) i = lowerBound(n.keys, target) - 1;
      else i = last !== undefined ? upperBound(n.keys, target) : lowerBound(n.keys, target);
    };
    // move to the next (or previous) leaf; false at the end
    const step = (): boolean => {
      let d = nodes.length - 1;
      while (d >= 0 && (reverse ? pos[d]! === 0 : pos[d]! === nodes[d]!.keys.length)) d--;
      if (d < 0) return false;
      pos[d] = pos[d]! + (reverse ? -1 : 1);
      nodes.length = d + 1;
      pos.length = d + 1;
      let n = this.#kid(nodes[d]!, pos[d]!);
      while (!n.leaf) {
        const c = reverse ? n.keys.length : 0;
        nodes.push(n);
        pos.push(c);
        n = this.#kid(n, c);
      }
      leaf = n;
      i = reverse ? n.keys.length - 1 : 0;
      return true;
    };
    seek();
    for (;;) {
      if (version !== this.#version) {
        version = this.#version;
        seek();
      }
      if (i < 0 || i >= leaf!.keys.length) {
        if (!step()) return;
        continue;
      }
      const k = leaf!.keys[i]!;
      if (reverse ? b.lo !== undefined && k < b.lo : b.hi !== undefined && k >= b.hi) return;
      out.k = k;
      out.v = leaf!.vals[i]!;
      last = k;
      i += reverse ? -1 : 1;
      yield out;
    }
  }

  // ---- persistence --------------------------------------------------------------------------

  /**
   * Write every dirty node to fresh pages, then the meta page, then the root record; then free
   * the pages of replaced versions. Returns the new meta page id (the tree's durable address).
   */
  /**
   * Persist the tree: `prepareCheckpoint()`, then `store.setRoot(name, meta)` when the tree has a
   * name, then `commitCheckpoint()`. Returns the meta page id (reopen with `open`).
   * A tree without a name whose meta page id is recorded elsewhere (the engine's metadata root)
   * must call the two phases itself, committing only once that record is durable.
   */
  checkpoint(): PageId {
    const meta = this.prepareCheckpoint();
    if (this.name !== undefined && this.store.getRoot(this.name) !== meta) this.store.setRoot(this.name, meta);
    this.commitCheckpoint();
    return meta;
  }

  /**
   * Phase 1: write every dirty node to a fresh page, then a meta page; frees nothing (the previous
   * version stays intact on its pages). Returns the new meta page id, or the current one when
   * nothing changed.
   */
  prepareCheckpoint(): PageId {
    if (!this.#root.dirty && this.#metaPage !== 0 && this.#retired.length === 0) return pageId(this.#metaPage);
    const rootPage = this.#write(this.#root);
    this.#seq++;
    const meta = this.store.allocate();
    this.store.write(meta, encodeMeta({ treeKind: 1, flags: this.unique ? 1 : 0, root: pageId(rootPage), height: this.#height, count: this.#count, seq: this.#seq, param: 0 }));
    this.stats.pageWrites++;
    this.stats.checkpoints++;
    if (this.#metaPage !== 0) this.#retired.push(this.#metaPage);
    this.#releasable.push(...this.#retired);
    this.#retired = [];
    this.#metaPage = meta;
    return meta;
  }

  /** Phase 2, once the meta page id of the last prepare is durable: free the replaced pages. */
  commitCheckpoint(): void {
    for (const p of this.#releasable) this.store.free(pageId(p));
    this.#releasable = [];
  }


  #write(n: BNode): number {
    if (!n.dirty) return n.page;
    if (!n.leaf) {
      for (let i = 0; i < n.kids.length; i++) {
        const kid = n.kids[i];
        if (kid !== null && kid !== undefined && kid.dirty) n.kidPages[i] = this.#write(kid);
      }
    }
    // the page is serialized straight into the node's image buffer (search table, then image;
    // see attachImage), sized by `bytes` (invariant 3: the serialized size)
    const count = n.keys.length;
    invariant(n.bytes <= this.#pageSize, () => `node byte size ${n.bytes} > page size`);
    const ab = new ArrayBuffer(count * 12 + n.bytes);
    const pfx = new Uint32Array(ab, 0, count * 3);
    const buf = new Uint8Array(ab, count * 12, n.bytes);
    const v = new DataView(ab, count * 12, n.bytes);
    const keys = n.keys;
    let p: number;
    if (n.leaf) {
      const vals = n.vals;
      buf[0] = KIND_LEAF;
      v.setUint16(2, count);
      p = 8;
      for (let i = 0; i < count; i++) {
        const k = keys[i]!;
        p = putEntryKey(buf, pfx, i, p, k);
        v.setFloat64(p, vals[i]!);
        p += 8;
      }
    } else {
      buf[0] = KIND_INNER;
      v.setUint16(2, count);
      v.setUint32(8, n.kidPages[0]!);
      p = 12;
      for (let i = 0; i < count; i++) {
        const k = keys[i]!;
        p = putEntryKey(buf, pfx, i, p, k);
        v.setUint32(p, n.kidPages[i + 1]!);
        p += 4;
      }
    }
    invariant(p === n.bytes, () => `node byte size ${n.bytes} != serialized ${p}`);
    const id = this.store.allocate();
    this.store.write(id, buf);
    this.stats.pageWrites++;
    n.page = id;
    n.dirty = false;
    n.img = buf;
    n.pfx = pfx;
    n.shed(); // the image holds the keys now
    return id;
  }

  /**
   * Write ahead of a checkpoint: up to `budget` dirty nodes whose children are all clean, in
   * post-order, leaving out the right edge (appends keep changing it) and the root. Their pages
   * are new (copy-on-write, as `#write`); the next `prepareCheckpoint` then writes only what is
   * still dirty. A node changed again later is rewritten then (its page retired as usual).
   * Returns how many nodes were written (0: nothing left to write ahead).
   */
  writeAhead(budget: number): number {
    let left = budget;
    // `edge`: n is on the right edge (root to last leaf), whose last child stays dirty
    const walk = (n: Inner, edge: boolean): void => {
      const end = edge ? n.kids.length - 1 : n.kids.length;
      for (let i = 0; i < end && left > 0; i++) {
        const k = n.kids[i];
        if (k === null || k === undefined || !k.dirty) continue;
        if (!k.leaf) {
          walk(k, false);
          if (left === 0 || k.kids.some((c) => c !== null && c !== undefined && c.dirty)) continue;
        }
        n.kidPages[i] = this.#write(k);
        left--;
      }
      if (!edge) return;
      // the last child: its own left part may be written, the child itself stays dirty
      const k = n.kids[end];
      if (left > 0 && k !== null && k !== undefined && k.dirty && !k.leaf) walk(k, true);
    };
    if (!this.#root.leaf) walk(this.#root, true);
    return budget - left;
  }

  /** Drop clean nodes from memory (they are reloaded from their pages on demand). */
  unloadClean(): void {
    const walk = (n: BNode): void => {
      if (n.leaf) return;
      for (let i = 0; i < n.kids.length; i++) {
        const k = n.kids[i];
        if (k === null || k === undefined) continue;
        if (!k.dirty) n.kids[i] = null;
        else walk(k);
      }
    };
    walk(this.#root);
    this.#version++;
  }

  /** Free every page of the tree (DROP INDEX). The tree must not be used afterwards. */
  drop(): void {
    const walk = (page: number, n: BNode | null): void => {
      const node = n ?? this.#load(page);
      if (!node.leaf) for (let i = 0; i < node.kids.length; i++) walk(node.kidPages[i]!, node.kids[i] ?? null);
      if (!node.dirty && node.page !== 0) this.store.free(pageId(node.page));
    };
    walk(this.#root.page, this.#root);
    for (const p of this.#retired) this.store.free(pageId(p));
    for (const p of this.#releasable) this.store.free(pageId(p));
    if (this.#metaPage !== 0) this.store.free(pageId(this.#metaPage));
    this.#retired = [];
    this.#releasable = [];
    this.#metaPage = 0;
    this.#root = new Leaf(0, true, [], [], LEAF_HDR);
    this.#count = 0;
    this.#height = 0;
    this.#version++;
  }

  // ---- invariants ---------------------------------------------------------------------------

  /**
   * Walk the whole tree (loading every page) and throw InternalError on a broken invariant.
   * Returns the number of pages the tree holds in the store (reachable + retired + meta).
   */
  checkInvariants(): { pages: number; leaves: number } {
    const fail = (msg: string): never => {
      throw new InternalError(`B+ tree invariant: ${msg}`);
    };
    const pages = new Set<number>();
    const addPage = (p: number, what: string): void => {
      if (p === 0) return;
      if (pages.has(p)) fail(`page ${p} used twice (${what})`);
      pages.add(p);
    };
    let count = 0;
    let leaves = 0;
    let prevLeafLast: string | undefined;
    const walk = (n: BNode, lo: string | undefined, hi: string | undefined, depth: number, isRoot: boolean): void => {
      if (n.dirty !== (n.page === 0)) fail(`dirty=${n.dirty} but page=${n.page}`);
      addPage(n.page, 'node');
      // invariant 7: a clean node's search table holds each key's first 8 bytes and its offset
      if (n.pfx !== null && n.img !== null) {
        const img = n.img;
        const pfx = n.pfx;
        for (let i = 0; i < pfx.length / 3; i++) {
          const o = pfx[3 * i + 2]!;
          const end = o + 2 + ((img[o]! << 8) | img[o + 1]!);
          if (pfx[3 * i] !== prefixWord(img, o + 2, end) || pfx[3 * i + 1] !== prefixWord(img, o + 6, end)) fail(`search table row ${i} does not match its key`);
        }
      }
      if (n.bytes > this.#pageSize) fail(`node of ${n.bytes} bytes > page size`);
      if (!isRoot && n.bytes < this.#minBytes) fail(`non-root node of ${n.bytes} bytes < ${this.#minBytes}`);
      for (let i = 0; i < n.keys.length; i++) {
        const k = n.keys[i]!;
        if (i > 0 && !(n.keys[i - 1]! < k)) fail('keys not strictly increasing in a node');
        if (lo !== undefined && k < lo) fail('key below its lower separator');
        if (hi !== undefined && k >= hi) fail('key not below its upper separator');
      }
      if (n.leaf) {
        if (depth !== this.#height) fail(`leaf at depth ${depth}, height ${this.#height}`);
        let b = LEAF_HDR;
        for (let i = 0; i < n.keys.length; i++) {
          const k = n.keys[i]!;
          b += leafEntry(k);
          if (!this.unique) {
            if (k.slice(-8) !== rowIdSuffix(n.vals[i]!)) fail('row id suffix does not match the value');
          }
        }
        if (b !== n.bytes) fail(`leaf bytes ${n.bytes} != ${b}`);
        if (!isRoot && n.keys.length === 0) fail('empty non-root leaf');
        if (n.keys.length > 0) {
          if (prevLeafLast !== undefined && !(prevLeafLast < n.keys[0]!)) fail('leaf chain out of order');
          prevLeafLast = n.keys[n.keys.length - 1]!;
        }
        count += n.keys.length;
        leaves++;
        return;
      }
      if (n.kids.length !== n.keys.length + 1 || n.kidPages.length !== n.kids.length) fail('inner node child count != separators + 1');
      if (n.keys.length === 0) fail('inner node without separators');
      let b = INNER_HDR;
      for (const k of n.keys) b += innerEntry(k);
      if (b !== n.bytes) fail(`inner bytes ${n.bytes} != ${b}`);
      for (let i = 0; i < n.kids.length; i++) {
        const kid = this.#kid(n, i);
        if (!n.dirty && kid.dirty) fail('clean node with a dirty child');
        if (!kid.dirty && kid.page !== n.kidPages[i]) fail('child page id mismatch');
        walk(kid, i === 0 ? lo : n.keys[i - 1], i === n.keys.length ? hi : n.keys[i], depth + 1, false);
      }
    };
    walk(this.#root, undefined, undefined, 0, true);
    for (const p of this.#retired) addPage(p, 'retired');
    for (const p of this.#releasable) addPage(p, 'releasable');
    addPage(this.#metaPage, 'meta');
    if (count !== this.#count) fail(`count ${this.#count} != ${count} entries`);
    return { pages: pages.size, leaves };
  }
}

/** Index m of the separator to push up so that keys[0..m) and keys(m..] balance by bytes. */
function balancedInnerSplit(keys: readonly string[]): number {
  let total = 0;
  for (const k of keys) total += innerEntry(k);
  let left = 0;
  let best = 1;
  let bestDiff = Infinity;
  for (let m = 0; m < keys.length - 1; m++) {
    const e = innerEntry(keys[m]!);
    if (m >= 1) {
      const d = Math.abs(left - (total - left - e));
      if (d < bestDiff) { bestDiff = d; best = m; }
    }
    left += e;
  }
  return best;
}

/**
 * Pack items 0..n-1 into consecutive groups [a, b) of at most `target` bytes (header included),
 * then fix an under-full last group by merging it with, or evening it against, the previous one.
 * `firstAdjust(i)` is subtracted when item i starts a group (inner nodes: its separator moves up
 * and only its child pointer stays).
 */
function packGroups(n: number, size: (i: number) => number, hdr: number, target: number, pageSize: number, minBytes: number, firstAdjust: (i: number) => number): [number, number][] {
  const groups: [number, number][] = [];
  const bytesOf = (a: number, b: number): number => {
    let s = hdr;
    for (let i = a; i < b; i++) s += size(i);
    return s - (a > 0 ? firstAdjust(a) : 0);
  };
  let a = 0;
  let cur = hdr;
  for (let i = 0; i < n; i++) {
    const s = size(i) - (i === a && a > 0 ? firstAdjust(i) : 0);
    if (i > a + 1 && cur + s > target) {
      groups.push([a, i]);
      a = i;
      cur = hdr + size(i) - (i > 0 ? firstAdjust(i) : 0);
    } else cur += s;
  }
  groups.push([a, n]);
  if (groups.length >= 2) {
    const [la, lb] = groups[groups.length - 1]!;
    if (bytesOf(la, lb) < minBytes || lb - la < 2) {
      const [pa] = groups[groups.length - 2]!;
      groups.length -= 2;
      if (bytesOf(pa, lb) <= pageSize) groups.push([pa, lb]);
      else {
        // split [pa, lb) where both sides balance
        let best = pa + 1;
        let bestDiff = Infinity;
        for (let m = pa + 2; m < lb - 1; m++) {
          const d = Math.abs(bytesOf(pa, m) - bytesOf(m, lb));
          if (d < bestDiff) { bestDiff = d; best = m; }
        }
        groups.push([pa, best], [best, lb]);
      }
    }
  }
  return groups;
}
