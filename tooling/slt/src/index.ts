/**
 * @quiverdb/slt — a sqllogictest runner for QuiverDB.
 *
 *   text --parseScript--> SltScript (records) --runScript--> FileResult (ok / wrong / skipped)
 *                                                  |
 *                         formatValue / compareResult (reference-harness formatting, MD5 hashes)
 *
 * Runs each file on a fresh `Database` of the `quiverdb` package (or any `OpenDatabase`), scores
 * it by query records, and checks per-file pass rates against a baseline (corpus.ts).
 * The `quiver-slt` command is cli.ts.
 */
export { parseScript, conditionsAllow, isConnectionName } from './parser.js';
export type { SltScript, SltRecord, StatementRecord, QueryRecord, HaltRecord, HashThresholdRecord, RestartRecord, UnsupportedRecord, Condition, SortMode } from './record.js';
export { formatValue, formatReal } from './format-value.js';
export { compareResult, sortedValues, hashValues, renderExpected, HASH_LINE_RE } from './result-set.js';
export type { CompareOutcome } from './result-set.js';
export { runScript, runFile, settleWithin, passRate, emptyTally, typeLetter, ENGINE_NAME, DEFAULT_TIMEOUT_MS } from './runner.js';
export type { RunOptions, FileResult, FailureDetail, Tally } from './runner.js';
export { openQuiverDatabase, sqlStateOf, describeError } from './database.js';
export type { OpenDatabase, SltDatabase, SltConnection, SltQueryResult, SltColumn } from './database.js';
export {
  findScripts,
  corpusFiles,
  isQuickCorpusFile,
  defaultCorpusDir,
  displayName,
  loadBaseline,
  saveBaseline,
  checkBaseline,
  updateBaseline,
  baselineRate,
} from './corpus.js';
export type { Baseline, BaselineEntry, Regression } from './corpus.js';
export { totalsOf, formatFileLine, formatFailures, formatTotalLine, percent } from './report.js';
export type { Totals } from './report.js';
