/**
 * The synchronous point lookup: a SELECT whose (cached) plan is an index scan on the whole key of
 * an index by equality to parameters / constants, with no other condition, optionally under a
 * projection of plain columns (`SELECT k, v FROM t WHERE id = $1`). It runs without promises or
 * vectors: key values cast as the index scan casts them, one `TableSource.lookupKey` call (one key
 * encode, one tree descent, visibility, the row's values), values turned into executor
 * representation, the projection applied.
 *
 * When the table cannot answer synchronously (`lookupKey` absent or undefined: a lock to wait for,
 * rows not in memory, SSI tracking), the caller runs the plan through the general operators
 * (exec/index-scan.ts), which give the same rows: this is a shortcut, never a different answer.
 *
 * Invariants:
 *  1. `pointLookupOf(plan)` is defined only for plans whose rows are exactly the rows whose key
 *     equals the key values (the optimizer marked the key condition exact and left no residual
 *     conjunct): no filter is evaluated here.
 *  2. The result has `plan.out.length` columns, as `execPlan(plan)` would give.
 *
 * Concurrency: synchronous from start to end: no other session runs in between.
 */
import { DbError, SqlState, type SqlType } from '@quiverdb/common';
import type { Catalog } from '../catalog/catalog.js';
import type { BExpr, Plan } from '../plan/plan.js';
import type { IndexScanPlan } from '../optimizer/index-access.js';
import { fromJsValue } from '../types/values.js';
import { Decimal } from '../types/decimal.js';
import { keyValue } from './index-scan.js';
import type { Rel } from './rel.js';

/** The shape `pointLookupOf` recognized, kept per plan (plans are immutable and cached). */
export interface PointLookup {
  readonly scan: IndexScanPlan;
  /** per key column: its value expression (a parameter or a constant) */
  readonly keys: readonly (Extract<BExpr, { k: 'param' } | { k: 'const' }>)[];
  /** SQL types of the scan's columns */
  readonly types: readonly SqlType[];
  /** output column i is scan column `pick[i]` (null: the scan's columns as they are) */
  readonly pick: readonly number[] | null;
}

const shapes = new WeakMap<Plan, PointLookup | null>();

/** The point lookup `plan` is, or undefined (then run it through the operators). */
export function pointLookupOf(plan: Plan): PointLookup | undefined {
  const hit = shapes.get(plan);
  if (hit !== undefined) return hit ?? undefined;
  const found = recognize(plan);
  shapes.set(plan, found ?? null);
  return found;
}

function recognize(plan: Plan): PointLookup | undefined {
  let scan: IndexScanPlan;
  let pick: number[] | null = null;
  if (plan.k === 'indexScan') scan = plan;
  else if (plan.k === 'project' && plan.input.k === 'indexScan' && plan.exprs.every((e) => e.k === 'col')) {
    scan = plan.input;
    pick = plan.exprs.map((e) => (e as Extract<BExpr, { k: 'col' }>).i);
  } else return undefined;
  const a = scan.access;
  if (scan.rowIds === true || a.lo !== null || a.hi !== null || a.limit !== null || a.reverse) return undefined;
  if (a.eq.length === 0 || a.eq.length !== a.keyCols.length) return undefined;
  // exact key condition, nothing else to check (invariant 1)
  if (a.residual !== null && !(a.residual === undefined && scan.filter === null)) return undefined;
  const keys: PointLookup['keys'][number][] = [];
  for (const alts of a.eq) {
    if (alts.length !== 1) return undefined;
    const e = alts[0]!;
    if (e.k !== 'param' && e.k !== 'const') return undefined;
    keys.push(e);
  }
  const table = scan.table;
  const types = scan.cols.map((c) => table.def.columns[c]!.type);
  return { scan, keys, types, pick };
}

/** Key values, reused (a lookup is synchronous: nobody else uses them in between). */
const keyScratch: unknown[] = [];

/**
 * The rows of point lookup `pl` (as `execPlan` gives them), or undefined when the table cannot
 * answer synchronously. Errors (a missing parameter, a value that does not convert) are thrown as
 * the operators throw them.
 */
export function runPointLookup(pl: PointLookup, ctx: { readonly catalog: Catalog; readonly params: readonly unknown[] }): Rel | undefined {
  const scan = pl.scan;
  const table = ctx.catalog.getTable(scan.name) ?? scan.table;
  if (table.lookupKey === undefined) return undefined;
  const a = scan.access;
  const n = pl.keys.length;
  let none = false;
  keyScratch.length = n;
  for (let k = 0; k < n; k++) {
    const e = pl.keys[k]!;
    let v: unknown;
    if (e.k === 'const') v = e.v;
    else {
      if (e.n > ctx.params.length) throw new DbError(SqlState.UndefinedParameter, `there is no parameter $${e.n}`);
      v = fromJsValue(ctx.params[e.n - 1], e.t);
    }
    const kv = keyValue(v, e.t, a.keyTypes[k]!); // NULL or a lossy cast: no row has that key
    if (kv === undefined) none = true;
    keyScratch[k] = kv;
  }
  const types = pl.types;
  let cols: unknown[][] | undefined;
  if (none) cols = types.map(() => []);
  else {
    cols = table.lookupKey(a.index, keyScratch, scan.cols);
    if (cols === undefined) return undefined;
    for (let c = 0; c < cols.length; c++) toExecValues(cols[c]!, types[c]!);
  }
  const rows = cols.length > 0 ? cols[0]!.length : 0;
  const pick = pl.pick;
  if (pick === null) return { n: rows, cols };
  const out = new Array<unknown[]>(pick.length);
  for (let i = 0; i < pick.length; i++) out[i] = cols[pick[i]!]!;
  return { n: rows, cols: out };
}

/** Vector representation → executor representation, in place (as `vectorToValues`, value by value). */
function toExecValues(vals: unknown[], t: SqlType): void {
  switch (t.id) {
    case 'BOOLEAN':
      for (let i = 0; i < vals.length; i++) if (vals[i] !== null) vals[i] = vals[i] !== 0 && vals[i] !== false;
      return;
    case 'NUMERIC':
      for (let i = 0; i < vals.length; i++) if (vals[i] !== null) vals[i] = Decimal.parse(String(vals[i]));
      return;
    case 'REAL':
      for (let i = 0; i < vals.length; i++) if (vals[i] !== null) vals[i] = Math.fround(vals[i] as number);
      return;
    default:
  }
}
