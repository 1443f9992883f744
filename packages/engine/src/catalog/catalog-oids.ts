/**
 * The object identifiers QuiverDB shows through `pg_catalog`, and the per-table constraint list
 * every catalog relation and catalog function shares, so that `pg_class.oid = pg_attribute.attrelid
 * = pg_index.indrelid = pg_constraint.conrelid` (and so on) hold across relations and functions.
 *
 * OID scheme (stable while the catalog does not change; none is persisted):
 *   namespaces      pg_catalog 11, public 2200, information_schema 13000, others 14000 + rank
 *   system rels     1000 + position in the system relation list
 *   tables          16384 + table id
 *   indexes         1,000,000 + position in the catalog's index list
 *   views           2,000,000 + position in the catalog's view list
 *   constraints     3,000,000 + table id * 1000 + position in `constraintsOf(table)`
 *   column defaults 4,000,000 + table id * 1000 + attnum
 *   sequences       5,000,000 + position in the catalog's sequence list
 *   types           PostgreSQL's own type OIDs (pg_type)
 *
 * Invariants:
 *  1. Each kind's OID range is disjoint from the others' (tables < 1,000,000 while table ids stay
 *     below 983,616; a table has fewer than 1000 constraints and columns).
 *  2. `constraintsOf(t)` lists the primary key, then UNIQUE constraints, CHECKs, FOREIGN KEYs, in
 *     a deterministic order, so a constraint's OID is a function of the catalog state.
 */
import type { SqlType } from '@quiverdb/common';
import type { CatalogState, ForeignKeyMeta, IndexMeta, TableMeta } from './catalog-state.js';
import { checkName } from './alter-table.js';

export const NS_OID: Record<string, number> = { pg_catalog: 11, public: 2200, information_schema: 13000 };
export const nsOid = (s: string, st: CatalogState): number => NS_OID[s] ?? 14000 + [...st.schemas].sort().indexOf(s);
export const tableOid = (t: TableMeta): number => 16384 + t.id;
export const INDEX_OID_BASE = 1_000_000;
export const VIEW_OID_BASE = 2_000_000;
export const CONSTRAINT_OID_BASE = 3_000_000;
export const ATTRDEF_OID_BASE = 4_000_000;
export const SEQUENCE_OID_BASE = 5_000_000;
export const SYSTEM_REL_OID_BASE = 1000;
export const constraintOid = (t: TableMeta, k: number): number => CONSTRAINT_OID_BASE + t.id * 1000 + k;
export const attrdefOid = (t: TableMeta, attnum: number): number => ATTRDEF_OID_BASE + t.id * 1000 + attnum;

/** access methods (pg_am) */
export const AM_OID: Record<string, number> = { heap: 2, btree: 403, hash: 405, fractal: 16300 };

/** PostgreSQL type OIDs and names of our types. */
export const PG_TYPES: Record<string, { oid: number; name: string; len: number; array: number; category: string }> = {
  BOOLEAN: { oid: 16, name: 'bool', len: 1, array: 1000, category: 'B' },
  BIGINT: { oid: 20, name: 'int8', len: 8, array: 1016, category: 'N' },
  SMALLINT: { oid: 21, name: 'int2', len: 2, array: 1005, category: 'N' },
  INTEGER: { oid: 23, name: 'int4', len: 4, array: 1007, category: 'N' },
  TEXT: { oid: 25, name: 'text', len: -1, array: 1009, category: 'S' },
  REAL: { oid: 700, name: 'float4', len: 4, array: 1021, category: 'N' },
  DOUBLE: { oid: 701, name: 'float8', len: 8, array: 1022, category: 'N' },
  VARCHAR: { oid: 1043, name: 'varchar', len: -1, array: 1015, category: 'S' },
  DATE: { oid: 1082, name: 'date', len: 4, array: 1182, category: 'D' },
  TIMESTAMP: { oid: 1114, name: 'timestamp', len: 8, array: 1115, category: 'D' },
  INTERVAL: { oid: 1186, name: 'interval', len: 16, array: 1187, category: 'T' },
  NUMERIC: { oid: 1700, name: 'numeric', len: -1, array: 1231, category: 'N' },
  NULL: { oid: 705, name: 'unknown', len: -2, array: 0, category: 'X' },
};

