/**
 * Bound expressions and plan nodes: the typed, name-resolved form the binder produces, the
 * optimizer rewrites and the executor runs.
 *
 * Invariants:
 *  1. `col.i` indexes the output columns of the plan node whose input the expression is
 *     evaluated over (for a join condition: the concatenation left ++ right).
 *  2. `corr.id` names a correlation slot set by the enclosing `subq` before each run of its plan;
 *     ids are unique within a statement.
 *  3. Every node's `out` lists its output columns, in order.
 */
import type { SqlType } from '@quiverdb/common';
import type { QualifiedName, ScanPredicate, TableSource } from '../catalog/catalog.js';
import type { IndexAccess } from '../optimizer/index-access.js';

export type BExpr =
  | { readonly k: 'const'; readonly t: SqlType; readonly v: unknown; readonly unknownLit?: boolean }
  | { readonly k: 'col'; readonly t: SqlType; readonly i: number }
  | { readonly k: 'corr'; readonly t: SqlType; readonly id: number }
  | { readonly k: 'param'; readonly t: SqlType; readonly n: number }
  | { readonly k: 'op'; readonly t: SqlType; readonly op: string; readonly args: readonly BExpr[] }
  | { readonly k: 'fn'; readonly t: SqlType; readonly name: string; readonly args: readonly BExpr[] }
  | { readonly k: 'case'; readonly t: SqlType; readonly whens: readonly { readonly when: BExpr; readonly then: BExpr }[]; readonly else: BExpr | null }
  | { readonly k: 'coalesce'; readonly t: SqlType; readonly args: readonly BExpr[] }
  | { readonly k: 'cast'; readonly t: SqlType; readonly arg: BExpr }
  | { readonly k: 'isnull'; readonly t: SqlType; readonly arg: BExpr; readonly neg: boolean }
  | { readonly k: 'in'; readonly t: SqlType; readonly arg: BExpr; readonly list: readonly BExpr[]; readonly neg: boolean }
  | { readonly k: 'subq'; readonly t: SqlType; readonly mode: 'scalar' | 'exists' | 'any' | 'all' | 'array';
      readonly plan: Plan; readonly params: readonly { readonly id: number; readonly e: BExpr }[];
      readonly arg: BExpr | null; readonly op: string; readonly uid: number }
  | { readonly k: 'agg'; readonly t: SqlType; readonly name: string; readonly args: readonly BExpr[]; readonly distinct: boolean;
      readonly star: boolean; readonly filter: BExpr | null; readonly order: readonly SortKey[] }
  | { readonly k: 'win'; readonly t: SqlType; readonly name: string; readonly args: readonly BExpr[]; readonly star: boolean;
      readonly distinct: boolean; readonly filter: BExpr | null;
      readonly partition: readonly BExpr[]; readonly order: readonly SortKey[]; readonly frame: WindowFrame | null }
  | { readonly k: 'grouping'; readonly t: SqlType; readonly args: readonly number[] };

export interface WindowFrame {
  readonly mode: 'rows' | 'range' | 'groups';
  readonly start: FrameBound;
  readonly end: FrameBound;
}
export interface FrameBound { readonly kind: 'unboundedPreceding' | 'preceding' | 'currentRow' | 'following' | 'unboundedFollowing'; readonly offset?: BExpr }

export interface SortKey { readonly e: BExpr; readonly desc: boolean; readonly nullsFirst: boolean }

export interface OutCol { readonly name: string; readonly t: SqlType }

export interface AggSpec {
  readonly name: string;
  readonly args: readonly BExpr[];
  readonly distinct: boolean;
  readonly star: boolean;
  readonly filter: BExpr | null;
  readonly order: readonly SortKey[];
  readonly t: SqlType;
}

export interface WinSpec {
  readonly name: string;
  readonly args: readonly BExpr[];
  readonly star: boolean;
  readonly distinct: boolean;
  readonly filter: BExpr | null;
  readonly partition: readonly BExpr[];
  readonly order: readonly SortKey[];
  readonly frame: WindowFrame | null;
  readonly t: SqlType;
}

