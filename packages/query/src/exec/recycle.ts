/**
 * Recycled buffers for the large, short-lived typed arrays of aggregation state (group tables,
 * per-group sums and counts).
 *
 * Why: every `new Float64Array(n)` allocates an ArrayBuffer outside the JS heap, and V8 starts a
 * full (mark-compact) collection each time such external memory grows 64 MB past what it was at
 * the last one. A full collection marks the whole heap: on a large in-memory database (TPC-H SF 1
 * keeps millions of strings alive) that costs far more than the query itself, and a grouped
 * aggregation over millions of rows allocates that much in one run. Buffers taken here and given
 * back when the operator is done are reused by the next query instead of being allocated anew.
 *
 * Invariants:
 *  1. A taken array is a view of exactly `n` zeroed elements at the start of a buffer whose size
 *     is a power of two of at least MIN_BYTES; only such buffers are pooled.
 *  2. `give` is called only by the array's owner, once, when no other reference to it (or to a
 *     view of its buffer) remains; a buffer is in at most one free list, at most once.
 *  3. The free lists hold at most MAX_POOLED bytes in all (the rest is left to the collector),
 *     and are emptied once no buffer was taken for IDLE_MS (an idle process keeps nothing).
 */

/** Arrays smaller than this are plain allocations (V8 handles them cheaply; not pooled). */
const MIN_BYTES = 1 << 16;
/** Bytes kept in the free lists at most. */
const MAX_POOLED = 256 << 20;
/** Free buffers per size class at most. */
const PER_CLASS = 8;

/** Free lists are dropped after this long without a `take` of a pooled size. */
const IDLE_MS = 300_000;

const free = new Map<number, ArrayBuffer[]>();
let pooled = 0;
let takes = 0;
let drainTimer: ReturnType<typeof setTimeout> | undefined;

/** Empty the free lists when nothing was taken since the last check (invariant 3). */
function scheduleDrain(): void {
  if (drainTimer !== undefined) return;
  const seen = takes;
  drainTimer = setTimeout(() => {
    drainTimer = undefined;
    if (takes === seen) { free.clear(); pooled = 0; } else if (pooled > 0) scheduleDrain();
  }, IDLE_MS);
  drainTimer.unref?.();
}
/** every buffer handed out by `take` (so `give` of a foreign array is a no-op, never a pool entry) */
const ours = new WeakSet<ArrayBuffer>();

function classOf(bytes: number): number {
  let c = MIN_BYTES;
  while (c < bytes) c *= 2;
  return c;
}

function takeBuffer(bytes: number): ArrayBuffer {
  takes++;
  const size = classOf(bytes);
  const list = free.get(size);
  const b = list?.pop();
  if (b !== undefined) {
    pooled -= size;
    new Uint8Array(b, 0, bytes).fill(0);
    return b;
  }
  const fresh = new ArrayBuffer(size);
  ours.add(fresh);
  return fresh;
}

/** A zeroed Float64Array of length n (recycled when large). */
export function takeF64(n: number): Float64Array<ArrayBuffer> {
  if (n * 8 < MIN_BYTES) return new Float64Array(n);
  return new Float64Array(takeBuffer(n * 8), 0, n);
}

/** A zeroed Int32Array of length n (recycled when large). */
export function takeI32(n: number): Int32Array<ArrayBuffer> {
  if (n * 4 < MIN_BYTES) return new Int32Array(n);
  return new Int32Array(takeBuffer(n * 4), 0, n);
}

/** A zeroed Uint8Array of length n (recycled when large). */
export function takeU8(n: number): Uint8Array<ArrayBuffer> {
  if (n < MIN_BYTES) return new Uint8Array(n);
  return new Uint8Array(takeBuffer(n), 0, n);
}

/** Give back an array from `take*` that nothing references any more (invariant 2). */
export function give(a: { readonly buffer: ArrayBufferLike } | null | undefined): void {
  if (a === null || a === undefined) return;
  const b = a.buffer;
  if (!(b instanceof ArrayBuffer) || !ours.has(b)) return;
  const size = b.byteLength;
  if (pooled + size > MAX_POOLED) return;
  let list = free.get(size);
  if (list === undefined) free.set(size, (list = []));
  if (list.length >= PER_CLASS || list.includes(b)) return;
  list.push(b);
  pooled += size;
  scheduleDrain();
}

/** Bytes in the free lists (tests). */
export function pooledBytes(): number {
  return pooled;
}
