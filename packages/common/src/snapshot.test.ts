import { describe, expect, it } from 'vitest';
import { isVisible, NOT_DELETED, ABORTED } from './snapshot.js';
import { TXN_ID_START, txnId, timestamp } from './ids.js';

describe('isVisible', () => {
  const me = txnId(TXN_ID_START + 7);
  const other = TXN_ID_START + 8;
  const s = { txnId: me, startTs: timestamp(10) };
  it('sees versions committed before the snapshot and its own writes', () => {
    expect(isVisible(s, 9, NOT_DELETED)).toBe(true);
    expect(isVisible(s, me, NOT_DELETED)).toBe(true);
  });
  it('does not see later commits, running or aborted writers', () => {
    expect(isVisible(s, 10, NOT_DELETED)).toBe(false);
    expect(isVisible(s, other, NOT_DELETED)).toBe(false);
    expect(isVisible(s, ABORTED, NOT_DELETED)).toBe(false);
  });
  it('applies deletes by the same rule', () => {
    expect(isVisible(s, 3, 9)).toBe(false);
    expect(isVisible(s, 3, me)).toBe(false);
    expect(isVisible(s, 3, 10)).toBe(true);
    expect(isVisible(s, 3, other)).toBe(true);
  });
});
