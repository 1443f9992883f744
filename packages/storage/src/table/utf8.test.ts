import { describe, expect, it } from 'vitest';
import { decodeStrings, encodeStrings } from './utf8.js';

/** xorshift32, fixed seed */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
}

const PIECES = ['a', 'key-', 'Z9', '', 'é', 'ß', '日本', '😀', '\u007f', '\u0080', ' '];

describe('encodeStrings / decodeStrings', () => {
  it('round-trip and equal TextEncoder per value: ASCII, non-ASCII, empty, converted values (fixed seed)', () => {
    const r = rng(20261125);
    const enc = new TextEncoder();
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(r() * 40);
      const ascii = r() < 0.5;
      const ss: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const k = r();
        if (k < 0.05) { ss.push(Math.floor(r() * 1000)); continue; } // a number: String(v)
        if (k < 0.08) { ss.push(null); continue; } // '' (as the default conversion gives)
        let s = '';
        const parts = Math.floor(r() * 5);
        for (let p = 0; p < parts; p++) s += PIECES[Math.floor(r() * (ascii ? 4 : PIECES.length))]!;
        ss.push(s);
      }
      const text = ss.map((x) => (typeof x === 'string' ? x : String(x ?? '')));
      const { bytes, offsets } = encodeStrings(ss, n);
      expect(offsets).toHaveLength(n + 1);
      for (let i = 0; i < n; i++) expect(bytes.subarray(offsets[i]!, offsets[i + 1]!)).toEqual(enc.encode(text[i]!));
      const out: unknown[] = new Array(n);
      decodeStrings(bytes, offsets, 0, n, out, 0);
      expect(out).toEqual(text);
    }
  });

  it('a custom conversion (JSON) and only the first n values', () => {
    const { bytes, offsets } = encodeStrings([{ a: 'é' }, [1], 'x', 'not taken'], 3, (x) => JSON.stringify(x));
    const out: unknown[] = [];
    decodeStrings(bytes, offsets, 0, 3, out, 0);
    expect(out).toEqual(['{"a":"é"}', '[1]', '"x"']);
  });
});
