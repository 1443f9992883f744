/**
 * MemPageStore: pages in a Map, for tests and in-memory databases.
 *
 * Invariants:
 *  1. A page id is either in use (in `#pages` or allocated and not yet written) or in `#free`,
 *     never both; `free` of a page not in use throws (catches double frees in the trees).
 *  2. Page ids start at 1: 0 is never a valid page (trees use it as "none").
 */
import { InternalError, pageId, type PageId } from '@quiverdb/common';
import { emptyPageStoreStats, type PageStore } from './page-store.js';

export class MemPageStore implements PageStore {
  readonly pageSize: number;
  readonly stats = emptyPageStoreStats();
  /** When false, `write` only counts (for page-write measurements on huge runs). */
  readonly keepData: boolean;
  #pages = new Map<number, Uint8Array>();
  #inUse = new Set<number>();
  #free: number[] = [];
  #next = 1;
  #roots = new Map<string, PageId>();

  constructor(pageSize = 4096, options: { keepData?: boolean } = {}) {
    this.pageSize = pageSize;
    this.keepData = options.keepData ?? true;
  }

  allocate(): PageId {
    this.stats.allocated++;
    const id = this.#free.pop() ?? this.#next++;
    this.#inUse.add(id);
    return pageId(id);
  }

  read(id: PageId): Uint8Array {
    this.stats.reads++;
    const p = this.#pages.get(id);
    if (p === undefined) throw new InternalError(`read of page ${id} that was never written`);
    return p;
  }

  write(id: PageId, data: Uint8Array): void {
    if (!this.#inUse.has(id)) throw new InternalError(`write to page ${id} that is not allocated`);
    if (data.length > this.pageSize) throw new InternalError(`page ${id}: ${data.length} bytes > page size ${this.pageSize}`);
    this.stats.writes++;
    if (!this.keepData) return;
    const p = new Uint8Array(this.pageSize);
    p.set(data);
    this.#pages.set(id, p);
  }

  free(id: PageId): void {
    if (!this.#inUse.delete(id)) throw new InternalError(`free of page ${id} that is not in use`);
    this.stats.freed++;
    this.#pages.delete(id);
    this.#free.push(id);
  }

  setRoot(name: string, id: PageId): void {
    this.stats.rootWrites++;
    this.#roots.set(name, id);
  }

  getRoot(name: string): PageId | undefined {
    return this.#roots.get(name);
  }

  pagesInUse(): number {
    return this.#inUse.size;
  }
}
