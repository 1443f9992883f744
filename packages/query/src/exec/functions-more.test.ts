import { describe, expect, it } from 'vitest';
import { T, seededRandom } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import { Decimal } from '../types/decimal.js';
import { formatInterval } from '../types/values.js';
import { likeRegex } from './functions.js';
import { MORE_FUNCTIONS, similarToRegex } from './functions-more.js';

const ctx = (argTypes: SqlType[]) => ({ now: new Date(0), argTypes });

/** Rows of a set-returning function through its element functions (what bind/srf.ts runs). */
function srfRows(kind: string, args: unknown[], types: SqlType[]): unknown[] {
  const len = MORE_FUNCTIONS.__srf_len!.impl([kind, ...args], ctx([T.text, ...types])) as number;
  const out: unknown[] = [];
  for (let n = 1; n <= len; n++) out.push(MORE_FUNCTIONS.__srf_at!.impl([n, kind, ...args], ctx([T.integer, T.text, ...types])));
  expect(MORE_FUNCTIONS.__srf_at!.impl([len + 1, kind, ...args], ctx([T.integer, T.text, ...types]))).toBeNull();
  return out;
}

describe('functions-more', () => {
  it('generate_series element functions agree with a naive loop (seeded)', () => {
    const r = seededRandom(42);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    for (let k = 0; k < 500; k++) {
      const a = int(-20, 20), b = int(-20, 20);
      let step = int(-5, 5);
      if (step === 0) step = 1;
      const naive: number[] = [];
      for (let x = a; step > 0 ? x <= b : x >= b; x += step) naive.push(x);
      expect(srfRows('generate_series', [a, b, step], [T.integer, T.integer, T.integer])).toEqual(naive);
      expect(srfRows('generate_series', [BigInt(a), BigInt(b), BigInt(step)], [T.bigint, T.bigint, T.bigint])).toEqual(naive.map(BigInt));
      // numeric with a fractional start and step
      const da = Decimal.parse(`${a}.5`), ds = Decimal.parse(`${step}.25`);
      const dn: string[] = [];
      for (let x = da; ds.sign() > 0 ? x.cmp(Decimal.fromInt(b)) <= 0 : x.cmp(Decimal.fromInt(b)) >= 0; x = x.add(ds)) dn.push(x.toString());
      const got = srfRows('generate_series', [da, Decimal.fromInt(b), ds], [T.numeric, T.numeric, T.numeric]) as Decimal[];
      expect(got.map((d) => d.toString())).toEqual(dn);
    }
  });

  it('SIMILAR TO without regex syntax matches as LIKE does (seeded)', () => {
    const r = seededRandom(7);
    const pick = (s: string) => s[Math.floor(r() * s.length)]!;
    for (let k = 0; k < 3000; k++) {
      const pat = Array.from({ length: Math.floor(r() * 5) }, () => pick('ab%_.$^')).join('');
      const str = Array.from({ length: Math.floor(r() * 5) }, () => pick('ab.$^')).join('');
      const similar = new RegExp(similarToRegex(pat, null), 's').test(str);
      expect(similar, `${str} SIMILAR TO ${pat}`).toBe(likeRegex(pat, false).test(str));
    }
  });

  it('prints intervals as PostgreSQL does', () => {
    expect(formatInterval({ months: 14, days: 3, us: 0 })).toBe('1 year 2 mons 3 days');
    expect(formatInterval({ months: -14, days: 0, us: 0 })).toBe('-1 years -2 mons');
    expect(formatInterval({ months: 0, days: -1, us: 2 * 3600e6 })).toBe('-1 days +02:00:00');
    expect(formatInterval({ months: 1, days: 0, us: -3600e6 })).toBe('1 mon -01:00:00');
    expect(formatInterval({ months: 0, days: 0, us: 0 })).toBe('00:00:00');
    expect(formatInterval({ months: 0, days: 1, us: 1.5e6 })).toBe('1 day 00:00:01.5');
  });
});
