/**
 * SELECT binder: a libpg-query SelectStmt → a typed `Plan` (FROM → WHERE → joins → GROUP BY /
 * aggregates → HAVING → window → projection → DISTINCT → ORDER BY → LIMIT), plus set
 * operations, VALUES and WITH [RECURSIVE].
 *
 * Invariants:
 *  1. The returned plan's `out` are exactly the statement's visible output columns.
 *  2. After aggregation, every expression refers only to group keys and aggregate results
 *     (otherwise 42803, as PostgreSQL).
 */
import { DbError, SqlState, T } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import type { AggSpec, BExpr, OutCol, Plan, RowLockTarget, SortKey, WinSpec } from '../plan/plan.js';
import { exprHas, mapExpr, remapCols, splitAnd } from '../plan/plan.js';
import type { PgNode } from '../sql/statement.js';
import { parseRaw } from '../sql/parse.js';
import { buildJoinTree, makeJoin } from '../optimizer/join-order.js';
import type { Leaf } from '../optimizer/join-order.js';
import { Scope } from './scope.js';
import type { BindCtx, CteDef, Frame, ScopeCol } from './scope.js';
import { bindCompare, bindExpr, finalizeUnknown } from './expr.js';
import type { ExprOpts } from './expr.js';
import { exprKey } from './expr-key.js';
import { foldNulls } from './fold-nulls.js';
import { coerce, commonTypeOf } from './types.js';
import { resolveWindowNames } from './window-names.js';
import { SRF_NAMES, correlateArgs, expandSrfs, srfFromPlan, typeSrf } from './srf.js';

const NO_AGG: ExprOpts = { agg: false, win: false, what: 'WHERE' };

function str(n: PgNode): string { return n.String?.sval ?? ''; }

export interface BindOptions {
  readonly disabledRules: ReadonlySet<string>;
}
let currentOpts: BindOptions = { disabledRules: new Set() };
export function setBindOptions(o: BindOptions): void { currentOpts = o; }

/** A subquery in an expression: new frame whose parent is `scope`. */
export function bindSubquery(node: PgNode, scope: Scope): { plan: Plan; params: { id: number; e: BExpr }[] } {
  const frame: Frame = { parent: scope, params: [] };
  const plan = bindSelectStmt(node.SelectStmt ?? node, scope.bctx, frame, scope.ctes);
  return { plan, params: frame.params };
}

/** PostgreSQL's FigureColname. */
export function figureName(n: PgNode): string {
  if (!n) return '?column?';
  const [type] = Object.keys(n);
  const x = n[type!];
  switch (type) {
    case 'ColumnRef': { const f = x.fields[x.fields.length - 1]; return f.String ? f.String.sval : '?column?'; }
    case 'FuncCall': return str(x.funcname[x.funcname.length - 1]);
    case 'TypeCast': {
      const inner = figureName(x.arg);
      if (inner !== '?column?') return inner;
      const names = x.typeName.names;
      const nm = str(names[names.length - 1]);
      return ({ int4: 'int4', int8: 'int8', float8: 'float8', bool: 'bool', varchar: 'varchar', numeric: 'numeric' } as Record<string, string>)[nm] ?? nm;
    }
    case 'CaseExpr': return 'case';
    case 'CoalesceExpr': return 'coalesce';
    case 'MinMaxExpr': return x.op === 'IS_GREATEST' ? 'greatest' : 'least';
    case 'A_Expr': if (x.kind === 'AEXPR_NULLIF') return 'nullif'; return '?column?';
    case 'SubLink':
      if (x.subLinkType === 'EXISTS_SUBLINK') return 'exists';
      if (x.subLinkType === 'EXPR_SUBLINK') { const t = x.subselect.SelectStmt?.targetList?.[0]?.ResTarget; return t ? (t.name ?? figureName(t.val)) : '?column?'; }
      return '?column?';
    case 'SQLValueFunction': return ({ SVFOP_CURRENT_DATE: 'current_date', SVFOP_CURRENT_TIMESTAMP: 'current_timestamp' } as Record<string, string>)[x.op] ?? '?column?';
    case 'A_Const': if (x.boolval !== undefined) return 'bool'; return '?column?';
  }
  return '?column?';
}

function aliasOf(a: PgNode): { name: string | undefined; cols: string[] | undefined } {
  if (!a) return { name: undefined, cols: undefined };
  return { name: a.aliasname, cols: a.colnames ? a.colnames.map(str) : undefined };
}

function renameOut(out: OutCol[], cols: string[] | undefined): OutCol[] {
  if (!cols) return out;
  if (cols.length > out.length) throw new DbError(SqlState.InvalidColumnReference, `table has ${out.length} columns available but ${cols.length} columns specified`);
  return out.map((c, i) => (i < cols.length ? { name: cols[i]!, t: c.t } : c));
}

// ---------------------------------------------------------------------------------------------
// FROM

interface FromResult { leaves: Leaf[]; conds: BExpr[]; cols: ScopeCol[] }


function bindTableRef(rv: PgNode, bctx: BindCtx, frame: Frame, ctes: Map<string, CteDef>, probe: Scope): { plan: Plan; rel: string } {
  const { name: alias, cols: colAlias } = aliasOf(rv.alias);
  const relname: string = rv.relname;
  if (!rv.schemaname) {
    const cte = ctes.get(relname) ?? probe.findCte(relname);
    if (cte) {
      let plan: Plan;
      if (cte.work) plan = { k: 'workScan', out: cte.work.out, id: cte.work.id, est: 100 };
      else plan = bindCte(cte, bctx, frame, ctes);
      return { plan: { ...plan, out: renameOut(plan.out, colAlias) } as Plan, rel: alias ?? relname };
    }
  }
  const qn = rv.schemaname ? { schema: rv.schemaname, name: relname } : { name: relname };
  const table = bctx.catalog.getTable(qn);
  if (table) {
    const cols = table.def.columns.map((_c, i) => i);
    const out = renameOut(table.def.columns.map((c) => ({ name: c.name, t: c.type })), colAlias);
    return { plan: { k: 'scan', out, table, name: qn, label: relname + (alias ? ` ${alias}` : ''), cols, preds: [], filter: null, est: Math.max(1, table.stats().rowCount) }, rel: alias ?? relname };
  }
  const view = bctx.catalog.getView(qn);
  if (view) {
    if (bctx.viewStack.includes(relname)) throw new DbError(SqlState.InvalidRecursion, `infinite recursion detected in view "${relname}"`);
    bctx.viewStack.push(relname);
    try {
      const parsed = parseRaw(view.sql);
      const node = parsed[0]!.stmt;
      const plan = bindSelectStmt(node.SelectStmt, bctx, { parent: null, params: [] }, new Map());
      const out = renameOut(renameOut(plan.out, view.columnNames ? [...view.columnNames] : undefined), colAlias);
      return { plan: { ...plan, out } as Plan, rel: alias ?? relname };
    } finally { bctx.viewStack.pop(); }
  }
  throw new DbError(SqlState.UndefinedTable, `relation "${rv.schemaname ? rv.schemaname + '.' : ''}${relname}" does not exist`);
}

