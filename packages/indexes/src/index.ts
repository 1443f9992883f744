/**
 * @quiverdb/indexes — the two index structures of QuiverDB and the key encoding they share.
 *
 *   encodeKey(spec, values) ──► bytes whose memcmp order is the SQL order of the rows
 *        │
 *        ├──► BTree   (B+ tree: point lookups, range / prefix cursors, unique or row-id tiebreak)
 *        └──► BeTree  (Bε-tree / fractal tree: buffered put / delete / upsert, few page writes)
 *                          │
 *                          ▼
 *                      PageStore (fixed-size pages; MemPageStore for tests, the engine backs it
 *                                 with storage's buffer pool) — copy-on-write, a meta page per
 *                                 checkpoint, `setRoot(name, meta)` as the atomic switch.
 *
 * Imports only @quiverdb/common (ARCHITECTURE.md section 1 allows storage too).
 */
export { encodeKey, encodeKeyScratch, decodeKey, encodeKeyFromColumns, encodeKeyFromColumnsScratch, keyColumnFor } from './key/key-encoding.js';
export type { KeyColumn, KeyColumnType, KeySpec, KeyValue } from './key/key-encoding.js';
export { compareBytes, prefixSuccessor, toBinary, fromBinary } from './key/binary-string.js';
export type { KeyRange } from './key/key-range.js';
export { BTree } from './btree/btree.js';
export type { BTreeOptions, BTreeStats, InsertResult, IndexEntry, OrderedIndex } from './btree/btree.js';
export { BeTree } from './betree/betree.js';
export type { BeTreeOptions, BeTreeStats, BeEntry, MergeFn } from './betree/betree.js';
export { FractalIndex } from './betree/fractal-index.js';
export type { FractalIndexOptions } from './betree/fractal-index.js';
export { MetaStore } from './betree/meta-store.js';
export { MemPageStore } from './page/mem-page-store.js';
export { FilePageStore, MemBlockFile } from './page/file-page-store.js';
export type { BlockFile, WriteGroup } from './page/file-page-store.js';
export { EnvPageFile } from './page/env-page-file.js';
export type { PageFileState } from './page/env-page-file.js';
export type { PageStore, PageStoreStats } from './page/page-store.js';
