import { describe, expect, it } from 'vitest';
import { isDbError, SqlState, tableId, type TableId } from '@quiverdb/common';
import { TransactionManager } from './transaction-manager.js';
import type { Transaction } from './transaction.js';

const tab: TableId = tableId(1);
const X = 1;
const Y = 2;

function catchCode(f: () => unknown): string | undefined {
  try { f(); } catch (e) { return isDbError(e) ? e.code : 'non-db-error'; }
  return undefined;
}

function ser(tm: TransactionManager, readOnly = false): Transaction {
  const t = tm.begin({ isolation: 'serializable', readOnly });
  tm.statementSnapshot(t);
  return t;
}

describe('SSI: classic anomalies', () => {
  it('write skew: the second committer gets 40001', () => {
    const tm = new TransactionManager();
    const t1 = ser(tm);
    const t2 = ser(tm);
    for (const t of [t1, t2]) { tm.ssi.recordRead(t, tab, X); tm.ssi.recordRead(t, tab, Y); }
    tm.ssi.recordWrite(t1, tab, X);
    tm.ssi.recordWrite(t2, tab, Y);
    tm.checkInvariants();
    tm.commit(t1);
    expect(tm.ssi.isDoomed(t2)).toBe(true);
    expect(catchCode(() => tm.commit(t2))).toBe(SqlState.SerializationFailure);
    tm.abort(t2);
    tm.checkInvariants();
    expect(tm.ssi.trackedCount).toBe(0);
  });

  it('write skew at repeatable read is not tracked (PostgreSQL allows it)', () => {
    const tm = new TransactionManager();
    const t1 = tm.begin({ isolation: 'repeatable read' });
    const t2 = tm.begin({ isolation: 'repeatable read' });
    for (const t of [t1, t2]) { tm.statementSnapshot(t); tm.ssi.recordRead(t, tab, X); tm.ssi.recordRead(t, tab, Y); }
    tm.ssi.recordWrite(t1, tab, X);
    tm.ssi.recordWrite(t2, tab, Y);
    tm.commit(t1);
    tm.commit(t2);
    expect(tm.ssi.edges()).toEqual([]);
  });

  it('no false positive when the reads do not overlap the writes', () => {
    const tm = new TransactionManager();
    const t1 = ser(tm);
    const t2 = ser(tm);
    tm.ssi.recordRead(t1, tab, X);
    tm.ssi.recordWrite(t1, tab, X);
    tm.ssi.recordRead(t2, tab, Y);
    tm.ssi.recordWrite(t2, tab, Y);
    tm.commit(t1);
    tm.commit(t2);
    tm.checkInvariants();
  });

  it('one rw edge alone (a serializable order exists) commits in either order', () => {
    for (const first of [0, 1]) {
      const tm = new TransactionManager();
      const r = ser(tm);
      const w = ser(tm);
      tm.ssi.recordRead(r, tab, X);
      tm.ssi.recordWrite(w, tab, X);
      const [a, b] = first === 0 ? [r, w] : [w, r];
      tm.commit(a);
      tm.commit(b);
      expect(tm.ssi.edges().length + tm.ssi.trackedCount).toBeGreaterThanOrEqual(0);
      tm.checkInvariants();
    }
  });

  it('read-only anomaly: the withdrawal (pivot) fails when the report saw the deposit', () => {
    const tm = new TransactionManager();
    const withdraw = ser(tm); // T2
    tm.ssi.recordRead(withdraw, tab, X);
    tm.ssi.recordRead(withdraw, tab, Y);
    const deposit = ser(tm); // T3
    tm.ssi.recordRead(deposit, tab, X);
    tm.ssi.recordWrite(deposit, tab, X);
    tm.commit(deposit);
    const report = ser(tm, true); // T1: snapshot after the deposit committed
    expect(tm.ssi.snapshotSafety(report)).toBe('pending');
    tm.ssi.recordRead(report, tab, X);
    tm.ssi.recordRead(report, tab, Y);
    tm.commit(report);
    expect(catchCode(() => tm.ssi.recordWrite(withdraw, tab, Y))).toBe(SqlState.SerializationFailure);
    tm.abort(withdraw);
    tm.checkInvariants();
  });

  it('read-only transaction whose snapshot predates the deposit is no anomaly: all commit', () => {
    const tm = new TransactionManager();
    const withdraw = ser(tm);
    tm.ssi.recordRead(withdraw, tab, X);
    tm.ssi.recordRead(withdraw, tab, Y);
    const deposit = ser(tm);
    const report = ser(tm, true); // before the deposit commits
    tm.ssi.recordRead(deposit, tab, X);
    tm.ssi.recordWrite(deposit, tab, X);
    tm.commit(deposit);
    tm.ssi.recordRead(report, tab, X);
    tm.ssi.recordRead(report, tab, Y);
    tm.commit(report);
    tm.ssi.recordWrite(withdraw, tab, Y);
    tm.commit(withdraw);
    tm.checkInvariants();
  });
});

