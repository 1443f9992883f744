import { describe, expect, it } from 'vitest';
import type { TableId, Timestamp, TxnId } from '@quiverdb/common';
import { MemEnv } from './env/mem-env.js';
import { openStore } from './store.js';
import { Clock, randomRow, rng, rowsToBatch, scanAll, SPEC } from './test-support.js';

const T = 7 as TableId;
const all = (s: { recoveredCommitTs: number }, clock?: Clock): { txnId: TxnId; startTs: Timestamp } =>
  ({ txnId: 1 as TxnId, startTs: (Math.max(clock?.ts ?? 0, s.recoveredCommitTs) + 1) as Timestamp });

describe('compaction', () => {
  it('merges small segments, drops versions deleted before the horizon, keeps row ids, removes files', async () => {
    const env = new MemEnv();
    let s = await openStore({ env, dir: '/db', rowGroupSize: 50 }, { smallSegmentRows: 1000, deleteHeavyFraction: 0.5 });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    await clock.commit(s, a.txn);
    const r = rng(2);
    for (let k = 0; k < 4; k++) {
      const t = clock.begin();
      s.insert(t.txn, T, rowsToBatch(Array.from({ length: 120 }, (_, i) => randomRow(r, k * 1000 + i))));
      await clock.commit(s, t.txn);
      await s.checkpoint();
    }
    expect(s.stats().tables[0]!.segments).toBe(4);
    const d = clock.begin();
    s.delete(d.txn, d.snap, T, Float64Array.from({ length: 100 }, (_, i) => i * 4));
    await clock.commit(s, d.txn);
    const old = clock.begin(); // a snapshot that still sees nothing of what follows
    const d2 = clock.begin();
    s.delete(d2.txn, d2.snap, T, Float64Array.of(1, 2, 3));
    await clock.commit(s, d2.txn);
    const before = await scanAll(s, T, all(s, clock));
    const beforeOld = await scanAll(s, T, old.snap);
    const files = (await env.list('/db/data/7')).length;
    expect(files).toBe(4);
    s.setGcHorizon(old.snap.startTs);
    await s.compact();
    const st = s.stats().tables[0]!;
    expect(st.segments).toBe(1);
    expect(s.stats().compactions).toBe(1);
    expect(st.rows).toBe(480 - 100); // the 3 deleted after the horizon are kept for `old`
    expect(await scanAll(s, T, all(s, clock))).toEqual(before);
    expect(await scanAll(s, T, old.snap)).toEqual(beforeOld);
    expect(await env.list('/db/data/7')).toHaveLength(1);
    s.checkInvariants();
    s.abandon();
    env.crash();
    s = await openStore({ env, dir: '/db', rowGroupSize: 50 });
    expect(await scanAll(s, T, all(s))).toEqual(before);
    s.checkInvariants();
    await s.close();
  });
});

describe('checkpoint', () => {
  it('is consistent while commits run concurrently, and runs automatically past checkpointWalBytes', async () => {
    const env = new MemEnv();
    let s = await openStore({ env, dir: '/db', rowGroupSize: 100, checkpointWalBytes: 64 * 1024 });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    await clock.commit(s, a.txn);
    const r = rng(4);
    let key = 0;
    const acked: number[] = [];
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        const t = clock.begin();
        const rows = Array.from({ length: 1 + Math.floor(r() * 30) }, () => randomRow(r, key++));
        s.insert(t.txn, T, rowsToBatch(rows));
        if (i % 5 === w % 5) {
          const vis = await scanAll(s, T, t.snap);
          if (vis.length > 0) s.delete(t.txn, t.snap, T, Float64Array.of(vis[Math.floor(r() * vis.length)]!.id));
        }
        await clock.commit(s, t.txn);
        acked.push(i);
      }
    };
    const ckpts = (async () => { for (let i = 0; i < 5; i++) { await s.checkpoint(); await new Promise((res) => setTimeout(res, 1)); } })();
    await Promise.all([worker(0), worker(1), worker(2), worker(3), ckpts]);
    expect(acked.length).toBe(160);
    expect(s.stats().checkpoints).toBeGreaterThanOrEqual(2);
    s.checkInvariants();
    const want = await scanAll(s, T, all(s, clock));
    s.abandon();
    env.crash();
    s = await openStore({ env, dir: '/db', rowGroupSize: 100 });
    expect(await scanAll(s, T, all(s))).toEqual(want);
    await s.close();
  });

  it('runs automatically when the WAL grows past checkpointWalBytes', async () => {
    const s = await openStore({ env: new MemEnv(), dir: '/db', rowGroupSize: 100, checkpointWalBytes: 16 * 1024 });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    await clock.commit(s, a.txn);
    const r = rng(8);
    for (let i = 0; i < 30; i++) {
      const t = clock.begin();
      s.insert(t.txn, T, rowsToBatch(Array.from({ length: 20 }, (_, j) => randomRow(r, i * 100 + j))));
      await clock.commit(s, t.txn);
      await new Promise((res) => setImmediate(res));
    }
    await s.checkpoint(); // waits for a running automatic one, then one more
    expect(s.stats().checkpoints).toBeGreaterThanOrEqual(2);
    expect(s.stats().tables[0]!.deltaRows).toBe(0);
    await s.close();
  });
});
