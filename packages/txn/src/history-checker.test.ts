import { describe, expect, it } from 'vitest';
import { checkSerializable, dependencyEdges, type HistoryTransaction, type HistoryTxnId } from './history-checker.js';
import { SeededRandom, iterations } from '../test/support/seeded-random.js';

const tx = (id: number, commitOrder: number, reads: [string, number | null][], writes: string[]): HistoryTransaction => ({
  id, commitOrder, reads: reads.map(([item, from]) => ({ item, from })), writes,
});

/**
 * Brute force (naive model): is there an order in which executing the transactions serially makes
 * every read see the same writer and leaves each item's last writer equal to the last in commit
 * order? Without blind writes this is exactly conflict-serializability.
 */
function bruteForce(h: HistoryTransaction[]): boolean {
  const lastWriter = new Map<string, HistoryTxnId>();
  for (const t of [...h].sort((a, b) => a.commitOrder - b.commitOrder)) for (const w of t.writes) lastWriter.set(w, t.id);
  const permute = (rest: HistoryTransaction[], state: Map<string, HistoryTxnId | null>): boolean => {
    if (rest.length === 0) return [...lastWriter].every(([k, v]) => state.get(k) === v);
    return rest.some((t, i) => {
      if (!t.reads.every((r) => (state.get(r.item) ?? null) === r.from)) return false;
      const next = new Map(state);
      for (const w of t.writes) next.set(w, t.id);
      return permute([...rest.slice(0, i), ...rest.slice(i + 1)], next);
    });
  };
  return permute(h, new Map());
}

describe('history checker', () => {
  it('accepts a serial history and returns its order', () => {
    const h = [tx(1, 1, [['x', null]], ['x']), tx(2, 2, [['x', 1]], ['x'])];
    expect(checkSerializable(h)).toEqual({ serializable: true, order: [1, 2] });
  });

  it('rejects write skew with a cycle of two rw edges', () => {
    const h = [tx(1, 1, [['x', null], ['y', null]], ['x']), tx(2, 2, [['x', null], ['y', null]], ['y'])];
    const v = checkSerializable(h);
    expect(v.serializable).toBe(false);
    if (!v.serializable) {
      expect(v.cycle.map((e) => e.kind)).toEqual(['rw', 'rw']);
      expect(new Set(v.cycle.map((e) => e.from))).toEqual(new Set([1, 2]));
    }
  });

  it('rejects the read-only anomaly (T1 -rw-> T2 -rw-> T3 -wr-> T1)', () => {
    const h = [
      tx(3, 1, [['x', null]], ['x']), // deposit
      tx(1, 2, [['x', 3], ['y', null]], []), // read-only report sees the deposit, not the withdrawal
      tx(2, 3, [['x', null], ['y', null]], ['y']), // withdrawal based on old x
    ];
    const v = checkSerializable(h);
    expect(v.serializable).toBe(false);
  });

  it('orders a serializable history that commit order does not (T2 before T1)', () => {
    const h = [tx(1, 1, [['x', null]], ['y']), tx(2, 2, [['y', null]], [])];
    const v = checkSerializable(h);
    expect(v).toEqual({ serializable: true, order: [2, 1] });
  });

  it('agrees with a brute-force search on random small histories without blind writes (seeded)', () => {
    const rnd = new SeededRandom(7);
    let rejected = 0;
    for (let round = 0; round < iterations(300, 3000); round++) {
      const n = 2 + rnd.int(4);
      const items = ['a', 'b', 'c'];
      const h: HistoryTransaction[] = [];
      const versions = new Map<string, HistoryTxnId[]>(); // committed writers in order
      for (let i = 1; i <= n; i++) {
        const reads: [string, number | null][] = [];
        const writes: string[] = [];
        for (const item of items) {
          if (!rnd.chance(0.6)) continue;
          const chain = versions.get(item) ?? [];
          const k = rnd.int(chain.length + 1) - 1; // any version that exists so far
          reads.push([item, k < 0 ? null : (chain[k] as number)]);
          if (rnd.chance(0.4)) writes.push(item);
        }
        h.push(tx(i, i, reads, writes));
        for (const w of writes) versions.set(w, [...(versions.get(w) ?? []), i]);
      }
      const v = checkSerializable(h);
      expect(v.serializable, JSON.stringify(h)).toBe(bruteForce(h));
      if (v.serializable) {
        const pos = new Map(v.order.map((id, i) => [id, i]));
        expect(pos.size).toBe(h.length);
        for (const e of dependencyEdges(h)) expect(pos.get(e.from)!).toBeLessThan(pos.get(e.to)!);
      } else {
        rejected++;
        const edges = dependencyEdges(h);
        for (let i = 0; i < v.cycle.length; i++) {
          const e = v.cycle[i]!;
          expect(edges).toContainEqual(e);
          expect(v.cycle[(i + 1) % v.cycle.length]!.from).toBe(e.to);
        }
      }
    }
    expect(rejected).toBeGreaterThan(10);
  });
});
