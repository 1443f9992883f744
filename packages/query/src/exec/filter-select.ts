/**
 * Filters as selection vectors: a predicate is split into its AND-ed conjuncts; conjuncts of a
 * simple shape — column vs constant or column vs column comparisons on numbers / dates (and
 * equality on text), IN over a constant list, a boolean column — run as branch-free loops that
 * narrow an Int32Array of row positions; any other conjunct is evaluated (eval.ts) only on the
 * rows still selected. The rows kept are those where every conjunct is TRUE, which is exactly
 * where the AND is TRUE.
 *
 * Invariants:
 *  1. `sel[0..m)` is strictly increasing and holds exactly the rows where the conjuncts seen so
 *     far are all TRUE (NULL and FALSE drop a row, as WHERE does).
 *  2. A simple conjunct is used only when both sides have the same type and the column values are
 *     numbers / bigints (typed arrays or arrays with NULLs) or, for = and <>, strings: the JS
 *     comparison is then the SQL one. Anything else goes through evalExpr.
 *  3. The first conjuncts evaluated are the simple ones, so general conjuncts (which may raise
 *     errors, or call functions) see fewer rows, as with PostgreSQL's freedom to reorder quals.
 *  4. A lower and an upper bound on one numeric column run as one range test; on an Int32Array
 *     (INTEGER, DATE) with integer bounds, `x > a` is `x >= a + 1` and `x < b` is `x <= b - 1`.
 *     A single bound on an Int32Array / Float64Array column runs through the same kernels, with
 *     the other bound open.
 *  5. A short IN list of strings is a table by (length, first and last character) of the one
 *     list entry a value can equal (or "several"): a value without an entry is no match, and
 *     one with an entry is compared with that entry only.
 */
import type { BExpr } from '../plan/plan.js';
import { colsOf } from '../plan/plan.js';
import { keyOf } from '../types/values.js';
import { evalExpr } from './eval.js';
import type { ExecCtx } from './eval.js';
import type { Rel } from './rel.js';
import { gather, gatherColumn } from './rel.js';
import { STR_SLOTS, strSlot } from './str-slot.js';

type Conj =
  | { k: 'cmpConst'; col: number; op: string; v: number | bigint | string }
  | { k: 'cmpCol'; a: number; b: number; op: string }
  | { k: 'range'; col: number; lo: number; loIncl: boolean; hi: number; hiIncl: boolean; parts: Conj[] }
  | { k: 'in'; col: number; set: Set<unknown>; neg: boolean; hasNull: boolean; list?: unknown[]; slots?: Int8Array | null }
  | { k: 'bool'; col: number }
  | { k: 'generic'; e: BExpr; used: number[] };

const NUMERIC_LIKE = new Set(['INTEGER', 'SMALLINT', 'BIGINT', 'DOUBLE', 'REAL', 'DATE', 'TIMESTAMP']);
const TEXT_LIKE = new Set(['TEXT', 'VARCHAR']);
const FLIP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=', '<>': '<>' };

function comparable(op: string, t: string): boolean {
  return NUMERIC_LIKE.has(t) || (TEXT_LIKE.has(t) && (op === '=' || op === '<>'));
}

function sameKind(a: string, b: string): boolean {
  return a === b || (TEXT_LIKE.has(a) && TEXT_LIKE.has(b));
}

function constOk(v: unknown): v is number | bigint | string {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string';
}

function classify(e: BExpr): Conj {
  if (e.k === 'op' && e.args.length === 2 && FLIP[e.op] !== undefined) {
    const [x, y] = e.args as [BExpr, BExpr];
    if (sameKind(x.t.id, y.t.id) && comparable(e.op, x.t.id)) {
      if (x.k === 'col' && y.k === 'col') return { k: 'cmpCol', a: x.i, b: y.i, op: e.op };
      if (x.k === 'col' && y.k === 'const' && constOk(y.v)) return { k: 'cmpConst', col: x.i, op: e.op, v: y.v };
      if (y.k === 'col' && x.k === 'const' && constOk(x.v)) return { k: 'cmpConst', col: y.i, op: FLIP[e.op]!, v: x.v };
    }
  }
  if (e.k === 'in' && e.arg.k === 'col' && (NUMERIC_LIKE.has(e.arg.t.id) || TEXT_LIKE.has(e.arg.t.id)) && e.list.length > 0
    && e.list.every((x) => x.k === 'const' && sameKind(x.t.id, e.arg.t.id) && (x.v === null || constOk(x.v)))) {
    const set = new Set<unknown>();
    let hasNull = false;
    for (const x of e.list) { const v = (x as { v: unknown }).v; if (v === null) hasNull = true; else set.add(keyOf(v)); }
    return { k: 'in', col: e.arg.i, set, neg: e.neg, hasNull };
  }
  if (e.k === 'col' && e.t.id === 'BOOLEAN') return { k: 'bool', col: e.i };
  return { k: 'generic', e, used: [...colsOf(e)] };
}

