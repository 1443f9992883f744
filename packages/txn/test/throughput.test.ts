/**
 * Rough throughput figures for the hot paths (run with QUIVER_BENCH=1; skipped otherwise so the
 * suite stays quick on the shared machine). Prints operations per second.
 */
import { describe, expect, it } from 'vitest';
import { rowId, tableId } from '@quiverdb/common';
import { TransactionManager } from '../src/index.js';

const enabled = process.env['QUIVER_BENCH'] === '1';

function rate(label: string, n: number, f: () => void): void {
  const t0 = performance.now();
  f();
  const ms = performance.now() - t0;
  console.log(`${label}: ${Math.round((n / ms) * 1000).toLocaleString('en')} /s`);
}

describe.skipIf(!enabled)('throughput', () => {
  it('begin + snapshot + commit, table + row locks, SSI reads and writes', async () => {
    const tm = new TransactionManager();
    const N = 200_000;
    rate('begin/snapshot/commit (read committed)', N, () => {
      for (let i = 0; i < N; i++) { const t = tm.begin(); tm.statementSnapshot(t); tm.commit(t); }
    });
    rate('begin/2 locks/commit', N, () => {
      for (let i = 0; i < N; i++) {
        const t = tm.begin();
        tm.locks.tryAcquire(t.id, { kind: 'table', table: tableId(1) }, 'ROW EXCLUSIVE');
        tm.locks.tryAcquire(t.id, { kind: 'row', table: tableId(1), row: rowId(i % 1000) }, 'FOR UPDATE');
        tm.commit(t);
      }
    });
    const M = 50_000;
    rate('serializable txn: 4 row reads + 2 writes + commit (8 concurrent)', M, () => {
      const live = [];
      for (let i = 0; i < M; i++) {
        const t = tm.begin({ isolation: 'serializable' });
        tm.statementSnapshot(t);
        for (let k = 0; k < 4; k++) tm.ssi.recordRead(t, tableId(1), (i * 7 + k) % 100_000);
        tm.ssi.recordWrite(t, tableId(1), (i * 13) % 100_000, { id: i });
        tm.ssi.recordWrite(t, tableId(1), 100_000 + i, { id: i });
        live.push(t);
        if (live.length > 8) {
          const d = live.shift()!;
          try { tm.commit(d); } catch { tm.abort(d); }
        }
      }
      for (const d of live) { try { tm.commit(d); } catch { tm.abort(d); } }
    });
    console.log('ssi stats', JSON.stringify(tm.ssi.stats));
    const scan = 1_000_000;
    const t = tm.begin({ isolation: 'serializable' });
    tm.statementSnapshot(t);
    const w = tm.begin({ isolation: 'serializable' });
    tm.statementSnapshot(w);
    const ids = Float64Array.from({ length: scan }, (_, i) => i);
    rate('recordReads of a 1M-row scan (promotes to a table SIREAD)', scan, () => tm.ssi.recordReads(t, tableId(2), ids));
    tm.commit(t);
    tm.commit(w);
    // async waits: 1000 waiters on one holder
    const holder = tm.begin();
    const waiters = Array.from({ length: 1000 }, () => tm.begin());
    const t0 = performance.now();
    const ps = waiters.map((x) => tm.waitForTxn(holder.id, x));
    tm.commit(holder);
    await Promise.all(ps);
    console.log(`1000 waiters woken in ${(performance.now() - t0).toFixed(1)} ms`);
    tm.checkInvariants();
    expect(tm.ssi.trackedCount).toBe(0);
  });
});
