/**
 * System catalogs: `information_schema` and the part of `pg_catalog` that psql and ORMs read, the
 * statistics views (`pg_stat_user_tables`, `pg_stat_statements`, `pg_stat_wal`), plus QuiverDB's
 * own figures (`quiver_tables`, `quiver_indexes`, `pg_locks`). Each is a read-only
 * `TableSource` whose rows are computed from the transaction's catalog view when scanned.
 *
 * Unqualified names resolve to `pg_catalog` relations after the user's tables, as PostgreSQL's
 * search path does for `pg_catalog` (which it searches first; a user table named pg_class is
 * rare enough that QuiverDB lets it win).
 *
 * OIDs follow the scheme of catalog-oids.ts, shared with the catalog functions (catalog-functions.ts:
 * pg_get_constraintdef, pg_get_indexdef, regclass lookups...), so joins across relations hold.
 * Array-valued columns of PostgreSQL (conkey, polroles, stxkind...) are TEXT in PostgreSQL's
 * array text form ('{1,2}'); int2vector / oidvector columns (indkey, indoption) are
 * space-separated TEXT, as PostgreSQL prints them.
 *
 * Invariants:
 *  1. Every row has exactly the columns of the relation's `def`, in the physical layout of
 *     common/src/vector.ts.
 *  2. Writes fail with 42501 and change nothing.
 */
import { DbError, SqlState, T, allocateData, physicalTypeOf, type ColumnBatch, type SqlType } from '@quiverdb/common';
import { parseSql, prepareStatement } from '@quiverdb/query';
import type { Catalog, IndexDef, ScanBatch, ScanRequest, TableDef, TableSource, TableStats, ViewDef } from '@quiverdb/query';
import type { Database } from '../database.js';
import { decodeRowKeyLock, type EngineTransaction } from '../transaction.js';
import type { CatalogState, TableMeta } from './catalog-state.js';
import type { Settings } from '../settings.js';
import {
  AM_OID, PG_EXTRA_TYPES, PG_TYPES, SEQUENCE_OID_BASE, SYSTEM_REL_OID_BASE, VIEW_OID_BASE, allConstraints, attrdefOid, indexOids, nsOid, serverVersionNum, tableOid, typmodOf,
  type ConType,
} from './catalog-oids.js';

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
  /** the session's query catalog (to bind view definitions for their columns) */
  readonly session?: Catalog;
}

