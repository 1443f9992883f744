/**
 * Rule `index-scan` (index access paths): a scan whose conjunctive filter constrains a prefix of
 * an index's columns, or whose rows feed an ORDER BY <index columns> LIMIT n, becomes an index
 * scan (exec/index-scan.ts) when the estimate says it reads few rows.
 *
 *   Scan t  Filter: a = $1 AND b > 3 AND c < 9         Index Scan using t_a_b on t
 *                                               =>       Key: a = $1, b > 3   Filter: (all three)
 *
 *   Top-N Sort (a DESC) limit 10                        Index Scan Backward using t_a on t
 *     Scan t                                     =>       (first 10 rows in index order)
 *
 * Key shapes: equality on a prefix of the index columns (each equality may be an IN list: one
 * lookup per combination, at most MAX_LOOKUPS), then optionally a range (one or two bounds) on
 * the next column. Key values are expressions without column references (constants, parameters,
 * correlation slots, casts and arithmetic over them), evaluated once per execution, so a cached
 * plan serves every parameter value.
 *
 * Correctness: the index is a superset filter — the executor re-applies the scan's filter to
 * fetched rows, so a key condition only has to keep every row the filter keeps. Conjuncts an exact
 * key condition implies (equality on EXACT_EQ types, two-sided ranges on EXACT_RANGE types) are
 * left out of the re-check (`IndexAccess.residual`), unless a bound turns out lossy at run time. A key value
 * whose cast to the column type is lossy is handled by the executor (no rows for an equality, an
 * open bound for a range). Order: index order equals SQL order (key encoding invariant 1, NULLS
 * LAST for ASC / FIRST for DESC), so an ORDER BY is served only when every key's direction and
 * NULLS placement match the index read forward or backward.
 *
 * Cost (conservative): seq cost = rowCount; index cost = 4 per fetched row + 10 per lookup. A
 * full equality key of a unique index is always taken.
 *
 * Invariants:
 *  1. The rewritten node outputs exactly the scan's columns, with the scan's filter.
 *  2. Scans with row ids (UPDATE / DELETE) or row locks are never rewritten.
 */
import type { SqlType } from '@quiverdb/common';
import type { IndexDef, TableSource } from '../catalog/catalog.js';
import type { BExpr, Plan, SortKey } from '../plan/plan.js';
import { exprHas, mapExpr, splitAnd } from '../plan/plan.js';

export const INDEX_SCAN_RULE = 'index-scan';
const MAX_LOOKUPS = 256;
const FETCH_COST = 4;
const LOOKUP_COST = 10;

/** One bound of the range on the column after the equality prefix (value terms, not key order). */
export interface IndexBound { readonly e: BExpr; readonly inclusive: boolean }

/** How an index scan reads its index; every expression is free of column references. */
export interface IndexAccess {
  readonly index: string;
  /** table column positions of the index, in key order */
  readonly keyCols: readonly number[];
  readonly keyTypes: readonly SqlType[];
  readonly desc: readonly boolean[];
  /** per leading key column: the alternatives it must equal (one for `=`, several for IN) */
  readonly eq: readonly (readonly BExpr[])[];
  /** range on key column `eq.length` */
  readonly lo: IndexBound | null;
  readonly hi: IndexBound | null;
  /** read the index backwards */
  readonly reverse: boolean;
  /** rows needed at most after the filter (ORDER BY ... LIMIT served by the index) */
  readonly limit: BExpr | null;
  /** the key is a full equality key of a unique index (at most one row per lookup) */
  readonly unique: boolean;
  /**
   * The filter conjuncts the key condition does not imply, when the key condition is exact
   * (types whose key equality / order is SQL's: see EXACT_EQ, EXACT_RANGE); the executor applies
   * it instead of the whole filter unless a range bound turned out lossy. undefined = always
   * apply the whole filter.
   */
  readonly residual?: BExpr | null;
}

/** Types whose key equality is SQL equality (floats excluded: NaN; NUMERIC: NaN). */
const EXACT_EQ = new Set(['SMALLINT', 'INTEGER', 'BIGINT', 'DATE', 'TIMESTAMP', 'VARCHAR', 'TEXT', 'BOOLEAN']);
/** Types whose key order is SQL order (text excluded: UTF-16 vs code point order). */
const EXACT_RANGE = new Set(['SMALLINT', 'INTEGER', 'BIGINT', 'DATE', 'TIMESTAMP']);