/** Types psql and ORMs meet in catalog columns, not column types of user tables. */
export const PG_EXTRA_TYPES: { oid: number; name: string; len: number; array: number; category: string }[] = [
  { oid: 19, name: 'name', len: 64, array: 1003, category: 'S' },
  { oid: 18, name: 'char', len: 1, array: 1002, category: 'Z' },
  { oid: 26, name: 'oid', len: 4, array: 1028, category: 'N' },
  { oid: 2205, name: 'regclass', len: 4, array: 2210, category: 'N' },
  { oid: 2206, name: 'regtype', len: 4, array: 2211, category: 'N' },
  { oid: 1042, name: 'bpchar', len: -1, array: 1014, category: 'S' },
  { oid: 1184, name: 'timestamptz', len: 8, array: 1185, category: 'D' },
  { oid: 114, name: 'json', len: -1, array: 199, category: 'U' },
  { oid: 3802, name: 'jsonb', len: -1, array: 3807, category: 'U' },
  { oid: 2950, name: 'uuid', len: 16, array: 2951, category: 'U' },
  { oid: 17, name: 'bytea', len: -1, array: 1001, category: 'U' },
];

/** PostgreSQL's atttypmod for a column type (-1 = none). */
export function typmodOf(t: SqlType): number {
  if (t.id === 'VARCHAR' && t.length !== undefined) return t.length + 4;
  if (t.id === 'NUMERIC' && t.precision !== undefined) return ((t.precision << 16) | (t.scale ?? 0)) + 4;
  return -1;
}

export type ConType = 'p' | 'u' | 'c' | 'f';

export interface ConstraintInfo {
  readonly oid: number;
  readonly name: string;
  readonly type: ConType;
  readonly table: TableMeta;
  /** column positions (0-based) in `table`; empty for CHECK */
  readonly columns: readonly number[];
  /** backing index (p / u) */
  readonly index?: IndexMeta;
  readonly check?: string;
  readonly fk?: ForeignKeyMeta;
}

const sameCols = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((c, i) => c === b[i]);

/** The constraints of one table, in OID order (header invariant 2). */
export function constraintsOf(st: CatalogState, t: TableMeta): ConstraintInfo[] {
  const out: ConstraintInfo[] = [];
  const push = (c: Omit<ConstraintInfo, 'oid' | 'table'>) => out.push({ ...c, oid: constraintOid(t, out.length), table: t });
  const own = st.indexesOf(t.id).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const pk = own.find((ix) => ix.primary);
  if (pk) push({ name: pk.name, type: 'p', columns: pk.columns, index: pk });
  for (const u of t.uniques ?? []) {
    const ix = own.find((i) => i.unique && !i.primary && sameCols(i.columns, u));
    if (ix) push({ name: ix.name, type: 'u', columns: u, index: ix });
  }
  (t.checks ?? []).forEach((sql, i) => push({ name: t.checkNames?.[i] ?? checkName(t.name, i), type: 'c', columns: [], check: sql }));
  for (const fk of t.foreignKeys ?? []) push({ name: fk.name, type: 'f', columns: fk.columns, fk });
  return out;
}

export function allConstraints(st: CatalogState): ConstraintInfo[] {
  return [...st.tablesById.values()].sort((a, b) => a.id - b.id).flatMap((t) => constraintsOf(st, t));
}

/** Index OIDs by index; the position scheme of the header. */
export function indexOids(st: CatalogState): Map<IndexMeta, number> {
  return new Map([...st.indexes.values()].map((ix, i) => [ix, INDEX_OID_BASE + i]));
}

const KEYWORDS = new Set(['all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'between', 'both', 'case', 'cast', 'check', 'collate',
  'column', 'constraint', 'create', 'current_date', 'default', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch', 'for',
  'foreign', 'from', 'grant', 'group', 'having', 'in', 'into', 'is', 'join', 'key', 'left', 'limit', 'not', 'null', 'offset', 'on', 'only', 'or',
  'order', 'primary', 'references', 'right', 'select', 'table', 'then', 'to', 'true', 'union', 'unique', 'user', 'using', 'when', 'where',
  'with', 'window']);

/** PostgreSQL's quote_ident: double-quote unless a plain lower-case, non-keyword identifier. */
export function quoteIdent(s: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(s) && !KEYWORDS.has(s) ? s : `"${s.replace(/"/g, '""')}"`;
}

/** '16.2 (QuiverDB)' → '160002', as PostgreSQL's server_version_num */
export function serverVersionNum(version: string): string {
  const m = /^(\d+)(?:\.(\d+))?/.exec(version);
  return m ? String(Number(m[1]) * 10000 + Number(m[2] ?? 0)) : '0';
}
