/**
 * Rule `prune-columns` (projection pushdown): scans read only the columns some operator above
 * them uses, and every operator drops columns nobody above needs.
 *
 *   Project(a)                         Project(a)
 *     Filter(b > 1)           =>         Filter(b > 1)
 *       Scan t [a,b,c,d]                   Scan t [a,b]
 *
 * Correctness: an operator's result on the columns its parent reads does not depend on the
 * columns nobody reads, except where the operator's semantics look at whole rows (DISTINCT, set
 * operations, recursive CTEs), which therefore keep every column.
 *
 * Invariants:
 *  1. The pruned plan's root outputs exactly the original root's columns, in order.
 *  2. Every column reference is remapped through the map of the child it reads.
 */
import type { BExpr, Plan } from '../plan/plan.js';
import { colsOf, mapExpr, remapCols } from '../plan/plan.js';

interface Pruned { plan: Plan; map: (i: number) => number }

const identity = (i: number): number => i;

function need(es: readonly (BExpr | null | undefined)[], acc: Set<number>): Set<number> {
  for (const e of es) if (e) colsOf(e, acc);
  return acc;
}

/** Remap columns and prune the plans of subqueries inside `e`. */
function rw(e: BExpr, m: (i: number) => number): BExpr {
  const x = remapCols(e, m);
  return pruneSubqueries(x);
}

function pruneSubqueries(e: BExpr): BExpr {
  if (e.k === 'subq') {
    return { ...e, plan: pruneColumns(e.plan), arg: e.arg ? pruneSubqueries(e.arg) : null, params: e.params.map((p) => ({ id: p.id, e: pruneSubqueries(p.e) })) };
  }
  return mapExpr(e, pruneSubqueries);
}

function all(n: number): Set<number> { return new Set(Array.from({ length: n }, (_x, i) => i)); }

function keepAll(p: Plan): Pruned {
  // prune below without dropping this node's outputs
  switch (p.k) {
    case 'setop': return { plan: { ...p, left: pruneColumns(p.left), right: pruneColumns(p.right) }, map: identity };
    case 'recursive': return { plan: { ...p, anchor: pruneColumns(p.anchor), step: pruneColumns(p.step) }, map: identity };
    case 'cte': return { plan: { ...p, def: pruneColumns(p.def), body: pruneColumns(p.body) }, map: identity };
    case 'distinct': {
      const req = all(p.input.out.length);
      const c = prune(p.input, req);
      return { plan: { ...p, input: c.plan, out: p.out, on: p.on ? p.on.map((e) => rw(e, c.map)) : null }, map: c.map };
    }
    default: return { plan: p, map: identity };
  }
}

