/**
 * The catalog side of PostgreSQL's catalog functions (`Catalog.systemFunction`, called by the query
 * package's pg-functions.ts): regclass input / output, pg_get_constraintdef, pg_get_indexdef,
 * pg_get_viewdef, pg_table_is_visible, relation sizes, pg_get_serial_sequence. OIDs follow
 * catalog-oids.ts, so they agree with the pg_catalog relations of system-tables.ts.
 *
 * Invariants:
 *  1. An OID that names nothing gives NULL (as PostgreSQL's functions do for a missing object),
 *     except regclass input, which fails with 42P01 as PostgreSQL does.
 *  2. `regclassIn(regclassOut(oid)) = oid` for every relation OID.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { CatalogState, IndexMeta, TableMeta } from './catalog-state.js';
import { DEFAULT_SCHEMA } from './catalog-state.js';
import {
  CONSTRAINT_OID_BASE, SEQUENCE_OID_BASE, VIEW_OID_BASE, constraintsOf, indexOids, nsOid, quoteIdent, serverVersionNum, tableOid, type ConstraintInfo,
} from './catalog-oids.js';
import { systemRelation, systemRelationByOid, systemRelationOid, type SystemContext } from './system-tables.js';

const VISIBLE = new Set([DEFAULT_SCHEMA, 'pg_catalog']);

type Rel =
  | { kind: 'table'; schema: string; name: string; table: TableMeta }
  | { kind: 'index'; schema: string; name: string; index: IndexMeta }
  | { kind: 'view' | 'sequence' | 'system'; schema: string; name: string };

/** The relation with this OID. */
function relByOid(st: CatalogState, oid: number): Rel | undefined {
  const t = st.tablesById.get((oid - 16384) as never);
  if (t && tableOid(t) === oid) return { kind: 'table', schema: t.schema, name: t.name, table: t };
  for (const [ix, o] of indexOids(st)) if (o === oid) return { kind: 'index', schema: ix.schema, name: ix.name, index: ix };
  const v = [...st.views.values()][oid - VIEW_OID_BASE];
  if (v) return { kind: 'view', schema: v.schema, name: v.name };
  const q = [...st.sequences.values()][oid - SEQUENCE_OID_BASE];
  if (q) return { kind: 'sequence', schema: q.schema, name: q.name };
  const key = systemRelationByOid(oid);
  if (key) {
    const [schema, name] = key.split('.') as [string, string];
    return { kind: 'system', schema, name };
  }
  return undefined;
}

/** OID of a relation by (optional) schema and name, searching public then pg_catalog. */
function relOid(st: CatalogState, schema: string | undefined, name: string): number | undefined {
  for (const s of schema === undefined ? [DEFAULT_SCHEMA, 'pg_catalog'] : [schema]) {
    const t = st.table(s, name);
    if (t) return tableOid(t);
    const ix = st.index(s, name);
    if (ix) return indexOids(st).get(ix);
    const vi = [...st.views.values()].findIndex((v) => v.schema === s && v.name === name);
    if (vi >= 0) return VIEW_OID_BASE + vi;
    const qi = [...st.sequences.values()].findIndex((q) => q.schema === s && q.name === name);
    if (qi >= 0) return SEQUENCE_OID_BASE + qi;
    if (systemRelation(s, name)) return systemRelationOid(`${s}.${name}`);
  }
  return undefined;
}

