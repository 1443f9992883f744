/**
 * Vectorized expression evaluation: a bound expression over a `Rel` gives one column of values.
 * Operators run a tight loop per node over the whole batch; CASE, COALESCE, AND and OR evaluate
 * their later operands only on the rows that still need them (so `CASE WHEN x <> 0 THEN 1 / x END`
 * never divides by zero), as PostgreSQL's short-circuit evaluation does.
 *
 * Concurrency: evaluation is async only for subqueries (they run plans); correlation slots in
 * `ctx.corr` are set and read within one subquery evaluation without interleaving awaits of the
 * same statement.
 *
 * Invariants:
 *  1. The result has exactly `rel.n` entries, each in the representation of `e.t` or null.
 *  2. Column arrays returned for `col` expressions are the Rel's own: callers must not mutate.
 */
import { DbError, SqlState, T } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import type { BExpr, Plan } from '../plan/plan.js';
import type { Catalog } from '../catalog/catalog.js';
import { Decimal } from '../types/decimal.js';
import { INT32_MAX, INT32_MIN, castValue, checkInt64, compareValues, fromJsValue, keyOf, valueToText } from '../types/values.js';
import type { Interval } from '../types/values.js';
import { SCALAR_FUNCTIONS, likeRegex } from './functions.js';
import type { Rel } from './rel.js';
import type { SpillSpace } from './spill-space.js';
import { gatherColumn } from './rel.js';
import { colsOf } from '../plan/plan.js';

export interface OpStats { rows: number; ms: number; loops: number }

export interface ExecCtx {
  readonly catalog: Catalog;
  readonly params: readonly unknown[];
  readonly now: Date;
  readonly corr: Map<number, unknown>;
  readonly subqCache: Map<number, Map<unknown, unknown>>;
  readonly work: Map<number, Rel>;
  readonly settings: ReadonlyMap<string, string>;
  /** statement cancellation: scans stop between batches with the signal's reason */
  readonly signal?: AbortSignal;
  /** per-operator actuals for EXPLAIN ANALYZE */
  readonly stats?: Map<Plan, OpStats>;
  /** temporary files for operators over memory_limit (exec/spill-space.ts); absent = no spilling */
  readonly spill?: SpillSpace;
  /** runs a plan (set by the executor to avoid an import cycle) */
  run(plan: Plan, ctx: ExecCtx): Promise<Rel>;
}

function fill(n: number, v: unknown): unknown[] {
  const a = new Array<unknown>(n);
  for (let i = 0; i < n; i++) a[i] = v;
  return a;
}

const divZero = (): DbError => new DbError(SqlState.DivisionByZero, 'division by zero');
const oor = (what: string): DbError => new DbError(SqlState.NumericValueOutOfRange, `${what} out of range`);

const usedCols = new WeakMap<object, number[]>();

/** Rows `idx` of `rel`, copying only the columns `e` reads (the others are left empty). */
function gatherFor(e: BExpr, rel: Rel, idx: number[]): Rel {
  let used = usedCols.get(e);
  if (!used) { used = [...colsOf(e)]; usedCols.set(e, used); }
  const cols: unknown[][] = new Array(rel.cols.length);
  for (let c = 0; c < rel.cols.length; c++) cols[c] = EMPTY;
  for (const c of used) if (c < rel.cols.length) cols[c] = gatherColumn(rel.cols[c]!, idx);
  return { n: idx.length, cols };
}
const EMPTY: unknown[] = [];

/** Evaluate over a subset of rows and scatter back into `out`. */
async function evalSubset(e: BExpr, rel: Rel, idx: number[], ctx: ExecCtx, out: unknown[]): Promise<void> {
  if (idx.length === 0) return;
  if (idx.length === rel.n) {
    const v = await evalExpr(e, rel, ctx);
    for (let i = 0; i < rel.n; i++) out[i] = v[i];
    return;
  }
  const sub = gatherFor(e, rel, idx);
  const v = await evalExpr(e, sub, ctx);
  for (let j = 0; j < idx.length; j++) out[idx[j]!] = v[j];
}

