/**
 * System catalogs: `information_schema` and the part of `pg_catalog` that psql and ORMs read, plus
 * QuiverDB's own figures (`quiver_tables`, `quiver_indexes`, `pg_locks`). Each is a read-only
 * `TableSource` whose rows are computed from the transaction's catalog view when scanned.
 *
 * Unqualified names resolve to `pg_catalog` relations after the user's tables, as PostgreSQL's
 * search path does for `pg_catalog` (which it searches first; a user table named pg_class is
 * rare enough that QuiverDB lets it win).
 *
 * OIDs (stable while the catalog does not change): namespaces pg_catalog 11, public 2200,
 * information_schema 13000, others 14000+; a table is 16384 + its table id; an index is
 * 1,000,000 + its position in the catalog's index list; types use PostgreSQL's type OIDs.
 *
 * Invariants:
 *  1. Every row has exactly the columns of the relation's `def`, in the physical layout of
 *     common/src/vector.ts.
 *  2. Writes fail with 42501 and change nothing.
 */
import { DbError, SqlState, T, allocateData, physicalTypeOf, type ColumnBatch, type SqlType } from '@quiverdb/common';
import type { IndexDef, ScanBatch, ScanRequest, TableDef, TableSource, TableStats } from '@quiverdb/query';
import type { Database } from '../database.js';
import type { EngineTransaction } from '../transaction.js';
import type { CatalogState, TableMeta } from './catalog-state.js';
import type { Settings } from '../settings.js';
import { checkName } from './alter-table.js';

type Col = readonly [name: string, type: SqlType];
type Row = readonly unknown[];

interface SystemRelation {
  readonly schema: 'pg_catalog' | 'information_schema';
  readonly columns: readonly Col[];
  rows(ctx: SystemContext): Row[];
}

export interface SystemContext {
  readonly db: Database;
  readonly txn: EngineTransaction;
  readonly catalog: CatalogState;
  readonly settings: Settings;
}

/** information_schema.columns.data_type spelling. */
function infoTypeName(t: SqlType): string {
  switch (t.id) {
    case 'VARCHAR': return 'character varying';
    case 'DOUBLE': return 'double precision';
    case 'TIMESTAMP': return 'timestamp without time zone';
    default: return t.id.toLowerCase();
  }
}

const txt = T.text, int = T.integer, bool = T.boolean, big = T.bigint, dbl = T.double, ts = T.timestamp, small = T.smallint;

function userTables(st: CatalogState): TableMeta[] {
  return [...st.tables.values()].sort((a, b) => a.id - b.id);
}

const INFO_TYPE: Record<ConType, string> = { p: 'PRIMARY KEY', u: 'UNIQUE', c: 'CHECK', f: 'FOREIGN KEY' };
const FK_RULE: Record<string, string> = { noAction: 'NO ACTION', restrict: 'RESTRICT', cascade: 'CASCADE', setNull: 'SET NULL', setDefault: 'SET DEFAULT' };
const FK_CODE: Record<string, string> = { noAction: 'a', restrict: 'r', cascade: 'c', setNull: 'n', setDefault: 'd' };
const arr = (xs: readonly (number | string)[]): string => `{${xs.join(',')}}`;
const micros = (iso: string | undefined): number | null => (iso ? Date.parse(iso) * 1000 : null);

/** empty relations psql and ORMs query (no such objects exist in QuiverDB) */
function empty(schema: 'pg_catalog' | 'information_schema', columns: readonly Col[]): SystemRelation {
  return { schema, columns, rows: () => [] };
}