function bindCte(cte: CteDef, bctx: BindCtx, frame: Frame, ctes: Map<string, CteDef>): Plan {
  const node = (cte.node as PgNode).SelectStmt ?? cte.node;
  if (cte.recursive && node.op === 'SETOP_UNION') {
    const anchor = bindSelectStmt(node.larg, bctx, frame, ctes);
    const out = renameOut(anchor.out, cte.colNames ? [...cte.colNames] : undefined);
    const id = bctx.nextId++;
    cte.work = { id, out };
    let step: Plan;
    try { step = bindSelectStmt(node.rarg, bctx, frame, ctes); } finally { cte.work = undefined; }
    if (step.out.length !== out.length) throw new DbError(SqlState.SyntaxError, 'each UNION query must have the same number of columns');
    step = castPlan(step, out.map((c) => c.t));
    return { k: 'recursive', out, id, anchor: { ...anchor, out } as Plan, step, all: !!node.all, est: anchor.est * 10 };
  }
  const plan = bindSelectStmt(node, bctx, frame, ctes);
  return { ...plan, out: renameOut(plan.out, cte.colNames ? [...cte.colNames] : undefined) } as Plan;
}

function castPlan(p: Plan, types: SqlType[]): Plan {
  if (p.out.every((c, i) => c.t.id === types[i]!.id)) return p;
  return { k: 'project', out: p.out.map((c, i) => ({ name: c.name, t: types[i]! })), input: p,
    exprs: p.out.map((c, i) => coerce({ k: 'col', t: c.t, i }, types[i]!)), est: p.est };
}

function bindFromList(items: PgNode[], bctx: BindCtx, frame: Frame, ctes: Map<string, CteDef>): FromResult {
  const res: FromResult = { leaves: [], conds: [], cols: [] };
  for (const it of items) addFromItem(it, res, bctx, frame, ctes);
  return res;
}

function leafPlanOf(fr: FromResult): Plan {
  return buildJoinTree(fr.leaves, fr.conds, joinOpts());
}

function joinOpts(): { noReorder: boolean; noPushdown: boolean } {
  return { noReorder: currentOpts.disabledRules.has('join-reorder'), noPushdown: currentOpts.disabledRules.has('push-down-filter') };
}

function addLeaf(res: FromResult, plan: Plan, rel: string | null, dupNames?: Set<string>): void {
  const base = res.cols.length;
  plan.out.forEach((c, i) => res.cols.push({ rel, name: c.name, t: c.t, i: base + i, ...(dupNames?.has(c.name) ? { usingDup: true } : {}) }));
  res.leaves.push({ plan, n: plan.out.length });
}

function usingNames(x: PgNode, left: ScopeCol[], right: ScopeCol[]): string[] {
  if (x.usingClause) return x.usingClause.map(str);
  if (x.isNatural) {
    const rn = new Set(right.filter((c) => !c.usingDup).map((c) => c.name));
    return [...new Set(left.filter((c) => !c.usingDup && rn.has(c.name)).map((c) => c.name))];
  }
  return [];
}

function findUsing(cols: ScopeCol[], name: string, side: string): ScopeCol {
  const c = cols.filter((x) => x.name === name && !x.usingDup);
  if (c.length === 0) throw new DbError(SqlState.UndefinedColumn, `column "${name}" specified in USING clause does not exist in ${side} table`);
  if (c.length > 1) throw new DbError(SqlState.AmbiguousColumn, `common column name "${name}" appears more than once in ${side} table`);
  return c[0]!;
}