export async function evalExpr(e: BExpr, rel: Rel, ctx: ExecCtx): Promise<unknown[]> {
  const n = rel.n;
  switch (e.k) {
    case 'const': {
      // numeric constants become typed columns so arithmetic stays on typed arrays
      if (typeof e.v === 'number') {
        const id = e.t.id;
        if (id === 'INTEGER' || id === 'SMALLINT' || id === 'DATE') return new Int32Array(n).fill(e.v) as unknown as unknown[];
        if (id === 'DOUBLE' || id === 'REAL' || id === 'TIMESTAMP') return new Float64Array(n).fill(e.v) as unknown as unknown[];
      }
      return fill(n, e.v);
    }
    case 'col': return rel.cols[e.i]!;
    case 'corr': return fill(n, ctx.corr.has(e.id) ? ctx.corr.get(e.id) : null);
    case 'param': {
      if (e.n > ctx.params.length) throw new DbError(SqlState.UndefinedParameter, `there is no parameter $${e.n}`);
      return fill(n, fromJsValue(ctx.params[e.n - 1], e.t));
    }
    case 'op': return evalOp(e, rel, ctx);
    case 'fn': return evalFn(e, rel, ctx);
    case 'case': {
      const out = fill(n, null);
      let pending: number[] = Array.from({ length: n }, (_x, i) => i);
      for (const w of e.whens) {
        if (pending.length === 0) break;
        const sub = pending.length === n ? rel : gatherFor(w.when, rel, pending);
        const c = await evalExpr(w.when, sub, ctx);
        const hit: number[] = [], miss: number[] = [];
        for (let j = 0; j < pending.length; j++) (c[j] === true ? hit : miss).push(pending[j]!);
        await evalSubset(w.then, rel, hit, ctx, out);
        pending = miss;
      }
      if (e.else && pending.length > 0) await evalSubset(e.else, rel, pending, ctx, out);
      return out;
    }
    case 'coalesce': {
      const out = fill(n, null);
      let pending: number[] = Array.from({ length: n }, (_x, i) => i);
      for (const a of e.args) {
        if (pending.length === 0) break;
        const sub = pending.length === n ? rel : gatherFor(a, rel, pending);
        const v = await evalExpr(a, sub, ctx);
        const still: number[] = [];
        for (let j = 0; j < pending.length; j++) {
          if (v[j] === null) still.push(pending[j]!); else out[pending[j]!] = v[j];
        }
        pending = still;
      }
      return out;
    }
    case 'cast': {
      const v = await evalExpr(e.arg, rel, ctx);
      const from = e.arg.t, to = e.t;
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = v[i] === null ? null : castValue(v[i], from, to);
      return out;
    }
    case 'isnull': {
      const v = await evalExpr(e.arg, rel, ctx);
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = (v[i] === null) !== e.neg;
      return out;
    }
    case 'in': return evalIn(e, rel, ctx);
    case 'subq': return evalSubq(e, rel, ctx);
    case 'agg': case 'win': case 'grouping':
      throw new DbError(SqlState.InternalError, `internal error (this is a bug): ${e.k} outside its operator`);
  }
}

const constSets = new WeakMap<object, { set: Set<unknown>; hasNull: boolean }>();

async function evalIn(e: Extract<BExpr, { k: 'in' }>, rel: Rel, ctx: ExecCtx): Promise<unknown[]> {
  const n = rel.n;
  const a = await evalExpr(e.arg, rel, ctx);
  const out = new Array<unknown>(n);
  if (e.list.length === 0) return fill(n, e.neg);
  if (e.list.every((x) => x.k === 'const')) {
    let cs = constSets.get(e);
    if (!cs) {
      const set = new Set<unknown>();
      let hasNull = false;
      for (const x of e.list) { const v = (x as { v: unknown }).v; if (v === null) hasNull = true; else set.add(keyOf(v)); }
      cs = { set, hasNull };
      constSets.set(e, cs);
    }
    for (let i = 0; i < n; i++) {
      const v = a[i];
      let r: boolean | null;
      if (v === null) r = null;
      else if (cs.set.has(keyOf(v))) r = true;
      else r = cs.hasNull ? null : false;
      out[i] = r === null ? null : r !== e.neg;
    }
    return out;
  }
  const lists = await Promise.all(e.list.map((x) => evalExpr(x, rel, ctx)));
  for (let i = 0; i < n; i++) {
    const v = a[i];
    let r: boolean | null = false;
    if (v === null) r = null;
    else {
      for (const l of lists) {
        const w = l[i];
        if (w === null) { r = null; continue; }
        if (compareValues(v, w) === 0) { r = true; break; }
      }
    }
    out[i] = r === null ? null : r !== e.neg;
  }
  return out;
}

