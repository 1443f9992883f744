/**
 * Streaming hash aggregation: the input arrives batch by batch (a scan's batches, filtered and
 * projected on the way), each batch's rows get group ids from one `GroupTable`, and every
 * aggregate folds the batch into per-group state. Nothing of the input is kept.
 *
 * count / sum / avg / min / max over INTEGER, SMALLINT, REAL, DOUBLE (min / max also DATE) keep
 * their state in growable typed arrays and run one tight loop per aggregate and batch; other
 * aggregates (and DISTINCT) use the generic accumulators of aggregate.ts with the same group ids.
 * Ordered aggregates and grouping sets need all rows at once: `canStreamAgg` says no, and the
 * caller runs the materializing path.
 *
 * A batch comes with a selection (the scan's filter). When most rows are selected, the
 * expressions run on the whole batch and unselected rows fold into a throwaway group slot
 * (no copy of the batch); an error there (it may be a row the filter drops) makes the batch
 * run again on its selected rows only. sum(x) and avg(x) of one x share their state, and equal
 * arithmetic subexpressions of the arguments are computed once per batch. Over few groups, the
 * DOUBLE sums of a batch are folded together, up to four per pass (`fusedSums`); when few rows
 * are selected, only the columns the aggregation reads are gathered.
 *
 * Invariants:
 *  1. Rows are folded in input order, so floating-point sums equal those of one pass over the
 *     concatenated input, and groups come out in order of first appearance.
 *  2. Integer sums are exact: the double accumulator is moved into a bigint part before it can
 *     exceed 2^53 (a batch adds at most 2^31 per row).
 *  3. NULL inputs are skipped (count(*) counts rows); a group without input gets the SQL result
 *     over the empty set.
 */
import type { BExpr, Plan } from '../plan/plan.js';
import { colsOf } from '../plan/plan.js';
import { Decimal } from '../types/decimal.js';
import { keyOf } from '../types/values.js';
import { makeAccumulator } from './aggregate.js';
import type { Accumulator } from './aggregate.js';
import { evalExpr, floatArith } from './eval.js';
import type { ExecCtx } from './eval.js';
import { GroupTable } from './group-table.js';
import { aggStateCharger } from './memory.js';
import type { Rel } from './rel.js';
import { gatherRel } from './batches.js';
import { give, takeF64, takeU8 } from './recycle.js';
import { fusedArith } from './fused-arith.js';

type AggPlan = Extract<Plan, { k: 'agg' }>;
type AggSpec = AggPlan['aggs'][number];

/** Can this aggregation fold its input one batch at a time? */
export function canStreamAgg(plan: AggPlan): boolean {
  return plan.sets === null && plan.aggs.every((a) => a.order.length === 0);
}

interface AggState {
  /**
   * fold rows 0..n-1 of a batch: `gid` holds group id + 1 per row (0: not selected, folded into
   * the throwaway slot 0), argument columns, FILTER column or null; ng groups exist; `rows()`
   * gives the batch's row count per slot (computed once per batch; null when groups are many)
   */
  add(gid: Int32Array, n: number, args: readonly unknown[][], filt: readonly unknown[] | null, ng: number, rows: () => Float64Array | null): void;
  result(ng: number): unknown[];
  /** give large arrays back to the recycler (recycle.ts) once `result` was taken; the state is done */
  release?(): void;
}

/** `a`, or a larger copy (doubling) holding `need` slots; the old array goes back to the recycler. */
function grow(a: Float64Array<ArrayBuffer>, need: number): Float64Array<ArrayBuffer> {
  if (a.length >= need) return a;
  const b = takeF64(Math.max(need, a.length * 2, 16));
  b.set(a);
  give(a);
  return b;
}

class CountState implements AggState {
  cnt = new Float64Array(16);
  constructor(private readonly star: boolean) {}
  add(gid: Int32Array, n: number, args: readonly unknown[][], filt: readonly unknown[] | null, ng: number, rows: () => Float64Array | null): void {
    const cnt = this.cnt = grow(this.cnt, ng + 1);
    const v = this.star ? null : args[0]!;
    if (v === null || !Array.isArray(v)) {
      const h = filt === null ? rows() : null;
      if (h !== null) { for (let g = 0; g <= ng; g++) cnt[g] += h[g]!; }
      else if (filt === null) for (let i = 0; i < n; i++) cnt[gid[i]!]!++;
      else for (let i = 0; i < n; i++) { if (filt[i] === true) cnt[gid[i]!]!++; }
    } else if (filt === null) {
      for (let i = 0; i < n; i++) if (v[i] !== null) cnt[gid[i]!]!++;
    } else {
      for (let i = 0; i < n; i++) if (v[i] !== null && filt[i] === true) cnt[gid[i]!]!++;
    }
  }
  result(ng: number): unknown[] {
    const out = new Array<unknown>(ng);
    for (let g = 0; g < ng; g++) out[g] = BigInt(this.cnt[g + 1] ?? 0);
    return out;
  }
  release(): void { give(this.cnt); }
}

