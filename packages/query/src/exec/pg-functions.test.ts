import { describe, expect, it } from 'vitest';
import { formatArray, formatType, parseArray } from './pg-functions.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('pg-functions', () => {
  it('parseArray(formatArray(xs)) = xs (seeded)', () => {
    const r = rng(8);
    const alphabet = ['a', 'B', ' ', ',', '"', '\\', '{', '}', '1', 'é', 'N', 'U', 'L'];
    for (let n = 0; n < 2000; n++) {
      const xs = Array.from({ length: Math.floor(r() * 5) }, () =>
        r() < 0.15 ? null : Array.from({ length: Math.floor(r() * 6) }, () => alphabet[Math.floor(r() * alphabet.length)]!).join(''));
      expect(parseArray(formatArray(xs))).toEqual(xs);
    }
  });

  it('parses PostgreSQL array text', () => {
    expect(parseArray('{1,2,3}')).toEqual(['1', '2', '3']);
    expect(parseArray('{}')).toEqual([]);
    expect(parseArray('{"a b",NULL,"NULL"}')).toEqual(['a b', null, 'NULL']);
    expect(parseArray('1 2')).toBeNull();
  });

  it('formats types with modifiers as format_type does', () => {
    expect(formatType(1043, 84)).toBe('character varying(80)');
    expect(formatType(1700, ((12 << 16) | 3) + 4)).toBe('numeric(12,3)');
    expect(formatType(1700, -1)).toBe('numeric');
    expect(formatType(1114, null)).toBe('timestamp without time zone');
    expect(formatType(1015, 24)).toBe('character varying(20)[]');
    expect(formatType(99999, -1)).toBe('???');
  });
});
