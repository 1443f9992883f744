/**
 * buildJoinTree: where row-invariant conjuncts (no columns) land. They go into every leaf, under
 * the joins; volatile or subquery ones stay in a filter above the joins; with pushdown off nothing
 * moves.
 */
import { describe, expect, it } from 'vitest';
import { T } from '@quiverdb/common';
import type { BExpr, Plan } from '../plan/plan.js';
import { buildJoinTree, isRowInvariant } from './join-order.js';

const leaf = (name: string): { plan: Plan; n: number } => ({
  plan: { k: 'values', out: [{ name, t: T.integer }], rows: [[{ k: 'const', t: T.integer, v: 1 }]], est: 50 },
  n: 1,
});
const int = (v: number | null): BExpr => ({ k: 'const', t: T.integer, v });
const gt = (a: BExpr, b: BExpr): BExpr => ({ k: 'op', t: T.boolean, op: '>', args: [a, b] });
const isNullOf = (e: BExpr): BExpr => ({ k: 'isnull', t: T.boolean, arg: e, neg: false });
const random: BExpr = { k: 'fn', t: T.double, name: 'random', args: [] };
const absOf = (e: BExpr): BExpr => ({ k: 'fn', t: T.integer, name: 'abs', args: [e] });

const hasJoin = (x: Plan): boolean => x.k === 'join' || ('input' in x && hasJoin(x.input));

/** Predicates of the filters over a single leaf (no join below), and of filters above joins. */
function filters(p: Plan): { leaf: BExpr[]; top: BExpr[] } {
  const acc = { leaf: [] as BExpr[], top: [] as BExpr[] };
  const walk = (x: Plan): void => {
    if (x.k === 'filter') (hasJoin(x.input) ? acc.top : acc.leaf).push(x.pred);
    if ('input' in x) walk(x.input);
    if (x.k === 'join') { walk(x.left); walk(x.right); }
  };
  walk(p);
  return acc;
}

describe('buildJoinTree: row-invariant conjuncts', () => {
  it('classifies constants, immutable functions, parameters and correlation values as row-invariant', () => {
    expect(isRowInvariant(isNullOf(int(7)))).toBe(true);
    expect(isRowInvariant(gt(absOf(int(-3)), { k: 'param', t: T.integer, n: 1 }))).toBe(true);
    expect(isRowInvariant(gt({ k: 'corr', t: T.integer, id: 1 }, int(2)))).toBe(true);
    expect(isRowInvariant(gt(random, int(0)))).toBe(false);
    expect(isRowInvariant(gt({ k: 'fn', t: T.integer, name: 'no_such_function', args: [] }, int(0)))).toBe(false);
    expect(isRowInvariant(gt({ k: 'col', t: T.integer, i: 0 }, int(0)))).toBe(false);
  });

  it('puts a constant conjunct into every leaf and keeps a volatile one above the joins', () => {
    const c = isNullOf(int(7));
    const v = gt(random, int(0));
    const p = filters(buildJoinTree([leaf('a'), leaf('b'), leaf('c')], [c, v]));
    expect(p.leaf).toEqual([c, c, c]);
    expect(p.top).toEqual([v]);
  });

  it('combines the constant with a leaf\'s own conjuncts', () => {
    const c = gt(int(1), int(2));
    const own = gt({ k: 'col', t: T.integer, i: 1 }, int(5));
    const p = filters(buildJoinTree([leaf('a'), leaf('b')], [own, c]));
    expect(p.top).toEqual([]);
    expect(p.leaf.filter((x) => JSON.stringify(x) === JSON.stringify(c))).toHaveLength(2);
    expect(p.leaf).toContainEqual({ ...own, args: [{ k: 'col', t: T.integer, i: 0 }, int(5)] });
  });

  it('with pushdown off, the constant stays in one filter on top', () => {
    const c = isNullOf(int(7));
    const p = filters(buildJoinTree([leaf('a'), leaf('b')], [c], { noPushdown: true }));
    expect(p.leaf).toEqual([]);
    expect(p.top).toEqual([c]);
  });
});