const SPILL_AT = 2 ** 52;

class SumState implements AggState {
  sum = new Float64Array(16);
  cnt = new Float64Array(16);
  /** integer sums: the part moved out of `sum` (invariant 2) */
  big: bigint[] | null;
  private bound = 0;
  constructor(private readonly avg: boolean, private readonly argType: string) {
    this.big = argType === 'INTEGER' || argType === 'SMALLINT' ? [] : null;
  }
  add(gid: Int32Array, n: number, args: readonly unknown[][], filt: readonly unknown[] | null, ng: number, rows: () => Float64Array | null): void {
    const sum = this.sum = grow(this.sum, ng + 1);
    const cnt = this.cnt = grow(this.cnt, ng + 1);
    const col = args[0]!;
    if (!Array.isArray(col) && filt === null) {
      const v = col as unknown as Float64Array;
      const h = rows();
      if (h !== null) {
        for (let i = 0; i < n; i++) sum[gid[i]!] += v[i]!;
        for (let g = 0; g <= ng; g++) cnt[g] += h[g]!;
      } else for (let i = 0; i < n; i++) { const g = gid[i]!; sum[g] += v[i]!; cnt[g]!++; }
    } else if (!Array.isArray(col)) {
      const v = col as unknown as Float64Array;
      for (let i = 0; i < n; i++) { if (filt![i] !== true) continue; const g = gid[i]!; sum[g] += v[i]!; cnt[g]!++; }
    } else {
      for (let i = 0; i < n; i++) {
        const x = col[i];
        if (x === null || (filt !== null && filt[i] !== true)) continue;
        const g = gid[i]!;
        sum[g] += x as number; cnt[g]!++;
      }
    }
    if (this.big !== null) {
      this.bound += n * 2 ** 31;
      if (this.bound >= SPILL_AT) {
        const big = this.big;
        for (let g = 0; g <= ng; g++) {
          if (sum[g] === 0) continue;
          big[g] = (big[g] ?? 0n) + BigInt(sum[g]!);
          sum[g] = 0;
        }
        this.bound = 0;
      }
    }
  }
  /**
   * May `fusedSums` fold this state's argument `col` (a DOUBLE / REAL column without NULLs, no
   * FILTER, no integer spill to track)? Then `fusedArrays` grows the state and gives its sums.
   */
  fusable(col: unknown, filt: unknown): col is Float64Array {
    return this.big === null && filt === null && col instanceof Float64Array;
  }
  /** The sum array, grown for ng groups, after adding the batch's rows per group `h` to the counts. */
  fusedArrays(ng: number, h: Float64Array): Float64Array {
    const sum = this.sum = grow(this.sum, ng + 1);
    const cnt = this.cnt = grow(this.cnt, ng + 1);
    for (let g = 0; g <= ng; g++) cnt[g] += h[g]!;
    return sum;
  }
  result(ng: number): unknown[] { return this.resultAs(ng, this.avg); }
  /** sum (avg = false) or avg of the values folded */
  resultAs(ng: number, avg: boolean): unknown[] {
    const isInt = this.big !== null;
    if (!isInt) {
      // REAL / DOUBLE: a typed column when every group had input (no NULL results)
      const sum = this.sum, cnt = this.cnt, real = this.argType === 'REAL';
      const t = new Float64Array(ng);
      let g = 0;
      for (; g < ng; g++) {
        const c = cnt[g + 1] ?? 0;
        if (c === 0) break;
        const s = sum[g + 1]!;
        t[g] = avg ? s / c : real ? Math.fround(s) : s;
      }
      if (g === ng) return t as unknown as unknown[];
    }
    const out = new Array<unknown>(ng);
    for (let g = 0; g < ng; g++) {
      const c = this.cnt[g + 1] ?? 0;
      if (c === 0) { out[g] = null; continue; }
      const s = this.sum[g + 1]!;
      if (isInt) {
        const tot = BigInt(s) + (this.big![g + 1] ?? 0n);
        out[g] = avg ? Decimal.fromInt(tot).div(Decimal.fromInt(c)) : tot;
      } else if (avg) out[g] = s / c;
      else out[g] = this.argType === 'REAL' ? Math.fround(s) : s;
    }
    return out;
  }
  release(): void { give(this.sum); give(this.cnt); }
}