/** A view's output columns, by binding its SELECT in the session (none if it no longer binds). */
function viewColumns(ctx: SystemContext, v: ViewDef): { name: string; type: SqlType }[] {
  if (!ctx.session) return [];
  try {
    const [stmt] = parseSql(v.sql);
    const p = prepareStatement(stmt!, { catalog: ctx.session, params: [], settings: new Map(ctx.settings.snapshot()), txnStartTime: new Date() });
    return (p.columns ?? []).map((c, i) => ({ name: v.columnNames?.[i] ?? c.name, type: c.type }));
  } catch {
    return [];
  }
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
/** ms since the epoch → ISO text (as `last_analyze`), or null */
const isoOf = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** a sequence's data type, from its maximum (serial columns get integer sequences) */
const seqTypeOid = (max: bigint): number => (max === 32767n ? 21 : max === 2147483647n ? 23 : 20);
const seqTypeName = (max: bigint): string => ({ 21: 'smallint', 23: 'integer', 20: 'bigint' } as Record<number, string>)[seqTypeOid(max)]!;

/** A column default as PostgreSQL deparses it: nextval's argument is a regclass. */
function pgDefault(sql: string): string {
  return sql.replace(/^nextval\('((?:[^']|'')*)'\)$/i, "nextval('$1'::regclass)");
}

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
    columns: [['table_catalog', txt], ['table_schema', txt], ['table_name', txt], ['table_type', txt], ['is_insertable_into', txt]],
    rows: ({ catalog }) => [
      ...userTables(catalog).map((t) => ['quiver', t.schema, t.name, 'BASE TABLE', 'YES']),
      ...[...catalog.views.values()].map((v) => ['quiver', v.schema, v.name, 'VIEW', 'NO']),
    ],
  },
  'information_schema.columns': {
    schema: 'information_schema',
    columns: [['table_catalog', txt], ['table_schema', txt], ['table_name', txt], ['column_name', txt], ['ordinal_position', int],
      ['column_default', txt], ['is_nullable', txt], ['data_type', txt], ['character_maximum_length', int],
      ['numeric_precision', int], ['numeric_scale', int], ['datetime_precision', int], ['udt_catalog', txt], ['udt_schema', txt], ['udt_name', txt],
      ['is_identity', txt], ['identity_generation', txt], ['is_generated', txt], ['generation_expression', txt], ['is_updatable', txt],
      ['collation_name', txt]],
    rows: (ctx) => [...userTables(ctx.catalog), ...[...ctx.catalog.views.values()].map((v) => ({ schema: v.schema, name: v.name, columns: viewColumns(ctx, v) }))]
      .flatMap((t) => t.columns.map((c: { name: string; type: SqlType; notNull?: boolean; defaultSql?: string }, i) => [
      'quiver', t.schema, t.name, c.name, i + 1, c.defaultSql === undefined ? null : pgDefault(c.defaultSql), c.notNull ? 'NO' : 'YES', infoTypeName(c.type),
      c.type.length ?? null,
      c.type.id === 'INTEGER' ? 32 : c.type.id === 'BIGINT' ? 64 : c.type.id === 'SMALLINT' ? 16 : c.type.id === 'DOUBLE' ? 53 : c.type.id === 'REAL' ? 24 : c.type.precision ?? null,
      c.type.id === 'INTEGER' || c.type.id === 'BIGINT' || c.type.id === 'SMALLINT' ? 0 : c.type.scale ?? null,
      c.type.id === 'TIMESTAMP' ? 6 : c.type.id === 'DATE' ? 0 : null,
      'quiver', 'pg_catalog', PG_TYPES[c.type.id]!.name, 'NO', null, 'NEVER', null, 'YES', null,
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
      ['table_schema', txt], ['table_name', txt], ['constraint_type', txt], ['is_deferrable', txt], ['initially_deferred', txt], ['enforced', txt]],
    rows: ({ catalog }) => allConstraints(catalog).map((c) => ['quiver', c.table.schema, c.name, 'quiver', c.table.schema, c.table.name, INFO_TYPE[c.type], 'NO', 'NO', 'YES']),
  },
  'information_schema.key_column_usage': {
    schema: 'information_schema',
    columns: [['constraint_catalog', txt], ['constraint_schema', txt], ['constraint_name', txt], ['table_catalog', txt],
      ['table_schema', txt], ['table_name', txt], ['column_name', txt], ['ordinal_position', int], ['position_in_unique_constraint', int]],
    rows: ({ catalog }) => allConstraints(catalog).filter((c) => c.type !== 'c')
      .flatMap((c) => c.columns.map((col, i) => ['quiver', c.table.schema, c.name, 'quiver', c.table.schema, c.table.name, c.table.columns[col]!.name, i + 1,
        c.type === 'f' ? i + 1 : null])),
  },
  'information_schema.referential_constraints': {
    schema: 'information_schema',
    columns: [['constraint_catalog', txt], ['constraint_schema', txt], ['constraint_name', txt], ['unique_constraint_catalog', txt],
      ['unique_constraint_schema', txt], ['unique_constraint_name', txt], ['match_option', txt], ['update_rule', txt], ['delete_rule', txt]],
    rows: ({ catalog }) => allConstraints(catalog).flatMap((c) => {
      if (c.type !== 'f') return [];
      const parent = catalog.tablesById.get(c.fk!.refTableId);
      return [['quiver', c.table.schema, c.name, 'quiver', parent?.schema ?? null, c.fk!.refIndex, 'NONE', FK_RULE[c.fk!.onUpdate], FK_RULE[c.fk!.onDelete]]];
    }),
  },
  'information_schema.constraint_column_usage': {
    schema: 'information_schema',
    columns: [['table_catalog', txt], ['table_schema', txt], ['table_name', txt], ['column_name', txt], ['constraint_catalog', txt],
      ['constraint_schema', txt], ['constraint_name', txt]],
    // for a foreign key, the referenced columns (as PostgreSQL); otherwise the constrained ones
    rows: ({ catalog }) => allConstraints(catalog).flatMap((c) => {
      const t = c.type === 'f' ? catalog.tablesById.get(c.fk!.refTableId) : c.table;
      const cols = c.type === 'f' ? c.fk!.refColumns : c.columns;
      return t ? cols.map((k) => ['quiver', t.schema, t.name, t.columns[k]!.name, 'quiver', c.table.schema, c.name]) : [];
    }),
  },
  'information_schema.check_constraints': {
    schema: 'information_schema',
    columns: [['constraint_catalog', txt], ['constraint_schema', txt], ['constraint_name', txt], ['check_clause', txt]],
    rows: ({ catalog }) => allConstraints(catalog).filter((c) => c.type === 'c').map((c) => ['quiver', c.table.schema, c.name, c.check!]),
  },
  'information_schema.sequences': {
    schema: 'information_schema',
    columns: [['sequence_catalog', txt], ['sequence_schema', txt], ['sequence_name', txt], ['data_type', txt], ['start_value', txt],
      ['minimum_value', txt], ['maximum_value', txt], ['increment', txt], ['cycle_option', txt]],
    rows: ({ catalog }) => [...catalog.sequences.values()].map((q) => ['quiver', q.schema, q.name, seqTypeName(q.max), String(q.start), String(q.min), String(q.max),
      String(q.increment), q.cycle ? 'YES' : 'NO']),
  },
  'information_schema.triggers': empty('information_schema', [['trigger_catalog', txt], ['trigger_schema', txt], ['trigger_name', txt],
    ['event_manipulation', txt], ['event_object_schema', txt], ['event_object_table', txt], ['action_statement', txt], ['action_orientation', txt],
    ['action_timing', txt]]),
  'information_schema.routines': empty('information_schema', [['specific_schema', txt], ['specific_name', txt], ['routine_schema', txt],
    ['routine_name', txt], ['routine_type', txt], ['data_type', txt], ['routine_definition', txt], ['external_language', txt]]),
  'pg_catalog.pg_namespace': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['nspname', txt], ['nspowner', int], ['nspacl', txt]],
    rows: ({ catalog }) => [...catalog.schemas].sort().map((s) => [nsOid(s, catalog), s, 10, null]),
  },
  'pg_catalog.pg_class': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['relname', txt], ['relnamespace', int], ['reltype', int], ['reloftype', int], ['relowner', int], ['relam', int],
      ['relfilenode', int], ['reltablespace', int], ['relpages', int], ['reltuples', dbl], ['relallvisible', int], ['reltoastrelid', int],
      ['relhasindex', bool], ['relisshared', bool], ['relpersistence', txt], ['relkind', txt], ['relnatts', small], ['relchecks', small],
      ['relhasrules', bool], ['relhastriggers', bool], ['relhassubclass', bool], ['relrowsecurity', bool], ['relforcerowsecurity', bool],
      ['relispopulated', bool], ['relreplident', txt], ['relispartition', bool], ['relrewrite', int], ['relacl', txt], ['reloptions', txt],
      ['relpartbound', txt]],
    rows: ({ db, catalog }) => {
      const rel = (oid: number, name: string, schema: string, kind: string, am: number, tuples: number, hasIndex: boolean, natts: number, checks: number, triggers: boolean): Row =>
        [oid, name, nsOid(schema, catalog), 0, 0, 10, am, oid, 0, 0, tuples, 0, 0, hasIndex, false, 'p', kind, natts, checks,
          kind === 'v', triggers, false, false, false, true, 'd', false, 0, null, null, null];
      const rows: Row[] = userTables(catalog).map((t) => rel(tableOid(t), t.name, t.schema, 'r', AM_OID.heap!,
        db.store.hasTable(t.id) ? db.store.rowCount(t.id) : 0, catalog.indexesOf(t.id).length > 0, t.columns.length, t.checks?.length ?? 0,
        (t.foreignKeys?.length ?? 0) > 0 || catalog.referencing(t.id).length > 0));
      for (const [ix, oid] of indexOids(catalog)) rows.push(rel(oid, ix.name, ix.schema, 'i', AM_OID[ix.method] ?? AM_OID.btree!, 0, false, ix.columns.length, 0, false));
      [...catalog.views.values()].forEach((v, i) => rows.push(rel(VIEW_OID_BASE + i, v.name, v.schema, 'v', 0, 0, false, 0, 0, false)));
      [...catalog.sequences.values()].forEach((q, i) => rows.push(rel(SEQUENCE_OID_BASE + i, q.name, q.schema, 'S', 0, 1, false, 3, 0, false)));
      // the system relations themselves, as views (so `\d pg_class` and `\dS` describe them)
      Object.entries(RELATIONS).forEach(([key, r], i) => rows.push(rel(SYSTEM_REL_OID_BASE + i, key.slice(r.schema.length + 1), r.schema, 'v', 0, 0, false, r.columns.length, 0, false)));
      return rows;
    },
  },
  'pg_catalog.pg_attribute': {
    schema: 'pg_catalog',
    columns: [['attrelid', int], ['attname', txt], ['atttypid', int], ['attstattarget', int], ['attlen', small], ['attnum', small],
      ['attndims', int], ['atttypmod', int], ['attnotnull', bool], ['atthasdef', bool], ['atthasmissing', bool], ['attidentity', txt],
      ['attgenerated', txt], ['attisdropped', bool], ['attislocal', bool], ['attinhcount', int], ['attcollation', int], ['attstorage', txt],
      ['attcompression', txt], ['attacl', txt], ['attoptions', txt], ['attfdwoptions', txt]],
    rows: (ctx) => {
      const { catalog } = ctx;
      const att = (rel: number, name: string, t: SqlType, num: number, notNull: boolean, hasDef: boolean): Row => {
        const ty = PG_TYPES[t.id]!;
        const textual = t.id === 'TEXT' || t.id === 'VARCHAR';
        return [rel, name, ty.oid, -1, ty.len, num, 0, typmodOf(t), notNull, hasDef, false, '', '', false, true, 0, textual ? 100 : 0,
          ty.len === -1 ? 'x' : 'p', '', null, null, null];
      };
      const rows: Row[] = userTables(catalog).flatMap((t) => t.columns.map((c, i) => att(tableOid(t), c.name, c.type, i + 1, c.notNull, c.defaultSql !== undefined)));
      for (const [ix, oid] of indexOids(catalog)) {
        const t = catalog.tablesById.get(ix.tableId);
        if (t) ix.columns.forEach((c, i) => rows.push(att(oid, t.columns[c]!.name, t.columns[c]!.type, i + 1, false, false)));
      }
      [...catalog.views.values()].forEach((v, i) => viewColumns(ctx, v).forEach((c, k) => rows.push(att(VIEW_OID_BASE + i, c.name, c.type, k + 1, false, false))));
      Object.values(RELATIONS).forEach((r, i) => r.columns.forEach(([n, t], k) => rows.push(att(SYSTEM_REL_OID_BASE + i, n, t, k + 1, false, false))));
      return rows;
    },
  },
  'pg_catalog.pg_attrdef': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['adrelid', int], ['adnum', small], ['adbin', txt]],
    rows: ({ catalog }) => userTables(catalog).flatMap((t) => t.columns.flatMap((c, i) =>
      (c.defaultSql === undefined ? [] : [[attrdefOid(t, i + 1), tableOid(t), i + 1, pgDefault(c.defaultSql)]]))),
  },
  'pg_catalog.pg_type': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['typname', txt], ['typnamespace', int], ['typowner', int], ['typlen', small], ['typbyval', bool], ['typtype', txt],
      ['typcategory', txt], ['typispreferred', bool], ['typisdefined', bool], ['typdelim', txt], ['typrelid', int], ['typelem', int],
      ['typarray', int], ['typinput', txt], ['typoutput', txt], ['typbasetype', int], ['typtypmod', int], ['typndims', int],
      ['typcollation', int], ['typnotnull', bool], ['typdefault', txt]],
    rows: () => {
      const rows: Row[] = [];
      for (const t of [...Object.values(PG_TYPES), ...PG_EXTRA_TYPES]) {
        const coll = t.category === 'S' ? 100 : 0;
        rows.push([t.oid, t.name, 11, 10, t.len, t.len > 0 && t.len <= 8, t.oid === 705 ? 'p' : 'b', t.category, false, true, ',', 0, 0,
          t.array, `${t.name}in`, `${t.name}out`, 0, -1, 0, coll, false, null]);
        if (t.array) rows.push([t.array, `_${t.name}`, 11, 10, -1, false, 'b', 'A', false, true, ',', 0, t.oid, 0, 'array_in', 'array_out', 0, -1, 0, coll, false, null]);
      }
      return rows;
    },
  },
  'pg_catalog.pg_index': {
    schema: 'pg_catalog',
    columns: [['indexrelid', int], ['indrelid', int], ['indnatts', small], ['indnkeyatts', small], ['indisunique', bool],
      ['indnullsnotdistinct', bool], ['indisprimary', bool], ['indisexclusion', bool], ['indimmediate', bool], ['indisclustered', bool],
      ['indisvalid', bool], ['indcheckxmin', bool], ['indisready', bool], ['indislive', bool], ['indisreplident', bool], ['indkey', txt],
      ['indcollation', txt], ['indclass', txt], ['indoption', txt], ['indexprs', txt], ['indpred', txt]],
    rows: ({ catalog }) => [...indexOids(catalog)].flatMap(([ix, oid]) => {
      const t = catalog.tablesById.get(ix.tableId);
      if (!t) return [];
      const n = ix.columns.length;
      // indoption bits: 1 = DESC, 2 = NULLS FIRST (PostgreSQL's default for DESC)
      return [[oid, tableOid(t), n, n, ix.unique, false, ix.primary, false, true, false, true, false, true, true, false,
        ix.columns.map((c) => c + 1).join(' '), ix.columns.map((c) => (t.columns[c]!.type.id === 'TEXT' || t.columns[c]!.type.id === 'VARCHAR' ? 100 : 0)).join(' '),
        ix.columns.map(() => 0).join(' '), ix.descending.map((d) => (d ? 3 : 0)).join(' '), null, null]];
    }),
  },
  'pg_catalog.pg_constraint': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['conname', txt], ['connamespace', int], ['contype', txt], ['condeferrable', bool], ['condeferred', bool],
      ['convalidated', bool], ['conrelid', int], ['contypid', int], ['conindid', int], ['conparentid', int], ['confrelid', int],
      ['confupdtype', txt], ['confdeltype', txt], ['confmatchtype', txt], ['conislocal', bool], ['coninhcount', int], ['connoinherit', bool],
      ['conkey', txt], ['confkey', txt], ['conbin', txt]],
    rows: ({ catalog }) => {
      const oids = indexOids(catalog);
      return allConstraints(catalog).map((c) => {
        const fk = c.fk;
        const parent = fk ? catalog.tablesById.get(fk.refTableId) : undefined;
        const refIx = fk && parent ? catalog.index(parent.schema, fk.refIndex) : undefined;
        const ixOid = c.index ? oids.get(c.index) ?? 0 : refIx ? oids.get(refIx) ?? 0 : 0;
        return [c.oid, c.name, nsOid(c.table.schema, catalog), c.type, false, false, true, tableOid(c.table), 0, ixOid, 0,
          parent ? tableOid(parent) : 0, fk ? FK_CODE[fk.onUpdate] : ' ', fk ? FK_CODE[fk.onDelete] : ' ', fk ? 's' : ' ', true, 0, false,
          c.type === 'c' ? null : arr(c.columns.map((k) => k + 1)), fk ? arr(fk.refColumns.map((k) => k + 1)) : null, c.check ?? null];
      });
    },
  },
  'pg_catalog.pg_am': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['amname', txt], ['amhandler', txt], ['amtype', txt]],
    rows: () => [[AM_OID.heap, 'heap', 'heap_tableam_handler', 't'], [AM_OID.btree, 'btree', 'bthandler', 'i'], [AM_OID.fractal, 'fractal', 'fractalhandler', 'i']],
  },
  'pg_catalog.pg_database': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['datname', txt], ['datdba', int], ['encoding', int], ['datlocprovider', txt], ['datistemplate', bool],
      ['datallowconn', bool], ['datconnlimit', int], ['datcollate', txt], ['datctype', txt], ['daticulocale', txt], ['daticurules', txt],
      ['datcollversion', txt], ['datacl', txt], ['dattablespace', int]],
    rows: () => [[16383, 'quiverdb', 10, 6, 'c', false, true, -1, 'C.UTF-8', 'C.UTF-8', null, null, null, null, 1663]],
  },
  'pg_catalog.pg_roles': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['rolname', txt], ['rolsuper', bool], ['rolinherit', bool], ['rolcreaterole', bool], ['rolcreatedb', bool],
      ['rolcanlogin', bool], ['rolreplication', bool], ['rolconnlimit', int], ['rolpassword', txt], ['rolvaliduntil', ts],
      ['rolbypassrls', bool], ['rolconfig', txt]],
    rows: () => [[10, 'quiver', true, true, true, true, true, true, -1, '********', null, true, null]],
  },
  'pg_catalog.pg_user': {
    schema: 'pg_catalog',
    columns: [['usename', txt], ['usesysid', int], ['usecreatedb', bool], ['usesuper', bool], ['userepl', bool], ['usebypassrls', bool],
      ['passwd', txt], ['valuntil', ts], ['useconfig', txt]],
    rows: () => [['quiver', 10, true, true, true, true, '********', null, null]],
  },
  'pg_catalog.pg_auth_members': empty('pg_catalog', [['oid', int], ['roleid', int], ['member', int], ['grantor', int], ['admin_option', bool],
    ['inherit_option', bool], ['set_option', bool]]),
  'pg_catalog.pg_description': empty('pg_catalog', [['objoid', int], ['classoid', int], ['objsubid', int], ['description', txt]]),
  'pg_catalog.pg_shdescription': empty('pg_catalog', [['objoid', int], ['classoid', int], ['description', txt]]),
  'pg_catalog.pg_inherits': empty('pg_catalog', [['inhrelid', int], ['inhparent', int], ['inhseqno', int], ['inhdetachpending', bool]]),
  'pg_catalog.pg_collation': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['collname', txt], ['collnamespace', int], ['collowner', int], ['collprovider', txt], ['collisdeterministic', bool],
      ['collencoding', int], ['collcollate', txt], ['collctype', txt]],
    rows: () => [[100, 'default', 11, 10, 'd', true, -1, null, null], [950, 'C', 11, 10, 'c', true, -1, 'C', 'C']],
  },
  'pg_catalog.pg_proc': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['proname', txt], ['pronamespace', int], ['proowner', int], ['prolang', int], ['prokind', txt], ['proretset', bool],
      ['prorettype', int], ['pronargs', small], ['proargtypes', txt], ['prosrc', txt]],
    rows: () => [],
  },
  'pg_catalog.pg_stat_user_tables': {
    schema: 'pg_catalog',
    columns: [['relid', int], ['schemaname', txt], ['relname', txt], ['seq_scan', big], ['seq_tup_read', big], ['idx_scan', big],
      ['idx_tup_fetch', big], ['n_tup_ins', big], ['n_tup_upd', big], ['n_tup_del', big], ['n_live_tup', big], ['n_dead_tup', big],
      ['n_mod_since_analyze', big], ['last_vacuum', ts], ['last_autovacuum', ts], ['last_analyze', ts], ['last_autoanalyze', ts],
      ['vacuum_count', big], ['autovacuum_count', big], ['analyze_count', big], ['autoanalyze_count', big]],
    rows: ({ db, catalog }) => {
      const stats = new Map(db.store.stats().tables.map((t) => [t.id as number, t]));
      return userTables(catalog).map((t) => {
        const s = stats.get(t.id);
        const a = db.tableStats(t.id);
        const rows = BigInt(s?.rows ?? 0), dead = BigInt(s?.deletedRows ?? 0);
        return [tableOid(t), t.schema, t.name, null, null, null, null, null, null, null, rows - dead, dead,
          a ? BigInt(Math.max(0, (s?.rows ?? 0) - a.rowCount)) : rows, micros(isoOf(s?.lastCompaction) ?? undefined), null, micros(a?.analyzedAt), null,
          BigInt(s?.compactionCount ?? 0), 0n, a ? 1n : 0n, 0n];
      });
    },
  },
  'pg_catalog.pg_stat_user_indexes': {
    schema: 'pg_catalog',
    columns: [['relid', int], ['indexrelid', int], ['schemaname', txt], ['relname', txt], ['indexrelname', txt], ['idx_scan', big],
      ['idx_tup_read', big], ['idx_tup_fetch', big]],
    rows: ({ catalog }) => [...indexOids(catalog)].flatMap(([ix, oid]) => {
      const t = catalog.tablesById.get(ix.tableId);
      return t ? [[tableOid(t), oid, ix.schema, t.name, ix.name, null, null, null]] : [];
    }),
  },
  'pg_catalog.pg_sequence': {
    schema: 'pg_catalog',
    columns: [['seqrelid', int], ['seqtypid', int], ['seqstart', big], ['seqincrement', big], ['seqmax', big], ['seqmin', big], ['seqcache', big], ['seqcycle', bool]],
    rows: ({ catalog }) => [...catalog.sequences.values()].map((q, i) => [SEQUENCE_OID_BASE + i, seqTypeOid(q.max), q.start, q.increment, q.max, q.min, 1n, q.cycle]),
  },
  'pg_catalog.pg_sequences': {
    schema: 'pg_catalog',
    columns: [['schemaname', txt], ['sequencename', txt], ['sequenceowner', txt], ['data_type', txt], ['start_value', big], ['min_value', big],
      ['max_value', big], ['increment_by', big], ['cycle', bool], ['cache_size', big]],
    rows: ({ catalog }) => [...catalog.sequences.values()].map((q) => [q.schema, q.name, 'quiver', seqTypeName(q.max), q.start, q.min, q.max, q.increment, q.cycle, 1n]),
  },
  'pg_catalog.pg_tablespace': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['spcname', txt], ['spcowner', int], ['spcacl', txt], ['spcoptions', txt]],
    rows: () => [[1663, 'pg_default', 10, null, null], [1664, 'pg_global', 10, null, null]],
  },
  'pg_catalog.pg_extension': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['extname', txt], ['extowner', int], ['extnamespace', int], ['extrelocatable', bool], ['extversion', txt]],
    rows: () => [[13500, 'plpgsql', 10, 11, false, '1.0']],
  },
  'pg_catalog.pg_language': {
    schema: 'pg_catalog',
    columns: [['oid', int], ['lanname', txt], ['lanowner', int], ['lanispl', bool], ['lanpltrusted', bool], ['lanplcallfoid', int],
      ['laninline', int], ['lanvalidator', int], ['lanacl', txt]],
    rows: () => [[12, 'internal', 10, false, false, 0, 0, 0, null], [13, 'c', 10, false, false, 0, 0, 0, null], [14, 'sql', 10, false, true, 0, 0, 0, null]],
  },
  'pg_catalog.pg_cast': empty('pg_catalog', [['oid', int], ['castsource', int], ['casttarget', int], ['castfunc', int], ['castcontext', txt], ['castmethod', txt]]),
  'pg_catalog.pg_event_trigger': empty('pg_catalog', [['oid', int], ['evtname', txt], ['evtevent', txt], ['evtowner', int], ['evtfoid', int],
    ['evtenabled', txt], ['evttags', txt]]),
  'pg_catalog.pg_enum': empty('pg_catalog', [['oid', int], ['enumtypid', int], ['enumsortorder', dbl], ['enumlabel', txt]]),
  'pg_catalog.pg_policy': empty('pg_catalog', [['oid', int], ['polname', txt], ['polrelid', int], ['polcmd', txt], ['polpermissive', bool],
    ['polroles', txt], ['polqual', txt], ['polwithcheck', txt]]),
  'pg_catalog.pg_statistic_ext': empty('pg_catalog', [['oid', int], ['stxrelid', int], ['stxname', txt], ['stxnamespace', int], ['stxowner', int],
    ['stxstattarget', int], ['stxkeys', txt], ['stxkind', txt], ['stxexprs', txt]]),
  'pg_catalog.pg_publication': empty('pg_catalog', [['oid', int], ['pubname', txt], ['pubowner', int], ['puballtables', bool], ['pubinsert', bool],
    ['pubupdate', bool], ['pubdelete', bool], ['pubtruncate', bool], ['pubviaroot', bool]]),
  'pg_catalog.pg_publication_rel': empty('pg_catalog', [['oid', int], ['prpubid', int], ['prrelid', int], ['prqual', txt], ['prattrs', txt]]),
  'pg_catalog.pg_publication_namespace': empty('pg_catalog', [['oid', int], ['pnpubid', int], ['pnnspid', int]]),
  'pg_catalog.pg_trigger': empty('pg_catalog', [['oid', int], ['tgrelid', int], ['tgparentid', int], ['tgname', txt], ['tgfoid', int], ['tgtype', small],
    ['tgenabled', txt], ['tgisinternal', bool], ['tgconstrrelid', int], ['tgconstrindid', int], ['tgconstraint', int], ['tgdeferrable', bool],
    ['tginitdeferred', bool], ['tgnargs', small]]),
  'pg_catalog.pg_depend': {
    schema: 'pg_catalog',
    columns: [['classid', int], ['objid', int], ['objsubid', int], ['refclassid', int], ['refobjid', int], ['refobjsubid', int], ['deptype', txt]],
    // a serial column's sequence depends on (is owned by) the column: deptype 'a'
    rows: ({ catalog }) => {
      const pgClass = systemRelationOid('pg_catalog.pg_class')!;
      const seqs = [...catalog.sequences.values()];
      return userTables(catalog).flatMap((t) => t.columns.flatMap((c, i) => {
        const m = c.defaultSql === undefined ? null : /^nextval\('(?:([\w$]+)\.)?([\w$]+)'(?:::regclass)?\)$/i.exec(c.defaultSql);
        const k = m ? seqs.findIndex((q) => q.schema === (m[1] ?? t.schema) && q.name === m[2]) : -1;
        return k < 0 ? [] : [[pgClass, SEQUENCE_OID_BASE + k, 0, pgClass, tableOid(t), i + 1, 'a']];
      }));
    },
  },
  'pg_catalog.pg_rewrite': empty('pg_catalog', [['oid', int], ['rulename', txt], ['ev_class', int], ['ev_type', txt], ['ev_enabled', txt], ['is_instead', bool]]),
  'pg_catalog.pg_foreign_table': empty('pg_catalog', [['ftrelid', int], ['ftserver', int], ['ftoptions', txt]]),
  'pg_catalog.pg_partitioned_table': empty('pg_catalog', [['partrelid', int], ['partstrat', txt], ['partnatts', small], ['partdefid', int]]),
  'pg_catalog.pg_stat_activity': {
    schema: 'pg_catalog',
    columns: [['datid', int], ['datname', txt], ['pid', int], ['usename', txt], ['application_name', txt], ['state', txt], ['query', txt]],
    rows: () => [],
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
    rows: ({ settings }) => [...settings.snapshot(), ['server_version_num', serverVersionNum(settings.get('server_version'))] as const]
      .sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v]),
  },
  'pg_catalog.pg_locks': {
    schema: 'pg_catalog',
    columns: [['locktype', txt], ['relation', int], ['transactionid', big], ['mode', txt], ['granted', bool], ['pid', big]],
    rows: ({ db }) => db.txns.locks.locks().map((l) => {
      const target = l.target;
      // row locks on a row's key (transaction.ts lockRow) are object locks: show them as tuples
      const keyLock = target.kind === 'object' ? decodeRowKeyLock(target.name, l.mode) : undefined;
      if (keyLock) return ['tuple', 16384 + keyLock.table, null, pgLockModeName(keyLock.mode), l.granted, BigInt(l.txn)];
      const locktype = target.kind === 'table' ? 'relation' : target.kind === 'row' ? 'tuple' : target.kind === 'transaction' ? 'transactionid' : 'object';
      const relation = target.kind === 'table' || target.kind === 'row' ? 16384 + target.table : null;
      const xid = target.kind === 'transaction' ? BigInt(target.txn) : null;
      return [locktype, relation, xid, pgLockModeName(l.mode), l.granted, BigInt(l.txn)];
    }),
  },
  'pg_catalog.pg_stat_statements': {
    schema: 'pg_catalog',
    columns: [['query', txt], ['calls', big], ['total_exec_time', dbl], ['mean_exec_time', dbl], ['min_exec_time', dbl],
      ['max_exec_time', dbl], ['rows', big]],
    rows: ({ db }) => db.statementStats.entries().map((e) => [e.query, BigInt(e.calls), e.totalMs, e.totalMs / e.calls, e.minMs, e.maxMs, BigInt(e.rows)]),
  },
  'pg_catalog.pg_stat_wal': {
    // PostgreSQL 14-17's one row; since this database was opened (stats_reset). No full-page images
    // (wal_fpi 0) and no WAL buffers to fill (wal_buffers_full 0); wal_bytes is bigint, not numeric;
    // the times (ms) are always tracked, as with track_wal_io_timing on
    schema: 'pg_catalog',
    columns: [['wal_records', big], ['wal_fpi', big], ['wal_bytes', big], ['wal_buffers_full', big], ['wal_write', big], ['wal_sync', big],
      ['wal_write_time', dbl], ['wal_sync_time', dbl], ['stats_reset', ts]],
    rows: ({ db }) => {
      const w = db.store.stats().wal;
      if (w === undefined) return [];
      return [[BigInt(w.records), 0n, BigInt(w.bytes), 0n, BigInt(w.writes), BigInt(w.syncs), w.writeMs, w.syncMs, w.since * 1000]];
    },
  },
  'pg_catalog.quiver_tables': {
    schema: 'pg_catalog',
    columns: [['schema_name', txt], ['table_name', txt], ['rows', big], ['segments', big], ['delta_rows', big], ['deleted_rows', big], ['bytes', big],
      ['last_analyze', txt], ['last_compaction', txt], ['analyzed_rows', big], ['pending_rewrites', big],
      ['row_groups_scanned', big], ['row_groups_skipped', big]],
    rows: ({ db, catalog }) => {
      const stats = new Map(db.store.stats().tables.map((t) => [t.id as number, t]));
      return userTables(catalog).map((t) => {
        const s = stats.get(t.id);
        const a = db.tableStats(t.id);
        return [t.schema, t.name, BigInt(db.store.hasTable(t.id) ? db.store.rowCount(t.id) : 0), BigInt(s?.segments ?? 0), BigInt(s?.deltaRows ?? 0), BigInt(s?.deletedRows ?? 0), BigInt(s?.bytes ?? 0),
          a?.analyzedAt ?? null, isoOf(s?.lastCompaction), a ? BigInt(a.rowCount) : null, BigInt(s?.pendingRewrites ?? 0),
          BigInt(s?.rowGroupsScanned ?? 0), BigInt(s?.rowGroupsSkipped ?? 0)];
      });
    },
  },
  'pg_catalog.quiver_indexes': {
    schema: 'pg_catalog',
    columns: [['schema_name', txt], ['index_name', txt], ['table_name', txt], ['method', txt], ['is_unique', bool], ['is_primary', bool],
      ['columns', txt], ['entries', big], ['height', big]],
    rows: ({ db, catalog }) => [...catalog.indexes.values()].flatMap((ix) => {
      const t = catalog.tablesById.get(ix.tableId);
      if (!t) return [];
      const tree = db.indexes.has(ix) ? db.indexes.get(ix, t).tree : undefined;
      const { size, height } = (tree ?? {}) as { size?: number; height?: number };
      return [[ix.schema, ix.name, t.name, ix.method, ix.unique, ix.primary,
        ix.columns.map((c, i) => t.columns[c]!.name + (ix.descending[i] ? ' DESC' : '')).join(', '), size === undefined ? null : BigInt(size),
        height === undefined ? null : BigInt(height)]];
    }),
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

/** OID of a system relation ('pg_catalog.pg_class'), or undefined. */
export function systemRelationOid(key: string): number | undefined {
  const i = Object.keys(RELATIONS).indexOf(key);
  return i < 0 ? undefined : SYSTEM_REL_OID_BASE + i;
}

/** 'schema.name' of the system relation with this OID, or undefined. */
export function systemRelationByOid(oid: number): string | undefined {
  return Object.keys(RELATIONS)[oid - SYSTEM_REL_OID_BASE];
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

/** Heavyweight tuple-lock modes PostgreSQL shows in pg_locks for each row-lock strength. */
const TUPLE_LOCK_MODES: Readonly<Record<string, string>> = {
  'FOR KEY SHARE': 'AccessShareLock',
  'FOR SHARE': 'RowShareLock',
  'FOR NO KEY UPDATE': 'ExclusiveLock',
  'FOR UPDATE': 'AccessExclusiveLock',
};

/** pg_locks.mode as PostgreSQL spells it: 'ROW EXCLUSIVE' → 'RowExclusiveLock', row strengths as tuple locks. */
export function pgLockModeName(mode: string): string {
  const tuple = TUPLE_LOCK_MODES[mode];
  if (tuple !== undefined) return tuple;
  return `${mode.toLowerCase().split(/\s+/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}Lock`;
}
