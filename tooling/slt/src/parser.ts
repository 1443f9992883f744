/**
 * Parser of sqllogictest scripts (see record.ts for the grammar).
 *
 * Invariants:
 *  1. Parsing never throws on content: a line the parser cannot place becomes an `unsupported`
 *     record (the runner counts it as skipped and lists it), so one odd record never hides a file.
 *  2. Every non-blank, non-comment line belongs to exactly one record.
 *
 * Concurrency: pure and synchronous.
 */
import type { Condition, QueryRecord, SltRecord, SltScript, SortMode, StatementRecord } from './record.js';

const SORT_MODES: ReadonlySet<string> = new Set(['nosort', 'rowsort', 'valuesort']);
const SQLSTATE_RE = /^[0-9A-Z]{5}$/;
const CONNECTION_RE = /^con[A-Za-z0-9_]*$/;

/** Is `token` a connection name of the DuckDB extension (`con1`, `con_a`, ...)? */
export function isConnectionName(token: string): boolean {
  return CONNECTION_RE.test(token);
}

/** Split a directive line into tokens, dropping a trailing `# comment`. */
function directiveTokens(line: string): string[] {
  const hash = line.indexOf('#');
  const body = hash >= 0 ? line.slice(0, hash) : line;
  return body.trim().split(/\s+/).filter((t) => t.length > 0);
}

function isBlank(line: string): boolean {
  return line.trim().length === 0;
}

/** Parse the text of one script. `fileName` is only used in records' provenance. */
export function parseScript(text: string, fileName = '<inline>'): SltScript {
  const lines = text.split(/\r?\n/);
  // A trailing newline yields one empty last element; it is a blank line and harmless.
  const records: SltRecord[] = [];
  let i = 0;
  const n = lines.length;

  /** Lines from `from` up to (excluding) the next blank line or a line that is exactly `----`. */
  const takeUntil = (from: number, stopAtSeparator: boolean): number => {
    let j = from;
    while (j < n && !isBlank(lines[j]!) && !(stopAtSeparator && lines[j]!.trim() === '----')) j++;
    return j;
  };

  while (i < n) {
    const line = lines[i]!;
    if (isBlank(line) || line.trimStart().startsWith('#')) {
      i++;
      continue;
    }
    const startLine = i + 1;
    const conditions: Condition[] = [];
    let tokens = directiveTokens(line);
    while ((tokens[0] === 'skipif' || tokens[0] === 'onlyif') && i < n) {
      conditions.push({ kind: tokens[0], engine: (tokens[1] ?? '').toLowerCase() });
      i++;
      while (i < n && lines[i]!.trimStart().startsWith('#')) i++;
      if (i >= n || isBlank(lines[i]!)) break;
      tokens = directiveTokens(lines[i]!);
    }
    if (i >= n || isBlank(lines[i]!)) {
      // Conditions with nothing after them: nothing to run.
      continue;
    }
    const head = tokens[0] ?? '';
    if (head === 'statement') {
      const rec = parseStatement(lines, i, tokens, conditions, startLine, takeUntil);
      records.push(rec.record);
      i = rec.next;
    } else if (head === 'query') {
      const rec = parseQuery(lines, i, tokens, conditions, startLine, takeUntil);
      records.push(rec.record);
      i = rec.next;
    } else if (head === 'halt') {
      records.push({ kind: 'halt', conditions, startLine, endLine: i + 1 });
      i++;
    } else if (head === 'hash-threshold' && tokens[1] !== undefined && /^\d+$/.test(tokens[1])) {
      records.push({ kind: 'hash-threshold', threshold: Number(tokens[1]), conditions, startLine, endLine: i + 1 });
      i++;
    } else if (head === 'wait' && tokens.length === 2 && isConnectionName(tokens[1]!)) {
      records.push({ kind: 'wait', connection: tokens[1], conditions, startLine, endLine: i + 1 });
      i++;
    } else if (head === 'restart') {
      records.push({ kind: 'restart', conditions, startLine, endLine: i + 1 });
      i++;
    } else {
      // Unknown directive (DuckDB `require`, `load`, `mode`, `loop` ...): skip its block.
      const end = takeUntil(i, false);
      records.push({ kind: 'unsupported', directive: line.trim(), conditions, startLine, endLine: end });
      i = end;
    }
  }
  return { fileName, records, lines };
}

