/**
 * Join planning for a flattened inner-join group (comma FROM lists, INNER / CROSS JOIN): predicate
 * pushdown to single relations (into scans as filters and pruning hints), then a greedy join order
 * that always adds the cheapest relation connected by an equality to what is joined so far, with
 * hash joins on the equality conjuncts and every other conjunct applied as soon as its relations
 * are present.
 *
 *   Filter(p_ab ∧ p_a ∧ p_b ∧ a.x=b.y)          HashJoin(a.x = b.y, residual p_ab)
 *     CrossJoin(a, b)                  =>        Scan a [filter p_a]   Scan b [filter p_b]
 *
 * Correctness: for inner joins, filter(σ, A × B) = filter over any join order of A and B, and
 * a conjunct may be evaluated at any node where all its columns are present.
 *
 * Invariants:
 *  1. The returned plan outputs the leaves' columns in leaf order (global column order), so
 *     expressions bound against the FROM scope stay valid.
 *  2. Every conjunct is applied exactly once.
 */
import { T } from '@quiverdb/common';
import type { ScanPredicate } from '../catalog/catalog.js';
import type { BExpr, OutCol, Plan } from '../plan/plan.js';
import { andAll, colsOf, exprHas, remapCols } from '../plan/plan.js';

export interface Leaf { plan: Plan; readonly n: number }

export interface JoinOptions {
  /** disable the greedy reordering (rule `join-reorder`) */
  readonly noReorder?: boolean;
  /** disable pushing single-relation predicates (rule `push-down-filter`) */
  readonly noPushdown?: boolean;
}

function scanPredicateOf(e: BExpr): ScanPredicate | undefined {
  if (e.k === 'op' && e.args.length === 2 && ['=', '<', '<=', '>', '>='].includes(e.op)) {
    const [a, b] = e.args as [BExpr, BExpr];
    const flip: Record<string, '=' | '<' | '<=' | '>' | '>='> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
    if (a.k === 'col' && b.k === 'const' && b.v !== null) return { kind: 'cmp', column: a.i, op: e.op as '=', value: b.v };
    if (b.k === 'col' && a.k === 'const' && a.v !== null) return { kind: 'cmp', column: b.i, op: flip[e.op]!, value: a.v };
  }
  if (e.k === 'isnull' && e.arg.k === 'col') return { kind: 'isNull', column: e.arg.i, negated: e.neg };
  if (e.k === 'in' && !e.neg && e.arg.k === 'col' && e.list.every((x) => x.k === 'const' && x.v !== null)) {
    return { kind: 'in', column: e.arg.i, values: e.list.map((x) => (x as { v: unknown }).v) };
  }
  return undefined;
}

function selectivity(e: BExpr): number {
  if (e.k === 'op' && e.op === '=') return 0.1;
  if (e.k === 'in') return Math.min(0.5, 0.1 * e.list.length);
  return 0.33;
}

/** Push `conds` (over the leaf's own columns) into the leaf. */
export function pushFilter(plan: Plan, conds: BExpr[]): Plan {
  if (conds.length === 0) return plan;
  let est = plan.est;
  for (const c of conds) est *= selectivity(c);
  est = Math.max(1, est);
  if (plan.k === 'scan') {
    const all = plan.filter ? [plan.filter, ...conds] : conds;
    const preds = [...plan.preds];
    for (const c of conds) {
      const p = scanPredicateOf(c);
      if (p) preds.push({ ...p, column: plan.cols[p.column]! } as ScanPredicate);
    }
    return { ...plan, filter: andAll(all, T.boolean), preds, est };
  }
  return { k: 'filter', out: plan.out, input: plan, pred: andAll(conds, T.boolean)!, est };
}

/** Split an equality conjunct into (left key, right key) if it joins the two sides. */
export function equiKeys(cond: BExpr, isLeft: (i: number) => boolean): { l: BExpr; r: BExpr } | undefined {
  if (cond.k !== 'op' || cond.op !== '=') return undefined;
  const [a, b] = cond.args as [BExpr, BExpr];
  if (exprHas(a, (x) => x.k === 'subq') || exprHas(b, (x) => x.k === 'subq')) return undefined;
  const ca = [...colsOf(a)], cb = [...colsOf(b)];
  if (ca.length === 0 || cb.length === 0) return undefined;
  if (ca.every(isLeft) && cb.every((i) => !isLeft(i))) return { l: a, r: b };
  if (cb.every(isLeft) && ca.every((i) => !isLeft(i))) return { l: b, r: a };
  return undefined;
}

