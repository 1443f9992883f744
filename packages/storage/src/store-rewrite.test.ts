/**
 * ALTER COLUMN TYPE in storage: a re-typed column gets a new id and a conversion; rows stored
 * before it (segments and delta) are converted on read, the background rewrite (`rewriteStep`)
 * replaces old segments one at a time through compaction's segment-replace path, and the
 * conversion is dropped when nothing reads through it. Reads and writes go on between steps.
 */
import { describe, expect, it } from 'vitest';
import type { ColumnVector, TableId, Timestamp, TxnId } from '@quiverdb/common';
import type { ColumnConverter, StoredColumn, StoredTableSpec } from './api.js';
import { FaultEnv } from './env/fault-env.js';
import { MemEnv } from './env/mem-env.js';
import { mergeConversions, openStore, type QuiverStore } from './store.js';
import { Clock, randomRow, rng, rowsToBatch, SPEC } from './test-support.js';

const T = 7 as TableId;

/** Test conversions: 'half' (int64 → float64, b / 2), 'text' (float64 → utf8), 'len' (utf8 → int32). */
function converter(calls: { n: number }): ColumnConverter {
  return async (_t, col: StoredColumn, inputs: readonly ColumnVector[], n: number) => {
    calls.n++;
    const src = inputs[0]!;
    const valid = new Uint8Array(n);
    const data: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const ok = src.validity === null || src.validity[i] === 1;
      valid[i] = ok ? 1 : 0;
      const x = (src.data as ArrayLike<unknown>)[i];
      data.push(!ok ? null : col.convert!.expr === 'half' ? Number(x as bigint) / 2 : col.convert!.expr === 'text' ? `v${String(x)}` : String(x).length);
    }
    if (col.type === 'float64') return { data: Float64Array.from(data as number[], (v) => v ?? 0), validity: valid };
    if (col.type === 'int32') return { data: Int32Array.from(data as number[], (v) => v ?? 0), validity: valid };
    return { data: data.map((v) => v ?? ''), validity: valid };
  };
}

async function rows(s: QuiverStore, snap: { txnId: TxnId; startTs: Timestamp }, columns: number[]): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const { batch } of s.scan(T, snap, { columns })) {
    for (let i = 0; i < batch.length; i++) {
      out.push(batch.columns.map((c) => (c.validity !== null && c.validity[i] === 0 ? null : (c.data as ArrayLike<unknown>)[i])));
    }
  }
  return out.sort((a, b) => (a[0] as number) - (b[0] as number));
}

const retyped = (base: StoredTableSpec): StoredTableSpec => ({
  id: T,
  columns: base.columns.map((c) => (c.id === 3 ? { id: 5, name: 'b', type: 'float64', nullable: true, convert: { from: [3], expr: 'half' } } : c)),
});

