/**
 * Resolving a FOREIGN KEY definition against the catalog (CREATE TABLE, ALTER TABLE ADD): the
 * referenced table, its columns, and the unique index that must cover exactly them (PostgreSQL:
 * 42830 "there is no unique constraint matching given keys for referenced table").
 *
 * A table may reference itself; `self` supplies the table being created, which is not in the
 * catalog yet.
 */
import { DbError, SqlState, physicalTypeOf } from '@quiverdb/common';
import type { ForeignKeyDef } from '@quiverdb/query';
import type { CatalogState, ForeignKeyMeta, IndexMeta, TableMeta } from './catalog-state.js';
import { DEFAULT_SCHEMA } from './catalog-state.js';

export function resolveForeignKey(st: CatalogState, child: TableMeta, fk: ForeignKeyDef, selfIndexes: readonly IndexMeta[], taken: Set<string>): ForeignKeyMeta {
  const refSchema = fk.refTable.schema ?? DEFAULT_SCHEMA;
  const self = refSchema === child.schema && fk.refTable.name === child.name;
  const parent = self ? child : st.table(refSchema, fk.refTable.name);
  if (!parent) throw new DbError(SqlState.UndefinedTable, `relation "${fk.refTable.name}" does not exist`);
  const refColumns = fk.refColumns
    ? fk.refColumns.map((n) => {
      const i = parent.columns.findIndex((c) => c.name === n);
      if (i < 0) throw new DbError(SqlState.UndefinedColumn, `column "${n}" referenced in foreign key constraint does not exist`);
      return i;
    })
    : parent.primaryKey;
  if (!refColumns) throw new DbError(SqlState.InvalidForeignKey, `there is no primary key for referenced table "${parent.name}"`);
  if (refColumns.length !== fk.columns.length) {
    throw new DbError(SqlState.InvalidForeignKey, 'number of referencing and referenced columns for foreign key disagree');
  }
  const indexes = self ? selfIndexes : st.indexesOf(parent.id);
  const ix = indexes.find((i) => i.unique && i.columns.length === refColumns.length && refColumns.every((c) => i.columns.includes(c)));
  if (!ix) {
    throw new DbError(SqlState.InvalidForeignKey, `there is no unique constraint matching given keys for referenced table "${parent.name}"`);
  }
  // key columns in the index's order
  const order = ix.columns.map((c) => refColumns.indexOf(c));
  const columns = order.map((k) => fk.columns[k]!);
  for (let k = 0; k < columns.length; k++) {
    const a = child.columns[columns[k]!]!.type;
    const b = parent.columns[ix.columns[k]!]!.type;
    const pa = physicalTypeOf(a);
    const pb = physicalTypeOf(b);
    const ints = ['int16', 'int32', 'int64'];
    if (pa !== pb && !(ints.includes(pa) && ints.includes(pb))) {
      throw new DbError(SqlState.DatatypeMismatch, `foreign key constraint cannot be implemented: key columns "${child.columns[columns[k]!]!.name}" and "${parent.columns[ix.columns[k]!]!.name}" are of incompatible types`);
    }
  }
  let name = fk.name ?? `${child.name}_${columns.map((c) => child.columns[c]!.name).join('_')}_fkey`;
  if (fk.name === undefined) for (let n = 1; taken.has(name); n++) name = `${child.name}_${columns.map((c) => child.columns[c]!.name).join('_')}_fkey${n}`;
  if (taken.has(name)) throw new DbError(SqlState.DuplicateObject, `constraint "${name}" for relation "${child.name}" already exists`);
  taken.add(name);
  return { name, columns, refTableId: parent.id, refColumns: ix.columns, refIndex: ix.name, onDelete: fk.onDelete, onUpdate: fk.onUpdate };
}
