/**
 * Rewriting the bench's PostgreSQL-style SQL for each engine, and formatting values as literals.
 */
import { daysToDate, type ColumnKind, type TableData, type TableDef } from '../table-data.js';

export type Dialect = 'postgres' | 'duckdb' | 'sqlite' | 'alasql';

export function dialectOf(engine: 'quiverdb' | 'duckdb' | 'sqlite' | 'pglite' | 'alasql'): Dialect {
  return engine === 'quiverdb' || engine === 'pglite' ? 'postgres' : engine;
}

/** `DATE 'x'` → `'x'` (engines that keep dates as ISO text). */
export function stripDateLiterals(sql: string): string {
  return sql.replace(/\bDATE\s+'(\d{4}-\d{2}-\d{2})'/gi, "'$1'");
}

/** `$1, $2 ...` → `?` in order. REQUIRES: each placeholder appears once, numbered in order. */
export function positionalPlaceholders(sql: string): string {
  return sql.replace(/\$\d+/g, '?');
}

export function sqlType(kind: ColumnKind, dialect: Dialect): string {
  switch (kind) {
    case 'int': return 'INTEGER';
    case 'double': return dialect === 'postgres' ? 'DOUBLE PRECISION' : dialect === 'sqlite' ? 'REAL' : dialect === 'alasql' ? 'NUMBER' : 'DOUBLE';
    case 'varchar': return dialect === 'sqlite' ? 'TEXT' : dialect === 'alasql' ? 'STRING' : 'VARCHAR';
    case 'date': return dialect === 'sqlite' ? 'TEXT' : dialect === 'alasql' ? 'STRING' : 'DATE';
  }
}

export function createTableSql(def: TableDef, dialect: Dialect): string {
  const cols = def.columns.map((c) => {
    const single = def.primaryKey?.length === 1 && def.primaryKey[0] === c.name;
    return `${c.name} ${sqlType(c.kind, dialect)}${single ? ' PRIMARY KEY' : ''}`;
  });
  if (def.primaryKey && def.primaryKey.length > 1 && dialect !== 'alasql') cols.push(`PRIMARY KEY (${def.primaryKey.join(', ')})`);
  return `CREATE TABLE ${def.name} (${cols.join(', ')})`;
}

export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A literal for a value of `kind` (dates given as days since 1970). */
export function literal(value: number | string, kind: ColumnKind, dialect: Dialect): string {
  switch (kind) {
    case 'int': return String(value);
    case 'double': {
      const s = String(value);
      return /[.eE]/.test(s) || dialect !== 'postgres' ? s : `${s}.0`;
    }
    case 'varchar': return quoteString(value as string);
    case 'date': {
      const iso = typeof value === 'number' ? daysToDate(value) : value;
      return dialect === 'sqlite' || dialect === 'alasql' ? quoteString(iso) : `DATE ${quoteString(iso)}`;
    }
  }
}

/** `INSERT INTO t VALUES (...), (...)` for rows `from .. to - 1` of `data`. */
export function multiRowInsert(data: TableData, from: number, to: number, dialect: Dialect, tableName = data.def.name): string {
  const kinds = data.def.columns.map((c) => c.kind);
  const tuples: string[] = [];
  for (let r = from; r < to; r++) {
    const vals = data.columns.map((col, c) => literal(col[r]!, kinds[c]!, dialect));
    tuples.push(`(${vals.join(', ')})`);
  }
  return `INSERT INTO ${tableName} VALUES ${tuples.join(', ')}`;
}
