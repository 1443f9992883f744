/**
 * A small seeded PRNG (mulberry32) for reproducible randomized tests. Not for production use.
 */
import { seededRandom } from '@quiverdb/common';

export class SeededRandom {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }
  /** uniform in [0, 1) */
  next(): number {
    return this.#next();
  }
  /** integer in [0, n) */
  int(n: number): number { return Math.floor(this.next() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  chance(p: number): boolean { return this.next() < p; }
}

/** Number of randomized iterations: more with QUIVER_LONG=1. */
export function iterations(quick: number, long: number): number {
  return process.env['QUIVER_LONG'] === '1' ? long : quick;
}
