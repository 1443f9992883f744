/**
 * MetaStore: the catalog's key-value store on a Bε-tree — string keys, values of any size
 * (bytes or strings), ordered prefix scans.
 *
 * Layout on the Bε-tree (DO NOT CHANGE: persisted):
 *   key   := encodeKey([utf8, int32], [name, chunk])       chunk = 0, 1, ..., n - 1
 *   value := chunk 0: n:u16 data[0]  |  chunk i > 0: data[i]
 * A value is cut into chunks that fit one Bε-tree entry, so catalog records larger than an index
 * entry (wide table schemas, statistics) need no overflow pages.
 *
 * Invariants:
 *  1. A present name has chunks 0..n-1 exactly, n from chunk 0; concatenated data = the value.
 *  2. Key order = code point order of names ("C" collation), so `scan(prefix)` returns a
 *     contiguous, sorted run.
 *
 * Cost: `put` reads chunk 0 of the old value (to delete surplus chunks), then writes messages only.
 */
import { DbError, SqlState, type PageId } from '@quiverdb/common';
import type { PageStore } from '../page/page-store.js';
import { BeTree, type BeTreeStats } from './betree.js';
import { decodeKey, encodeKey, type KeyColumn } from '../key/key-encoding.js';
import { fromBinary } from '../key/binary-string.js';

const SPEC: KeyColumn[] = [{ type: 'utf8' }, { type: 'int32' }];
const NAME_SPEC: KeyColumn[] = [{ type: 'utf8' }];
const enc = new TextEncoder();
const dec = new TextDecoder();

export class MetaStore {
  readonly tree: BeTree;

  private constructor(tree: BeTree) {
    this.tree = tree;
  }

  static create(store: PageStore, opts: { name?: string; maxFanout?: number } = {}): MetaStore {
    return new MetaStore(BeTree.create(store, opts));
  }

  static open(store: PageStore, metaPage: PageId, opts: { name?: string } = {}): MetaStore {
    return new MetaStore(BeTree.open(store, metaPage, opts));
  }

  get stats(): BeTreeStats {
    return this.tree.stats;
  }

  #chunkBytes(key: Uint8Array): number {
    const n = this.tree.maxEntryBytes - key.length - 2;
    if (n < 16) throw new DbError(SqlState.ProgramLimitExceeded, `catalog key of ${key.length} bytes is too long`);
    return n;
  }

  get(name: string): Uint8Array | undefined {
    const k0 = encodeKey(SPEC, [name, 0]);
    const first = this.tree.get(k0);
    if (first === undefined) return undefined;
    const n = (first[0]! << 8) | first[1]!;
    if (n === 1) return first.slice(2);
    const parts: Uint8Array[] = [first.subarray(2)];
    for (let c = 1; c < n; c++) parts.push(this.tree.get(encodeKey(SPEC, [name, c]))!);
    return concat(parts);
  }

  getString(name: string): string | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : dec.decode(v);
  }

  put(name: string, value: Uint8Array | string): void {
    const bytes = typeof value === 'string' ? enc.encode(value) : value;
    const k0 = encodeKey(SPEC, [name, 0]);
    const size = this.#chunkBytes(encodeKey(SPEC, [name, 65535]));
    const n = Math.max(1, Math.ceil(bytes.length / size));
    const old = this.tree.get(k0);
    const oldN = old === undefined ? 0 : (old[0]! << 8) | old[1]!;
    for (let c = 0; c < n; c++) {
      const data = bytes.subarray(c * size, (c + 1) * size);
      if (c === 0) {
        const v = new Uint8Array(2 + data.length);
        v[0] = n >> 8;
        v[1] = n & 0xff;
        v.set(data, 2);
        this.tree.put(k0, v);
      } else this.tree.put(encodeKey(SPEC, [name, c]), data);
    }
    for (let c = n; c < oldN; c++) this.tree.delete(encodeKey(SPEC, [name, c]));
  }

  delete(name: string): boolean {
    const k0 = encodeKey(SPEC, [name, 0]);
    const old = this.tree.get(k0);
    if (old === undefined) return false;
    const n = (old[0]! << 8) | old[1]!;
    for (let c = 0; c < n; c++) this.tree.delete(encodeKey(SPEC, [name, c]));
    return true;
  }

  /** Entries whose name starts with `prefix`, in name order. */
  *scan(prefix = ''): Generator<[string, Uint8Array]> {
    const p = encodeKey(NAME_SPEC, [prefix]);
    const pb = p.subarray(0, p.length - 2); // without the terminator: a byte prefix of every longer name
    let name: string | undefined;
    let parts: Uint8Array[] = [];
    let want = 0;
    for (const [k, v] of this.tree.scanBinary(pb.length > 1 ? { gte: pb, lte: pb } : {})) {
      const [nm, c] = decodeKey(SPEC, fromBinary(k)) as [string, number];
      const val = fromBinary(v);
      if (c === 0) {
        name = nm;
        want = (val[0]! << 8) | val[1]!;
        parts = [val.subarray(2)];
      } else parts.push(val);
      if (name !== undefined && parts.length === want) {
        yield [name, concat(parts)];
        name = undefined;
      }
    }
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
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