interface SubResult { rows: Rel; set?: Set<unknown>; hasNull?: boolean }

async function runSub(e: Extract<BExpr, { k: 'subq' }>, key: unknown, vals: unknown[], ctx: ExecCtx): Promise<SubResult> {
  let cache = ctx.subqCache.get(e.uid);
  if (!cache) { cache = new Map(); ctx.subqCache.set(e.uid, cache); }
  const hit = cache.get(key) as SubResult | undefined;
  if (hit) return hit;
  e.params.forEach((p, j) => ctx.corr.set(p.id, vals[j]));
  const rows = await ctx.run(e.plan, ctx);
  const res: SubResult = { rows };
  if ((e.mode === 'any' || e.mode === 'all') && e.op === '=') {
    const set = new Set<unknown>();
    let hasNull = false;
    const c = rows.cols[0]!;
    for (let i = 0; i < rows.n; i++) { if (c[i] === null) hasNull = true; else set.add(keyOf(c[i])); }
    res.set = set; res.hasNull = hasNull;
  }
  if (cache.size > 100000) cache.clear();
  cache.set(key, res);
  return res;
}

function cmpOp(op: string, c: number): boolean {
  switch (op) {
    case '=': return c === 0;
    case '<>': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    default: return c >= 0;
  }
}

async function evalSubq(e: Extract<BExpr, { k: 'subq' }>, rel: Rel, ctx: ExecCtx): Promise<unknown[]> {
  const n = rel.n;
  const pvals = await Promise.all(e.params.map((p) => evalExpr(p.e, rel, ctx)));
  const arg = e.arg ? await evalExpr(e.arg, rel, ctx) : null;
  const out = new Array<unknown>(n);
  const saved = e.params.map((p) => (ctx.corr.has(p.id) ? ctx.corr.get(p.id) : undefined));
  try {
    for (let i = 0; i < n; i++) {
      const vals = pvals.map((p) => p[i]);
      const key = vals.length === 0 ? '' : vals.length === 1 ? keyOf(vals[0]) : vals.map((v) => String(keyOf(v))).join('\u0001');
      const r = await runSub(e, key, vals, ctx);
      switch (e.mode) {
        case 'exists': out[i] = r.rows.n > 0; break;
        case 'scalar':
          if (r.rows.n > 1) throw new DbError(SqlState.CardinalityViolation, 'more than one row returned by a subquery used as an expression');
          out[i] = r.rows.n === 0 ? null : r.rows.cols[0]![0];
          break;
        case 'any': case 'all': {
          const v = arg![i];
          const isAll = e.mode === 'all';
          if (r.rows.n === 0) { out[i] = isAll; break; }
          if (v === null) { out[i] = null; break; }
          if (r.set && !isAll) { out[i] = r.set.has(keyOf(v)) ? true : r.hasNull ? null : false; break; }
          let res: boolean | null = isAll;
          const c = r.rows.cols[0]!;
          for (let j = 0; j < r.rows.n; j++) {
            const w = c[j];
            if (w === null) { res = null; continue; }
            const m = cmpOp(e.op, compareValues(v, w));
            if (!isAll && m) { res = true; break; }
            if (isAll && !m) { res = false; break; }
          }
          out[i] = res;
          break;
        }
        case 'array': out[i] = r.rows.cols[0]!.slice(0, r.rows.n); break;
      }
    }
  } finally {
    e.params.forEach((p, j) => { if (saved[j] === undefined) ctx.corr.delete(p.id); else ctx.corr.set(p.id, saved[j]); });
  }
  return out;
}

