/**
 * Statement execution: SELECT, INSERT (VALUES / SELECT / DEFAULT VALUES, ON CONFLICT, RETURNING),
 * UPDATE [FROM], DELETE [USING], CREATE/DROP TABLE|VIEW|INDEX, CREATE TABLE AS, EXPLAIN [ANALYZE].
 *
 * Concurrency: a statement awaits the catalog (scans, writes); other sessions may run in
 * between. Rows to write are fully materialized before the first write, so a statement never
 * sees its own changes (INSERT INTO t SELECT FROM t).
 *
 * Invariants:
 *  1. Batches handed to `TableSource.insert/update` hold every table column, in table order,
 *     in the shared layout, after defaults, assignment casts, NOT NULL, length and CHECK checks.
 *  2. What is kept per table definition (bound DEFAULT / CHECK rules, `tableRules`; column list
 *     and types, `tableLayout`) is keyed by the `TableDef` object: definitions are never mutated
 *     (a catalog change makes a new one), so DDL never meets a stale entry. Kept values are
 *     shared and never mutated.
 */
import { DbError, SqlState, T, typeName } from '@quiverdb/common';
import type { ColumnBatch, SqlType } from '@quiverdb/common';
import type { Catalog, ColumnDef, ForeignKeyDef, QualifiedName, ScanPredicate, SequenceDef, TableDef, TableSource } from '../catalog/catalog.js';
import type { BExpr, OutCol, Plan } from '../plan/plan.js';
import { splitAnd } from '../plan/plan.js';
import type { PgNode, SqlStatement, Statement } from '../sql/statement.js';
import { isEngineStatement, statementTag } from '../sql/statement.js';
import { parseRaw, rangeVarName } from '../sql/parse.js';
import { fastValuesOf, Tag, type FastValues } from '../sql/fast-insert-parse.js';
import { Scope } from '../bind/scope.js';
import type { BindCtx, Frame, ScopeCol } from '../bind/scope.js';
import { bindExpr, finalizeUnknown } from '../bind/expr.js';
import { bindBoolExpr, bindDmlFrom, bindSelectStmt, joinTreeFor, setBindOptions, untypedOutputs } from '../bind/select.js';
import type { BindOptions } from '../bind/select.js';
import { coerce, isNumberish, isTextish, isUnknown, typeFromName } from '../bind/types.js';
import { castValue, decimalToDouble, fromJsValue, keyOf, tupleKey, valuesToBatch, valuesToVector, vectorToValues } from '../types/values.js';
import { evalExpr } from './eval.js';
import type { ExecCtx, OpStats } from './eval.js';
import type { SpillSpace } from './spill-space.js';
import { execPlan } from './execute.js';
import { retryTargets } from './lock-rows.js';
import type { Rel } from './rel.js';
import { EMPTY_ROW, concatRels, gather } from './rel.js';
import { explainLines } from './explain.js';
import { pruneColumns } from '../optimizer/prune-columns.js';
import { decorrelateExists } from '../optimizer/decorrelate-exists.js';
import { decorrelateIn } from '../optimizer/decorrelate-in.js';
import { INDEX_SCAN_RULE, useIndexes } from '../optimizer/index-access.js';
import { execIndexScan } from './index-scan.js';
import { cachedPlan, lastPlanOf } from './plan-cache.js';
import { pointLookupOf, runPointLookup } from './point-lookup.js';

export interface SessionContext {
  catalog: Catalog;
  params: readonly unknown[];
  settings: ReadonlyMap<string, string>;
  /** transaction start time for now()/current_timestamp */
  txnStartTime: Date;
  /** cancels the statement (statement_timeout, cancel requests): checked between scan batches */
  signal?: AbortSignal;
  /** temporary files for operators over memory_limit (the engine deletes them at statement end) */
  spill?: SpillSpace;
  /** the caller already tried `executeSelectSync` on this statement: skip its point lookup step */
  skipPointLookup?: boolean;
}

export interface QueryResult {
  command: string;
  columns: { name: string; type: SqlType }[];
  batches: ColumnBatch[];
  /** rows returned, or affected by DML */
  rowCount: number;
}

/**
 * Internal rows of results made by `makeResult` (so resultRows need not decode the batches):
 * kept on the result itself, not in a WeakMap (one per statement: weak entries cost every GC).
 */
export const resultRels = {
  get(r: QueryResult): Rel | undefined {
    return r instanceof LazyResult ? r.rel : undefined;
  },
};

const NOOPTS = { agg: false, win: false, what: 'this context' } as const;
const VALUES_OPTS = { ...NOOPTS, what: 'VALUES' } as const;

/** per settings map (the engine hands the same map until a setting changes): never mutated */
const bindOptionsBySettings = new WeakMap<ReadonlyMap<string, string>, BindOptions>();

/** The bind options of `settings` (its disabled optimizer rules), made once per settings map. */
function bindOptions(settings: ReadonlyMap<string, string>): BindOptions {
  const hit = bindOptionsBySettings.get(settings);
  if (hit) return hit;
  const out = new Set<string>();
  for (const [k, v] of settings) {
    if (k.startsWith('disable_rule_') && /^(on|true|1|yes)$/i.test(v)) out.add(k.slice('disable_rule_'.length).replace(/_/g, '-'));
  }
  const opts: BindOptions = { disabledRules: out };
  bindOptionsBySettings.set(settings, opts);
  return opts;
}

function disabledRules(settings: ReadonlyMap<string, string>): ReadonlySet<string> {
  return bindOptions(settings).disabledRules;
}

export function newBindCtx(s: SessionContext): BindCtx {
  setBindOptions(bindOptions(s.settings));
  return { catalog: s.catalog, paramTypes: [], nextId: 1, viewStack: [] };
}

export function newExecCtx(s: SessionContext, stats?: Map<Plan, OpStats>): ExecCtx {
  return {
    catalog: s.catalog, params: s.params, now: s.txnStartTime, corr: new Map(), subqCache: new Map(), work: new Map(),
    settings: s.settings, ...(stats ? { stats } : {}), ...(s.signal ? { signal: s.signal } : {}), ...(s.spill ? { spill: s.spill } : {}), run: execPlan,
  };
}

function outType(t: SqlType): SqlType { return t.id === 'NULL' ? T.text : t; }

/** A result whose columnar batches are built when asked for (toArrow, protocol layers): rows come from `rel`. */
class LazyResult implements QueryResult {
  #batches: ColumnBatch[] | undefined;
  readonly #rel: Rel;
  constructor(public command: string, public columns: { name: string; type: SqlType }[], rel: Rel, public rowCount: number) {
    this.#rel = rel;
  }

  get rel(): Rel {
    return this.#rel;
  }