describe('SSI: granularity', () => {
  it('range reads catch phantoms: predicate write skew on inserts', () => {
    const tm = new TransactionManager();
    const t1 = ser(tm);
    const t2 = ser(tm);
    tm.ssi.recordRead(t1, tab, { kind: 'range', space: 'k', lo: 10, hi: 20 });
    tm.ssi.recordRead(t2, tab, { kind: 'range', space: 'k', lo: 0, hi: 9 });
    tm.ssi.recordWrite(t1, tab, 100, { k: 5 }); // lands in t2's range
    tm.ssi.recordWrite(t2, tab, 101, { k: 15 }); // lands in t1's range
    tm.commit(t1);
    expect(catchCode(() => tm.commit(t2))).toBe(SqlState.SerializationFailure);
    tm.abort(t2);
  });

  it('inserts outside every range read conflict with nothing', () => {
    const tm = new TransactionManager();
    const t1 = ser(tm);
    const t2 = ser(tm);
    tm.ssi.recordRead(t1, tab, { kind: 'range', space: 'k', lo: 10, hi: 20, hiInclusive: false });
    tm.ssi.recordRead(t2, tab, { kind: 'range', space: 'k', lo: 0, hi: 9 });
    tm.ssi.recordWrite(t1, tab, 100, { k: 30 });
    tm.ssi.recordWrite(t2, tab, 101, { k: 20 }); // 20 is outside [10, 20)
    tm.commit(t1);
    tm.commit(t2);
    expect(tm.ssi.stats.edges).toBe(0);
  });

  it('a range read after a concurrent insert sees the conflict on the read side', () => {
    const tm = new TransactionManager();
    const t1 = ser(tm);
    const t2 = ser(tm);
    tm.ssi.recordWrite(t1, tab, 100, { k: 5 });
    tm.ssi.recordRead(t2, tab, { kind: 'range', space: 'k', lo: 0, hi: 9 });
    expect(tm.ssi.edges()).toEqual([[t2.id, t1.id]]);
  });

  it('table reads conflict with every write; row reads are promoted past the limit', () => {
    const tm = new TransactionManager({ ssi: { maxRowLocksPerTable: 3 } });
    const r = ser(tm);
    const w = ser(tm);
    tm.ssi.recordReads(r, tab, [1, 2, 3, 4]); // promoted to a table SIREAD
    expect(tm.ssi.stats.promotions).toBe(1);
    tm.ssi.recordWrite(w, tab, 999);
    expect(tm.ssi.edges()).toEqual([[r.id, w.id]]);
    const r2 = ser(tm);
    tm.ssi.recordRead(r2, tableId(2), 'table');
    tm.ssi.recordWrite(w, tableId(2), 5);
    expect(tm.ssi.edges()).toContainEqual([r2.id, w.id]);
    tm.checkInvariants();
  });
});

describe('SSI: read-only optimisation and cleanup', () => {
  it('a read-only transaction with no concurrent writer has a safe snapshot and is not tracked', () => {
    const tm = new TransactionManager();
    const ro = ser(tm, true);
    expect(tm.ssi.snapshotSafety(ro)).toBe('safe');
    tm.ssi.recordRead(ro, tab, X);
    const w = ser(tm);
    tm.ssi.recordWrite(w, tab, X);
    expect(tm.ssi.edges()).toEqual([]);
    tm.commit(ro);
    tm.commit(w);
  });

  it('becomes safe once its concurrent writers end without dangerous out-conflicts', () => {
    const tm = new TransactionManager();
    const w = ser(tm);
    const ro = ser(tm, true);
    tm.ssi.recordRead(ro, tab, X);
    expect(tm.ssi.snapshotSafety(ro)).toBe('pending');
    tm.ssi.recordWrite(w, tab, X);
    tm.commit(w);
    expect(tm.ssi.snapshotSafety(ro)).toBe('safe');
    expect(tm.ssi.edges()).toEqual([]);
    tm.commit(ro);
    tm.checkInvariants();
    expect(tm.ssi.trackedCount).toBe(0);
  });

  it('is unsafe when a concurrent writer committed with an out-conflict to an earlier commit', () => {
    const tm = new TransactionManager();
    const pivot = ser(tm);
    const out = ser(tm);
    tm.ssi.recordRead(pivot, tab, X);
    tm.ssi.recordWrite(out, tab, X); // pivot -rw-> out
    tm.commit(out);
    const ro = ser(tm, true);
    tm.ssi.recordWrite(pivot, tab, Y);
    tm.commit(pivot);
    expect(tm.ssi.snapshotSafety(ro)).toBe('unsafe');
    tm.commit(ro);
  });

  it('keeps committed transactions while an overlapping one runs, then drops them', () => {
    const tm = new TransactionManager();
    const long = ser(tm);
    const c = ser(tm);
    tm.ssi.recordWrite(c, tab, X);
    tm.commit(c);
    expect(tm.ssi.trackedCount).toBe(2);
    tm.ssi.recordRead(long, tab, X); // read side: long -rw-> committed c
    expect(tm.ssi.edges()).toEqual([[long.id, c.id]]);
    tm.commit(long);
    expect(tm.ssi.trackedCount).toBe(0);
    tm.checkInvariants();
  });

  it('the caller closing a dangerous structure fails at once (pivot is the caller)', () => {
    const tm = new TransactionManager();
    const p = ser(tm);
    const tout = ser(tm);
    tm.ssi.recordRead(p, tab, X);
    tm.ssi.recordWrite(tout, tab, X); // p -rw-> tout
    tm.commit(tout);
    const tin = ser(tm);
    tm.ssi.recordRead(tin, tab, Y);
    expect(catchCode(() => tm.ssi.recordWrite(p, tab, Y))).toBe(SqlState.SerializationFailure);
    tm.abort(p);
    tm.commit(tin);
    tm.checkInvariants();
  });

  it('summaries of dropped transactions still catch a structure (conservatively)', () => {
    const tm = new TransactionManager();
    const p = ser(tm);
    const tout = ser(tm);
    tm.ssi.recordRead(p, tab, X);
    tm.ssi.recordWrite(tout, tab, X); // p -rw-> tout
    tm.commit(tout);
    const tin = ser(tm);
    tm.ssi.recordWrite(p, tab, Y);
    tm.commit(p); // tout no longer overlaps any running txn: dropped, summarised on p
    expect(tm.ssi.trackedCount).toBe(2);
    tm.checkInvariants();
    // tin -rw-> p (committed) -rw-> (dropped tout, committed first)
    expect(catchCode(() => tm.ssi.recordRead(tin, tab, Y))).toBe(SqlState.SerializationFailure);
    tm.abort(tin);
    tm.checkInvariants();
    expect(tm.ssi.trackedCount).toBe(0);
  });
});

