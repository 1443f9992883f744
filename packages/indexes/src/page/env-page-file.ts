/**
 * EnvPageFile: the pages of one persisted index in one file reached through storage's `Env` (so
 * MemEnv and FaultEnv work), with no root record of its own: the engine's checkpoint manifest is
 * the root record. Each checkpoint produces a `PageFileState` that the manifest stores; reopening
 * from a state gives exactly the tree that state names, whatever was written to the file since.
 *
 * File format (DO NOT CHANGE: persisted):
 *   file      := header[page 0] page[1] page[2] ...            (page i at i * pageSize)
 *   header    := magic:u32 'QIF1' | format:u16 = 1 | 0:u16 | pageSize:u32 | crc32:u32 (of bytes 0..11)
 *   dirpage   := next:u32 (0 = end) | len:u32 | crc32:u32 (of the payload) | payload:u8[len]
 *   directory := the payloads of the chain from `state.dirHead`, concatenated:
 *                nfree:u32 | free:u32^nfree | crc:u32^state.pages   (crc of page i; 0 for page 0)
 * A page listed free, and the directory pages themselves, are not checked against their crc.
 *
 * Checkpoint protocol (copy-on-write; the tree never overwrites a page the durable state reaches):
 *  1. at the cut (synchronous): the tree's `prepareCheckpoint()` writes its dirty nodes to fresh
 *     pages and a meta page, its `commitCheckpoint()` hands the replaced pages to `free()` —
 *     which only marks them pending; then `prepare(meta)` writes the directory to fresh pages and
 *     returns the new state. Pages written only live in memory until 2.
 *  2. `flush()`: write the dirty pages (header first on a new file), fsync.
 *  3. the caller records the state durably (manifest switch), then calls `committed()`: the
 *     pending pages and the previous directory become allocatable.
 * A crash, or a failed flush or manifest write, before 3 leaves the previous state intact: its
 * pages are neither free-and-reused nor overwritten (invariant 1). A later `prepare` supersedes an
 * uncommitted one (its directory pages return to the allocatable list, its pending frees stay
 * pending until some state is committed).
 *
 * Memory: a page image stays resident until the tree reads it (the trees keep decoded nodes, see
 * btree.ts "Persistence"), and a written page until it is flushed; `residentBytes` says how much.
 * A written page is kept as the array the tree passed (its node image, which it never changes:
 * page-store.ts contract 3), not a zero-padded copy: a checkpoint of a large index made thousands
 * of 4 KiB copies, whose allocation (and the garbage collections it triggered) was the hottest
 * line of `write` (README). The checksum covers the padded page; `flush` pads while it joins a run.
 * Reading a page a second time after release is a programming error (InternalError): the engine
 * never unloads clean nodes of a file-backed tree.
 *
 * Invariants:
 *  1. `allocatable` holds only pages free in the last committed state; pages freed since the last
 *     committed state (`pendingFree`) and the committed directory are never allocatable.
 *  2. Page ids are >= 1 (0 is the header and "none" for the trees).
 *
 * Concurrency: everything but `open`/`flush`/`close` is synchronous. `flush` must not overlap with
 * another `prepare` of the same file (the engine's checkpoints are serialized).
 */
import { DbError, InternalError, SqlState, pageId, type PageId } from '@quiverdb/common';
import type { Env, EnvFile } from '@quiverdb/storage';
import { crc32, crc32Padded } from './crc32.js';
import { emptyPageStoreStats, type PageStore } from './page-store.js';

/** What a checkpoint records (in the manifest) to reopen the file at that checkpoint. JSON-safe. */
export interface PageFileState {
  /** path of the file (as given to `Env`) */
  readonly file: string;
  readonly pageSize: number;
  /** pages in the file at that checkpoint (header included) */
  readonly pages: number;
  /** first directory page */
  readonly dirHead: number;
  /** the tree's meta page (the argument of BTree.open / FractalIndex.open) */
  readonly meta: number;
}

const MAGIC = 0x51494631; // 'QIF1'
const FORMAT = 1;
const DIR_HDR = 12;
/** Pages per write of `flush` at most. */
const FLUSH_RUN_PAGES = 256;

