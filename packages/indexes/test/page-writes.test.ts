/**
 * Page writes of random inserts, B+ tree vs Bε-tree, through the public entry. Both checkpoint
 * every K inserts (each checkpoint writes every node dirtied since the previous one).
 * The full measurement (1,000,000 inserts) is bench/pages-written.ts, or QUIVER_LONG=1 here.
 */
import { describe, expect, it } from 'vitest';
import { BTree, BeTree, MemPageStore, encodeKey, toBinary } from '../src/index.js';
import { Rng } from '../src/testing/rng.js';

const LONG = process.env.QUIVER_LONG === '1';
const TIMEOUT = LONG ? 3_600_000 : 60_000;

describe('page writes for random inserts', () => {
  const N = LONG ? 1_000_000 : 20_000;
  const K = LONG ? 1_000 : 100;
  it(`Bε-tree writes at least 5x fewer pages than the B+ tree (${N} inserts, checkpoint every ${K})`, () => {
    const r = new Rng(99);
    const keys = Array.from({ length: N }, (_, i) => encodeKey([{ type: 'int64' }], [BigInt(r.int(2 ** 40)) * 65536n + BigInt(i & 0xffff)]));
    const bs = new MemPageStore(4096);
    const bt = BTree.create(bs, { unique: true });
    const es = new MemPageStore(4096);
    const be = BeTree.create(es, { maxFanout: 8 });
    const v = new Uint8Array(8);
    for (let i = 0; i < N; i++) {
      bt.insert(keys[i]!, i);
      be.put(keys[i]!, v);
      if ((i + 1) % K === 0) {
        bt.checkpoint();
        be.checkpoint();
      }
    }
    bt.checkpoint();
    be.checkpoint();
    const ratio = bs.stats.writes / es.stats.writes;
    console.log(`pages written: B+ tree ${bs.stats.writes}, Bε-tree ${es.stats.writes} (${ratio.toFixed(2)}x)`);
    expect(ratio).toBeGreaterThanOrEqual(5);
    // same content
    const a = [...bt.scan()].map((e) => toBinary(e.key));
    const b = [...be.scan()].map((e) => toBinary(e.key));
    expect(b).toEqual(a);
  }, TIMEOUT);
});
