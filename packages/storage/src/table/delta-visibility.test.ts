/**
 * deltaVisibility against the naive per-row check, over random chunks whose stamps change between
 * scans the ways the store changes them (appends, commits, aborts, deletes through setDel).
 */
import { describe, expect, it } from 'vitest';
import { ABORTED, isVisible, NOT_DELETED, seededRandom, TXN_ID_START, type Snapshot, type Timestamp, type TxnId } from '@quiverdb/common';
import { DeltaChunk } from './delta.js';
import { deltaVisibility } from './delta-visibility.js';

function naive(c: DeltaChunk, n: number, snap: Snapshot): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (isVisible(snap, c.ins[i]!, c.del[i]!)) out.push(i);
  return out;
}

function got(c: DeltaChunk, n: number, snap: Snapshot): number[] {
  const r = deltaVisibility(c, n, snap);
  return r === null ? Array.from({ length: n }, (_x, i) => i) : Array.from(r.sel.subarray(0, r.n));
}

describe('deltaVisibility', () => {
  it('matches isVisible row by row while stamps change between scans', () => {
    const rnd = seededRandom(5150);
    let usedCache = 0;
    for (let round = 0; round < 60; round++) {
      const cap = 64;
      const c = new DeltaChunk(cap, []);
      let clock = 10;
      const snapAt = (ts: number, txn = TXN_ID_START + 999): Snapshot => ({ startTs: ts as Timestamp, txnId: txn as TxnId });
      for (let step = 0; step < 80; step++) {
        const r = rnd();
        if (r < 0.25 && c.length < cap) {
          // append rows of a running or committed transaction
          const k = 1 + Math.floor(rnd() * 8);
          const stamp = rnd() < 0.5 ? ++clock : TXN_ID_START + Math.floor(rnd() * 3);
          for (let i = 0; i < k && c.length < cap; i++) { c.ins[c.length] = stamp; c.length++; }
        } else if (r < 0.35 && c.length > 0) {
          // commit or abort the rows of a running transaction
          const txn = TXN_ID_START + Math.floor(rnd() * 3);
          const to = rnd() < 0.8 ? ++clock : ABORTED;
          for (let i = 0; i < c.length; i++) if (c.ins[i] === txn) c.ins[i] = to;
        } else if (r < 0.45 && c.length > 0) {
          // delete (or un-delete) one row as TableState.setDel does
          const i = Math.floor(rnd() * c.length);
          const d = rnd();
          c.del[i] = d < 0.4 ? ++clock : d < 0.8 ? TXN_ID_START + 1 : NOT_DELETED;
          c.allVisible = null;
        } else {
          const n = rnd() < 0.2 ? Math.floor(rnd() * (c.length + 1)) : c.length;
          const snap = rnd() < 0.2 ? snapAt(Math.floor(rnd() * clock), TXN_ID_START + 1) : snapAt(clock + 1);
          if (c.allVisible !== null && c.allVisible.maxIns < snap.startTs && c.allVisible.len > 0) usedCache++;
          expect(got(c, n, snap)).toEqual(naive(c, n, snap));
          const mark = c.allVisible;
          if (mark !== null) {
            for (let i = 0; i < mark.len; i++) {
              expect(c.ins[i]! < TXN_ID_START && c.ins[i]! <= mark.maxIns && c.del[i] === NOT_DELETED).toBe(true);
            }
          }
        }
      }
    }
    // the fast path was taken (the test is not only exercising the per-row loop)
    expect(usedCache).toBeGreaterThan(50);
  });
});