function prune(p: Plan, req: Set<number>): Pruned {
  switch (p.k) {
    case 'scan': {
      if (p.rowIds) return { plan: p, map: identity };
      const used = new Set(req);
      if (p.filter) colsOf(p.filter, used);
      // a scan always reads at least one column, so batches carry their row count
      if (used.size === 0 && p.cols.length > 0) used.add(0);
      const keep = [...used].sort((a, b) => a - b);
      if (keep.length === p.cols.length) return { plan: p.filter ? { ...p, filter: pruneSubqueries(p.filter) } : p, map: identity };
      const pos = new Map(keep.map((c, i) => [c, i]));
      const m = (i: number): number => pos.get(i)!;
      return { plan: { ...p, cols: keep.map((c) => p.cols[c]!), out: keep.map((c) => p.out[c]!), filter: p.filter ? rw(p.filter, m) : null }, map: m };
    }
    case 'filter': {
      const c = prune(p.input, need([p.pred], new Set(req)));
      return { plan: { ...p, input: c.plan, out: c.plan.out, pred: rw(p.pred, c.map) }, map: c.map };
    }
    case 'project': {
      const keep = [...req].sort((a, b) => a - b);
      const c = prune(p.input, need(keep.map((i) => p.exprs[i]!), new Set()));
      const pos = new Map(keep.map((c2, i) => [c2, i]));
      return { plan: { ...p, input: c.plan, exprs: keep.map((i) => rw(p.exprs[i]!, c.map)), out: keep.map((i) => p.out[i]!) }, map: (i) => pos.get(i)! };
    }
    case 'join': {
      const nl = p.left.out.length;
      if (p.type === 'semi' || p.type === 'anti') {
        // output = the left side only; the right side needs just its keys (and the condition's columns)
        const lreq = need(p.lkeys, new Set(req));
        const rreq = need(p.rkeys, new Set());
        if (p.cond) for (const i of colsOf(p.cond)) (i < nl ? lreq : rreq).add(i < nl ? i : i - nl);
        const l = prune(p.left, lreq), r = prune(p.right, rreq);
        const nl2 = l.plan.out.length;
        const m = (i: number): number => (i < nl ? l.map(i) : nl2 + r.map(i - nl));
        return {
          plan: { ...p, left: l.plan, right: r.plan, out: l.plan.out, lkeys: p.lkeys.map((e) => rw(e, l.map)),
            rkeys: p.rkeys.map((e) => rw(e, r.map)), cond: p.cond ? rw(p.cond, m) : null },
          map: l.map,
        };
      }
      const lreq = new Set<number>(), rreq = new Set<number>();
      const both = need([p.cond], new Set(req));
      for (const i of both) (i < nl ? lreq : rreq).add(i < nl ? i : i - nl);
      need(p.lkeys, lreq);
      need(p.rkeys, rreq);
      const l = prune(p.left, lreq), r = prune(p.right, rreq);
      const nl2 = l.plan.out.length;
      const m = (i: number): number => (i < nl ? l.map(i) : nl2 + r.map(i - nl));
      return {
        plan: { ...p, left: l.plan, right: r.plan, out: [...l.plan.out, ...r.plan.out], lkeys: p.lkeys.map((e) => rw(e, l.map)),
          rkeys: p.rkeys.map((e) => rw(e, r.map)), cond: p.cond ? rw(p.cond, m) : null },
        map: m,
      };
    }
    case 'agg': {
      const used = need(p.groups, new Set());
      for (const a of p.aggs) { need(a.args, used); need([a.filter], used); need(a.order.map((o) => o.e), used); }
      const c = prune(p.input, used);
      return {
        plan: { ...p, input: c.plan, groups: p.groups.map((e) => rw(e, c.map)),
          aggs: p.aggs.map((a) => ({ ...a, args: a.args.map((e) => rw(e, c.map)), filter: a.filter ? rw(a.filter, c.map) : null,
            order: a.order.map((o) => ({ ...o, e: rw(o.e, c.map) })) })) },
        map: identity,
      };
    }
    case 'sort': {
      const c = prune(p.input, need(p.keys.map((k) => k.e), new Set(req)));
      return { plan: { ...p, input: c.plan, out: c.plan.out, keys: p.keys.map((k) => ({ ...k, e: rw(k.e, c.map) })) }, map: c.map };
    }
    case 'limit': {
      const c = prune(p.input, req);
      return { plan: { ...p, input: c.plan, out: c.plan.out }, map: c.map };
    }
    case 'lockRows': {
      // the row id columns of the locked tables are needed too
      const c = prune(p.input, new Set([...req, ...p.targets.map((t) => t.col)]));
      return { plan: { ...p, input: c.plan, out: c.plan.out, targets: p.targets.map((t) => ({ ...t, col: c.map(t.col) })) }, map: c.map };
    }
    case 'window': {
      const nin = p.input.out.length;
      const used = new Set<number>();
      for (const i of req) if (i < nin) used.add(i);
      for (const f of p.funcs) { need(f.args, used); need([f.filter], used); need(f.partition, used); need(f.order.map((o) => o.e), used); }
      const c = prune(p.input, used);
      const nin2 = c.plan.out.length;
      const funcs = p.funcs.map((f) => ({ ...f, args: f.args.map((e) => rw(e, c.map)), filter: f.filter ? rw(f.filter, c.map) : null,
        partition: f.partition.map((e) => rw(e, c.map)), order: f.order.map((o) => ({ ...o, e: rw(o.e, c.map) })) }));
      return { plan: { ...p, input: c.plan, funcs, out: [...c.plan.out, ...p.out.slice(nin)] }, map: (i) => (i < nin ? c.map(i) : nin2 + (i - nin)) };
    }
    case 'values': return { plan: { ...p, rows: p.rows.map((r) => r.map(pruneSubqueries)) }, map: identity };
    case 'workScan': return { plan: p, map: identity };
    default: return keepAll(p);
  }
}

/** Prune a plan whose every output column is needed. */
export function pruneColumns(plan: Plan): Plan {
  const r = prune(plan, all(plan.out.length));
  // the root keeps all its columns in order, so its map is the identity on them
  return r.plan;
}
