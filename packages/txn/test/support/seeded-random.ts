/**
 * A small seeded PRNG (mulberry32) for reproducible randomized tests. Not for production use.
 */
export class SeededRandom {
  #s: number;
  constructor(seed: number) { this.#s = seed >>> 0; }
  /** uniform in [0, 1) */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
