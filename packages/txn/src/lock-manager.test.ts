import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDbError, SqlState, tableId, rowId, txnId, type TxnId } from '@quiverdb/common';
import { LockManager, type DeadlockPrevention } from './lock-manager.js';
import { modesConflict, ROW_LOCK_MODES, TABLE_LOCK_MODES, type LockMode } from './lock-mode.js';
import { LockTarget } from './lock-target.js';
import { SeededRandom, iterations } from '../test/support/seeded-random.js';

const T = (n: number): TxnId => txnId(2 ** 50 + n);
const tab = LockTarget.table(tableId(1));
const row = (r: number) => LockTarget.row(tableId(1), rowId(r));

/** Track a promise's outcome synchronously after a flush. */
function track<T>(p: Promise<T>): { state: 'pending' | 'ok' | 'err'; value?: T; error?: unknown } {
  const s: { state: 'pending' | 'ok' | 'err'; value?: T; error?: unknown } = { state: 'pending' };
  p.then((v) => { s.state = 'ok'; s.value = v; }, (e: unknown) => { s.state = 'err'; s.error = e; });
  return s;
}
const flush = () => new Promise<void>((r) => setImmediate(r));
/** deadlock_timeout of the deadlock tests: a cycle is found when a member's check runs, after it */
const DL = 5;
const settle = async (): Promise<void> => {
  await new Promise<void>((r) => setTimeout(r, DL * 4));
  await flush();
};

describe('LockManager: conflicts', () => {
  it('grants or blocks every table-mode pair exactly as the conflict table says', async () => {
    for (const held of TABLE_LOCK_MODES) {
      for (const req of TABLE_LOCK_MODES) {
        const lm = new LockManager();
        expect(lm.tryAcquire(T(1), tab, held)).toBe(true);
        const r = track(lm.acquire(T(2), tab, req));
        await flush();
        expect(r.state === 'ok', `${held} held, ${req} requested`).toBe(!modesConflict(req, held));
        lm.checkInvariants();
        lm.releaseAll(T(1));
        await flush();
        expect(r.state).toBe('ok');
        lm.releaseAll(T(2));
        lm.checkInvariants();
        expect(lm.locks()).toEqual([]);
      }
    }
  });

  it('grants or blocks every row-mode pair exactly as the row conflict table says', async () => {
    for (const held of ROW_LOCK_MODES) {
      for (const req of ROW_LOCK_MODES) {
        const lm = new LockManager();
        expect(lm.tryAcquire(T(1), row(7), held)).toBe(true);
        expect(lm.tryAcquire(T(2), row(7), req), `${held} / ${req}`).toBe(!modesConflict(req, held));
        expect(lm.tryAcquire(T(2), row(8), req)).toBe(true); // other rows never conflict
        lm.checkInvariants();
      }
    }
  });

  it('rejects a row mode on a table and a table mode on a row (a bug, XX000)', () => {
    const lm = new LockManager();
    expect(() => lm.tryAcquire(T(1), tab, 'FOR UPDATE')).toThrow();
    expect(() => lm.tryAcquire(T(1), row(1), 'SHARE')).toThrow();
  });
});

