import { describe, expect, it } from 'vitest';
import { NOT_DELETED, type TableId, type Timestamp, type TxnId } from '@quiverdb/common';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemEnv } from './env/mem-env.js';
import { NodeEnv } from './env/node-env.js';
import { openStore, type QuiverStore, type StoreTuning } from './store.js';
import { Clock, ModelTable, randomRow, rng, rowsToBatch, scanAll, SPEC, type Row } from './test-support.js';
import type { Store } from './api.js';

const T = 7 as TableId;

async function fresh(env = new MemEnv(), opts: Partial<Parameters<typeof openStore>[0]> = {}, tuning: StoreTuning = {}): Promise<Store & QuiverStore> {
  return openStore({ env, dir: '/db', durable: true, rowGroupSize: 64, ...opts }, tuning);
}

describe('Store basics', () => {
  it('create, insert, scan, delete outcomes, commit, recover from WAL', async () => {
    const env = new MemEnv();
    let s = await fresh(env);
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(T));
    s.metaPut(a.txn, 'table:t', '{"id":7}');
    const ids = s.insert(a.txn, T, rowsToBatch([[1, 'x', 10n, 1.5], [2, null, null, null], [3, 'z', -5n, 0]]));
    expect([...ids]).toEqual([0, 1, 2]);
    expect((await scanAll(s, T, a.snap)).length).toBe(3);
    expect((await scanAll(s, T, clock.readSnap())).length).toBe(0);
    await clock.commit(s, a.txn);
    expect(s.metaEntries().get('table:t')).toBe('{"id":7}');
    const b = clock.begin();
    const c = clock.begin();
    expect(s.delete(b.txn, b.snap, T, Float64Array.of(0))).toEqual([{ kind: 'deleted' }]);
    expect(s.delete(b.txn, b.snap, T, Float64Array.of(0))).toEqual([{ kind: 'gone' }]);
    expect(s.delete(c.txn, c.snap, T, Float64Array.of(0))).toEqual([{ kind: 'locked', holder: b.txn }]);
    const bts = await clock.commit(s, b.txn);
    expect(s.delete(c.txn, c.snap, T, Float64Array.of(0))).toEqual([{ kind: 'concurrentlyDeleted', commitTs: bts }]);
    expect(s.delete(c.txn, c.snap, T, Float64Array.of(99))).toEqual([{ kind: 'gone' }]);
    s.rollback(c.txn);
    const rows = await scanAll(s, T, clock.readSnap());
    expect(rows.map((r) => r.row)).toEqual([[2, null, null, null], [3, 'z', -5n, 0]]);
    const fetched = await s.fetch(T, Float64Array.of(2, 1), [0, 1]);
    expect((fetched.columns[0]!.data as Int32Array)[0]).toBe(3);
    expect(fetched.columns[1]!.validity![1]).toBe(0);
    s.abandon();
    env.crash();
    s = await fresh(env);
    expect(s.hasTable(T)).toBe(true);
    expect(s.recoveredCommitTs).toBeGreaterThanOrEqual(2);
    const after = await scanAll(s, T, { txnId: 999 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp });
    expect(after.map((r) => r.row)).toEqual([[2, null, null, null], [3, 'z', -5n, 0]]);
    expect(s.metaEntries().get('table:t')).toBe('{"id":7}');
    await s.close();
  });

  it('savepoints, rollbackTo, rollback of create', async () => {
    const s = await fresh();
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(T));
    await clock.commit(s, a.txn);
    const b = clock.begin();
    s.insert(b.txn, T, rowsToBatch([[1, 'a', 1n, 1]]));
    const mark = s.savepoint(b.txn);
    s.insert(b.txn, T, rowsToBatch([[2, 'b', 2n, 2]]));
    s.delete(b.txn, b.snap, T, Float64Array.of(0));
    expect((await scanAll(s, T, b.snap)).map((r) => r.row[0])).toEqual([2]);
    s.rollbackTo(b.txn, mark);
    expect((await scanAll(s, T, b.snap)).map((r) => r.row[0])).toEqual([1]);
    await clock.commit(s, b.txn);
    const c = clock.begin();
    s.createTable(c.txn, SPEC(8));
    s.rollback(c.txn);
    expect(s.hasTable(8 as TableId)).toBe(false);
    expect(s.rowCount(T)).toBe(1);
    await s.close();
  });

  it('LOCK: a second open fails with 55006, a stale lock is taken over', async () => {
    const env = new MemEnv();
    const s = await fresh(env);
    await expect(fresh(env)).rejects.toMatchObject({ code: '55006' });
    s.abandon();
    env.crash();
    const s2 = await fresh(env);
    await s2.close();
    await env.writeFileDurable('/db/LOCK', new TextEncoder().encode('999999999\n'));
    const s3 = await fresh(env);
    await s3.close();
  });

  it('LOCK on NodeEnv: a live owner process blocks the open (55006), a dead one does not', async () => {
    const root = mkdtempSync(join(tmpdir(), 'quiver-lock-'));
    const owner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(root, 'LOCK'), `${owner.pid}\n`);
      await expect(openStore({ env: new NodeEnv(), dir: root })).rejects.toMatchObject({ code: '55006' });
      owner.kill('SIGKILL');
      await new Promise((r) => owner.on('exit', r));
      const s = await openStore({ env: new NodeEnv(), dir: root });
      await s.close();
    } finally {
      owner.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('checkpoint writes segments; recovery = manifest + WAL tail; zone maps prune', async () => {
    const env = new MemEnv();
    let s = await fresh(env);
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(T));
    const rows: Row[] = [];
    for (let i = 0; i < 300; i++) rows.push([i, `v${i}`, BigInt(i), i / 2]);
    s.insert(a.txn, T, rowsToBatch(rows));
    await clock.commit(s, a.txn);
    const running = clock.begin();
    s.insert(running.txn, T, rowsToBatch([[1000, 'r', null, null]]));
    await s.checkpoint();
    expect(s.stats().tables[0]!.segments).toBe(1);
    expect(s.stats().tables[0]!.deltaRows).toBe(1);
    s.checkInvariants();
    const d = clock.begin();
    s.delete(d.txn, d.snap, T, Float64Array.of(5, 6, 299));
    await clock.commit(s, d.txn);
    await clock.commit(s, running.txn);
    const stats = { rowGroupsTotal: 0, rowGroupsSkipped: 0 };
    let n = 0;
    for await (const b of s.scan(T, clock.readSnap(), { columns: [0], predicates: [{ kind: 'cmp', column: 0, op: '>=', value: 250 }] }, stats)) n += b.batch.length;
    expect(stats.rowGroupsTotal).toBe(5);
    expect(stats.rowGroupsSkipped).toBe(3);
    expect(n).toBe(64 + 44 - 1 + 1); // rows 192..299 minus deleted 299, plus the delta row
    const expected = await scanAll(s, T, clock.readSnap());
    s.abandon();
    env.crash();
    s = await fresh(env);
    const got = await scanAll(s, T, { txnId: 1 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp });
    expect(got).toEqual(expected);
    s.checkInvariants();
    await s.checkpoint();
    s.abandon();
    env.crash();
    s = await fresh(env);
    expect(await scanAll(s, T, { txnId: 1 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp })).toEqual(expected);
    expect(s.stats().tables[0]!.deltaRows).toBe(0);
    await s.close();
  });
});

