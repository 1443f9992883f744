import { describe, expect, it } from 'vitest';
import { give, pooledBytes, takeF64, takeI32, takeU8 } from './recycle.js';

describe('recycle', () => {
  it('hands a given-back buffer out again, zeroed, at the asked length', () => {
    const a = takeF64(20_000);
    expect(a.length).toBe(20_000);
    a.fill(7);
    const before = pooledBytes();
    give(a);
    expect(pooledBytes()).toBe(before + a.buffer.byteLength);
    const b = takeF64(19_000);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(19_000);
    expect(b.every((x) => x === 0)).toBe(true);
    expect(pooledBytes()).toBe(before);
  });

  it('ignores small arrays, foreign arrays and a second give of the same buffer', () => {
    const before = pooledBytes();
    give(takeI32(10));
    give(new Float64Array(100_000));
    expect(pooledBytes()).toBe(before);
    const u = takeU8(1 << 17);
    give(u);
    give(u);
    expect(pooledBytes()).toBe(before + (1 << 17));
    expect(takeU8(1 << 17).buffer).toBe(u.buffer);
  });
});
