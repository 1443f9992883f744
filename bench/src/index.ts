/**
 * @quiverdb/bench — QuiverDB side by side with DuckDB, SQLite, PGlite and AlaSQL, in one run.
 *
 *   data (tpch/, kv.ts) ──► engines/ (one adapter per engine) ──► workloads/ (timed, interleaved)
 *                                                                    │
 *                                   results/latest.json, latest.md, tpch.svg ◄── report/
 *
 * The CLI is main.ts; this index exposes the pieces for tests and other tooling.
 */
export { Rng } from './rng.js';
export { generateTpch, DEFAULT_SEED, retailPrice, supplierOfPart, orderKey } from './tpch/generate.js';
export type { TpchData } from './tpch/generate.js';
export { TPCH_TABLES, tpchRowCounts, tpchTable } from './tpch/schema.js';
export type { TpchTableName } from './tpch/schema.js';
export { TPCH_QUERIES } from './tpch/queries.js';
export type { TpchQuery } from './tpch/queries.js';
export { generateKv, kvKey, KV_TABLE } from './kv.js';
export { checksumTable, checkTableData, rowsOf, dateToDays, daysToDate } from './table-data.js';
export type { TableData, TableDef, ColumnDef, ColumnKind, ColumnValues } from './table-data.js';
export { ALL_ENGINES, NotApplicable, WrongAnswer } from './engines/adapter.js';
export type { EngineAdapter, EngineName, EngineCaps, Session, Prepared, Row, OpenTarget, TxnStep } from './engines/adapter.js';
export { createAdapter } from './engines/registry.js';
export { compareAnswers, normalizeRows, answerDigest } from './harness/answers.js';
export { defaultOptions, ALL_GROUPS } from './harness/context.js';
export type { BenchOptions, Group } from './harness/context.js';
export type { BenchReport, Measurement, Status } from './harness/results.js';
export { runBench, writeReports } from './run-bench.js';
export { renderMarkdown, evaluateTargets } from './report/markdown.js';
export { updateReadmeSection } from './report/readme.js';
export { renderTpchSvg } from './report/svg.js';