function addFromItem(it: PgNode, res: FromResult, bctx: BindCtx, frame: Frame, ctes: Map<string, CteDef>): void {
  const [type] = Object.keys(it);
  const x = it[type!];
  const probe = new Scope(res.cols, frame, bctx, ctes);
  switch (type) {
    case 'RangeVar': {
      const { plan, rel } = bindTableRef(x, bctx, frame, ctes, probe);
      addLeaf(res, plan, rel);
      return;
    }
    case 'RangeSubselect': {
      if (x.lateral && res.leaves.length > 0) {
        // LATERAL: the subquery sees the FROM items to its left as an outer scope
        const sub: Frame = { parent: probe, params: [] };
        const rplan = bindSelectStmt(x.subquery.SelectStmt, bctx, sub, ctes);
        const { name, cols } = aliasOf(x.alias);
        const right = { ...rplan, out: renameOut(rplan.out, cols) } as Plan;
        const left = buildJoinTree(res.leaves, res.conds, joinOpts());
        const plan: Plan = { k: 'apply', out: [...left.out, ...right.out], left, right, params: sub.params, outer: false, est: left.est * Math.max(1, right.est) };
        const base = res.cols.length;
        right.out.forEach((c, i) => res.cols.push({ rel: name ?? null, name: c.name, t: c.t, i: base + i }));
        res.leaves = [{ plan, n: plan.out.length }];
        res.conds = [];
        return;
      }
      const plan = bindSelectStmt(x.subquery.SelectStmt, bctx, frame, ctes);
      const { name, cols } = aliasOf(x.alias);
      addLeaf(res, { ...plan, out: renameOut(plan.out, cols) } as Plan, name ?? null);
      return;
    }
    case 'JoinExpr': {
      const jt: string = x.jointype;
      if (jt === 'JOIN_INNER' && !x.alias) {
        const startL = res.cols.length;
        addFromItem(x.larg, res, bctx, frame, ctes);
        const startR = res.cols.length;
        addFromItem(x.rarg, res, bctx, frame, ctes);
        const scope = new Scope(res.cols, frame, bctx, ctes);
        const names = usingNames(x, res.cols.slice(startL, startR), res.cols.slice(startR));
        for (const nm of names) {
          const l = findUsing(res.cols.slice(startL, startR), nm, 'left');
          const r = findUsing(res.cols.slice(startR), nm, 'right');
          res.conds.push(bindCompare(scope, '=', { k: 'col', t: l.t, i: l.i }, { k: 'col', t: r.t, i: r.i }));
          res.cols[r.i] = { ...r, usingDup: true };
        }
        if (x.quals) res.conds.push(...splitAnd(bindBoolExpr(x.quals, scope, 'JOIN/ON')));
        return;
      }
      const left = bindFromList([x.larg], bctx, frame, ctes);
      if (x.rarg.RangeSubselect?.lateral && (jt === 'JOIN_LEFT' || jt === 'JOIN_INNER')) {
        // [LEFT] JOIN LATERAL (...) ON true: run the subquery per left row; LEFT keeps rows it leaves empty
        const q = x.quals;
        if (q && !(q.A_Const?.boolval?.boolval === true || (q.TypeCast && q.TypeCast.arg?.A_Const?.sval?.sval === 't'))) {
          throw new DbError(SqlState.FeatureNotSupported, 'LEFT JOIN LATERAL supports only ON true');
        }
        const lp = leafPlanOf(left);
        const sub: Frame = { parent: new Scope(left.cols, frame, bctx, ctes), params: [] };
        const rs = x.rarg.RangeSubselect;
        const rplan = bindSelectStmt(rs.subquery.SelectStmt, bctx, sub, ctes);
        const { name: rname, cols: rcols } = aliasOf(rs.alias);
        const right = { ...rplan, out: renameOut(rplan.out, rcols) } as Plan;
        const plan: Plan = { k: 'apply', out: [...lp.out, ...right.out], left: lp, right, params: sub.params, outer: jt === 'JOIN_LEFT', est: lp.est * Math.max(1, right.est) };
        const base = res.cols.length;
        for (const c of left.cols) res.cols.push({ ...c, i: base + c.i });
        right.out.forEach((c, i) => res.cols.push({ rel: rname ?? null, name: c.name, t: c.t, i: base + left.cols.length + i }));
        res.leaves.push({ plan, n: plan.out.length });
        return;
      }
      const right = bindFromList([x.rarg], bctx, frame, ctes);
      const lp = leafPlanOf(left), rp = leafPlanOf(right);
      const nl = left.cols.length;
      const cols: ScopeCol[] = [...left.cols, ...right.cols.map((c) => ({ ...c, i: c.i + nl }))];
      const scope = new Scope(cols, frame, bctx, ctes);
      const conds: BExpr[] = [];
      const names = usingNames(x, left.cols, right.cols);
      for (const nm of names) {
        const l = findUsing(cols.slice(0, nl), nm, 'left');
        const r = findUsing(cols.slice(nl), nm, 'right');
        conds.push(bindCompare(scope, '=', { k: 'col', t: l.t, i: l.i }, { k: 'col', t: r.t, i: r.i }));
        if (jt === 'JOIN_RIGHT') cols[l.i] = { ...l, usingDup: true }; else cols[r.i] = { ...r, usingDup: true };
      }
      if (x.quals) conds.push(...splitAnd(bindBoolExpr(x.quals, scope, 'JOIN/ON')));
      const type2 = jt === 'JOIN_LEFT' ? 'left' : jt === 'JOIN_RIGHT' ? 'right' : jt === 'JOIN_FULL' ? 'full' : 'inner';
      let plan = makeJoin(type2, lp, rp, conds);
      const { name: alias, cols: colAlias } = aliasOf(x.alias);
      if (alias) plan = { ...plan, out: renameOut(plan.out, colAlias) } as Plan;
      const base = res.cols.length;
      for (const c of cols) res.cols.push({ ...c, i: base + c.i, ...(alias ? { rel: alias } : {}) });
      res.leaves.push({ plan, n: plan.out.length });
      return;
    }
    case 'RangeFunction': {
      const fc = x.functions?.[0]?.List?.items?.[0]?.FuncCall;
      const fname = fc ? str(fc.funcname[fc.funcname.length - 1]) : '';
      if (SRF_NAMES.has(fname) && fromSrf(x, fc, fname, res, bctx, probe)) return;
      if (fname === 'generate_series') {
        const scope = new Scope([], frame, bctx, ctes);
        const args: BExpr[] = fc.args.map((a: PgNode) => bindExpr(a, scope, NO_AGG));
        const t = commonTypeOf(args, 'generate_series');
        const { name, cols } = aliasOf(x.alias);
        const out = renameOut([{ name: 'generate_series', t }], cols ?? (name ? [name] : undefined));
        addLeaf(res, { k: 'values', out, rows: [[{ k: 'fn', t, name: '__series', args: args.map((a) => coerce(a, t)) }]], est: 100 }, name ?? 'generate_series');
        return;
      }
      if (fname === 'unnest' && fc.args?.length === 1) {
        // arrays are TEXT in PostgreSQL's array text form (exec/pg-functions.ts); elements are TEXT
        const scope = new Scope([], frame, bctx, ctes);
        const arg = coerce(bindExpr(fc.args[0], scope, NO_AGG), T.text);
        const { name, cols } = aliasOf(x.alias);
        const base: OutCol[] = [{ name: 'unnest', t: T.text }, ...(x.ordinality ? [{ name: 'ordinality', t: T.bigint }] : [])];
        const out = renameOut(base, cols ?? (name ? [name] : undefined));
        addLeaf(res, { k: 'values', out, rows: [[{ k: 'fn', t: T.text, name: '__unnest', args: [arg] }, ...(x.ordinality ? [{ k: 'const', t: T.bigint, v: 1n } as BExpr] : [])]], est: 10 }, name ?? fname);
        return;
      }
      if (fname === 'pg_partition_ancestors' && fc.args?.length === 1) {
        // QuiverDB has no partitioning: a relation's only ancestor is itself (psql's \d asks)
        const scope = new Scope([], frame, bctx, ctes);
        const arg = coerce(bindExpr(fc.args[0], scope, NO_AGG), T.integer);
        const { name, cols } = aliasOf(x.alias);
        const base: OutCol[] = [{ name: 'relid', t: T.integer }, ...(x.ordinality ? [{ name: 'ordinality', t: T.bigint }] : [])];
        const row: BExpr[] = [arg, ...(x.ordinality ? [{ k: 'const', t: T.bigint, v: 1n } as BExpr] : [])];
        addLeaf(res, { k: 'values', out: renameOut(base, cols), rows: [row], est: 1 }, name ?? fname);
        return;
      }
      throw new DbError(SqlState.FeatureNotSupported, `table function ${fname} is not supported`);
    }
  }
  throw new DbError(SqlState.FeatureNotSupported, `FROM item ${type} is not supported`);
}

/**
 * A set-returning function in FROM through bind/srf.ts: timestamp series, regexp_matches, ...,
 * and calls that reference earlier FROM items (implicitly LATERAL, run per row by an apply).
 * False when the plain `values` forms below handle the call.
 */
function fromSrf(x: PgNode, fc: PgNode, fname: string, res: FromResult, bctx: BindCtx, probe: Scope): boolean {
  // arguments see the FROM items to the left (their columns become correlation slots)
  const bound: BExpr[] = (fc.args ?? []).map((a: PgNode) => bindExpr(a, probe, NO_AGG));
  const lateral = bound.some((a) => exprHas(a, (y) => y.k === 'col'));
  let typed: ReturnType<typeof typeSrf>;
  try { typed = typeSrf(fname, bound, coerce); } catch (e) { if (lateral) throw e; return false; }
  if (!lateral && (fname === 'unnest' || (fname === 'generate_series' && typed.t.id !== 'TIMESTAMP'))) return false;
  const { t } = typed;
  const { lists: [args], params } = correlateArgs([[{ k: 'const', t: T.text, v: fname }, ...typed.args]], bctx);
  const { name, cols } = aliasOf(x.alias);
  const r0 = srfFromPlan([{ args: args!, t, name: fname }], !!x.ordinality);
  const right = { ...r0, out: renameOut(r0.out, cols ?? (name ? [name] : undefined)) } as Plan;
  if (!lateral) { addLeaf(res, right, name ?? fname); return true; }
  const left = buildJoinTree(res.leaves, res.conds, joinOpts());
  const plan: Plan = { k: 'apply', out: [...left.out, ...right.out], left, right, params, outer: false, est: left.est * 10 };
  const base = res.cols.length;
  right.out.forEach((c, i) => res.cols.push({ rel: name ?? fname, name: c.name, t: c.t, i: base + i }));
  res.leaves = [{ plan, n: plan.out.length }];
  res.conds = [];
  return true;
}

