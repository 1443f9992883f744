/**
 * The default memory budget (`memory_limit`) and the part of it that may live on the V8 heap.
 *
 * Policy (DuckDB's): an unset `memory_limit` is 80 % of the memory this process may use — the
 * cgroup limit when there is one (`process.constrainedMemory()`), else the machine's RAM. A fixed
 * small default (PostgreSQL's 128 MB shared_buffers) suits a server that leaves caching to the OS
 * page cache; an embedded engine whose cache holds decoded column chunks (and an in-memory
 * database, which has no OS cache behind it at all) would re-decode its data on every scan once a
 * table outgrows a fixed figure. The budget is a ceiling, not an allocation: nothing is used until
 * data is read.
 *
 * The V8 heap is a second, hard ceiling (exceeding it kills the process, not a query): decoded
 * text columns are arrays of JS strings, which live on it. The buffer pool keeps such entries
 * within `heapShare` of V8's heap size limit (its `heapLimitBytes`), evicting them before the heap
 * would run out; typed-array chunks live outside the heap and only count against the budget.
 *
 * Invariants:
 *  1. `defaultMemoryLimit()` is a positive whole number of bytes, ≤ 80 % of the usable memory.
 *  2. `defaultHeapBudget()` is a positive whole number of bytes, < V8's heap size limit.
 *
 * Concurrency: pure functions of the process's environment.
 */
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';

/** Share of usable memory an unset `memory_limit` takes (DuckDB: 80 % of RAM). */
export const DEFAULT_MEMORY_SHARE = 0.8;
/** Share of V8's heap size limit that cached JS-heap values (string columns) may take. */
export const DEFAULT_HEAP_SHARE = 0.5;

/** Memory this process may use: the cgroup limit when set and below RAM, else RAM. */
export function usableMemory(): number {
  const ram = totalmem();
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return constrained !== undefined && constrained > 0 && constrained < ram ? constrained : ram;
}

/** The `memory_limit` of a database opened without one: 80 % of usable memory. */
export function defaultMemoryLimit(): number {
  return Math.max(1, Math.floor(usableMemory() * DEFAULT_MEMORY_SHARE));
}

/** Bytes of JS-heap values (string columns) the buffer pool may cache: half of V8's heap limit. */
export function defaultHeapBudget(): number {
  return Math.max(1, Math.floor(getHeapStatistics().heap_size_limit * DEFAULT_HEAP_SHARE));
}
