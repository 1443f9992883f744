import { describe, expect, it } from 'vitest';
import { isDbError, isVisible, SqlState, TXN_ID_START, rowId, tableId, timestamp } from '@quiverdb/common';
import { TransactionManager } from './transaction-manager.js';
import { LockTarget } from './lock-target.js';

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('TransactionManager: ids, isolation, snapshots', () => {
  it('hands out increasing ids from TXN_ID_START and maps read uncommitted to read committed', () => {
    const tm = new TransactionManager();
    const a = tm.begin();
    const b = tm.begin({ isolation: 'read uncommitted' });
    const c = tm.begin({ isolation: 'serializable', readOnly: true });
    expect(a.id).toBe(TXN_ID_START);
    expect(b.id).toBeGreaterThan(a.id);
    expect(a.isolation).toBe('read committed');
    expect(b.isolation).toBe('read committed');
    expect(c.isolation).toBe('serializable');
    expect(c.readOnly).toBe(true);
    tm.defaultIsolation = 'REPEATABLE  READ';
    expect(tm.begin().isolation).toBe('repeatable read');
    expect(() => tm.begin({ isolation: 'chaos' as never })).toThrow();
    tm.checkInvariants();
  });

  it('read committed takes a snapshot per statement; repeatable read keeps the first', () => {
    const tm = new TransactionManager();
    const rc = tm.begin({ isolation: 'read committed' });
    const rr = tm.begin({ isolation: 'repeatable read' });
    const s1 = tm.statementSnapshot(rc);
    const r1 = tm.statementSnapshot(rr);
    const w = tm.begin();
    tm.statementSnapshot(w);
    const ts = tm.commit(w);
    const s2 = tm.statementSnapshot(rc);
    const r2 = tm.statementSnapshot(rr);
    expect(isVisible(s1, ts, Number.MAX_VALUE)).toBe(false);
    expect(isVisible(s2, ts, Number.MAX_VALUE)).toBe(true);
    expect(r2).toBe(r1);
    expect(isVisible(r2, ts, Number.MAX_VALUE)).toBe(false);
    tm.checkInvariants();
  });

  it('resetSnapshot lets a new snapshot be taken until SSI tracked work under the old one', () => {
    const tm = new TransactionManager();
    const tab = tableId(1);
    const rr = tm.begin({ isolation: 'repeatable read' });
    const sx = tm.begin({ isolation: 'serializable' });
    const r1 = tm.statementSnapshot(rr);
    const x1 = tm.statementSnapshot(sx);
    const w = tm.begin();
    tm.statementSnapshot(w);
    const ts = tm.commit(w);
    // a statement that waited for a lock before reading: both may move to a new snapshot
    expect(tm.canResetSnapshot(rr)).toBe(true);
    expect(tm.canResetSnapshot(sx)).toBe(true);
    tm.resetSnapshot(rr);
    tm.resetSnapshot(sx);
    expect(tm.ssi.isTracked(sx)).toBe(false);
    const r2 = tm.statementSnapshot(rr);
    const x2 = tm.statementSnapshot(sx);
    expect(isVisible(r1, ts, Number.MAX_VALUE)).toBe(false);
    expect(isVisible(x1, ts, Number.MAX_VALUE)).toBe(false);
    expect(isVisible(r2, ts, Number.MAX_VALUE)).toBe(true);
    expect(isVisible(x2, ts, Number.MAX_VALUE)).toBe(true);
    expect(tm.ssi.isTracked(sx)).toBe(true);
    // once SSI recorded a read under it, the serializable snapshot stays
    tm.ssi.recordRead(sx, tab, 1);
    expect(tm.canResetSnapshot(sx)).toBe(false);
    expect(() => tm.resetSnapshot(sx)).toThrow();
    expect(tm.statementSnapshot(sx)).toBe(x2);
    tm.commit(rr);
    tm.commit(sx);
    tm.checkInvariants();
  });

  it('a reserved but unfinished commit stays out of new snapshots until it finishes', async () => {
    const tm = new TransactionManager();
    const a = tm.begin();
    const b = tm.begin();
    const tsA = tm.prepareCommit(a);
    const tsB = tm.prepareCommit(b);
    expect(tsB).toBeGreaterThan(tsA);
    tm.commit(b); // B finishes first (its WAL write returned first)
    let bVisible = false;
    const vis = tm.whenVisible(tsB).then(() => { bVisible = true; });
    const r = tm.begin({ isolation: 'repeatable read' });
    const snap = tm.statementSnapshot(r);
    expect(isVisible(snap, tsB, Number.MAX_VALUE)).toBe(false); // would be a hole otherwise
    await flush();
    expect(bVisible).toBe(false); // B's session must not acknowledge COMMIT yet
    tm.commit(a);
    await vis;
    await tm.whenVisible(tsA);
    expect(isVisible(tm.statementSnapshot(tm.begin()), tsB, Number.MAX_VALUE)).toBe(true);
    tm.checkInvariants();
  });

  it('commit stamps before releasing locks and waking waiters', async () => {
    const tm = new TransactionManager();
    const a = tm.begin();
    const b = tm.begin();
    const order: string[] = [];
    const wait = tm.waitForTxn(a.id, b).then(() => order.push('woken'));
    await flush();
    tm.commit(a, () => order.push('stamped'));
    await wait;
    expect(order).toEqual(['stamped', 'woken']);
  });

  it('the GC horizon is the oldest snapshot still in use', () => {
    const tm = new TransactionManager();
    const w = () => { const t = tm.begin(); tm.statementSnapshot(t); tm.commit(t); };
    w(); w();
    const old = tm.begin({ isolation: 'repeatable read' });
    const s = tm.statementSnapshot(old);
    w(); w();
    expect(tm.oldestActiveStartTs()).toBe(s.startTs);
    const rc = tm.begin();
    const rcSnap = tm.statementSnapshot(rc);
    w();
    tm.commit(old);
    expect(tm.oldestActiveStartTs()).toBe(rcSnap.startTs);
    tm.statementDone(rc); // an idle read committed transaction holds nothing back
    expect(tm.oldestActiveStartTs()).toBe(tm.snapshotBoundary());
    tm.commit(rc);
    expect(tm.snapshotBoundary()).toBe(tm.currentTs() + 1);
  });

  it('restoreClock continues above the recovered timestamp', () => {
    const tm = new TransactionManager({ recoveredTs: timestamp(41) });
    const t = tm.begin();
    expect(tm.commit(t)).toBe(42);
    tm.restoreClock(timestamp(10)); // never goes back
    expect(tm.currentTs()).toBe(42);
  });
});