/** 'a.b', '"A".b', 'b' → parts, case-folded as PostgreSQL folds identifiers. */
function splitName(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([^."]+))\s*(\.|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    out.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!.trim().toLowerCase());
    if (m[3] === '') break;
  }
  return out;
}

function regclassIn(st: CatalogState, text: string, missingOk: boolean): number | null {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const parts = splitName(s);
  const oid = parts.length >= 2 ? relOid(st, parts[parts.length - 2], parts[parts.length - 1]!) : relOid(st, undefined, parts[0] ?? '');
  if (oid === undefined) {
    if (missingOk) return null;
    throw new DbError(SqlState.UndefinedTable, `relation "${s}" does not exist`);
  }
  return oid;
}

const qualified = (schema: string, name: string) => (VISIBLE.has(schema) ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`);

function regclassOut(st: CatalogState, oid: number): string {
  const r = relByOid(st, oid);
  return r ? qualified(r.schema, r.name) : String(oid);
}

function constraintByOid(st: CatalogState, oid: number): ConstraintInfo | undefined {
  const t = st.tablesById.get(Math.floor((oid - CONSTRAINT_OID_BASE) / 1000) as never);
  return t ? constraintsOf(st, t).find((c) => c.oid === oid) : undefined;
}

const FK_ACTION: Record<string, string> = { restrict: 'RESTRICT', cascade: 'CASCADE', setNull: 'SET NULL', setDefault: 'SET DEFAULT' };

function constraintDef(st: CatalogState, c: ConstraintInfo): string {
  const cols = (t: TableMeta, ks: readonly number[]) => ks.map((k) => quoteIdent(t.columns[k]!.name)).join(', ');
  switch (c.type) {
    case 'p': return `PRIMARY KEY (${cols(c.table, c.columns)})`;
    case 'u': return `UNIQUE (${cols(c.table, c.columns)})`;
    case 'c': return `CHECK (${c.check!})`;
    case 'f': {
      const fk = c.fk!;
      const parent = st.tablesById.get(fk.refTableId);
      let s = `FOREIGN KEY (${cols(c.table, fk.columns)}) REFERENCES ${parent ? qualified(parent.schema, parent.name) : '?'}(${parent ? cols(parent, fk.refColumns) : ''})`;
      if (FK_ACTION[fk.onUpdate]) s += ` ON UPDATE ${FK_ACTION[fk.onUpdate]}`;
      if (FK_ACTION[fk.onDelete]) s += ` ON DELETE ${FK_ACTION[fk.onDelete]}`;
      return s;
    }
  }
}

function indexDef(st: CatalogState, ix: IndexMeta, col: number): string | null {
  const t = st.tablesById.get(ix.tableId);
  if (!t) return null;
  const names = ix.columns.map((c) => quoteIdent(t.columns[c]!.name));
  if (col > 0) return names[col - 1] ?? null;
  const keys = names.map((n, i) => n + (ix.descending[i] ? ' DESC' : '')).join(', ');
  return `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(ix.name)} ON ${quoteIdent(t.schema)}.${quoteIdent(t.name)} USING ${ix.method} (${keys})`;
}

const num = (v: unknown): number => Number(v);

function relationBytes(ctx: SystemContext, r: Rel | undefined): bigint | null {
  if (!r) return null;
  if (r.kind !== 'table') return 0n;
  const s = ctx.db.store.stats().tables.find((x) => (x.id as number) === r.table.id);
  return BigInt(s?.bytes ?? 0);
}

/** Evaluates a catalog function; undefined = not a catalog function. */
export function catalogFunction(ctx: SystemContext, name: string, args: readonly unknown[]): unknown {
  const st = ctx.catalog;
  switch (name) {
    case 'regclass_in': return regclassIn(st, String(args[0]), false);
    case 'to_regclass': return regclassIn(st, String(args[0]), true);
    case 'regclass_out': return regclassOut(st, num(args[0]));
    case 'regnamespace_out': {
      const s = [...st.schemas].find((x) => nsOid(x, st) === num(args[0]));
      return s === undefined ? String(args[0]) : quoteIdent(s);
    }
    case 'regnamespace_in': {
      const [n] = splitName(String(args[0]));
      if (n === undefined || !st.schemas.has(n)) throw new DbError(SqlState.UndefinedObject, `schema "${String(args[0])}" does not exist`);
      return nsOid(n, st);
    }
    case 'pg_table_is_visible': {
      const r = relByOid(st, num(args[0]));
      return r ? VISIBLE.has(r.schema) : null;
    }
    case 'pg_get_constraintdef': {
      const c = constraintByOid(st, num(args[0]));
      return c ? constraintDef(st, c) : null;
    }
    case 'pg_get_indexdef': {
      const r = relByOid(st, num(args[0]));
      return r?.kind === 'index' ? indexDef(st, r.index, num(args[1] ?? 0)) : null;
    }
    case 'pg_get_viewdef': {
      const oid = typeof args[0] === 'string' ? regclassIn(st, args[0], false)! : num(args[0]);
      const r = relByOid(st, oid);
      return r?.kind === 'view' ? st.view(r.schema, r.name)?.sql ?? null : null;
    }
    case 'pg_relation_size': case 'pg_table_size': case 'pg_total_relation_size':
      return relationBytes(ctx, relByOid(st, num(args[0])));
    case 'pg_indexes_size': return relByOid(st, num(args[0])) ? 0n : null;
    case 'current_setting': {
      const n = String(args[0]).toLowerCase();
      if (n === 'server_version_num') return serverVersionNum(ctx.settings.get('server_version'));
      try {
        return ctx.settings.get(n);
      } catch (e) {
        if (args[1] === true) return null;
        throw e;
      }
    }
    case 'pg_get_serial_sequence': {
      const oid = regclassIn(st, String(args[0]), false)!;
      const r = relByOid(st, oid);
      if (r?.kind !== 'table') return null;
      const col = r.table.columns.find((c) => c.name === String(args[1]));
      if (!col) throw new DbError(SqlState.UndefinedColumn, `column "${String(args[1])}" of relation "${r.name}" does not exist`);
      const m = col.defaultSql === undefined ? null : /nextval\('(?:([\w$]+)\.)?([\w$]+)'/i.exec(col.defaultSql);
      return m ? `${m[1] ?? r.schema}.${m[2]!}` : null;
    }
  }
  return undefined;
}