function bindBoolExpr(n: PgNode, scope: Scope, what: string): BExpr {
  const e = bindExpr(n, scope, { agg: false, win: false, what });
  if (e.k === 'const' && e.unknownLit) return coerce(e, T.boolean);
  if (e.t.id !== 'BOOLEAN' && e.t.id !== 'NULL') throw new DbError(SqlState.DatatypeMismatch, `argument of ${what} must be type boolean`);
  return foldNulls(e);
}

// ---------------------------------------------------------------------------------------------
// SELECT

export function bindSelectStmt(s: PgNode, bctx: BindCtx, frame: Frame, outerCtes: Map<string, CteDef>): Plan {
  let ctes = outerCtes;
  if (s.withClause) {
    ctes = new Map(outerCtes);
    for (const c of s.withClause.ctes) {
      const cte = c.CommonTableExpr;
      ctes.set(cte.ctename, { name: cte.ctename, node: cte.ctequery, colNames: cte.aliascolnames?.map(str), recursive: !!s.withClause.recursive });
    }
  }
  let plan: Plan;
  if (s.op && s.op !== 'SETOP_NONE') {
    if (s.lockingClause) throw new DbError(SqlState.FeatureNotSupported, 'FOR UPDATE is not allowed with UNION/INTERSECT/EXCEPT');
    const l = bindSelectStmt(s.larg, bctx, frame, ctes);
    const r = bindSelectStmt(s.rarg, bctx, frame, ctes);
    const opname = s.op === 'SETOP_UNION' ? 'UNION' : s.op === 'SETOP_INTERSECT' ? 'INTERSECT' : 'EXCEPT';
    if (l.out.length !== r.out.length) throw new DbError(SqlState.SyntaxError, `each ${opname} query must have the same number of columns`);
    // an untyped literal output (NULL, '2') takes the other branch's type, as in PostgreSQL
    const lu = untypedOutputs(s.larg), ru = untypedOutputs(s.rarg);
    const arm = (t: SqlType, untyped: boolean | undefined): BExpr => (untyped === true ? { k: 'const', t: T.null, v: null } : { k: 'col', t, i: 0 });
    const types = l.out.map((c, i) => {
      const t = commonTypeOf([arm(c.t, lu[i]), arm(r.out[i]!.t, ru[i])], opname);
      return t.id === 'NULL' ? T.text : t;
    });
    const lp = castPlan(l, types), rp = castPlan(r, types);
    plan = { k: 'setop', out: l.out.map((c, i) => ({ name: c.name, t: types[i]! })), op: opname.toLowerCase() as 'union', all: !!s.all, left: lp, right: rp,
      est: opname === 'UNION' ? l.est + r.est : l.est };
    return finishOutputQuery(plan, s, bctx, frame, ctes);
  }
  if (s.valuesLists) {
    const scope = new Scope([], frame, bctx, ctes);
    const rows: BExpr[][] = s.valuesLists.map((l: PgNode) => l.List.items.map((i: PgNode) => bindExpr(i, scope, { agg: false, win: false, what: 'VALUES' })));
    const n = rows[0]!.length;
    if (rows.some((r) => r.length !== n)) throw new DbError(SqlState.SyntaxError, 'VALUES lists must all be the same length');
    const types = Array.from({ length: n }, (_x, i) => commonTypeOf(rows.map((r) => r[i]!), 'VALUES'));
    plan = { k: 'values', out: types.map((t, i) => ({ name: `column${i + 1}`, t })), rows: rows.map((r) => r.map((e, i) => coerce(finalizeUnknown(scope, e), types[i]!))), est: rows.length };
    return finishOutputQuery(plan, s, bctx, frame, ctes);
  }
  return bindSelectCore(s, bctx, frame, ctes);
}

/** ORDER BY / LIMIT over an already-projected result (set operations, VALUES). */
function finishOutputQuery(plan: Plan, s: PgNode, bctx: BindCtx, frame: Frame, ctes: Map<string, CteDef>): Plan {
  if (s.sortClause) {
    const scope = new Scope(plan.out.map((c, i) => ({ rel: null, name: c.name, t: c.t, i })), frame, bctx, ctes);
    const keys: SortKey[] = s.sortClause.map((sb0: PgNode) => {
      const sb = sb0.SortBy;
      const desc = sb.sortby_dir === 'SORTBY_DESC';
      const nullsFirst = sb.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : sb.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : desc;
      const ord = ordinalOf(sb.node);
      if (ord !== undefined) {
        if (ord < 1 || ord > plan.out.length) throw new DbError(SqlState.InvalidColumnReference, `ORDER BY position ${ord} is not in select list`);
        return { e: { k: 'col', t: plan.out[ord - 1]!.t, i: ord - 1 } as BExpr, desc, nullsFirst };
      }
      return { e: finalizeUnknown(scope, bindExpr(sb.node, scope, { agg: false, win: false, what: 'ORDER BY' })), desc, nullsFirst };
    });
    plan = { k: 'sort', out: plan.out, input: plan, keys, limit: null, est: plan.est };
  }
  return addLimit(plan, s, bctx, frame, ctes);
}

function addLimit(plan: Plan, s: PgNode, bctx: BindCtx, frame: Frame, ctes: Map<string, CteDef>): Plan {
  if (!s.limitCount && !s.limitOffset) return plan;
  const scope = new Scope([], frame, bctx, ctes);
  const lim = s.limitCount && !(s.limitCount.A_Const?.isnull) ? coerce(finalizeUnknown(scope, bindExpr(s.limitCount, scope, { agg: false, win: false, what: 'LIMIT' })), T.bigint) : null;
  const off = s.limitOffset ? coerce(finalizeUnknown(scope, bindExpr(s.limitOffset, scope, { agg: false, win: false, what: 'OFFSET' })), T.bigint) : null;
  let est = plan.est;
  if (lim && lim.k === 'const' && typeof lim.v === 'bigint') est = Math.min(est, Number(lim.v));
  if (plan.k === 'sort' && lim) {
    // top-N: the sort only needs to keep offset + limit rows
    plan = { ...plan, limit: off ? { k: 'op', t: T.bigint, op: '+', args: [lim, off] } : lim };
  }
  return { k: 'limit', out: plan.out, input: plan, limit: lim, offset: off, est };
}

