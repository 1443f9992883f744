import { describe, expect, it } from 'vitest';
import { FractalIndex } from './fractal-index.js';
import { MemPageStore } from '../page/mem-page-store.js';
import { encodeKey } from '../key/key-encoding.js';
import { differential, type IndexKind } from '../testing/index-differential.js';

const LONG = process.env.QUIVER_LONG === '1';
const TIMEOUT = LONG ? 3_600_000 : 60_000;
const fractal: IndexKind = {
  create: (store, unique) => FractalIndex.create(store, { unique, name: 'ix', maxFanout: 4 }),
  open: (store, meta) => FractalIndex.open(store, meta, { name: 'ix' }),
  blind: true,
};

describe('FractalIndex', () => {
  const fops = LONG ? 1_000_000 : 30_000;
  it(`matches a sorted model through ${fops} mixed operations (unique)`, () => {
    differential(fractal, 21, true, fops, 512, 400);
  }, TIMEOUT);
  it(`matches a sorted model through ${fops} mixed operations (non-unique)`, () => {
    differential(fractal, 22, false, fops, 512, 150);
  }, TIMEOUT);
  it('keeps uniqueness across reopen', () => {
    const store = new MemPageStore(1024);
    const ix = FractalIndex.create(store, { unique: true });
    const k = encodeKey([{ type: 'utf8' }], ['x']);
    expect(ix.insert(k, 5).inserted).toBe(true);
    const again = FractalIndex.open(store, ix.checkpoint());
    expect(again.unique).toBe(true);
    expect(again.insert(k, 6)).toEqual({ inserted: false, existing: 5 });
  });
});