describe('ALTER COLUMN TYPE: convert on read, background rewrite', () => {
  it('reads converted values at once, rewrites segments one step at a time while reads and writes go on, survives crashes', async () => {
    const env = new MemEnv();
    const calls = { n: 0 };
    const open = async () => { const st = await openStore({ env, dir: '/db', rowGroupSize: 4 }, { smallSegmentRows: 1 }); st.setColumnConverter(converter(calls)); return st; };
    let s = await open();
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    s.insert(a.txn, T, rowsToBatch([[1, 'a', 10n, 1], [2, 'b', null, 2], [3, 'c', 30n, 3]]));
    await clock.commit(s, a.txn);
    await s.checkpoint();
    const b = clock.begin();
    s.insert(b.txn, T, rowsToBatch([[4, 'd', 40n, 4], [5, 'e', 50n, 5]]));
    await clock.commit(s, b.txn);
    await s.checkpoint();
    const c = clock.begin();
    s.insert(c.txn, T, rowsToBatch([[6, 'f', 60n, 6]])); // stays in the delta
    await clock.commit(s, c.txn);
    const filesBefore = (await env.list('/db/data/7')).sort();
    expect(filesBefore).toHaveLength(2);

    // the ALTER: a new spec with a conversion; no file is written
    const d = clock.begin();
    s.alterTable(d.txn, retyped(SPEC(7)));
    await clock.commit(s, d.txn);
    expect((await env.list('/db/data/7')).sort()).toEqual(filesBefore);
    expect(s.hasPendingRewrite()).toBe(true);
    const want = [[1, 5], [2, null], [3, 15], [4, 20], [5, 25], [6, 30]];
    expect(await rows(s, clock.readSnap(), [0, 2])).toEqual(want);
    expect(s.stats().tables[0]!.pendingRewrites).toBe(2);

    // new rows carry the new type; deletes and reads between the steps
    const e = clock.begin();
    const batch = rowsToBatch([[7, 'g', null, 7]]);
    s.insert(e.txn, T, { length: 1, columns: [batch.columns[0]!, batch.columns[1]!, { data: Float64Array.of(3.5), validity: null }, batch.columns[3]!] });
    await clock.commit(s, e.txn);
    want.push([7, 3.5]);

    expect(await s.rewriteStep()).toBe(true);
    const afterOne = (await env.list('/db/data/7')).sort();
    expect(afterOne.filter((f) => !filesBefore.includes(f))).toHaveLength(1); // one new segment
    expect(afterOne.filter((f) => filesBefore.includes(f))).toHaveLength(1); // one old one left
    expect(await rows(s, clock.readSnap(), [0, 2])).toEqual(want);
    const f = clock.begin();
    const ids: number[] = [];
    for await (const x of s.scan(T, f.snap, { columns: [0], withRowIds: true })) {
      for (let i = 0; i < x.batch.length; i++) if ((x.batch.columns[0]!.data as Int32Array)[i] === 4) ids.push(x.rowIds![i]!);
    }
    expect(s.delete(f.txn, f.snap, T, Float64Array.from(ids))).toEqual([{ kind: 'deleted' }]);
    await clock.commit(s, f.txn);
    want.splice(3, 1);
    expect(await rows(s, clock.readSnap(), [0, 2])).toEqual(want);

    // a crash in the middle of the rewrite: same answers after recovery
    s.abandon();
    env.crash();
    s = await open();
    let snap = { txnId: 1 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp };
    expect(await rows(s, snap, [0, 2])).toEqual(want);
    let steps = 0;
    while (await s.rewriteStep()) { steps++; expect(steps).toBeLessThan(10); expect(await rows(s, snap, [0, 2])).toEqual(want); }
    expect(s.hasPendingRewrite()).toBe(false);
    expect(s.stats().tables[0]!.pendingRewrites).toBe(0);
    for (const file of await env.list('/db/data/7')) expect(filesBefore).not.toContain(file);
    expect(await rows(s, snap, [0, 2])).toEqual(want);
    await s.close();
    s = await open();
    snap = { txnId: 1 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp };
    const before = calls.n;
    expect(await rows(s, snap, [0, 1, 2])).toEqual(want.map((r) => [r[0], 'abcdefg'[(r[0] as number) - 1], r[1]]));
    expect(calls.n).toBe(before); // nothing converted on read any more
    await s.close();
  });

  it('a second type change and a dropped source keep the retired columns the conversions read', async () => {
    const env = new MemEnv();
    const s = await openStore({ env, dir: '/db', rowGroupSize: 4 });
    s.setColumnConverter(converter({ n: 0 }));
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    s.insert(a.txn, T, rowsToBatch([[1, 'a', 10n, 1], [2, 'bb', 20n, 2]]));
    await clock.commit(s, a.txn);
    await s.checkpoint();
    const one = retyped(SPEC(7));
    const b = clock.begin();
    s.alterTable(b.txn, one);
    await clock.commit(s, b.txn);
    // b: float64 (5, from 3) → utf8 (6, from 5): column 5 is retired but still read
    const two: StoredTableSpec = { id: T, columns: one.columns.map((c) => (c.id === 5 ? { id: 6, name: 'b', type: 'utf8', nullable: true, convert: { from: [5], expr: 'text' } } : c)) };
    // s: utf8 (2) → int32 length (8, from 2), then column 2 is gone from the visible list
    const three: StoredTableSpec = { id: T, columns: two.columns.map((c) => (c.id === 2 ? { id: 8, name: 's', type: 'int32', nullable: true, convert: { from: [2], expr: 'len' } } : c)) };
    const c = clock.begin();
    s.alterTable(c.txn, two);
    s.alterTable(c.txn, three);
    await clock.commit(s, c.txn);
    expect(await rows(s, clock.readSnap(), [0, 1, 2])).toEqual([[1, 1, 'v5'], [2, 2, 'v10']]);
    // a later ALTER that does not know about conversions (e.g. RENAME) keeps them
    const renamed: StoredTableSpec = { id: T, columns: three.columns.map(({ convert: _c, ...x }) => (x.id === 4 ? { ...x, name: 'ff' } : x)) };
    const d = clock.begin();
    s.alterTable(d.txn, renamed);
    await clock.commit(s, d.txn);
    expect(await rows(s, clock.readSnap(), [0, 1, 2, 3])).toEqual([[1, 1, 'v5', 1], [2, 2, 'v10', 2]]);
    while (await s.rewriteStep()) { /* to the end */ }
    expect(await rows(s, clock.readSnap(), [0, 1, 2, 3])).toEqual([[1, 1, 'v5', 1], [2, 2, 'v10', 2]]);
    await s.close();
  });

  it('an open ALTER of the table holds the conversion: rewriteStep reports no more work instead of spinning', async () => {
    const s = await openStore({ env: new MemEnv(), dir: '/db', rowGroupSize: 4 });
    s.setColumnConverter(converter({ n: 0 }));
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    s.insert(a.txn, T, rowsToBatch([[1, 'a', 10n, 1]]));
    await clock.commit(s, a.txn);
    await s.checkpoint();
    const b = clock.begin();
    s.alterTable(b.txn, retyped(SPEC(7)));
    await clock.commit(s, b.txn);
    const open = clock.begin();
    s.alterTable(open.txn, { id: T, columns: retyped(SPEC(7)).columns.map((c) => (c.id === 4 ? { ...c, name: 'g' } : c)) });
    expect(await s.rewriteStep()).toBe(true); // the segment
    expect(await s.rewriteStep()).toBe(false); // blocked: the conversion stays while the ALTER is open
    expect(s.hasPendingRewrite()).toBe(true);
    s.rollback(open.txn);
    expect(await s.rewriteStep()).toBe(false);
    expect(s.hasPendingRewrite()).toBe(false);
    expect(await rows(s, clock.readSnap(), [0, 2])).toEqual([[1, 5]]);
    await s.close();
  });

  it('mergeConversions: kept ids keep their conversion, retired sources become hidden', () => {
    const prev = mergeConversions(SPEC(7), retyped(SPEC(7)));
    expect(prev.hidden!.map((c) => c.id)).toEqual([3]);
    // the next ALTER's spec (built without conversions) keeps both
    const next: StoredTableSpec = { id: T, columns: SPEC(7).columns.filter((c) => c.id !== 3).concat([{ id: 5, name: 'b', type: 'float64', nullable: true }]) };
    const m = mergeConversions(prev, next);
    expect(m.columns.find((c) => c.id === 5)!.convert).toEqual({ from: [3], expr: 'half' });
    expect(m.hidden!.map((c) => c.id)).toEqual([3]);
    expect(mergeConversions(SPEC(7), SPEC(7)).hidden).toBeUndefined();
  });
});

