/**
 * The hash join kernel against a naive nested loop (seeded random keys): NULLs never match,
 * duplicates give every pair, SQL-equal values of different representations meet, and the pairs
 * come in left-major order whichever side the table is built on.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { keyOf } from '../types/values.js';
import { Decimal } from '../types/decimal.js';
import { buildTable, checkInvariants, encodeBuild, encodeKeys, encodeProbe, int32Probe, joinPairs, matchedLeft, orderBy, probeAny, probeAnyInt32, probeBatch, probeInt32 } from './hash-join.js';

type Col = ArrayLike<unknown>;

function naivePairs(l: Col[], ln: number, r: Col[], rn: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < ln; i++) {
    for (let j = 0; j < rn; j++) {
      let eq = true;
      for (let c = 0; c < l.length; c++) {
        const a = l[c]![i], b = r[c]![j];
        if (a === null || b === null || keyOf(a) !== keyOf(b)) { eq = false; break; }
      }
      if (eq) out.push([i, j]);
    }
  }
  return out;
}

/** A random key column of n values drawn from `domain` kinds. */
function randomColumn(rnd: () => number, n: number, kind: string): Col {
  const pick = (): unknown => {
    if (rnd() < 0.1) return null;
    const v = Math.floor(rnd() * 12) - 2;
    switch (kind) {
      case 'int': return v;
      case 'double': return rnd() < 0.2 ? v + 0.5 : v === 0 && rnd() < 0.5 ? -0 : v;
      case 'text': return 'k' + v;
      case 'bigint': return BigInt(v);
      case 'numeric': return Decimal.fromInt(v);
      default: throw new Error(kind);
    }
  };
  if (kind === 'int32' || kind === 'f64') {
    const a = kind === 'int32' ? new Int32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.floor(rnd() * 12) - 2;
    return a;
  }
  return Array.from({ length: n }, pick);
}

/** Kinds whose values compare equal across sides (the binder gives both sides one type; mixed numeric kinds meet through keyOf). */
const PAIRS: [string, string][] = [
  ['int', 'int'], ['int32', 'int'], ['int', 'int32'], ['int32', 'int32'], ['double', 'double'], ['f64', 'int'],
  ['text', 'text'], ['bigint', 'int'], ['int', 'bigint'], ['numeric', 'int'], ['int', 'numeric'],
];

