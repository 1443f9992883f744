/**
 * @quiverdb/storage — Env (NodeEnv, MemEnv, FaultEnv), WAL, Parquet segments with zone maps,
 * delta + delete vectors, buffer pool, checkpoint + recovery, compaction. See api.ts.
 */
export type {
  StoredColumn,
  StoredTableSpec,
  ColumnConversion,
  ColumnConverter,
  StoragePredicate,
  StorageScanOptions,
  StorageScanBatch,
  ScanStats,
  DeleteOutcome,
  BufferPoolStats,
  StoreStats,
  Store,
  StoreOptions,
} from './api.js';
export type { Env, EnvFile } from './env/env.js';
export { NodeEnv } from './env/node-env.js';
export { MemEnv } from './env/mem-env.js';
export { FaultEnv } from './env/fault-env.js';
export type { FaultPlan } from './env/fault-env.js';
export { openStore, QuiverStore } from './store.js';
export type { StoreTuning } from './store.js';
export { BufferPool } from './buffer/buffer-pool.js';
export { defaultMemoryLimit, defaultHeapBudget, usableMemory } from './buffer/memory-budget.js';
export { crc32c } from './wal/crc32c.js';
export { Wal } from './wal/wal.js';
export { canMatch, computeZone } from './segment/zone-map.js';
export type { Zone } from './segment/zone-map.js';