function conjunctsOf(e: BExpr, out: BExpr[]): void {
  if (e.k === 'op' && e.op === 'and') { for (const a of e.args) conjunctsOf(a, out); return; }
  out.push(e);
}

function rank(c: Conj, e: BExpr): number {
  if (c.k === 'generic') return 9;
  if (c.k === 'in') return 3;
  if (c.k === 'bool') return 2;
  const t = e.k === 'op' ? e.args[0]!.t.id : '';
  return TEXT_LIKE.has(t) ? 2 : c.k === 'cmpConst' ? 0 : 1;
}

const plans = new WeakMap<BExpr, Conj[]>();

/**
 * A lower and an upper bound on the same numeric column (`x >= a AND x < b`, BETWEEN) become one
 * range conjunct: one pass, one load per row.
 */
function mergeRanges(cs: Conj[]): Conj[] {
  const out: Conj[] = [];
  const used = new Set<number>();
  for (let i = 0; i < cs.length; i++) {
    if (used.has(i)) continue;
    const a = cs[i]!;
    if (a.k === 'cmpConst' && typeof a.v === 'number' && a.op !== '=' && a.op !== '<>') {
      const lower = a.op === '>' || a.op === '>=';
      const j = cs.findIndex((b, q) => q > i && !used.has(q) && b.k === 'cmpConst' && b.col === a.col && typeof b.v === 'number'
        && (lower ? b.op === '<' || b.op === '<=' : b.op === '>' || b.op === '>='));
      if (j >= 0) {
        const b = cs[j] as Extract<Conj, { k: 'cmpConst' }>;
        const lo = lower ? a : b, hi = lower ? b : a;
        used.add(j);
        out.push({ k: 'range', col: a.col, lo: lo.v as number, loIncl: lo.op === '>=', hi: hi.v as number, hiIncl: hi.op === '<=', parts: [a, b] });
        continue;
      }
    }
    out.push(a);
  }
  return out;
}

function planFor(pred: BExpr): Conj[] {
  let p = plans.get(pred);
  if (!p) {
    const es: BExpr[] = [];
    conjunctsOf(pred, es);
    // cheapest first (numeric compares, then text and IN lists, then general expressions), so
    // the costlier conjuncts see fewer rows; the sort is stable
    p = mergeRanges(es.map(classify).map((c, i) => ({ c, r: rank(c, es[i]!) })).sort((a, b) => a.r - b.r).map((x) => x.c));
    plans.set(pred, p);
  }
  return p;
}

type Num = number | bigint | string;

/**
 * Narrow sel[0..m) to the rows where `x[j] op c`; returns the new m. `ident`: sel[p] is p (not
 * yet written), so the first conjunct needs no identity fill.
 */
function cmpConst(op: string, x: unknown[], c: Num, sel: Int32Array, m: number, ident: boolean): number {
  let k = 0;
  if (!Array.isArray(x)) {
    const t = x as unknown as ArrayLike<Num>;
    switch (op) {
      case '=': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((t[j] === c) as unknown as number) | 0; } break;
      case '<>': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((t[j] !== c) as unknown as number) | 0; } break;
      case '<': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((t[j]! < c) as unknown as number) | 0; } break;
      case '<=': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((t[j]! <= c) as unknown as number) | 0; } break;
      case '>': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((t[j]! > c) as unknown as number) | 0; } break;
      default: for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((t[j]! >= c) as unknown as number) | 0; }
    }
    return k;
  }
  const a = x as (Num | null)[];
  switch (op) {
    case '=': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((a[j] === c) as unknown as number) | 0; } break;
    case '<>': for (let p = 0; p < m; p++) { const j = sel[p]!, v = a[j]!; sel[k] = j; k += ((v !== null && v !== c) as unknown as number) | 0; } break;
    case '<': for (let p = 0; p < m; p++) { const j = sel[p]!, v = a[j]!; sel[k] = j; k += ((v !== null && v < c) as unknown as number) | 0; } break;
    case '<=': for (let p = 0; p < m; p++) { const j = sel[p]!, v = a[j]!; sel[k] = j; k += ((v !== null && v <= c) as unknown as number) | 0; } break;
    case '>': for (let p = 0; p < m; p++) { const j = sel[p]!, v = a[j]!; sel[k] = j; k += ((v !== null && v > c) as unknown as number) | 0; } break;
    default: for (let p = 0; p < m; p++) { const j = sel[p]!, v = a[j]!; sel[k] = j; k += ((v !== null && v >= c) as unknown as number) | 0; }
  }
  return k;
}