describe('LockManager: holds, upgrades, queues', () => {
  it('is re-entrant: each acquire needs its own release', () => {
    const lm = new LockManager();
    expect(lm.tryAcquire(T(1), tab, 'SHARE')).toBe(true);
    expect(lm.tryAcquire(T(1), tab, 'SHARE')).toBe(true);
    expect(lm.locks()).toEqual([{ txn: T(1), target: tab, mode: 'SHARE', granted: true, count: 2 }]);
    expect(lm.release(T(1), tab, 'SHARE')).toBe(true);
    expect(lm.holds(T(1), tab, 'SHARE')).toBe(true);
    expect(lm.release(T(1), tab, 'SHARE')).toBe(true);
    expect(lm.holds(T(1), tab)).toBe(false);
    expect(lm.release(T(1), tab, 'SHARE')).toBe(false);
    lm.checkInvariants();
  });

  it('upgrades when alone, waits for other holders when not', async () => {
    const lm = new LockManager();
    lm.tryAcquire(T(1), tab, 'ACCESS SHARE');
    expect(lm.tryAcquire(T(1), tab, 'ACCESS EXCLUSIVE')).toBe(true); // own locks never conflict
    lm.tryAcquire(T(2), tab, 'ROW SHARE') ; // blocked by T1's AE
    expect(lm.holds(T(2), tab)).toBe(false);
    lm.releaseAll(T(1));
    lm.tryAcquire(T(2), tab, 'SHARE');
    lm.tryAcquire(T(3), tab, 'SHARE');
    const up = track(lm.acquire(T(2), tab, 'EXCLUSIVE'));
    await flush();
    expect(up.state).toBe('pending');
    expect(lm.waitingFor(T(2))).toEqual([T(3)]);
    lm.releaseAll(T(3));
    await flush();
    expect(up.state).toBe('ok');
    lm.checkInvariants();
  });

  it('queues first come first served: a compatible late request waits behind a conflicting waiter', async () => {
    const lm = new LockManager();
    lm.tryAcquire(T(1), tab, 'SHARE');
    const x = track(lm.acquire(T(2), tab, 'EXCLUSIVE'));
    const s = track(lm.acquire(T(3), tab, 'SHARE'));
    await flush();
    expect([x.state, s.state]).toEqual(['pending', 'pending']);
    expect(lm.waitingFor(T(3))).toEqual([T(2)]);
    lm.checkInvariants();
    lm.releaseAll(T(1));
    await flush();
    expect([x.state, s.state]).toEqual(['ok', 'pending']);
    lm.releaseAll(T(2));
    await flush();
    expect(s.state).toBe('ok');
    lm.checkInvariants();
  });

  it('wouldGrant answers as tryAcquire would (holders, queue, own holds) and records nothing', async () => {
    const rnd = new SeededRandom(61);
    for (let round = 0; round < 200; round++) {
      const lm = new LockManager();
      // a random state: holders and queued waiters on one table
      for (let k = 0; k < 1 + rnd.int(4); k++) {
        const t = T(1 + rnd.int(4));
        const mode = rnd.pick(TABLE_LOCK_MODES);
        if (!lm.tryAcquire(t, tab, mode)) lm.acquire(t, tab, mode).catch(() => {});
      }
      await flush();
      const before = JSON.stringify(lm.locks());
      const t = T(1 + rnd.int(5));
      const mode = rnd.pick(TABLE_LOCK_MODES);
      const would = lm.wouldGrant(t, tab, mode);
      expect(JSON.stringify(lm.locks())).toBe(before);
      expect(lm.tryAcquire(t, tab, mode), `${mode} by ${t}`).toBe(would);
      lm.checkInvariants();
      for (let n = 1; n <= 5; n++) lm.releaseAll(T(n));
      await flush();
    }
  });

  it('passWaiters (row locks): a request compatible with the holders passes a waiting conflicting one', async () => {
    const lm = new LockManager();
    expect(lm.tryAcquire(T(1), row(1), 'FOR SHARE')).toBe(true);
    const upd = track(lm.acquire(T(2), row(1), 'FOR UPDATE', { passWaiters: true }));
    await flush();
    expect(upd.state).toBe('pending');
    // a plain request queues behind the waiter; a row-lock request does not
    const queued = track(lm.acquire(T(3), row(1), 'FOR SHARE'));
    const passing = track(lm.acquire(T(4), row(1), 'FOR SHARE', { passWaiters: true }));
    await flush();
    expect(queued.state).toBe('pending');
    expect(passing.state).toBe('ok');
    lm.checkInvariants();
    lm.releaseAll(T(1));
    await flush();
    expect(upd.state).toBe('pending'); // T4 still shares the row
    lm.releaseAll(T(4));
    await flush();
    expect(upd.state).toBe('ok'); // waiters stay first come, first served
    expect(queued.state).toBe('pending');
    lm.releaseAll(T(2));
    await flush();
    expect(queued.state).toBe('ok');
    lm.releaseAll(T(3));
    lm.checkInvariants();
  });

  it('an upgrade request goes ahead of plain waiters (no needless deadlock)', async () => {
    const lm = new LockManager();
    lm.tryAcquire(T(1), tab, 'ACCESS SHARE');
    lm.tryAcquire(T(2), tab, 'ACCESS SHARE');
    const plain = track(lm.acquire(T(3), tab, 'ACCESS EXCLUSIVE')); // waits for T1, T2
    const up = track(lm.acquire(T(1), tab, 'ROW EXCLUSIVE')); // holder: skips T3's queued AE
    await flush();
    expect(up.state).toBe('ok');
    expect(plain.state).toBe('pending');
    lm.checkInvariants();
  });

  it('reports held and awaited locks in the view', async () => {
    const lm = new LockManager();
    lm.tryAcquire(T(1), row(5), 'FOR UPDATE');
    void lm.acquire(T(2), row(5), 'FOR SHARE').catch(() => {});
    await flush();
    expect(lm.locks()).toEqual([
      { txn: T(1), target: row(5), mode: 'FOR UPDATE', granted: true, count: 1 },
      { txn: T(2), target: row(5), mode: 'FOR SHARE', granted: false, count: 1 },
    ]);
    expect(lm.view()).toEqual([
      { locktype: 'tuple', relation: tableId(1), row: rowId(5), transactionid: null, object: null, txn: T(1), mode: 'FOR UPDATE', granted: true, blockedBy: [] },
      { locktype: 'tuple', relation: tableId(1), row: rowId(5), transactionid: null, object: null, txn: T(2), mode: 'FOR SHARE', granted: false, blockedBy: [T(1)] },
    ]);
    lm.releaseAll(T(2));
    lm.releaseAll(T(1));
    expect(lm.locks()).toEqual([]);
  });
});

