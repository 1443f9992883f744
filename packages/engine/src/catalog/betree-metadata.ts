/**
 * `BetreeMetadata`: the durable form of the store's committed metadata (catalog entries, tables,
 * segments with their zone maps, statistics) — a `MetaStore` (Bε-tree) on its own copy-on-write
 * page file, injected into storage as its `MetadataBackend` (storage never imports indexes).
 *
 *   file     `<dir>/catalog.qmt`, an EnvPageFile (one file for the life of the database: pages
 *            are reused copy-on-write, never overwritten while a durable state reaches them)
 *   record   what the manifest keeps: `{ v: 1, ...PageFileState }` (file name relative to the
 *            database directory, page size, page count, directory head, the tree's meta page) —
 *            the root, never the entries
 *   entries  the store's flat keys (storage segment/manifest.ts `flattenManifest`) as MetaStore
 *            names; a key longer than LONG_KEY bytes is stored under `#<sha256 of the key>` with
 *            the value `<key length>:<key><value>` (MetaStore names must fit one tree entry)
 *
 * Runtime reads do not come here: the store keeps its in-memory maps (`metaEntries()`, tables,
 * segments), which the hot paths read; this tree is only what a checkpoint makes durable and what
 * open reads back. A checkpoint writes only the keys that changed since the previous one, so its
 * cost is a handful of pages (the tree's dirty nodes, its meta page, the file's directory), not the
 * size of the catalog.
 *
 * Checkpoint (storage api.ts MetadataBackend protocol):
 *  1. `write(changes)`: puts / deletes applied to the tree synchronously; then the tree writes its
 *     dirty nodes and a meta page to fresh pages, the file writes its directory (`prepare`) and
 *     `flush`es + fsyncs → the record.
 *  2. the store writes the manifest naming the record and switches CURRENT.
 *  3. `committed()`: the pages replaced by 1 become reusable (never before: a crash anywhere up to
 *     the switch reopens the previous record's tree intact).
 * A failed step 1 or 2 leaves the tree's new content in memory; the next `write` supersedes it.
 *
 * Recovery: open = `load(manifest record)` (every entry) + the store's WAL replay of 'meta' ops,
 * as with the inline manifest. A manifest without a record (older databases, whose entries are
 * inline) loads as before, and its first checkpoint writes every entry into a new file.
 *
 * Invariants:
 *  1. The tree holds exactly the entries of every `write` applied so far (failed ones included);
 *     the state of the last `committed()` (or of `load`) is intact on disk.
 *  2. After `load(r)`, the entries equal those `write` held when `r` was returned.
 *
 * Concurrency: single JS thread; the store serializes `write` / `committed` (maintenance lock).
 */
import { createHash } from 'node:crypto';
import { DataCorrupted, pageId } from '@quiverdb/common';
import { EnvPageFile, MetaStore, type PageFileState } from '@quiverdb/indexes';
import type { Env, StoreOptions } from '@quiverdb/storage';

type MetadataBackend = NonNullable<StoreOptions['metadata']>;

const FILE = 'catalog.qmt';
/** Keys longer than this (UTF-8 bytes) are stored under their hash. */
const LONG_KEY = 200;
const enc = new TextEncoder();
const dec = new TextDecoder();

interface MetaRecord extends PageFileState {
  readonly v: 1;
}

export interface BetreeMetadataFigures {
  /** pages written by `write`s (flushed), since open */
  pagesWritten: number;
  /** pages the last `write` flushed */
  lastWritePages: number;
  /** keys the last `write` changed */
  lastWriteKeys: number;
  writes: number;
}

export class BetreeMetadata implements MetadataBackend {
  readonly #env: Env;
  readonly #dir: string;
  readonly #path: string;
  readonly #durable: boolean;
  readonly #pageSize: number;
  #file: EnvPageFile | undefined;
  #tree: MetaStore | undefined;
  readonly figures: BetreeMetadataFigures = { pagesWritten: 0, lastWritePages: 0, lastWriteKeys: 0, writes: 0 };