function ordinalOf(n: PgNode): number | undefined {
  if (n.A_Const && n.A_Const.ival !== undefined) return n.A_Const.ival.ival ?? 0;
  return undefined;
}

/**
 * Per output of a plain SELECT (or VALUES row): is it an untyped literal, a string constant or
 * NULL? PostgreSQL leaves those unresolved where a set operation or an INSERT gives them a type.
 */
export function untypedOutputs(sel: PgNode): boolean[] {
  if (sel.op !== undefined && sel.op !== 'SETOP_NONE') return [];
  const items: PgNode[] = sel.valuesLists ? (sel.valuesLists.length === 1 ? sel.valuesLists[0].List.items : []) : (sel.targetList ?? []).map((t: PgNode) => t.ResTarget?.val);
  return items.map((v: PgNode) => {
    const c = v?.A_Const;
    return c !== undefined && (c.isnull === true || c.sval !== undefined);
  });
}

interface Target { name: string; e: BExpr; node: PgNode }

function expandTargets(s: PgNode, scope: Scope): Target[] {
  const out: Target[] = [];
  const opts: ExprOpts = { agg: true, win: true, what: 'SELECT' };
  for (const t of s.targetList ?? []) {
    const rt = t.ResTarget;
    const v = rt.val;
    if (v.ColumnRef && v.ColumnRef.fields.some((f: PgNode) => f.A_Star)) {
      const fields: PgNode[] = v.ColumnRef.fields;
      if (fields.length === 1) {
        const cols = scope.cols.filter((c) => !c.usingDup);
        // (a FROM of tables without columns expands to no columns, as in PostgreSQL)
        if (scope.cols.length === 0 && !(s.fromClause?.length > 0)) throw new DbError(SqlState.SyntaxError, 'SELECT * with no tables specified is not valid');
        for (const c of cols) out.push({ name: c.name, e: { k: 'col', t: c.t, i: c.i }, node: v });
      } else {
        const rel = str(fields[fields.length - 2]);
        const cols = scope.cols.filter((c) => c.rel === rel);
        if (cols.length === 0) throw new DbError(SqlState.UndefinedTable, `missing FROM-clause entry for table "${rel}"`);
        for (const c of cols) out.push({ name: c.name, e: { k: 'col', t: c.t, i: c.i }, node: v });
      }
      continue;
    }
    out.push({ name: rt.name ?? figureName(v), e: finalizeUnknown(scope, bindExpr(v, scope, opts)), node: v });
  }
  return out;
}

type LockMode = RowLockTarget['mode'];
type LockWait = RowLockTarget['wait'];
const LOCK_STRENGTH: readonly LockMode[] = ['keyShare', 'share', 'noKeyUpdate', 'update'];
const LOCK_WAIT: readonly LockWait[] = ['wait', 'skipLocked', 'nowait'];
const LOCK_SQL: Readonly<Record<LockMode, string>> = { update: 'FOR UPDATE', noKeyUpdate: 'FOR NO KEY UPDATE', share: 'FOR SHARE', keyShare: 'FOR KEY SHARE' };

/**
 * The locking clauses of a SELECT: per FROM relation (alias, else name) the strongest mode and
 * wait policy named for it (PostgreSQL's applyLockingClause), `all` for clauses without OF.
 */
function lockingSpec(s: PgNode): { all?: { mode: LockMode; wait: LockWait }; rels: Map<string, { mode: LockMode; wait: LockWait }> } {
  const rels = new Map<string, { mode: LockMode; wait: LockWait }>();
  let all: { mode: LockMode; wait: LockWait } | undefined;
  const merge = (a: { mode: LockMode; wait: LockWait } | undefined, b: { mode: LockMode; wait: LockWait }) => (a === undefined ? b : {
    mode: LOCK_STRENGTH[Math.max(LOCK_STRENGTH.indexOf(a.mode), LOCK_STRENGTH.indexOf(b.mode))]!,
    wait: LOCK_WAIT[Math.max(LOCK_WAIT.indexOf(a.wait), LOCK_WAIT.indexOf(b.wait))]!,
  });
  for (const c of s.lockingClause as PgNode[]) {
    const lc = c.LockingClause;
    const mode = ({ LCS_FORUPDATE: 'update', LCS_FORNOKEYUPDATE: 'noKeyUpdate', LCS_FORSHARE: 'share', LCS_FORKEYSHARE: 'keyShare' } as Record<string, LockMode>)[lc.strength] ?? 'update';
    const wait: LockWait = lc.waitPolicy === 'LockWaitError' ? 'nowait' : lc.waitPolicy === 'LockWaitSkip' ? 'skipLocked' : 'wait';
    if (!lc.lockedRels) { all = merge(all, { mode, wait }); continue; }
    for (const r of lc.lockedRels as PgNode[]) {
      const name = r.RangeVar.relname as string;
      rels.set(name, merge(rels.get(name), { mode, wait }));
    }
  }
  if (all) for (const [k, v] of rels) rels.set(k, merge(v, all));
  return all ? { all, rels } : { rels };
}

/** Names (alias, else relation name) of the FROM items of a SELECT, joins looked into. */
function fromNames(items: readonly PgNode[] | undefined, acc: Set<string> = new Set()): Set<string> {
  for (const it of items ?? []) {
    if (it.RangeVar) acc.add(it.RangeVar.alias?.aliasname ?? it.RangeVar.relname);
    else if (it.JoinExpr) {
      if (it.JoinExpr.alias) acc.add(it.JoinExpr.alias.aliasname);
      fromNames([it.JoinExpr.larg, it.JoinExpr.rarg], acc);
    } else {
      const a = (Object.values(it)[0] as PgNode | undefined)?.alias;
      if (a?.aliasname) acc.add(a.aliasname);
    }
  }
  return acc;
}

interface WithRowIds { plan: Plan; map: (i: number) => number; targets: RowLockTarget[] }
const identityMap = (i: number): number => i;

/**
 * Give the scans to be locked a row id column (`__rowid`, last of the scan) and carry those
 * columns up to `p`'s output (appended after the existing ones; joins remap what lies right of a
 * widened left side). `pick` says which scans (by alias or name) take which lock.
 */