describe('LockManager: waiting options', () => {
  it('NOWAIT fails with 55P03 at once; SKIP LOCKED resolves false', async () => {
    const lm = new LockManager();
    lm.tryAcquire(T(1), row(1), 'FOR UPDATE');
    await expect(lm.acquire(T(2), row(1), 'FOR KEY SHARE', { nowait: true })).rejects.toMatchObject({ code: SqlState.LockNotAvailable });
    await expect(lm.acquire(T(2), row(1), 'FOR KEY SHARE', { skipLocked: true })).resolves.toBe(false);
    await expect(lm.acquire(T(2), row(2), 'FOR UPDATE', { skipLocked: true })).resolves.toBe(true);
    expect(lm.locks().filter((l) => !l.granted)).toEqual([]);
    lm.checkInvariants();
  });

  it('lock_timeout rejects with 55P03 and lets later waiters through', async () => {
    const lm = new LockManager();
    lm.tryAcquire(T(1), tab, 'ROW EXCLUSIVE');
    const blocked = track(lm.acquire(T(2), tab, 'SHARE', { timeoutMs: 30 }));
    const behind = track(lm.acquire(T(3), tab, 'ROW EXCLUSIVE')); // compatible with T1, queued behind T2
    await flush();
    expect(behind.state).toBe('pending');
    const t0 = Date.now();
    while (blocked.state === 'pending') await new Promise((r) => setTimeout(r, 5));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(isDbError(blocked.error, SqlState.LockNotAvailable)).toBe(true);
    await flush();
    expect(behind.state).toBe('ok');
    lm.checkInvariants();
  });

  it('an abort signal cancels the wait (57014 or the reason given)', async () => {
    const lm = new LockManager();
    lm.tryAcquire(T(1), tab, 'EXCLUSIVE');
    const ac = new AbortController();
    const p = track(lm.acquire(T(2), tab, 'SHARE', { signal: ac.signal }));
    await flush();
    ac.abort();
    await flush();
    expect(isDbError(p.error, SqlState.QueryCanceled)).toBe(true);
    expect(lm.locks().length).toBe(1);
    lm.checkInvariants();
  });

  it('releaseAll cancels the transaction own waits', async () => {
    const lm = new LockManager();
    lm.tryAcquire(T(1), tab, 'EXCLUSIVE');
    const p = track(lm.acquire(T(2), tab, 'SHARE'));
    lm.releaseAll(T(2));
    await flush();
    expect(isDbError(p.error, SqlState.QueryCanceled)).toBe(true);
    lm.checkInvariants();
  });

  it('releaseSince undoes only acquisitions after the mark (savepoints)', () => {
    const lm = new LockManager();
    lm.tryAcquire(T(1), tab, 'ROW EXCLUSIVE');
    lm.tryAcquire(T(1), row(1), 'FOR UPDATE');
    const m = lm.mark(T(1));
    lm.tryAcquire(T(1), row(1), 'FOR UPDATE'); // re-acquired after the mark: count 2 -> 1
    lm.tryAcquire(T(1), row(2), 'FOR SHARE');
    lm.tryAcquire(T(1), tab, 'SHARE');
    lm.releaseSince(T(1), m);
    expect(lm.locks().map((l) => [l.target, l.mode, l.count])).toEqual([
      [tab, 'ROW EXCLUSIVE', 1],
      [row(1), 'FOR UPDATE', 1],
    ]);
    lm.checkInvariants();
  });
});

