/**
 * Buffer pool: one byte budget for decoded column chunks (and, later, index pages), with
 * pin/unpin and a scan-resistant 2Q replacement policy.
 *
 * 2Q (Johnson & Shasha): a first reference puts an entry in A1in (FIFO, "probation"); a
 * reference after its eviction from A1in (remembered in the ghost list A1out) puts it in Am (LRU,
 * "hot"). A one-pass scan only ever cycles A1in, so it cannot flush the hot set. Victims come from
 * A1in while it holds more than `a1Share` of the budget, else from Am (LRU end).
 *
 * Reservations: memory the budget covers that is not a cached entry (the store's in-memory delta)
 * is `reservedBytes`, counted in bytesInUse: cached entries are evicted to make room for it.
 *
 * Heap entries: values that live on the V8 heap (arrays of JS strings) are put with `onHeap`;
 * their bytes (`heapBytes`) are also kept within `heapLimitBytes` (memory-budget.ts: the V8 heap
 * is a hard ceiling below the budget), evicting other heap entries first (same 2Q order).
 *
 * Invariants (checked by `checkInvariants`):
 *  1. bytesInUse == sum of entry bytes + reservedBytes == a1Bytes + amBytes + reservedBytes, and
 *     <= limitBytes unless reservations and pinned entries alone exceed it.
 *  2. Every entry is in exactly one of A1in / Am; pinned entries are never evicted.
 *  3. An entry larger than the whole budget is never cached (`put` returns false).
 *  4. heapBytes == sum of the bytes of onHeap entries, <= heapLimitBytes unless pinned heap
 *     entries alone exceed it; an onHeap entry larger than heapLimitBytes is never cached.
 *
 * Concurrency: single thread; two loaders of one key may race: the second `put` keeps the first
 * value (and pins it), so callers must use the value `put`/`get` hand back.
 */
import { invariant } from '@quiverdb/common';
import type { BufferPoolStats } from '../api.js';

interface Entry<V> {
  readonly key: string;
  readonly value: V;
  readonly bytes: number;
  pins: number;
  hot: boolean;
  readonly onHeap: boolean;
}

export class BufferPool<V = unknown> {
  private readonly a1 = new Map<string, Entry<V>>();
  private readonly am = new Map<string, Entry<V>>();
  private readonly ghost = new Map<string, true>();
  private a1Bytes = 0;
  private amBytes = 0;
  bytesInUse = 0;
  peakBytes = 0;
  reservedBytes = 0;
  heapBytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;
  bypasses = 0;

  constructor(public limitBytes: number, private readonly a1Share = 0.25, private readonly ghostMax = 4096, public heapLimitBytes = Infinity) {}

  /** Look up and pin. Counts a hit or a miss. */
  get(key: string): V | undefined {
    const e = this.a1.get(key) ?? this.am.get(key);
    if (e === undefined) { this.misses++; return undefined; }
    this.hits++;
    e.pins++;
    if (e.hot) { this.am.delete(key); this.am.set(key, e); }
    return e.value;
  }

  /**
   * Look up WITHOUT pinning, for a caller that is done with the value before it yields (copies
   * out synchronously). Counts a hit; a miss is not counted (the caller falls back to `get`).
   */
  peek(key: string): V | undefined {
    const e = this.a1.get(key) ?? this.am.get(key);
    if (e === undefined) return undefined;
    this.hits++;
    if (e.hot) { this.am.delete(key); this.am.set(key, e); }
    return e.value;
  }

  has(key: string): boolean { return this.a1.has(key) || this.am.has(key); }

  /**
   * Insert pinned (pins = 1). Returns the cached value (an earlier racer's, if any), or
   * undefined when it could not be cached (too big / everything pinned): the caller uses its own
   * value unpooled and must not unpin.
   */
  put(key: string, value: V, bytes: number, onHeap = false): V | undefined {
    const old = this.a1.get(key) ?? this.am.get(key);
    if (old !== undefined) { old.pins++; return old.value; }
    if (bytes > this.limitBytes || (onHeap && bytes > this.heapLimitBytes) || !this.makeRoom(bytes) || (onHeap && !this.makeHeapRoom(bytes))) {
      this.bypasses++;
      return undefined;
    }
    const hot = this.ghost.delete(key);
    const e: Entry<V> = { key, value, bytes, pins: 1, hot, onHeap };
    if (hot) { this.am.set(key, e); this.amBytes += bytes; } else { this.a1.set(key, e); this.a1Bytes += bytes; }
    if (onHeap) this.heapBytes += bytes;
    this.bytesInUse += bytes;
    if (this.bytesInUse > this.peakBytes) this.peakBytes = this.bytesInUse;
    return value;
  }

