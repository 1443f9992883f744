/**
 * ALTER TABLE in the catalog: each `AlterTableAction` becomes a new `TableMeta` (and index metas)
 * written through the transaction, plus a new storage column spec when columns change.
 *
 * Columns have stable ids: storage reads segments written before a change through them, so
 *  - ADD COLUMN appends a column with a fresh id and a "missing" value old rows read (no rewrite),
 *  - DROP COLUMN removes the id from the spec (old segments keep the bytes; they are ignored),
 *  - RENAME COLUMN changes only the name,
 *  - alterColumnType (ALTER COLUMN TYPE) gives the column a fresh id of the new type with a
 *    conversion (the SQL stack's checked CAST / USING expression over the old ids, see
 *    column-conversion.ts): old segments and delta rows are converted on read, the ALTER writes no
 *    data, and storage's background rewrite (Database: `rewriteStep`) stores them converted,
 *  - replaceColumn gives the target's position and name to another column's id.
 * Column positions in index metas, PRIMARY KEY and UNIQUE lists are remapped when positions move.
 *
 * PostgreSQL's rules kept here: dropping a column drops the indexes and constraints that use it;
 * one primary key per table (42P16); constraint names are unique per table (42710).
 */
import { DbError, SqlState, physicalTypeOf, type SqlType, type TableId } from '@quiverdb/common';
import { conversionOf } from './column-conversion.js';
import type { AlterTableAction } from '@quiverdb/query';
import type { StoredTableSpec } from '@quiverdb/storage';
import type { Database } from '../database.js';
import type { EngineTransaction } from '../transaction.js';
import { metaKey, type ColumnMeta, type IndexMeta, type TableMeta } from './catalog-state.js';
import { resolveForeignKey } from './foreign-key-def.js';
import { checkReferences } from '../table/foreign-keys.js';
import { latestSnapshot } from '../table/index-registry.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function storageSpecOf(t: TableMeta): StoredTableSpec {
  return {
    id: t.id,
    columns: t.columns.map((c) => ({
      id: c.id,
      name: c.name,
      type: physicalTypeOf(c.type),
      nullable: !c.notNull,
      ...(c.missing !== undefined ? { missing: c.missing } : {}),
    })),
  };
}

/** A vector value in storage's JSON-safe `missing` form. */
export function missingForm(type: SqlType, v: unknown): string | number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (physicalTypeOf(type) === 'json') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'string') return v;
  return JSON.stringify(v);
}