/**
 * sums[k][gid[i]] += cols[k][i] for every k and row i < n, up to four sums per pass over the
 * rows: each sum still adds its rows in input order (invariant 1), and the sums of one row are
 * independent, so they overlap instead of waiting on one another as one loop per sum does.
 */
function fusedSums(gid: Int32Array, n: number, cols: readonly Float64Array[], sums: readonly Float64Array[]): void {
  let k = 0;
  for (; k + 4 <= cols.length; k += 4) {
    const v0 = cols[k]!, v1 = cols[k + 1]!, v2 = cols[k + 2]!, v3 = cols[k + 3]!;
    const s0 = sums[k]!, s1 = sums[k + 1]!, s2 = sums[k + 2]!, s3 = sums[k + 3]!;
    for (let i = 0; i < n; i++) { const g = gid[i]!; s0[g] += v0[i]!; s1[g] += v1[i]!; s2[g] += v2[i]!; s3[g] += v3[i]!; }
  }
  const left = cols.length - k;
  if (left === 3) {
    const v0 = cols[k]!, v1 = cols[k + 1]!, v2 = cols[k + 2]!, s0 = sums[k]!, s1 = sums[k + 1]!, s2 = sums[k + 2]!;
    for (let i = 0; i < n; i++) { const g = gid[i]!; s0[g] += v0[i]!; s1[g] += v1[i]!; s2[g] += v2[i]!; }
  } else if (left === 2) {
    const v0 = cols[k]!, v1 = cols[k + 1]!, s0 = sums[k]!, s1 = sums[k + 1]!;
    for (let i = 0; i < n; i++) { const g = gid[i]!; s0[g] += v0[i]!; s1[g] += v1[i]!; }
  } else if (left === 1) {
    const v0 = cols[k]!, s0 = sums[k]!;
    for (let i = 0; i < n; i++) s0[gid[i]!] += v0[i]!;
  }
}

/** sum / avg of the same argument as another aggregate's SumState: reads that state */
class SharedSum implements AggState {
  constructor(private readonly src: SumState, private readonly avg: boolean) {}
  add(): void { /* folded by src */ }
  result(ng: number): unknown[] { return this.src.resultAs(ng, this.avg); }
}

class MinMaxState implements AggState {
  best = new Float64Array(16);
  /** 0: no input; 1: a non-NaN value seen; 2: only NaN seen so far (bit 4: NaN seen) */
  seen = new Uint8Array(16);
  constructor(private readonly isMin: boolean) {}
  add(gid: Int32Array, n: number, args: readonly unknown[][], filt: readonly unknown[] | null, ng: number): void {
    const best = this.best = grow(this.best, ng + 1);
    if (this.seen.length < best.length) { const s = takeU8(best.length); s.set(this.seen); give(this.seen); this.seen = s; }
    const seen = this.seen;
    const col = args[0]!;
    const isMin = this.isMin;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (v === null || (filt !== null && filt[i] !== true)) continue;
      const x = v as number, g = gid[i]!;
      if (x !== x) { seen[g] = seen[g]! | 4; continue; }
      if ((seen[g]! & 1) === 0) { seen[g] = seen[g]! | 1; best[g] = x; } else if (isMin ? x < best[g]! : x > best[g]!) best[g] = x;
    }
  }
  result(ng: number): unknown[] {
    const out = new Array<unknown>(ng);
    for (let g = 0; g < ng; g++) {
      const s = this.seen[g + 1] ?? 0;
      // NaN sorts above every number (PostgreSQL)
      if (s === 0) out[g] = null;
      else if ((s & 4) !== 0 && (!this.isMin || (s & 1) === 0)) out[g] = NaN;
      else out[g] = this.best[g + 1]!;
    }
    return out;
  }
  release(): void { give(this.best); give(this.seen); }
}