async function evalFn(e: Extract<BExpr, { k: 'fn' }>, rel: Rel, ctx: ExecCtx): Promise<unknown[]> {
  const n = rel.n;
  const fn = SCALAR_FUNCTIONS[e.name];
  if (!fn) throw new DbError(SqlState.UndefinedFunction, `function ${e.name} does not exist`);
  const args = await Promise.all(e.args.map((a) => evalExpr(a, rel, ctx)));
  const out = new Array<unknown>(n);
  const fctx = { now: ctx.now, argTypes: e.args.map((a) => a.t), catalog: ctx.catalog };
  const strict = fn.strict !== false;
  const row = new Array<unknown>(args.length);
  for (let i = 0; i < n; i++) {
    let isNull = false;
    for (let j = 0; j < args.length; j++) { const v = args[j]![i]; row[j] = v; if (v === null) isNull = true; }
    out[i] = strict && isNull ? null : fn.impl(row.slice(), fctx);
  }
  return out;
}

function intOp(op: string, a: number, b: number): number {
  let r: number;
  switch (op) {
    case '+': r = a + b; break;
    case '-': r = a - b; break;
    case '*': r = a * b; break;
    case '/': if (b === 0) throw divZero(); r = Math.trunc(a / b); break;
    default: if (b === 0) throw divZero(); r = a % b; if (r === 0) r = 0; break;
  }
  if (r > INT32_MAX || r < INT32_MIN) throw oor('integer');
  return r;
}

function bigOp(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case '+': return checkInt64(a + b);
    case '-': return checkInt64(a - b);
    case '*': return checkInt64(a * b);
    case '/': if (b === 0n) throw divZero(); return checkInt64(a / b);
    default: if (b === 0n) throw divZero(); return a % b;
  }
}

function floatOp(op: string, a: number, b: number, real: boolean): number {
  let r: number;
  switch (op) {
    case '+': r = a + b; break;
    case '-': r = a - b; break;
    case '*': r = a * b; break;
    default: if (b === 0) throw divZero(); r = a / b; break;
  }
  if (!Number.isFinite(r) && Number.isFinite(a) && Number.isFinite(b)) throw oor('value');
  return real ? Math.fround(r) : r;
}

function decOp(op: string, a: Decimal, b: Decimal): Decimal {
  switch (op) {
    case '+': return a.add(b);
    case '-': return a.sub(b);
    case '*': return a.mul(b);
    case '/': return a.div(b);
    default: return a.mod(b);
  }
}

const US_DAY = 86400e6;
function addInterval(us: number, iv: Interval, sign: number): number {
  let r = us;
  if (iv.months) {
    const d = new Date(Math.floor(r / 1000));
    const day = d.getUTCDate();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() + sign * iv.months);
    const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    d.setUTCDate(Math.min(day, last));
    r = d.getTime() * 1000 + (r - Math.floor(r / 1000) * 1000);
  }
  return r + sign * (iv.days * US_DAY + iv.us);
}

