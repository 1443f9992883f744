/**
 * Measurement (not a test): pages written per N random inserts, B+ tree vs Bε-tree, and point
 * lookup latency. Both trees use the same 4 KiB pages, the same keys (random BIGINT, encoded)
 * and row ids, and checkpoint every K inserts (copy-on-write: each checkpoint writes every node
 * dirtied since the previous one, as a database's periodic checkpoint does).
 *
 *   node bench/run.mjs [N=1000000] [K=10000] [fanout=8]
 */
import { BTree, BeTree, MemPageStore, encodeKey, type KeyColumn } from '../src/index.js';
import { Rng } from '../src/testing/rng.js';

const N = Number(process.argv[2] ?? 1_000_000);
const K = Number(process.argv[3] ?? 10_000);
const FANOUT = Number(process.argv[4] ?? 8);
const PAGE = 4096;
const spec: KeyColumn[] = [{ type: 'int64' }];

const rng = new Rng(2026);
const keys: Uint8Array[] = new Array(N);
for (let i = 0; i < N; i++) keys[i] = encodeKey(spec, [BigInt(Math.floor(rng.next() * 2 ** 52)) * 2048n + BigInt(i & 2047)]);

function rowBytes(i: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, i);
  return b;
}

function lookupLatency(get: (k: Uint8Array) => unknown): number {
  const r = new Rng(7);
  const M = 200_000;
  const probe = Array.from({ length: M }, () => keys[r.int(N)]!);
  for (let i = 0; i < 20_000; i++) get(probe[i]!); // warm up
  const t0 = performance.now();
  let found = 0;
  for (let i = 0; i < M; i++) if (get(probe[i]!) !== undefined) found++;
  const us = ((performance.now() - t0) * 1000) / M;
  if (found !== M) throw new Error(`lookups found ${found} of ${M}`);
  return us;
}

const results: Record<string, unknown>[] = [];
{
  const store = new MemPageStore(PAGE);
  const t = BTree.create(store, { unique: true });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    t.insert(keys[i]!, i);
    if ((i + 1) % K === 0) t.checkpoint();
  }
  t.checkpoint();
  const ms = performance.now() - t0;
  const { pages, leaves } = t.checkInvariants();
  results.push({ tree: 'B+ tree', inserts: N, checkpointEvery: K, pagesWritten: store.stats.writes, pagesPer1000Inserts: +((store.stats.writes / N) * 1000).toFixed(1), insertsPerSec: Math.round(N / (ms / 1000)), treePages: pages, leaves, height: t.height, lookupUs: +lookupLatency((k) => t.get(k)).toFixed(3) });
}
{
  const store = new MemPageStore(PAGE);
  const t = BeTree.create(store, { maxFanout: FANOUT });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    t.put(keys[i]!, rowBytes(i));
    if ((i + 1) % K === 0) t.checkpoint();
  }
  t.checkpoint();
  const ms = performance.now() - t0;
  const { pages, leaves } = t.checkInvariants();
  results.push({ tree: `Bε-tree (fanout ${FANOUT})`, inserts: N, checkpointEvery: K, pagesWritten: store.stats.writes, pagesPer1000Inserts: +((store.stats.writes / N) * 1000).toFixed(1), insertsPerSec: Math.round(N / (ms / 1000)), treePages: pages, leaves, height: t.height, flushes: t.stats.flushes, lookupUs: +lookupLatency((k) => t.get(k)).toFixed(3) });
}
console.table(results);
const ratio = (results[0]!.pagesWritten as number) / (results[1]!.pagesWritten as number);
console.log(`B+ tree / Bε-tree pages written: ${ratio.toFixed(2)}x (target >= 5x)`);
// one machine-readable line for the bench package
console.log(`BENCH_RESULT ${JSON.stringify({ name: 'indexes/pages-written', n: N, checkpointEvery: K, fanout: FANOUT, ratio: +ratio.toFixed(2), results })}`);
