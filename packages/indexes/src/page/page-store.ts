/**
 * PageStore: where index nodes live — fixed-size pages addressed by `PageId`.
 *
 * The trees never assume more than this interface, so the engine can back it with storage's Env
 * and buffer pool. `MemPageStore` serves tests; `FilePageStore` keeps pages in one file over a
 * `BlockFile` (a tiny positional-I/O interface, no `node:fs`).
 *
 * Contract:
 *  1. `allocate()` returns a page id not in use; its content is unspecified until written.
 *  2. `read(id)` returns the last bytes written to `id` (exactly `pageSize` bytes). The caller must
 *     not mutate the returned array.
 *  3. `write(id, data)` stores `data` (`data.length <= pageSize`, read back zero-padded). A store
 *     may keep the array itself rather than a copy (EnvPageFile does), so the caller never
 *     changes it afterwards (the trees write fresh node images).
 *  4. `free(id)` returns the page for reuse by a later `allocate()`. The trees free a page only
 *     once no durable root can reach it (copy-on-write: see btree.ts, "Persistence").
 *  5. `setRoot(name, id)` durably and atomically records a named root page id (after everything
 *     written before it is durable); `getRoot(name)` reads it back (undefined if never set).
 *
 * Concurrency: synchronous; Node runs one thread, so no latch is needed.
 */
import type { PageId } from '@quiverdb/common';

export interface PageStoreStats {
  /** pages written (`write` calls) */
  writes: number;
  /** pages read (`read` calls) */
  reads: number;
  allocated: number;
  freed: number;
  /** root records written (`setRoot` calls) */
  rootWrites: number;
}

export interface PageStore {
  readonly pageSize: number;
  allocate(): PageId;
  read(id: PageId): Uint8Array;
  write(id: PageId, data: Uint8Array): void;
  free(id: PageId): void;
  setRoot(name: string, id: PageId): void;
  getRoot(name: string): PageId | undefined;
  /** Pages currently allocated (not free). */
  pagesInUse(): number;
  readonly stats: PageStoreStats;
}

export function emptyPageStoreStats(): PageStoreStats {
  return { writes: 0, reads: 0, allocated: 0, freed: 0, rootWrites: 0 };
}