class GenericState implements AggState {
  private readonly acc: Accumulator;
  private readonly seen: Set<string> | null;
  constructor(private readonly a: AggSpec) {
    this.acc = makeAccumulator(a.name, a.args[0]?.t, a.t, a.star);
    this.seen = a.distinct ? new Set<string>() : null;
  }
  add(gid: Int32Array, n: number, args: readonly unknown[][], filt: readonly unknown[] | null): void {
    const a = this.a, acc = this.acc, seen = this.seen;
    const vcol = args[0];
    const isStrAgg = a.name === 'string_agg';
    for (let i = 0; i < n; i++) {
      if (filt !== null && filt[i] !== true) continue;
      const g = gid[i]!;
      if (g === 0) continue;
      if (a.star) { acc.add(g, 1); continue; }
      const v = vcol ? vcol[i] : null;
      if (v === null) continue;
      if (seen) {
        const k = g + '\u0002' + String(keyOf(v));
        if (seen.has(k)) continue;
        seen.add(k);
      }
      acc.add(g, v, isStrAgg ? args[1]?.[i] : undefined);
    }
  }
  result(ng: number): unknown[] {
    const out = new Array<unknown>(ng);
    for (let g = 0; g < ng; g++) out[g] = this.acc.result(g + 1);
    return out;
  }
}

function stateFor(a: AggSpec): AggState {
  if (!a.distinct) {
    if (a.name === 'count' && (a.star || a.args.length === 1)) return new CountState(a.star);
    const t = a.args[0]?.t.id;
    if (a.args.length === 1 && (t === 'INTEGER' || t === 'SMALLINT' || t === 'DOUBLE' || t === 'REAL')) {
      if (a.name === 'sum' || a.name === 'avg') return new SumState(a.name === 'avg', t);
      if (a.name === 'min' || a.name === 'max') return new MinMaxState(a.name === 'min');
    }
    if (a.args.length === 1 && t === 'DATE' && (a.name === 'min' || a.name === 'max')) return new MinMaxState(a.name === 'min');
  }
  return new GenericState(a);
}

/** A batch whose rows are `sel[0..m)` of `rel` (all n rows when `sel` is null). */
export interface SelBatch { readonly rel: Rel; readonly sel: Int32Array | null; readonly m: number }

/** May `e` be evaluated on rows outside the selection (no side effects; errors are retried)? */
function wideSafe(e: BExpr): boolean {
  switch (e.k) {
    case 'col': case 'const': case 'param': return true;
    case 'op': case 'coalesce': return e.args.every(wideSafe);
    case 'cast': case 'isnull': return wideSafe(e.arg);
    case 'in': return wideSafe(e.arg) && e.list.every(wideSafe);
    case 'case': return e.whens.every((w) => wideSafe(w.when) && wideSafe(w.then)) && (e.else === null || wideSafe(e.else));
    default: return false;
  }
}

const cseKeys = new WeakMap<BExpr, string | null>();

/**
 * A structural key for arithmetic (+ - * /) over columns and numeric constants, so that equal
 * subexpressions of a batch's aggregate arguments are computed once; null for anything else.
 */
