/**
 * Schema changes after CREATE: ALTER TABLE (every action PostgreSQL users reach for), ALTER TABLE
 * RENAME, TRUNCATE, CREATE / DROP SCHEMA. Each ALTER TABLE action becomes one or more
 * `Catalog.alterTable` calls; whatever needs the table's rows is done with ordinary SQL run
 * through `executeStatement` in the same transaction, so it obeys MVCC, locks and indexes:
 *
 *   ADD COLUMN c T DEFAULT e   the default is evaluated once (as PostgreSQL does for non-volatile
 *                              defaults) and kept as the column's "missing" value: old rows and
 *                              old segments read it without being rewritten
 *   SET NOT NULL               SELECT ... WHERE c IS NULL LIMIT 1 → 23502 when a row has NULL
 *   ADD CHECK (e)              SELECT ... WHERE NOT (e) LIMIT 1 → 23514 when a row violates it
 *   ALTER COLUMN c TYPE T [USING e]
 *                              no rewrite: one validation scan evaluates CAST((e) AS T) (e defaults
 *                              to c) over every row (so 22P02 / 22003 / 23502 fail the ALTER with
 *                              nothing changed), then `alterColumnType` gives c a new column id
 *                              whose old rows are converted on read; storage rewrites the old
 *                              segments in the background.
 *   TRUNCATE t                 ACCESS EXCLUSIVE lock, then DELETE FROM t (transactional, as PostgreSQL's TRUNCATE is)
 *
 * Invariants:
 *  1. An action that fails leaves the table as it was (the statement's savepoint undoes the
 *     partial work, catalog entries included).
 */
import { DbError, SqlState, typeName, type SqlType } from '@quiverdb/common';
import type { Catalog, ColumnDef, ForeignKeyAction, ForeignKeyDef, QualifiedName, SequenceDef } from '../catalog/catalog.js';
import type { PgNode, SqlStatement } from '../sql/statement.js';
import { parseSql, rangeVarName } from '../sql/parse.js';
import { typeFromName } from '../bind/types.js';
import { checkText, executeStatement, exprTextFrom, type QueryResult, type SessionContext } from './statement.js';

type SchemaChange = Extract<SqlStatement, { kind: 'alterTable' | 'rename' | 'truncate' | 'createSchema' | 'dropSchema' | 'createSequence' | 'alterSequence' | 'dropSequence' }>;

const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const qualified = (q: QualifiedName): string => (q.schema ? `${ident(q.schema)}.${ident(q.name)}` : ident(q.name));

function noRows(command: string): QueryResult {
  return { command, columns: [], batches: [], rowCount: 0 };
}

function need<K extends keyof Catalog>(c: Catalog, k: K, what: string): NonNullable<Catalog[K]> {
  const f = c[k];
  if (typeof f !== 'function') throw new DbError(SqlState.FeatureNotSupported, `${what} is not supported by this catalog`);
  return (f as (...a: unknown[]) => unknown).bind(c) as NonNullable<Catalog[K]>;
}

/** Run one SQL statement in the current transaction. */
async function run(ctx: SessionContext, sql: string): Promise<QueryResult> {
  const [s] = parseSql(sql);
  return executeStatement(s!, ctx);
}

