/**
 * Tests of the SSI key order and range matching (ssi-key.ts): bounds with fewer parts than the key
 * bound a key prefix (a scan that bounded only the leading columns of a multi-column index).
 */
import { describe, expect, it } from 'vitest';
import { compareSsiKeys, keyInRange, writeMatchesRange } from './ssi-key.js';

describe('ssi-key ranges', () => {
  it('a one-part bound is a prefix bound for a two-part key', () => {
    const eq = { kind: 'range', space: 'pk', lo: ['a'], hi: ['a'], loInclusive: true, hiInclusive: true } as const;
    expect(keyInRange(['a', 5], eq)).toBe(true);
    expect(keyInRange(['a', null], eq)).toBe(true);
    expect(keyInRange(['b', 0], eq)).toBe(false);
    expect(keyInRange(['A', 9], eq)).toBe(false);
    const after = { kind: 'range', space: 'pk', lo: ['a'], loInclusive: false } as const;
    expect(keyInRange(['a', 1], after)).toBe(false);
    expect(keyInRange(['b', 1], after)).toBe(true);
    const below = { kind: 'range', space: 'pk', hi: ['m'], hiInclusive: false } as const;
    expect(keyInRange(['l', 99], below)).toBe(true);
    expect(keyInRange(['m', -1], below)).toBe(false);
  });

  it('full-length bounds compare every part', () => {
    const r = { kind: 'range', space: 'pk', lo: ['a', 2], hi: ['a', 4], loInclusive: true, hiInclusive: false } as const;
    expect(keyInRange(['a', 2], r)).toBe(true);
    expect(keyInRange(['a', 3], r)).toBe(true);
    expect(keyInRange(['a', 4], r)).toBe(false);
    expect(keyInRange(['a', 1], r)).toBe(false);
    expect(compareSsiKeys(['a'], ['a', 1])).toBeLessThan(0);
  });

  it('a write matches through the range key space it names, and conservatively otherwise', () => {
    const r = { kind: 'range', space: 'pk', lo: ['x'], hi: ['x'] } as const;
    expect(writeMatchesRange({ pk: ['x', 7] }, r)).toBe(true);
    expect(writeMatchesRange({ pk: ['y', 7] }, r)).toBe(false);
    expect(writeMatchesRange({ other: [1] }, r)).toBe(true);
    expect(writeMatchesRange(undefined, r)).toBe(true);
    expect(writeMatchesRange({ pk: undefined }, r)).toBe(false); // key left as it was
  });
});