/** Build a ring: T(i) holds row i, then waits for row i+1 (mod n). Returns the wait outcomes. */
async function ring(lm: LockManager, n: number) {
  for (let i = 1; i <= n; i++) expect(lm.tryAcquire(T(i), row(i), 'FOR UPDATE')).toBe(true);
  const waits = [];
  for (let i = 1; i <= n; i++) {
    waits.push(track(lm.acquire(T(i), row((i % n) + 1), 'FOR UPDATE')));
    await flush();
  }
  return waits;
}

describe('LockManager: deadlocks', () => {
  for (const n of [2, 3, 5]) {
    it(`a ${n}-party cycle is resolved with exactly one victim (the first to wait, as in PostgreSQL)`, async () => {
      const lm = new LockManager({ deadlockTimeoutMs: DL });
      const waits = await ring(lm, n);
      await settle();
      const failed = waits.filter((w) => w.state === 'err');
      expect(failed.length).toBe(1);
      expect(isDbError(failed[0]!.error, SqlState.DeadlockDetected)).toBe(true);
      // equal deadlock_timeouts: the first wait's timer would fire first, so it finds the cycle
      expect(waits[0]!.state).toBe('err');
      expect(lm.stats.deadlocks).toBe(1);
      lm.checkInvariants();
      // the victim rolls back: everyone else proceeds in turn (T(n) waited for T(1)'s row)
      lm.releaseAll(T(1));
      for (let i = n; i >= 2; i--) {
        await settle();
        expect(waits[i - 1]!.state).toBe('ok');
        lm.releaseAll(T(i));
      }
      lm.checkInvariants();
      expect(lm.locks()).toEqual([]);
    });
  }

  it('finds cycles through table locks and transaction-id locks too', async () => {
    const lm = new LockManager({ deadlockTimeoutMs: DL });
    lm.tryAcquire(T(1), LockTarget.transaction(T(1)), 'EXCLUSIVE');
    lm.tryAcquire(T(2), tab, 'SHARE');
    const a = track(lm.acquire(T(1), tab, 'ROW EXCLUSIVE'));
    const b = track(lm.acquire(T(2), LockTarget.transaction(T(1)), 'SHARE'));
    await settle();
    expect(isDbError(a.error, SqlState.DeadlockDetected)).toBe(true);
    expect(b.state).toBe('pending');
    lm.checkInvariants();
  });

  it('a cycle through soft edges (waiting behind queued requests) is broken by moving a request ahead, without a victim', async () => {
    // two tables: d1 / d2 share them, e1 / e2 queue exclusive requests behind, then d1 and d2 ask
    // for the other table: d2 -soft-> e1 -hard-> d1 -soft-> e2 -hard-> d2
    const lm = new LockManager({ deadlockTimeoutMs: DL });
    const ta = LockTarget.table(tableId(1));
    const tb = LockTarget.table(tableId(2));
    const [d1, d2, e1, e2] = [T(1), T(2), T(3), T(4)];
    expect(lm.tryAcquire(d1, ta, 'ACCESS SHARE')).toBe(true);
    expect(lm.tryAcquire(d2, tb, 'ACCESS SHARE')).toBe(true);
    const we1 = track(lm.acquire(e1, ta, 'ACCESS EXCLUSIVE'));
    const we2 = track(lm.acquire(e2, tb, 'ACCESS EXCLUSIVE'));
    const wd1 = track(lm.acquire(d1, tb, 'ACCESS SHARE'));
    await settle();
    expect([we1.state, we2.state, wd1.state]).toEqual(['pending', 'pending', 'pending']); // first come, first served
    const wd2 = track(lm.acquire(d2, ta, 'ACCESS SHARE'));
    await settle();
    // the last soft edge of the cycle (d1 behind e2) is reversed: d1 is granted, nobody fails
    expect(wd1.state).toBe('ok');
    expect(wd2.state).toBe('pending');
    expect(lm.stats.deadlocks).toBe(0);
    expect(lm.stats.softDeadlocks).toBe(1);
    lm.checkInvariants();
    lm.releaseAll(d1);
    await settle();
    expect(we1.state).toBe('ok');
    lm.releaseAll(e1);
    await settle();
    expect(wd2.state).toBe('ok');
    lm.releaseAll(d2);
    await settle();
    expect(we2.state).toBe('ok');
    lm.releaseAll(e2);
    lm.checkInvariants();
    expect(lm.locks()).toEqual([]);
  });

  it('a request jumps several queued requests when only that breaks the cycle', async () => {
    const lm = new LockManager({ deadlockTimeoutMs: DL });
    const ta = LockTarget.table(tableId(1));
    const tb = LockTarget.table(tableId(2));
    const [s1, s2, s3, s4] = [T(1), T(2), T(3), T(4)];
    expect(lm.tryAcquire(s1, ta, 'SHARE UPDATE EXCLUSIVE')).toBe(true);
    expect(lm.tryAcquire(s2, tb, 'ACCESS SHARE')).toBe(true);
    const w2 = track(lm.acquire(s2, ta, 'SHARE UPDATE EXCLUSIVE'));
    const w3 = track(lm.acquire(s3, tb, 'ACCESS EXCLUSIVE'));
    const w4 = track(lm.acquire(s4, tb, 'ACCESS EXCLUSIVE'));
    const w1 = track(lm.acquire(s1, tb, 'SHARE UPDATE EXCLUSIVE'));
    await settle();
    expect(w1.state).toBe('ok');
    expect([w2.state, w3.state, w4.state]).toEqual(['pending', 'pending', 'pending']);
    expect(lm.stats.deadlocks).toBe(0);
    lm.checkInvariants();
    for (const t of [s1, s2, s3, s4]) { lm.releaseAll(t); await settle(); }
    expect([w2.state, w3.state, w4.state]).toEqual(['ok', 'ok', 'ok']);
    lm.checkInvariants();
  });

  it('the victim is the member whose deadlock_timeout runs out first', async () => {
    const lm = new LockManager({ deadlockTimeoutMs: DL });
    lm.tryAcquire(T(1), row(1), 'FOR UPDATE');
    lm.tryAcquire(T(2), row(2), 'FOR UPDATE');
    // the closer's own timeout is shorter: it finds the cycle first and fails
    const slow = track(lm.acquire(T(1), row(2), 'FOR UPDATE', { deadlockTimeoutMs: 10_000 }));
    const quick = track(lm.acquire(T(2), row(1), 'FOR UPDATE', { deadlockTimeoutMs: 5 }));
    await settle();
    expect(slow.state).toBe('pending');
    expect(isDbError(quick.error, SqlState.DeadlockDetected)).toBe(true);
    lm.releaseAll(T(2));
    await settle();
    expect(slow.state).toBe('ok');
    lm.releaseAll(T(1));
    lm.tryAcquire(T(1), row(1), 'FOR UPDATE');
    lm.tryAcquire(T(2), row(2), 'FOR UPDATE');
    const first = track(lm.acquire(T(1), row(2), 'FOR UPDATE', { deadlockTimeoutMs: 5 }));
    const closer = track(lm.acquire(T(2), row(1), 'FOR UPDATE', { deadlockTimeoutMs: 10_000 }));
    await settle();
    expect(isDbError(first.error, SqlState.DeadlockDetected)).toBe(true);
    expect(closer.state).toBe('pending'); // T1 still holds row 1 until it rolls back
    lm.releaseAll(T(1));
    await settle();
    expect(closer.state).toBe('ok');
    lm.releaseAll(T(2));
    // equal timeouts: the member that began waiting first
    lm.tryAcquire(T(3), row(1), 'FOR UPDATE');
    lm.tryAcquire(T(4), row(2), 'FOR UPDATE');
    const a = track(lm.acquire(T(3), row(2), 'FOR UPDATE', { deadlockTimeoutMs: 10 }));
    await new Promise((r) => setTimeout(r, 2));
    const b = track(lm.acquire(T(4), row(1), 'FOR UPDATE', { deadlockTimeoutMs: 10 }));
    await new Promise((r) => setTimeout(r, 30));
    await flush();
    expect(isDbError(a.error, SqlState.DeadlockDetected)).toBe(true);
    expect(b.state).toBe('pending');
    lm.checkInvariants();
    lm.releaseAll(T(3));
    lm.releaseAll(T(4));
    // a member whose check already ran (it found no cycle and does not look again soon) is
    // passed over: the closer is the victim
    lm.tryAcquire(T(5), row(1), 'FOR UPDATE');
    lm.tryAcquire(T(6), row(2), 'FOR UPDATE');
    const early = track(lm.acquire(T(5), row(2), 'FOR UPDATE', { deadlockTimeoutMs: 5 }));
    await new Promise((r) => setTimeout(r, 30));
    const late = track(lm.acquire(T(6), row(1), 'FOR UPDATE', { deadlockTimeoutMs: 5 }));
    await settle();
    expect(early.state).toBe('pending');
    expect(isDbError(late.error, SqlState.DeadlockDetected)).toBe(true);
    lm.checkInvariants();
  });

  it('two upgraders of one object: the second gets 40P01 at once (PostgreSQL\'s early deadlock test)', async () => {
    const lm = new LockManager({ deadlockTimeoutMs: DL });
    const ta = LockTarget.table(tableId(1));
    lm.tryAcquire(T(1), ta, 'ACCESS SHARE');
    lm.tryAcquire(T(2), ta, 'ACCESS SHARE');
    const a = track(lm.acquire(T(1), ta, 'ACCESS EXCLUSIVE'));
    const b = track(lm.acquire(T(2), ta, 'ACCESS EXCLUSIVE'));
    await flush();
    expect(a.state).toBe('pending');
    expect(isDbError(b.error, SqlState.DeadlockDetected)).toBe(true);
    expect(lm.stats.softDeadlocks).toBe(0);
    lm.checkInvariants();
  });

  it('the deadlock_timeout re-check and detectDeadlocks() find nothing when there is no cycle', async () => {
    const lm = new LockManager({ deadlockTimeoutMs: 10 });
    lm.tryAcquire(T(1), tab, 'EXCLUSIVE');
    const p = track(lm.acquire(T(2), tab, 'SHARE'));
    await new Promise((r) => setTimeout(r, 40));
    expect(p.state).toBe('pending');
    expect(lm.detectDeadlocks()).toEqual([]);
    lm.releaseAll(T(1));
    await settle();
    expect(p.state).toBe('ok');
  });
});