describe('ALTER COLUMN TYPE rewrite under faults (FaultEnv)', () => {
  interface Outcome { acked: Map<number, [number, number | null]>; inflight: Map<number, [number, number | null]> | undefined }
  const conv = converter({ n: 0 });

  async function workload(env: FaultEnv, out: Outcome, tolerant = false): Promise<void> {
    const r = rng(21);
    const s = await openStore({ env, dir: '/db', rowGroupSize: 8, checkpointWalBytes: 1 << 30 }, { smallSegmentRows: 1, walSegmentBytes: 2048 });
    s.setColumnConverter(conv);
    const clock = new Clock();
    let key = 0;
    const commit = async (txn: TxnId, next: Map<number, [number, number | null]>): Promise<void> => {
      out.inflight = next;
      await clock.commit(s, txn);
      out.acked = next;
      out.inflight = undefined;
    };
    const maint = async (f: () => Promise<unknown>): Promise<void> => {
      try { await f(); } catch (e) { if (!tolerant) throw e; }
    };
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    await commit(a.txn, new Map());
    for (let seg = 0; seg < 2; seg++) {
      const t = clock.begin();
      const next = new Map(out.acked);
      const rows = Array.from({ length: 12 }, () => randomRow(r, key++));
      s.insert(t.txn, T, rowsToBatch(rows)).forEach((id, i) => next.set(id, [rows[i]![0], rows[i]![2] === null ? null : Number(rows[i]![2]) / 2]));
      await commit(t.txn, next);
      await maint(() => s.checkpoint());
    }
    const d = clock.begin();
    const afterDel = new Map(out.acked);
    const del = [...out.acked.keys()].filter(() => r() < 0.3);
    s.delete(d.txn, d.snap, T, Float64Array.from(del));
    for (const id of del) afterDel.delete(id);
    await commit(d.txn, afterDel);
    const e = clock.begin();
    s.alterTable(e.txn, retyped(SPEC(7)));
    await commit(e.txn, new Map(out.acked));
    const f = clock.begin();
    const next = new Map(out.acked);
    const base = rowsToBatch([[1000, 'x', null, 1], [1001, 'y', null, 2]]);
    s.insert(f.txn, T, { length: 2, columns: [base.columns[0]!, base.columns[1]!, { data: Float64Array.of(0.25, 0.75), validity: null }, base.columns[3]!] })
      .forEach((id, i) => next.set(id, [1000 + i, i === 0 ? 0.25 : 0.75]));
    await commit(f.txn, next);
    for (let i = 0; i < 6; i++) {
      let more = true;
      await maint(async () => { more = await s.rewriteStep(); });
      if (!more) break;
    }
    await maint(() => s.checkpoint());
    if (!tolerant) expect(s.hasPendingRewrite()).toBe(false);
  }

  async function verify(env: FaultEnv, out: Outcome, label: string): Promise<void> {
    const s = await openStore({ env, dir: '/db', rowGroupSize: 8 });
    s.setColumnConverter(conv);
    try {
      if (!s.hasTable(T)) { expect(out.acked.size === 0 && (out.inflight?.size ?? 0) === 0, `${label}: table lost`).toBe(true); return; }
      const got = new Map<number, [number, number | null]>();
      for await (const b of s.scan(T, { txnId: 1 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp }, { columns: [0, 2], withRowIds: true })) {
        for (let i = 0; i < b.batch.length; i++) {
          const [k, v] = b.batch.columns;
          const raw = v!.validity !== null && v!.validity[i] === 0 ? null : (v!.data as ArrayLike<unknown>)[i];
          // before the ALTER committed the column is still the int64 one: compare converted
          got.set(b.rowIds![i]!, [(k!.data as Int32Array)[i]!, raw === null ? null : typeof raw === 'bigint' ? Number(raw) / 2 : (raw as number)]);
        }
      }
      const same = (m: Map<number, [number, number | null]>): boolean => m.size === got.size && [...m].every(([id, row]) => JSON.stringify(got.get(id)) === JSON.stringify(row));
      expect(same(out.acked) || (out.inflight !== undefined && same(out.inflight)), label).toBe(true);
      s.checkInvariants();
    } finally {
      await s.close();
    }
  }

  it('a fault + power loss at every I/O call of the ALTER, the rewrite steps and the checkpoints loses nothing acknowledged', async () => {
    const probe = new FaultEnv(new MemEnv());
    await workload(probe, { acked: new Map(), inflight: undefined });
    const total = probe.ops;
    expect(total).toBeGreaterThan(30);
    let faults = 0;
    for (let n = 1; n <= total; n++) {
      const env = new FaultEnv(new MemEnv());
      env.setPlan({ faultAt: n, mode: n % 2 === 1 ? 'cut' : 'fail', cutFraction: 0.5 });
      const out: Outcome = { acked: new Map(), inflight: undefined };
      try { await workload(env, out); } catch { faults++; }
      env.crash();
      await verify(env, out, `fault at call ${n}/${total}`);
    }
    for (let n = 3; n <= total; n += 3) {
      const env = new FaultEnv(new MemEnv());
      env.setPlan({ faultAt: n, mode: 'fail', dieOnFault: false });
      const out: Outcome = { acked: new Map(), inflight: undefined };
      try { await workload(env, out, true); } catch { /* a commit failed */ }
      env.crash();
      await verify(env, out, `fail (process lives on) at call ${n}/${total}`);
    }
    expect(faults).toBeGreaterThan(total / 2);
  });
});
