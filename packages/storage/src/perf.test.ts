/**
 * Measurements for README.md (not a test of correctness; skipped unless QUIVER_BENCH=1):
 * codec sizes / encode / decode times, bulk load rows/s, cold and warm scan rows/s, durable
 * commit latency from 1 and 16 concurrent committers (group commit) on the real file system.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pw from 'parquet-wasm';
import type { TableId, Timestamp, TxnId } from '@quiverdb/common';
import { NodeEnv } from './env/node-env.js';
import { encodeSegment, type SegmentCodec } from './segment/parquet-io.js';
import { openStore } from './store.js';
import { Clock, randomRow, rng, rowsToBatch, SPEC } from './test-support.js';

const bench = process.env.QUIVER_BENCH ? describe : describe.skip;
const T = 7 as TableId;
const N = Number(process.env.QUIVER_BENCH_ROWS ?? 1_000_000);

bench('storage measurements', () => {
  it('codecs', () => {
    const r = rng(1);
    const rows = Array.from({ length: 500_000 }, (_, i) => randomRow(r, i));
    const b = rowsToBatch(rows);
    const cols = [{ name: 'k', type: 'int32' as const }, { name: 's', type: 'utf8' as const }, { name: 'b', type: 'int64' as const }, { name: 'f', type: 'float64' as const }];
    encodeSegment(cols, b.columns, b.length, 122_880, 'snappy'); // warm-up
    for (const [codec, dict] of [['uncompressed', true], ['snappy', true], ['snappy', false], ['lz4', true], ['lz4', false], ['zstd', true]] as [SegmentCodec, boolean][]) {
      let enc = Infinity;
      let dec = Infinity;
      let size = 0;
      for (let rep = 0; rep < 3; rep++) {
        let t = performance.now();
        const bytes = encodeSegment(cols, b.columns, b.length, 122_880, codec, dict);
        enc = Math.min(enc, performance.now() - t);
        size = bytes.length;
        t = performance.now();
        pw.readParquet(bytes).free();
        dec = Math.min(dec, performance.now() - t);
      }
      console.log(`codec ${codec}${dict ? '' : ' (no string dictionary)'}: ${(size / 1e6).toFixed(1)} MB, encode ${enc.toFixed(0)} ms, decode ${dec.toFixed(0)} ms (500k rows x 4 cols, best of 3)`);
    }
  });

  it('bulk load, scans, commits on NodeEnv', async () => {
    const root = mkdtempSync(join(tmpdir(), 'quiver-bench-'));
    try {
      let s = await openStore({ env: new NodeEnv(), dir: root, memoryLimit: 512 << 20, checkpointWalBytes: 1 << 30 });
      const clock = new Clock();
      const a = clock.begin();
      s.createTable(a.txn, SPEC(7));
      await clock.commit(s, a.txn);
      const r = rng(2);
      const batches = [];
      for (let i = 0; i < N; i += 100_000) batches.push(rowsToBatch(Array.from({ length: Math.min(100_000, N - i) }, (_, j) => randomRow(r, i + j))));
      let t = performance.now();
      const l = clock.begin();
      for (const b of batches) s.insert(l.txn, T, b);
      await clock.commit(s, l.txn);
      const load = performance.now() - t;
      t = performance.now();
      await s.checkpoint();
      const ckpt = performance.now() - t;
      console.log(`bulk load ${N} rows: insert+WAL commit ${(N / load * 1000).toFixed(0)} rows/s; checkpoint to Parquet ${(N / ckpt * 1000).toFixed(0)} rows/s`);
      await s.close();
      s = await openStore({ env: new NodeEnv(), dir: root, memoryLimit: 512 << 20 });
      const snap = { txnId: 1 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp };
      for (const label of ['cold', 'warm']) {
        t = performance.now();
        let n = 0;
        for await (const b of s.scan(T, snap, { columns: [0, 1, 2, 3] })) n += b.batch.length;
        const ms = performance.now() - t;
        expect(n).toBe(N);
        console.log(`${label} full scan (4 cols): ${(n / ms * 1000).toFixed(0)} rows/s`);
      }
      const stats = { rowGroupsTotal: 0, rowGroupsSkipped: 0 };
      t = performance.now();
      let n = 0;
      for await (const b of s.scan(T, snap, { columns: [0, 3], predicates: [{ kind: 'between', column: 0, low: 500_000, high: 510_000 }] }, stats)) n += b.batch.length;
      console.log(`selective scan k BETWEEN 500000 AND 510000: ${(performance.now() - t).toFixed(1)} ms, row groups skipped ${stats.rowGroupsSkipped}/${stats.rowGroupsTotal}, rows returned ${n}`);
      // durable single-row commits
      const c = new Clock();
      c.ts = s.recoveredCommitTs + 1;
      c.nextTxn = 2 ** 50 + 10_000_000;
      const one = async (): Promise<void> => {
        const x = c.begin();
        s.insert(x.txn, T, rowsToBatch([randomRow(r, 1)]));
        await c.commit(s, x.txn);
      };
      t = performance.now();
      for (let i = 0; i < 300; i++) await one();
      const seq = performance.now() - t;
      console.log(`1 committer: ${(300 / seq * 1000).toFixed(0)} commits/s (${(seq / 300).toFixed(2)} ms each), fsyncs ${s.stats().walSyncs}`);
      const syncs0 = s.stats().walSyncs;
      t = performance.now();
      await Promise.all(Array.from({ length: 16 }, async () => { for (let i = 0; i < 50; i++) await one(); }));
      const par = performance.now() - t;
      console.log(`16 committers: ${(800 / par * 1000).toFixed(0)} commits/s, ${s.stats().walSyncs - syncs0} fsyncs for 800 commits`);
      await s.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