export type IndexScanPlan = Extract<Plan, { k: 'indexScan' }>;
type ScanPlan = Extract<Plan, { k: 'scan' }>;

/** Expressions usable as key values: no column references, no subqueries, no volatile functions. */
function isKeyValue(e: BExpr): boolean {
  return !exprHas(e, (x) => x.k === 'col' || x.k === 'subq' || x.k === 'agg' || x.k === 'win' || x.k === 'grouping' || x.k === 'fn' || x.k === 'case');
}

/** Key-compatible type families: a value of family F may look up a column of family F. */
function family(t: SqlType): string {
  switch (t.id) {
    case 'SMALLINT': case 'INTEGER': case 'BIGINT': case 'REAL': case 'DOUBLE': case 'NUMERIC': return 'num';
    case 'VARCHAR': case 'TEXT': return 'text';
    default: return t.id;
  }
}

interface Conds {
  /** per scan output column: equality alternatives */
  eq: Map<number, BExpr[]>;
  lo: Map<number, IndexBound>;
  hi: Map<number, IndexBound>;
  /** the conjunct each entry came from, for the residual filter */
  src: Map<BExpr[] | IndexBound, BExpr>;
  all: BExpr[];
}

function colOf(e: BExpr): number | undefined {
  if (e.k === 'col') return e.i;
  return undefined;
}

function collect(filter: BExpr | null, scan: ScanPlan): Conds {
  const c: Conds = { eq: new Map(), lo: new Map(), hi: new Map(), src: new Map(), all: splitAnd(filter) };
  const ok = (i: number, v: BExpr): boolean => {
    const tc = scan.cols[i];
    if (tc === undefined) return false;
    const ct = scan.table.def.columns[tc]!.type;
    return isKeyValue(v) && family(ct) === family(v.t) && !(v.k === 'const' && v.v === null);
  };
  for (const p of c.all) {
    if (p.k === 'op' && p.args.length === 2 && ['=', '<', '<=', '>', '>='].includes(p.op)) {
      let [a, b] = p.args as [BExpr, BExpr];
      let op = p.op;
      if (colOf(a) === undefined && colOf(b) !== undefined) { [a, b] = [b, a]; op = op === '<' ? '>' : op === '>' ? '<' : op === '<=' ? '>=' : op === '>=' ? '<=' : op; }
      const i = colOf(a);
      if (i === undefined || !ok(i, b)) continue;
      if (op === '=') { if (!c.eq.has(i)) { const x = [b]; c.eq.set(i, x); c.src.set(x, p); } }
      else if (op === '>' || op === '>=') { if (!c.lo.has(i)) { const x = { e: b, inclusive: op === '>=' }; c.lo.set(i, x); c.src.set(x, p); } }
      else if (!c.hi.has(i)) { const x = { e: b, inclusive: op === '<=' }; c.hi.set(i, x); c.src.set(x, p); }
    } else if (p.k === 'in' && !p.neg && p.list.length > 0) {
      const i = colOf(p.arg);
      if (i === undefined || !p.list.every((v) => ok(i, v))) continue;
      if (!c.eq.has(i)) { const x = [...p.list]; c.eq.set(i, x); c.src.set(x, p); }
    }
  }
  return c;
}

interface Ordering { readonly cols: readonly number[]; readonly keys: readonly SortKey[]; readonly limit: BExpr }

interface Candidate { access: IndexAccess; cost: number; rows: number }

function colStats(table: TableSource, tc: number): { distinct: number } | undefined {
  const s = table.stats().columns?.[tc];
  return s && s.distinct > 0 ? s : undefined;
}

/** The best index access for `scan` (with an ordering to serve, if any), or undefined. */
function choose(scan: ScanPlan, ordering: Ordering | undefined): Candidate | undefined {
  const table = scan.table;
  const rowCount = Math.max(1, table.stats().rowCount);
  const conds = collect(scan.filter, scan);
  // scan output position of each table column the scan reads
  const pos = new Map<number, number>();
  scan.cols.forEach((tc, i) => { if (!pos.has(tc)) pos.set(tc, i); });
  let best: Candidate | undefined;
  for (const ix of table.indexes()) {
    const c = candidateFor(scan, ix, conds, pos, rowCount, ordering);
    if (c && (!best || c.cost < best.cost)) best = c;
  }
  if (!best) return undefined;
  if (best.access.unique && best.access.eq.every((alts) => alts.length === 1)) return best;
  return best.cost < rowCount ? best : undefined;
}

