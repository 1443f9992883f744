/**
 * `SessionCatalog`: the query engine's `Catalog` for one statement of one transaction.
 *
 * Reads see the transaction's catalog view (committed catalog + its own DDL). DDL writes catalog
 * entries through the transaction (`EngineTransaction.metaPut`), so it commits or rolls back with
 * it, and creates / drops table storage as part of the same transaction.
 *
 * Locks: DDL takes ACCESS EXCLUSIVE on the catalog object (table id 0), which serializes DDL
 * transactions (and so table-id allocation and name checks), and ACCESS EXCLUSIVE on a table it
 * drops or changes, as PostgreSQL does.
 */
import { DbError, SqlState, type TableId } from '@quiverdb/common';
import type { AlterTableAction, Catalog, IndexDef, QualifiedName, SequenceDef, TableDef, TableSource, ViewDef } from '@quiverdb/query';
import { big, seqDefKey, seqKey, seqValueKey } from './sequences.js';
import { applyAlter, checkName, storageSpecOf } from './alter-table.js';
import { resolveForeignKey } from './foreign-key-def.js';
import type { Database } from '../database.js';
import type { EngineTransaction } from '../transaction.js';
import type { Settings } from '../settings.js';
import { EngineTable } from '../table/engine-table.js';
import { SystemTable, systemRelation } from './system-tables.js';
import { catalogFunction } from './catalog-functions.js';
import { DEFAULT_SCHEMA, metaKey, tableDefOf, type IndexMeta, type TableMeta } from './catalog-state.js';

const CATALOG_LOCK = 0 as TableId;

export class SessionCatalog implements Catalog {
  readonly #db: Database;
  readonly #txn: EngineTransaction;
  readonly #settings: Settings;
  /** the session's currval() values, by sequence key */
  readonly #currvals: Map<string, bigint>;

  constructor(db: Database, txn: EngineTransaction, settings: Settings, currvals: Map<string, bigint> = new Map()) {
    this.#db = db;
    this.#txn = txn;
    this.#settings = settings;
    this.#currvals = currvals;
  }