describe('LockManager: prevention policies', () => {
  const setup = (p: DeadlockPrevention, onWound?: (t: TxnId) => void) => new LockManager({ deadlockPrevention: p, onWound });

  it('no-wait: any wait fails with 40P01 at once', async () => {
    const lm = setup('no-wait');
    lm.tryAcquire(T(1), row(1), 'FOR UPDATE');
    await expect(lm.acquire(T(2), row(1), 'FOR SHARE')).rejects.toMatchObject({ code: SqlState.DeadlockDetected });
    lm.checkInvariants();
  });

  it('wait-die: an older requester waits, a younger one dies', async () => {
    const lm = setup('wait-die');
    lm.tryAcquire(T(5), row(1), 'FOR UPDATE');
    const older = track(lm.acquire(T(1), row(1), 'FOR UPDATE'));
    lm.tryAcquire(T(1), row(2), 'FOR UPDATE');
    const younger = track(lm.acquire(T(9), row(2), 'FOR UPDATE'));
    await flush();
    expect(older.state).toBe('pending');
    expect(isDbError(younger.error, SqlState.DeadlockDetected)).toBe(true);
    // the would-be deadlock: T5 (younger than T1) asks for T1's row and dies
    await expect(lm.acquire(T(5), row(2), 'FOR UPDATE')).rejects.toMatchObject({ code: SqlState.DeadlockDetected });
    lm.releaseAll(T(5));
    await flush();
    expect(older.state).toBe('ok');
    lm.checkInvariants();
  });

  it('wound-wait: an older requester wounds the younger holder, a younger requester waits', async () => {
    const wounded: TxnId[] = [];
    const lm = setup('wound-wait', (t) => wounded.push(t));
    lm.tryAcquire(T(5), row(1), 'FOR UPDATE');
    lm.tryAcquire(T(1), row(2), 'FOR UPDATE');
    const young = track(lm.acquire(T(5), row(2), 'FOR UPDATE')); // younger waits for older
    await flush();
    expect(young.state).toBe('pending');
    const old = track(lm.acquire(T(1), row(1), 'FOR UPDATE')); // older wounds T5
    await flush();
    expect(wounded).toEqual([T(5)]);
    expect(isDbError(young.error, SqlState.DeadlockDetected)).toBe(true); // its wait is cut
    expect(lm.isWounded(T(5))).toBe(true);
    await expect(lm.acquire(T(5), row(3), 'FOR UPDATE')).rejects.toMatchObject({ code: SqlState.DeadlockDetected });
    expect(old.state).toBe('pending');
    lm.releaseAll(T(5)); // the owner aborts it
    await flush();
    expect(old.state).toBe('ok');
    expect(lm.isWounded(T(5))).toBe(false);
    lm.checkInvariants();
  });

  for (const p of ['wait-die', 'wound-wait', 'no-wait'] as const) {
    it(`${p}: rings of 2, 3 and 5 never deadlock and finish when the aborted ones roll back`, async () => {
      for (const n of [2, 3, 5]) {
        const lm = setup(p, (t) => lm.releaseAll(t));
        const waits = await ring(lm, n);
        await flush();
        for (let i = 0; i < n; i++) if (waits[i]!.state === 'err') lm.releaseAll(T(i + 1));
        // release in any order until everything settles
        for (let k = 0; k < 2 * n; k++) {
          await flush();
          for (let i = 0; i < n; i++) if (waits[i]!.state === 'ok') lm.releaseAll(T(i + 1));
        }
        expect(waits.every((w) => w.state !== 'pending')).toBe(true);
        // someone was aborted: a failed wait, or (wound-wait) a wounded holder
        expect(waits.some((w) => w.state === 'err') || lm.stats.wounds > 0).toBe(true);
        expect(lm.stats.deadlocks).toBe(0);
        lm.checkInvariants();
      }
    });
  }
});