describe('TransactionManager: states, waits, savepoints', () => {
  it('a failed transaction accepts only ROLLBACK / ROLLBACK TO (25P02)', () => {
    const tm = new TransactionManager();
    const t = tm.begin();
    tm.savepoint(t, 'sp');
    t.markFailed();
    let err: unknown;
    try { t.assertCanRun(); } catch (e) { err = e; }
    expect(isDbError(err, SqlState.InFailedSqlTransaction)).toBe(true);
    expect(() => tm.prepareCommit(t)).toThrow();
    tm.rollbackToSavepoint(t, 'sp');
    expect(t.state).toBe('active');
    tm.abort(t);
    expect(t.state).toBe('aborted');
    tm.abort(t); // idempotent
    tm.checkInvariants();
  });

  it('ROLLBACK TO releases locks taken after the savepoint, RELEASE keeps them', async () => {
    const tm = new TransactionManager();
    const t = tm.begin();
    const tab = tableId(3);
    await tm.lockTable(t, tab, 'ROW EXCLUSIVE');
    tm.savepoint(t, 'a');
    await tm.lockRow(t, tab, rowId(1), 'FOR UPDATE');
    tm.savepoint(t, 'b');
    await tm.lockRow(t, tab, rowId(2), 'FOR UPDATE');
    tm.releaseSavepoint(t, 'b');
    expect(tm.locks.holds(t.id, LockTarget.row(tab, rowId(2)))).toBe(true);
    tm.rollbackToSavepoint(t, 'a');
    expect(tm.locks.holds(t.id, LockTarget.row(tab, rowId(1)))).toBe(false);
    expect(tm.locks.holds(t.id, LockTarget.row(tab, rowId(2)))).toBe(false);
    expect(tm.locks.holds(t.id, LockTarget.table(tab))).toBe(true);
    expect(() => tm.rollbackToSavepoint(t, 'b')).toThrow();
    tm.checkInvariants();
  });

  it('waitForTxn settles when the holder ends, at once when it already ended', async () => {
    const tm = new TransactionManager();
    const a = tm.begin();
    const b = tm.begin();
    let done = false;
    const p = tm.waitForTxn(a.id, b).then(() => { done = true; });
    await flush();
    expect(done).toBe(false);
    expect(tm.locks.waitingFor(b.id)).toEqual([a.id]);
    tm.abort(a);
    await p;
    expect(done).toBe(true);
    await tm.waitForTxn(a.id, b);
    tm.checkInvariants();
    expect(tm.locks.locks().filter((l) => l.txn === b.id).map((l) => l.mode)).toEqual(['EXCLUSIVE']);
  });

  it('mutual waitForTxn is a deadlock: exactly one gets 40P01, the other proceeds', async () => {
    const tm = new TransactionManager({ deadlockTimeoutMs: 10 });
    const a = tm.begin();
    const b = tm.begin();
    const pa = tm.waitForTxn(b.id, a).then(() => 'ok', (e: unknown) => e);
    const pb = tm.waitForTxn(a.id, b).then(() => 'ok', (e: unknown) => e);
    // the first to wait is the victim (its deadlock_timeout would run out first)
    const ra = await pa;
    expect(isDbError(ra, SqlState.DeadlockDetected)).toBe(true);
    tm.abort(a);
    expect(await pb).toBe('ok');
  });

  it('lock_timeout applies to waitForTxn (55P03)', async () => {
    const tm = new TransactionManager();
    const a = tm.begin();
    const b = tm.begin();
    await expect(tm.waitForTxn(a.id, b, { timeoutMs: 20 })).rejects.toMatchObject({ code: SqlState.LockNotAvailable });
    tm.checkInvariants();
  });

  it('wound-wait tells the owner which transaction to abort', async () => {
    const wounded: bigint[] = [];
    const tm = new TransactionManager({ deadlockPrevention: 'wound-wait', onWound: (t) => { wounded.push(BigInt(t.id)); tm.abort(t); } });
    const old = tm.begin();
    const young = tm.begin();
    await tm.lockRow(young, tableId(1), rowId(1), 'FOR UPDATE');
    await tm.lockRow(old, tableId(1), rowId(1), 'FOR UPDATE');
    expect(wounded).toEqual([BigInt(young.id)]);
    expect(young.state).toBe('aborted');
    tm.checkInvariants();
  });
});