describe('SSI: bulk writes', () => {
  it('promotes a large write set to one table-wide entry that still conflicts with row and range reads', () => {
    const tm = new TransactionManager({ ssi: { maxRowLocksPerTable: 10 } });
    const w = ser(tm);
    tm.ssi.recordWrites(w, tab, Float64Array.from({ length: 50 }, (_, i) => 1000 + i), (i) => ({ k: i }));
    expect(tm.ssi.stats.promotions).toBe(1);
    tm.checkInvariants();
    const r1 = ser(tm);
    tm.ssi.recordRead(r1, tab, 5); // a row the bulk write never touched: conservative edge
    const r2 = ser(tm);
    tm.ssi.recordRead(r2, tab, { kind: 'range', space: 'k', lo: 500, hi: 600 });
    expect(tm.ssi.edges()).toEqual(expect.arrayContaining([[r1.id, w.id], [r2.id, w.id]]));
    const r3 = ser(tm);
    tm.ssi.recordRead(r3, tableId(9), 5); // other tables are unaffected
    expect(tm.ssi.edges().length).toBe(2);
    for (const t of [w, r1, r2, r3]) tm.commit(t);
    tm.checkInvariants();
    expect(tm.ssi.trackedCount).toBe(0);
  });
});

describe('SSI: explicit conflicts and misuse', () => {
  it('recordRwConflict adds an edge only to an invisible serializable writer', () => {
    const tm = new TransactionManager();
    const old = ser(tm);
    tm.commit(old);
    const r = ser(tm);
    const w = ser(tm);
    tm.ssi.recordRwConflict(r, w.id);
    tm.ssi.recordRwConflict(r, old.id); // committed before r's snapshot: visible, no edge
    const rr = tm.begin({ isolation: 'repeatable read' });
    tm.ssi.recordRwConflict(r, rr.id); // not tracked: no edge
    expect(tm.ssi.edges()).toEqual([[r.id, w.id]]);
    tm.checkInvariants();
  });

  it('reading before the first snapshot is a bug (XX000), a doomed transaction gets 40001 on any call', () => {
    const tm = new TransactionManager();
    const t = tm.begin({ isolation: 'serializable' });
    expect(catchCode(() => tm.ssi.recordRead(t, tab, 1))).toBe(SqlState.InternalError);
    tm.statementSnapshot(t);
    const u = ser(tm);
    tm.ssi.recordRead(t, tab, X);
    tm.ssi.recordRead(u, tab, Y);
    tm.ssi.recordWrite(t, tab, Y);
    tm.ssi.recordWrite(u, tab, X);
    tm.commit(t);
    expect(tm.ssi.isDoomed(u)).toBe(true);
    expect(catchCode(() => tm.ssi.recordRead(u, tab, 3))).toBe(SqlState.SerializationFailure);
    expect(catchCode(() => tm.ssi.recordWrite(u, tab, 3))).toBe(SqlState.SerializationFailure);
    tm.abort(u);
    tm.checkInvariants();
  });
});
