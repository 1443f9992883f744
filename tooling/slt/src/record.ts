/**
 * The records of a sqllogictest script, as the parser produces them and the runner consumes them.
 *
 * A script is a sequence of records separated by blank lines (sqllogictest format, plus the
 * DuckDB extensions QuiverDB uses in its own `test/sql/**` files):
 *
 *   script     := (record | control | comment | blank)*
 *   record     := condition* (statement | query)
 *   condition  := ('skipif' | 'onlyif') ENGINE ['#' comment]
 *   statement  := 'statement' ('ok' | 'error' [SQLSTATE]) [CONNECTION] ['async'] NL sql-lines
 *                 ['----' NL expected-error-lines]
 *   query      := 'query' TYPES [SORTMODE] [LABEL] [CONNECTION] ['async'] NL sql-lines
 *                 ['----' NL result-lines]
 *   control    := condition* ('halt' | 'hash-threshold' N | 'restart' | 'wait' CONNECTION)
 *                 (`async` starts the record in the background and requires it to BLOCK: still
 *                 unsettled after a short grace; `wait conX` awaits and judges it: QuiverDB)
 *                 (`restart` closes the database and opens the same directory again: DuckDB)
 *   TYPES      := [ITR]+ (any other letter is treated as T)   SORTMODE := nosort | rowsort | valuesort
 *   CONNECTION := 'con' [A-Za-z0-9_]*                          SQLSTATE := [0-9A-Z]{5}
 *
 * Invariants:
 *  1. `startLine`/`endLine` are 1-based and inclusive and cover the record's own lines (conditions
 *     included), so `--complete` can splice a rewritten record back into the file.
 *  2. `resultLine` (when set) is the line index of `----`; result lines follow it up to `endLine`.
 *  3. `sql` never contains the `----` separator or the result lines.
 */

/** Sort modes of the reference harness: exhaustive and mutually exclusive. */
export type SortMode = 'nosort' | 'rowsort' | 'valuesort';

/** `skipif X` / `onlyif X` guards in front of a record. */
export interface Condition {
  readonly kind: 'skipif' | 'onlyif';
  readonly engine: string;
}

interface RecordBase {
  readonly conditions: readonly Condition[];
  /** 1-based first line of the record (its first condition, or its header). */
  readonly startLine: number;
  /** 1-based last line of the record. */
  readonly endLine: number;
}

export interface StatementRecord extends RecordBase {
  readonly kind: 'statement';
  readonly expect: 'ok' | 'error';
  /** For `statement error <SQLSTATE>`: the code the DbError must carry. */
  readonly errorCode: string | undefined;
  /** DuckDB style: lines after `----` of a `statement error` (a SQLSTATE or a message substring). */
  readonly expectedError: string | undefined;
  readonly connection: string | undefined;
  readonly sql: string;
  /** `async`: run in the background; must still be blocked after a grace period; judged by `wait`. */
  readonly async?: boolean;
}

export interface QueryRecord extends RecordBase {
  readonly kind: 'query';
  /** One letter per column: I integer, R real, T text (others are read as T). */
  readonly types: string;
  readonly sortMode: SortMode;
  readonly label: string | undefined;
  readonly connection: string | undefined;
  readonly sql: string;
  /** Lines after `----` (raw, without the trailing blank line); empty when no result was given. */
  readonly expected: readonly string[];
  /** 1-based line of `----`, or undefined when the record has none. */
  readonly resultLine: number | undefined;
  /** 1-based line of the `query ...` header (after any conditions). */
  readonly headerLine: number;
  /** `query error [SQLSTATE]`: the query must fail. */
  readonly expectError: boolean;
  readonly errorCode: string | undefined;
  /** `async`: see StatementRecord.async */
  readonly async?: boolean;
}

/** `wait conX`: await the connection's pending `async` record and judge it. */
export interface WaitRecord extends RecordBase {
  readonly kind: 'wait';
  readonly connection: string | undefined;
}

export interface HaltRecord extends RecordBase {
  readonly kind: 'halt';
}

export interface RestartRecord extends RecordBase {
  readonly kind: 'restart';
}

export interface HashThresholdRecord extends RecordBase {
  readonly kind: 'hash-threshold';
  readonly threshold: number;
}

/** Records the runner does not understand (e.g. DuckDB `require`, `load`, `mode`): skipped and counted. */
export interface UnsupportedRecord extends RecordBase {
  readonly kind: 'unsupported';
  readonly directive: string;
}

export type SltRecord = StatementRecord | QueryRecord | HaltRecord | HashThresholdRecord | RestartRecord | WaitRecord | UnsupportedRecord;

export interface SltScript {
  readonly fileName: string;
  readonly records: readonly SltRecord[];
  /** The original lines (without line terminators), kept for `--complete`. */
  readonly lines: readonly string[];
}