  get batches(): ColumnBatch[] {
    const rel = this.#rel;
    return (this.#batches ??= this.columns.length === 0 && rel.n === 0 ? [] : [valuesToBatch(rel.cols, this.columns.map((c) => c.type), rel.n)]);
  }

  set batches(b: ColumnBatch[]) {
    this.#batches = b;
  }
}

export function makeResult(command: string, out: readonly OutCol[], rel: Rel, rowCount?: number): QueryResult {
  const columns = out.map((c) => ({ name: c.name, type: outType(c.t) }));
  return new LazyResult(command, columns, rel, rowCount ?? rel.n);
}

function noRows(command: string, rowCount = 0): QueryResult {
  return { command, columns: [], batches: [], rowCount };
}

function unwrapSelect(node: PgNode): PgNode { return node.SelectStmt ?? node; }

export function bindStatementPlan(s: Extract<SqlStatement, { kind: 'select' }>, bctx: BindCtx, settings?: ReadonlyMap<string, string>): Plan {
  const plan = bindSelectStmt(unwrapSelect(s.node), bctx, { parent: null, params: [] }, new Map());
  const off = settings ? disabledRules(settings) : new Set<string>() as ReadonlySet<string>;
  const noExists = off.has('decorrelate-exists') ? plan : decorrelateExists(plan);
  const decorrelated = off.has('decorrelate-in') ? noExists : decorrelateIn(noExists);
  const pruned = off.has('prune-columns') ? decorrelated : pruneColumns(decorrelated);
  return off.has(INDEX_SCAN_RULE) ? pruned : useIndexes(pruned);
}

import { execSchemaChange, foreignKeyOf, sequenceDefOf } from './alter-table.js';

export function executeStatement(s: Statement, ctx: SessionContext): Promise<QueryResult> {
  // an INSERT is execInsert's own promise (no async step of its own: the one-row INSERT path)
  if (s.kind === 'insert') return execInsert(s.node, ctx, newBindCtx(ctx));
  return executeOther(s, ctx);
}

async function executeOther(s: Statement, ctx: SessionContext): Promise<QueryResult> {
  if (isEngineStatement(s)) throw new DbError(SqlState.InternalError, `internal error (this is a bug): ${s.kind} is executed by the engine`);
  if (s.kind === 'select') {
    // a cached plan needs no binding context
    const plan = cachedPlan(s, ctx.catalog, ctx.settings, () => bindStatementPlan(s, newBindCtx(ctx), ctx.settings));
    const point = ctx.skipPointLookup === true ? undefined : pointLookupOf(plan);
    const fast = point ? runPointLookup(point, ctx) : undefined;
    if (fast) return makeResult('SELECT', plan.out, fast);
    const rel = await execSelectPlan(plan, newExecCtx(ctx));
    return makeResult('SELECT', plan.out, rel);
  }
  const bctx = newBindCtx(ctx);
  switch (s.kind) {
    case 'insert': return execInsert(s.node, ctx, bctx);
    case 'update': return execUpdate(s, ctx, bctx);
    case 'delete': return execDelete(s, ctx, bctx);
    case 'createTable': return execCreateTable(s, ctx, bctx);
    case 'createTableAs': {
      const n = s.node;
      const plan = bindSelectStmt(unwrapSelect(n.query), bctx, { parent: null, params: [] }, new Map());
      const names: string[] | undefined = n.into.colNames?.map((c: PgNode) => c.String.sval);
      const def: TableDef = { ...nameParts(rangeVarName(n.into.rel)), columns: plan.out.map((c, i) => ({ name: names?.[i] ?? c.name, type: outType(c.t), notNull: false })) };
      await ctx.catalog.createTable(def, { ifNotExists: !!n.if_not_exists });
      const table = ctx.catalog.getTable(rangeVarName(n.into.rel))!;
      const rel = n.into.skipData ? { n: 0, cols: plan.out.map(() => []) } : await execPlan(plan, newExecCtx(ctx));
      if (rel.n > 0) await table.insert(valuesToBatch(rel.cols, def.columns.map((c) => c.type), rel.n));
      return noRows('SELECT', rel.n);
    }
    case 'dropTable':
      for (const name of s.names) await ctx.catalog.dropTable(name, { ifExists: s.ifExists, cascade: s.cascade });
      return noRows('DROP TABLE');
    case 'createView': {
      const n = s.node;
      const name = rangeVarName(n.view);
      const m = /^\s*create\s+(?:or\s+replace\s+)?(?:(?:temp|temporary)\s+)?(?:recursive\s+)?view\s+(?:"[^"]*"|[\w$.]+)\s*(?:\([^)]*\)\s*)?(?:with\s*\([^)]*\)\s*)?as\s+([\s\S]*)$/i.exec(s.sql);
      if (!m) throw new DbError(SqlState.SyntaxError, 'cannot find the view query');
      const sql = m[1]!.trim().replace(/;\s*$/, '');
      // validate now (PostgreSQL binds views at creation)
      const plan = bindSelectStmt(unwrapSelect(n.query), bctx, { parent: null, params: [] }, new Map());
      const columnNames: string[] | undefined = n.aliases?.map((a: PgNode) => a.String.sval);
      if (columnNames && columnNames.length > plan.out.length) throw new DbError(SqlState.SyntaxError, 'CREATE VIEW specifies more column names than columns');
      if (!columnNames) {
        const seen = new Set<string>();
        for (const c of plan.out) { if (seen.has(c.name)) throw new DbError(SqlState.DuplicateColumn, `column "${c.name}" specified more than once`); seen.add(c.name); }
      }
      await ctx.catalog.createView({ ...nameParts(name), sql, ...(columnNames ? { columnNames } : {}) }, { orReplace: !!n.replace });
      return noRows('CREATE VIEW');
    }
    case 'dropView':
      for (const name of s.names) await ctx.catalog.dropView(name, { ifExists: s.ifExists });
      return noRows('DROP VIEW');
    case 'createIndex': {
      const n = s.node;
      const tname = rangeVarName(n.relation);
      const table = ctx.catalog.getTable(tname);
      if (!table) throw new DbError(SqlState.UndefinedTable, `relation "${tname.name}" does not exist`);
      const cols: number[] = [];
      const desc: boolean[] = [];
      for (const p of n.indexParams) {
        const e = p.IndexElem;
        if (!e.name) throw new DbError(SqlState.FeatureNotSupported, 'expression indexes are not supported');
        const i = table.def.columns.findIndex((c) => c.name === e.name);
        if (i < 0) throw new DbError(SqlState.UndefinedColumn, `column "${e.name}" does not exist`);
        cols.push(i);
        desc.push(e.ordering === 'SORTBY_DESC');
      }
      const name = n.idxname ?? `${tname.name}_${cols.map((c) => table.def.columns[c]!.name).join('_')}_idx`;
      await ctx.catalog.createIndex({ name, table: tname.name, ...(tname.schema ? { schema: tname.schema } : {}), columns: cols, descending: desc,
        unique: !!n.unique, primary: !!n.primary, method: n.accessMethod === 'fractal' || n.accessMethod === 'betree' ? 'fractal' : 'btree' }, { ifNotExists: !!n.if_not_exists });
      return noRows('CREATE INDEX');
    }
    case 'dropIndex':
      for (const name of s.names) await ctx.catalog.dropIndex(name, { ifExists: s.ifExists });
      return noRows('DROP INDEX');
    case 'explain': return execExplain(s, ctx, bctx);
    case 'alterTable': case 'rename': case 'truncate': case 'createSchema': case 'dropSchema':
    case 'createSequence': case 'alterSequence': case 'dropSequence':
      return execSchemaChange(s, ctx);
  }
}

/**
 * May `executeSelectSync` answer `s`? false when `s` is no SELECT or its last cached plan is no
 * point lookup (a hint for skipping the attempt: `executeStatement` still takes the point lookup
 * step of whatever plan it runs).
 */
export function mayBePointLookup(s: Statement): boolean {
  if (s.kind !== 'select') return false;
  const last = lastPlanOf(s);
  return last === undefined || pointLookupOf(last) !== undefined;
}

/**
 * `executeStatement` of a SELECT that is a point lookup (exec/point-lookup.ts), run synchronously;
 * undefined when `s` is anything else or its table cannot answer without waiting (then use
 * `executeStatement`, which gives the same result). Errors are thrown as `executeStatement` would.
 */
export function executeSelectSync(s: Statement, ctx: SessionContext): QueryResult | undefined {
  if (s.kind !== 'select') return undefined;
  const plan = cachedPlan(s, ctx.catalog, ctx.settings, () => bindStatementPlan(s, newBindCtx(ctx), ctx.settings));
  const point = pointLookupOf(plan);
  const rel = point ? runPointLookup(point, ctx) : undefined;
  if (!rel) return undefined;
  let columns = pointColumns.get(plan.out);
  if (!columns) pointColumns.set(plan.out, (columns = Object.freeze(plan.out.map((c) => Object.freeze({ name: c.name, type: outType(c.t) })))));
  return new LazyResult('SELECT', columns as { name: string; type: SqlType }[], rel, rel.n);
}

/**
 * Result columns of point lookups per plan output (cached plans keep their `out`): frozen, so
 * every result of the plan shares them (the engine's Result shares its descriptions of frozen
 * column lists too).
 */
const pointColumns = new WeakMap<readonly OutCol[], readonly { readonly name: string; readonly type: SqlType }[]>();

/**
 * A SELECT's plan. Point and range lookups (an index scan, or plain columns of one) skip the
 * general operator dispatch: the same operators, fewer steps on the path of every OLTP read.
 */
function execSelectPlan(plan: Plan, ctx: ExecCtx): Promise<Rel> {
  if (ctx.stats) return execPlan(plan, ctx);
  if (plan.k === 'indexScan') return execIndexScan(plan, ctx);
  if (plan.k === 'project' && plan.input.k === 'indexScan' && plan.exprs.every((e) => e.k === 'col')) {
    const exprs = plan.exprs as Extract<BExpr, { k: 'col' }>[];
    return execIndexScan(plan.input, ctx).then((rel) => ({ n: rel.n, cols: exprs.map((e) => rel.cols[e.i]!) }));
  }
  return execPlan(plan, ctx);
}

function nameParts(q: QualifiedName): { schema?: string; name: string } {
  return q.schema ? { schema: q.schema, name: q.name } : { name: q.name };
}

// ---------------------------------------------------------------------------------------------
// EXPLAIN

async function execExplain(s: Extract<SqlStatement, { kind: 'explain' }>, ctx: SessionContext, bctx: BindCtx): Promise<QueryResult> {
  const inner = s.statement;
  if (inner.kind !== 'select') {
    if (s.analyze) {
      const t0 = performance.now();
      const r = await executeStatement(inner, ctx);
      const lines = [`${statementTag(inner)} (actual rows=${r.rowCount})`, `Execution Time: ${(performance.now() - t0).toFixed(3)} ms`];
      return makeResult('EXPLAIN', [{ name: 'QUERY PLAN', t: T.text }], { n: lines.length, cols: [lines] });
    }
    const lines = [`${statementTag(inner)}`];
    return makeResult('EXPLAIN', [{ name: 'QUERY PLAN', t: T.text }], { n: lines.length, cols: [lines] });
  }
  const plan = bindStatementPlan(inner, bctx, ctx.settings);
  let lines: string[];
  if (s.analyze) {
    const stats = new Map<Plan, OpStats>();
    const t0 = performance.now();
    await execPlan(plan, newExecCtx(ctx, stats));
    lines = explainLines(plan, stats);
    lines.push(`Execution Time: ${(performance.now() - t0).toFixed(3)} ms`);
  } else lines = explainLines(plan);
  return makeResult('EXPLAIN', [{ name: 'QUERY PLAN', t: T.text }], { n: lines.length, cols: [lines] });
}

// ---------------------------------------------------------------------------------------------
// DML helpers

function getTable(catalog: Catalog, rv: PgNode): { table: TableSource; name: QualifiedName } {
  const name = rangeVarName(rv);
  const table = catalog.getTable(name);
  if (!table) {
    if (catalog.getView(name)) throw new DbError(SqlState.ObjectNotInPrerequisiteState, `cannot change view "${name.name}"`);
    throw new DbError(SqlState.UndefinedTable, `relation "${name.name}" does not exist`);
  }
  return { table, name };
}

/** All rows of a table with their row ids (last column). */
async function readTable(table: TableSource, predicates: ScanPredicate[] = []): Promise<Rel> {
  const def = table.def;
  const cols = def.columns.map((_c, i) => i);
  const parts: Rel[] = [];
  for await (const sb of table.scan({ columns: cols, predicates, withRowIds: true })) {
    const b = sb.batch;
    const vals = b.columns.map((v, i) => vectorToValues(v, b.length, def.columns[i]!.type));
    vals.push(Array.from(sb.rowIds ?? new Float64Array(b.length)));
    parts.push({ n: b.length, cols: vals });
  }
  if (parts.length === 0) return { n: 0, cols: [...def.columns.map(() => []), []] };
  return concatRels(parts, def.columns.length + 1);
}

function tableScopeCols(def: TableDef, rel: string): ScopeCol[] {
  return def.columns.map((c, i) => ({ rel, name: c.name, t: c.type, i }));
}

/** Assignment of source values of type `from` to a column (PostgreSQL assignment cast + length check). */
function assignColumn(vals: unknown[], from: SqlType, col: ColumnDef, untyped = false): unknown[] {
  if (!untyped && !assignCastExists(from, col.type)) throw notAssignable(col.name, col.type, from);
  const out = new Array<unknown>(vals.length);
  const sameRepr = sameRepresentation(from, col);
  for (let i = 0; i < vals.length; i++) out[i] = assignValue(vals[i], from, col, sameRepr);
  return out;
}

/** Values of type `from` are stored unchanged in `col` (no cast, no length check). */
function sameRepresentation(from: SqlType, col: ColumnDef): boolean {
  const t = col.type;
  return from.id === t.id && t.id !== 'VARCHAR' && t.id !== 'NUMERIC';
}

/** One value of `assignColumn`. */
function assignValue(v: unknown, from: SqlType, col: ColumnDef, sameRepr: boolean): unknown {
  if (v === null || sameRepr) return v;
  const t = col.type;
  if (t.id === 'VARCHAR' && t.length !== undefined) {
    const sv = castValue(v, from, T.text) as string;
    if (sv.length > t.length) {
      if (sv.slice(t.length).trim() !== '') throw new DbError(SqlState.StringDataRightTruncation, `value too long for type character varying(${t.length})`);
      return sv.slice(0, t.length);
    }
    return sv;
  }
  try {
    return castValue(v, from, t);
  } catch (e) {
    // no assignment cast between the types: PostgreSQL names the column (42804), not the cast
    if (e instanceof DbError && e.code === SqlState.CannotCoerce) throw notAssignable(col.name, t, from);
    throw e;
  }
}

/**
 * Per VALUES lists node: its `$n` indexes row-major (0-based) when every item is a plain `$n` or
 * `$n::T`, column j's items all the same one of those (`casts[j]`: the TypeName of T, or undefined).
 */
interface PlainParamLayout {
  readonly width: number;
  readonly at: Int32Array;
  readonly max: number;
  readonly casts: readonly (PgNode | undefined)[];
}
const plainParamLayouts = new WeakMap<object, PlainParamLayout | null>();

function plainParamLayout(valuesLists: PgNode[], width: number): PlainParamLayout | null {
  const known = plainParamLayouts.get(valuesLists);
  if (known !== undefined) return known !== null && known.width === width ? known : null;
  let layout: PlainParamLayout | null = null;
  const at = new Int32Array(valuesLists.length * width);
  const casts: (PgNode | undefined)[] = [];
  let max = 0;
  scan: {
    for (let r = 0, i = 0; r < valuesLists.length; r++) {
      const items: PgNode[] | undefined = valuesLists[r]?.List?.items;
      if (items === undefined || items.length !== width) break scan;
      for (let j = 0; j < width; j++, i++) {
        const item = items[j];
        const cast: PgNode | undefined = item?.TypeCast;
        const pn: unknown = (cast === undefined ? item : cast.arg)?.ParamRef?.number;
        if (typeof pn !== 'number' || !(pn > 0)) break scan;
        if (r === 0) casts.push(cast?.typeName);
        else if (cast === undefined ? casts[j] !== undefined : casts[j] === undefined || !sameTypeName(cast.typeName, casts[j])) break scan;
        at[i] = pn - 1;
        if (pn > max) max = pn;
      }
    }
    layout = { width, at, max, casts };
  }
  plainParamLayouts.set(valuesLists, layout);
  return layout;
}

/**
 * A multi-row VALUES of untyped `$n` items (or `$n::T` with T the column's own type) as typed
 * columns (`plainColumns`); null — the per-item path then runs, with its errors in its order —
 * for a typed `$n`, a missing parameter, a cast to another type, or what plainColumns refuses.
 * The same values as the per-item path: a `$n::T` of an untyped `$n` is that `$n` typed T.
 */
function plainParamValues(valuesLists: PgNode[], targets: readonly number[], def: TableDef, bctx: BindCtx, params: readonly unknown[]): Rel | null {
  const w = targets.length;
  const layout = plainParamLayout(valuesLists, w);
  if (layout === null || layout.max > params.length) return null;
  // (only up to the array's length: reading past it, or a hole, is a slow prototype lookup)
  const pt = bctx.paramTypes;
  for (let i = 0, end = Math.min(layout.max, pt.length); i < end; i++) if (pt[i] !== undefined) return null;
  for (let j = 0; j < w; j++) {
    const cast = layout.casts[j];
    if (cast !== undefined && !castIsColumnType(cast, def.columns[targets[j]!]!.type)) return null;
  }
  return plainColumns(params, layout.at, valuesLists.length, targets, def);
}

/**
 * A multi-row VALUES of plain literals as typed columns (`plainColumns`), without binding each
 * item: an integer literal is an int4 number, a decimal literal the double its NUMERIC casts to
 * (`decimalToDouble`; numeric has no -0), a string literal (unknown) the text. Null — the
 * per-item path runs, with its errors in its order — on any other item (NULL, DEFAULT, casts,
 * a decimal past double's range or rounding to 0) or what plainColumns refuses (a decimal into
 * INTEGER, a string into a number column, ...).
 */
function plainLiteralValues(valuesLists: PgNode[], targets: readonly number[], def: TableDef): Rel | null {
  const w = targets.length;
  const n = valuesLists.length;
  const values = new Array<unknown>(n * w);
  const at = new Int32Array(n * w);
  for (let r = 0, i = 0; r < n; r++) {
    const items: PgNode[] | undefined = valuesLists[r]?.List?.items;
    if (items === undefined || items.length !== w) return null;
    for (let j = 0; j < w; j++, i++) {
      const c = items[j]!.A_Const;
      let v: unknown;
      if (c === undefined) return null;
      if (c.ival !== undefined) v = c.ival.ival ?? 0; // `{}` is 0 (protobuf JSON leaves zero out)
      else if (typeof c.fval?.fval === 'string') {
        const x = decimalToDouble(c.fval.fval);
        if (x === undefined) return null;
        v = x + 0;
      } else if (c.sval !== undefined) v = (c.sval as { sval?: string }).sval ?? '';
      else return null;
      values[i] = v;
      at[i] = i;
    }
  }
  return plainColumns(values, at, n, targets, def);
}

/** `plainLiteralValues` of a fast-parsed VALUES list (fast-insert-parse.ts FastValues), read from its compact values. */
function fastLiteralValues(v: FastValues, targets: readonly number[], def: TableDef): Rel | null {
  const w = targets.length;
  if (v.width !== w) return null;
  const m = v.rows * w;
  const values = new Array<unknown>(m);
  const at = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    switch (v.tags[i]) {
      case Tag.Int: case Tag.Str: values[i] = v.vals[i]; break;
      case Tag.Dec: {
        const x = decimalToDouble(v.vals[i] as string);
        if (x === undefined) return null;
        values[i] = x + 0;
        break;
      }
      default: return null;
    }
    at[i] = i;
  }
  return plainColumns(values, at, v.rows, targets, def);
}