  /**
   * Cache an entry unpinned only if it fits in free budget (no eviction): a value the caller has
   * at hand anyway (a checkpoint's just-written rows) is worth keeping only while memory is idle.
   * Returns whether it was cached (false too when the key is already cached).
   */
  offer(key: string, value: V, bytes: number, onHeap = false): boolean {
    if (this.has(key) || this.bytesInUse + bytes > this.limitBytes || (onHeap && this.heapBytes + bytes > this.heapLimitBytes)) return false;
    const e: Entry<V> = { key, value, bytes, pins: 0, hot: false, onHeap };
    this.ghost.delete(key);
    this.a1.set(key, e);
    this.a1Bytes += bytes;
    if (onHeap) this.heapBytes += bytes;
    this.bytesInUse += bytes;
    if (this.bytesInUse > this.peakBytes) this.peakBytes = this.bytesInUse;
    return true;
  }

  unpin(key: string): void {
    const e = this.a1.get(key) ?? this.am.get(key);
    if (e === undefined) return;
    invariant(e.pins > 0, `buffer pool: unpin of unpinned ${key}`);
    e.pins--;
  }

  /** Drop every unpinned entry whose key starts with `prefix` (segment removed). */
  dropPrefix(prefix: string): void {
    for (const q of [this.a1, this.am]) {
      for (const [k, e] of q) if (k.startsWith(prefix) && e.pins === 0) this.removeEntry(e);
    }
  }

  private removeEntry(e: Entry<V>): void {
    if (e.hot) { this.am.delete(e.key); this.amBytes -= e.bytes; } else { this.a1.delete(e.key); this.a1Bytes -= e.bytes; }
    if (e.onHeap) this.heapBytes -= e.bytes;
    this.bytesInUse -= e.bytes;
  }

  private victim(q: Map<string, Entry<V>>, heapOnly = false): Entry<V> | undefined {
    for (const e of q.values()) if (e.pins === 0 && (!heapOnly || e.onHeap)) return e;
    return undefined;
  }

  private evict(v: Entry<V>): void {
    this.removeEntry(v);
    this.evictions++;
    if (!v.hot) {
      this.ghost.set(v.key, true);
      if (this.ghost.size > this.ghostMax) this.ghost.delete(this.ghost.keys().next().value as string);
    }
  }

  /** Evict unpinned heap entries until `bytes` more fit in `heapLimitBytes`. */
  private makeHeapRoom(bytes: number): boolean {
    while (this.heapBytes + bytes > this.heapLimitBytes) {
      const v = this.victim(this.a1, true) ?? this.victim(this.am, true);
      if (v === undefined) return false;
      this.evict(v);
    }
    return true;
  }

  private makeRoom(bytes: number): boolean {
    while (this.bytesInUse + bytes > this.limitBytes) {
      const preferA1 = this.a1Bytes > this.limitBytes * this.a1Share || this.am.size === 0;
      const v = (preferA1 ? this.victim(this.a1) ?? this.victim(this.am) : this.victim(this.am) ?? this.victim(this.a1));
      if (v === undefined) return false;
      this.evict(v);
    }
    return true;
  }

  /** Start measuring the peak again from the current use. */
  resetPeak(): void { this.peakBytes = this.bytesInUse; }

  /** Set the reserved bytes (not cached entries): unpinned entries are evicted to keep within the budget. */
  setReserved(bytes: number): void {
    const b = Math.max(0, bytes);
    this.bytesInUse += b - this.reservedBytes;
    this.reservedBytes = b;
    this.makeRoom(0);
    if (this.bytesInUse > this.peakBytes) this.peakBytes = this.bytesInUse;
  }

  setLimit(bytes: number): void {
    this.limitBytes = bytes;
    this.makeRoom(0);
  }

  stats(): BufferPoolStats {
    return { limitBytes: this.limitBytes, bytesInUse: this.bytesInUse, peakBytes: this.peakBytes, hits: this.hits, misses: this.misses, evictions: this.evictions, reservedBytes: this.reservedBytes };
  }

  checkInvariants(): void {
    let a1 = 0;
    let am = 0;
    let heap = 0;
    for (const e of this.a1.values()) { invariant(!e.hot && !this.am.has(e.key), 'a1 entry state'); a1 += e.bytes; if (e.onHeap) heap += e.bytes; }
    for (const e of this.am.values()) { invariant(e.hot, 'am entry state'); am += e.bytes; if (e.onHeap) heap += e.bytes; }
    invariant(a1 === this.a1Bytes && am === this.amBytes, 'queue byte counts');
    invariant(heap === this.heapBytes, 'heap byte count');
    const heapUnpinned = [...this.a1.values(), ...this.am.values()].some((e) => e.onHeap && e.pins === 0);
    invariant(this.heapBytes <= this.heapLimitBytes || !heapUnpinned, 'over heap budget');
    invariant(a1 + am + this.reservedBytes === this.bytesInUse, 'bytesInUse');
    const unpinned = [...this.a1.values(), ...this.am.values()].some((e) => e.pins === 0);
    invariant(this.bytesInUse <= this.limitBytes || this.limitBytes < 0 || !unpinned, 'over budget');
  }
}