describe('Store randomized against a naive model', () => {
  const seeds = Number(process.env.QUIVER_SEEDS ?? (process.env.QUIVER_LONG ? 40 : 3));
  for (const seed of Array.from({ length: seeds }, (_, i) => i + 1)) {
    it(`seed ${seed}`, async () => {
      const r = rng(seed);
      const env = new MemEnv();
      let s = await fresh(env, { rowGroupSize: 16 }, { smallSegmentRows: 40, deleteHeavyFraction: 0.2 });
      const clock = new Clock();
      const model = new ModelTable();
      const t0 = clock.begin();
      s.createTable(t0.txn, SPEC(T));
      await clock.commit(s, t0.txn);
      let key = 0;
      type Run = { txn: TxnId; snap: { txnId: TxnId; startTs: Timestamp }; marks: { mark: number; undo: (() => void)[] }[]; undo: (() => void)[] };
      let running: Run[] = [];
      const steps = Number(process.env.QUIVER_STEPS ?? (process.env.QUIVER_LONG ? 3000 : 250));
      const trace: string[] = [];
      for (let step = 0; step < steps; step++) {
        const x = r();
        trace.push(x < 0.15 ? 'begin?' : x < 0.45 ? 'ins' : x < 0.65 ? 'del' : x < 0.72 ? 'sp' : x < 0.76 ? 'rbto' : x < 0.88 ? 'commit' : x < 0.93 ? 'rollback' : x < 0.97 ? 'ckpt' : 'crash');
        if (process.env.QDEBUG) console.log(step, trace[trace.length - 1], running.length);
        if (running.length < 3 && x < 0.15) {
          const b = clock.begin();
          running.push({ ...b, marks: [], undo: [] });
          continue;
        }
        if (running.length === 0) continue;
        const t = running[Math.floor(r() * running.length)]!;
        if (x < 0.45) {
          const n = 1 + Math.floor(r() * 20);
          const rows = Array.from({ length: n }, () => randomRow(r, key++));
          const ids = s.insert(t.txn, T, rowsToBatch(rows));
          ids.forEach((id, i) => model.versions.set(id, { row: rows[i]!, ins: t.txn, del: NOT_DELETED }));
          t.undo.push(() => ids.forEach((id) => { model.versions.get(id)!.ins = Infinity; }));
        } else if (x < 0.65) {
          const vis = model.visible(t.snap);
          const cands = Array.from(model.versions.keys());
          const pick: number[] = [];
          for (let i = 0; i < 3 && cands.length > 0; i++) pick.push(r() < 0.7 && vis.length > 0 ? vis[Math.floor(r() * vis.length)]!.id : cands[Math.floor(r() * cands.length)]!);
          const uniq = [...new Set(pick)];
          const outs = s.delete(t.txn, t.snap, T, Float64Array.from(uniq));
          uniq.forEach((id, i) => {
            const v = model.versions.get(id)!;
            const inserted = v.ins < t.snap.startTs || v.ins === t.txn;
            let want: string;
            if (!inserted) want = 'gone';
            else if (v.del === NOT_DELETED) want = 'deleted';
            else if (v.del === t.txn) want = 'gone';
            else if (v.del >= 2 ** 50) want = 'locked';
            else if (v.del < t.snap.startTs) want = 'gone';
            else want = 'concurrentlyDeleted';
            if (process.env.QDEBUG && id === 44) console.log('row44', step, t.txn - 2 ** 50, want, outs[i]!.kind, v.ins, v.del);
            expect(outs[i]!.kind).toBe(want);
            if (want === 'deleted') { v.del = t.txn; t.undo.push(() => { v.del = NOT_DELETED; }); }
          });
        } else if (x < 0.72) {
          t.marks.push({ mark: s.savepoint(t.txn), undo: t.undo.slice() });
        } else if (x < 0.76 && t.marks.length > 0) {
          const m = t.marks.pop()!;
          s.rollbackTo(t.txn, m.mark);
          for (let i = t.undo.length - 1; i >= m.undo.length; i--) t.undo[i]!();
          t.undo = m.undo;
        } else if (x < 0.88) {
          const ts = await clock.commit(s, t.txn);
          if (process.env.QDEBUG) console.log('commit', step, t.txn - 2 ** 50, ts);
          for (const v of model.versions.values()) {
            if (v.ins === t.txn) v.ins = ts;
            if (v.del === t.txn) v.del = ts;
          }
          running = running.filter((q) => q !== t);
        } else if (x < 0.93) {
          s.rollback(t.txn);
          for (let i = t.undo.length - 1; i >= 0; i--) t.undo[i]!();
          running = running.filter((q) => q !== t);
        } else if (x < 0.95) {
          await s.checkpoint();
          if (process.env.QDEBUG) console.log('ckpt', step);
        } else if (x < 0.97) {
          const horizon = Math.min(clock.ts + 1, ...running.map((q) => q.snap.startTs));
          s.setGcHorizon(horizon as Timestamp);
          await s.compact();
          if (process.env.QDEBUG) console.log('compact', step, s.stats().tables[0]);
          // versions no snapshot can see are gone: drop them from the model too
          for (const [id, v] of model.versions) if (v.del < horizon) model.versions.delete(id);
        } else {
          // crash: running txns vanish
          s.abandon();
          env.crash();
          s = await fresh(env, { rowGroupSize: 16 }, { smallSegmentRows: 40, deleteHeavyFraction: 0.2 });
          for (const q of running) for (const v of model.versions.values()) { if (v.del === q.txn) v.del = NOT_DELETED; }
          model.recover();
          running = [];
          clock.ts = Math.max(clock.ts, s.recoveredCommitTs);
        }
        s.checkInvariants();
        // every running txn and a fresh reader see what the model says
        for (const q of running) expect(await scanAll(s, T, q.snap)).toEqual(model.visible(q.snap));
        const rs = clock.readSnap();
        const got = await scanAll(s, T, rs);
        const want = model.visible(rs);
        if (process.env.QDEBUG && got.length !== want.length) {
          const w = new Set(want.map((x) => x.id));
          const g = new Set(got.map((x) => x.id));
          console.log('extra', got.filter((x) => !w.has(x.id)).map((x) => x.id), 'missing', want.filter((x) => !g.has(x.id)).map((x) => x.id));
          console.log([...model.versions].filter(([id]) => !w.has(id) && g.has(id)).slice(0, 3));
        }
        expect(got).toEqual(want);
      }
      await s.close();
    }, 60_000 + Number(process.env.QUIVER_STEPS ?? (process.env.QUIVER_LONG ? 3000 : 250)) * 200);
  }
});