describe('LockManager: randomized against invariants and a progress model', () => {
  beforeAll(() => { LockManager.debugChecks = true; });
  afterAll(() => { LockManager.debugChecks = false; });

  it('random acquire / release / savepoint / timeout sequences keep every invariant and never lose a wake-up', async () => {
    const modes: LockMode[] = ['ACCESS SHARE', 'ROW EXCLUSIVE', 'SHARE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE'];
    const rowModes: LockMode[] = [...ROW_LOCK_MODES];
    const totals = { waits: 0, aborts: 0 };
    for (const policy of ['detect', 'wait-die', 'wound-wait'] as const) {
      const rnd = new SeededRandom(policy.length * 7919);
      for (let round = 0; round < iterations(6, 60); round++) {
        const lm = new LockManager({ deadlockPrevention: policy, deadlockTimeoutMs: 1, onWound: (t) => lm.releaseAll(t) });
        const pending = new Map<TxnId, ReturnType<typeof track<boolean>>[]>();
        const marks = new Map<TxnId, number>();
        for (let step = 0; step < 120; step++) {
          const t = T(1 + rnd.int(6));
          const op = rnd.int(10);
          const busy = (pending.get(t) ?? []).some((p) => p.state === 'pending');
          if (op < 6 && (!busy || rnd.chance(0.15))) { // sometimes a second concurrent request
            const isRow = rnd.chance(0.5);
            const target = isRow ? row(rnd.int(3)) : LockTarget.table(tableId(1 + rnd.int(2)));
            const mode = isRow ? rnd.pick(rowModes) : rnd.pick(modes);
            const opts = rnd.chance(0.1) ? { nowait: true } : rnd.chance(0.1) ? { skipLocked: true } : {};
            const p = track(lm.acquire(t, target, mode, opts));
            pending.set(t, [...(pending.get(t) ?? []), p]);
          } else if (op < 7) {
            marks.set(t, lm.mark(t));
          } else if (op < 8 && marks.has(t) && !busy) {
            lm.releaseSince(t, Math.min(marks.get(t)!, lm.mark(t)));
            marks.delete(t);
          } else {
            lm.releaseAll(t);
            marks.delete(t);
          }
          await flush();
          lm.checkInvariants();
          if (policy !== 'detect') expect(lm.graph.findAnyCycle()).toBeUndefined();
          // a txn whose wait failed rolls back, as the engine would
          for (const [tx, ps] of pending) {
            if (ps.some((p) => p.state === 'err' && isDbError(p.error, SqlState.DeadlockDetected))) {
              lm.releaseAll(tx);
              pending.delete(tx);
              marks.delete(tx);
            }
          }
          lm.checkInvariants();
        }
        // progress: releasing everyone in turn settles every wait
        for (let i = 1; i <= 6; i++) { lm.releaseAll(T(i)); await flush(); }
        for (const ps of pending.values()) for (const p of ps) expect(p.state).not.toBe('pending');
        expect(lm.locks()).toEqual([]);
        expect(lm.graph.edgeCount).toBe(0);
        totals.waits += lm.stats.waits;
        totals.aborts += lm.stats.deadlocks + lm.stats.preventionAborts + lm.stats.wounds;
      }
    }
    // the workload really exercises waiting and deadlock handling
    expect(totals.waits).toBeGreaterThan(50);
    expect(totals.aborts).toBeGreaterThan(5);
  });
});
