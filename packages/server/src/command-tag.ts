/**
 * CommandComplete tags as PostgreSQL writes them: 'SELECT n', 'INSERT 0 n', 'UPDATE n',
 * 'DELETE n', 'MERGE n', 'FETCH n', 'MOVE n', 'COPY n'; every other command is its name alone
 * ('CREATE TABLE', 'BEGIN', ...). 'CREATE TABLE AS' / 'SELECT INTO' report 'SELECT n', and a
 * COMMIT of a failed transaction reports 'ROLLBACK', as in PostgreSQL.
 */
import type { QueryResult, TransactionStatus } from './contract.js';

const COUNTED = new Set(['SELECT', 'UPDATE', 'DELETE', 'MERGE', 'FETCH', 'MOVE', 'COPY']);

export function commandTag(result: Pick<QueryResult, 'command' | 'rowCount'>, statusBefore: TransactionStatus = 'I'): string {
  const command = result.command.trim().toUpperCase().replace(/\s+/g, ' ');
  const n = result.rowCount;
  if (command === 'INSERT') return `INSERT 0 ${n}`;
  if (command === 'CREATE TABLE AS' || command === 'SELECT INTO') return `SELECT ${n}`;
  if ((command === 'COMMIT' || command === 'END') && statusBefore === 'E') return 'ROLLBACK';
  if (COUNTED.has(command)) return `${command} ${n}`;
  return command;
}

/** Does this result carry rows (RowDescription + DataRow) rather than only a tag? */
export function returnsRows(result: Pick<QueryResult, 'command' | 'columns'>): boolean {
  return result.columns.length > 0 || result.command.trim().toUpperCase() === 'SELECT';
}