/** Narrow sel[0..m) to the rows of an Int32Array column within [lo, hi] (integer bounds, inclusive). */
function rangeI32(t: Int32Array, lo: number, hi: number, sel: Int32Array, m: number, ident: boolean): number {
  let k = 0;
  // bounds within int32, then (x - lo) >>> 0 <= hi - lo: one unsigned compare for both bounds
  // (below lo, x - lo wraps to at least 2^32 + x - lo > hi - lo)
  if (lo < -2147483648) lo = -2147483648;
  if (hi > 2147483647) hi = 2147483647;
  const span = hi - lo;
  if (span < 0) return 0;
  if (span >= 0xffffffff) { if (!ident) return m; for (let p = 0; p < m; p++) sel[p] = p; return m; }
  if (ident) for (let p = 0; p < m; p++) { sel[k] = p; k += ((((t[p]! - lo) >>> 0) <= span) as unknown as number) | 0; }
  else for (let p = 0; p < m; p++) { const j = sel[p]!; sel[k] = j; k += ((((t[j]! - lo) >>> 0) <= span) as unknown as number) | 0; }
  return k;
}

/** Narrow sel[0..m) to the rows of a Float64Array column within lo .. hi (each bound inclusive or not). */
function rangeF64(t: Float64Array, lo: number, loIncl: boolean, hi: number, hiIncl: boolean, sel: Int32Array, m: number, ident: boolean): number {
  let k = 0;
  if (ident && loIncl && !hiIncl) {
    for (let p = 0; p < m; p++) { const v = t[p]!; sel[k] = p; k += ((v >= lo) as unknown as number) & ((v < hi) as unknown as number); }
    return k;
  }
  if (ident && loIncl && hiIncl) {
    for (let p = 0; p < m; p++) { const v = t[p]!; sel[k] = p; k += ((v >= lo) as unknown as number) & ((v <= hi) as unknown as number); }
    return k;
  }
  if (loIncl && hiIncl) for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; const v = t[j]!; sel[k] = j; k += ((v >= lo) as unknown as number) & ((v <= hi) as unknown as number); }
  else if (loIncl) for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; const v = t[j]!; sel[k] = j; k += ((v >= lo) as unknown as number) & ((v < hi) as unknown as number); }
  else if (hiIncl) for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; const v = t[j]!; sel[k] = j; k += ((v > lo) as unknown as number) & ((v <= hi) as unknown as number); }
  else for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; const v = t[j]!; sel[k] = j; k += ((v > lo) as unknown as number) & ((v < hi) as unknown as number); }
  return k;
}

/**
 * A one-sided compare of a typed numeric column with a number (`x < c`, ...) as a range kernel,
 * whose loops are typed for the column and the bound (cmpConst's serve every kind of column and
 * constant); -1 when the column or constant is not of that kind. On an Int32Array the bound is
 * rounded to the integers it admits; the results are cmpConst's (NaN passes no compare).
 */
function oneSided(op: string, x: unknown[], c: number | bigint | string, sel: Int32Array, m: number, ident: boolean): number {
  if (typeof c !== 'number' || c !== c) return -1;
  if (x instanceof Int32Array) {
    switch (op) {
      case '<': return rangeI32(x, -2147483648, Math.ceil(c) - 1, sel, m, ident);
      case '<=': return rangeI32(x, -2147483648, Math.floor(c), sel, m, ident);
      case '>': return rangeI32(x, Math.floor(c) + 1, 2147483647, sel, m, ident);
      case '>=': return rangeI32(x, Math.ceil(c), 2147483647, sel, m, ident);
      default: return -1;
    }
  }
  if (x instanceof Float64Array) {
    switch (op) {
      case '<': return rangeF64(x, -Infinity, true, c, false, sel, m, ident);
      case '<=': return rangeF64(x, -Infinity, true, c, true, sel, m, ident);
      case '>': return rangeF64(x, c, false, Infinity, true, sel, m, ident);
      case '>=': return rangeF64(x, c, true, Infinity, true, sel, m, ident);
      default: return -1;
    }
  }
  return -1;
}