function candidateFor(scan: ScanPlan, ix: IndexDef, conds: Conds, pos: Map<number, number>, rowCount: number, ordering: Ordering | undefined): Candidate | undefined {
  const defs = scan.table.def.columns;
  const desc = ix.columns.map((_c, k) => ix.descending?.[k] ?? false);
  const eq: BExpr[][] = [];
  let sel = 1;
  let lookups = 1;
  for (const tc of ix.columns) {
    const p = pos.get(tc);
    const alts = p === undefined ? undefined : conds.eq.get(p);
    if (!alts || lookups * alts.length > MAX_LOOKUPS) break;
    eq.push(alts);
    lookups *= alts.length;
    const st = colStats(scan.table, tc);
    sel *= Math.min(1, alts.length * (st ? 1 / st.distinct : 0.05));
  }
  let lo: IndexBound | null = null, hi: IndexBound | null = null;
  if (eq.length < ix.columns.length) {
    const p = pos.get(ix.columns[eq.length]!);
    if (p !== undefined) { lo = conds.lo.get(p) ?? null; hi = conds.hi.get(p) ?? null; }
    if (lo && hi) sel *= 0.05; else if (lo || hi) sel *= 0.3;
  }
  const unique = ix.unique && eq.length === ix.columns.length;
  let reverse = false;
  let limit: BExpr | null = null;
  let rows = unique ? lookups : rowCount * sel;
  if (ordering) {
    const served = servesOrder(ix, desc, eq.length, ordering, pos);
    if (served !== undefined && lookups === 1) {
      reverse = served;
      limit = ordering.limit;
      const n = ordering.limit.k === 'const' && typeof ordering.limit.v === 'number' ? ordering.limit.v
        : ordering.limit.k === 'const' && typeof ordering.limit.v === 'bigint' ? Number(ordering.limit.v) : 100;
      // rows read until n pass the rest of the filter (its selectivity guessed at 1/3 if any)
      const rest = scan.filter ? 3 : 1;
      rows = Math.min(rows, n * rest);
    } else if (eq.length === 0 && !lo && !hi) return undefined;
  } else if (eq.length === 0 && !lo && !hi) return undefined;
  const keyTypes = ix.columns.map((tc) => defs[tc]!.type);
  const cost = rows * FETCH_COST + lookups * LOOKUP_COST;
  // conjuncts implied by an exact key condition need no re-check
  const implied = new Set<BExpr>();
  eq.forEach((alts, k) => { if (EXACT_EQ.has(keyTypes[k]!.id)) implied.add(conds.src.get(alts)!); });
  if (lo && hi && EXACT_RANGE.has(keyTypes[eq.length]!.id)) { implied.add(conds.src.get(lo)!); implied.add(conds.src.get(hi)!); }
  const rest = conds.all.filter((p) => !implied.has(p));
  const residual = implied.size === 0 ? undefined : rest.length === 0 ? null : rest.length === 1 ? rest[0]! : { k: 'op' as const, t: conds.all[0]!.t, op: 'and', args: rest };
  return { access: { index: ix.name, keyCols: ix.columns, keyTypes, desc, eq, lo, hi, reverse, limit, unique, ...(residual !== undefined ? { residual } : {}) }, cost, rows: Math.max(1, rows) };
}

/**
 * Whether reading `ix` (after `eqLen` equality columns) yields `ordering`: undefined = no,
 * false = forward, true = backward.
 */
function servesOrder(ix: IndexDef, desc: readonly boolean[], eqLen: number, ordering: Ordering, pos: Map<number, number>): boolean | undefined {
  let k = eqLen;
  let dir: boolean | undefined;
  for (let j = 0; j < ordering.cols.length; j++) {
    const oc = ordering.cols[j]!;
    const key = ordering.keys[j]!;
    // a key column fixed by equality is constant: it does not disturb the order
    const fixed = ix.columns.slice(0, eqLen).indexOf(oc);
    if (fixed >= 0) continue;
    if (k >= ix.columns.length || ix.columns[k] !== oc || pos.get(oc) === undefined) return undefined;
    const d = desc[k]!;
    const backward = key.desc !== d;
    // forward read of an ASC column: NULLS LAST; of a DESC column: NULLS FIRST
    const nullsFirstServed = backward ? !d : d;
    if (key.nullsFirst !== nullsFirstServed) return undefined;
    if (dir === undefined) dir = backward; else if (dir !== backward) return undefined;
    k++;
  }
  return dir ?? false;
}