/**
 * Typed columns of `n` rows of JS values, row r's value for target column j at
 * `values[at[r * targets.length + j]]`: numbers stored unchanged in INTEGER (int32 values) and
 * DOUBLE columns, strings in TEXT / VARCHAR (no length) columns, dates (Date objects or date
 * text, as fromJsValue reads them) in DATE columns — typed arrays for the numeric ones and DATE,
 * see rel.ts invariant 3. These are the values fromJsValue + assignValue give back unchanged;
 * null on anything else (NULL, a value needing a cast or a range check, a date that does not
 * parse, another column type).
 */
function plainColumns(values: readonly unknown[], at: Int32Array, n: number, targets: readonly number[], def: TableDef): Rel | null {
  const w = targets.length;
  const cols = new Array<unknown[]>(w);
  for (let j = 0; j < w; j++) {
    const t = def.columns[targets[j]!]!.type;
    switch (t.id) {
      case 'DATE': {
        const out = new Int32Array(n);
        try {
          for (let r = 0, i = j; r < n; r++, i += w) {
            const v = values[at[i]!];
            if (v === null || v === undefined) return null;
            const d = fromJsValue(v, t);
            if (typeof d !== 'number' || (d | 0) !== d) return null; // +-infinity, or not a day
            out[r] = d;
          }
        } catch {
          return null;
        }
        cols[j] = out as unknown as unknown[];
        break;
      }
      case 'INTEGER': {
        const out = new Int32Array(n);
        for (let r = 0, i = j; r < n; r++, i += w) {
          const v = values[at[i]!];
          if (typeof v !== 'number' || (v | 0) !== v) return null;
          out[r] = v;
        }
        cols[j] = out as unknown as unknown[];
        break;
      }
      case 'DOUBLE': {
        const out = new Float64Array(n);
        for (let r = 0, i = j; r < n; r++, i += w) {
          const v = values[at[i]!];
          if (typeof v !== 'number') return null;
          out[r] = v;
        }
        cols[j] = out as unknown as unknown[];
        break;
      }
      case 'TEXT': case 'VARCHAR': {
        if (t.length !== undefined) return null;
        const out = new Array<unknown>(n);
        for (let r = 0, i = j; r < n; r++, i += w) {
          const v = values[at[i]!];
          if (typeof v !== 'string') return null;
          out[r] = v;
        }
        cols[j] = out;
        break;
      }
      default: return null;
    }
  }
  return { n, cols };
}