const RELATIONS: Record<string, SystemRelation> = {
  'information_schema.schemata': {
    schema: 'information_schema',
    columns: [['catalog_name', txt], ['schema_name', txt], ['schema_owner', txt]],
    rows: ({ catalog }) => [...catalog.schemas].sort().map((s) => ['quiver', s, 'quiver']),
  },
  'information_schema.tables': {
    schema: 'information_schema',
    columns: [['table_catalog', txt], ['table_schema', txt], ['table_name', txt], ['table_type', txt]],
    rows: ({ catalog }) => [
      ...userTables(catalog).map((t) => ['quiver', t.schema, t.name, 'BASE TABLE']),
      ...[...catalog.views.values()].map((v) => ['quiver', v.schema, v.name, 'VIEW']),
    ],
  },
  'information_schema.columns': {
    schema: 'information_schema',
    columns: [['table_catalog', txt], ['table_schema', txt], ['table_name', txt], ['column_name', txt], ['ordinal_position', int],
      ['column_default', txt], ['is_nullable', txt], ['data_type', txt], ['character_maximum_length', int],
      ['numeric_precision', int], ['numeric_scale', int]],
    rows: ({ catalog }) => userTables(catalog).flatMap((t) => t.columns.map((c, i) => [
      'quiver', t.schema, t.name, c.name, i + 1, c.defaultSql ?? null, c.notNull ? 'NO' : 'YES', infoTypeName(c.type),
      c.type.length ?? null,
      c.type.id === 'INTEGER' ? 32 : c.type.id === 'BIGINT' ? 64 : c.type.id === 'SMALLINT' ? 16 : c.type.id === 'DOUBLE' ? 53 : c.type.id === 'REAL' ? 24 : c.type.precision ?? null,
      c.type.id === 'INTEGER' || c.type.id === 'BIGINT' || c.type.id === 'SMALLINT' ? 0 : c.type.scale ?? null,
    ])),
  },
  'information_schema.views': {
    schema: 'information_schema',
    columns: [['table_catalog', txt], ['table_schema', txt], ['table_name', txt], ['view_definition', txt]],
    rows: ({ catalog }) => [...catalog.views.values()].map((v) => ['quiver', v.schema, v.name, v.sql]),
  },
  'information_schema.table_constraints': {
    schema: 'information_schema',
    columns: [['constraint_catalog', txt], ['constraint_schema', txt], ['constraint_name', txt], ['table_catalog', txt],
      ['table_schema', txt], ['table_name', txt], ['constraint_type', txt]],
    rows: ({ catalog }) => constraintRows(catalog).map((c) => ['quiver', c.schema, c.name, 'quiver', c.schema, c.table, c.type]),
  },
  'information_schema.key_column_usage': {
    schema: 'information_schema',
    columns: [['constraint_catalog', txt], ['constraint_schema', txt], ['constraint_name', txt], ['table_catalog', txt],
      ['table_schema', txt], ['table_name', txt], ['column_name', txt], ['ordinal_position', int]],
    rows: ({ catalog }) => constraintRows(catalog).filter((c) => c.type !== 'CHECK')
      .flatMap((c) => c.columns.map((col, i) => ['quiver', c.schema, c.name, 'quiver', c.schema, c.table, col, i + 1])),
  },
  'pg_catalog.pg_namespace': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['nspname', txt], ['nspowner', int]],
    rows: ({ catalog }) => [...catalog.schemas].sort().map((s) => [nsOid(s, catalog), s, 10]),
  },
  'pg_catalog.pg_class': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['relname', txt], ['relnamespace', int], ['relkind', txt], ['reltuples', dbl], ['relhasindex', bool],
      ['relpersistence', txt], ['relowner', int]],
    rows: ({ db, catalog }) => {
      const rows: Row[] = userTables(catalog).map((t) => [tableOid(t), t.name, nsOid(t.schema, catalog), 'r',
        db.store.hasTable(t.id) ? db.store.rowCount(t.id) : 0, catalog.indexesOf(t.id).length > 0, 'p', 10]);
      [...catalog.indexes.values()].forEach((ix, i) => rows.push([1_000_000 + i, ix.name, nsOid(ix.schema, catalog), 'i', 0, false, 'p', 10]));
      [...catalog.views.values()].forEach((v, i) => rows.push([2_000_000 + i, v.name, nsOid(v.schema, catalog), 'v', 0, false, 'p', 10]));
      return rows;
    },
  },
  'pg_catalog.pg_attribute': {
    schema: 'pg_catalog',
    columns: [['attrelid', int], ['attname', txt], ['atttypid', int], ['attnum', int], ['attnotnull', bool], ['atthasdef', bool],
      ['attisdropped', bool], ['atttypmod', int]],
    rows: ({ catalog }) => userTables(catalog).flatMap((t) => t.columns.map((c, i) => [tableOid(t), c.name, PG_TYPES[c.type.id]!.oid, i + 1,
      c.notNull, c.defaultSql !== undefined, false, c.type.length !== undefined ? c.type.length + 4 : -1])),
  },
  'pg_catalog.pg_type': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['typname', txt], ['typnamespace', int], ['typlen', int], ['typtype', txt]],
    rows: () => Object.values(PG_TYPES).map((t) => [t.oid, t.name, 11, t.len, t.oid === 705 ? 'p' : 'b']),
  },
  'pg_catalog.pg_index': {
    schema: 'pg_catalog',
    columns: [['indexrelid', int], ['indrelid', int], ['indnatts', int], ['indisunique', bool], ['indisprimary', bool], ['indkey', txt]],
    rows: ({ catalog }) => [...catalog.indexes.values()].flatMap((ix, i) => {
      const t = catalog.tablesById.get(ix.tableId);
      return t ? [[1_000_000 + i, tableOid(t), ix.columns.length, ix.unique, ix.primary, ix.columns.map((c) => c + 1).join(' ')]] : [];
    }),
  },
  'pg_catalog.pg_indexes': {
    schema: 'pg_catalog',
    columns: [['schemaname', txt], ['tablename', txt], ['indexname', txt], ['indexdef', txt]],
    rows: ({ catalog }) => [...catalog.indexes.values()].flatMap((ix) => {
      const t = catalog.tablesById.get(ix.tableId);
      if (!t) return [];
      const cols = ix.columns.map((c, i) => t.columns[c]!.name + (ix.descending[i] ? ' DESC' : '')).join(', ');
      const def = `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${ix.name} ON ${t.schema}.${t.name} USING ${ix.method} (${cols})`;
      return [[ix.schema, t.name, ix.name, def]];
    }),
  },
  'pg_catalog.pg_tables': {
    schema: 'pg_catalog',
    columns: [['schemaname', txt], ['tablename', txt], ['tableowner', txt], ['hasindexes', bool]],
    rows: ({ catalog }) => userTables(catalog).map((t) => [t.schema, t.name, 'quiver', catalog.indexesOf(t.id).length > 0]),
  },
  'pg_catalog.pg_views': {
    schema: 'pg_catalog',
    columns: [['schemaname', txt], ['viewname', txt], ['viewowner', txt], ['definition', txt]],
    rows: ({ catalog }) => [...catalog.views.values()].map((v) => [v.schema, v.name, 'quiver', v.sql]),
  },
  'pg_catalog.pg_settings': {
    schema: 'pg_catalog',
    columns: [['name', txt], ['setting', txt]],
    rows: ({ settings }) => [...settings.snapshot()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v]),
  },
  'pg_catalog.pg_locks': {
    schema: 'pg_catalog',
    columns: [['locktype', txt], ['relation', int], ['transactionid', big], ['mode', txt], ['granted', bool], ['pid', big]],
    rows: ({ db }) => db.txns.locks.locks().map((l) => {
      const target = l.target;
      const locktype = target.kind === 'table' ? 'relation' : target.kind === 'row' ? 'tuple' : target.kind === 'transaction' ? 'transactionid' : 'object';
      const relation = target.kind === 'table' || target.kind === 'row' ? 16384 + target.table : null;
      const xid = target.kind === 'transaction' ? BigInt(target.txn) : null;
      return [locktype, relation, xid, l.mode, l.granted, BigInt(l.txn)];
    }),
  },
  'pg_catalog.pg_stat_statements': {
    schema: 'pg_catalog',
    columns: [['query', txt], ['calls', big], ['total_exec_time', dbl], ['mean_exec_time', dbl], ['min_exec_time', dbl],
      ['max_exec_time', dbl], ['rows', big]],
    rows: ({ db }) => db.statementStats.entries().map((e) => [e.query, BigInt(e.calls), e.totalMs, e.totalMs / e.calls, e.minMs, e.maxMs, BigInt(e.rows)]),
  },
  'pg_catalog.quiver_tables': {
    schema: 'pg_catalog',
    columns: [['schema_name', txt], ['table_name', txt], ['rows', big], ['segments', big], ['delta_rows', big], ['deleted_rows', big], ['bytes', big]],
    rows: ({ db, catalog }) => {
      const stats = new Map(db.store.stats().tables.map((t) => [t.id as number, t]));
      return userTables(catalog).map((t) => {
        const s = stats.get(t.id);
        return [t.schema, t.name, BigInt(s?.rows ?? 0), BigInt(s?.segments ?? 0), BigInt(s?.deltaRows ?? 0), BigInt(s?.deletedRows ?? 0), BigInt(s?.bytes ?? 0)];
      });
    },
  },
};