function temporalOp(op: string, at: SqlType, bt: SqlType, a: unknown, b: unknown): unknown {
  if (at.id === 'DATE' && (bt.id === 'INTEGER' || bt.id === 'SMALLINT' || bt.id === 'BIGINT')) return (a as number) + (op === '-' ? -1 : 1) * Number(b);
  if (bt.id === 'DATE' && at.id !== 'DATE' && at.id !== 'INTERVAL') return (b as number) + Number(a);
  if (at.id === 'DATE' && bt.id === 'DATE') return (a as number) - (b as number);
  if ((at.id === 'DATE' || at.id === 'TIMESTAMP') && bt.id === 'INTERVAL') {
    const us = at.id === 'DATE' ? (a as number) * US_DAY : (a as number);
    return addInterval(us, b as Interval, op === '-' ? -1 : 1);
  }
  if (at.id === 'INTERVAL' && (bt.id === 'DATE' || bt.id === 'TIMESTAMP')) {
    const us = bt.id === 'DATE' ? (b as number) * US_DAY : (b as number);
    return addInterval(us, a as Interval, 1);
  }
  if (at.id === 'TIMESTAMP' && bt.id === 'TIMESTAMP') {
    const d = (a as number) - (b as number);
    const days = Math.trunc(d / US_DAY);
    return { months: 0, days, us: d - days * US_DAY };
  }
  if (at.id === 'INTERVAL' && bt.id === 'INTERVAL') {
    const x = a as Interval, y = b as Interval, s = op === '-' ? -1 : 1;
    return { months: x.months + s * y.months, days: x.days + s * y.days, us: x.us + s * y.us };
  }
  if (at.id === 'INTERVAL' || bt.id === 'INTERVAL') {
    const iv = (at.id === 'INTERVAL' ? a : b) as Interval;
    const f0 = at.id === 'INTERVAL' ? b : a;
    let f = f0 instanceof Decimal ? f0.toNumber() : Number(f0);
    if (op === '/') { if (f === 0) throw divZero(); f = 1 / f; }
    const months = iv.months * f, days = iv.days * f;
    const mi = Math.trunc(months), di = Math.trunc(days + (months - mi) * 30);
    return { months: mi, days: di, us: Math.round(iv.us * f + (days + (months - mi) * 30 - di) * US_DAY) };
  }
  throw new DbError(SqlState.UndefinedFunction, `operator does not exist: ${at.id} ${op} ${bt.id}`);
}