type TakeUntil = (from: number, stopAtSeparator: boolean) => number;

function parseStatement(
  lines: readonly string[],
  i: number,
  tokens: string[],
  conditions: Condition[],
  startLine: number,
  takeUntil: TakeUntil,
): { record: SltRecord; next: number } {
  const mode = tokens[1];
  if (mode !== 'ok' && mode !== 'error') {
    const end = takeUntil(i, false);
    return { record: { kind: 'unsupported', directive: lines[i]!.trim(), conditions, startLine, endLine: end }, next: end };
  }
  let errorCode: string | undefined;
  let connection: string | undefined;
  let async = false;
  for (const t of tokens.slice(2)) {
    if (mode === 'error' && SQLSTATE_RE.test(t) && errorCode === undefined) errorCode = t;
    else if (isConnectionName(t)) connection = t;
    else if (t === 'async') async = true;
  }
  const sqlEnd = takeUntil(i + 1, true);
  const sql = lines.slice(i + 1, sqlEnd).join('\n');
  let end = sqlEnd;
  let expectedError: string | undefined;
  if (sqlEnd < lines.length && lines[sqlEnd]!.trim() === '----') {
    end = takeUntil(sqlEnd + 1, false);
    expectedError = lines.slice(sqlEnd + 1, end).join('\n').trim();
  }
  const record: StatementRecord = {
    kind: 'statement',
    expect: mode,
    errorCode,
    expectedError,
    connection,
    sql,
    ...(async ? { async } : {}),
    conditions,
    startLine,
    endLine: end,
  };
  return { record, next: end };
}

function parseQuery(
  lines: readonly string[],
  i: number,
  tokens: string[],
  conditions: Condition[],
  startLine: number,
  takeUntil: TakeUntil,
): { record: SltRecord; next: number } {
  const typesToken = tokens[1];
  if (typesToken === undefined) {
    const end = takeUntil(i, false);
    return { record: { kind: 'unsupported', directive: lines[i]!.trim(), conditions, startLine, endLine: end }, next: end };
  }
  const expectError = typesToken === 'error';
  let sortMode: SortMode = 'nosort';
  let label: string | undefined;
  let connection: string | undefined;
  let errorCode: string | undefined;
  let async = false;
  for (const t of tokens.slice(2)) {
    if (t === 'async') async = true;
    else if (SORT_MODES.has(t)) sortMode = t as SortMode;
    else if (expectError && SQLSTATE_RE.test(t) && errorCode === undefined) errorCode = t;
    else if (isConnectionName(t)) connection = t;
    else if (label === undefined) label = t;
  }
  const sqlEnd = takeUntil(i + 1, true);
  const sql = lines.slice(i + 1, sqlEnd).join('\n');
  let end = sqlEnd;
  let expected: string[] = [];
  let resultLine: number | undefined;
  if (sqlEnd < lines.length && lines[sqlEnd]!.trim() === '----') {
    resultLine = sqlEnd + 1;
    end = takeUntil(sqlEnd + 1, false);
    expected = lines.slice(sqlEnd + 1, end).map((l) => l.replace(/\s+$/, ''));
  }
  const record: QueryRecord = {
    kind: 'query',
    types: expectError ? '' : typesToken,
    sortMode,
    label,
    connection,
    sql,
    expected,
    resultLine,
    headerLine: i + 1,
    expectError,
    errorCode,
    ...(async ? { async } : {}),
    conditions,
    startLine,
    endLine: end,
  };
  return { record, next: end };
}

/**
 * Does a record with these conditions run on `engine`? (`skipif X` skips on X; `onlyif X` runs only
 * on X; several conditions must all allow it.)
 */
export function conditionsAllow(conditions: readonly Condition[], engine: string): boolean {
  const e = engine.toLowerCase();
  for (const c of conditions) {
    if (c.kind === 'skipif' && c.engine === e) return false;
    if (c.kind === 'onlyif' && c.engine !== e) return false;
  }
  return true;
}
