/**
 * Fused DOUBLE arithmetic: a tree of `+ - *` over DOUBLE operands (columns and constants), run as
 * ONE loop compiled for the tree's shape, instead of one pass and one intermediate array per
 * operator. TPC-H's `l_extendedprice * (1 - l_discount) * (1 + l_tax)` is three passes and two
 * temporaries operator by operator, one pass fused.
 *
 * The kernel is compiled once per shape (`new Function`, cached by its source): operands are
 * parameters (`c0`, `c1`, ... arrays; `k0`, ... constants), never spliced into the source, so the
 * source depends only on the operators and their nesting.
 *
 * Invariants:
 *  1. When every result is finite, each equals the value operator-by-operator evaluation gives
 *     (eval.ts floatArith): the same IEEE operations on the same operands in the same order.
 *  2. When some result is not finite (an overflow, or an infinite or NaN input), `run` reports
 *     it and the caller evaluates operator by operator, which gives PostgreSQL's error (22003
 *     for an overflow of finite operands) or value. A finite final result implies finite
 *     intermediates: + - * of a non-finite value with anything is not finite.
 */
import type { BExpr } from '../plan/plan.js';

/** A fusable tree: its kernel, operand expressions (evaluated by the caller) and constants. */
export interface FusedArith {
  /** DOUBLE expressions whose values are the kernel's column parameters, in order */
  readonly leaves: readonly BExpr[];
  readonly consts: readonly number[];
  /** out[i] = the tree's value at row i for i < n; false when some value is not finite */
  run(out: Float64Array, n: number, cols: readonly Float64Array[]): boolean;
}

type Kernel = (out: Float64Array, n: number, c: readonly Float64Array[], k: readonly number[]) => boolean;

const kernels = new Map<string, Kernel>();
const shapes = new WeakMap<BExpr, FusedArith | null>();

const isArith = (e: BExpr): e is Extract<BExpr, { k: 'op' }> =>
  e.k === 'op' && e.t.id === 'DOUBLE' && e.args.length === 2 && (e.op === '+' || e.op === '-' || e.op === '*')
  && e.args[0]!.t.id === 'DOUBLE' && e.args[1]!.t.id === 'DOUBLE';

/**
 * The fused form of `e`, or null when `e` is not a DOUBLE `+ - *` tree of at least two operators
 * (one operator gains nothing over floatArith).
 */
export function fusedArith(e: BExpr): FusedArith | null {
  let f = shapes.get(e);
  if (f !== undefined) return f;
  f = build(e);
  shapes.set(e, f);
  return f;
}

function build(e: BExpr): FusedArith | null {
  if (!isArith(e)) return null;
  const leaves: BExpr[] = [];
  const consts: number[] = [];
  let ops = 0;
  // operands are read once per row into locals (a column used twice is two leaves: both read)
  const walk = (x: BExpr): string => {
    if (isArith(x)) {
      ops++;
      return `(${walk(x.args[0]!)} ${x.op} ${walk(x.args[1]!)})`;
    }
    if (x.k === 'const' && typeof x.v === 'number') { consts.push(x.v); return `k${consts.length - 1}`; }
    leaves.push(x);
    return `c${leaves.length - 1}[i]`;
  };
  const body = walk(e);
  if (ops < 2 || leaves.length === 0) return null;
  const src = [
    ...leaves.map((_, j) => `const c${j} = c[${j}];`),
    ...consts.map((_, j) => `const k${j} = k[${j}];`),
    'let ok = true;',
    'for (let i = 0; i < n; i++) {',
    `  const r = ${body};`,
    '  out[i] = r;',
    '  if (r - r !== 0) ok = false;', // NaN or ±Infinity
    '}',
    'return ok;',
  ].join('\n');
  let kernel = kernels.get(src);
  if (kernel === undefined) {
    kernel = new Function('out', 'n', 'c', 'k', src) as Kernel;
    kernels.set(src, kernel);
  }
  const k = kernel;
  return { leaves, consts, run: (out, n, cols) => k(out, n, cols, consts) };
}
