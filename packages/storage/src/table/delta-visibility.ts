/**
 * Which rows of a delta chunk a snapshot sees, for scans: the MVCC check per row, skipped for
 * the prefix of the chunk a previous scan found all committed and undeleted
 * (`DeltaChunk.allVisible`), and that prefix extended when this scan finds the same.
 *
 * Invariants:
 *  1. The result selects exactly the rows i < n with `isVisible(snap, ins[i], del[i])`
 *     (null = all n rows).
 *  2. `allVisible` is only set to a prefix whose rows all have a committed insert stamp
 *     (< TXN_ID_START) at most `maxIns` and the NOT_DELETED delete stamp.
 *
 * Concurrency: synchronous; runs on the scan's captured chunk list and lengths.
 */
import { isVisible, NOT_DELETED, TXN_ID_START, type Snapshot } from '@quiverdb/common';
import type { DeltaChunk } from './delta.js';

/** Rows of `c` (first n) visible to `snap`: null = all of them. */
export function deltaVisibility(c: DeltaChunk, n: number, snap: Snapshot): { sel: Uint32Array; n: number } | null {
  const mark = c.allVisible;
  let from = 0;
  if (mark !== null && mark.maxIns < snap.startTs) from = Math.min(n, mark.len);
  if (from === n) return null;
  const ins = c.ins, del = c.del;
  // the rest: check each row, and see whether the prefix can be extended
  let sel: Uint32Array | null = null;
  let m = from;
  let clean = mark === null ? from === 0 : from === mark.len;
  let maxIns = mark !== null && clean ? mark.maxIns : 0;
  for (let i = from; i < n; i++) {
    const a = ins[i]!, d = del[i]!;
    if (clean) {
      if (a < TXN_ID_START && d === NOT_DELETED) { if (a > maxIns) maxIns = a; } else clean = false;
    }
    if (isVisible(snap, a, d)) {
      if (sel !== null) sel[m] = i;
      m++;
    } else if (sel === null) {
      // first invisible row: from here on, keep positions
      sel = new Uint32Array(n);
      for (let k = 0; k < i; k++) sel[k] = k;
    }
  }
  if (clean) c.allVisible = { len: n, maxIns };
  return sel === null ? null : { sel, n: m };
}