export async function applyAlter(db: Database, txn: EngineTransaction, table: TableMeta, action: AlterTableAction): Promise<void> {
  const st = txn.catalog(db);
  const columns: ColumnMeta[] = [...table.columns];
  const t: Mutable<TableMeta> & { columns: ColumnMeta[] } = { ...table, columns };
  const indexes = st.indexesOf(table.id);
  const put = (key: string, v: unknown) => txn.metaPut(db, key, v === undefined ? undefined : JSON.stringify(v));
  const pos = (name: string): number => {
    const i = t.columns.findIndex((c) => c.name === name);
    if (i < 0) throw new DbError(SqlState.UndefinedColumn, `column "${name}" of relation "${t.name}" does not exist`);
    return i;
  };
  const relationNameTaken = (name: string) => st.table(t.schema, name) || st.view(t.schema, name) || st.index(t.schema, name);
  let specChanged = false;
  /** column id → conversion, for the storage spec of this ALTER */
  const conversions = new Map<number, ReturnType<typeof conversionOf>>();
  const rebuild: IndexMeta[] = [];

  /** Remove the column at `p`: drop what uses it, shift positions above it. */
  const removeAt = (p: number) => {
    const name = t.columns[p]!.name;
    t.columns.splice(p, 1);
    const shift = (cols: readonly number[]) => cols.map((c) => (c > p ? c - 1 : c));
    for (const ix of indexes) {
      if (ix.columns.includes(p)) {
        put(metaKey.index(ix.schema, ix.name), undefined);
        db.indexes.drop(ix, txn.indexUndo);
      } else if (ix.columns.some((c) => c > p)) {
        put(metaKey.index(ix.schema, ix.name), { ...ix, columns: shift(ix.columns) });
      }
    }
    if (t.foreignKeys) {
      t.foreignKeys = t.foreignKeys.filter((f) => !f.columns.includes(p))
        .map((f) => ({ ...f, columns: shift(f.columns), ...(f.refTableId === t.id ? { refColumns: shift(f.refColumns) } : {}) }));
    }
    if (st.referencing(t.id).some((r) => r.child.id !== t.id && r.fk.refColumns.includes(p))) {
      throw new DbError(SqlState.DependentObjectsStillExist, `cannot drop column ${name} of table ${t.name} because other objects depend on it`);
    }
    if (t.primaryKey?.includes(p)) delete t.primaryKey;
    else if (t.primaryKey) t.primaryKey = shift(t.primaryKey);
    if (t.uniques) t.uniques = t.uniques.filter((u) => !u.includes(p)).map(shift);
    if (t.checks) {
      const word = new RegExp(`(^|[^\\w"])"?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?([^\\w"]|$)`, 'i');
      const keep = t.checks.map((c) => !word.test(c));
      t.checkNames = (t.checkNames ?? t.checks.map((_, i) => checkName(t.name, i))).filter((_, i) => keep[i]);
      t.checks = t.checks.filter((_, i) => keep[i]);
    }
    specChanged = true;
  };

  switch (action.kind) {
    case 'addColumn': {
      const c = action.column;
      if (t.columns.some((x) => x.name === c.name)) {
        if (action.ifNotExists) return;
        throw new DbError(SqlState.DuplicateColumn, `column "${c.name}" of relation "${t.name}" already exists`);
      }
      const missing = missingForm(c.type, action.missing);
      const col: ColumnMeta = {
        id: t.nextColumnId,
        name: c.name,
        type: c.type,
        notNull: c.notNull,
        ...(c.defaultSql !== undefined ? { defaultSql: c.defaultSql } : {}),
        ...(missing !== undefined ? { missing } : {}),
      };
      t.columns.push(col);
      t.nextColumnId++;
      specChanged = true;
      break;
    }
    case 'dropColumn': {
      const i = t.columns.findIndex((c) => c.name === action.name);
      if (i < 0) {
        if (action.ifExists) return;
        throw new DbError(SqlState.UndefinedColumn, `column "${action.name}" of relation "${t.name}" does not exist`);
      }
      if (t.columns.length === 1) throw new DbError(SqlState.FeatureNotSupported, 'tables without columns are not supported');
      removeAt(i);
      break;
    }
    case 'renameColumn': {
      const i = pos(action.from);
      if (t.columns.some((c) => c.name === action.to)) {
        throw new DbError(SqlState.DuplicateColumn, `column "${action.to}" of relation "${t.name}" already exists`);
      }
      t.columns[i] = { ...t.columns[i]!, name: action.to };
      specChanged = true;
      break;
    }
    case 'renameTable': {
      if (relationNameTaken(action.to)) throw new DbError(SqlState.DuplicateTable, `relation "${action.to}" already exists`);
      t.name = action.to;
      break;
    }
    case 'replaceColumn': {
      const target = pos(action.target);
      const source = pos(action.source);
      const old = t.columns[target]!;
      const src = t.columns[source]!;
      t.columns[target] = {
        id: src.id,
        name: old.name,
        type: src.type,
        notNull: old.notNull,
        ...(old.defaultSql !== undefined ? { defaultSql: old.defaultSql } : {}),
      };
      t.columns.splice(source, 1);
      for (const ix of indexes) if (ix.columns.includes(target)) rebuild.push(ix);
      specChanged = true;
      break;
    }
    case 'alterColumnType': {
      const i = pos(action.name);
      const old = t.columns[i]!;
      const sources = action.sources.map((n) => t.columns[pos(n)]!);
      const col: ColumnMeta = {
        id: t.nextColumnId,
        name: old.name,
        type: action.type,
        notNull: old.notNull,
        ...(old.defaultSql !== undefined ? { defaultSql: old.defaultSql } : {}),
      };
      t.nextColumnId++;
      t.columns[i] = col;
      conversions.set(col.id, conversionOf(t.name, sources, action.usingSql, action.type));
      for (const ix of indexes) if (ix.columns.includes(i)) rebuild.push(ix);
      specChanged = true;
      break;
    }
    case 'setDefault': {
      const i = pos(action.name);
      const { defaultSql: _old, ...rest } = t.columns[i]!;
      t.columns[i] = action.defaultSql === undefined ? rest : { ...rest, defaultSql: action.defaultSql };
      break;
    }
    case 'setNotNull': {
      const i = pos(action.name);
      if (!action.notNull && t.primaryKey?.includes(i)) {
        throw new DbError(SqlState.InvalidTableDefinition, `column "${action.name}" is in a primary key`);
      }
      t.columns[i] = { ...t.columns[i]!, notNull: action.notNull };
      specChanged = true;
      break;
    }
    case 'addUnique': {
      if (action.primary && t.primaryKey) {
        throw new DbError(SqlState.InvalidTableDefinition, `multiple primary keys for table "${t.name}" are not allowed`);
      }
      const cols = action.columns;
      let name = action.name ?? (action.primary ? `${t.name}_pkey` : `${t.name}_${cols.map((c) => t.columns[c]!.name).join('_')}_key`);
      if (action.name === undefined) for (let n = 1; relationNameTaken(name); n++) name = `${t.name}_${cols.map((c) => t.columns[c]!.name).join('_')}_key${n}`;
      if (relationNameTaken(name) || t.checkNames?.includes(name)) {
        throw new DbError(SqlState.DuplicateTable, `relation "${name}" already exists`);
      }
      if (action.primary) {
        t.primaryKey = cols;
        for (const c of cols) t.columns[c] = { ...t.columns[c]!, notNull: true };
        specChanged = true;
      } else {
        t.uniques = [...(t.uniques ?? []), cols];
      }
      const ix: IndexMeta = { schema: t.schema, name, tableId: t.id as TableId, columns: cols, descending: cols.map(() => false), unique: true, primary: action.primary, method: 'btree' };
      put(metaKey.index(t.schema, name), ix);
      rebuild.push(ix);
      break;
    }
    case 'addCheck': {
      const names = [...(t.checkNames ?? (t.checks ?? []).map((_, i) => checkName(t.name, i)))];
      let name = action.name;
      if (name === undefined) {
        name = `${t.name}_check`;
        for (let n = 1; names.includes(name); n++) name = `${t.name}_check${n}`;
      }
      if (names.includes(name)) throw new DbError(SqlState.DuplicateObject, `constraint "${name}" for relation "${t.name}" already exists`);
      t.checks = [...(t.checks ?? []), action.checkSql];
      t.checkNames = [...names, name];
      break;
    }
    case 'addForeignKey': {
      const taken = new Set<string>([...indexes.map((i) => i.name), ...(t.checkNames ?? []), ...(t.foreignKeys ?? []).map((f) => f.name)]);
      const fk = resolveForeignKey(st, t, action.fk, indexes, taken);
      if (fk.refTableId !== t.id) await txn.lockTable(db, fk.refTableId, 'SHARE ROW EXCLUSIVE');
      t.foreignKeys = [...(t.foreignKeys ?? []), fk];
      // existing rows must satisfy it (checked with the new definition in place)
      const all = t.columns.map((_, i) => i);
      for await (const b of db.store.scan(t.id, latestSnapshot(txn.id), { columns: all })) {
        await checkReferences(db, txn, { ...t, foreignKeys: [fk] }, b.batch);
      }
      break;
    }
    case 'dropConstraint': {
      const ix = indexes.find((i) => i.name === action.name && i.unique);
      const names = t.checkNames ?? (t.checks ?? []).map((_, i) => checkName(t.name, i));
      const ci = names.indexOf(action.name);
      if (ix) {
        put(metaKey.index(ix.schema, ix.name), undefined);
        db.indexes.drop(ix, txn.indexUndo);
        if (ix.primary) delete t.primaryKey;
        else t.uniques = (t.uniques ?? []).filter((u) => !(u.length === ix.columns.length && u.every((c, k) => c === ix.columns[k])));
      } else if (t.foreignKeys?.some((f) => f.name === action.name)) {
        t.foreignKeys = t.foreignKeys.filter((f) => f.name !== action.name);
      } else if (ci >= 0) {
        t.checks = t.checks!.filter((_, i) => i !== ci);
        t.checkNames = names.filter((_, i) => i !== ci);
      } else if (!action.ifExists) {
        throw new DbError(SqlState.UndefinedObject, `constraint "${action.name}" of relation "${t.name}" does not exist`);
      }
      break;
    }
  }
  put(metaKey.table(t.id), t);
  if (specChanged) {
    const spec = storageSpecOf(t);
    db.store.alterTable(txn.id, conversions.size === 0 ? spec : { ...spec, columns: spec.columns.map((c) => {
      const conv = conversions.get(c.id);
      return conv === undefined ? c : { ...c, convert: conv };
    }) });
    txn.wrote = true;
  }
  for (const ix of rebuild) {
    const { duplicate } = await db.indexes.build(db.store, ix, t, txn.id, txn.indexUndo);
    if (duplicate) {
      throw new DbError(SqlState.UniqueViolation, `could not create unique index "${ix.name}"`, { detail: 'Key is duplicated.' });
    }
  }
}

export function checkName(table: string, i: number): string {
  return i === 0 ? `${table}_check` : `${table}_check${i}`;
}
