/**
 * FilePageStore: pages in one file reached through `BlockFile` (positional reads and writes plus
 * sync — no `node:fs` here; the engine adapts storage's Env file handle to it), with named roots
 * switched atomically through a double superblock.
 *
 * File format (DO NOT CHANGE: persisted):
 *   file       := superblock[slot 0] superblock[slot 1] page[2] page[3] ...   (page i at i * pageSize)
 *   superblock := magic:u32 'QPS1' | format:u16 = 1 | 0:u16 | pageSize:u32 | generation:f64
 *                 | pageCount:u32 | freeHead:u32 | nroots:u16 | (nameLen:u16 name:utf8 root:u32)^nroots
 *                 ... zero padding ... | crc32:u32 (last 4 bytes of the page, over everything before)
 *   freelist   := next:u32 | count:u32 | pageId:u32^count        (a chain from freeHead, 0 = end)
 * Superblock generation g lives in slot g % 2; open picks the valid slot with the highest generation,
 * so a torn superblock write falls back to the previous one.
 *
 * Commit protocol (`setRoot`): write the free list to fresh pages taken from the free list, sync;
 * write the next superblock, sync. Only then do the previous free-list pages become free.
 *
 * Invariants:
 *  1. Pages reachable from the durable superblock's roots, its free-list chain and its free list
 *     are pairwise disjoint (the trees free a page only after the root that dropped it is durable).
 *  2. After a crash the store reopens at the last durable superblock; pages freed or allocated
 *     since may leak (never double-used).
 */
import { DbError, InternalError, SqlState, pageId, type PageId } from '@quiverdb/common';
import { crc32 } from './crc32.js';
import { emptyPageStoreStats, type PageStore } from './page-store.js';

/** Positional file access, synchronous (a buffer-pool-backed adapter can satisfy it). */
export interface BlockFile {
  size(): number;
  /** `len` bytes at `pos`; bytes past the end read as zeros. */
  read(pos: number, len: number): Uint8Array;
  write(pos: number, data: Uint8Array): void;
  /** Make every write so far durable. */
  sync(): void;
}

/** Writes between two syncs, in order: apply a group, fsync, then the next group. */
export interface WriteGroup {
  writes: { pos: number; data: Uint8Array }[];
}

/**
 * An in-memory BlockFile that models durability: `crashImage()` returns what a crash right now
 * would leave (only synced writes).
 *
 * It is also the bridge to an asynchronous file (storage's `EnvFile`): load the file's bytes into
 * `new MemBlockFile(bytes)`, run the trees synchronously, then `drainWrites()` and replay each
 * group with `await file.write(pos, data)` followed by `await file.sync()`, in order — the
 * superblock of a commit is always in a later group than the pages it points at.
 */
export class MemBlockFile implements BlockFile {
  #cur: Uint8Array;
  #curLen: number;
  #durable: Uint8Array;
  #groups: WriteGroup[] = [];
  #open: WriteGroup = { writes: [] };
  syncs = 0;

  /** Completed write groups since the last drain (each ended by a sync). */
  drainWrites(): WriteGroup[] {
    const g = this.#groups;
    this.#groups = [];
    return g;
  }

  constructor(image?: Uint8Array) {
    this.#cur = image === undefined ? new Uint8Array(1 << 16) : image.slice();
    this.#curLen = image?.length ?? 0;
    this.#durable = this.#cur.slice(0, this.#curLen);
  }

  size(): number {
    return this.#curLen;
  }