export class EnvPageFile implements PageStore {
  readonly pageSize: number;
  readonly path: string;
  readonly stats = emptyPageStoreStats();
  readonly #env: Env;
  #file: EnvFile | undefined;
  /** the header is on disk (false for a new file until its first flush) */
  #headerWritten: boolean;
  #pageCount = 1;
  /** resident page images: not yet read by the tree, or written and not yet flushed */
  readonly #resident = new Map<number, Uint8Array>();
  readonly #dirty = new Set<number>();
  /** crc32 of each page's last image (index = page id) */
  readonly #crc: number[] = [0];
  #allocatable: number[] = [];
  #pendingFree: number[] = [];
  /** directory pages of the committed state */
  #chain: number[] = [];
  /** the last prepared, not yet committed state: its directory and the frees it makes allocatable */
  #prepared: { chain: number[]; freed: number[]; state: PageFileState } | undefined;
  #committed: PageFileState | undefined;
  #roots = new Map<string, PageId>();
  #residentBytes = 0;
  /** fsync in `flush` (false for stores opened non-durable: tests, scratch databases) */
  readonly #durable: boolean;

  private constructor(env: Env, path: string, pageSize: number, headerWritten: boolean, durable: boolean) {
    this.#env = env;
    this.path = path;
    this.pageSize = pageSize;
    this.#headerWritten = headerWritten;
    this.#durable = durable;
  }

