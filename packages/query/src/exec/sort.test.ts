/**
 * Sort permutations against a naive model (seeded): the typed comparators order as `cmpRows`
 * does, ties by position, and top-N returns exactly the first `limit` rows of the full sort.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import type { SortKey } from '../plan/plan.js';
import { cmpRows, rowComparator, sortedIndexes } from './sort.js';

const key = (desc: boolean, nullsFirst: boolean): SortKey => ({ e: { k: 'const', t: { id: 'INTEGER' }, v: null }, desc, nullsFirst } as unknown as SortKey);

describe('sort permutations', () => {
  it('typed and generic key columns, full sorts and top-N, equal a stable sort by cmpRows (seeded)', () => {
    const rnd = seededRandom(2718);
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(rnd() * 300);
      const nk = 1 + Math.floor(rnd() * 3);
      const cols: unknown[][] = [];
      const keys: SortKey[] = [];
      for (let k = 0; k < nk; k++) {
        const kind = Math.floor(rnd() * 4);
        const range = 1 + Math.floor(rnd() * 20);
        if (kind === 0) cols.push(Int32Array.from({ length: n }, () => Math.floor(rnd() * range)) as unknown as unknown[]);
        else if (kind === 1) cols.push(Float64Array.from({ length: n }, () => (rnd() < 0.05 ? NaN : Math.floor(rnd() * range) / 2)) as unknown as unknown[]);
        else if (kind === 2) cols.push(Array.from({ length: n }, () => (rnd() < 0.2 ? null : Math.floor(rnd() * range))));
        else cols.push(Array.from({ length: n }, () => (rnd() < 0.2 ? null : 's' + Math.floor(rnd() * range))));
        keys.push(key(rnd() < 0.5, rnd() < 0.5));
      }
      const model = Array.from({ length: n }, (_x, i) => i);
      // insertion sort: stable, uses cmpRows only
      for (let i = 1; i < n; i++) {
        const v = model[i]!;
        let j = i - 1;
        while (j >= 0 && cmpRows(cols, keys, model[j]!, v) > 0) { model[j + 1] = model[j]!; j--; }
        model[j + 1] = v;
      }
      const limit = rnd() < 0.5 ? Infinity : Math.floor(rnd() * (n + 2));
      const got = sortedIndexes(rowComparator(cols, keys), n, limit);
      expect(got).toEqual(limit < n ? model.slice(0, limit) : model);
    }
  });
});
