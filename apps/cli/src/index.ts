/**
 * @quiverdb/cli — the `quiver` command line (bin: dist/quiver.js) and its reusable pieces.
 *
 *   argv --main--> Session (one Database, one Connection) --> formatResult --> stdout
 *                     ^  scriptStatements (split at top-level ';')   errors --> stderr, exit 1
 *                     |
 *                   runRepl (readline, history, multi-line statements, \meta commands)
 */
export { main, VERSION } from './main.js';
export type { CliIo } from './main.js';
export { splitStatements, scriptStatements } from './split-statements.js';
export type { SplitResult } from './split-statements.js';
export { formatResult, formatTable, formatCsv, formatJson, formatNdjson, formatMarkdown, commandTag, valueText, jsonValue, OUTPUT_FORMATS } from './format-result.js';
export type { OutputFormat, ResultLike } from './format-result.js';
export { formatError } from './engine.js';
export { parseCsv, importCsv } from './csv-import.js';
export { Session } from './session.js';
export { runRepl, REPL_HELP, historyFile } from './repl.js';