  #state() {
    return this.#txn.catalog(this.#db);
  }

  #schemaOf(n: QualifiedName): string {
    const s = n.schema ?? DEFAULT_SCHEMA;
    if (!this.#state().schemas.has(s)) throw new DbError(SqlState.UndefinedObject, `schema "${s}" does not exist`);
    return s;
  }

  getTable(name: QualifiedName): TableSource | undefined {
    const st = this.#state();
    const meta = st.table(name.schema ?? DEFAULT_SCHEMA, name.name);
    if (!meta) {
      if (name.schema === undefined && st.view(DEFAULT_SCHEMA, name.name)) return undefined;
      const sys = systemRelation(name.schema, name.name);
      return sys ? new SystemTable(name.name, sys.rel, { db: this.#db, txn: this.#txn, catalog: st, settings: this.#settings, session: this }) : undefined;
    }
    return new EngineTable(this.#db, this.#txn, meta, st.indexesOf(meta.id));
  }

  /** PostgreSQL catalog functions over OIDs (catalog-functions.ts). */
  systemFunction(name: string, args: readonly unknown[]): unknown {
    return catalogFunction({ db: this.#db, txn: this.#txn, catalog: this.#state(), settings: this.#settings }, name, args);
  }

  getView(name: QualifiedName): ViewDef | undefined {
    return this.#state().view(name.schema ?? DEFAULT_SCHEMA, name.name);
  }

  /** The committed catalog's version; NaN (never cached) while this transaction has its own DDL. */
  version(): number {
    return this.#txn.overlay.size === 0 ? this.#db.catalogVersion : NaN;
  }

  listTables(): readonly TableDef[] {
    return [...this.#state().tables.values()].map(tableDefOf);
  }

  listViews(): readonly ViewDef[] {
    return [...this.#state().views.values()];
  }

  async #ddlLock(): Promise<void> {
    await this.#txn.lockTable(this.#db, CATALOG_LOCK, 'ACCESS EXCLUSIVE');
  }

  #put(key: string, value: unknown): void {
    this.#txn.metaPut(this.#db, key, value === undefined ? undefined : JSON.stringify(value));
  }

  async createTable(def: TableDef, opts: { ifNotExists: boolean }): Promise<void> {
    await this.#ddlLock();
    const schema = this.#schemaOf(def);
    const st = this.#state();
    if (st.table(schema, def.name) || st.view(schema, def.name)) {
      if (opts.ifNotExists) return;
      throw new DbError(SqlState.DuplicateTable, `relation "${def.name}" already exists`);
    }
    const names = new Set<string>();
    for (const c of def.columns) {
      if (names.has(c.name)) throw new DbError(SqlState.DuplicateColumn, `column "${c.name}" specified more than once`);
      names.add(c.name);
    }
    const id = st.nextTableId as TableId;
    this.#txn.metaPut(this.#db, metaKey.nextTableId, String(id + 1));
    const pk = def.primaryKey;
    const meta: TableMeta = {
      id,
      schema,
      name: def.name,
      columns: def.columns.map((c, i) => ({
        id: i,
        name: c.name,
        type: c.type,
        notNull: c.notNull || (pk?.includes(i) ?? false),
        ...(c.defaultSql !== undefined ? { defaultSql: c.defaultSql } : {}),
      })),
      ...(pk ? { primaryKey: pk } : {}),
      ...(def.uniques ? { uniques: def.uniques } : {}),
      ...(def.checks ? { checks: def.checks } : {}),
      nextColumnId: def.columns.length,
    };
    this.#db.store.createTable(this.#txn.id, storageSpecOf(meta));
    this.#txn.wrote = true;
    this.#put(metaKey.table(id), meta);
    const own: IndexMeta[] = [];
    if (pk) own.push(this.#putIndex(schema, `${def.name}_pkey`, id, pk, true, true));
    for (const u of def.uniques ?? []) {
      const cols = u.map((c) => meta.columns[c]!.name).join('_');
      let name = `${def.name}_${cols}_key`;
      for (let n = 1; this.#state().index(schema, name); n++) name = `${def.name}_${cols}_key${n}`;
      own.push(this.#putIndex(schema, name, id, u, true, false));
    }
    if (def.foreignKeys?.length) {
      const taken = new Set<string>([...own.map((i) => i.name)]);
      const foreignKeys = def.foreignKeys.map((fk) => resolveForeignKey(this.#state(), meta, fk, own, taken));
      for (const fk of foreignKeys) if (fk.refTableId !== id) await this.#txn.lockTable(this.#db, fk.refTableId, 'SHARE ROW EXCLUSIVE');
      this.#put(metaKey.table(id), { ...meta, foreignKeys });
    }
  }

  #putIndex(schema: string, name: string, tableId: TableId, columns: readonly number[], unique: boolean, primary: boolean,
    descending: readonly boolean[] = columns.map(() => false), method: 'btree' | 'fractal' = 'btree'): IndexMeta {
    if (this.#state().index(schema, name) || this.#state().table(schema, name)) {
      throw new DbError(SqlState.DuplicateTable, `relation "${name}" already exists`);
    }
    const ix: IndexMeta = { schema, name, tableId, columns, descending, unique, primary, method };
    this.#put(metaKey.index(schema, name), ix);
    return ix;
  }

  async dropTable(name: QualifiedName, opts: { ifExists: boolean; cascade: boolean }): Promise<void> {
    await this.#ddlLock();
    const schema = name.schema ?? DEFAULT_SCHEMA;
    const st = this.#state();
    const meta = st.table(schema, name.name);
    if (!meta) {
      if (opts.ifExists) return;
      if (st.view(schema, name.name)) throw new DbError(SqlState.WrongObjectType, `"${name.name}" is not a table`);
      throw new DbError(SqlState.UndefinedTable, `table "${name.name}" does not exist`);
    }
    await this.#txn.lockTable(this.#db, meta.id, 'ACCESS EXCLUSIVE');
    const dependents = st.referencing(meta.id).filter((r) => r.child.id !== meta.id);
    if (dependents.length > 0) {
      if (!opts.cascade) {
        throw new DbError(SqlState.DependentObjectsStillExist, `cannot drop table ${meta.name} because other objects depend on it`, {
          detail: dependents.map((d) => `constraint ${d.fk.name} on table ${d.child.name} depends on table ${meta.name}`).join('\n'),
          hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
        });
      }
      for (const { child } of dependents) {
        const current = this.#state().tablesById.get(child.id)!;
        this.#put(metaKey.table(child.id), { ...current, foreignKeys: (current.foreignKeys ?? []).filter((f) => f.refTableId !== meta.id) });
      }
    }
    for (const ix of st.indexesOf(meta.id)) this.#put(metaKey.index(ix.schema, ix.name), undefined);
    // serial / identity sequences are owned by their column and go with the table
    for (const c of meta.columns) {
      const m = c.defaultSql === undefined ? null : /^nextval\('(?:([\w$]+)\.)?([\w$]+)'(?:::regclass)?\)$/i.exec(c.defaultSql);
      if (m && m[2] === `${meta.name}_${c.name}_seq`) await this.dropSequence({ schema: m[1] ?? schema, name: m[2] }, { ifExists: true });
    }
    this.#put(metaKey.table(meta.id), undefined);
    this.#db.store.dropTable(this.#txn.id, meta.id);
    this.#txn.wrote = true;
  }

  async createView(def: ViewDef, opts: { orReplace: boolean }): Promise<void> {
    await this.#ddlLock();
    const schema = this.#schemaOf(def);
    const st = this.#state();
    if (st.table(schema, def.name)) throw new DbError(SqlState.DuplicateTable, `relation "${def.name}" already exists`);
    if (st.view(schema, def.name) && !opts.orReplace) throw new DbError(SqlState.DuplicateTable, `relation "${def.name}" already exists`);
    this.#put(metaKey.view(schema, def.name), { ...def, schema });
  }

  async dropView(name: QualifiedName, opts: { ifExists: boolean }): Promise<void> {
    await this.#ddlLock();
    const schema = name.schema ?? DEFAULT_SCHEMA;
    const st = this.#state();
    if (!st.view(schema, name.name)) {
      if (opts.ifExists) return;
      if (st.table(schema, name.name)) throw new DbError(SqlState.WrongObjectType, `"${name.name}" is not a view`);
      throw new DbError(SqlState.UndefinedTable, `view "${name.name}" does not exist`);
    }
    this.#put(metaKey.view(schema, name.name), undefined);
  }

  async createIndex(def: IndexDef, opts: { ifNotExists: boolean }): Promise<void> {
    await this.#ddlLock();
    const schema = def.schema ?? DEFAULT_SCHEMA;
    const st = this.#state();
    const table = st.table(schema, def.table);
    if (!table) throw new DbError(SqlState.UndefinedTable, `relation "${def.table}" does not exist`);
    if (st.index(schema, def.name) || st.table(schema, def.name) || st.view(schema, def.name)) {
      if (opts.ifNotExists) return;
      throw new DbError(SqlState.DuplicateTable, `relation "${def.name}" already exists`);
    }
    // SHARE: no concurrent writers while the index is built from the table's rows.
    await this.#txn.lockTable(this.#db, table.id, 'SHARE');
    const ix = this.#putIndex(schema, def.name, table.id, def.columns, def.unique, false,
      def.descending ?? def.columns.map(() => false), def.method);
    const { duplicate } = await this.#db.indexes.build(this.#db.store, ix, table, this.#txn.id, this.#txn.indexUndo);
    if (ix.unique) {
      if (duplicate) {
        throw new DbError(SqlState.UniqueViolation, `could not create unique index "${def.name}"`, { detail: 'Key is duplicated.' });
      }
    }
  }

  async alterTable(name: QualifiedName, action: AlterTableAction): Promise<void> {
    await this.#ddlLock();
    const schema = name.schema ?? DEFAULT_SCHEMA;
    const meta = this.#state().table(schema, name.name);
    if (!meta) throw new DbError(SqlState.UndefinedTable, `relation "${name.name}" does not exist`);
    await this.#txn.lockTable(this.#db, meta.id, 'ACCESS EXCLUSIVE');
    await applyAlter(this.#db, this.#txn, meta, action);
  }

  checkNames(name: QualifiedName): readonly string[] {
    const t = this.#state().table(name.schema ?? DEFAULT_SCHEMA, name.name);
    if (!t) return [];
    return t.checkNames ?? (t.checks ?? []).map((_, i) => checkName(t.name, i));
  }

  async createSchema(name: string, opts: { ifNotExists: boolean }): Promise<void> {
    await this.#ddlLock();
    if (this.#state().schemas.has(name)) {
      if (opts.ifNotExists) return;
      throw new DbError(SqlState.DuplicateSchema, `schema "${name}" already exists`);
    }
    this.#put(metaKey.schema(name), { name });
  }

  async dropSchema(name: string, opts: { ifExists: boolean; cascade: boolean }): Promise<void> {
    await this.#ddlLock();
    const st = this.#state();
    if (!st.schemas.has(name) || name === DEFAULT_SCHEMA || name === 'pg_catalog' || name === 'information_schema') {
      if (opts.ifExists && !st.schemas.has(name)) return;
      if (st.schemas.has(name)) throw new DbError(SqlState.DependentObjectsStillExist, `cannot drop schema ${name}`);
      throw new DbError(SqlState.UndefinedObject, `schema "${name}" does not exist`);
    }
    const tables = [...st.tables.values()].filter((t) => t.schema === name);
    const views = [...st.views.values()].filter((v) => v.schema === name);
    if ((tables.length > 0 || views.length > 0) && !opts.cascade) {
      throw new DbError(SqlState.DependentObjectsStillExist, `cannot drop schema ${name} because other objects depend on it`);
    }
    for (const v of views) await this.dropView({ schema: name, name: v.name }, { ifExists: true });
    for (const t of tables) await this.dropTable({ schema: name, name: t.name }, { ifExists: true, cascade: true });
    this.#put(metaKey.schema(name), undefined);
  }

  async createSequence(def: SequenceDef, opts: { ifNotExists: boolean }): Promise<void> {
    await this.#ddlLock();
    const schema = this.#schemaOf(def);
    const st = this.#state();
    if (st.sequence(schema, def.name) || st.table(schema, def.name) || st.view(schema, def.name) || st.index(schema, def.name)) {
      if (opts.ifNotExists) return;
      throw new DbError(SqlState.DuplicateTable, `relation "${def.name}" already exists`);
    }
    const key = seqKey(schema, def.name);
    this.#txn.metaPut(this.#db, seqDefKey(key), JSON.stringify({ ...def, schema }, big));
    this.#txn.metaPut(this.#db, seqValueKey(key), undefined);
    this.#db.sequences.forget(key);
  }

  async dropSequence(name: QualifiedName, opts: { ifExists: boolean }): Promise<void> {
    await this.#ddlLock();
    const schema = name.schema ?? DEFAULT_SCHEMA;
    if (!this.#state().sequence(schema, name.name)) {
      if (opts.ifExists) return;
      throw new DbError(SqlState.UndefinedTable, `sequence "${name.name}" does not exist`);
    }
    const key = seqKey(schema, name.name);
    this.#txn.metaPut(this.#db, seqDefKey(key), undefined);
    this.#txn.metaPut(this.#db, seqValueKey(key), undefined);
    this.#db.sequences.forget(key);
  }

  async restartSequence(name: QualifiedName, value: bigint | undefined): Promise<void> {
    const { key, state } = this.#sequence(name);
    this.#db.sequences.restart(state, value);
    this.#txn.touchedSequences.add(key);
  }

  nextval(name: QualifiedName): bigint {
    const { key, state } = this.#sequence(name);
    const v = this.#db.sequences.next(state);
    this.#currvals.set(key, v);
    this.#txn.touchedSequences.add(key);
    return v;
  }

  currval(name: QualifiedName): bigint {
    const { key } = this.#sequence(name);
    const v = this.#currvals.get(key);
    if (v === undefined) {
      throw new DbError(SqlState.ObjectNotInPrerequisiteState, `currval of sequence "${name.name}" is not yet defined in this session`);
    }
    return v;
  }

  setval(name: QualifiedName, value: bigint, isCalled: boolean): bigint {
    const { key, state } = this.#sequence(name);
    this.#db.sequences.set(state, value, isCalled);
    if (isCalled) this.#currvals.set(key, value);
    this.#txn.touchedSequences.add(key);
    return value;
  }

  #sequence(name: QualifiedName) {
    const schema = name.schema ?? DEFAULT_SCHEMA;
    const def = this.#state().sequence(schema, name.name);
    if (!def) throw new DbError(SqlState.UndefinedTable, `relation "${name.name}" does not exist`);
    const key = seqKey(schema, name.name);
    return { key, state: this.#db.sequences.state(this.#db, key, def) };
  }

  async lockTable(name: QualifiedName, mode: 'ACCESS EXCLUSIVE'): Promise<void> {
    const t = this.#state().table(name.schema ?? DEFAULT_SCHEMA, name.name);
    if (!t) throw new DbError(SqlState.UndefinedTable, `relation "${name.name}" does not exist`);
    await this.#txn.lockTable(this.#db, t.id, mode);
  }

  async dropIndex(name: QualifiedName, opts: { ifExists: boolean }): Promise<void> {
    await this.#ddlLock();
    const schema = name.schema ?? DEFAULT_SCHEMA;
    const ix = this.#state().index(schema, name.name);
    if (!ix) {
      if (opts.ifExists) return;
      throw new DbError(SqlState.UndefinedObject, `index "${name.name}" does not exist`);
    }
    if (ix.primary) {
      throw new DbError(SqlState.DependentObjectsStillExist, `cannot drop index ${ix.name} because constraint ${ix.name} on table requires it`);
    }
    await this.#txn.lockTable(this.#db, ix.tableId, 'ACCESS EXCLUSIVE');
    this.#put(metaKey.index(schema, name.name), undefined);
  }
}