function withRowIds(p: Plan, pick: (rel: string, name: string) => { mode: LockMode; wait: LockWait } | undefined, nullable: boolean): WithRowIds {
  switch (p.k) {
    case 'scan': {
      const parts = p.label.split(' ');
      const lk = pick(parts[parts.length - 1]!, p.name.name);
      if (!lk || p.rowIds) return { plan: p, map: identityMap, targets: [] };
      if (nullable) throw new DbError(SqlState.FeatureNotSupported, `${LOCK_SQL[lk.mode]} cannot be applied to the nullable side of an outer join`);
      const col = p.out.length;
      return { plan: { ...p, rowIds: true, out: [...p.out, { name: '__rowid', t: T.double }] }, map: identityMap,
        targets: [{ col, table: p.table, name: p.name, label: p.label, ...lk }] };
    }
    case 'filter': {
      const c = withRowIds(p.input, pick, nullable);
      return { plan: { ...p, input: c.plan, out: c.plan.out, pred: remapCols(p.pred, c.map) }, map: c.map, targets: c.targets };
    }
    case 'sort': {
      const c = withRowIds(p.input, pick, nullable);
      return { plan: { ...p, input: c.plan, out: c.plan.out, keys: p.keys.map((k) => ({ ...k, e: remapCols(k.e, c.map) })) }, map: c.map, targets: c.targets };
    }
    case 'limit': {
      const c = withRowIds(p.input, pick, nullable);
      return { plan: { ...p, input: c.plan, out: c.plan.out }, map: c.map, targets: c.targets };
    }
    case 'project': {
      const c = withRowIds(p.input, pick, nullable);
      if (c.targets.length === 0) return { plan: p, map: identityMap, targets: [] };
      const n = p.exprs.length;
      const exprs = [...p.exprs.map((e) => remapCols(e, c.map)), ...c.targets.map((t): BExpr => ({ k: 'col', t: T.double, i: t.col }))];
      const out = [...p.out, ...c.targets.map(() => ({ name: '__rowid', t: T.double }))];
      return { plan: { ...p, input: c.plan, exprs, out }, map: identityMap, targets: c.targets.map((t, k) => ({ ...t, col: n + k })) };
    }
    case 'join': {
      const nl = p.left.out.length;
      const semi = p.type === 'semi' || p.type === 'anti';
      const l = withRowIds(p.left, pick, nullable || p.type === 'right' || p.type === 'full');
      const r = semi ? { plan: p.right, map: identityMap, targets: [] } : withRowIds(p.right, pick, nullable || p.type === 'left' || p.type === 'full');
      if (l.targets.length === 0 && r.targets.length === 0) return { plan: p, map: identityMap, targets: [] };
      const nl2 = l.plan.out.length;
      const m = (i: number): number => (i < nl ? l.map(i) : nl2 + r.map(i - nl));
      const plan: Plan = { ...p, left: l.plan, right: r.plan, out: semi ? l.plan.out : [...l.plan.out, ...r.plan.out],
        lkeys: p.lkeys.map((e) => remapCols(e, l.map)), rkeys: p.rkeys.map((e) => remapCols(e, r.map)), cond: p.cond ? remapCols(p.cond, m) : null };
      return { plan, map: semi ? l.map : m, targets: [...l.targets, ...r.targets.map((t) => ({ ...t, col: nl2 + t.col }))] };
    }
    case 'agg': case 'distinct': case 'window': case 'setop':
      // (only when a table below is to be locked: FOR UPDATE OF t leaves other FROM items alone)
      if (!locksBelow(p, pick)) return { plan: p, map: identityMap, targets: [] };
      throw new DbError(SqlState.FeatureNotSupported, 'FOR UPDATE is not allowed with aggregation, DISTINCT, window functions or set operations');
    default: return { plan: p, map: identityMap, targets: [] };
  }
}

/** Does `withRowIds` find a scan to lock in `p` (through the nodes it looks into)? */
function locksBelow(p: Plan, pick: (rel: string, name: string) => unknown): boolean {
  switch (p.k) {
    case 'scan': { const parts = p.label.split(' '); return pick(parts[parts.length - 1]!, p.name.name) !== undefined; }
    case 'join': case 'setop': return locksBelow(p.left, pick) || locksBelow(p.right, pick);
    case 'filter': case 'sort': case 'limit': case 'project': case 'agg': case 'distinct': case 'window': return locksBelow(p.input, pick);
    default: return false;
  }
}

/**
 * SELECT ... FOR UPDATE / SHARE: a `lockRows` node over the (sorted) query that takes the LIMIT
 * and OFFSET (rows are locked as the limit takes them); its row id columns are dropped by the
 * caller's final projection. Without a lockable table, just the limit.
 */
function addLockRows(plan: Plan, s: PgNode, bctx: BindCtx, frame: Frame, ctes: Map<string, CteDef>): Plan {
  const spec = lockingSpec(s);
  const names = fromNames(s.fromClause);
  for (const r of spec.rels.keys()) {
    if (!names.has(r)) throw new DbError(SqlState.UndefinedTable, `relation "${r}" in FOR UPDATE clause not found in FROM clause`);
  }
  const pick = (rel: string, name: string) => spec.rels.get(rel) ?? (rel === name ? undefined : spec.rels.get(name)) ?? spec.all;
  const limited = addLimit(plan, s, bctx, frame, ctes);
  const r = withRowIds(plan, pick, false);
  if (r.targets.length === 0) return limited;
  const lim = limited.k === 'limit' && limited !== plan ? limited : undefined;
  return { k: 'lockRows', out: r.plan.out, input: r.plan, targets: r.targets, limit: lim?.limit ?? null, offset: lim?.offset ?? null, est: lim?.est ?? r.plan.est };
}

/** Project over a column-only Project: compose into one (keeps EXPLAIN and execution lean). */
function mergeProject(p: Extract<Plan, { k: 'project' }>): Plan {
  const inner = p.input;
  if (inner.k !== 'project' || !inner.exprs.every((e) => e.k === 'col')) return p;
  const map = inner.exprs.map((e) => (e as { i: number }).i);
  return { ...p, input: inner.input, exprs: p.exprs.map((e) => remapCols(e, (i) => map[i]!)) };
}

function hasAgg(e: BExpr): boolean { return exprHas(e, (x) => x.k === 'agg'); }

function collect(e: BExpr, kind: 'agg' | 'win', acc: Map<string, BExpr>): void {
  if (e.k === kind) { acc.set(exprKey(e), e); if (kind === 'win') return; return; }
  if (e.k === 'subq') { for (const p of e.params) collect(p.e, kind, acc); if (e.arg) collect(e.arg, kind, acc); return; }
  mapExpr(e, (x) => { collect(x, kind, acc); return x; });
}

