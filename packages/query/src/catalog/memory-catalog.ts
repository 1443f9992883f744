/**
 * `MemoryCatalog`: the Catalog / TableSource contract in memory, for the SQL stack's own tests
 * and tools. No transactions: every write is immediately visible.
 *
 * Invariants:
 *  1. A table's column arrays all have `rowCount` slots; deleted rows keep their slot (row ids
 *     are slot numbers and stay valid) and are flagged in `deleted`.
 *  2. PRIMARY KEY / UNIQUE constraints and unique indexes hold over the live rows (23505).
 *
 * Concurrency: operations are synchronous between awaits; a scan iterates a snapshot of the
 * row count taken when it starts.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { ColumnBatch } from '@quiverdb/common';
import type { Catalog, IndexDef, QualifiedName, ScanBatch, ScanRequest, TableDef, TableSource, TableStats, ViewDef } from './catalog.js';
import { tupleKey, valuesToVector, vectorToValues } from '../types/values.js';

const BATCH = 8192;

function keyName(q: QualifiedName): string { return `${q.schema ?? 'public'}.${q.name}`; }

export class MemoryTable implements TableSource {
  readonly cols: unknown[][];
  readonly deleted: boolean[] = [];
  #indexes: IndexDef[] = [];

  constructor(public def: TableDef) {
    this.cols = def.columns.map(() => []);
  }

  get rowCount(): number { return this.deleted.length; }

  #live = 0;

  stats(): TableStats {
    return { rowCount: this.#live };
  }

  async *scan(req: ScanRequest): AsyncIterable<ScanBatch> {
    const end = this.rowCount;
    for (let start = 0; start < end; start += BATCH) {
      const stop = Math.min(end, start + BATCH);
      const ids: number[] = [];
      for (let i = start; i < stop; i++) if (!this.deleted[i]) ids.push(i);
      if (ids.length === 0) continue;
      const dense = ids.length === stop - start;
      const columns = req.columns.map((c) => {
        const src = this.cols[c]!;
        return valuesToVector(dense ? src.slice(start, stop) : ids.map((i) => src[i]), this.def.columns[c]!.type);
      });
      const batch: ColumnBatch = { length: ids.length, columns };
      yield req.withRowIds ? { batch, rowIds: Float64Array.from(ids) } : { batch };
      await Promise.resolve();
    }
  }

  #keySets(): number[][] {
    const sets: number[][] = [];
    if (this.def.primaryKey) sets.push([...this.def.primaryKey]);
    for (const u of this.def.uniques ?? []) sets.push([...u]);
    for (const ix of this.#indexes) if (ix.unique) sets.push([...ix.columns]);
    return sets;
  }

  #checkUnique(rows: unknown[][], skip: Set<number>): void {
    for (const ks of this.#keySets()) {
      const seen = new Set<string>();
      for (let i = 0; i < this.rowCount; i++) {
        if (this.deleted[i] || skip.has(i)) continue;
        const vals = ks.map((c) => this.cols[c]![i]);
        if (vals.some((v) => v === null)) continue;
        seen.add(tupleKey(vals));
      }
      for (const r of rows) {
        const vals = ks.map((c) => r[c]);
        if (vals.some((v) => v === null)) continue;
        const k = tupleKey(vals);
        if (seen.has(k)) throw new DbError(SqlState.UniqueViolation, `duplicate key value violates unique constraint on "${this.def.name}"`);
        seen.add(k);
      }
    }
  }

  #rowsOf(batch: ColumnBatch): unknown[][] {
    const vals = batch.columns.map((v, i) => vectorToValues(v, batch.length, this.def.columns[i]!.type));
    const rows: unknown[][] = [];
    for (let r = 0; r < batch.length; r++) rows.push(vals.map((c) => c[r]));
    return rows;
  }

  async insert(batch: ColumnBatch): Promise<number> {
    const vals = batch.columns.map((v, i) => vectorToValues(v, batch.length, this.def.columns[i]!.type));
    this.def.columns.forEach((c, i) => {
      if (!c.notNull) return;
      const col = vals[i]!;
      for (let r = 0; r < batch.length; r++) if (col[r] === null) throw new DbError(SqlState.NotNullViolation, `null value in column "${c.name}" violates not-null constraint`);
    });
    if (this.#keySets().length > 0) this.#checkUnique(this.#rowsOf(batch), new Set());
    vals.forEach((col, i) => { const dst = this.cols[i]!; for (let r = 0; r < batch.length; r++) dst.push(col[r]); });
    for (let r = 0; r < batch.length; r++) this.deleted.push(false);
    this.#live += batch.length;
    return batch.length;
  }

  async delete(rowIds: Float64Array): Promise<number> {
    let n = 0;
    for (const id of rowIds) if (!this.deleted[id]) { this.deleted[id] = true; n++; }
    this.#live -= n;
    return n;
  }

  async update(rowIds: Float64Array, batch: ColumnBatch): Promise<number> {
    const rows = this.#rowsOf(batch);
    const ids = Array.from(rowIds);
    this.#checkUnique(rows, new Set(ids));
    let n = 0;
    ids.forEach((id, j) => {
      if (this.deleted[id]) return;
      rows[j]!.forEach((v, i) => { this.cols[i]![id] = v; });
      n++;
    });
    return n;
  }

  indexes(): readonly IndexDef[] { return this.#indexes; }
  addIndex(d: IndexDef): void {
    this.#indexes.push(d);
    if (d.unique) {
      try { this.#checkUnique([], new Set()); } catch (e) { this.#indexes.pop(); throw e; }
    }
  }
  dropIndex(name: string): void { this.#indexes = this.#indexes.filter((i) => i.name !== name); }
}

export class MemoryCatalog implements Catalog {
  readonly #tables = new Map<string, MemoryTable>();
  readonly #views = new Map<string, ViewDef>();
  readonly #indexes = new Map<string, { table: string; def: IndexDef }>();

  getTable(name: QualifiedName): TableSource | undefined { return this.#tables.get(keyName(name)); }
  getView(name: QualifiedName): ViewDef | undefined { return this.#views.get(keyName(name)); }

  async createTable(def: TableDef, opts: { ifNotExists: boolean }): Promise<void> {
    const k = keyName(def);
    if (this.#tables.has(k) || this.#views.has(k)) {
      if (opts.ifNotExists) return;
      throw new DbError(SqlState.DuplicateTable, `relation "${def.name}" already exists`);
    }
    const t = new MemoryTable(def);
    this.#tables.set(k, t);
    if (def.primaryKey) this.#indexes.set(keyName({ ...(def.schema ? { schema: def.schema } : {}), name: `${def.name}_pkey` }), { table: k, def: { name: `${def.name}_pkey`, table: def.name, columns: def.primaryKey, unique: true, primary: true, method: 'btree' } });
  }

  async dropTable(name: QualifiedName, opts: { ifExists: boolean; cascade: boolean }): Promise<void> {
    const k = keyName(name);
    if (!this.#tables.delete(k)) {
      if (opts.ifExists) return;
      throw new DbError(SqlState.UndefinedTable, `table "${name.name}" does not exist`);
    }
    for (const [ik, ix] of this.#indexes) if (ix.table === k) this.#indexes.delete(ik);
  }

  async createView(def: ViewDef, opts: { orReplace: boolean }): Promise<void> {
    const k = keyName(def);
    if (this.#tables.has(k) || (this.#views.has(k) && !opts.orReplace)) throw new DbError(SqlState.DuplicateTable, `relation "${def.name}" already exists`);
    this.#views.set(k, def);
  }

  async dropView(name: QualifiedName, opts: { ifExists: boolean }): Promise<void> {
    if (!this.#views.delete(keyName(name)) && !opts.ifExists) throw new DbError(SqlState.UndefinedTable, `view "${name.name}" does not exist`);
  }

  async createIndex(def: IndexDef, opts: { ifNotExists: boolean }): Promise<void> {
    const k = keyName({ ...(def.schema ? { schema: def.schema } : {}), name: def.name });
    if (this.#indexes.has(k) || this.#tables.has(k)) {
      if (opts.ifNotExists) return;
      throw new DbError(SqlState.DuplicateTable, `relation "${def.name}" already exists`);
    }
    const tk = keyName({ ...(def.schema ? { schema: def.schema } : {}), name: def.table });
    const t = this.#tables.get(tk);
    if (!t) throw new DbError(SqlState.UndefinedTable, `relation "${def.table}" does not exist`);
    t.addIndex(def);
    this.#indexes.set(k, { table: tk, def });
  }

  async dropIndex(name: QualifiedName, opts: { ifExists: boolean }): Promise<void> {
    const k = keyName(name);
    const ix = this.#indexes.get(k);
    if (!ix) {
      if (opts.ifExists) return;
      throw new DbError(SqlState.UndefinedObject, `index "${name.name}" does not exist`);
    }
    this.#indexes.delete(k);
    this.#tables.get(ix.table)?.dropIndex(ix.def.name);
  }

  listTables(): readonly TableDef[] { return [...this.#tables.values()].map((t) => t.def); }
  listViews(): readonly ViewDef[] { return [...this.#views.values()]; }
}