/** Does `$n::<tn>` give a value of column type `t` unchanged (T is exactly the column's type)? */
function castIsColumnType(tn: PgNode, t: SqlType): boolean {
  const names: PgNode[] = tn.names ?? [];
  if (tn.typmods !== undefined || tn.arrayBounds !== undefined || names.length === 0 || names.length > 2) return false;
  if (names.length === 2 && names[0]?.String?.sval !== 'pg_catalog') return false;
  let ct: SqlType;
  try { ct = typeFromName(tn); } catch { return false; }
  return ct.id === t.id && (ct.id !== 'VARCHAR' || (ct.length === undefined && t.length === undefined));
}

/** Do two TypeName nodes name the same type (plain names and typmod, no modifiers or arrays)? */
function sameTypeName(a: PgNode, b: PgNode): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.typmods !== undefined || b.typmods !== undefined || a.arrayBounds !== undefined || b.arrayBounds !== undefined) return false;
  if (a.typemod !== b.typemod || a.setof !== b.setof || a.pct_type !== b.pct_type) return false;
  const x: PgNode[] | undefined = a.names, y: PgNode[] | undefined = b.names;
  if (x === undefined || y === undefined || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i]?.String?.sval === undefined || x[i].String.sval !== y[i]?.String?.sval) return false;
  return true;
}

/** The value of a bound `$n` (as evalExpr computes it for one row). */
function paramValue(e: Extract<BExpr, { k: 'param' }>, ctx: ExecCtx): unknown {
  if (e.n > ctx.params.length) throw new DbError(SqlState.UndefinedParameter, `there is no parameter $${e.n}`);
  return fromJsValue(ctx.params[e.n - 1], e.t);
}

interface TableRules { readonly defaults: readonly (BExpr | null)[]; readonly checks: readonly BExpr[] }

/**
 * Bound DEFAULT / CHECK rules per table definition. Definitions are never mutated (a catalog
 * change makes a new one), and rules are kept only when their binding left the binding context
 * untouched (no parameter typed, no id taken: no subquery, so no catalog lookup either), so they
 * are what binding them again would give. Shared: never mutated by their users.
 */
const boundRules = new WeakMap<TableDef, TableRules>();

function tableRules(def: TableDef, bctx: BindCtx): TableRules {
  // a binding that starts with parameter types known could read them: never cached
  const cacheable = bctx.paramTypes.length === 0;
  if (cacheable) {
    const hit = boundRules.get(def);
    if (hit !== undefined) return hit;
  }
  const firstId = bctx.nextId;
  const rules = bindTableRules(def, bctx);
  if (cacheable && bctx.paramTypes.length === 0 && bctx.nextId === firstId) boundRules.set(def, rules);
  return rules;
}

function bindTableRules(def: TableDef, bctx: BindCtx): TableRules {
  const empty = new Scope([], { parent: null, params: [] }, bctx, new Map());
  const defaults = def.columns.map((c) => {
    if (c.defaultSql === undefined) return null;
    const stmt = parseRaw(`SELECT ${c.defaultSql}`)[0]!.stmt;
    const e = finalizeUnknown(empty, bindExpr(stmt.SelectStmt.targetList[0].ResTarget.val, empty, { ...NOOPTS, what: 'DEFAULT expressions' }));
    return coerceAssign(e, c.type, c.name);
  });
  const scope = new Scope(tableScopeCols(def, def.name), { parent: null, params: [] }, bctx, new Map());
  const checks = (def.checks ?? []).map((sql) => {
    const stmt = parseRaw(`SELECT ${sql}`)[0]!.stmt;
    return bindBoolExpr(stmt.SelectStmt.targetList[0].ResTarget.val, scope, 'CHECK');
  });
  return { defaults, checks };
}

/**
 * The value of `SET col = e`: an untyped literal or `$n` takes the column's type (coerceAssign),
 * anything else is resolved first (finalizeUnknown) and then assigned.
 */
function assignTarget(scope: Scope, e: BExpr, col: ColumnDef): BExpr {
  return coerceAssign(isUnknown(e) ? e : finalizeUnknown(scope, e), col.type, col.name);
}

/**
 * A literal or `$n` assigned to a column of type `t` takes that type. `column`: the column's name,
 * for PostgreSQL's 42804 when no assignment cast exists (an integer into a DATE column).
 */
function coerceAssign(e: BExpr, t: SqlType, column?: string): BExpr {
  // VARCHAR(n): coerce to text here, the length is checked (not truncated) on assignment
  if (t.id === 'VARCHAR' && t.length !== undefined) t = T.text;
  if (column !== undefined && !isUnknown(e) && !assignCastExists(e.t, t)) throw notAssignable(column, t, e.t);
  if (e.k !== 'const' && e.k !== 'param') return e;
  try {
    return coerce(e, t);
  } catch (err) {
    if (column !== undefined && err instanceof DbError && err.code === SqlState.CannotCoerce) throw notAssignable(column, t, e.t);
    throw err;
  }
}

/**
 * Does PostgreSQL convert a value of type `from` to a column of type `to` on assignment (an
 * implicit or assignment cast, or the I/O conversion to a string type)? Numbers convert among
 * themselves, DATE and TIMESTAMP both ways, anything to text; BOOLEAN to INTEGER, text to a
 * number or DATE to INTEGER only by an explicit cast.
 */
function assignCastExists(from: SqlType, to: SqlType): boolean {
  if (from.id === to.id || from.id === 'NULL' || isTextish(to)) return true;
  if (isNumberish(from) && isNumberish(to)) return true;
  return (from.id === 'DATE' && to.id === 'TIMESTAMP') || (from.id === 'TIMESTAMP' && to.id === 'DATE');
}

/** PostgreSQL's error for a value of type `from` assigned to column `column` of type `to` without an assignment cast. */
function notAssignable(column: string, to: SqlType, from: SqlType): DbError {
  return new DbError(SqlState.DatatypeMismatch, `column "${column}" is of type ${typeName(to).toLowerCase()} but expression is of type ${typeName(from).toLowerCase()}`);
}

/**
 * NOT NULL and CHECK constraints on rows about to be written: throws on a NULL in a NOT NULL
 * column; the CHECKs' evaluation when the table has any (undefined otherwise). `ctx`: the
 * statement's execution context, asked for only when there are CHECKs to evaluate.
 */
function validateRows(def: TableDef, rules: TableRules, rel: Rel, ctx: () => ExecCtx): Promise<void> | undefined {
  const columns = def.columns;
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    if (!c.notNull) continue;
    const col = rel.cols[i]!;
    for (let r = 0; r < rel.n; r++) {
      if (col[r] === null) throw new DbError(SqlState.NotNullViolation, `null value in column "${c.name}" of relation "${def.name}" violates not-null constraint`);
    }
  }
  return rules.checks.length === 0 ? undefined : checkRows(def, rules.checks, rel, ctx());
}