/** A range conjunct over column x; -1 when the column is not of a kind the range kernels take. */
function range(c: Extract<Conj, { k: 'range' }>, x: unknown[], sel: Int32Array, m: number, ident: boolean): number {
  if (x instanceof Int32Array && Number.isInteger(c.lo) && Number.isInteger(c.hi)) {
    return rangeI32(x, c.loIncl ? c.lo : c.lo + 1, c.hiIncl ? c.hi : c.hi - 1, sel, m, ident);
  }
  if (x instanceof Float64Array) return rangeF64(x, c.lo, c.loIncl, c.hi, c.hiIncl, sel, m, ident);
  return -1;
}

/** Narrow sel[0..m) to the rows where `x[j] op y[j]`. */
function cmpCol(op: string, x: unknown[], y: unknown[], sel: Int32Array, m: number, ident: boolean): number {
  let k = 0;
  if (!Array.isArray(x) && !Array.isArray(y)) {
    const s = x as unknown as ArrayLike<Num>, t = y as unknown as ArrayLike<Num>;
    switch (op) {
      case '=': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((s[j] === t[j]) as unknown as number) | 0; } break;
      case '<>': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((s[j] !== t[j]) as unknown as number) | 0; } break;
      case '<': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((s[j]! < t[j]!) as unknown as number) | 0; } break;
      case '<=': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((s[j]! <= t[j]!) as unknown as number) | 0; } break;
      case '>': for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((s[j]! > t[j]!) as unknown as number) | 0; } break;
      default: for (let p = 0; p < m; p++) { const j = ident ? p : sel[p]!; sel[k] = j; k += ((s[j]! >= t[j]!) as unknown as number) | 0; }
    }
    return k;
  }
  for (let p = 0; p < m; p++) {
    const j = sel[p]!;
    const v = x[j] as Num | null, w = y[j] as Num | null;
    if (v === null || w === null) continue;
    let ok: boolean;
    switch (op) {
      case '=': ok = v === w; break;
      case '<>': ok = v !== w; break;
      case '<': ok = v < w; break;
      case '<=': ok = v <= w; break;
      case '>': ok = v > w; break;
      default: ok = v >= w;
    }
    if (ok) sel[k++] = j;
  }
  return k;
}

/** An IN list slot table's entry: more than one list entry has the slot (invariant 5). */
const SEVERAL = -2;

/** The slot table of a short list of strings: index + 1 of the entry, 0 none, SEVERAL more than one. */
function inSlots(list: readonly unknown[]): Int8Array | null {
  if (list.length === 0 || list.length > 100 || !list.every((v) => typeof v === 'string')) return null;
  const t = new Int8Array(STR_SLOTS);
  list.forEach((v, i) => { const h = strSlot(v as string); t[h] = t[h] === 0 ? i + 1 : SEVERAL; });
  return t;
}

function inList(c: Extract<Conj, { k: 'in' }>, x: unknown[], sel: Int32Array, m: number): number {
  if (c.neg && c.hasNull) return 0; // x NOT IN (..., NULL) is never TRUE
  const set = c.set;
  let k = 0;
  if (c.slots === undefined) c.slots = inSlots(c.list ??= [...set]);
  const slots = c.slots;
  if (slots !== null) {
    const list = c.list!, neg = c.neg;
    for (let p = 0; p < m; p++) {
      const j = sel[p]!;
      const v = x[j];
      if (typeof v !== 'string') {
        if (v === null) continue;
        if (set.has(keyOf(v)) !== neg) sel[k++] = j;
        continue;
      }
      const e = slots[strSlot(v)]!;
      const hit = e === 0 ? false : e === SEVERAL ? set.has(v) : list[e - 1] === v;
      if (hit !== neg) sel[k++] = j;
    }
    return k;
  }
  if (set.size <= 8 && (c.list ??= [...set]).every((v) => typeof v === 'string' || (typeof v === 'number' && v === v))) {
    // a short list of strings / numbers: compare in place (=== is the key equality for these)
    const list = c.list, len = list.length;
    for (let p = 0; p < m; p++) {
      const j = sel[p]!;
      const v = x[j];
      if (v === null) continue;
      const w = typeof v === 'string' || typeof v === 'number' ? v : keyOf(v);
      let hit = false;
      for (let q = 0; q < len; q++) if (list[q] === w) { hit = true; break; }
      if (hit !== c.neg) sel[k++] = j;
    }
    return k;
  }
  for (let p = 0; p < m; p++) {
    const j = sel[p]!;
    const v = x[j];
    if (v === null) continue;
    const hit = set.has(typeof v === 'number' || typeof v === 'string' ? v : keyOf(v));
    if (hit !== c.neg) sel[k++] = j;
  }
  return k;
}