function toIndexScan(scan: ScanPlan, c: Candidate): IndexScanPlan {
  return {
    k: 'indexScan', out: scan.out, table: scan.table, name: scan.name, label: scan.label, cols: scan.cols,
    access: c.access, filter: scan.filter, est: Math.max(1, Math.min(scan.est, c.rows)),
    ...(scan.rowIds === true ? { rowIds: true } : {}),
  };
}

function rewritable(p: Plan): p is ScanPlan {
  return p.k === 'scan' && p.lock === undefined && typeof p.table.indexLookup === 'function' && typeof p.table.fetch === 'function';
}

/** Map sort keys through projections down to a scan's table columns; undefined if not possible. */
function orderingOf(sort: Extract<Plan, { k: 'sort' }>): { scanPath: Plan[]; ordering: Ordering } | undefined {
  if (!sort.limit) return undefined;
  const path: Plan[] = [];
  let p: Plan = sort.input;
  let keys: (number | undefined)[] = sort.keys.map((k) => (k.e.k === 'col' ? k.e.i : undefined));
  while (p.k === 'project') {
    const proj: Extract<Plan, { k: 'project' }> = p;
    keys = keys.map((i) => { const e = i === undefined ? undefined : proj.exprs[i]; return e && e.k === 'col' ? e.i : undefined; });
    path.push(p);
    p = p.input;
  }
  if (!rewritable(p) || keys.some((i) => i === undefined)) return undefined;
  const scan = p;
  path.push(scan);
  return { scanPath: path, ordering: { cols: keys.map((i) => scan.cols[i!]!), keys: sort.keys, limit: sort.limit } };
}

function rewriteExprs(e: BExpr): BExpr {
  if (e.k === 'subq') return { ...e, plan: useIndexes(e.plan), arg: e.arg ? rewriteExprs(e.arg) : null, params: e.params.map((p) => ({ id: p.id, e: rewriteExprs(p.e) })) };
  return mapExpr(e, rewriteExprs);
}

function hasSubq(e: BExpr | null): boolean { return e !== null && exprHas(e, (x) => x.k === 'subq'); }

/** Apply the rule to a whole plan (subquery plans included). */
export function useIndexes(plan: Plan): Plan {
  switch (plan.k) {
    case 'scan': {
      const p = hasSubq(plan.filter) ? { ...plan, filter: rewriteExprs(plan.filter!) } : plan;
      if (!rewritable(p) || !p.filter) return p;
      const c = choose(p, undefined);
      return c ? toIndexScan(p, c) : p;
    }
    case 'sort': {
      const o = orderingOf(plan);
      if (o) {
        const scan = o.scanPath[o.scanPath.length - 1] as ScanPlan;
        const s = hasSubq(scan.filter) ? { ...scan, filter: rewriteExprs(scan.filter!) } : scan;
        const ordered = choose(s, o.ordering);
        if (ordered && ordered.access.limit) {
          // the index delivers the order: drop the sort, keep its projections
          let node: Plan = toIndexScan(s, ordered);
          for (let i = o.scanPath.length - 2; i >= 0; i--) node = { ...(o.scanPath[i] as Extract<Plan, { k: 'project' }>), input: node, est: node.est };
          return node;
        }
      }
      return { ...plan, input: useIndexes(plan.input) };
    }
    case 'values': case 'workScan': case 'indexScan': return plan;
    case 'filter': return { ...plan, input: useIndexes(plan.input), pred: rewriteExprs(plan.pred) };
    case 'project': {
      const input = useIndexes(plan.input);
      // a projection has its input's row count
      return { ...plan, input, exprs: plan.exprs.map(rewriteExprs), est: input.k === 'indexScan' ? input.est : plan.est };
    }
    case 'join': return { ...plan, left: useIndexes(plan.left), right: useIndexes(plan.right), cond: plan.cond ? rewriteExprs(plan.cond) : null };
    case 'setop': return { ...plan, left: useIndexes(plan.left), right: useIndexes(plan.right) };
    case 'apply': return { ...plan, left: useIndexes(plan.left), right: useIndexes(plan.right) };
    case 'cte': return { ...plan, def: useIndexes(plan.def), body: useIndexes(plan.body) };
    case 'recursive': return { ...plan, anchor: useIndexes(plan.anchor), step: useIndexes(plan.step) };
    case 'agg': case 'limit': case 'distinct': case 'window': case 'lockRows': return { ...plan, input: useIndexes(plan.input) };
  }
}