  read(pos: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    if (pos < this.#curLen) out.set(this.#cur.subarray(pos, Math.min(this.#curLen, pos + len)));
    return out;
  }

  write(pos: number, data: Uint8Array): void {
    const end = pos + data.length;
    if (end > this.#cur.length) {
      let cap = this.#cur.length * 2;
      while (cap < end) cap *= 2;
      const n = new Uint8Array(cap);
      n.set(this.#cur.subarray(0, this.#curLen));
      this.#cur = n;
    }
    this.#cur.set(data, pos);
    if (end > this.#curLen) this.#curLen = end;
    this.#open.writes.push({ pos, data: data.slice() });
  }

  sync(): void {
    this.syncs++;
    if (this.#open.writes.length > 0) {
      this.#groups.push(this.#open);
      this.#open = { writes: [] };
    }
    this.#durable = this.#cur.slice(0, this.#curLen);
  }

  /** The bytes a crash now would leave on disk. */
  crashImage(): Uint8Array {
    return this.#durable.slice();
  }
}

const SB_MAGIC = 0x51505331; // 'QPS1'
const SB_FORMAT = 1;
const FIRST_PAGE = 2;

export class FilePageStore implements PageStore {
  readonly pageSize: number;
  readonly stats = emptyPageStoreStats();
  readonly #file: BlockFile;
  #generation = 0;
  #pageCount = FIRST_PAGE;
  #free: number[] = [];
  #chain: number[] = [];
  #roots = new Map<string, PageId>();

  private constructor(file: BlockFile, pageSize: number) {
    this.#file = file;
    this.pageSize = pageSize;
  }

  /** Open the store in `file`, creating it (with `pageSize`) when the file is empty. */
  static open(file: BlockFile, pageSize = 4096): FilePageStore {
    if (file.size() === 0) {
      const s = new FilePageStore(file, pageSize);
      s.#commit(); // generation 1 → slot 1
      s.#commit(); // generation 2 → slot 0: the page size is then readable at offset 8
      return s;
    }
    let best: { gen: number; buf: Uint8Array; pageSize: number } | undefined;
    // the page size is in every superblock; try the caller's and the one slot 0 claims
    const claimed = new DataView(file.read(0, 16).buffer).getUint32(8);
    const sizes = [pageSize];
    if (claimed !== pageSize && claimed >= 512 && claimed <= 65536 && (claimed & (claimed - 1)) === 0) sizes.push(claimed);
    for (const ps of sizes) for (const slot of [0, 1]) {
      const buf = file.read(slot * ps, ps);
      const v = new DataView(buf.buffer);
      if (v.getUint32(0) !== SB_MAGIC || v.getUint32(ps - 4) !== crc32(buf, 0, ps - 4)) continue;
      const gen = v.getFloat64(12);
      if (best === undefined || gen > best.gen) best = { gen, buf, pageSize: ps };
    }
    if (best === undefined) throw new DbError(SqlState.DataCorrupted, 'page file has no valid superblock');
    const s = new FilePageStore(file, best.pageSize);
    const v = new DataView(best.buf.buffer);
    if (v.getUint16(4) !== SB_FORMAT) throw new DbError(SqlState.DataCorrupted, `page file format ${v.getUint16(4)} is not supported`);
    s.#generation = best.gen;
    s.#pageCount = v.getUint32(20);
    let head = v.getUint32(24);
    const nroots = v.getUint16(28);
    let p = 30;
    const dec = new TextDecoder();
    for (let i = 0; i < nroots; i++) {
      const len = v.getUint16(p);
      const name = dec.decode(best.buf.subarray(p + 2, p + 2 + len));
      s.#roots.set(name, pageId(v.getUint32(p + 2 + len)));
      p += 6 + len;
    }
    while (head !== 0) {
      s.#chain.push(head);
      const b = file.read(head * s.pageSize, s.pageSize);
      const fv = new DataView(b.buffer);
      const count = fv.getUint32(4);
      for (let i = 0; i < count; i++) s.#free.push(fv.getUint32(8 + 4 * i));
      head = fv.getUint32(0);
    }
    return s;
  }

  allocate(): PageId {
    this.stats.allocated++;
    return pageId(this.#free.pop() ?? this.#pageCount++);
  }

  read(id: PageId): Uint8Array {
    if (id < FIRST_PAGE || id >= this.#pageCount) throw new InternalError(`read of page ${id} outside the file`);
    this.stats.reads++;
    return this.#file.read(id * this.pageSize, this.pageSize);
  }

  write(id: PageId, data: Uint8Array): void {
    if (id < FIRST_PAGE || id >= this.#pageCount) throw new InternalError(`write of page ${id} outside the file`);
    if (data.length > this.pageSize) throw new InternalError(`page ${id}: ${data.length} bytes > page size ${this.pageSize}`);
    this.stats.writes++;
    this.#file.write(id * this.pageSize, data);
  }

  free(id: PageId): void {
    if (id < FIRST_PAGE || id >= this.#pageCount) throw new InternalError(`free of page ${id} outside the file`);
    this.stats.freed++;
    this.#free.push(id);
  }

  setRoot(name: string, id: PageId): void {
    this.stats.rootWrites++;
    this.#roots.set(name, id);
    this.#commit();
  }

  getRoot(name: string): PageId | undefined {
    return this.#roots.get(name);
  }

  pagesInUse(): number {
    return this.#pageCount - FIRST_PAGE - this.#free.length - this.#chain.length;
  }

  /** Write the free list and the next superblock (see "Commit protocol"). */
  #commit(): void {
    const perPage = Math.floor((this.pageSize - 8) / 4);
    const chain: number[] = [];
    while (chain.length * perPage < this.#free.length) {
      const p = this.#free.pop();
      if (p === undefined) break;
      chain.push(p);
    }
    for (let c = 0; c < chain.length; c++) {
      const ids = this.#free.slice(c * perPage, (c + 1) * perPage);
      const b = new Uint8Array(8 + 4 * ids.length);
      const v = new DataView(b.buffer);
      v.setUint32(0, c + 1 < chain.length ? chain[c + 1]! : 0);
      v.setUint32(4, ids.length);
      for (let i = 0; i < ids.length; i++) v.setUint32(8 + 4 * i, ids[i]!);
      this.#file.write(chain[c]! * this.pageSize, b);
    }
    const sb = new Uint8Array(this.pageSize);
    const v = new DataView(sb.buffer);
    const gen = this.#generation + 1;
    v.setUint32(0, SB_MAGIC);
    v.setUint16(4, SB_FORMAT);
    v.setUint32(8, this.pageSize);
    v.setFloat64(12, gen);
    v.setUint32(20, this.#pageCount);
    v.setUint32(24, chain[0] ?? 0);
    v.setUint16(28, this.#roots.size);
    let p = 30;
    const enc = new TextEncoder();
    for (const [name, root] of this.#roots) {
      const nb = enc.encode(name);
      if (p + 6 + nb.length > this.pageSize - 4) throw new DbError(SqlState.ProgramLimitExceeded, 'too many named roots for one superblock');
      v.setUint16(p, nb.length);
      sb.set(nb, p + 2);
      v.setUint32(p + 2 + nb.length, root);
      p += 6 + nb.length;
    }
    v.setUint32(this.pageSize - 4, crc32(sb, 0, this.pageSize - 4));
    this.#file.sync(); // everything written before the root switch is durable first
    this.#file.write((gen % 2) * this.pageSize, sb);
    this.#file.sync();
    this.#generation = gen;
    this.#free.push(...this.#chain);
    this.#chain = chain;
  }
}
