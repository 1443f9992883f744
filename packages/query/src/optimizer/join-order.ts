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
 * A row-invariant conjunct (no columns: constants, parameters, correlation slots, immutable
 * functions, e.g. `WHERE NULL IS NOT NULL`) is applied at every leaf instead of above the joins, so a
 * false one empties each input before any join runs (PostgreSQL's one-time filter), rather than
 * filtering a materialized cross product. filter(c, A × B) = filter(c, A) × filter(c, B) when c has
 * the same value for every row.
 *
 * Invariants:
 *  1. The returned plan outputs the leaves' columns in leaf order (global column order), so
 *     expressions bound against the FROM scope stay valid.
 *  2. Every conjunct is applied exactly once, except row-invariant ones, applied once per leaf.
 */
import { T } from '@quiverdb/common';
import type { ScanPredicate } from '../catalog/catalog.js';
import type { BExpr, OutCol, Plan } from '../plan/plan.js';
import { andAll, colsOf, exprHas, remapCols } from '../plan/plan.js';
import { SCALAR_FUNCTIONS } from '../exec/functions.js';

export interface Leaf { plan: Plan; readonly n: number }

export interface JoinOptions {
  /** disable the greedy reordering (rule `join-reorder`) */
  readonly noReorder?: boolean;
  /** disable pushing single-relation predicates (rule `push-down-filter`) */
  readonly noPushdown?: boolean;
}

/** Types whose executor values are also their vector-layout values (ScanPredicate contract). */
const HINT_TYPES: ReadonlySet<string> = new Set(['SMALLINT', 'INTEGER', 'BIGINT', 'REAL', 'DOUBLE', 'DATE', 'TIMESTAMP', 'TEXT', 'VARCHAR']);

function scanPredicateOf(e: BExpr): ScanPredicate | undefined {
  const p = scanPredicateOf0(e);
  if (!p) return undefined;
  const t = e.k === 'op' ? e.args.find((a) => a.k === 'col')?.t : e.k === 'isnull' || e.k === 'in' ? e.arg.t : undefined;
  if (p.kind !== 'isNull' && (!t || !HINT_TYPES.has(t.id))) return undefined;
  return p;
}

function scanPredicateOf0(e: BExpr): ScanPredicate | undefined {
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

/**
 * Same value for every row of one execution: no column, subquery, aggregate or window reference
 * and no volatile (or unknown) function. Such a conjunct may be evaluated at any leaf, repeatedly.
 */
export function isRowInvariant(e: BExpr): boolean {
  return !exprHas(e, (x) => x.k === 'col' || x.k === 'subq' || x.k === 'agg' || x.k === 'win' || x.k === 'grouping'
    || (x.k === 'fn' && (SCALAR_FUNCTIONS[x.name] === undefined || SCALAR_FUNCTIONS[x.name]!.volatile === true)));
}

/**
 * Fraction of a scan's rows that pass `conds`, from the table's ANALYZE statistics where they
 * tell: `col = const` keeps 1 / distinct; range comparisons of one numeric column with
 * constants are intersected into one interval, which keeps its share of [min, max] (uniform
 * values assumed). Other conjuncts, and columns without statistics, get the fixed guesses.
 */
function scanSelectivity(plan: Extract<Plan, { k: 'scan' }>, conds: BExpr[]): number {
  let stats: ReturnType<typeof plan.table.stats>['columns'];
  try { stats = plan.table.stats().columns; } catch { stats = undefined; }
  let sel = 1;
  const ranges = new Map<number, { lo: number; hi: number; min: number; max: number }>();
  for (const c of conds) {
    const p = scanPredicateOf(c);
    const st = p && p.kind === 'cmp' ? stats?.[plan.cols[p.column]!] : undefined;
    if (!p || p.kind !== 'cmp' || !st) { sel *= selectivity(c); continue; }
    if (p.op === '=') { sel *= st.distinct > 0 ? 1 / st.distinct : selectivity(c); continue; }
    const v = p.value, min = st.min, max = st.max;
    if (typeof v !== 'number' || typeof min !== 'number' || typeof max !== 'number' || !(max > min)) { sel *= selectivity(c); continue; }
    const r = ranges.get(p.column) ?? { lo: min, hi: max, min, max };
    if (p.op === '<' || p.op === '<=') r.hi = Math.min(r.hi, v); else r.lo = Math.max(r.lo, v);
    ranges.set(p.column, r);
  }
  for (const r of ranges.values()) sel *= Math.min(1, Math.max(0, r.hi - r.lo) / (r.max - r.min));
  return sel;
}

/** Push `conds` (over the leaf's own columns) into the leaf. */
export function pushFilter(plan: Plan, conds: BExpr[]): Plan {
  if (conds.length === 0) return plan;
  let est = plan.est;
  if (plan.k === 'scan') est *= scanSelectivity(plan, conds);
  else for (const c of conds) est *= selectivity(c);
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
  // a TRUE constant (a WHERE folded by bind/fold-nulls.ts) filters nothing
  const info = conds.filter((c) => !(c.k === 'const' && c.v === true))
    .map((c) => ({ c, leaves: new Set([...colsOf(c)].map(leafOf)), used: false }));
  const plans = leaves.map((l) => l.plan);
  // 1. single-leaf conjuncts go into their leaf
  if (!opts.noPushdown) {
    for (let li = 0; li < leaves.length; li++) {
      const mine = info.filter((x) => !x.used && x.leaves.size === 1 && x.leaves.has(li));
      if (mine.length === 0) continue;
      for (const m of mine) m.used = true;
      plans[li] = pushFilter(plans[li]!, mine.map((m) => remapCols(m.c, (g) => g - offsets[li]!)));
    }
    // row-invariant conjuncts go into every leaf (a false one empties them all before any join)
    const invariant = info.filter((x) => !x.used && x.leaves.size === 0 && isRowInvariant(x.c));
    if (leaves.length > 0 && invariant.length > 0) {
      for (const x of invariant) x.used = true;
      for (let li = 0; li < leaves.length; li++) plans[li] = pushFilter(plans[li]!, invariant.map((x) => x.c));
    }
  }
  if (leaves.length === 0) return { k: 'values', out: [], rows: [[]], est: 1 };
  // 2. join order: cost = sum of intermediate result sizes under a cardinality model
  //    (left-deep dynamic programming up to DP_LIMIT relations, greedy beyond)
  const model = cardinalityModel(plans, offsets, leafOf, info.filter((x) => !x.used));
  const order = opts.noReorder ? leaves.map((_l, i) => i) : chooseOrder(leaves, model);
  let cur: Plan = plans[order[0]!]!;
  for (let k = 1; k < order.length; k++) {
    const next = order[k]!;
    const done = order.slice(0, k + 1);
    // position of each global column in the joined output
    const pos = new Map<number, number>();
    let p = 0;
    for (const li of done) for (let c = 0; c < leaves[li]!.n; c++) pos.set(offsets[li]! + c, p++);
    const now = new Set(done);
    const applicable = info.filter((x) => !x.used && x.leaves.size > 0 && [...x.leaves].every((l) => now.has(l)));
    for (const a of applicable) a.used = true;
    const joinConds = applicable.map((a) => a.c);
    // transitive equalities: a = b AND b = c implies a = c, so a relation equal-joined to the
    // joined set only through another relation still gets a hash key
    if (!opts.noReorder) {
      const before = new Set(order.slice(0, k));
      for (const members of equivClasses(info.map((x) => x.c))) {
        const mine = members.find((g) => leafOf(g) === next);
        const theirs = members.find((g) => before.has(leafOf(g)));
        if (mine === undefined || theirs === undefined) continue;
        const linked = joinConds.some((c) => c.k === 'op' && c.op === '=' && c.args.every((a) => a.k === 'col' && members.includes((a as { i: number }).i))
          && c.args.some((a) => leafOf((a as { i: number }).i) === next));
        if (!linked) {
          const t = plans[leafOf(mine)]!.out[mine - offsets[leafOf(mine)]!]!.t;
          joinConds.push({ k: 'op', t: T.boolean, op: '=', args: [{ k: 'col', t, i: theirs }, { k: 'col', t, i: mine }] });
        }
      }
    }
    cur = makeJoin('inner', cur, plans[next]!, joinConds.map((c) => remapCols(c, (g) => pos.get(g)!)));
    cur.est = model.card(done);
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

const DP_LIMIT = 10;

/** Is local column `i` of a leaf plan a single-column key of its base table? Returns the table's row count. */
function uniqueBase(plan: Plan, i: number): number | undefined {
  if (plan.k !== 'scan') return undefined;
  const col = plan.cols[i];
  if (col === undefined) return undefined;
  const def = plan.table.def;
  const single = (cols: readonly number[] | undefined): boolean => cols !== undefined && cols.length === 1 && cols[0] === col;
  let unique = single(def.primaryKey) || (def.uniques ?? []).some(single);
  if (!unique) { try { unique = plan.table.indexes().some((ix) => ix.unique && single(ix.columns)); } catch { /* no index info */ } }
  if (!unique) return undefined;
  return Math.max(1, plan.table.stats().rowCount);
}

/** Distinct count of local column `i` of a scan leaf from the table's statistics, if known. */
function distinctOf(plan: Plan, i: number): number | undefined {
  if (plan.k !== 'scan') return undefined;
  const col = plan.cols[i];
  if (col === undefined) return undefined;
  const d = plan.table.stats().columns?.[col]?.distinct;
  return d !== undefined && d > 0 ? d : undefined;
}

/**
 * Cardinality model: |S| = product of the relations' estimates, times 1/ndv for each extra
 * relation an equivalence class of equality-joined columns reaches (ndv = rows of a unique
 * member's table, as for a foreign key into a primary key; without one, the largest member
 * relation), times a fixed selectivity for other multi-relation conjuncts.
 */
interface CardModel {
  card(set: number[]): number;
  connected(set: Set<number>, j: number): boolean;
  est: number[];
}

function cardinalityModel(plans: Plan[], offsets: number[], leafOf: (g: number) => number,
  conds: { c: BExpr; leaves: Set<number> }[]): CardModel {
  // equivalence classes over global columns (union-find)
  const parent = new Map<number, number>();
  const find = (x: number): number => { let r = x; while (parent.get(r) !== undefined && parent.get(r) !== r) r = parent.get(r)!; parent.set(x, r); return r; };
  const other: { leaves: Set<number>; sel: number }[] = [];
  for (const x of conds) {
    if (x.leaves.size < 2) continue;
    const c = x.c;
    if (c.k === 'op' && c.op === '=' && c.args[0]!.k === 'col' && c.args[1]!.k === 'col') {
      const a = (c.args[0] as { i: number }).i, b = (c.args[1] as { i: number }).i;
      if (!parent.has(a)) parent.set(a, a);
      if (!parent.has(b)) parent.set(b, b);
      parent.set(find(a), find(b));
    } else other.push({ leaves: x.leaves, sel: c.k === 'op' && c.op === '=' ? 0.1 : 0.33 });
  }
  const classes = new Map<number, number[]>();
  for (const g of parent.keys()) { const r = find(g); const l = classes.get(r) ?? []; l.push(g); classes.set(r, l); }
  const cls = [...classes.values()].map((members) => {
    const leafSet = [...new Set(members.map(leafOf))];
    let ndv = Infinity;
    for (const g of members) {
      const li = leafOf(g);
      const u = uniqueBase(plans[li]!, g - offsets[li]!);
      if (u !== undefined) ndv = Math.min(ndv, u);
    }
    if (ndv === Infinity) {
      // ANALYZE statistics, when present: selectivity 1 / max(ndv)
      let known = 0;
      for (const g of members) {
        const li = leafOf(g);
        const d = distinctOf(plans[li]!, g - offsets[li]!);
        if (d !== undefined) known = Math.max(known, d);
      }
      ndv = known > 0 ? known : Math.max(1, ...leafSet.map((li) => plans[li]!.est));
    }
    let mask = 0;
    for (const li of leafSet) if (li < 31) mask |= 1 << li;
    return { leafSet, ndv, mask };
  });
  const est = plans.map((p) => Math.max(1, p.est));
  const card = (set: number[]): number => {
    const inS = new Set(set);
    let c = 1;
    for (const li of set) c *= est[li]!;
    for (const k of cls) {
      let m = 0;
      for (const li of k.leafSet) if (inS.has(li)) m++;
      if (m > 1) c /= Math.pow(k.ndv, m - 1);
    }
    for (const o of other) if ([...o.leaves].every((l) => inS.has(l))) c *= o.sel;
    return Math.max(1, c);
  };
  const connected = (set: Set<number>, j: number): boolean =>
    cls.some((k) => k.leafSet.includes(j) && k.leafSet.some((l) => set.has(l))) || other.some((o) => o.leaves.has(j) && [...o.leaves].every((l) => l === j || set.has(l)));
  return { card, connected, est };
}

function chooseOrder(leaves: Leaf[], model: CardModel): number[] {
  const n = leaves.length;
  if (n === 1) return [0];
  const { card, connected, est } = model;
  if (n <= DP_LIMIT) {
    // left-deep DP over subsets: cost(S) = min_j cost(S \ {j}) + |S|; cross products only when unavoidable
    const full = (1 << n) - 1;
    const cost = new Float64Array(1 << n).fill(Infinity);
    const last = new Int8Array(1 << n).fill(-1);
    const members = (m: number): number[] => { const r: number[] = []; for (let i = 0; i < n; i++) if (m & (1 << i)) r.push(i); return r; };
    for (let i = 0; i < n; i++) { cost[1 << i] = 0; last[1 << i] = i; }
    for (let m = 1; m <= full; m++) {
      if ((m & (m - 1)) === 0) continue;
      const set = members(m);
      const c = card(set);
      let best = Infinity, bestJ = -1;
      for (const j of set) {
        const prev = m & ~(1 << j);
        if (cost[prev] === Infinity) continue;
        const penalty = connected(new Set(members(prev)), j) ? 0 : c;
        const total = cost[prev]! + c + penalty;
        if (total < best) { best = total; bestJ = j; }
      }
      cost[m] = best; last[m] = bestJ;
    }
    const order: number[] = [];
    let m = full;
    while (m) { const j = last[m]!; order.unshift(j); m &= ~(1 << j); }
    return order;
  }
  // greedy: start from the smallest relation, then add the connected relation giving the smallest result
  const remaining = new Set(leaves.map((_l, i) => i));
  const first = [...remaining].reduce((b, i) => (est[i]! < est[b]! ? i : b), 0);
  remaining.delete(first);
  const order = [first];
  const inCur = new Set(order);
  while (remaining.size > 0) {
    const cands = [...remaining].filter((j) => connected(inCur, j));
    const pool = cands.length > 0 ? cands : [...remaining];
    let best = pool[0]!, bestC = Infinity;
    for (const j of pool) { const c = card([...order, j]); if (c < bestC) { bestC = c; best = j; } }
    remaining.delete(best);
    order.push(best);
    inCur.add(best);
  }
  return order;
}

/** Equivalence classes of columns equated by `col = col` conjuncts (global column indexes). */
function equivClasses(conds: readonly BExpr[]): number[][] {
  const parent = new Map<number, number>();
  const find = (x: number): number => { let r = x; while (parent.get(r) !== r) r = parent.get(r)!; return r; };
  for (const c of conds) {
    if (c.k === 'op' && c.op === '=' && c.args[0]!.k === 'col' && c.args[1]!.k === 'col') {
      const a = (c.args[0] as { i: number }).i, b = (c.args[1] as { i: number }).i;
      if (!parent.has(a)) parent.set(a, a);
      if (!parent.has(b)) parent.set(b, b);
      parent.set(find(a), find(b));
    }
  }
  const classes = new Map<number, number[]>();
  for (const g of parent.keys()) { const r = find(g); const l = classes.get(r) ?? []; l.push(g); classes.set(r, l); }
  return [...classes.values()].filter((m) => m.length > 1);
}