export async function execSchemaChange(s: SchemaChange, ctx: SessionContext): Promise<QueryResult> {
  const cat = ctx.catalog;
  switch (s.kind) {
    case 'createSchema':
      await need(cat, 'createSchema', 'CREATE SCHEMA')(s.name, { ifNotExists: s.ifNotExists });
      return noRows('CREATE SCHEMA');
    case 'dropSchema':
      for (const n of s.names) await need(cat, 'dropSchema', 'DROP SCHEMA')(n, { ifExists: s.ifExists, cascade: s.cascade });
      return noRows('DROP SCHEMA');
    case 'truncate':
      for (const n of s.names) {
        if (!cat.getTable(n)) throw new DbError(SqlState.UndefinedTable, `relation "${n.name}" does not exist`);
        await cat.lockTable?.(n, 'ACCESS EXCLUSIVE'); // as PostgreSQL: readers and writers wait for the TRUNCATE's end
        await run(ctx, `DELETE FROM ${qualified(n)}`);
      }
      return noRows('TRUNCATE TABLE');
    case 'createSequence': {
      const name = rangeVarName(s.node.sequence);
      await need(cat, 'createSequence', 'CREATE SEQUENCE')(sequenceDefOf(name, s.node.options ?? [], undefined), { ifNotExists: !!s.node.if_not_exists });
      return noRows('CREATE SEQUENCE');
    }
    case 'alterSequence': {
      const name = rangeVarName(s.node.sequence);
      for (const o of (s.node.options ?? []) as PgNode[]) {
        const d = o.DefElem;
        if (d.defname !== 'restart') throw new DbError(SqlState.FeatureNotSupported, `ALTER SEQUENCE ${String(d.defname).toUpperCase()} is not supported`);
        await need(cat, 'restartSequence', 'ALTER SEQUENCE')(name, d.arg ? defInt(d.arg) : undefined);
      }
      return noRows('ALTER SEQUENCE');
    }
    case 'dropSequence':
      for (const n of s.names) await need(cat, 'dropSequence', 'DROP SEQUENCE')(n, { ifExists: s.ifExists });
      return noRows('DROP SEQUENCE');
    case 'rename':
      return execRename(s.node, ctx);
    case 'alterTable':
      return execAlterTable(s.node, s.sql, ctx);
  }
}

async function execRename(n: PgNode, ctx: SessionContext): Promise<QueryResult> {
  const name = rangeVarName(n.relation);
  const alter = need(ctx.catalog, 'alterTable', 'ALTER TABLE');
  switch (n.renameType) {
    case 'OBJECT_TABLE':
      requireTable(ctx.catalog, name, !!n.missing_ok);
      await alter(name, { kind: 'renameTable', to: n.newname });
      return noRows('ALTER TABLE');
    case 'OBJECT_COLUMN':
      requireTable(ctx.catalog, name, !!n.missing_ok);
      await alter(name, { kind: 'renameColumn', from: n.subname, to: n.newname });
      return noRows('ALTER TABLE');
    default:
      throw new DbError(SqlState.FeatureNotSupported, `ALTER ${String(n.renameType).replace('OBJECT_', '')} ... RENAME is not supported`);
  }
}

function requireTable(cat: Catalog, name: QualifiedName, missingOk: boolean) {
  const t = cat.getTable(name);
  if (!t && !missingOk) {
    if (cat.getView(name)) throw new DbError(SqlState.WrongObjectType, `"${name.name}" is not a table`);
    throw new DbError(SqlState.UndefinedTable, `relation "${name.name}" does not exist`);
  }
  return t;
}

/** Parse a ColumnDef node of ALTER TABLE ADD COLUMN (with its inline constraints). */
function columnOf(cd: PgNode, sql: string): { column: ColumnDef; unique: boolean; primary: boolean; checks: string[] } {
  const type = typeFromName(cd.typeName);
  let notNull = false;
  let unique = false;
  let primary = false;
  let defaultSql: string | undefined;
  const checks: string[] = [];
  const cons: PgNode[] = (cd.constraints ?? []).map((c: PgNode) => c.Constraint);
  for (let i = 0; i < cons.length; i++) {
    const c = cons[i]!;
    switch (c.contype) {
      case 'CONSTR_NOTNULL': notNull = true; break;
      case 'CONSTR_NULL': break;
      case 'CONSTR_DEFAULT': {
        let start = c.location as number;
        const m = /^default\s*/i.exec(sql.slice(start));
        if (m) start += m[0].length;
        const stop = i + 1 < cons.length ? (cons[i + 1]!.location as number) : sql.length;
        defaultSql = exprTextFrom(sql, start, stop).replace(/\s+(not\s+null|null|primary\s+key|unique|check|references|constraint)\b[\s\S]*$/i, '').replace(/;\s*$/, '');
        break;
      }
      case 'CONSTR_UNIQUE': unique = true; break;
      case 'CONSTR_PRIMARY': primary = true; notNull = true; break;
      case 'CONSTR_CHECK': checks.push(checkText(sql, c.location)); break;
      default: throw new DbError(SqlState.FeatureNotSupported, `constraint ${c.contype} in ADD COLUMN is not supported`);
    }
  }
  return { column: { name: cd.colname, type, notNull, ...(defaultSql !== undefined ? { defaultSql } : {}) }, unique, primary, checks };
}

