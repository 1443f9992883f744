/** Seeded differential test of Decimal against a naive scaled-bigint model. */
import { describe, expect, it } from 'vitest';
import { Decimal } from './decimal.js';
import { seededRandom } from '@quiverdb/common';

/** naive model: [unscaled bigint, scale] */
type M = [bigint, number];
const model = (d: string): M => {
  const neg = d.startsWith('-');
  const [i, f = ''] = d.replace('-', '').split('.');
  return [BigInt((neg ? '-' : '') + (i! + f || '0')), f.length];
};
const align = (a: M, s: number): bigint => a[0] * 10n ** BigInt(s - a[1]);
const show = (m: M): string => {
  const neg = m[0] < 0n;
  let digits = (neg ? -m[0] : m[0]).toString();
  if (m[1] === 0) return (neg && digits !== '0' ? '-' : '') + digits;
  if (digits.length <= m[1]) digits = '0'.repeat(m[1] - digits.length + 1) + digits;
  return (neg ? '-' : '') + digits.slice(0, digits.length - m[1]) + '.' + digits.slice(digits.length - m[1]);
};

function randomDecimalText(r: () => number): string {
  const big = r() < 0.2;
  const intDigits = Math.floor(r() * (big ? 25 : 8));
  const fracDigits = Math.floor(r() * (big ? 12 : 5));
  let s = r() < 0.4 ? '-' : '';
  s += intDigits === 0 ? '0' : String(1 + Math.floor(r() * 9)) + Array.from({ length: intDigits - 1 }, () => Math.floor(r() * 10)).join('');
  if (fracDigits > 0) s += '.' + Array.from({ length: fracDigits }, () => Math.floor(r() * 10)).join('');
  return s;
}

describe('Decimal', () => {
  it('agrees with a naive bigint model on parse, add, sub, mul, cmp (seeded)', () => {
    const r = seededRandom(1234);
    const iterations = process.env['QUIVER_LONG'] ? 200_000 : 5_000;
    for (let k = 0; k < iterations; k++) {
      const x = randomDecimalText(r), y = randomDecimalText(r);
      const a = Decimal.parse(x), b = Decimal.parse(y);
      const ma = model(x), mb = model(y);
      expect(a.toString()).toBe(show(ma));
      const s = Math.max(ma[1], mb[1]);
      expect(a.add(b).toString()).toBe(show([align(ma, s) + align(mb, s), s]));
      expect(a.sub(b).toString()).toBe(show([align(ma, s) - align(mb, s), s]));
      expect(a.mul(b).toString()).toBe(show([ma[0] * mb[0], ma[1] + mb[1]]));
      const c = align(ma, s) < align(mb, s) ? -1 : align(ma, s) > align(mb, s) ? 1 : 0;
      expect(a.cmp(b)).toBe(c);
    }
  });
  it('divides with PostgreSQL result scales', () => {
    expect(Decimal.parse('1').div(Decimal.parse('3')).toString()).toBe('0.33333333333333333333');
    expect(Decimal.parse('10').div(Decimal.parse('4')).toString()).toBe('2.5000000000000000');
    expect(Decimal.parse('100000').div(Decimal.parse('3')).toString()).toBe('33333.333333333333');
    expect(Decimal.parse('2.50').withScale(1).toString()).toBe('2.5');
    expect(Decimal.parse('-2.45').withScale(1).toString()).toBe('-2.5');
    expect(() => Decimal.parse('1').div(Decimal.ZERO)).toThrow(expect.objectContaining({ code: '22012' }));
  });
});