export type JoinType = 'inner' | 'left' | 'right' | 'full' | 'semi' | 'anti' | 'cross';

export type Plan =
  | { readonly k: 'scan'; readonly out: OutCol[]; readonly table: TableSource; readonly name: QualifiedName; readonly label: string; readonly cols: readonly number[];
      readonly preds: ScanPredicate[]; filter: BExpr | null; est: number;
      /** UPDATE / DELETE targets: a last output column `__rowid` holds each row's id */
      readonly rowIds?: boolean;
      /** SELECT ... FOR UPDATE / SHARE: row locks requested from the scan */
      readonly lock?: { readonly mode: 'update' | 'noKeyUpdate' | 'share' | 'keyShare'; readonly wait: 'wait' | 'nowait' | 'skipLocked' } }
  | { readonly k: 'values'; readonly out: OutCol[]; readonly rows: readonly (readonly BExpr[])[]; est: number }
  | { readonly k: 'filter'; readonly out: OutCol[]; readonly input: Plan; readonly pred: BExpr; est: number }
  | { readonly k: 'project'; readonly out: OutCol[]; readonly input: Plan; readonly exprs: readonly BExpr[]; est: number }
  | { readonly k: 'join'; readonly out: OutCol[]; readonly type: JoinType; readonly left: Plan; readonly right: Plan;
      readonly lkeys: readonly BExpr[]; readonly rkeys: readonly BExpr[]; readonly cond: BExpr | null; est: number }
  | { readonly k: 'agg'; readonly out: OutCol[]; readonly input: Plan; readonly groups: readonly BExpr[]; readonly aggs: readonly AggSpec[];
      readonly sets: readonly (readonly number[])[] | null; est: number }
  | { readonly k: 'sort'; readonly out: OutCol[]; readonly input: Plan; readonly keys: readonly SortKey[]; readonly limit: BExpr | null; est: number }
  | { readonly k: 'limit'; readonly out: OutCol[]; readonly input: Plan; readonly limit: BExpr | null; readonly offset: BExpr | null; est: number }
  | { readonly k: 'distinct'; readonly out: OutCol[]; readonly input: Plan; readonly on: readonly BExpr[] | null; est: number }
  | { readonly k: 'setop'; readonly out: OutCol[]; readonly op: 'union' | 'intersect' | 'except'; readonly all: boolean;
      readonly left: Plan; readonly right: Plan; est: number }
  | { readonly k: 'window'; readonly out: OutCol[]; readonly input: Plan; readonly funcs: readonly WinSpec[]; est: number }
  | { readonly k: 'workScan'; readonly out: OutCol[]; readonly id: number; est: number }
  /** index access path (optimizer/index-access.ts): lookups + fetch, then the scan's full filter */
  | { readonly k: 'indexScan'; readonly out: OutCol[]; readonly table: TableSource; readonly name: QualifiedName; readonly label: string;
      readonly cols: readonly number[]; readonly access: IndexAccess; readonly filter: BExpr | null; est: number;
      /** also output each row's id as a last column (UPDATE / DELETE targets) */
      readonly rowIds?: boolean }
  /** LATERAL: for each left row, `right` runs with correlation slots `params` (over left) set */
  | { readonly k: 'apply'; readonly out: OutCol[]; readonly left: Plan; readonly right: Plan;
      readonly params: readonly { readonly id: number; readonly e: BExpr }[]; readonly outer: boolean; est: number }
  | { readonly k: 'cte'; readonly out: OutCol[]; readonly id: number; readonly def: Plan; readonly body: Plan; est: number }
  | { readonly k: 'recursive'; readonly out: OutCol[]; readonly id: number; readonly anchor: Plan; readonly step: Plan; readonly all: boolean; est: number }
  /**
   * SELECT ... FOR UPDATE / SHARE (PostgreSQL's LockRows, with the Limit above it folded in):
   * walks the input's rows in order and locks each target's row (row id in column `col`); a row
   * whose lock is skipped (SKIP LOCKED) or whose version was changed under READ COMMITTED is left
   * out and does not count. Stops once offset + limit rows are locked; outputs them minus the
   * first `offset`. Output columns = the input's (the row id columns included).
   */
  | { readonly k: 'lockRows'; readonly out: OutCol[]; readonly input: Plan; readonly targets: readonly RowLockTarget[];
      readonly limit: BExpr | null; readonly offset: BExpr | null; est: number };

