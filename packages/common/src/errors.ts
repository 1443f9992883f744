/**
 * Errors for every layer of QuiverDB.
 *
 * A `DbError` carries a PostgreSQL SQLSTATE in `code`. The pgwire server copies `code`
 * straight into the ErrorResponse `C` field, and tests assert on `code`, never on message text.
 *
 * Invariants:
 *  1. `code` is always a 5-character SQLSTATE from `SqlState`.
 *  2. `InternalError` messages say "this is a bug".
 */

/**
 * SQLSTATE codes used by QuiverDB.
 * DO NOT CHANGE THE VALUES: they are wire-visible (PostgreSQL protocol, HTTP API, CLI exit output).
 */
export const SqlState = {
  SuccessfulCompletion: '00000',
  Warning: '01000',
  NoData: '02000',
  ConnectionException: '08000',
  ProtocolViolation: '08P01',
  FeatureNotSupported: '0A000',
  CardinalityViolation: '21000',
  DataException: '22000',
  StringDataRightTruncation: '22001',
  NumericValueOutOfRange: '22003',
  NullValueNotAllowed: '22004',
  InvalidDatetimeFormat: '22007',
  DatetimeFieldOverflow: '22008',
  InvalidParameterValue: '22023',
  DivisionByZero: '22012',
  InvalidTextRepresentation: '22P02',
  InvalidEscapeSequence: '22025',
  IntegrityConstraintViolation: '23000',
  NotNullViolation: '23502',
  ForeignKeyViolation: '23503',
  UniqueViolation: '23505',
  CheckViolation: '23514',
  InvalidTransactionState: '25000',
  ActiveSqlTransaction: '25001',
  NoActiveSqlTransaction: '25P01',
  InFailedSqlTransaction: '25P02',
  ReadOnlySqlTransaction: '25006',
  InvalidSqlStatementName: '26000',
  InvalidCursorName: '34000',
  InvalidSavepointSpecification: '3B001',
  TransactionRollback: '40000',
  SerializationFailure: '40001',
  DeadlockDetected: '40P01',
  SyntaxError: '42601',
  InsufficientPrivilege: '42501',
  UndefinedColumn: '42703',
  UndefinedFunction: '42883',
  UndefinedTable: '42P01',
  UndefinedObject: '42704',
  UndefinedParameter: '42P02',
  DuplicateColumn: '42701',
  DuplicateTable: '42P07',
  DuplicateObject: '42710',
  DuplicateSchema: '42P06',
  AmbiguousColumn: '42702',
  AmbiguousFunction: '42725',
  AmbiguousAlias: '42P09',
  DatatypeMismatch: '42804',
  GroupingError: '42803',
  WindowingError: '42P20',
  InvalidColumnReference: '42P10',
  InvalidRecursion: '42P19',
  WrongObjectType: '42809',
  InvalidTableDefinition: '42P16',
  InvalidForeignKey: '42830',
  DependentObjectsStillExist: '2BP01',
  CannotCoerce: '42846',
  InvalidName: '42602',
  ObjectNotInPrerequisiteState: '55000',
  ObjectInUse: '55006',
  LockNotAvailable: '55P03',
  InsufficientResources: '53000',
  OutOfMemory: '53200',
  DiskFull: '53100',
  ProgramLimitExceeded: '54000',
  QueryCanceled: '57014',
  AdminShutdown: '57P01',
  IoError: '58030',
  ConfigFileError: 'F0000',
  InternalError: 'XX000',
  DataCorrupted: 'XX001',
  IndexCorrupted: 'XX002',
} as const;

export type SqlState = (typeof SqlState)[keyof typeof SqlState];

export interface DbErrorOptions {
  /** 1-based character position in the SQL text, as PostgreSQL reports it. */
  position?: number;
  detail?: string;
  hint?: string;
  cause?: unknown;
}

export class DbError extends Error {
  readonly code: SqlState;
  readonly position: number | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;

  constructor(code: SqlState, message: string, options: DbErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DbError';
    this.code = code;
    this.position = options.position;
    this.detail = options.detail;
    this.hint = options.hint;
  }

  /** Wrap an error with context at a layer boundary, keeping the SQLSTATE of a DbError cause. */
  static wrap(context: string, err: unknown): DbError {
    if (err instanceof DbError) {
      return new DbError(err.code, `${context}: ${err.message}`, { cause: err, position: err.position, detail: err.detail, hint: err.hint });
    }
    const msg = err instanceof Error ? err.message : String(err);
    return new InternalError(`${context}: ${msg}`, { cause: err });
  }
}

export class SyntaxError extends DbError {
  constructor(message: string, options?: DbErrorOptions) { super(SqlState.SyntaxError, message, options); }
}
export class UndefinedTable extends DbError {
  constructor(message: string, options?: DbErrorOptions) { super(SqlState.UndefinedTable, message, options); }
}
export class DatatypeMismatch extends DbError {
  constructor(message: string, options?: DbErrorOptions) { super(SqlState.DatatypeMismatch, message, options); }
}
export class SerializationFailure extends DbError {
  constructor(message: string, options?: DbErrorOptions) { super(SqlState.SerializationFailure, message, options); }
}
export class DeadlockDetected extends DbError {
  constructor(message: string, options?: DbErrorOptions) { super(SqlState.DeadlockDetected, message, options); }
}
export class FeatureNotSupported extends DbError {
  constructor(message: string, options?: DbErrorOptions) { super(SqlState.FeatureNotSupported, message, options); }
}
export class OutOfMemory extends DbError {
  constructor(message: string, options?: DbErrorOptions) { super(SqlState.OutOfMemory, message, options); }
}
export class IoError extends DbError {
  constructor(message: string, options?: DbErrorOptions) { super(SqlState.IoError, message, options); }
}
export class DataCorrupted extends DbError {
  constructor(message: string, options?: DbErrorOptions) { super(SqlState.DataCorrupted, message, options); }
}
export class InternalError extends DbError {
  constructor(message: string, options?: DbErrorOptions) {
    super(SqlState.InternalError, `internal error (this is a bug): ${message}`, options);
  }
}

/** Errors after which the current transaction can only be rolled back (PostgreSQL: every error). */
export function invalidatesTransaction(err: unknown): boolean {
  return err instanceof DbError || err instanceof Error;
}

/** Errors after which the database must not accept more writes (corruption, I/O failure on the WAL). */
export function invalidatesDatabase(err: unknown): boolean {
  return err instanceof DbError && (err.code === SqlState.DataCorrupted || err.code === SqlState.IoError || err.code === SqlState.DiskFull);
}

/** Is `err` a DbError with SQLSTATE `code`? */
export function isDbError(err: unknown, code?: SqlState): err is DbError {
  return err instanceof DbError && (code === undefined || err.code === code);
}
