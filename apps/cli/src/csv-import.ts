/**
 * CSV import: parse RFC 4180 text and insert it into an existing table through parameterized
 * multi-row INSERTs inside one transaction (all rows or none).
 *
 *   file   := header-line (CRLF|LF) (record-line (CRLF|LF))*     header names = column names
 *   field  := unquoted (empty = NULL) | '"' (char | '""')* '"'  (quoted empty = '')
 *
 * The engine converts each text parameter to its column's type (as PostgreSQL does for unknown-
 * typed parameters), so values arrive exactly as written in the file.
 *
 * Invariants:
 *  1. A quoted field keeps commas, quotes ("") and line breaks; an unquoted empty field is NULL.
 *  2. Every record has as many fields as the header, or the import fails before inserting.
 */
import type { CliConnection } from './engine.js';

/** A malformed CSV file: SQLSTATE 22P04 (bad_copy_file_format), as PostgreSQL's COPY reports it. */
export class CsvError extends Error {
  readonly code = '22P04';
  constructor(message: string) {
    super(`CSV: ${message}`);
    this.name = 'CsvError';
  }
}

/** Parse CSV text into records of fields (null = unquoted empty field). */
export function parseCsv(text: string): (string | null)[][] {
  const records: (string | null)[][] = [];
  let record: (string | null)[] = [];
  let i = 0;
  const n = text.length;
  if (n === 0) return records;
  for (;;) {
    // one field
    let field: string | null;
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new CsvError('unterminated quoted field');
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      field = value;
    } else {
      let j = i;
      while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
      field = j === i ? null : text.slice(i, j);
      i = j;
    }
    record.push(field);
    if (i >= n) {
      records.push(record);
      break;
    }
    const c = text[i];
    if (c === ',') {
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      records.push(record);
      record = [];
      if (i >= n) break;
      continue;
    }
    throw new CsvError(`unexpected character ${JSON.stringify(c)} after a quoted field`);
  }
  // A blank last line (a trailing newline is already handled) yields one null field: drop it.
  return records.filter((r) => !(r.length === 1 && r[0] === null));
}

function identifier(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const MAX_PARAMS_PER_INSERT = 10_000;

/** Insert the CSV rows into `table` (its columns named by the header); returns the row count. */
export async function importCsv(conn: CliConnection, table: string, text: string): Promise<number> {
  const [header, ...rows] = parseCsv(text);
  if (header === undefined) return 0;
  if (header.some((h) => h === null || h.length === 0)) throw new CsvError('the header has an empty column name');
  const width = header.length;
  rows.forEach((r, k) => {
    if (r.length !== width) throw new CsvError(`record ${k + 2} has ${r.length} fields, the header has ${width}`);
  });
  const columns = header.map((h) => identifier(h!)).join(', ');
  const perInsert = Math.max(1, Math.floor(MAX_PARAMS_PER_INSERT / width));
  // Inside the user's own transaction block, the rows simply join it.
  const own = conn.transactionStatus === undefined || conn.transactionStatus() === 'I';
  if (own) await conn.query('BEGIN');
  try {
    for (let at = 0; at < rows.length; at += perInsert) {
      const batch = rows.slice(at, at + perInsert);
      const values = batch.map((_, r) => `(${header.map((__, c) => `$${r * width + c + 1}`).join(', ')})`).join(', ');
      await conn.query(`INSERT INTO ${table} (${columns}) VALUES ${values}`, batch.flat());
    }
    if (own) await conn.query('COMMIT');
  } catch (err) {
    if (own) await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return rows.length;
}