/** One table whose rows a `lockRows` node locks. */
export interface RowLockTarget {
  /** input column holding the table's row ids */
  readonly col: number;
  readonly table: TableSource;
  readonly name: QualifiedName;
  readonly label: string;
  readonly mode: 'update' | 'noKeyUpdate' | 'share' | 'keyShare';
  readonly wait: 'wait' | 'nowait' | 'skipLocked';
}

export type PlanKind = Plan['k'];

/** Apply `f` to each direct sub-expression list; used by rewrites that remap column indexes. */
export function mapExpr(e: BExpr, f: (x: BExpr) => BExpr): BExpr {
  switch (e.k) {
    case 'const': case 'col': case 'corr': case 'param': case 'grouping': return e;
    case 'op': return { ...e, args: e.args.map(f) };
    case 'fn': return { ...e, args: e.args.map(f) };
    case 'coalesce': return { ...e, args: e.args.map(f) };
    case 'case': return { ...e, whens: e.whens.map((w) => ({ when: f(w.when), then: f(w.then) })), else: e.else ? f(e.else) : null };
    case 'cast': return { ...e, arg: f(e.arg) };
    case 'isnull': return { ...e, arg: f(e.arg) };
    case 'in': return { ...e, arg: f(e.arg), list: e.list.map(f) };
    case 'subq': return { ...e, arg: e.arg ? f(e.arg) : null, params: e.params.map((p) => ({ id: p.id, e: f(p.e) })) };
    case 'agg': return { ...e, args: e.args.map(f), filter: e.filter ? f(e.filter) : null, order: e.order.map((o) => ({ ...o, e: f(o.e) })) };
    case 'win': return { ...e, args: e.args.map(f), filter: e.filter ? f(e.filter) : null,
      partition: e.partition.map(f), order: e.order.map((o) => ({ ...o, e: f(o.e) })) };
  }
}

/** Rewrite column indexes (REQUIRES: every referenced column has an image under `m`). */
export function remapCols(e: BExpr, m: (i: number) => number): BExpr {
  if (e.k === 'col') return { ...e, i: m(e.i) };
  return mapExpr(e, (x) => remapCols(x, m));
}

/** Column indexes referenced by `e` (not looking inside subquery plans, only their params). */
export function colsOf(e: BExpr, acc: Set<number> = new Set()): Set<number> {
  if (e.k === 'col') { acc.add(e.i); return acc; }
  mapExpr(e, (x) => { colsOf(x, acc); return x; });
  return acc;
}

export function exprHas(e: BExpr, pred: (x: BExpr) => boolean): boolean {
  if (pred(e)) return true;
  let found = false;
  mapExpr(e, (x) => { if (!found && exprHas(x, pred)) found = true; return x; });
  return found;
}

export function splitAnd(e: BExpr | null, acc: BExpr[] = []): BExpr[] {
  if (e === null) return acc;
  if (e.k === 'op' && e.op === 'and') { for (const a of e.args) splitAnd(a, acc); return acc; }
  acc.push(e);
  return acc;
}

export function andAll(es: readonly BExpr[], bool: SqlType): BExpr | null {
  if (es.length === 0) return null;
  if (es.length === 1) return es[0]!;
  return { k: 'op', t: bool, op: 'and', args: es };
}
