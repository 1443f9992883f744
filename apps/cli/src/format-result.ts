/**
 * Rendering of query results for the terminal and for pipes:
 *
 *   table     psql-like aligned table with a `(N rows)` footer; statements without result columns
 *             print their command tag (`CREATE TABLE`, `INSERT 0 3`, `UPDATE 2`)
 *   csv       RFC 4180: header line, then rows; fields quoted when they hold , " CR or LF
 *   json      one JSON array of row objects per result set
 *   ndjson    one JSON object per row, one per line
 *   markdown  a GitHub-flavoured table per result set
 *
 * Machine formats (csv, json, ndjson, markdown) print nothing for statements that return no
 * columns, so their output stays parseable. `arrow` is written by the caller (an IPC stream).
 *
 * Invariants:
 *  1. NULL prints as `NULL` in table/markdown, as an empty unquoted field in csv, as null in JSON.
 *  2. BIGINT values keep every digit (JSON writes them as number literals).
 */

export type OutputFormat = 'table' | 'csv' | 'json' | 'ndjson' | 'markdown' | 'arrow';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'csv', 'json', 'ndjson', 'markdown', 'arrow'];

export interface ResultLike {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly unknown[])[];
  readonly rowCount: number;
  readonly command: string;
}

/** Text of one value for table, markdown and csv output. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  switch (typeof v) {
    case 'string':
      return v;
    case 'bigint':
      return v.toString();
    case 'number':
      return Object.is(v, -0) ? '0' : String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
      if (v instanceof Date) return v.toISOString();
      return jsonValue(v);
  }
}

/** A value as JSON text (bigint as a number literal with every digit). */
export function jsonValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : JSON.stringify(String(v));
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    default:
      if (v instanceof Uint8Array) return JSON.stringify(`\\x${Buffer.from(v).toString('hex')}`);
      if (v instanceof Date) return JSON.stringify(v.toISOString());
      if (Array.isArray(v)) return `[${v.map(jsonValue).join(',')}]`;
      if (typeof v === 'object') {
        return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}:${jsonValue(x)}`).join(',')}}`;
      }
      return JSON.stringify(String(v));
  }
}

/** psql's command tag for a statement without result columns. */
export function commandTag(r: ResultLike): string {
  const c = r.command.toUpperCase();
  if (c === 'INSERT') return `INSERT 0 ${r.rowCount}`;
  if (c === 'UPDATE' || c === 'DELETE' || c === 'SELECT' || c === 'MERGE' || c === 'COPY' || c === 'FETCH' || c === 'MOVE') {
    return `${c} ${r.rowCount}`;
  }
  return r.command;
}

const NUMERIC_TYPES = /^(SMALLINT|INTEGER|INT|BIGINT|REAL|DOUBLE|DOUBLE PRECISION|FLOAT\d*|NUMERIC|DECIMAL)/i;

/** Display width of a string (code points; good enough for a terminal table). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(s: string, w: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return right ? fill + s : s + fill;
}

function oneLine(s: string): string {
  return s.replace(/\r?\n/g, '\\n').replace(/\t/g, '\\t');
}

export function formatTable(r: ResultLike): string {
  if (r.columns.length === 0) return `${commandTag(r)}\n`;
  const headers = r.columns.map((c) => c.name);
  const cells = r.rows.map((row) => r.columns.map((_, i) => oneLine(valueText(row[i]))));
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((row) => width(row[i]!))));
  const numeric = r.columns.map((c) => NUMERIC_TYPES.test(c.type));
  const lines: string[] = [];
  lines.push(` ${headers.map((h, i) => pad(h, widths[i]!, false)).join(' | ')} `.trimEnd());
  lines.push(widths.map((w) => '-'.repeat(w + 2)).join('+'));
  for (const row of cells) lines.push(` ${row.map((v, i) => pad(v, widths[i]!, numeric[i]!)).join(' | ')} `.trimEnd());
  const n = r.rows.length;
  lines.push(`(${n} ${n === 1 ? 'row' : 'rows'})`);
  return `${lines.join('\n')}\n`;
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = valueText(v);
  return /[",\r\n]/.test(s) || s.length === 0 ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatCsv(r: ResultLike): string {
  if (r.columns.length === 0) return '';
  const lines = [r.columns.map((c) => csvField(c.name)).join(',')];
  for (const row of r.rows) lines.push(r.columns.map((_, i) => csvField(row[i])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function rowObject(r: ResultLike, row: readonly unknown[]): string {
  return `{${r.columns.map((c, i) => `${JSON.stringify(c.name)}:${jsonValue(row[i])}`).join(',')}}`;
}

export function formatJson(r: ResultLike): string {
  if (r.columns.length === 0) return '';
  if (r.rows.length === 0) return '[]\n';
  return `[\n${r.rows.map((row) => `  ${rowObject(r, row)}`).join(',\n')}\n]\n`;
}

export function formatNdjson(r: ResultLike): string {
  if (r.columns.length === 0) return '';
  return r.rows.map((row) => `${rowObject(r, row)}\n`).join('');
}

function mdCell(s: string): string {
  return oneLine(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

export function formatMarkdown(r: ResultLike): string {
  if (r.columns.length === 0) return '';
  const numeric = r.columns.map((c) => NUMERIC_TYPES.test(c.type));
  const lines = [
    `| ${r.columns.map((c) => mdCell(c.name)).join(' | ')} |`,
    `| ${numeric.map((num) => (num ? '---:' : '---')).join(' | ')} |`,
  ];
  for (const row of r.rows) lines.push(`| ${r.columns.map((_, i) => mdCell(valueText(row[i]))).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}

/** Render one result in a text format (not 'arrow'). */
export function formatResult(r: ResultLike, format: Exclude<OutputFormat, 'arrow'>): string {
  switch (format) {
    case 'table':
      return formatTable(r);
    case 'csv':
      return formatCsv(r);
    case 'json':
      return formatJson(r);
    case 'ndjson':
      return formatNdjson(r);
    case 'markdown':
      return formatMarkdown(r);
  }
}