/** The system relation for a name, or undefined. Unqualified names look in pg_catalog. */
export function systemRelation(schema: string | undefined, name: string): { key: string; rel: SystemRelation } | undefined {
  const key = schema === undefined ? `pg_catalog.${name}` : `${schema}.${name}`;
  const rel = RELATIONS[key];
  return rel ? { key, rel } : undefined;
}

export function systemTableNames(): string[] {
  return Object.keys(RELATIONS);
}

export class SystemTable implements TableSource {
  readonly def: TableDef;
  readonly #rel: SystemRelation;
  readonly #ctx: SystemContext;

  constructor(name: string, rel: SystemRelation, ctx: SystemContext) {
    this.#rel = rel;
    this.#ctx = ctx;
    this.def = { schema: rel.schema, name, columns: rel.columns.map(([n, type]) => ({ name: n, type, notNull: false })) };
  }

  stats(): TableStats {
    return { rowCount: 100 };
  }

  indexes(): readonly IndexDef[] {
    return [];
  }

  async *scan(req: ScanRequest): AsyncIterable<ScanBatch> {
    const rows = this.#rel.rows(this.#ctx);
    const batch = toBatch(rows, req.columns.map((c) => [c, this.#rel.columns[c]![1]] as const));
    yield req.withRowIds ? { batch, rowIds: Float64Array.from(rows.keys()) } : { batch };
  }

  insert(): Promise<number> { return this.#readOnly(); }
  delete(): Promise<number> { return this.#readOnly(); }
  update(): Promise<number> { return this.#readOnly(); }

  #readOnly(): never {
    throw new DbError(SqlState.InsufficientPrivilege, `permission denied for table ${this.def.name}`);
  }
}

/** Rows (one JS value per column, null = NULL) → a batch of the given columns and types. */
function toBatch(rows: readonly Row[], cols: readonly (readonly [number, SqlType])[]): ColumnBatch {
  const n = rows.length;
  return {
    length: n,
    columns: cols.map(([c, type]) => {
      const data = allocateData(physicalTypeOf(type), n) as unknown[];
      let validity: Uint8Array | null = null;
      for (let i = 0; i < n; i++) {
        const v = rows[i]![c];
        if (v === null || v === undefined) {
          validity ??= new Uint8Array(n).fill(1);
          validity[i] = 0;
        } else {
          data[i] = type.id === 'BOOLEAN' ? (v ? 1 : 0) : v;
        }
      }
      return { data: data as ColumnBatch['columns'][number]['data'], validity };
    }),
  };
}

