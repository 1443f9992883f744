/**
 * @quiverdb/query — QuiverDB's SQL engine.
 *
 *   SQL text ──libpg-query──▶ Statement ──bind/──▶ typed Plan ──optimizer/──▶ Plan ──exec/──▶ batches
 *                 (sql/)                 (scopes, types,        (pushdown,         (vectorized
 *                                         subqueries)            join order)         operators)
 *
 * Knows only @quiverdb/common, apache-arrow and libpg-query: it reaches data through the
 * `Catalog` / `TableSource` interfaces (catalog/catalog.ts), which the engine implements over
 * storage and `MemoryCatalog` implements in memory.
 */
export { initSql, parseSql } from './sql/parse.js';
export { isEngineStatement, statementTag } from './sql/statement.js';
export type { Statement, EngineStatement, SqlStatement, IsolationLevel, LockModeName } from './sql/statement.js';
export { executeStatement, executeSelectSync, mayBePointLookup } from './exec/statement.js';
export { cachedStatements } from './exec/plan-cache.js';
export type { QueryResult, SessionContext } from './exec/statement.js';
export { resultRows, resultToArrow } from './exec/result.js';
export { valueToText } from './types/values.js';
export { prepareStatement } from './exec/prepare.js';
export type { Prepared } from './exec/prepare.js';
export { MemoryCatalog, MemoryTable } from './catalog/memory-catalog.js';
export type {
  Catalog, AlterTableAction, SequenceDef, ForeignKeyDef, ForeignKeyAction, TableSource, TableDef, ColumnDef, IndexDef, ViewDef, QualifiedName, ScanPredicate, ScanRequest, ScanBatch, TableStats,
} from './catalog/catalog.js';
export { MemorySpillSpace } from './exec/spill-space.js';
export type { SpillSpace, SpillFile } from './exec/spill-space.js';
export { parseMemorySize, DEFAULT_MEMORY_LIMIT } from './exec/memory.js';
