/**
 * FaultEnv crash tests: a deterministic workload (commits, deletes, checkpoints, compaction) is
 * first run to count its I/O calls; then, for EVERY call N, it is re-run with a fault injected at
 * call N (an error, or a write cut in half), followed by a simulated power loss that drops
 * everything not fsync'ed. After reopening, the table must equal exactly the acknowledged commits
 * (the one commit in flight at the fault may be wholly present or wholly absent).
 */
import { describe, expect, it } from 'vitest';
import type { TableId, Timestamp, TxnId } from '@quiverdb/common';
import { FaultEnv } from './env/fault-env.js';
import { MemEnv } from './env/mem-env.js';
import { openStore, type QuiverStore } from './store.js';
import { Clock, randomRow, rng, rowsToBatch, scanAll, SPEC, type Row } from './test-support.js';

const T = 7 as TableId;

interface Outcome { acked: Map<number, Row>; inflight: Map<number, Row> | undefined }

async function workload(env: FaultEnv, seed: number, out: Outcome, tolerant = false, walPreallocate = false): Promise<void> {
  const r = rng(seed);
  const s: QuiverStore = await openStore({ env, dir: '/db', rowGroupSize: 16, checkpointWalBytes: 1 << 30 }, { smallSegmentRows: 1000, walSegmentBytes: 2048, walPreallocate });
  // the preallocated variant also commits as the sole committer (write + fdatasync at once)
  const clock = new Clock(walPreallocate);
  let key = 0;
  const commit = async (txn: TxnId, next: Map<number, Row>): Promise<void> => {
    out.inflight = next;
    await clock.commit(s, txn);
    out.acked = next;
    out.inflight = undefined;
  };
  // tolerant: a failed checkpoint / compaction is ignored and the workload goes on (retries)
  const maint = async (f: () => Promise<void>): Promise<void> => {
    try { await f(); } catch (e) { if (!tolerant) throw e; }
  };
  const a = clock.begin();
  s.createTable(a.txn, SPEC(7));
  await commit(a.txn, new Map());
  for (let step = 0; step < 8; step++) {
    const t = clock.begin();
    const next = new Map(out.acked);
    const rows = Array.from({ length: 1 + Math.floor(r() * 12) }, () => randomRow(r, key++));
    s.insert(t.txn, T, rowsToBatch(rows)).forEach((id, i) => next.set(id, rows[i]!));
    const ids = [...out.acked.keys()];
    const del = ids.filter(() => r() < 0.25);
    if (del.length > 0) {
      s.delete(t.txn, t.snap, T, Float64Array.from(del));
      for (const id of del) next.delete(id);
    }
    const loser = clock.begin(); // a rolled back txn never shows up
    s.insert(loser.txn, T, rowsToBatch([randomRow(r, key++)]));
    s.rollback(loser.txn);
    await commit(t.txn, next);
    if (step === 2 || step === 5) await maint(() => s.checkpoint());
    if (step === 6) { s.setGcHorizon((clock.ts + 1) as Timestamp); await maint(() => s.compact()); }
  }
  await maint(() => s.checkpoint());
  s.setGcHorizon((clock.ts + 1) as Timestamp);
  await maint(() => s.compact());
  await maint(() => s.checkpoint());
}

async function verify(env: FaultEnv, out: Outcome, label: string): Promise<void> {
  const s = await openStore({ env, dir: '/db', rowGroupSize: 16 });
  try {
    if (!s.hasTable(T)) {
      expect(out.acked.size === 0 && (out.inflight?.size ?? 0) === 0, `${label}: table lost`).toBe(true);
      return;
    }
    const got = await scanAll(s, T, { txnId: 1 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp });
    const asMap = new Map(got.map((g) => [g.id, g.row]));
    const same = (m: Map<number, Row>): boolean => m.size === asMap.size && [...m].every(([id, row]) => JSON.stringify(asMap.get(id), big) === JSON.stringify(row, big));
    const ok = same(out.acked) || (out.inflight !== undefined && same(out.inflight));
    if (!ok) expect(got.map((g) => g.id), label).toEqual([...out.acked.keys()].sort((x, y) => x - y));
    expect(ok, label).toBe(true);
    s.checkInvariants();
  } finally {
    await s.close();
  }
}

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

describe('crash at every I/O point (FaultEnv)', () => {
  // prealloc: the WAL's segments start from a zero-filled spare written in the background, and
  // commits take the sole-committer path (Wal.sync with openTxns 1)
  for (const [seed, prealloc] of (process.env.QUIVER_LONG ? [11, 12, 13, 14, 15] : [11]).flatMap((x) => [[x, false], [x + 100, true]] as const)) {
    it(`seed ${seed}${prealloc ? ', preallocated WAL segments' : ''}: commit, checkpoint and compaction survive a fault + power loss at every call`, async () => {
      const probe = new FaultEnv(new MemEnv());
      const full: Outcome = { acked: new Map(), inflight: undefined };
      await workload(probe, seed, full, false, prealloc);
      const total = probe.ops;
      expect(total).toBeGreaterThan(40);
      let faults = 0;
      const long = process.env.QUIVER_LONG !== undefined;
      for (const mode of ['cut', 'fail'] as const) {
        // default run: every call once (cut on odd, fail on even calls); long mode: both at every call
        for (let n = 1; n <= total; n++) {
          if (!long && (n % 2 === 1) !== (mode === 'cut')) continue;
          const env = new FaultEnv(new MemEnv());
          env.setPlan({ faultAt: n, mode, cutFraction: 0.5 });
          const out: Outcome = { acked: new Map(), inflight: undefined };
          try { await workload(env, seed, out, false, prealloc); } catch { faults++; }
          env.crash();
          await verify(env, out, `${mode} at call ${n}/${total}`);
        }
      }
      // a failed (not fatal) I/O call in a checkpoint or compaction, the workload going on
      for (let n = 1; n <= total; n++) {
        if (!long && n % 3 !== 0) continue;
        const env = new FaultEnv(new MemEnv());
        env.setPlan({ faultAt: n, mode: 'fail', dieOnFault: false });
        const out: Outcome = { acked: new Map(), inflight: undefined };
        try { await workload(env, seed, out, true, prealloc); } catch { /* a commit failed: the WAL is failed */ }
        env.crash();
        await verify(env, out, `fail (process lives on) at call ${n}/${total}`);
      }
      expect(faults).toBeGreaterThan(long ? total : total / 2); // the faults really fired
      console.log(`crash test seed ${seed}: ${total} I/O calls, ${faults} faults injected`);
    });
  }
});
