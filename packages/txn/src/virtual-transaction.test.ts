/**
 * Virtual transactions (`TransactionManager.beginVirtual`): the read-only statements outside a
 * transaction block. They take no id lock and no commit timestamp, but their table locks are real
 * (DDL waits for them) and their snapshot holds back the GC horizon until they end.
 */
import { describe, expect, it } from 'vitest';
import { tableId } from '@quiverdb/common';
import { TransactionManager } from './transaction-manager.js';
import { LockTarget } from './lock-target.js';

const flush = () => new Promise<void>((r) => setImmediate(r));
const T1 = tableId(1);

describe('TransactionManager: virtual transactions', () => {
  it('take no id lock and no commit timestamp, and still count as begun and committed', () => {
    const tm = new TransactionManager();
    const before = tm.currentTs();
    const v = tm.beginVirtual('read committed');
    tm.statementSnapshot(v);
    expect(tm.locks.holds(v.id, LockTarget.transaction(v.id))).toBe(false);
    expect(tm.isRunning(v.id)).toBe(false); // nobody can wait for it: it writes nothing
    tm.checkInvariants();
    tm.endVirtual(v);
    expect(tm.currentTs()).toBe(before);
    expect(v.state).toBe('committed');
    expect(tm.stats).toMatchObject({ begun: 1, committed: 1, aborted: 0 });
    const w = tm.beginVirtual('repeatable read');
    tm.endVirtual(w, false);
    tm.endVirtual(w, false); // idempotent
    expect(tm.stats).toMatchObject({ begun: 2, committed: 1, aborted: 1 });
    tm.checkInvariants();
  });

  it('ids come from the same counter as real transactions (lock-manager ages stay ordered)', () => {
    const tm = new TransactionManager();
    const a = tm.begin();
    const v = tm.beginVirtual('read committed');
    const b = tm.begin();
    expect(v.id).toBeGreaterThan(a.id);
    expect(b.id).toBeGreaterThan(v.id);
  });

  it('hold back the GC horizon while their snapshot is in use', () => {
    const tm = new TransactionManager();
    const w = tm.begin();
    tm.commit(w);
    const v = tm.beginVirtual('read committed');
    const snap = tm.statementSnapshot(v);
    for (let i = 0; i < 3; i++) tm.commit(tm.begin());
    expect(tm.snapshotBoundary()).toBeGreaterThan(snap.startTs);
    expect(tm.oldestActiveStartTs()).toBe(snap.startTs);
    tm.endVirtual(v);
    expect(tm.oldestActiveStartTs()).toBe(tm.snapshotBoundary());
  });

  it('their ACCESS SHARE makes ACCESS EXCLUSIVE wait until they end, which releases it', async () => {
    const tm = new TransactionManager();
    const v = tm.beginVirtual('read committed');
    tm.statementSnapshot(v);
    expect(tm.locks.tryAcquire(v.id, LockTarget.table(T1), 'ACCESS SHARE')).toBe(true);
    const ddl = tm.begin();
    let granted = false;
    const p = tm.lockTable(ddl, T1, 'ACCESS EXCLUSIVE').then((g) => { granted = g; });
    await flush();
    expect(granted).toBe(false);
    tm.checkInvariants();
    tm.endVirtual(v);
    await p;
    expect(granted).toBe(true);
    tm.checkInvariants();
    tm.commit(ddl);
    // the table's lock object is reused by later readers; the invariants hold throughout
    for (let i = 0; i < 5; i++) {
      const r = tm.beginVirtual('read committed');
      expect(tm.locks.tryAcquire(r.id, LockTarget.table(T1), 'ACCESS SHARE')).toBe(true);
      tm.checkInvariants();
      tm.endVirtual(r, i % 2 === 0);
    }
    expect(tm.locks.locks()).toEqual([]);
    tm.checkInvariants();
  });

  it('a reader queued behind a waiting ACCESS EXCLUSIVE waits too (FIFO), then gets its lock', async () => {
    const tm = new TransactionManager();
    const holder = tm.beginVirtual('read committed');
    expect(tm.locks.tryAcquire(holder.id, LockTarget.table(T1), 'ACCESS SHARE')).toBe(true);
    const ddl = tm.begin();
    const ddlGranted = tm.lockTable(ddl, T1, 'ACCESS EXCLUSIVE');
    const reader = tm.beginVirtual('read committed');
    expect(tm.locks.tryAcquire(reader.id, LockTarget.table(T1), 'ACCESS SHARE')).toBe(false);
    let readerGranted = false;
    const r = tm.lockTable(reader, T1, 'ACCESS SHARE').then(() => { readerGranted = true; });
    tm.endVirtual(holder);
    expect(await ddlGranted).toBe(true);
    await flush();
    expect(readerGranted).toBe(false);
    tm.commit(ddl);
    await r;
    expect(readerGranted).toBe(true);
    tm.endVirtual(reader);
    tm.checkInvariants();
  });
});