  constructor(env: Env, dir: string, opts: { durable?: boolean; pageSize?: number } = {}) {
    this.#env = env;
    this.#dir = dir;
    this.#path = `${dir}/${FILE}`;
    this.#durable = opts.durable ?? true;
    this.#pageSize = opts.pageSize ?? 4096;
  }

  /** The tree (tests: `checkInvariants`, stats). */
  get tree(): MetaStore | undefined {
    return this.#tree;
  }

  get file(): EnvPageFile | undefined {
    return this.#file;
  }

  async load(record: unknown): Promise<Map<string, string>> {
    const r = record as Partial<MetaRecord> | null;
    if (typeof r !== 'object' || r === null || r.v !== 1 || typeof r.file !== 'string' || typeof r.meta !== 'number') {
      throw new DataCorrupted(`metadata store: bad manifest record ${JSON.stringify(record)}`);
    }
    // the record names the file relative to the database directory (the directory may move)
    const { v: _v, ...rest } = r as MetaRecord;
    if (rest.file.includes('/')) throw new DataCorrupted(`metadata store: bad file name ${JSON.stringify(rest.file)}`);
    const state: PageFileState = { ...rest, file: `${this.#dir}/${rest.file}` };
    await this.close();
    const file = await EnvPageFile.open(this.#env, state, { durable: this.#durable });
    this.#file = file;
    this.#tree = MetaStore.open(file, pageId(state.meta));
    const out = new Map<string, string>();
    for (const [name, bytes] of this.#tree.scan()) {
      const text = dec.decode(bytes);
      if (name.startsWith('#')) {
        const colon = text.indexOf(':');
        const n = Number(text.slice(0, colon));
        if (colon < 1 || !Number.isInteger(n)) throw new DataCorrupted(`metadata store: bad long-key entry ${name}`);
        out.set(text.slice(colon + 1, colon + 1 + n), text.slice(colon + 1 + n));
      } else out.set(name, text);
    }
    return out;
  }

  async write(changes: ReadonlyMap<string, string | undefined>): Promise<unknown> {
    // 1. apply (synchronously: the store's view of what this tree holds changes with this call)
    if (this.#tree === undefined) {
      this.#file = EnvPageFile.create(this.#env, this.#path, this.#pageSize, { durable: this.#durable });
      this.#tree = MetaStore.create(this.#file);
    }
    const tree = this.#tree;
    const file = this.#file!;
    for (const [k, v] of changes) {
      const long = enc.encode(k).length > LONG_KEY;
      const name = long ? `#${createHash('sha256').update(k).digest('hex')}` : k;
      if (v === undefined) tree.delete(name);
      else tree.put(name, long ? `${k.length}:${k}${v}` : v);
    }
    // 2. copy-on-write: dirty nodes + meta page + the file's directory, all to fresh pages
    const meta = tree.prepareCheckpoint();
    const last = file.committedState;
    let state: PageFileState;
    if (last !== undefined && last.meta === meta && file.dirtyPages === 0) state = last;
    else {
      tree.commitCheckpoint(); // the replaced pages: pending in the file until `committed()`
      state = file.prepare(meta);
    }
    // 3. durable (the header and the directory entry too, for a new file)
    const pages = file.dirtyPages;
    if (pages > 0) await file.flush();
    this.figures.writes++;
    this.figures.lastWritePages = pages;
    this.figures.lastWriteKeys = changes.size;
    this.figures.pagesWritten += pages;
    const rec: MetaRecord = { v: 1, ...state, file: FILE };
    return rec;
  }

  committed(): void {
    this.#file?.committed();
  }

  async close(): Promise<void> {
    const f = this.#file;
    this.#file = undefined;
    this.#tree = undefined;
    if (f !== undefined) await f.close();
  }
}