async function checkRows(def: TableDef, checks: readonly BExpr[], rel: Rel, ctx: ExecCtx): Promise<void> {
  for (const chk of checks) {
    const v = await evalExpr(chk, rel, ctx);
    for (let r = 0; r < rel.n; r++) {
      if (v[r] === false) throw new DbError(SqlState.CheckViolation, `new row for relation "${def.name}" violates check constraint`);
    }
  }
}

/** Rows at most this many are written in one call (a larger statement writes in chunks). */
const WRITE_CHUNK = 65536;

/**
 * Writes `rel` with `f`, in chunks of WRITE_CHUNK rows (`from`, `to`: the chunk's rows); returns
 * the sum of what `f` returns. A statement of one chunk is `f`'s own promise (no extra step).
 */
function writeInChunks(rel: Rel, types: readonly SqlType[], f: (b: ColumnBatch, from: number, to: number) => Promise<number>): Promise<number> {
  if (rel.n > WRITE_CHUNK) return writeChunks(rel, types, f);
  return rel.n === 0 ? Promise.resolve(0) : f(valuesToBatch(rel.cols, types, rel.n), 0, rel.n);
}

async function writeChunks(rel: Rel, types: readonly SqlType[], f: (b: ColumnBatch, from: number, to: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (let from = 0; from < rel.n; from += WRITE_CHUNK) {
    const to = Math.min(rel.n, from + WRITE_CHUNK);
    total += await f(valuesToBatch(rel.cols.map((c) => c.slice(from, to)), types, to - from), from, to);
  }
  return total;
}

/** The statement's result: RETURNING's rows when `list` has items (`ctx` asked for then), else no rows. */
async function returning(list: PgNode[] | undefined, def: TableDef, rel: string, rows: Rel, bctx: BindCtx, ctx: () => ExecCtx, command: string, count: number): Promise<QueryResult> {
  if (!list || list.length === 0) return noRows(command, count);
  const scope = new Scope(tableScopeCols(def, rel), { parent: null, params: [] }, bctx, new Map());
  const out: OutCol[] = [];
  const exprs: BExpr[] = [];
  for (const t of list) {
    const rt = t.ResTarget;
    if (rt.val.ColumnRef && rt.val.ColumnRef.fields.some((f: PgNode) => f.A_Star)) {
      def.columns.forEach((c, i) => { out.push({ name: c.name, t: c.type }); exprs.push({ k: 'col', t: c.type, i }); });
      continue;
    }
    const e = finalizeUnknown(scope, bindExpr(rt.val, scope, { ...NOOPTS, what: 'RETURNING' }));
    const { figureName } = await import('../bind/select.js');
    out.push({ name: rt.name ?? figureName(rt.val), t: e.t });
    exprs.push(e);
  }
  const cols: unknown[][] = [];
  for (const e of exprs) cols.push(await evalExpr(e, rows, ctx()));
  return makeResult(command, out, { n: rows.n, cols }, count);
}

// ---------------------------------------------------------------------------------------------
// INSERT

/**
 * Per table definition (never mutated: a catalog change makes a new one): its column indexes in
 * order (an INSERT without a column list targets them all) and its column types (the layout of the
 * batches written). Shared: never mutated by their users.
 */
interface TableLayout { readonly allColumns: readonly number[]; readonly types: readonly SqlType[] }
const tableLayouts = new WeakMap<TableDef, TableLayout>();

function tableLayout(def: TableDef): TableLayout {
  let layout = tableLayouts.get(def);
  if (layout === undefined) {
    layout = { allColumns: def.columns.map((_c, i) => i), types: def.columns.map((c) => c.type) };
    tableLayouts.set(def, layout);
  }
  return layout;
}

/**
 * An INSERT's source rows other than `plainParamValues` / `plainLiteralValues` ones: DEFAULT
 * VALUES, a VALUES list of any items, or a query. Values per target column, already assigned to
 * the column's type, plus per target column the rows whose item is DEFAULT (`isDefault[j][r]`).
 */
async function insertSource(n: PgNode, sel: PgNode | null, targets: readonly number[], def: TableDef, bctx: BindCtx, execCtx: () => ExecCtx):
  Promise<{ src: Rel; isDefault: boolean[][] }> {
  if (!sel) {
    const src: Rel = { n: 1, cols: targets.map(() => [null]) };
    return { src, isDefault: targets.map(() => [true]) };
  }
  if (sel.valuesLists && !sel.sortClause && !sel.limitCount && !sel.withClause) {
    const ctx = execCtx();
    const empty = new Scope([], { parent: null, params: [] }, bctx, new Map());
    const marks: boolean[][] = targets.map(() => []);
    const lists: PgNode[][] = sel.valuesLists.map((l: PgNode) => l.List.items);
    const cols: unknown[][] = targets.map(() => new Array<unknown>(lists.length));
    // an untyped $n takes the column's type (coerceAssign): per target column, that type and
    // whether its values are stored as they are
    const paramTypeOf = targets.map((ti) => { const t = def.columns[ti]!.type; return t.id === 'VARCHAR' && t.length !== undefined ? T.text : t; });
    const paramSame = targets.map((ti, j) => sameRepresentation(paramTypeOf[j]!, def.columns[ti]!));
    // per target column: the last `$n::T` item bound (bulk loads cast every row's $n the same way)
    const castMemo: ({ typeName: PgNode; t: SqlType } | undefined)[] = targets.map(() => undefined);
    for (let r = 0; r < lists.length; r++) {
      const items = lists[r]!;
      if (items.length > targets.length) throw new DbError(SqlState.SyntaxError, 'INSERT has more expressions than target columns');
      if (items.length < targets.length && n.cols) throw new DbError(SqlState.SyntaxError, 'INSERT has more target columns than expressions');
      for (let j = 0; j < targets.length; j++) {
        const item = items[j];
        const col = def.columns[targets[j]!]!;
        if (item === undefined || item.SetToDefault) { marks[j]![r] = true; cols[j]![r] = null; continue; }
        const pn: number | undefined = item.ParamRef?.number;
        if (pn !== undefined && pn > 0 && bctx.paramTypes[pn - 1] === undefined) {
          // untyped $n: what bind + coerceAssign + evalExpr give, without building the expression
          if (pn > ctx.params.length) throw new DbError(SqlState.UndefinedParameter, `there is no parameter $${pn}`);
          cols[j]![r] = assignValue(fromJsValue(ctx.params[pn - 1], paramTypeOf[j]!), paramTypeOf[j]!, col, paramSame[j]!);
          continue;
        }
        let e: BExpr;
        const cast = item.TypeCast;
        const memo = castMemo[j];
        const cpn: number | undefined = cast?.arg?.ParamRef?.number;
        if (memo !== undefined && cpn !== undefined && cpn > 0 && bctx.paramTypes[cpn - 1] === undefined && sameTypeName(cast.typeName, memo.typeName)) {
          // `$n::T` like the previous row's: what bindExpr gives (castTo of an untyped $n)
          e = { k: 'param', t: memo.t, n: cpn };
        } else {
          e = bindExpr(item, empty, VALUES_OPTS);
          if (cpn !== undefined && e.k === 'param' && e.n === cpn && bctx.paramTypes[cpn - 1] === undefined) castMemo[j] = { typeName: cast.typeName, t: e.t };
        }
        e = coerceAssign(e, col.type, col.name);
        // plain $n / literal: its value directly (most multi-row INSERTs are only these)
        const v = e.k === 'const' ? e.v : e.k === 'param' ? paramValue(e, ctx) : (await evalExpr(e, EMPTY_ROW, ctx))[0];
        cols[j]![r] = assignValue(v, e.t, col, sameRepresentation(e.t, col));
      }
    }
    return { src: { n: lists.length, cols }, isDefault: marks };
  }
  const plan = bindSelectStmt(sel, bctx, { parent: null, params: [] }, new Map());
  if (plan.out.length > targets.length) throw new DbError(SqlState.SyntaxError, 'INSERT has more expressions than target columns');
  const rel = await execPlan(plan, execCtx());
  // an untyped literal ('5', NULL) in the SELECT list takes the column's type, as PostgreSQL
  // leaves INSERT ... SELECT's unknown outputs unresolved (the text it was typed as is converted)
  const untyped = untypedOutputs(sel);
  const cols = targets.map((ti, j) => (j < plan.out.length ? assignColumn(rel.cols[j]!, plan.out[j]!.t, def.columns[ti]!, untyped[j] === true) : new Array<unknown>(rel.n).fill(null)));
  const marks: boolean[][] = targets.map(() => []);
  for (let j = plan.out.length; j < targets.length; j++) for (let r = 0; r < rel.n; r++) marks[j]![r] = true;
  return { src: { n: rel.n, cols }, isDefault: marks };
}

/** An INSERT's rows with every column in table order: source values, DEFAULT markers and columns not targeted filled with defaults. */
async function fullRows(src: Rel, isDefault: boolean[][] | undefined, targets: readonly number[], def: TableDef, rules: TableRules, execCtx: () => ExecCtx): Promise<Rel> {
  const full: unknown[][] = [];
  const rowsRel: Rel = { n: src.n, cols: [] };
  for (let ci = 0; ci < def.columns.length; ci++) {
    const j = targets.indexOf(ci);
    const dflt = rules.defaults[ci];
    let col: unknown[];
    if (j >= 0) {
      const marks = isDefault?.[j];
      // (copied only when DEFAULT markers are filled in: src's columns are this statement's own)
      if (marks !== undefined && marks.length > 0) {
        col = src.cols[j]!.slice();
        const dv = dflt ? assignColumn(await evalExpr(dflt, rowsRel, execCtx()), dflt.t, def.columns[ci]!) : null;
        for (let r = 0; r < src.n; r++) if (marks[r]) col[r] = dv ? dv[r] : null;
      } else col = src.cols[j]!;
    } else if (dflt) col = assignColumn(await evalExpr(dflt, rowsRel, execCtx()), dflt.t, def.columns[ci]!);
    else col = new Array<unknown>(src.n).fill(null);
    full.push(col);
  }
  return { n: src.n, cols: full };
}

/**
 * INSERT ... ON CONFLICT: the rows to insert (those meeting no existing or earlier row's key), and
 * for DO UPDATE the conflicting rows' new versions, written here (`updatedCount` of them).
 */
async function insertOnConflict(n: PgNode, table: TableSource, def: TableDef, relName: string, rows: Rel, rules: TableRules, types: readonly SqlType[], bctx: BindCtx, execCtx: () => ExecCtx):
  Promise<{ rows: Rel; updated: Rel | null; updatedCount: number }> {
  let updated: Rel | null = null;
  let updatedCount = 0;
  const oc = n.onConflictClause;
  const keySets: number[][] = [];
  if (oc.infer?.indexElems) {
    keySets.push(oc.infer.indexElems.map((e: PgNode) => {
      const i = def.columns.findIndex((c) => c.name === e.IndexElem.name);
      if (i < 0) throw new DbError(SqlState.UndefinedColumn, `column "${e.IndexElem.name}" does not exist`);
      return i;
    }));
  } else {
    if (def.primaryKey) keySets.push([...def.primaryKey]);
    for (const u of def.uniques ?? []) keySets.push([...u]);
    for (const ix of table.indexes()) if (ix.unique) keySets.push([...ix.columns]);
  }
  if (keySets.length === 0) throw new DbError(SqlState.InvalidColumnReference, 'there is no unique or exclusion constraint matching the ON CONFLICT specification');
  // read only rows that can conflict: first key column IN (the new rows' values) as a hint
  const hint: ScanPredicate[] = [];
  if (keySets.length === 1) {
    const c0 = keySets[0]![0]!;
    const vals = [...new Set(rows.cols[c0]!.filter((v) => v !== null))];
    if (vals.length > 0 && vals.length <= 1000) hint.push({ kind: 'in', column: c0, values: Array.from(valuesToVector(vals, def.columns[c0]!.type).data as ArrayLike<unknown>) });
  }
  const existing = await readTable(table, hint);
  const maps = keySets.map((ks) => {
    const m = new Map<string, number>();
    for (let r = 0; r < existing.n; r++) {
      const vals = ks.map((c) => existing.cols[c]![r]);
      if (vals.some((v) => v === null)) continue;
      m.set(tupleKey(vals), r);
    }
    return m;
  });
  const insertIdx: number[] = [];
  const conflictNew: number[] = [];
  const conflictOld: number[] = [];
  const touched = new Set<number>();
  for (let r = 0; r < rows.n; r++) {
    let hit = -1;
    const keys = keySets.map((ks) => {
      const vals = ks.map((c) => rows.cols[c]![r]);
      return vals.some((v) => v === null) ? null : tupleKey(vals);
    });
    // hit: -1 no conflict, <= -2 an earlier row of this statement (-2 - its index), else an existing row
    for (let k = 0; k < keySets.length && hit === -1; k++) { const key = keys[k]; if (key !== null) { const h = maps[k]!.get(key!); if (h !== undefined) hit = h; } }
    if (hit === -1) {
      insertIdx.push(r);
      // later rows of the same statement conflict with this one
      keys.forEach((key, k) => { if (key !== null) maps[k]!.set(key, -2 - r); });
    } else if (hit <= -2) {
      if (oc.action === 'ONCONFLICT_UPDATE') throw new DbError(SqlState.CardinalityViolation, 'ON CONFLICT DO UPDATE command cannot affect row a second time');
    } else {
      if (oc.action === 'ONCONFLICT_UPDATE') {
        if (touched.has(hit)) throw new DbError(SqlState.CardinalityViolation, 'ON CONFLICT DO UPDATE command cannot affect row a second time');
        touched.add(hit);
        conflictNew.push(r); conflictOld.push(hit);
      }
    }
  }
  if (oc.action === 'ONCONFLICT_UPDATE' && conflictNew.length > 0 && table.lockRows) {
    // as PostgreSQL: lock each conflicting row first (waiting for a running writer of it), then
    // judge WHERE / SET on it; a row changed by a concurrent commit is a READ COMMITTED re-run
    // (left out here) or 40001
    const nc = def.columns.length;
    const keyCols = new Set(keySets.flat());
    const setsKey = oc.targetList.some((t: PgNode) => keyCols.has(def.columns.findIndex((c) => c.name === t.ResTarget.name)));
    const lockIds = Float64Array.from(conflictOld, (h) => Number(existing.cols[nc]![h]));
    const locked = await table.lockRows(lockIds, setsKey ? 'update' : 'noKeyUpdate', 'wait');
    if (locked.length !== conflictOld.length) {
      const keepNew = locked.map((p) => conflictNew[p]!);
      const keepOld = locked.map((p) => conflictOld[p]!);
      conflictNew.length = 0; conflictNew.push(...keepNew);
      conflictOld.length = 0; conflictOld.push(...keepOld);
    }
  }
  if (oc.action === 'ONCONFLICT_UPDATE' && conflictNew.length > 0) {
    const nc = def.columns.length;
    const oldRows = gather(existing, conflictOld);
    const newRows = gather(rows, conflictNew);
    const both: Rel = { n: oldRows.n, cols: [...oldRows.cols.slice(0, nc), ...newRows.cols] };
    const cols: ScopeCol[] = [...tableScopeCols(def, relName), ...def.columns.map((c, i) => ({ rel: 'excluded', name: c.name, t: c.type, i: nc + i }))];
    const scope = new Scope(cols, { parent: null, params: [] }, bctx, new Map());
    let keep: Rel = both;
    let keepIds = oldRows.cols[nc]!;
    if (oc.whereClause) {
      const m = await evalExpr(bindBoolExpr(oc.whereClause, scope, 'WHERE'), both, execCtx());
      const idx: number[] = [];
      for (let i = 0; i < both.n; i++) if (m[i] === true) idx.push(i);
      keep = gather(both, idx);
      keepIds = idx.map((i) => oldRows.cols[nc]![i]);
    }
    const newCols = keep.cols.slice(0, nc).map((c) => c.slice());
    for (const t of oc.targetList) {
      const rt = t.ResTarget;
      const ci = def.columns.findIndex((c) => c.name === rt.name);
      if (ci < 0) throw new DbError(SqlState.UndefinedColumn, `column "${rt.name}" of relation "${def.name}" does not exist`);
      const e = rt.val.SetToDefault ? (rules.defaults[ci] ?? { k: 'const', t: def.columns[ci]!.type, v: null } as BExpr) : coerceAssign(bindExpr(rt.val, scope, { ...NOOPTS, what: 'UPDATE' }), def.columns[ci]!.type, def.columns[ci]!.name);
      newCols[ci] = assignColumn(await evalExpr(e, keep, execCtx()), e.t, def.columns[ci]!);
    }
    updated = { n: keep.n, cols: newCols };
    await validateRows(def, rules, updated, execCtx);
    if (updated.n > 0) {
      const ids = Float64Array.from(keepIds as number[]);
      updatedCount = await writeInChunks(updated, types, (b, from, to) => table.update(ids.subarray(from, to), b));
    }
  }
  return { rows: gather(rows, insertIdx), updated, updatedCount };
}

async function execInsert(n: PgNode, sctx: SessionContext, bctx: BindCtx): Promise<QueryResult> {
  const { table } = getTable(sctx.catalog, n.relation);
  const def = table.def;
  const relName = n.relation.alias?.aliasname ?? def.name;
  const layout = tableLayout(def);
  // the execution context, made when first needed (a plain VALUES row into a table without
  // defaults, CHECKs, ON CONFLICT or RETURNING needs none)
  let ctxMade: ExecCtx | undefined;
  const execCtx = (): ExecCtx => (ctxMade ??= newExecCtx(sctx));
  let targets: readonly number[] = layout.allColumns;
  if (n.cols) {
    const listed: number[] = [];
    for (const c of n.cols) {
      const name = c.ResTarget.name;
      const i = def.columns.findIndex((d) => d.name === name);
      if (i < 0) throw new DbError(SqlState.UndefinedColumn, `column "${name}" of relation "${def.name}" does not exist`);
      if (listed.includes(i)) throw new DbError(SqlState.DuplicateColumn, `column "${name}" specified more than once`);
      listed.push(i);
    }
    targets = listed;
  }
  const rules = tableRules(def, bctx);
  // source rows: values per target column, plus "use default" markers (none: no DEFAULT item)
  const sel = n.selectStmt ? unwrapSelect(n.selectStmt) : null;
  let src: Rel | null = null;
  let isDefault: boolean[][] | undefined;
  if (sel && !sel.sortClause && !sel.limitCount && !sel.withClause && !n.onConflictClause) {
    // a fast-parsed list of literals is read without its nodes (made only if the general path runs)
    const fast = fastValuesOf(sel);
    if (fast !== undefined && !fast.params) src = fastLiteralValues(fast, targets, def);
    else if (sel.valuesLists) src = plainParamValues(sel.valuesLists, targets, def, bctx, sctx.params) ?? plainLiteralValues(sel.valuesLists, targets, def);
  }
  if (src === null) ({ src, isDefault } = await insertSource(n, sel, targets, def, bctx, execCtx));
  // full rows in table order: src itself when it has every column in order and no DEFAULT markers
  let rows = isDefault === undefined && targets === layout.allColumns ? src : await fullRows(src, isDefault, targets, def, rules, execCtx);
  const checking = validateRows(def, rules, rows, execCtx);
  if (checking !== undefined) await checking;
  const types = layout.types;
  let updated: Rel | null = null;
  let updatedCount = 0;
  if (n.onConflictClause) ({ rows, updated, updatedCount } = await insertOnConflict(n, table, def, relName, rows, rules, types, bctx, execCtx));
  let count = 0;
  try {
    count = await writeInChunks(rows, types, (b) => table.insert(b));
  } catch (e) {
    // ON CONFLICT: a row a concurrent transaction inserted (and committed while we waited) is not
    // in our snapshot; tell the session (READ COMMITTED re-runs the statement, which then sees it
    // as a conflict; REPEATABLE READ / SERIALIZABLE: 40001), as PostgreSQL's speculative insertion
    if (n.onConflictClause && e instanceof DbError && e.code === SqlState.UniqueViolation) {
      throw new DbError(SqlState.UniqueViolation, e.message, { detail: e.detail, cause: ON_CONFLICT_RACE });
    }
    throw e;
  }
  count += updatedCount;
  const retRows = updated ? concatRels([rows, updated], def.columns.length) : rows;
  return returning(n.returningClause?.exprs ?? n.returningList, def, relName, retRows, bctx, execCtx, 'INSERT', count);
}

/**
 * `cause` of the 23505 an INSERT ... ON CONFLICT meets when a concurrent transaction's row (not in
 * the statement's snapshot) holds the key: the session retries (READ COMMITTED) or reports 40001.
 */
export const ON_CONFLICT_RACE: unique symbol = Symbol.for('quiverdb.onConflictRace');

// ---------------------------------------------------------------------------------------------
// UPDATE / DELETE

function targetRows(n: PgNode, fromItems: PgNode[] | undefined, sctx: SessionContext, bctx: BindCtx, ctx: ExecCtx):
  { table: TableSource; def: TableDef; rel: string; plan: Plan; scope: Scope; nc: number } {
  const { table } = getTable(sctx.catalog, n.relation);
  const def = table.def;
  const rel = n.relation.alias?.aliasname ?? def.name;
  void ctx;
  const out: OutCol[] = [...def.columns.map((c) => ({ name: c.name, t: c.type })), { name: '__rowid', t: T.double }];
  const frame: Frame = { parent: null, params: [] };
  // the target is an ordinary scan (so WHERE conjuncts reach it as filters and pruning hints)
  // that also returns row ids
  const name = rangeVarName(n.relation);
  const target: Plan = { k: 'scan', out, table, name, label: def.name + (rel !== def.name ? ` ${rel}` : ''), cols: def.columns.map((_c, i) => i),
    preds: [], filter: null, est: Math.max(1, table.stats().rowCount), rowIds: true };
  const from = bindDmlFrom(target, rel, fromItems ?? [], bctx, frame);
  const scope = new Scope(from.cols, frame, bctx, new Map());
  const where = n.whereClause ? bindBoolExpr(n.whereClause, scope, 'WHERE') : null;
  const joined = joinTreeFor(from.leaves, [...from.conds, ...splitAnd(where)]);
  // UPDATE / DELETE by key find their rows through an index like a SELECT would
  const plan = disabledRules(sctx.settings).has(INDEX_SCAN_RULE) ? joined : useIndexes(joined);
  return { table, def, rel, plan, scope, nc: def.columns.length };
}

function dedupeByRowId(r: Rel, idCol: number): Rel {
  if (r.n <= 1) return r;
  const seen = new Set<unknown>();
  const idx: number[] = [];
  const ids = r.cols[idCol]!;
  for (let i = 0; i < r.n; i++) if (!seen.has(ids[i])) { seen.add(ids[i]); idx.push(i); }
  return idx.length === r.n ? r : gather(r, idx);
}

/**
 * The bound parts of an UPDATE / DELETE besides its target plan (SET expressions, table rules),
 * by plan: a plan the plan cache hands back again (same statement, same catalog version) comes
 * with the parts bound together with it, so a repeated `UPDATE ... WHERE id = $1` skips bind and
 * optimize (tables are resolved by name at execution, as for SELECT).
 */
interface DmlParts {
  readonly exprs: readonly BExpr[];
  readonly rules: TableRules;
  readonly rel: string;
  readonly nc: number;
  /** UPDATE: the column types, and which columns the SET list assigns (see TableSource.update) */
  readonly types?: readonly SqlType[];
  readonly assigned?: readonly boolean[];
}
const dmlParts = new WeakMap<Plan, DmlParts>();

async function execUpdate(s: Extract<SqlStatement, { kind: 'update' }>, sctx: SessionContext, bctx: BindCtx): Promise<QueryResult> {
  const n = s.node;
  const ctx = newExecCtx(sctx);
  const { table } = getTable(sctx.catalog, n.relation);
  const def = table.def;
  const build = (): Plan => {
    const { plan, scope, nc, rel } = targetRows(n, n.fromClause, sctx, bctx, ctx);
    const rules = tableRules(def, bctx);
    const sets = new Map<number, BExpr>();
    for (const t of n.targetList) {
      const rt = t.ResTarget;
      if (rt.val?.MultiAssignRef) throw new DbError(SqlState.FeatureNotSupported, 'multiple-column UPDATE SET is not supported');
      const ci = def.columns.findIndex((c) => c.name === rt.name);
      if (ci < 0) throw new DbError(SqlState.UndefinedColumn, `column "${rt.name}" of relation "${def.name}" does not exist`);
      // PostgreSQL rejects repeated targets; we let the rightmost assignment win, as SQLite does
      const e = rt.val.SetToDefault ? (rules.defaults[ci] ?? ({ k: 'const', t: def.columns[ci]!.type, v: null } as BExpr))
        : assignTarget(scope, bindExpr(rt.val, scope, { ...NOOPTS, what: 'UPDATE' }), def.columns[ci]!);
      sets.set(ci, e);
    }
    const exprs: BExpr[] = [{ k: 'col', t: T.double, i: nc }];
    def.columns.forEach((c, i) => exprs.push(sets.get(i) ?? { k: 'col', t: c.type, i }));
    const types = def.columns.map((c) => c.type);
    const assigned = def.columns.map((_, i) => sets.has(i));
    dmlParts.set(plan, { exprs, rules, rel, nc, types, assigned });
    return plan;
  };
  let plan = cachedPlan(s, sctx.catalog, sctx.settings, build);
  let parts = dmlParts.get(plan);
  if (!parts) { plan = build(); parts = dmlParts.get(plan)!; }
  const { exprs, rules, rel, nc } = parts;
  let rows = await execPlan(plan, ctx);
  rows = await retryTargets(table, dedupeByRowId(rows, nc), nc);
  const cols: unknown[][] = [];
  // (a column reference is the column itself: no evaluation, no promise, for the row ids and
  // every column the statement does not assign)
  for (const e of exprs) cols.push(e.k === 'col' ? rows.cols[e.i]! : await evalExpr(e, rows, ctx));
  // a column not assigned (its own value) needs no assignment cast
  const newRows: Rel = { n: rows.n, cols: def.columns.map((c, i) => {
    const e = exprs[i + 1]!;
    return e.k === 'col' && e.i === i ? cols[i + 1]! : assignColumn(cols[i + 1]!, e.t, c);
  }) };
  await validateRows(def, rules, newRows, () => ctx);
  const idCol = cols[0]!;
  const ids = idCol instanceof Float64Array ? idCol : Float64Array.from(idCol as number[]);
  const types = parts.types!;
  const assigned = parts.assigned!;
  const count = await writeInChunks(newRows, types, (b, from, to) => table.update(from === 0 && to === ids.length ? ids : ids.subarray(from, to), b, assigned));
  return returning(n.returningClause?.exprs ?? n.returningList, def, rel, newRows, bctx, () => ctx, 'UPDATE', count);
}

async function execDelete(s: Extract<SqlStatement, { kind: 'delete' }>, sctx: SessionContext, bctx: BindCtx): Promise<QueryResult> {
  const n = s.node;
  const ctx = newExecCtx(sctx);
  const { table } = getTable(sctx.catalog, n.relation);
  const def = table.def;
  const build = (): Plan => {
    const t = targetRows(n, n.usingClause, sctx, bctx, ctx);
    dmlParts.set(t.plan, { exprs: [], rules: { defaults: [], checks: [] }, rel: t.rel, nc: t.nc });
    return t.plan;
  };
  let plan = cachedPlan(s, sctx.catalog, sctx.settings, build);
  let parts = dmlParts.get(plan);
  if (!parts) { plan = build(); parts = dmlParts.get(plan)!; }
  const { rel, nc } = parts;
  let rows = await execPlan(plan, ctx);
  rows = await retryTargets(table, dedupeByRowId(rows, nc), nc);
  const ids = Float64Array.from(rows.cols[nc]! as number[]);
  const count = ids.length > 0 ? await table.delete(ids) : 0;
  const old: Rel = { n: rows.n, cols: rows.cols.slice(0, nc) };
  return returning(n.returningClause?.exprs ?? n.returningList, def, rel, old, bctx, () => ctx, 'DELETE', count);
}

// ---------------------------------------------------------------------------------------------
// CREATE TABLE

/** Text of an expression starting at `start` up to a top-level ',' or ')' or `stop`. */
export function exprTextFrom(sql: string, start: number, stop: number): string {
  let depth = 0;
  let i = start;
  for (; i < sql.length && i < stop; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const q = c;
      i++;
      while (i < sql.length && !(sql[i] === q && sql[i + 1] !== q)) { if (sql[i] === q) i++; i++; }
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') { if (depth === 0) break; depth--; }
    else if (c === ',' && depth === 0) break;
  }
  return sql.slice(start, i).trim();
}

export function checkText(sql: string, loc: number): string {
  const open = sql.indexOf('(', loc);
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'") { i++; while (i < sql.length && sql[i] !== "'") i++; continue; }
    if (c === '(') depth++;
    else if (c === ')') { depth--; if (depth === 0) return sql.slice(open + 1, i).trim(); }
  }
  throw new DbError(SqlState.SyntaxError, 'cannot read CHECK expression');
}