async function execAlterTable(n: PgNode, sql: string, ctx: SessionContext): Promise<QueryResult> {
  const cat = ctx.catalog;
  const name = rangeVarName(n.relation);
  const alter = need(cat, 'alterTable', 'ALTER TABLE');
  const table = requireTable(cat, name, !!n.missing_ok);
  if (!table) return noRows('ALTER TABLE');
  const q = qualified(name);
  const colIndex = (c: string): number => {
    const i = cat.getTable(name)!.def.columns.findIndex((x) => x.name === c);
    if (i < 0) throw new DbError(SqlState.UndefinedColumn, `column "${c}" of relation "${name.name}" does not exist`);
    return i;
  };
  const setDefaults = /\bset\s+default\s+/gi;
  for (const item of n.cmds as PgNode[]) {
    const c = item.AlterTableCmd;
    switch (c.subtype) {
      case 'AT_AddColumn': {
        const { column, unique, primary, checks } = columnOf(c.def.ColumnDef, sql);
        if (cat.getTable(name)!.def.columns.some((x) => x.name === column.name)) {
          if (c.missing_ok) break;
          throw new DbError(SqlState.DuplicateColumn, `column "${column.name}" of relation "${name.name}" already exists`);
        }
        let missing: unknown = null;
        if (column.defaultSql !== undefined) {
          const r = await run(ctx, `SELECT CAST((${column.defaultSql}) AS ${typeName(column.type)})`);
          const v = r.batches[0]!.columns[0]!;
          missing = v.validity !== null && v.validity[0] === 0 ? null : (v.data as ArrayLike<unknown>)[0];
        }
        if (column.notNull && missing === null && (await hasRows(ctx, q))) {
          throw new DbError(SqlState.NotNullViolation, `column "${column.name}" of relation "${name.name}" contains null values`);
        }
        await alter(name, { kind: 'addColumn', column, ifNotExists: false, ...(missing !== null ? { missing } : {}) });
        const idx = colIndex(column.name);
        if (unique || primary) await alter(name, { kind: 'addUnique', name: undefined, columns: [idx], primary });
        for (const chk of checks) await addCheck(ctx, name, q, undefined, chk, alter);
        break;
      }
      case 'AT_DropColumn':
        if (!cat.getTable(name)!.def.columns.some((x) => x.name === c.name)) {
          if (c.missing_ok) break;
          throw new DbError(SqlState.UndefinedColumn, `column "${c.name}" of relation "${name.name}" does not exist`);
        }
        await alter(name, { kind: 'dropColumn', name: c.name, ifExists: !!c.missing_ok, cascade: c.behavior === 'DROP_CASCADE' });
        break;
      case 'AT_ColumnDefault': {
        colIndex(c.name);
        let defaultSql: string | undefined;
        if (c.def) {
          const m = setDefaults.exec(sql);
          if (!m) throw new DbError(SqlState.SyntaxError, 'cannot read the SET DEFAULT expression');
          defaultSql = exprTextFrom(sql, m.index + m[0].length, sql.length).replace(/;\s*$/, '');
          // validate: the default must cast to the column type
          await run(ctx, `SELECT CAST((${defaultSql}) AS ${typeName(cat.getTable(name)!.def.columns[colIndex(c.name)]!.type)})`);
        }
        await alter(name, { kind: 'setDefault', name: c.name, defaultSql });
        break;
      }
      case 'AT_SetNotNull': {
        colIndex(c.name);
        const r = await run(ctx, `SELECT 1 FROM ${q} WHERE ${ident(c.name)} IS NULL LIMIT 1`);
        if (r.rowCount > 0) throw new DbError(SqlState.NotNullViolation, `column "${c.name}" of relation "${name.name}" contains null values`);
        await alter(name, { kind: 'setNotNull', name: c.name, notNull: true });
        break;
      }
      case 'AT_DropNotNull':
        colIndex(c.name);
        await alter(name, { kind: 'setNotNull', name: c.name, notNull: false });
        break;
      case 'AT_AlterColumnType': {
        const i = colIndex(c.name);
        const cd = c.def.ColumnDef;
        const type: SqlType = typeFromName(cd.typeName);
        const using = cd.raw_default ? usingText(sql) : ident(c.name);
        const cols = cat.getTable(name)!.def.columns;
        const notNull = cols[i]!.notNull;
        // the validation scan: every row's new value, errors and NULLs of a NOT NULL column fail here
        const r = await run(ctx, `SELECT sum(CASE WHEN CAST((${using}) AS ${typeName(type)}) IS NULL THEN 1 ELSE 0 END) FROM ${q}`);
        const nulls = (r.batches[0]!.columns[0]!.data as ArrayLike<unknown>)[0];
        if (notNull && Number(nulls) > 0) throw new DbError(SqlState.NotNullViolation, `column "${c.name}" of relation "${name.name}" contains null values`);
        // unique indexes on the column must hold for the new values: checked before anything changes
        for (const ix of cat.getTable(name)!.indexes()) {
          if (!ix.unique || !ix.columns.includes(i)) continue;
          const keys = ix.columns.map((k) => (k === i ? `CAST((${using}) AS ${typeName(type)})` : ident(cols[k]!.name)));
          const dup = await run(ctx, `SELECT 1 FROM ${q} WHERE ${keys.map((k) => `(${k}) IS NOT NULL`).join(' AND ')} GROUP BY ${keys.join(', ')} HAVING count(*) > 1 LIMIT 1`);
          if (dup.rowCount > 0) throw new DbError(SqlState.UniqueViolation, `could not create unique index "${ix.name}"`, { detail: 'Key is duplicated.' });
        }
        const refs = columnRefs(using);
        const sources = cols.filter((x, k) => k === i || refs.has(x.name)).map((x) => x.name);
        await alter(name, { kind: 'alterColumnType', name: c.name, type, usingSql: using, sources });
        break;
      }
      case 'AT_AddConstraint': {
        const con = c.def.Constraint;
        switch (con.contype) {
          case 'CONSTR_UNIQUE':
          case 'CONSTR_PRIMARY': {
            const cols = (con.keys as PgNode[]).map((k) => colIndex(k.String.sval));
            if (con.contype === 'CONSTR_PRIMARY') {
              for (const ci of cols) {
                const cn = cat.getTable(name)!.def.columns[ci]!.name;
                const r = await run(ctx, `SELECT 1 FROM ${q} WHERE ${ident(cn)} IS NULL LIMIT 1`);
                if (r.rowCount > 0) throw new DbError(SqlState.NotNullViolation, `column "${cn}" of relation "${name.name}" contains null values`);
              }
            }
            await alter(name, { kind: 'addUnique', name: con.conname, columns: cols, primary: con.contype === 'CONSTR_PRIMARY' });
            break;
          }
          case 'CONSTR_CHECK':
            await addCheck(ctx, name, q, con.conname, checkText(sql, con.location), alter);
            break;
          case 'CONSTR_FOREIGN':
            await alter(name, { kind: 'addForeignKey', fk: foreignKeyOf(con, (con.fk_attrs as PgNode[]).map((k) => colIndex(k.String.sval))) });
            break;
          case 'CONSTR_NOTNULL':
            await alter(name, { kind: 'setNotNull', name: con.keys?.[0]?.String?.sval, notNull: true });
            break;
          default:
            throw new DbError(SqlState.FeatureNotSupported, `ADD CONSTRAINT ${String(con.contype).replace('CONSTR_', '')} is not supported`);
        }
        break;
      }
      case 'AT_DropConstraint':
        await alter(name, { kind: 'dropConstraint', name: c.name, ifExists: !!c.missing_ok });
        break;
      default:
        throw new DbError(SqlState.FeatureNotSupported, `ALTER TABLE ${String(c.subtype).replace('AT_', '')} is not supported`);
    }
  }
  return noRows('ALTER TABLE');
}