function cseKey(e: BExpr): string | null {
  let k = cseKeys.get(e);
  if (k !== undefined) return k;
  k = null;
  if (e.k === 'col') k = `c${e.i}:${e.t.id}`;
  else if (e.k === 'const' && typeof e.v === 'number' && !Object.is(e.v, -0)) k = `k${e.v}:${e.t.id}`;
  else if (e.k === 'op' && e.args.length === 2 && (e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/')) {
    const a = cseKey(e.args[0]!), b = cseKey(e.args[1]!);
    if (a !== null && b !== null) k = `(${a}${e.op}${b}):${e.t.id}`;
  }
  cseKeys.set(e, k);
  return k;
}

/** `e` as an operation over precomputed operand columns (constants stay constants). */
const synthetic = new WeakMap<BExpr, BExpr>();
function operandsAsColumns(e: Extract<BExpr, { k: 'op' }>): BExpr {
  let s = synthetic.get(e);
  if (!s) {
    let i = 0;
    s = { ...e, args: e.args.map((a): BExpr => (a.k === 'const' ? a : { k: 'col', t: a.t, i: i++ })) };
    synthetic.set(e, s);
  }
  return s;
}

/**
 * Float64Arrays reused batch after batch for the results of DOUBLE arithmetic in aggregate
 * arguments (the batch's columns are read by the fold and dropped): `at` resets per batch.
 */
class Scratch {
  private bufs: Float64Array[] = [];
  private at = 0;
  reset(): void { this.at = 0; }
  take(n: number): Float64Array {
    let b = this.bufs[this.at];
    if (b === undefined || b.length < n) b = this.bufs[this.at] = new Float64Array(Math.max(n, b ? b.length : 0));
    this.at++;
    return b.length === n ? b : b.subarray(0, n);
  }
}

/**
 * DOUBLE `x op y` (+ - *) of Float64Array / number operands (at least one array) into a scratch
 * buffer, by eval.ts's kernel (floatArith: its results and errors); undefined for anything else
 * (evalExpr runs it).
 */
function doubleArith(op: string, x: unknown, y: unknown, n: number, scratch: Scratch): Float64Array | undefined {
  const xa = x instanceof Float64Array, ya = y instanceof Float64Array;
  if (!(xa || typeof x === 'number') || !(ya || typeof y === 'number') || (!xa && !ya) || (op !== '+' && op !== '-' && op !== '*')) return undefined;
  return floatArith(op, false, x as Float64Array | number, y as Float64Array | number, n, scratch.take(n));
}

/**
 * evalExpr, sharing the columns of equal arithmetic subexpressions within one batch (`memo`);
 * DOUBLE + - * go to scratch buffers (doubleArith).
 */
async function evalShared(e: BExpr, rel: Rel, ctx: ExecCtx, memo: Map<string, unknown[]>, scratch: Scratch): Promise<unknown[]> {
  const k = cseKey(e);
  if (k === null || e.k !== 'op') return evalExpr(e, rel, ctx);
  const hit = memo.get(k);
  if (hit) return hit;
  // a DOUBLE + - * tree in one loop (fused-arith.ts) when its operands are NULL-free DOUBLE
  // columns; a non-finite result falls through to the operators one by one (their errors)
  const fused = fusedArith(e);
  if (fused !== null) {
    const leaves: Float64Array[] = [];
    for (const l of fused.leaves) {
      const v = await evalShared(l, rel, ctx, memo, scratch);
      if (!(v instanceof Float64Array)) break;
      leaves.push(v);
    }
    if (leaves.length === fused.leaves.length) {
      const out = scratch.take(rel.n);
      if (fused.run(out, rel.n, leaves)) { memo.set(k, out as unknown as unknown[]); return out as unknown as unknown[]; }
    }
  }
  const cols: unknown[][] = [];
  for (const a of e.args) if (a.k !== 'const') cols.push(await evalShared(a, rel, ctx, memo, scratch));
  let v: unknown[] | undefined;
  if (e.t.id === 'DOUBLE' && e.args.length === 2 && e.args.every((a) => a.t.id === 'DOUBLE')) {
    const [a, b] = e.args as [BExpr, BExpr];
    const x = a.k === 'const' ? a.v : cols[0];
    const y = b.k === 'const' ? b.v : cols[a.k === 'const' ? 0 : 1];
    v = doubleArith(e.op, x, y, rel.n, scratch) as unknown as unknown[] | undefined;
  }
  v ??= await evalExpr(operandsAsColumns(e), { n: rel.n, cols }, ctx);
  memo.set(k, v);
  return v;
}

const usedCache = new WeakMap<AggPlan, boolean[]>();
/** The input columns the aggregation reads (the others need not be gathered). */
function usedCols(plan: AggPlan): boolean[] {
  let u = usedCache.get(plan);
  if (u === undefined) {
    const set = new Set<number>();
    for (const e of plan.groups) colsOf(e, set);
    for (const a of plan.aggs) { for (const e of a.args) colsOf(e, set); if (a.filter) colsOf(a.filter, set); }
    u = [];
    for (const c of set) u[c] = true;
    usedCache.set(plan, u);
  }
  return u;
}

const wideCache = new WeakMap<AggPlan, boolean>();
function wideOk(plan: AggPlan): boolean {
  let ok = wideCache.get(plan);
  if (ok === undefined) {
    ok = plan.groups.every(wideSafe) && plan.aggs.every((a) => a.args.every(wideSafe) && (a.filter === null || wideSafe(a.filter)));
    wideCache.set(plan, ok);
  }
  return ok;
}

/**
 * Aggregate `plan` over the batches `input` yields (the agg's input rows, with a selection).
 * The output has the group columns, then one column per aggregate.
 */
export async function streamAgg(plan: AggPlan, input: AsyncIterable<SelBatch>, ctx: ExecCtx): Promise<Rel> {
  const groups = new GroupTable(plan.groups.length, plan.est);
  // sum(x) and avg(x) of the same x (without FILTER) share one sum and count (TPC-H Q1 has both)
  const sums = new Map<string, SumState>();
  const states = plan.aggs.map((a): AggState => {
    const st = stateFor(a);
    const key = st instanceof SumState && a.filter === null ? cseKey(a.args[0]!) : null;
    if (key === null) return st;
    const prev = sums.get(key);
    if (prev) return new SharedSum(prev, a.name === 'avg');
    sums.set(key, st as SumState);
    return st;
  });
  const sumCount = states.filter((st) => st instanceof SumState).length;
  const chargeState = aggStateCharger(ctx, plan.groups.length, plan.aggs);
  let gid = new Int32Array(0);
  const scratch = new Scratch();
  /** fold one batch; `sel` rows only (the expressions are evaluated on all n rows) */
  const fold = async (rel: Rel, sel: Int32Array | null, m: number): Promise<void> => {
    const n = rel.n;
    const memo = new Map<string, unknown[]>();
    scratch.reset();
    const gcols: unknown[][] = [];
    for (const e of plan.groups) gcols.push(await evalShared(e, rel, ctx, memo, scratch));
    const args: unknown[][][] = [];
    const filts: (unknown[] | null)[] = [];
    for (const a of plan.aggs) {
      const ac: unknown[][] = [];
      for (const e of a.args) ac.push(await evalShared(e, rel, ctx, memo, scratch));
      args.push(ac);
      filts.push(a.filter ? await evalExpr(a.filter, rel, ctx) : null);
    }
    if (gid.length < n) gid = new Int32Array(n);
    groups.assign(gcols, n, gid, sel, m);
    const ng = groups.count;
    chargeState(ng, m); // memory_limit: 53200 naming the hash aggregate (exec/memory.ts)
    let hist: Float64Array | null = null;
    // rows per group of this batch, shared by the count / sum states; only when the groups are
    // few next to the rows (else per-group work each batch would outweigh the per-row counts)
    const few = (ng + 1) * 4 <= n;
    const rows = (): Float64Array | null => {
      if (!few) return null;
      if (hist === null) { hist = new Float64Array(ng + 1); for (let i = 0; i < n; i++) hist[gid[i]!]!++; }
      return hist;
    };
    // DOUBLE sums over few groups: one pass for all of them (fusedSums)
    let fused: boolean[] | null = null;
    if (few && sumCount >= 2) {
      const fcols: Float64Array[] = [], fstates: SumState[] = [];
      for (let ai = 0; ai < states.length; ai++) {
        const st = states[ai]!, col = args[ai]![0];
        if (st instanceof SumState && st.fusable(col, filts[ai])) { fcols.push(col); fstates.push(st); (fused ??= [])[ai] = true; }
      }
      if (fcols.length >= 2) {
        const h = rows()!;
        fusedSums(gid, n, fcols, fstates.map((st) => st.fusedArrays(ng, h)));
      } else fused = null;
    }
    for (let ai = 0; ai < plan.aggs.length; ai++) if (fused === null || fused[ai] !== true) states[ai]!.add(gid, n, args[ai]!, filts[ai]!, ng, rows);
  };
  for await (const b of input) {
    if (b.m === 0) continue;
    if (b.sel === null) { await fold(b.rel, null, b.m); continue; }
    // most rows kept: evaluate on the whole batch and fold the selected rows, rather than copy
    if (b.m * 2 >= b.rel.n && wideOk(plan)) {
      let ok = true;
      try { await fold(b.rel, b.sel, b.m); } catch { ok = false; }
      // an error on a row outside the selection must not surface: redo on the selected rows only
      // (nothing was folded: folding starts after every expression is evaluated)
      if (ok) continue;
    }
    await fold(gatherRel(b.rel, b.sel, b.m, usedCols(plan)), null, b.m);
  }
  const ng = plan.groups.length === 0 ? 1 : groups.count;
  const cols: unknown[][] = [];
  for (let c = 0; c < plan.groups.length; c++) cols.push(groups.keyColumn(c));
  for (const s of states) cols.push(s.result(ng));
  // the results are copies: the group table's and the states' arrays go back to the recycler
  groups.release();
  for (const s of states) s.release?.();
  return { n: ng, cols };
}
