/**
 * The catalog's state: tables, views and indexes, derived from the entries of the metadata store
 * (`Store.metaEntries()`, the map the Bε-tree will serve).
 *
 * Key space (persisted — DO NOT CHANGE the prefixes):
 *   t/<table id>            JSON TableMeta
 *   v/<schema>.<name>       JSON ViewDef
 *   i/<schema>.<name>       JSON IndexMeta
 *   s/<schema>              JSON { name }     (schemas other than `public`)
 *   q/<schema>.<name>       JSON SequenceDef (bigints as {"$n": "…"}); qv/<schema>.<name> its mark
 *   seq/table               next table id (decimal text)
 *
 * Transactional DDL: a transaction's view of the catalog is the committed entries with its own
 * pending puts laid over them (`CatalogState.build(committed, overlay)`); the puts go to the store as
 * part of the transaction and become the committed entries at commit.
 *
 * Invariants:
 *  1. Table names are unique per schema among tables and views; index names are unique per schema.
 *  2. Every index names an existing table and column positions inside it.
 *  3. Column ids in a table are unique and below `nextColumnId`.
 *  4. A CatalogState is not changed after `build` (a catalog change builds a new one), so the
 *     per-table index lists `indexesOf` caches stay valid for the object's life.
 */
import type { SqlType, TableId } from '@quiverdb/common';
import type { ForeignKeyAction, IndexDef, SequenceDef, TableDef, ViewDef } from '@quiverdb/query';
import { unbig } from './sequences.js';

export interface ColumnMeta {
  /** stable id: storage reads old segments through it */
  readonly id: number;
  readonly name: string;
  readonly type: SqlType;
  readonly notNull: boolean;
  readonly defaultSql?: string;
  /** value of rows written before the column was added (storage's JSON-safe `missing` form) */
  readonly missing?: string | number;
}

/** A resolved FOREIGN KEY: positions in both tables and the referenced unique index. */
export interface ForeignKeyMeta {
  readonly name: string;
  readonly columns: readonly number[];
  readonly refTableId: TableId;
  readonly refColumns: readonly number[];
  /** name of the referenced table's unique index on `refColumns` (same schema as that table) */
  readonly refIndex: string;
  readonly onDelete: ForeignKeyAction;
  readonly onUpdate: ForeignKeyAction;
}

export interface TableMeta {
  readonly id: TableId;
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly ColumnMeta[];
  readonly primaryKey?: readonly number[];
  readonly uniques?: readonly (readonly number[])[];
  readonly checks?: readonly string[];
  /** names of `checks`, same order */
  readonly checkNames?: readonly string[];
  readonly foreignKeys?: readonly ForeignKeyMeta[];
  readonly nextColumnId: number;
}

export interface IndexMeta {
  readonly schema: string;
  readonly name: string;
  readonly tableId: TableId;
  readonly columns: readonly number[];
  readonly descending: readonly boolean[];
  readonly unique: boolean;
  readonly primary: boolean;
  readonly method: 'btree' | 'fractal';
}

export const DEFAULT_SCHEMA = 'public';

export const metaKey = {
  table: (id: TableId) => `t/${id}`,
  view: (schema: string, name: string) => `v/${schema}.${name}`,
  index: (schema: string, name: string) => `i/${schema}.${name}`,
  schema: (name: string) => `s/${name}`,
  nextTableId: 'seq/table',
} as const;

const qual = (schema: string, name: string) => `${schema}.${name}`;

export class CatalogState {
  readonly tablesById = new Map<TableId, TableMeta>();
  readonly tables = new Map<string, TableMeta>();
  readonly views = new Map<string, ViewDef & { schema: string }>();
  readonly indexes = new Map<string, IndexMeta>();
  readonly sequences = new Map<string, SequenceDef & { schema: string }>();
  readonly schemas = new Set<string>([DEFAULT_SCHEMA, 'information_schema', 'pg_catalog']);
  nextTableId = 1;

