/**
 * More aggregate accumulators, reached from `makeAccumulator` (exec/aggregate.ts):
 * bit_and / bit_or / bit_xor over integers, and mode() WITHIN GROUP (ORDER BY x), which the
 * binder passes as `mode(x)` with the ORDER BY kept, so values arrive in sort order.
 *
 * Invariants:
 *  1. (as aggregate.ts) `add` sees only non-null values; a group without input gives NULL.
 *  2. mode's result is the most frequent value; among equally frequent ones, the first in the
 *     ORDER BY order (PostgreSQL's choice), because values are added in that order.
 *
 * Concurrency: an accumulator belongs to one operator run; nothing is shared.
 */
import { keyOf } from '../types/values.js';
import type { Accumulator } from './aggregate.js';

function bits(name: 'bit_and' | 'bit_or' | 'bit_xor'): Accumulator {
  const r: (number | bigint | undefined)[] = [];
  return {
    add(g, v) {
      const a = r[g];
      if (a === undefined) { r[g] = v as number | bigint; return; }
      if (typeof a === 'bigint') {
        const b = v as bigint;
        r[g] = name === 'bit_and' ? a & b : name === 'bit_or' ? a | b : a ^ b;
      } else {
        const b = v as number;
        r[g] = name === 'bit_and' ? a & b : name === 'bit_or' ? a | b : a ^ b;
      }
    },
    result: (g) => r[g] ?? null,
  };
}

function mode(): Accumulator {
  const counts: Map<unknown, { v: unknown; n: number; first: number }>[] = [];
  let seq = 0;
  return {
    add(g, v) {
      const m = (counts[g] ??= new Map());
      const k = keyOf(v);
      const e = m.get(k);
      if (e) e.n++; else m.set(k, { v, n: 1, first: seq++ });
    },
    result(g) {
      const m = counts[g];
      if (!m) return null;
      let best: { v: unknown; n: number; first: number } | undefined;
      for (const e of m.values()) if (!best || e.n > best.n || (e.n === best.n && e.first < best.first)) best = e;
      return best ? best.v : null;
    },
  };
}

/** An accumulator of this file for `name`, or undefined. */
export function moreAccumulator(name: string): Accumulator | undefined {
  switch (name) {
    case 'bit_and': case 'bit_or': case 'bit_xor': return bits(name);
    case 'mode': return mode();
  }
  return undefined;
}
