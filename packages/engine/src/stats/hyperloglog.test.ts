import { describe, expect, it } from 'vitest';
import { HyperLogLog } from './hyperloglog.js';

describe('HyperLogLog', () => {
  it('estimates distinct counts within a few percent against an exact Set', () => {
    let seed = 42;
    const rand = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed; };
    for (const n of [0, 1, 10, 1000, 50_000, 300_000]) {
      const hll = new HyperLogLog();
      const exact = new Set<number>();
      for (let i = 0; i < n * 2; i++) {
        const v = rand() % Math.max(1, n * 3);
        hll.add(v);
        exact.add(v);
      }
      hll.checkInvariants();
      const est = hll.estimate();
      const err = exact.size === 0 ? est : Math.abs(est - exact.size) / exact.size;
      expect(err, `n=${n} exact=${exact.size} est=${est}`).toBeLessThan(0.05);
    }
  });
});
