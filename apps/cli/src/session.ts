/**
 * A CLI session: one database, one connection, an output format, and the loop that runs a
 * script's statements one by one and prints each result.
 *
 * Invariants:
 *  1. Statements of a script run in order on the one connection (transaction blocks span them).
 *  2. A script stops at its first error (as `psql -v ON_ERROR_STOP=1`); the REPL goes on.
 *  3. With `--format arrow` only the last result that has columns is written (one IPC stream
 *     holds one schema), after the whole script succeeded.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { importCsv } from './csv-import.js';
import { formatError, type CliConnection, type CliResult } from './engine.js';
import { formatResult, type OutputFormat } from './format-result.js';
import { scriptStatements } from './split-statements.js';

export interface Output {
  write(chunk: string | Uint8Array): unknown;
}

export class Session {
  format: OutputFormat;
  timing = false;
  readonly #conn: CliConnection;
  readonly #out: Output;
  readonly #err: Output;
  #lastArrow: CliResult | undefined;

  constructor(conn: CliConnection, format: OutputFormat, out: Output, err: Output) {
    this.#conn = conn;
    this.format = format;
    this.#out = out;
    this.#err = err;
  }

  get connection(): CliConnection {
    return this.#conn;
  }

  /** Run one statement and print its result; false (after printing the error) when it failed. */
  async runStatement(sql: string): Promise<boolean> {
    const started = performance.now();
    let r: CliResult;
    try {
      r = await this.#conn.query(sql);
    } catch (err) {
      this.#err.write(formatError(err, sql));
      return false;
    }
    if (this.format === 'arrow') {
      if (r.columns.length > 0) this.#lastArrow = r;
    } else {
      this.#out.write(formatResult(r, this.format));
    }
    if (this.timing) this.#err.write(`Time: ${(performance.now() - started).toFixed(3)} ms\n`);
    return true;
  }

  /** Run every statement of a script; stops at the first error. Returns success. */
  async runScript(text: string): Promise<boolean> {
    for (const sql of scriptStatements(text)) {
      if (!(await this.runStatement(sql))) return false;
    }
    return true;
  }

  /** Load a CSV file (header = column names) into `table`; false (after printing the error) on failure. */
  async importFile(table: string, path: string): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      this.#err.write(`quiver: cannot read ${path}: ${(err as Error).message}\n`);
      return false;
    }
    try {
      const n = await importCsv(this.#conn, table, text);
      if (this.format === 'table') this.#out.write(`IMPORT ${n}\n`);
      return true;
    } catch (err) {
      this.#err.write(formatError(err));
      return false;
    }
  }

  /** Run `sql` and write its result to `path` in the format its extension names (.csv .json .ndjson .md .arrow). */
  async exportQuery(path: string, sql: string): Promise<boolean> {
    const ext = extname(path).toLowerCase();
    const format: OutputFormat =
      ext === '.json' ? 'json' : ext === '.ndjson' || ext === '.jsonl' ? 'ndjson' : ext === '.md' ? 'markdown' : ext === '.arrow' || ext === '.arrows' ? 'arrow' : 'csv';
    try {
      const r = await this.#conn.query(sql);
      await writeFile(path, format === 'arrow' ? tableToIPC(r.toArrow(), 'stream') : formatResult(r, format));
      if (this.format === 'table') this.#out.write(`EXPORT ${r.rows.length}\n`);
      return true;
    } catch (err) {
      this.#err.write(formatError(err, sql));
      return false;
    }
  }

  /** With `--format arrow`: write the last result with columns as an Arrow IPC stream. */
  flushArrow(): void {
    if (this.format !== 'arrow' || this.#lastArrow === undefined) return;
    this.#out.write(tableToIPC(this.#lastArrow.toArrow(), 'stream'));
    this.#lastArrow = undefined;
  }
}