  /** A new, empty file at `path` (created on disk by the first `flush`; an old file there is replaced). */
  static create(env: Env, path: string, pageSize = 4096, opts: { durable?: boolean } = {}): EnvPageFile {
    if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) throw new InternalError(`bad page size ${pageSize}`);
    return new EnvPageFile(env, path, pageSize, false, opts.durable ?? true);
  }

  /**
   * Reopen the file at `state` (a state returned by `prepare` and recorded durably). Throws
   * DbError 'XX002' (index corrupted) when the file is missing, short, or any page the state
   * reaches fails its checksum.
   */
  static async open(env: Env, state: PageFileState, opts: { durable?: boolean } = {}): Promise<EnvPageFile> {
    const corrupt = (why: string): never => { throw new DbError(SqlState.IndexCorrupted, `index file ${state.file}: ${why}`); };
    const ps = state.pageSize;
    if (!Number.isInteger(ps) || ps < 512 || (ps & (ps - 1)) !== 0 || !(state.pages >= 1) || !(state.dirHead >= 1) || state.dirHead >= state.pages) corrupt('bad recorded state');
    if (!(await env.exists(state.file))) corrupt('missing');
    const f = await env.open(state.file);
    try {
      const len = state.pages * ps;
      if ((await f.size()) < len) corrupt('shorter than its recorded page count');
      const bytes = await f.read(0, len);
      if (bytes.length < len) corrupt('short read');
      const hv = new DataView(bytes.buffer, bytes.byteOffset, 16);
      if (hv.getUint32(0) !== MAGIC || hv.getUint32(12) !== crc32(bytes, 0, 12) || hv.getUint32(8) !== ps) corrupt('bad header');
      if (hv.getUint16(4) !== FORMAT) corrupt(`format ${hv.getUint16(4)} is not supported`);
      const s = new EnvPageFile(env, state.file, ps, true, opts.durable ?? true);
      s.#file = f;
      s.#pageCount = state.pages;
      // directory chain
      const chain: number[] = [];
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let p = state.dirHead; p !== 0;) {
        if (p >= state.pages || chain.includes(p) || chain.length > state.pages) corrupt('bad directory chain');
        chain.push(p);
        const pg = bytes.subarray(p * ps, (p + 1) * ps);
        const v = new DataView(pg.buffer, pg.byteOffset, ps);
        const n = v.getUint32(4);
        if (n > ps - DIR_HDR || crc32(pg, DIR_HDR, DIR_HDR + n) !== v.getUint32(8)) corrupt(`directory page ${p} fails its checksum`);
        parts.push(pg.subarray(DIR_HDR, DIR_HDR + n));
        total += n;
        p = v.getUint32(0);
      }
      const dir = new Uint8Array(total);
      let o = 0;
      for (const x of parts) { dir.set(x, o); o += x.length; }
      const dv = new DataView(dir.buffer);
      const nfree = total >= 4 ? dv.getUint32(0) : -1;
      if (nfree < 0 || total !== 4 + 4 * nfree + 4 * state.pages) corrupt('directory size does not match the recorded page count');
      const skip = new Set<number>(chain);
      for (let i = 0; i < nfree; i++) {
        const p = dv.getUint32(4 + 4 * i);
        if (p === 0 || p >= state.pages || skip.has(p)) corrupt('bad free list');
        skip.add(p);
        s.#allocatable.push(p);
      }
      const crcAt = 4 + 4 * nfree;
      s.#crc.length = state.pages;
      for (let p = 1; p < state.pages; p++) {
        const c = dv.getUint32(crcAt + 4 * p);
        s.#crc[p] = c;
        if (skip.has(p)) continue;
        if (crc32(bytes, p * ps, (p + 1) * ps) !== c) corrupt(`page ${p} fails its checksum`);
        s.#resident.set(p, bytes.slice(p * ps, (p + 1) * ps));
        s.#residentBytes += ps;
      }
      s.#chain = chain;
      s.#committed = state;
      s.stats.reads = 0;
      return s;
    } catch (e) {
      await f.close().catch(() => undefined);
      throw e;
    }
  }

  /** The state of the last `committed()` (or of `open`). */
  get committedState(): PageFileState | undefined {
    return this.#committed;
  }

  /** Bytes of page images held in memory (not yet read by the tree, or not yet flushed). */
  get residentBytes(): number {
    return this.#residentBytes;
  }

  /** Pages written since the last flush. */
  get dirtyPages(): number {
    return this.#dirty.size;
  }

  allocate(): PageId {
    this.stats.allocated++;
    return pageId(this.#allocatable.pop() ?? this.#pageCount++);
  }

  read(id: PageId): Uint8Array {
    const img = this.#resident.get(id);
    if (img === undefined) throw new InternalError(`index file ${this.path}: page ${id} is not resident (read twice, or never written)`);
    this.stats.reads++;
    if (!this.#dirty.has(id)) this.#release(id);
    if (img.length === this.pageSize) return img;
    // a written page kept as the tree's (shorter) node image: contract 2 says pageSize bytes
    const page = new Uint8Array(this.pageSize);
    page.set(img);
    return page;
  }

  write(id: PageId, data: Uint8Array): void {
    if (id < 1 || id >= this.#pageCount) throw new InternalError(`write of page ${id} outside the file`);
    if (data.length > this.pageSize) throw new InternalError(`page ${id}: ${data.length} bytes > page size ${this.pageSize}`);
    this.stats.writes++;
    if (!this.#resident.has(id)) this.#residentBytes += this.pageSize;
    this.#resident.set(id, data);
    this.#dirty.add(id);
    this.#crc[id] = crc32Padded(data, this.pageSize);
  }

  /** Pending until the next committed state (invariant 1). */
  free(id: PageId): void {
    if (id < 1 || id >= this.#pageCount) throw new InternalError(`free of page ${id} outside the file`);
    this.stats.freed++;
    this.#pendingFree.push(id);
    // an image not read yet will never be: drop it
    if (!this.#dirty.has(id)) this.#release(id);
  }

  /** In memory only: the durable root record of this file is the engine's manifest. */
  setRoot(name: string, id: PageId): void {
    this.stats.rootWrites++;
    this.#roots.set(name, id);
  }

  getRoot(name: string): PageId | undefined {
    return this.#roots.get(name);
  }

  pagesInUse(): number {
    return this.#pageCount - 1 - this.#allocatable.length - this.#pendingFree.length - this.#chain.length - (this.#prepared?.chain.length ?? 0);
  }

  /**
   * At the cut, after the tree wrote its nodes and meta page `meta` (and freed what it replaced):
   * write the directory of the new state to fresh pages; returns that state (protocol step 1).
   */
  prepare(meta: PageId): PageFileState {
    if (this.#prepared !== undefined) {
      // an earlier prepare never committed: its directory pages are free in the committed state
      this.#allocatable.push(...this.#prepared.chain);
      this.#prepared = undefined;
    }
    const freed = [...this.#pendingFree];
    const chain: number[] = [];
    const payload = this.pageSize - DIR_HDR;
    let dir: Uint8Array;
    for (;;) {
      // free in the new state: allocatable + pending + the committed directory, minus the new directory
      const free = [...this.#allocatable, ...freed, ...this.#chain];
      dir = new Uint8Array(4 + 4 * free.length + 4 * this.#pageCount);
      const v = new DataView(dir.buffer);
      v.setUint32(0, free.length);
      for (let i = 0; i < free.length; i++) v.setUint32(4 + 4 * i, free[i]!);
      const crcAt = 4 + 4 * free.length;
      for (let p = 1; p < this.#pageCount; p++) v.setUint32(crcAt + 4 * p, this.#crc[p] ?? 0);
      const need = Math.max(1, Math.ceil(dir.length / payload));
      if (chain.length >= need) break;
      // take from the end of the allocatable list (never a page the committed state reaches)
      while (chain.length < need) chain.push(this.#allocatable.pop() ?? this.#pageCount++);
    }
    for (let c = 0; c < chain.length; c++) {
      const part = dir.subarray(c * payload, Math.min(dir.length, (c + 1) * payload));
      const pg = new Uint8Array(this.pageSize);
      const v = new DataView(pg.buffer);
      v.setUint32(0, c + 1 < chain.length ? chain[c + 1]! : 0);
      v.setUint32(4, part.length);
      pg.set(part, DIR_HDR);
      v.setUint32(8, crc32(pg, DIR_HDR, DIR_HDR + part.length));
      this.write(pageId(chain[c]!), pg);
      this.#crc[chain[c]!] = 0;
    }
    const state: PageFileState = { file: this.path, pageSize: this.pageSize, pages: this.#pageCount, dirHead: chain[0]!, meta };
    this.#prepared = { chain, freed, state };
    return state;
  }

  /** Write the dirty pages (the header first on a new file) and fsync (protocol step 2). */
  async flush(): Promise<void> {
    const created = this.#file === undefined && !this.#headerWritten;
    if (this.#file === undefined) {
      this.#file = await this.#env.open(this.path, { create: true, truncate: !this.#headerWritten });
    }
    const f = this.#file;
    if (!this.#headerWritten) {
      const h = new Uint8Array(this.pageSize);
      const v = new DataView(h.buffer);
      v.setUint32(0, MAGIC);
      v.setUint16(4, FORMAT);
      v.setUint32(8, this.pageSize);
      v.setUint32(12, crc32(h, 0, 12));
      await f.write(0, h);
    }
    const ids = [...this.#dirty].sort((a, b) => a - b);
    const ps = this.pageSize;
    // contiguous runs of pages in one write each (the zeroed buffer pads short page images)
    for (let i = 0; i < ids.length;) {
      let j = i + 1;
      while (j < ids.length && ids[j] === ids[j - 1]! + 1 && j - i < FLUSH_RUN_PAGES) j++;
      const buf = new Uint8Array((j - i) * ps);
      for (let k = i; k < j; k++) buf.set(this.#resident.get(ids[k]!)!, (k - i) * ps);
      await f.write(ids[i]! * ps, buf);
      i = j;
    }
    if (this.#durable) await f.sync();
    // a new file's directory entry must be durable before a state naming it is recorded
    if (created && this.#durable) await this.#env.syncDir(this.path.slice(0, Math.max(1, this.path.lastIndexOf('/'))));
    this.#headerWritten = true;
    // the flushed images are on disk; the tree holds their decoded nodes
    for (const id of ids) {
      this.#dirty.delete(id);
      this.#release(id);
    }
  }

  /** The prepared state is recorded durably (protocol step 3). */
  committed(): void {
    const p = this.#prepared;
    if (p === undefined) return;
    this.#allocatable.push(...p.freed, ...this.#chain);
    const freed = new Set(p.freed);
    this.#pendingFree = this.#pendingFree.filter((x) => !freed.has(x));
    this.#chain = p.chain;
    this.#committed = p.state;
    this.#prepared = undefined;
  }

  async close(): Promise<void> {
    const f = this.#file;
    this.#file = undefined;
    if (f !== undefined) await f.close();
  }

  #release(id: number): void {
    if (this.#resident.delete(id)) this.#residentBytes -= this.pageSize;
  }
}
