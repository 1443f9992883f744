/**
 * The part of the `quiverdb` embedded API (ARCHITECTURE.md section 4) the CLI uses, and its lazy
 * loader. Structural types keep the CLI compiling on its own while the engine evolves; the
 * contract they describe is fixed.
 */
import type { Table } from 'apache-arrow';
import type { ResultLike } from './format-result.js';

export interface CliResult extends ResultLike {
  toArrow(): Table;
}

export interface CliConnection {
  query(sql: string, params?: unknown[]): Promise<CliResult>;
  close(): Promise<void>;
  /** 'I' idle, 'T' in a transaction block, 'E' in a failed one (quiverdb's Connection has it). */
  transactionStatus?(): 'I' | 'T' | 'E';
}

export interface CliDatabase {
  connect(): CliConnection;
  close(): Promise<void>;
}

// A variable specifier: the engine is loaded at run time (and typechecked in its own package).
const ENGINE_MODULE = 'quiverdb';

export async function openDatabase(path: string): Promise<CliDatabase> {
  const mod = (await import(ENGINE_MODULE)) as { Database: { open(path: string): Promise<CliDatabase> } };
  return mod.Database.open(path);
}

/** `ERROR: <message> (SQLSTATE <code>)`, plus psql's LINE/caret when the error has a position. */
export function formatError(err: unknown, sql?: string): string {
  const e = err as { code?: unknown; message?: unknown; position?: unknown };
  const code = typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : 'XX000';
  const message = err instanceof Error ? err.message : String(err);
  let out = `ERROR: ${message} (SQLSTATE ${code})\n`;
  if (sql !== undefined && typeof e?.position === 'number' && e.position >= 1 && e.position <= sql.length + 1) {
    const before = sql.slice(0, e.position - 1);
    const lineNo = before.split('\n').length;
    const lineStart = before.lastIndexOf('\n') + 1;
    const lineEnd = sql.indexOf('\n', lineStart);
    const line = sql.slice(lineStart, lineEnd < 0 ? sql.length : lineEnd);
    const prefix = `LINE ${lineNo}: `;
    out += `${prefix}${line}\n${' '.repeat(prefix.length + (e.position - 1 - lineStart))}^\n`;
  }
  return out;
}