async function hasRows(ctx: SessionContext, q: string): Promise<boolean> {
  return (await run(ctx, `SELECT 1 FROM ${q} LIMIT 1`)).rowCount > 0;
}

async function addCheck(ctx: SessionContext, name: QualifiedName, q: string, conname: string | undefined, check: string,
  alter: NonNullable<Catalog['alterTable']>): Promise<void> {
  const r = await run(ctx, `SELECT 1 FROM ${q} WHERE NOT (${check}) LIMIT 1`);
  if (r.rowCount > 0) {
    throw new DbError(SqlState.CheckViolation, `check constraint "${conname ?? `${name.name}_check`}" of relation "${name.name}" is violated by some row`);
  }
  await alter(name, { kind: 'addCheck', name: conname, checkSql: check });
}

/** Names of the columns an expression refers to (last part of each column reference). */
function columnRefs(expr: string): Set<string> {
  const out = new Set<string>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) { for (const x of n) walk(x); return; }
    if (n === null || typeof n !== 'object') return;
    for (const [k, v] of Object.entries(n as Record<string, unknown>)) {
      if (k === 'ColumnRef') {
        const fields = ((v as PgNode).fields ?? []) as PgNode[];
        const last = fields[fields.length - 1];
        if (last?.String?.sval !== undefined) out.add(last.String.sval as string);
      } else {
        walk(v);
      }
    }
  };
  const [st] = parseSql(`SELECT ${expr}`);
  walk(st);
  return out;
}

