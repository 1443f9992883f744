import { describe, expect, it } from 'vitest';
import { T } from '@quiverdb/common';
import type { BExpr } from '../plan/plan.js';
import { floatArith } from './eval.js';
import { fusedArith } from './fused-arith.js';

const col = (i: number): BExpr => ({ k: 'col', t: T.double, i });
const num = (v: number): BExpr => ({ k: 'const', t: T.double, v });
const op = (o: string, a: BExpr, b: BExpr): BExpr => ({ k: 'op', t: T.double, op: o, args: [a, b] } as BExpr);

/** Operator-by-operator value of a tree (floatArith per node): the model. */
function model(e: BExpr, cols: Float64Array[], n: number): Float64Array | number {
  if (e.k === 'const') return e.v as number;
  if (e.k === 'col') return cols[e.i]!;
  const o = e as Extract<BExpr, { k: 'op' }>;
  const x = model(o.args[0]!, cols, n), y = model(o.args[1]!, cols, n);
  // (constant subtrees are folded by the planner: here computed as the kernel does)
  if (typeof x === 'number' && typeof y === 'number') return o.op === '+' ? x + y : o.op === '-' ? x - y : x * y;
  return floatArith(o.op, false, x, y, n, new Float64Array(n));
}

/** Deterministic pseudo-random numbers (fixed seed). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

describe('fusedArith', () => {
  it('equals operator-by-operator evaluation on random trees (fixed seed)', () => {
    const r = rng(20_261_125);
    const n = 257;
    const cols = [0, 1, 2].map(() => Float64Array.from({ length: n }, () => (r() - 0.5) * 10 ** Math.floor(r() * 8)));
    const ops = ['+', '-', '*'];
    const tree = (d: number): BExpr => {
      if (d === 0 || r() < 0.25) return r() < 0.3 ? num(Math.round(r() * 100) / 10) : col(Math.floor(r() * 3));
      return op(ops[Math.floor(r() * 3)]!, tree(d - 1), tree(d - 1));
    };
    let fusedCount = 0;
    for (let t = 0; t < 300; t++) {
      const e = tree(4);
      const f = fusedArith(e);
      if (f === null) continue;
      fusedCount++;
      const leaves = f.leaves.map((l) => cols[(l as { i: number }).i]!);
      const out = new Float64Array(n);
      expect(f.run(out, n, leaves)).toBe(true);
      const want = model(e, cols, n) as Float64Array;
      for (let i = 0; i < n; i++) expect(Object.is(out[i], want[i])).toBe(true);
    }
    expect(fusedCount).toBeGreaterThan(50);
  });

  it('reports a non-finite result (the caller then raises 22003 operator by operator)', () => {
    const e = op('*', op('*', col(0), num(1e300)), col(1));
    const f = fusedArith(e)!;
    const out = new Float64Array(2);
    expect(f.run(out, 2, [Float64Array.of(1, 1e10), Float64Array.of(2, 2)])).toBe(false);
    expect(() => model(e, [Float64Array.of(1, 1e10), Float64Array.of(2, 2)], 2)).toThrow(expect.objectContaining({ code: '22003' }));
  });

  it('leaves single operators and non-DOUBLE trees to the ordinary path', () => {
    expect(fusedArith(op('+', col(0), col(1)))).toBeNull();
    const intOp: BExpr = { k: 'op', t: T.integer, op: '+', args: [{ k: 'col', t: T.integer, i: 0 }, { k: 'col', t: T.integer, i: 1 }] } as BExpr;
    expect(fusedArith(op('*', intOp, col(1)))).toBeNull(); // an INTEGER operand is not a DOUBLE tree
  });
});
