import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { crc32, crc32Padded, crc32Table } from './crc32.js';

describe('crc32', () => {
  it('has the standard check value', () => {
    const b = new TextEncoder().encode('123456789');
    expect(crc32(b)).toBe(0xcbf43926);
    expect(crc32Table(b)).toBe(0xcbf43926);
  });

  it('equals the byte-wise table on random pages and sub-ranges', () => {
    const rnd = seededRandom(7);
    for (let t = 0; t < 50; t++) {
      const n = 1 + Math.floor(rnd() * 5000);
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
      const s = Math.floor(rnd() * n);
      const e = s + Math.floor(rnd() * (n - s + 1));
      expect(crc32(b)).toBe(crc32Table(b));
      expect(crc32(b, s, e)).toBe(crc32Table(b, s, e));
    }
  });

  it('crc32Padded equals the checksum of the zero-padded page', () => {
    const rnd = seededRandom(11);
    for (let t = 0; t < 50; t++) {
      const size = [512, 4096, 8192][t % 3]!;
      const n = Math.floor(rnd() * (size + 1));
      const page = new Uint8Array(size);
      for (let i = 0; i < n; i++) page[i] = Math.floor(rnd() * 256);
      expect(crc32Padded(page.subarray(0, n), size)).toBe(crc32Table(page));
    }
  });
});
