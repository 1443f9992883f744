/**
 * A small seeded PRNG (mulberry32) for reproducible randomized tests and benchmarks.
 * Not for anything security related.
 */
import { seededRandom } from '@quiverdb/common';

export class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.#next();
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  bool(): boolean {
    return this.next() < 0.5;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}