  static build(committed: ReadonlyMap<string, string>, overlay?: ReadonlyMap<string, string | undefined>): CatalogState {
    const s = new CatalogState();
    const apply = (k: string, v: string) => {
      if (k.startsWith('t/')) {
        const t = JSON.parse(v) as TableMeta;
        s.tablesById.set(t.id, t);
        s.tables.set(qual(t.schema, t.name), t);
      } else if (k.startsWith('v/')) {
        const view = JSON.parse(v) as ViewDef & { schema: string };
        s.views.set(qual(view.schema, view.name), view);
      } else if (k.startsWith('i/')) {
        const ix = JSON.parse(v) as IndexMeta;
        s.indexes.set(qual(ix.schema, ix.name), ix);
      } else if (k.startsWith('q/')) {
        const seq = JSON.parse(v, unbig) as SequenceDef & { schema: string };
        s.sequences.set(qual(seq.schema, seq.name), seq);
      } else if (k.startsWith('s/')) {
        s.schemas.add(k.slice(2));
      } else if (k === metaKey.nextTableId) {
        s.nextTableId = Number(v);
      }
    };
    for (const [k, v] of committed) {
      if (overlay?.has(k)) continue;
      apply(k, v);
    }
    if (overlay) for (const [k, v] of overlay) if (v !== undefined) apply(k, v);
    return s;
  }

  table(schema: string, name: string): TableMeta | undefined {
    return this.tables.get(qual(schema, name));
  }
  view(schema: string, name: string): (ViewDef & { schema: string }) | undefined {
    return this.views.get(qual(schema, name));
  }
  sequence(schema: string, name: string): (SequenceDef & { schema: string }) | undefined {
    return this.sequences.get(qual(schema, name));
  }
  index(schema: string, name: string): IndexMeta | undefined {
    return this.indexes.get(qual(schema, name));
  }
  /** Foreign keys of other tables (or this one) that reference `tableId`. */
  referencing(tableId: TableId): { child: TableMeta; fk: ForeignKeyMeta }[] {
    const out: { child: TableMeta; fk: ForeignKeyMeta }[] = [];
    for (const t of this.tablesById.values()) for (const fk of t.foreignKeys ?? []) if (fk.refTableId === tableId) out.push({ child: t, fk });
    return out;
  }

  /** indexes grouped by table, built on first use (a CatalogState is not changed after `build`) */
  #byTable: Map<TableId, IndexMeta[]> | undefined;

  /** The indexes of a table, in catalog order (a fresh array: callers may sort it). */
  indexesOf(tableId: TableId): IndexMeta[] {
    let by = this.#byTable;
    if (by === undefined) {
      by = new Map();
      for (const ix of this.indexes.values()) {
        const list = by.get(ix.tableId);
        if (list) list.push(ix);
        else by.set(ix.tableId, [ix]);
      }
      this.#byTable = by;
    }
    return by.get(tableId)?.slice() ?? [];
  }

  /** Executable twin of the header invariants. */
  checkInvariants(): void {
    for (const t of this.tables.values()) {
      if (this.views.has(qual(t.schema, t.name))) throw new Error(`table and view share the name ${t.name}`);
      const ids = new Set(t.columns.map((c) => c.id));
      if (ids.size !== t.columns.length) throw new Error(`duplicate column ids in ${t.name}`);
      for (const id of ids) if (id >= t.nextColumnId) throw new Error(`column id ${id} >= nextColumnId in ${t.name}`);
    }
    for (const ix of this.indexes.values()) {
      const t = this.tablesById.get(ix.tableId);
      if (!t) throw new Error(`index ${ix.name} on a missing table`);
      for (const c of ix.columns) if (c < 0 || c >= t.columns.length) throw new Error(`index ${ix.name} column out of range`);
    }
  }
}

export function tableDefOf(t: TableMeta): TableDef {
  return {
    schema: t.schema,
    name: t.name,
    columns: t.columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notNull, ...(c.defaultSql !== undefined ? { defaultSql: c.defaultSql } : {}) })),
    ...(t.primaryKey ? { primaryKey: t.primaryKey } : {}),
    ...(t.uniques ? { uniques: t.uniques } : {}),
    ...(t.checks ? { checks: t.checks } : {}),
  };
}

export function indexDefOf(ix: IndexMeta, table: TableMeta): IndexDef {
  return {
    name: ix.name,
    schema: ix.schema,
    table: table.name,
    columns: ix.columns,
    descending: ix.descending,
    unique: ix.unique,
    primary: ix.primary,
    method: ix.method,
  };
}