function bindSelectCore(s0: PgNode, bctx: BindCtx, frame: Frame, ctes: Map<string, CteDef>): Plan {
  const s = resolveWindowNames(s0);
  const from = bindFromList(s.fromClause ?? [], bctx, frame, ctes);
  const scope = new Scope(from.cols, frame, bctx, ctes);
  const where = s.whereClause ? bindBoolExpr(s.whereClause, scope, 'WHERE') : null;
  let plan: Plan = buildJoinTree(from.leaves, [...from.conds, ...splitAnd(where)], joinOpts());

  const targets = expandTargets(s, scope);
  // GROUP BY
  const groups: BExpr[] = [];
  let sets: number[][] | null = null;
  const groupOpts: ExprOpts = { agg: false, win: false, what: 'GROUP BY' };
  const bindGroupItem = (g: PgNode): BExpr => {
    const ord = ordinalOf(g);
    if (ord !== undefined) {
      const t = targets[ord - 1];
      if (!t) throw new DbError(SqlState.InvalidColumnReference, `GROUP BY position ${ord} is not in select list`);
      if (hasAgg(t.e)) throw new DbError(SqlState.GroupingError, 'aggregate functions are not allowed in GROUP BY');
      return t.e;
    }
    if (g.ColumnRef && g.ColumnRef.fields.length === 1 && g.ColumnRef.fields[0].String) {
      const nm = g.ColumnRef.fields[0].String.sval;
      let inScope = true;
      try { inScope = scope.resolve([nm]) !== undefined; } catch { inScope = true; }
      if (!inScope) {
        const t = targets.find((x) => x.name === nm);
        if (t) return t.e;
      }
    }
    return finalizeUnknown(scope, bindExpr(g, scope, groupOpts));
  };
  const groupIndex = (e: BExpr): number => {
    const k = exprKey(e);
    const i = groups.findIndex((g) => exprKey(g) === k);
    if (i >= 0) return i;
    groups.push(e);
    return groups.length - 1;
  };
  const plainIdx: number[] = [];
  const setLists: number[][][] = [];
  for (const g of s.groupClause ?? []) {
    if (g.GroupingSet) {
      const gs = g.GroupingSet;
      const items = (gs.content ?? []) as PgNode[];
      const elems = (n: PgNode): number[] => (n.RowExpr ? n.RowExpr.args.map((a: PgNode) => groupIndex(bindGroupItem(a))) : n.GroupingSet ? [] : [groupIndex(bindGroupItem(n))]);
      if (gs.kind === 'GROUPING_SET_EMPTY') { setLists.push([[]]); continue; }
      if (gs.kind === 'GROUPING_SET_ROLLUP') {
        const parts = items.map(elems);
        const l: number[][] = [];
        for (let i = parts.length; i >= 0; i--) l.push(parts.slice(0, i).flat());
        setLists.push(l);
      } else if (gs.kind === 'GROUPING_SET_CUBE') {
        const parts = items.map(elems);
        const l: number[][] = [];
        for (let m = (1 << parts.length) - 1; m >= 0; m--) l.push(parts.filter((_p, i) => m & (1 << (parts.length - 1 - i))).flat());
        setLists.push(l);
      } else {
        setLists.push(items.map((it) => (it.GroupingSet && it.GroupingSet.kind === 'GROUPING_SET_EMPTY' ? [] : it.GroupingSet ? [] : elems(it))));
      }
      continue;
    }
    plainIdx.push(groupIndex(bindGroupItem(g)));
  }
  if (setLists.length > 0) {
    sets = [plainIdx];
    for (const l of setLists) {
      const next: number[][] = [];
      for (const a of sets) for (const b of l) next.push([...new Set([...a, ...b])]);
      sets = next;
    }
  }
  const having = s.havingClause ? finalizeUnknown(scope, bindExpr(s.havingClause, scope, { agg: true, win: false, what: 'HAVING' })) : null;

  // ORDER BY: output names / ordinals / input expressions
  interface OrderItem { target?: number; e?: BExpr; desc: boolean; nullsFirst: boolean }
  const orderItems: OrderItem[] = (s.sortClause ?? []).map((sb0: PgNode) => {
    const sb = sb0.SortBy;
    const desc = sb.sortby_dir === 'SORTBY_DESC';
    const nullsFirst = sb.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : sb.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : desc;
    const ord = ordinalOf(sb.node);
    if (ord !== undefined) {
      if (ord < 1 || ord > targets.length) throw new DbError(SqlState.InvalidColumnReference, `ORDER BY position ${ord} is not in select list`);
      return { target: ord - 1, desc, nullsFirst };
    }
    if (sb.node.ColumnRef && sb.node.ColumnRef.fields.length === 1 && sb.node.ColumnRef.fields[0].String) {
      const nm = sb.node.ColumnRef.fields[0].String.sval;
      const matches = targets.map((t, i) => (t.name === nm ? i : -1)).filter((i) => i >= 0);
      if (matches.length > 1 && new Set(matches.map((i) => exprKey(targets[i]!.e))).size > 1) {
        throw new DbError(SqlState.AmbiguousColumn, `ORDER BY "${nm}" is ambiguous`);
      }
      if (matches.length >= 1) return { target: matches[0]!, desc, nullsFirst };
    }
    const e = finalizeUnknown(scope, bindExpr(sb.node, scope, { agg: true, win: true, what: 'ORDER BY' }));
    return { e, desc, nullsFirst };
  });

  let tExprs = targets.map((t) => t.e);
  let hExpr = having;
  let oExprs = orderItems.map((o) => o.e ?? null);
  const isGrouping = (x: BExpr): boolean => x.k === 'fn' && x.name === '__grouping';
  const aggregated = groups.length > 0 || sets !== null || tExprs.some(hasAgg) || (having !== null) || oExprs.some((e) => e !== null && hasAgg(e))
    || tExprs.some((e) => exprHas(e, isGrouping));
  if (aggregated) {
    const aggMap = new Map<string, BExpr>();
    for (const e of [...tExprs, ...(hExpr ? [hExpr] : []), ...oExprs.filter((x): x is BExpr => x !== null)]) collect(e, 'agg', aggMap);
    const aggKeys = [...aggMap.keys()];
    const aggs: AggSpec[] = [...aggMap.values()].map((a) => {
      const x = a as Extract<BExpr, { k: 'agg' }>;
      return { name: x.name, args: x.args, distinct: x.distinct, star: x.star, filter: x.filter, order: x.order, t: x.t };
    });
    const gKeys = groups.map(exprKey);
    const G = groups.length;
    const rewrite = (e: BExpr): BExpr => {
      const k = exprKey(e);
      const gi = gKeys.indexOf(k);
      if (gi >= 0) return { k: 'col', t: e.t, i: gi };
      if (e.k === 'agg') return { k: 'col', t: e.t, i: G + aggKeys.indexOf(k) };
      if (e.k === 'fn' && e.name === '__grouping') {
        // GROUPING(a, b, ...): bit i set when argument i is not grouped in the row's grouping set
        const idx = e.args.map((a) => gKeys.indexOf(exprKey(a)));
        if (idx.some((i) => i < 0)) throw new DbError(SqlState.GroupingError, 'arguments to GROUPING must be grouping expressions of the associated query level');
        if (sets === null) return { k: 'const', t: T.integer, v: 0 };
        const setCol = G + aggKeys.length;
        const maskOf = (set: readonly number[]): number => idx.reduce((m, gi) => (m << 1) | (set.includes(gi) ? 0 : 1), 0);
        return { k: 'case', t: T.integer, else: { k: 'const', t: T.integer, v: 0 },
          whens: sets.map((set, si) => ({ when: { k: 'op', t: T.boolean, op: '=', args: [{ k: 'col', t: T.integer, i: setCol }, { k: 'const', t: T.integer, v: si }] } as BExpr,
            then: { k: 'const', t: T.integer, v: maskOf(set) } as BExpr })) };
      }
      if (e.k === 'col') throw new DbError(SqlState.GroupingError, `column "${plan.out[e.i]?.name ?? '?'}" must appear in the GROUP BY clause or be used in an aggregate function`);
      return mapExpr(e, rewrite);
    };
    tExprs = tExprs.map(rewrite);
    hExpr = hExpr ? rewrite(hExpr) : null;
    oExprs = oExprs.map((e) => (e ? rewrite(e) : null));
    const out: OutCol[] = [...groups.map((g, i) => ({ name: `group${i}`, t: g.t })), ...aggs.map((a) => ({ name: a.name, t: a.t }))];
    // with grouping sets, a last column numbers the set each row belongs to (for GROUPING())
    if (sets !== null) out.push({ name: '__set', t: T.integer });
    plan = { k: 'agg', out, input: plan, groups, aggs, sets, est: G === 0 ? 1 : Math.max(1, plan.est / 3) };
    if (hExpr) plan = { k: 'filter', out: plan.out, input: plan, pred: hExpr, est: Math.max(1, plan.est / 3) };
  }
  // window functions
  const winMap = new Map<string, BExpr>();
  for (const e of [...tExprs, ...oExprs.filter((x): x is BExpr => x !== null)]) collect(e, 'win', winMap);
  if (winMap.size > 0) {
    const winKeys = [...winMap.keys()];
    const funcs: WinSpec[] = [...winMap.values()].map((w) => {
      const x = w as Extract<BExpr, { k: 'win' }>;
      return { name: x.name, args: x.args, star: x.star, distinct: x.distinct, filter: x.filter, partition: x.partition, order: x.order, frame: x.frame, t: x.t };
    });
    const base = plan.out.length;
    const rewriteW = (e: BExpr): BExpr => {
      if (e.k === 'win') return { k: 'col', t: e.t, i: base + winKeys.indexOf(exprKey(e)) };
      return mapExpr(e, rewriteW);
    };
    tExprs = tExprs.map(rewriteW);
    oExprs = oExprs.map((e) => (e ? rewriteW(e) : null));
    plan = { k: 'window', out: [...plan.out, ...funcs.map((f) => ({ name: f.name, t: f.t }))], input: plan, funcs, est: plan.est };
  }
  // set-returning functions in the select list: LATERAL applies over the rows so far (bind/srf.ts)
  ({ plan, exprs: tExprs, order: oExprs } = expandSrfs(plan, tExprs, oExprs, bctx));
  // projection (visible targets + hidden sort columns)
  const projExprs = [...tExprs];
  const projOut: OutCol[] = targets.map((t, i) => ({ name: t.name, t: tExprs[i]!.t }));
  const distinct = !!s.distinctClause;
  const distinctOn = distinct && s.distinctClause.length > 0 && Object.keys(s.distinctClause[0]).length > 0;
  const sortKeys: SortKey[] = [];
  orderItems.forEach((o, idx) => {
    if (o.target !== undefined) { sortKeys.push({ e: { k: 'col', t: projOut[o.target]!.t, i: o.target }, desc: o.desc, nullsFirst: o.nullsFirst }); return; }
    const e = oExprs[idx]!;
    const k = exprKey(e);
    const ti = projExprs.findIndex((p, i) => i < targets.length && exprKey(p) === k);
    if (ti >= 0) { sortKeys.push({ e: { k: 'col', t: e.t, i: ti }, desc: o.desc, nullsFirst: o.nullsFirst }); return; }
    if (distinct && !distinctOn) throw new DbError(SqlState.InvalidColumnReference, 'for SELECT DISTINCT, ORDER BY expressions must appear in select list');
    projExprs.push(e);
    projOut.push({ name: '?sort?', t: e.t });
    sortKeys.push({ e: { k: 'col', t: e.t, i: projExprs.length - 1 }, desc: o.desc, nullsFirst: o.nullsFirst });
  });
  let onExprs: BExpr[] | null = null;
  if (distinctOn) {
    onExprs = s.distinctClause.map((d: PgNode) => {
      const ord = ordinalOf(d);
      if (ord !== undefined) return { k: 'col', t: projOut[ord - 1]!.t, i: ord - 1 } as BExpr;
      let e = finalizeUnknown(scope, bindExpr(d, scope, { agg: true, win: false, what: 'DISTINCT ON' }));
      if (aggregated) {
        const k = exprKey(e);
        const ti = targets.findIndex((t) => exprKey(t.e) === k);
        if (ti >= 0) return { k: 'col', t: e.t, i: ti } as BExpr;
      }
      const k = exprKey(e);
      const ti = projExprs.findIndex((p) => exprKey(p) === k);
      if (ti >= 0) return { k: 'col', t: e.t, i: ti } as BExpr;
      projExprs.push(e);
      projOut.push({ name: '?on?', t: e.t });
      e = { k: 'col', t: e.t, i: projExprs.length - 1 };
      return e;
    });
  }
  plan = mergeProject({ k: 'project', out: projOut, input: plan, exprs: projExprs, est: plan.est });
  if (distinctOn && onExprs) {
    // DISTINCT ON keeps the first row of each group in ORDER BY order
    if (sortKeys.length > 0) plan = { k: 'sort', out: plan.out, input: plan, keys: sortKeys, limit: null, est: plan.est };
    plan = { k: 'distinct', out: plan.out, input: plan, on: onExprs, est: plan.est };
  } else if (distinct) {
    plan = { k: 'distinct', out: plan.out, input: plan, on: null, est: Math.max(1, plan.est / 2) };
  }
  if (sortKeys.length > 0 && !distinctOn) plan = { k: 'sort', out: plan.out, input: plan, keys: sortKeys, limit: null, est: plan.est };
  plan = s.lockingClause ? addLockRows(plan, s, bctx, frame, ctes) : addLimit(plan, s, bctx, frame, ctes);
  if (plan.out.length > targets.length) {
    // drop hidden sort columns (and the row ids of FOR UPDATE)
    const vis = targets.length;
    plan = { k: 'project', out: plan.out.slice(0, vis), input: plan, exprs: plan.out.slice(0, vis).map((c, i) => ({ k: 'col', t: c.t, i }) as BExpr), est: plan.est };
  }
  return plan;
}

export { bindBoolExpr };

/** FROM scope for UPDATE ... FROM / DELETE ... USING: the target relation first, then `items`. */
export function bindDmlFrom(target: Plan, rel: string, items: PgNode[], bctx: BindCtx, frame: Frame): { leaves: Leaf[]; conds: BExpr[]; cols: ScopeCol[] } {
  const res: FromResult = { leaves: [], conds: [], cols: [] };
  addLeaf(res, target, rel);
  for (const it of items) addFromItem(it, res, bctx, frame, new Map());
  return res;
}

export function joinTreeFor(leaves: Leaf[], conds: BExpr[]): Plan {
  return buildJoinTree(leaves, conds, joinOpts());
}