describe('TransactionManager: SET TRANSACTION, READ ONLY, DEFERRABLE', () => {
  it('SET TRANSACTION works before the first statement and gets 25001 after it', () => {
    const tm = new TransactionManager();
    const t = tm.begin();
    tm.setCharacteristics(t, { isolation: 'serializable', readOnly: true });
    expect([t.isolation, t.readOnly]).toEqual(['serializable', true]);
    tm.statementSnapshot(t);
    let err: unknown;
    try { tm.setCharacteristics(t, { isolation: 'read committed' }); } catch (e) { err = e; }
    expect(isDbError(err, SqlState.ActiveSqlTransaction)).toBe(true);
    tm.setCharacteristics(t, { isolation: 'serializable' }); // same level: allowed, as PostgreSQL
    err = undefined;
    try { t.assertWritable(); } catch (e) { err = e; }
    expect(isDbError(err, SqlState.ReadOnlySqlTransaction)).toBe(true);
    tm.commit(t);
  });

  it('a DEFERRABLE read-only transaction waits until its snapshot is safe', async () => {
    const tm = new TransactionManager();
    const w = tm.begin({ isolation: 'serializable' });
    tm.statementSnapshot(w);
    const ro = tm.begin({ isolation: 'serializable', readOnly: true, deferrable: true });
    let snap: unknown;
    const p = tm.deferrableSnapshot(ro).then((s) => { snap = s; });
    await flush();
    expect(snap).toBeUndefined();
    tm.ssi.recordWrite(w, tableId(1), 1);
    tm.commit(w);
    await p;
    expect(tm.ssi.snapshotSafety(ro)).toBe('safe');
    tm.commit(ro);
    tm.checkInvariants();
  });

  it('a DEFERRABLE transaction retakes its snapshot when it turns out unsafe', async () => {
    const tm = new TransactionManager();
    const tab = tableId(1);
    const pivot = tm.begin({ isolation: 'serializable' });
    const out = tm.begin({ isolation: 'serializable' });
    tm.statementSnapshot(pivot);
    tm.statementSnapshot(out);
    tm.ssi.recordRead(pivot, tab, 1);
    tm.ssi.recordWrite(out, tab, 1);
    tm.commit(out);
    const ro = tm.begin({ isolation: 'serializable', readOnly: true, deferrable: true });
    const p = tm.deferrableSnapshot(ro);
    await flush();
    const first = ro.snapshot;
    tm.ssi.recordWrite(pivot, tab, 2);
    tm.commit(pivot); // pivot committed with an out-conflict to a commit before ro's snapshot
    const snap = await p;
    expect(snap.startTs).toBeGreaterThan(first!.startTs);
    expect(tm.ssi.snapshotSafety(ro)).toBe('safe');
    tm.commit(ro);
    tm.checkInvariants();
  });
});

describe('TransactionManager: deadlocks among row writers (waitForTxn rings)', () => {
  for (const n of [2, 3, 5]) {
    it(`a ${n}-party ring of waitForTxn resolves after deadlock_timeout with exactly one victim`, async () => {
      const tm = new TransactionManager({ deadlockTimeoutMs: 20 });
      const txns = Array.from({ length: n }, () => tm.begin());
      const t0 = Date.now();
      const outcomes = txns.map((t, i) =>
        tm.waitForTxn(txns[(i + 1) % n]!.id, t).then(() => 'ok', (e: unknown) => (isDbError(e) ? e.code : 'other')));
      const settled: string[] = [];
      // the victim's wait settles first; it rolls back, then the chain unwinds one by one
      const victimIdx = await Promise.race(outcomes.map((p, i) => p.then(() => i)));
      settled.push(await outcomes[victimIdx]!);
      expect(settled).toEqual([SqlState.DeadlockDetected]);
      tm.abort(txns[victimIdx]!);
      for (let k = 1; k < n; k++) {
        const i = (victimIdx - k + n) % n; // the one that waited for the previous finisher
        expect(await outcomes[i]!).toBe('ok');
        tm.commit(txns[i]!);
      }
      expect(victimIdx).toBe(0); // the first to wait: its deadlock_timeout check runs first
      expect(Date.now() - t0).toBeGreaterThanOrEqual(15); // found by that check, as in PostgreSQL
      expect(tm.locks.stats.deadlocks).toBe(1);
      tm.checkInvariants();
    });
  }
});