describe('hash join kernel', () => {
  it('joinPairs equals a nested loop, in left-major order (seeded)', () => {
    const rnd = seededRandom(4242);
    for (let round = 0; round < 300; round++) {
      const ncols = 1 + Math.floor(rnd() * 3);
      const ln = Math.floor(rnd() * 40), rn = Math.floor(rnd() * 40);
      const l: Col[] = [], r: Col[] = [];
      for (let c = 0; c < ncols; c++) {
        const [lk, rk] = PAIRS[Math.floor(rnd() * PAIRS.length)]!;
        l.push(randomColumn(rnd, ln, lk)); r.push(randomColumn(rnd, rn, rk));
      }
      const want = naivePairs(l, ln, r, rn);
      const { li, ri } = joinPairs(encodeKeys(l, ln, r, rn), ln, rn);
      const got = Array.from(li, (x, k) => [x, ri[k]!] as [number, number]);
      expect(got).toEqual(want);
      // semi join: left rows with a partner
      const m = matchedLeft(encodeKeys(l, ln, r, rn), ln, rn);
      const wantM = new Uint8Array(ln);
      for (const [i] of want) wantM[i] = 1;
      expect(m).toEqual(wantM);
    }
  });

  it('probing in batches with the build side coders finds the same pairs (seeded)', () => {
    const rnd = seededRandom(77);
    for (let round = 0; round < 100; round++) {
      const [bk, pk] = PAIRS[Math.floor(rnd() * PAIRS.length)]!;
      const bn = Math.floor(rnd() * 50), pn = Math.floor(rnd() * 50);
      const bcol = randomColumn(rnd, bn, bk), pcol = randomColumn(rnd, pn, pk);
      const want = naivePairs([pcol], pn, [bcol], bn);
      const enc = encodeBuild([bcol], bn);
      const t = buildTable(enc.keys.codes, enc.keys.valid, bn);
      checkInvariants(t, enc.keys.codes, enc.keys.valid, bn);
      const got: [number, number][] = [];
      const any = new Uint8Array(pn);
      for (let from = 0; from < pn; from += 7) {
        const to = Math.min(pn, from + 7);
        const slice = Array.from({ length: to - from }, (_x, i) => pcol[from + i]);
        const p = encodeProbe(enc.coders, [slice], to - from);
        const { pi, bi } = probeBatch(t, enc.keys, p);
        for (let x = 0; x < pi.length; x++) got.push([from + pi[x]!, bi[x]!]);
        any.set(probeAny(t, enc.keys.codes, p.codes, p.valid, p.n), from);
      }
      expect(got).toEqual(want);
      const wantAny = new Uint8Array(pn);
      for (const [i] of want) wantAny[i] = 1;
      expect(any).toEqual(wantAny);
    }
  });

  it('int32 key columns probed in place, through a selection, equal the encoded probe (seeded)', () => {
    const rnd = seededRandom(9001);
    for (let round = 0; round < 100; round++) {
      const bn = Math.floor(rnd() * 60), pn = Math.floor(rnd() * 60);
      const bcol = randomColumn(rnd, bn, ['int', 'int32', 'f64', 'double'][round % 4]!);
      const pcol = new Int32Array(pn);
      for (let i = 0; i < pn; i++) pcol[i] = Math.floor(rnd() * 2000) - 1000 > 0 ? Math.floor(rnd() * 12) - 2 : (rnd() < 0.5 ? -2147483648 : 2147483647);
      const rows = Int32Array.from({ length: pn }, (_x, i) => i).filter(() => rnd() < 0.6);
      const enc = encodeBuild([bcol], bn);
      const t = buildTable(enc.keys.codes, enc.keys.valid, bn);
      const i32 = int32Probe(enc.coders, [pcol]);
      if (!i32) { expect(enc.coders[0]!.kind).toBe('dict'); continue; }
      const sel = Array.from(rows, (r) => pcol[r]!);
      const want = naivePairs([sel], rows.length, [bcol], bn);
      const got = probeInt32(t, enc.keys, i32, rows, rows.length);
      expect(Array.from(got.pi, (x, k) => [x, got.bi[k]!])).toEqual(want);
      const p = encodeProbe(enc.coders, [pcol], rows.length, rows);
      expect(probeAnyInt32(t, enc.keys, i32, rows, rows.length)).toEqual(probeAny(t, enc.keys.codes, p.codes, p.valid, p.n));
    }
  });

  it('large builds (bit filter in use) find every pair and no other, on every probe path (seeded)', () => {
    const rnd = seededRandom(4242);
    for (let round = 0; round < 6; round++) {
      // keys spread over a range about twice the build size: about half the probes have no partner
      const bn = 2048 + Math.floor(rnd() * 3000), pn = 3000;
      const range = bn * 2;
      const two = round % 2 === 1;
      const bcols: Col[] = [Int32Array.from({ length: bn }, () => Math.floor(rnd() * range) - 100)];
      const pcols: Col[] = [Int32Array.from({ length: pn }, () => Math.floor(rnd() * range) - 100)];
      if (two) {
        bcols.push(Array.from({ length: bn }, () => (rnd() < 0.05 ? null : 'v' + Math.floor(rnd() * 3))));
        pcols.push(Array.from({ length: pn }, () => 'v' + Math.floor(rnd() * 3)));
      }
      // expected pairs through a Map of the build rows
      const byKey = new Map<string, number[]>();
      for (let j = 0; j < bn; j++) {
        if (bcols.some((c) => c[j] === null)) continue;
        const k = bcols.map((c) => String(c[j])).join('|');
        (byKey.get(k) ?? byKey.set(k, []).get(k)!).push(j);
      }
      const want: number[][] = [];
      for (let i = 0; i < pn; i++) for (const j of byKey.get(pcols.map((c) => String(c[i])).join('|')) ?? []) want.push([i, j]);
      const enc = encodeBuild(bcols, bn);
      const t = buildTable(enc.keys.codes, enc.keys.valid, bn);
      expect(t.filter.length).toBeGreaterThan(0);
      checkInvariants(t, enc.keys.codes, enc.keys.valid, bn);
      const p = encodeProbe(enc.coders, pcols, pn);
      const { pi, bi } = probeBatch(t, enc.keys, p);
      expect(Array.from(pi, (x, k) => [x, bi[k]!])).toEqual(want);
      const wantAny = new Uint8Array(pn);
      for (const [i] of want) wantAny[i!] = 1;
      expect(probeAny(t, enc.keys.codes, p.codes, p.valid, p.n)).toEqual(wantAny);
      const i32 = int32Probe(enc.coders, pcols);
      if (!two) {
        const got = probeInt32(t, enc.keys, i32!, null, pn);
        expect(Array.from(got.pi, (x, k) => [x, got.bi[k]!])).toEqual(want);
        expect(probeAnyInt32(t, enc.keys, i32!, null, pn)).toEqual(wantAny);
      }
      // joinPairs builds on the smaller side: both directions
      const lr = joinPairs(encodeKeys(pcols, pn, bcols, bn), pn, bn);
      expect(Array.from(lr.li, (x, k) => [x, lr.ri[k]!])).toEqual(want);
    }
  });

  it('NaN never breaks the table: NaN keys fall back to keyOf equality', () => {
    const l = [[NaN, 1, null]], r = [[1, NaN, NaN]];
    const { li, ri } = joinPairs(encodeKeys(l, 3, r, 3), 3, 3);
    expect(Array.from(li)).toEqual([0, 0, 1]);
    expect(Array.from(ri)).toEqual([1, 2, 0]);
  });

  it('orderBy is a stable counting sort', () => {
    const key = Int32Array.from([2, 0, 1, 0, 2, 1]);
    expect(Array.from(orderBy(key, 3))).toEqual([1, 3, 2, 5, 0, 4]);
  });
});