async function evalOp(e: Extract<BExpr, { k: 'op' }>, rel: Rel, ctx: ExecCtx): Promise<unknown[]> {
  const n = rel.n;
  const op = e.op;
  if (op === 'and' || op === 'or') {
    const isAnd = op === 'and';
    const out = await evalExpr(e.args[0]!, rel, ctx);
    const res = out.slice();
    for (let k = 1; k < e.args.length; k++) {
      const need: number[] = [];
      for (let i = 0; i < n; i++) if (res[i] !== (isAnd ? false : true)) need.push(i);
      if (need.length === 0) break;
      const vals = new Array<unknown>(n);
      await evalSubset(e.args[k]!, rel, need, ctx, vals);
      for (const i of need) {
        const a = res[i], b = vals[i];
        if (isAnd) res[i] = b === false ? false : a === null || b === null ? null : true;
        else res[i] = b === true ? true : a === null || b === null ? null : false;
      }
    }
    return res;
  }
  let pre: unknown[] | undefined, preAt = -1;
  if ((op === '+' || op === '-' || op === '*' || op === '/') && e.args.length === 2) {
    // column (op) numeric constant on a NULL-free typed column: a scalar kernel, no filled column
    const x = e.args[0]!, y = e.args[1]!;
    const t = e.t.id;
    if (x.t.id === t && y.t.id === t && (t === 'DOUBLE' || t === 'REAL' || t === 'INTEGER' || t === 'SMALLINT')
      && ((x.k === 'const') !== (y.k === 'const'))) {
      const c = x.k === 'const' ? x.v : (y as { v?: unknown }).v;
      if (typeof c === 'number') {
        const v = await evalExpr(x.k === 'const' ? y : x, rel, ctx);
        if (!Array.isArray(v)) {
          const r = scalarArith(op, t, v as unknown as ArrayLike<number>, c, x.k === 'const', n);
          if (r) return r;
        }
        pre = v; preAt = x.k === 'const' ? 1 : 0;
      }
    }
  }
  const args = [];
  // (an operand evaluated above is not evaluated again: it may have side effects)
  for (let k = 0; k < e.args.length; k++) args.push(k === preAt ? pre! : await evalExpr(e.args[k]!, rel, ctx));
  const a = args[0]!, b = args[1]!;
  if ((op === '+' || op === '-' || op === '*' || op === '/') && !Array.isArray(a) && !Array.isArray(b) && e.args.length === 2) {
    // NULL-free typed columns: typed kernels (checked before allocating a boxed output)
    const t = e.t.id, at = e.args[0]!.t.id, bt = e.args[1]!.t.id;
    if (at === t && bt === t && (t === 'DOUBLE' || t === 'REAL' || t === 'INTEGER' || t === 'SMALLINT')) {
      const typed = typedArith(op, t, a as unknown as ArrayLike<number>, b as unknown as ArrayLike<number>, n);
      if (typed) return typed;
    }
  }
  const out = new Array<unknown>(n);
  switch (op) {
    case 'not': for (let i = 0; i < n; i++) out[i] = a[i] === null ? null : !a[i]; return out;
    case 'istrue': for (let i = 0; i < n; i++) out[i] = a[i] === true; return out;
    case 'isnottrue': for (let i = 0; i < n; i++) out[i] = a[i] !== true; return out;
    case 'isfalse': for (let i = 0; i < n; i++) out[i] = a[i] === false; return out;
    case 'isnotfalse': for (let i = 0; i < n; i++) out[i] = a[i] !== false; return out;
    case 'isunknown': for (let i = 0; i < n; i++) out[i] = a[i] === null; return out;
    case 'isnotunknown': for (let i = 0; i < n; i++) out[i] = a[i] !== null; return out;
    case 'neg': {
      const t = e.t.id;
      for (let i = 0; i < n; i++) {
        const v = a[i];
        if (v === null) { out[i] = null; continue; }
        if (t === 'INTEGER') { if (v === INT32_MIN) throw oor('integer'); out[i] = v === 0 ? 0 : -(v as number); }
        else if (t === 'BIGINT') out[i] = checkInt64(-(v as bigint));
        else if (t === 'NUMERIC') out[i] = (v as Decimal).neg();
        else if (t === 'INTERVAL') { const iv = v as Interval; out[i] = { months: -iv.months, days: -iv.days, us: -iv.us }; }
        else out[i] = -(v as number);
      }
      return out;
    }
    case '=': case '<>': case '<': case '<=': case '>': case '>=': {
      const tid = e.args[0]!.t.id;
      const generic = tid === 'NUMERIC' || tid === 'INTERVAL' || tid === 'NULL';
      if (!generic) {
        const x = a as number[], y = b as number[];
        if (!Array.isArray(a) && !Array.isArray(b)) {
          // NULL-free typed columns: one branch-free loop per operator
          switch (op) {
            case '=': for (let i = 0; i < n; i++) out[i] = x[i] === y[i]; break;
            case '<>': for (let i = 0; i < n; i++) out[i] = x[i] !== y[i]; break;
            case '<': for (let i = 0; i < n; i++) out[i] = x[i]! < y[i]!; break;
            case '<=': for (let i = 0; i < n; i++) out[i] = x[i]! <= y[i]!; break;
            case '>': for (let i = 0; i < n; i++) out[i] = x[i]! > y[i]!; break;
            default: for (let i = 0; i < n; i++) out[i] = x[i]! >= y[i]!;
          }
          return out;
        }
        switch (op) {
          case '=': for (let i = 0; i < n; i++) { const p = x[i], q = y[i]; out[i] = p === null || q === null ? null : p === q; } break;
          case '<>': for (let i = 0; i < n; i++) { const p = x[i], q = y[i]; out[i] = p === null || q === null ? null : p !== q; } break;
          case '<': for (let i = 0; i < n; i++) { const p = x[i], q = y[i]; out[i] = p === null || q === null ? null : p! < q!; } break;
          case '<=': for (let i = 0; i < n; i++) { const p = x[i], q = y[i]; out[i] = p === null || q === null ? null : p! <= q!; } break;
          case '>': for (let i = 0; i < n; i++) { const p = x[i], q = y[i]; out[i] = p === null || q === null ? null : p! > q!; } break;
          default: for (let i = 0; i < n; i++) { const p = x[i], q = y[i]; out[i] = p === null || q === null ? null : p! >= q!; }
        }
        return out;
      }
      for (let i = 0; i < n; i++) {
        const x = a[i], y = b[i];
        out[i] = x === null || y === null ? null : cmpOp(op, compareValues(x, y));
      }
      return out;
    }
    case 'distinct': case 'notdistinct': {
      for (let i = 0; i < n; i++) {
        const x = a[i], y = b[i];
        const same = x === null || y === null ? x === y : compareValues(x, y) === 0;
        out[i] = op === 'distinct' ? !same : same;
      }
      return out;
    }
    case 'like': case 'ilike': {
      const ci = op === 'ilike';
      for (let i = 0; i < n; i++) {
        const x = a[i], y = b[i];
        out[i] = x === null || y === null ? null : likeRegex(y as string, ci).test(x as string);
      }
      return out;
    }
    case '||': {
      const at = e.args[0]!.t, bt = e.args[1]!.t;
      for (let i = 0; i < n; i++) {
        const x = a[i], y = b[i];
        out[i] = x === null || y === null ? null : (typeof x === 'string' ? x : valueToText(x, at)) + (typeof y === 'string' ? y : valueToText(y, bt));
      }
      return out;
    }
  }
  // arithmetic
  const t = e.t.id;
  const at = e.args[0]!.t, bt = e.args[1]!.t;
  if (at.id !== t && !(t === 'DOUBLE' || t === 'REAL' || t === 'NUMERIC' || t === 'BIGINT' || t === 'INTEGER') || at.id === 'DATE' || at.id === 'TIMESTAMP' || at.id === 'INTERVAL' || bt.id === 'INTERVAL' || bt.id === 'DATE') {
    for (let i = 0; i < n; i++) out[i] = a[i] === null || b[i] === null ? null : temporalOp(op, at, bt, a[i], b[i]);
    return out;
  }
  if (!Array.isArray(a) && !Array.isArray(b)) {
    const typed = typedArith(op, t, a as unknown as ArrayLike<number>, b as unknown as ArrayLike<number>, n);
    if (typed) return typed;
  }
  switch (t) {
    case 'INTEGER': case 'SMALLINT':
      for (let i = 0; i < n; i++) { const x = a[i], y = b[i]; out[i] = x === null || y === null ? null : intOp(op, x as number, y as number); }
      return out;
    case 'BIGINT':
      for (let i = 0; i < n; i++) { const x = a[i], y = b[i]; out[i] = x === null || y === null ? null : bigOp(op, x as bigint, y as bigint); }
      return out;
    case 'DOUBLE': case 'REAL': {
      const real = t === 'REAL';
      for (let i = 0; i < n; i++) { const x = a[i], y = b[i]; out[i] = x === null || y === null ? null : floatOp(op, x as number, y as number, real); }
      return out;
    }
    case 'NUMERIC':
      for (let i = 0; i < n; i++) { const x = a[i], y = b[i]; out[i] = x === null || y === null ? null : decOp(op, x as Decimal, y as Decimal); }
      return out;
  }
  throw new DbError(SqlState.UndefinedFunction, `operator ${op} is not supported for ${t}`);
}

