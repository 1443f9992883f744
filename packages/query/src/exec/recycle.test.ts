import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { give, pooledBytes, takeF64, takeI32, takeU8 } from './recycle.js';

describe('recycle', () => {
  // fake timers from the start: the idle drain's timer is created by the first give
  beforeAll(() => { vi.useFakeTimers(); });
  afterAll(() => { vi.useRealTimers(); });

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

  it('empties the free lists after 5 minutes without a take, not while buffers are taken', () => {
    give(takeF64(50_000));
    expect(pooledBytes()).toBeGreaterThan(0);
    vi.advanceTimersByTime(200_000);
    give(takeF64(50_000)); // a take inside the window: kept another round
    vi.advanceTimersByTime(200_000);
    expect(pooledBytes()).toBeGreaterThan(0);
    vi.advanceTimersByTime(400_000);
    expect(pooledBytes()).toBe(0);
  });
});