/** Build a join node of left ++ right with conjuncts over the concatenated columns. */
export function makeJoin(type: 'inner' | 'left' | 'right' | 'full', left: Plan, right: Plan, conds: BExpr[]): Plan {
  const nl = left.out.length;
  const lkeys: BExpr[] = [], rkeys: BExpr[] = [], rest: BExpr[] = [];
  for (const c of conds) {
    const k = equiKeys(c, (i) => i < nl);
    if (k) { lkeys.push(k.l); rkeys.push(remapCols(k.r, (i) => i - nl)); } else rest.push(c);
  }
  const out: OutCol[] = [...left.out, ...right.out];
  let est = lkeys.length > 0 ? Math.max(left.est, right.est) : left.est * right.est;
  if (type === 'left') est = Math.max(est, left.est);
  if (type === 'right') est = Math.max(est, right.est);
  if (type === 'full') est = Math.max(est, left.est + right.est);
  for (const r of rest) est *= selectivity(r);
  return { k: 'join', out, type: lkeys.length === 0 && rest.length === 0 && type === 'inner' ? 'cross' : type, left, right,
    lkeys, rkeys, cond: andAll(rest, T.boolean), est: Math.max(1, est) };
}

export function buildJoinTree(leaves: Leaf[], conds: BExpr[], opts: JoinOptions = {}): Plan {
  const offsets: number[] = [];
  let total = 0;
  for (const l of leaves) { offsets.push(total); total += l.n; }
  const leafOf = (g: number): number => {
    let lo = 0, hi = leaves.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (offsets[mid]! <= g) lo = mid; else hi = mid - 1; }
    return lo;
  };
  const info = conds.map((c) => ({ c, leaves: new Set([...colsOf(c)].map(leafOf)), used: false }));
  const plans = leaves.map((l) => l.plan);
  // 1. single-leaf conjuncts go into their leaf
  if (!opts.noPushdown) {
    for (let li = 0; li < leaves.length; li++) {
      const mine = info.filter((x) => !x.used && x.leaves.size === 1 && x.leaves.has(li));
      if (mine.length === 0) continue;
      for (const m of mine) m.used = true;
      plans[li] = pushFilter(plans[li]!, mine.map((m) => remapCols(m.c, (g) => g - offsets[li]!)));
    }
  }
  if (leaves.length === 0) return { k: 'values', out: [], rows: [[]], est: 1 };
  // 2. greedy order
  const remaining = new Set(leaves.map((_l, i) => i));
  let order: number[];
  let cur: Plan;
  const pick = (cands: number[]): number => cands.reduce((best, i) => (plans[i]!.est < plans[best]!.est ? i : best), cands[0]!);
  const first = opts.noReorder ? 0 : pick([...remaining]);
  remaining.delete(first);
  order = [first];
  cur = plans[first]!;
  while (remaining.size > 0) {
    const inCur = new Set(order);
    let next: number;
    if (opts.noReorder) next = Math.min(...remaining);
    else {
      const connected = [...remaining].filter((j) => info.some((x) => !x.used && x.leaves.has(j) && x.leaves.size > 1 &&
        [...x.leaves].every((l) => l === j || inCur.has(l)) && x.c.k === 'op' && x.c.op === '='));
      next = pick(connected.length > 0 ? connected : [...remaining]);
    }
    remaining.delete(next);
    // position of each global column in the joined output
    const pos = new Map<number, number>();
    let p = 0;
    for (const li of [...order, next]) for (let c = 0; c < leaves[li]!.n; c++) pos.set(offsets[li]! + c, p++);
    const now = new Set([...order, next]);
    const applicable = info.filter((x) => !x.used && x.leaves.size > 0 && [...x.leaves].every((l) => now.has(l)));
    for (const a of applicable) a.used = true;
    cur = makeJoin('inner', cur, plans[next]!, applicable.map((a) => remapCols(a.c, (g) => pos.get(g)!)));
    order = [...order, next];
  }
  // 3. restore global column order
  const pos = new Map<number, number>();
  let p = 0;
  for (const li of order) for (let c = 0; c < leaves[li]!.n; c++) pos.set(offsets[li]! + c, p++);
  let identity = true;
  for (let g = 0; g < total; g++) if (pos.get(g) !== g) identity = false;
  if (!identity) {
    const exprs: BExpr[] = [];
    const out: OutCol[] = [];
    for (let g = 0; g < total; g++) {
      const src = pos.get(g)!;
      exprs.push({ k: 'col', t: cur.out[src]!.t, i: src });
      out.push(cur.out[src]!);
    }
    cur = { k: 'project', out, input: cur, exprs, est: cur.est };
  }
  // 4. leftovers: constant conjuncts (no columns) and single-leaf ones when pushdown is off
  const left = info.filter((x) => !x.used).map((x) => x.c);
  if (left.length > 0) cur = { k: 'filter', out: cur.out, input: cur, pred: andAll(left, T.boolean)!, est: Math.max(1, cur.est * 0.5) };
  return cur;
}