const FLOAT_OPS: ReadonlySet<string> = new Set(['+', '-', '*', '/']);

/**
 * DOUBLE / REAL `x op y` (op one of + - * /) over NULL-free numeric columns, or a column and a
 * number on either side, into `out` (n values, returned): division by zero is 22012, a
 * non-finite result of finite operands 22003, REAL results are rounded to float4. The kernel of
 * typedArith and scalarArith, and of callers with a buffer of their own (stream-agg.ts).
 */
export function floatArith(op: string, real: boolean, x: ArrayLike<number> | number, y: ArrayLike<number> | number, n: number, out: Float64Array): Float64Array {
  if (typeof x !== 'number' && typeof y !== 'number') {
    const a = x, b = y;
    switch (op) {
      case '+': for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!; break;
      case '-': for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!; break;
      case '*': for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!; break;
      default: for (let i = 0; i < n; i++) { const d = b[i]!; if (d === 0) throw divZero(); out[i] = a[i]! / d; }
    }
  } else {
    const constLeft = typeof x === 'number';
    const v = (constLeft ? y : x) as ArrayLike<number>, c = (constLeft ? x : y) as number;
    switch (op) {
      case '+': for (let i = 0; i < n; i++) out[i] = v[i]! + c; break;
      case '*': for (let i = 0; i < n; i++) out[i] = v[i]! * c; break;
      case '-':
        if (constLeft) for (let i = 0; i < n; i++) out[i] = c - v[i]!;
        else for (let i = 0; i < n; i++) out[i] = v[i]! - c;
        break;
      default:
        if (constLeft) for (let i = 0; i < n; i++) { const d = v[i]!; if (d === 0) throw divZero(); out[i] = c / d; }
        else { if (c === 0 && n > 0) throw divZero(); for (let i = 0; i < n; i++) out[i] = v[i]! / c; }
    }
  }
  let bad = false;
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[i]!)) { bad = true; break; }
  if (bad) {
    const fin = (z: ArrayLike<number> | number, i: number): boolean => Number.isFinite(typeof z === 'number' ? z : z[i]!);
    for (let i = 0; i < n; i++) if (!Number.isFinite(out[i]!) && fin(x, i) && fin(y, i)) throw oor('value');
  }
  if (real) for (let i = 0; i < n; i++) out[i] = Math.fround(out[i]!);
  return out;
}