async function execCreateTable(s: Extract<SqlStatement, { kind: 'createTable' }>, ctx: SessionContext, _bctx: BindCtx): Promise<QueryResult> {
  // re-parse the statement's own text so locations are relative to it
  const n = parseRaw(s.sql)[0]!.stmt.CreateStmt;
  const sql = s.sql;
  const name = rangeVarName(n.relation);
  const columns: ColumnDef[] = [];
  let primaryKey: number[] | undefined;
  const uniques: number[][] = [];
  const checks: string[] = [];
  const elts: PgNode[] = n.tableElts ?? [];
  const colIndex = (nm: string): number => {
    const i = columns.findIndex((c) => c.name === nm);
    if (i < 0) throw new DbError(SqlState.UndefinedColumn, `column "${nm}" named in key does not exist`);
    return i;
  };
  const tableCons: PgNode[] = [];
  const sequences: SequenceDef[] = [];
  const foreignKeys: ForeignKeyDef[] = [];
  for (let ei = 0; ei < elts.length; ei++) {
    const el = elts[ei]!;
    if (el.Constraint) { tableCons.push(el.Constraint); continue; }
    if (!el.ColumnDef) throw new DbError(SqlState.FeatureNotSupported, 'unsupported table element');
    const cd = el.ColumnDef;
    if (columns.some((c) => c.name === cd.colname)) throw new DbError(SqlState.DuplicateColumn, `column "${cd.colname}" specified more than once`);
    const type = typeFromName(cd.typeName);
    let notNull = false;
    let defaultSql: string | undefined;
    const tn = (cd.typeName.names ?? []).map((x: PgNode) => x.String.sval as string);
    const tlast = tn[tn.length - 1];
    const identity = (cd.constraints ?? []).find((c: PgNode) => c.Constraint?.contype === 'CONSTR_IDENTITY')?.Constraint;
    if (tlast === 'serial' || tlast === 'bigserial' || tlast === 'smallserial' || tlast === 'serial4' || tlast === 'serial8' || identity) {
      // serial / identity: an owned sequence named <table>_<column>_seq feeds the column's default
      const seqName = `${name.name}_${cd.colname}_seq`;
      sequences.push(sequenceDefOf({ ...(name.schema ? { schema: name.schema } : {}), name: seqName }, identity?.options ?? [], type));
      defaultSql = `nextval('${name.schema ? `${name.schema}.` : ''}${seqName}')`;
      notNull = true;
    }
    const cons: PgNode[] = (cd.constraints ?? []).map((c: PgNode) => c.Constraint);
    const idx = columns.length;
    const nextEltLoc = ei + 1 < elts.length ? (elts[ei + 1]!.ColumnDef?.location ?? elts[ei + 1]!.Constraint?.location ?? sql.length) : sql.length;
    for (let ci = 0; ci < cons.length; ci++) {
      const c = cons[ci]!;
      switch (c.contype) {
        case 'CONSTR_NOTNULL': notNull = true; break;
        case 'CONSTR_NULL': break;
        case 'CONSTR_IDENTITY': break;
        case 'CONSTR_DEFAULT': {
          let start = c.location;
          const m = /^default\s*/i.exec(sql.slice(start));
          if (m) start += m[0].length;
          const stop = ci + 1 < cons.length ? cons[ci + 1]!.location : nextEltLoc;
          defaultSql = exprTextFrom(sql, start, stop).replace(/\s+(not\s+null|null|primary\s+key|unique|check|references|constraint)\b[\s\S]*$/i, '');
          break;
        }
        case 'CONSTR_PRIMARY':
          if (primaryKey) throw new DbError(SqlState.InvalidTableDefinition, `multiple primary keys for table "${name.name}" are not allowed`);
          primaryKey = [idx]; notNull = true; break;
        case 'CONSTR_UNIQUE': uniques.push([idx]); break;
        case 'CONSTR_CHECK': checks.push(checkText(sql, c.location)); break;
        case 'CONSTR_FOREIGN': foreignKeys.push(foreignKeyOf(c, [idx])); break;
        default: throw new DbError(SqlState.FeatureNotSupported, `constraint ${c.contype} is not supported`);
      }
    }
    columns.push({ name: cd.colname, type, notNull, ...(defaultSql !== undefined ? { defaultSql } : {}) });
  }
  for (const c of tableCons) {
    switch (c.contype) {
      case 'CONSTR_PRIMARY': {
        if (primaryKey) throw new DbError(SqlState.InvalidTableDefinition, `multiple primary keys for table "${name.name}" are not allowed`);
        const pk: number[] = c.keys.map((k: PgNode) => colIndex(k.String.sval));
        primaryKey = pk;
        for (const i of pk) columns[i] = { ...columns[i]!, notNull: true };
        break;
      }
      case 'CONSTR_UNIQUE': uniques.push(c.keys.map((k: PgNode) => colIndex(k.String.sval))); break;
      case 'CONSTR_CHECK': checks.push(checkText(sql, c.location)); break;
      case 'CONSTR_FOREIGN': foreignKeys.push(foreignKeyOf(c, (c.fk_attrs as PgNode[]).map((k) => colIndex(k.String.sval)))); break;
      default: throw new DbError(SqlState.FeatureNotSupported, `constraint ${c.contype} is not supported`);
    }
  }
  // a table without columns is allowed, as in PostgreSQL (`CREATE TABLE t ()`: rows of no values)
  const def: TableDef = {
    ...nameParts(name), columns,
    ...(primaryKey ? { primaryKey } : {}),
    ...(uniques.length ? { uniques } : {}),
    ...(checks.length ? { checks } : {}),
    ...(foreignKeys.length ? { foreignKeys } : {}),
  };
  // validate defaults and checks bind
  tableRules(def, newBindCtx(ctx));
  if (ctx.catalog.getTable(name) || ctx.catalog.getView(name)) {
    if (n.if_not_exists) return noRows('CREATE TABLE');
    throw new DbError(SqlState.DuplicateTable, `relation "${name.name}" already exists`);
  }
  await ctx.catalog.createTable(def, { ifNotExists: !!n.if_not_exists });
  for (const seq of sequences) {
    if (!ctx.catalog.createSequence) throw new DbError(SqlState.FeatureNotSupported, 'serial columns need a catalog with sequences');
    await ctx.catalog.createSequence(seq, { ifNotExists: false });
  }
  return noRows('CREATE TABLE');
}

export { typeName, keyOf };