/** Text after USING in ALTER COLUMN ... TYPE ... USING expr. */
function usingText(sql: string): string {
  const m = /\busing\s+([\s\S]*)$/i.exec(sql);
  if (!m) throw new DbError(SqlState.SyntaxError, 'cannot read the USING expression');
  return exprTextFrom(m[1]!, 0, m[1]!.length).replace(/;\s*$/, '');
}

function defInt(arg: PgNode): bigint {
  if (arg.Integer) return BigInt(arg.Integer.ival ?? 0);
  if (arg.Float) return BigInt(arg.Float.fval);
  throw new DbError(SqlState.InvalidParameterValue, 'sequence options take integers');
}

/** CREATE SEQUENCE / serial / identity options with PostgreSQL's defaults (bounds of `type`, default BIGINT). */
export function sequenceDefOf(name: QualifiedName, options: readonly PgNode[], type: SqlType | undefined): SequenceDef {
  const max = type?.id === 'SMALLINT' ? 32767n : type?.id === 'INTEGER' ? 2147483647n : 9223372036854775807n;
  let increment = 1n;
  let min: bigint | undefined;
  let maxv: bigint | undefined;
  let start: bigint | undefined;
  let cycle = false;
  for (const o of options) {
    const d = o.DefElem;
    switch (d.defname) {
      case 'increment': increment = defInt(d.arg); break;
      case 'minvalue': if (d.arg) min = defInt(d.arg); break;
      case 'maxvalue': if (d.arg) maxv = defInt(d.arg); break;
      case 'start': start = defInt(d.arg); break;
      case 'cycle': cycle = d.arg?.Boolean?.boolval ?? true; break;
      case 'as': case 'cache': case 'owned_by': case 'sequence_name': break;
      default: throw new DbError(SqlState.FeatureNotSupported, `sequence option ${String(d.defname).toUpperCase()} is not supported`);
    }
  }
  if (increment === 0n) throw new DbError(SqlState.InvalidParameterValue, 'INCREMENT must not be zero');
  const lo = min ?? (increment > 0n ? 1n : -max - 1n);
  const hi = maxv ?? (increment > 0n ? max : -1n);
  const first = start ?? (increment > 0n ? lo : hi);
  if (first < lo || first > hi) throw new DbError(SqlState.InvalidParameterValue, `START value (${first}) cannot be outside MINVALUE/MAXVALUE`);
  return { ...(name.schema ? { schema: name.schema } : {}), name: name.name, start: first, increment, min: lo, max: hi, cycle };
}

const FK_ACTIONS: Record<string, ForeignKeyAction> = { a: 'noAction', r: 'restrict', c: 'cascade', n: 'setNull', d: 'setDefault' };

/** A FOREIGN KEY / REFERENCES constraint node → ForeignKeyDef (referencing columns given). */
export function foreignKeyOf(c: PgNode, columns: readonly number[]): ForeignKeyDef {
  if (c.fk_matchtype === 'f') throw new DbError(SqlState.FeatureNotSupported, 'MATCH FULL foreign keys are not supported');
  const refColumns: string[] | undefined = c.pk_attrs?.map((k: PgNode) => k.String.sval as string);
  if (refColumns && refColumns.length !== columns.length) {
    throw new DbError(SqlState.InvalidForeignKey, 'number of referencing and referenced columns for foreign key disagree');
  }
  return {
    ...(c.conname ? { name: c.conname as string } : {}),
    columns,
    refTable: rangeVarName(c.pktable),
    ...(refColumns ? { refColumns } : {}),
    onDelete: FK_ACTIONS[c.fk_del_action ?? 'a'] ?? 'noAction',
    onUpdate: FK_ACTIONS[c.fk_upd_action ?? 'a'] ?? 'noAction',
  };
}