/** Rows `idx` of `rel`, copying only the columns in `used` (the others are left empty). */
function gatherUsed(rel: Rel, used: readonly number[], idx: Int32Array): Rel {
  const cols: unknown[][] = new Array(rel.cols.length);
  for (let c = 0; c < rel.cols.length; c++) cols[c] = EMPTY;
  for (const c of used) if (c < rel.cols.length) cols[c] = gatherColumn(rel.cols[c]!, idx);
  return { n: idx.length, cols };
}
const EMPTY: unknown[] = [];

/**
 * The rows of `rel` where `pred` is TRUE, as positions `sel[0..m)`; null when every row passes.
 * `into`: a buffer of at least `rel.n` slots to write the positions in (returned as `sel`), so a
 * scan can reuse one buffer for all its batches instead of allocating one per batch.
 */
export async function selectRows(pred: BExpr, rel: Rel, ctx: ExecCtx, into?: Int32Array): Promise<{ sel: Int32Array; m: number } | null> {
  const n = rel.n;
  const conjs = planFor(pred);
  const sel = into !== undefined && into.length >= n ? into : new Int32Array(n);
  let ident = true; // sel[p] = p for p < m, not written yet
  let m = n;
  for (const c of conjs) {
    if (m === 0) break;
    if (c.k === 'range') {
      const r = range(c, rel.cols[c.col]!, sel, m, ident);
      if (r >= 0) { m = r; ident = false; continue; }
    }
    if (c.k === 'cmpConst') {
      const r = oneSided(c.op, rel.cols[c.col]!, c.v, sel, m, ident);
      if (r >= 0) { m = r; ident = false; continue; }
    }
    if (ident) {
      const x = c.k === 'cmpConst' ? rel.cols[c.col]! : c.k === 'cmpCol' ? rel.cols[c.a]! : null;
      const y = c.k === 'cmpCol' ? rel.cols[c.b]! : null;
      if (x !== null && !Array.isArray(x) && (y === null || !Array.isArray(y))) {
        m = c.k === 'cmpConst' ? cmpConst(c.op, x, c.v, sel, m, true) : cmpCol((c as { op: string }).op, x, y!, sel, m, true);
        ident = false;
        continue;
      }
      for (let i = 0; i < n; i++) sel[i] = i;
      ident = false;
    }
    switch (c.k) {
      case 'cmpConst': m = cmpConst(c.op, rel.cols[c.col]!, c.v, sel, m, false); break;
      case 'cmpCol': m = cmpCol(c.op, rel.cols[c.a]!, rel.cols[c.b]!, sel, m, false); break;
      case 'range': // a column kind the range kernels do not take: its two compares
        for (const q of c.parts) if (q.k === 'cmpConst') m = cmpConst(q.op, rel.cols[q.col]!, q.v, sel, m, false);
        break;
      case 'in': m = inList(c, rel.cols[c.col]!, sel, m); break;
      case 'bool': {
        const x = rel.cols[c.col]!;
        let k = 0;
        for (let p = 0; p < m; p++) { const j = sel[p]!; sel[k] = j; k += ((x[j] === true) as unknown as number) | 0; }
        m = k;
        break;
      }
      case 'generic': {
        const sub = m === n ? rel : gatherUsed(rel, c.used, sel.subarray(0, m));
        const mask = await evalExpr(c.e, sub, ctx);
        let k = 0;
        for (let p = 0; p < m; p++) { const j = sel[p]!; sel[k] = j; k += ((mask[p] === true) as unknown as number) | 0; }
        m = k;
        break;
      }
    }
  }
  return m === n ? null : { sel, m };
}


/** The rows of `rel` where `pred` is TRUE (the same Rel when all are). */
export async function filterBatch(pred: BExpr, rel: Rel, ctx: ExecCtx): Promise<Rel> {
  if (rel.n === 0) return rel;
  const s = await selectRows(pred, rel, ctx);
  if (s === null) return rel;
  return gather(rel, s.sel.subarray(0, s.m));
}
