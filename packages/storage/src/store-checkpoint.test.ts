/**
 * The checkpoint cut moves committed delta rows straight into per-row-group arrays (whole delta
 * chunks copied as runs, mixed chunks gathered row by row, runs split at row-group boundaries);
 * the encoder and the buffer pool take those arrays as they are. These tests check the rows that
 * come back — from the pool right after the checkpoint, and from the Parquet files after a reopen
 * — against a naive model, with row groups that do not line up with the delta chunks.
 */
import { describe, expect, it } from 'vitest';
import { TXN_ID_START, type TableId, type Timestamp, type TxnId } from '@quiverdb/common';
import { MemEnv } from './env/mem-env.js';
import { EncodeWorker } from './segment/encode-worker.js';
import { openStore } from './store.js';
import { Clock, ModelTable, NOT_DELETED, randomRow, rng, rowsToBatch, scanAll, SPEC, type Row } from './test-support.js';

const T = 3 as TableId;

describe('checkpoint cut into row groups', () => {
  it('committed rows of whole and mixed delta chunks land in the right row groups; open txns stay in the delta', async () => {
    const env = new MemEnv();
    const open = () => openStore({ env, dir: '/db', durable: true, rowGroupSize: 100 });
    let s = await open();
    const clock = new Clock();
    const model = new ModelTable();
    const r = rng(4242);
    const a = clock.begin();
    s.createTable(a.txn, SPEC(T));
    await clock.commit(s, a.txn);
    let key = 0;
    const insert = (txn: ReturnType<Clock['begin']>['txn'], n: number): { ids: Float64Array; rows: Row[] } => {
      const rows = Array.from({ length: n }, () => randomRow(r, key++));
      const ids = s.insert(txn, T, rowsToBatch(rows));
      rows.forEach((row, i) => model.versions.set(ids[i]!, { row, ins: txn, del: NOT_DELETED }));
      return { ids, rows };
    };
    const commit = async (txn: ReturnType<Clock['begin']>['txn']): Promise<void> => {
      const ts = await clock.commit(s, txn);
      for (const v of model.versions.values()) if (v.ins === txn) v.ins = ts;
    };
    // a chunk of committed rows only (copied as one run, across row-group boundaries)
    const big = clock.begin();
    insert(big.txn, 1_150);
    await commit(big.txn);
    // chunks where committed and open transactions alternate (gathered row by row)
    const open1: ReturnType<Clock['begin']>[] = [];
    for (let i = 0; i < 12; i++) {
      const t = clock.begin();
      insert(t.txn, 17 + i * 5);
      if (i % 3 === 1) open1.push(t);
      else await commit(t.txn);
    }
    // a committed delete of a row that moves in this checkpoint
    const d = clock.begin();
    expect(s.delete(d.txn, d.snap, T, Float64Array.of(5))[0]!.kind).toBe('deleted');
    const dts = await clock.commit(s, d.txn);
    model.versions.get(5)!.del = dts;

    await s.checkpoint();
    const snap = clock.readSnap();
    const live = model.visible(snap);
    // right after the checkpoint the moved rows are served from the pool (write-through)
    expect(await scanAll(s, T, snap)).toEqual(live);
    // the open transactions still see their own rows (still in the delta)
    for (const t of open1) {
      const own = await scanAll(s, T, t.snap);
      const mine = [...model.versions.entries()].filter(([, v]) => v.ins === t.txn).map(([id]) => id);
      for (const id of mine) expect(own.some((x) => x.id === id)).toBe(true);
    }
    for (const t of open1) await commit(t.txn);
    await s.checkpoint();
    expect(await scanAll(s, T, clock.readSnap())).toEqual(model.visible(clock.readSnap()));
    await s.close();

    // reopen: every row comes from the Parquet files now
    s = await open();
    model.recover();
    const snapAfter = { txnId: (TXN_ID_START + 1_000_000) as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp };
    const after = await scanAll(s, T, snapAfter);
    expect(after).toEqual(model.visible(snapAfter));
    expect(after.length).toBe(key - 1);
    await s.close();
  });
});

describe('checkpoint encode on the encode worker', () => {
  it('writes the files the in-thread encoder writes, while commits go on; they read back after a reopen', async () => {
    const files = async (encodeWorker: boolean): Promise<Map<string, Buffer>> => {
      const env = new MemEnv();
      const open = () => openStore({ env, dir: '/db', durable: true, rowGroupSize: 1000 }, { encodeWorker });
      let s = await open();
      const clock = new Clock();
      const model = new ModelTable();
      const r = rng(77);
      const a = clock.begin();
      s.createTable(a.txn, SPEC(T));
      await clock.commit(s, a.txn);
      let key = 0;
      const batch = async (n: number): Promise<void> => {
        const t = clock.begin();
        const rows = Array.from({ length: n }, () => randomRow(r, key++));
        const ids = s.insert(t.txn, T, rowsToBatch(rows));
        const ts = await clock.commit(s, t.txn);
        rows.forEach((row, i) => model.versions.set(ids[i]!, { row, ins: ts, del: NOT_DELETED }));
      };
      for (let i = 0; i < 6; i++) await batch(3_000 + i * 7);
      // commits while the checkpoint encodes (they stay in the delta)
      const jobs = EncodeWorker.get()?.started ?? 0;
      const ck = s.checkpoint();
      for (let i = 0; i < 5; i++) await batch(13);
      await ck;
      if (EncodeWorker.get() !== undefined) expect((EncodeWorker.get()?.started ?? 0) > jobs).toBe(encodeWorker);
      expect(await scanAll(s, T, clock.readSnap())).toEqual(model.visible(clock.readSnap()));
      await s.checkpoint();
      await s.close();
      s = await open();
      model.recover();
      const snap = { txnId: (TXN_ID_START + 1_000_000) as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp };
      expect(await scanAll(s, T, snap)).toEqual(model.visible(snap));
      await s.close();
      const out = new Map<string, Buffer>();
      for (const name of await env.list(`/db/data/${T}`)) out.set(name, Buffer.from(await env.readFile(`/db/data/${T}/${name}`)));
      return out;
    };
    const viaWorker = await files(true);
    const here = await files(false);
    expect([...viaWorker.keys()]).toEqual([...here.keys()]);
    expect([...viaWorker.values()].some((b) => b.length > 100_000)).toBe(true);
    for (const [name, bytes] of here) expect(viaWorker.get(name)!.equals(bytes), name).toBe(true);
  });
});