/** Arithmetic kernels over NULL-free typed columns (branch-light loops, typed output). */
function typedArith(op: string, t: string, a: ArrayLike<number>, b: ArrayLike<number>, n: number): unknown[] | undefined {
  if (t === 'DOUBLE' || t === 'REAL') {
    if (a instanceof BigInt64Array || b instanceof BigInt64Array || !FLOAT_OPS.has(op)) return undefined;
    return floatArith(op, t === 'REAL', a, b, n, new Float64Array(n)) as unknown as unknown[];
  }
  if ((t === 'INTEGER' || t === 'SMALLINT') && a instanceof Int32Array && b instanceof Int32Array) {
    const out = new Int32Array(n);
    let lo = 0, hi = 0;
    switch (op) {
      case '+': for (let i = 0; i < n; i++) { const r = a[i]! + b[i]!; out[i] = r; if (r < lo) lo = r; else if (r > hi) hi = r; } break;
      case '-': for (let i = 0; i < n; i++) { const r = a[i]! - b[i]!; out[i] = r; if (r < lo) lo = r; else if (r > hi) hi = r; } break;
      case '*': for (let i = 0; i < n; i++) { const r = a[i]! * b[i]!; out[i] = r; if (r < lo) lo = r; else if (r > hi) hi = r; } break;
      default: return undefined;
    }
    if (lo < INT32_MIN || hi > INT32_MAX) throw oor('integer');
    return out as unknown as unknown[];
  }
  return undefined;
}

/**
 * `v op c` (or `c op v` when `constLeft`) over a NULL-free typed column and a number: the same
 * results and errors as typedArith with a column full of c.
 */
function scalarArith(op: string, t: string, v: ArrayLike<number>, c: number, constLeft: boolean, n: number): unknown[] | undefined {
  if (t === 'DOUBLE' || t === 'REAL') {
    if (v instanceof BigInt64Array || !FLOAT_OPS.has(op)) return undefined;
    return floatArith(op, t === 'REAL', constLeft ? c : v, constLeft ? v : c, n, new Float64Array(n)) as unknown as unknown[];
  }
  if ((t === 'INTEGER' || t === 'SMALLINT') && v instanceof Int32Array) {
    const out = new Int32Array(n);
    let lo = 0, hi = 0;
    switch (op) {
      case '+': for (let i = 0; i < n; i++) { const r = v[i]! + c; out[i] = r; if (r < lo) lo = r; else if (r > hi) hi = r; } break;
      case '*': for (let i = 0; i < n; i++) { const r = v[i]! * c; out[i] = r; if (r < lo) lo = r; else if (r > hi) hi = r; } break;
      case '-':
        if (constLeft) for (let i = 0; i < n; i++) { const r = c - v[i]!; out[i] = r; if (r < lo) lo = r; else if (r > hi) hi = r; }
        else for (let i = 0; i < n; i++) { const r = v[i]! - c; out[i] = r; if (r < lo) lo = r; else if (r > hi) hi = r; }
        break;
      default: return undefined;
    }
    if (lo < INT32_MIN || hi > INT32_MAX) throw oor('integer');
    return out as unknown as unknown[];
  }
  return undefined;
}

/** Evaluate a predicate and return the indexes of rows where it is true. */
export async function evalMask(e: BExpr, rel: Rel, ctx: ExecCtx): Promise<unknown[]> {
  return evalExpr(e, rel, ctx);
}

export { T };
