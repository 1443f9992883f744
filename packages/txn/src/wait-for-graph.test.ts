import { describe, expect, it } from 'vitest';
import { txnId, type TxnId } from '@quiverdb/common';
import { WaitForGraph } from './wait-for-graph.js';
import { SeededRandom, iterations } from '../test/support/seeded-random.js';

/** Naive model: adjacency matrix + transitive closure. */
class NaiveGraph {
  readonly adj: boolean[][];
  constructor(readonly n: number) { this.adj = Array.from({ length: n }, () => new Array<boolean>(n).fill(false)); }
  setWaits(w: number, bs: number[]): void { for (let j = 0; j < this.n; j++) this.adj[w]![j] = bs.includes(j) && j !== w; }
  removeNode(t: number): void { for (let j = 0; j < this.n; j++) { this.adj[t]![j] = false; this.adj[j]![t] = false; } }
  reach(): boolean[][] {
    const r = this.adj.map((row) => [...row]);
    for (let k = 0; k < this.n; k++) for (let i = 0; i < this.n; i++) for (let j = 0; j < this.n; j++) if (r[i]![k] && r[k]![j]) r[i]![j] = true;
    return r;
  }
}

const id = (i: number): TxnId => txnId(1000 + i);

function assertIsCycle(g: NaiveGraph, cycle: TxnId[]): void {
  expect(cycle.length).toBeGreaterThan(0);
  for (let i = 0; i < cycle.length; i++) {
    const a = cycle[i]! - 1000;
    const b = cycle[(i + 1) % cycle.length]! - 1000;
    expect(g.adj[a]![b]).toBe(true);
  }
}

describe('WaitForGraph', () => {
  it('finds a 2-cycle and nothing once it is broken', () => {
    const g = new WaitForGraph();
    g.setWaits(id(1), [id(2)]);
    expect(g.findCycleThrough(id(1))).toBeUndefined();
    g.setWaits(id(2), [id(1)]);
    expect(g.findCycleThrough(id(2))).toEqual([id(2), id(1)]);
    g.clearWaits(id(2));
    expect(g.findAnyCycle()).toBeUndefined();
    g.checkInvariants();
  });

  it('agrees with a transitive-closure model on random graphs (seeded)', () => {
    const rnd = new SeededRandom(4242);
    const n = 7;
    for (let round = 0; round < iterations(40, 400); round++) {
      const g = new WaitForGraph();
      const m = new NaiveGraph(n);
      for (let step = 0; step < 30; step++) {
        const w = rnd.int(n);
        if (rnd.chance(0.15)) {
          g.removeNode(id(w));
          m.removeNode(w);
        } else {
          const bs = [...new Set(Array.from({ length: rnd.int(3) }, () => rnd.int(n)))];
          const before = new Set(g.blockersOf(id(w)));
          const added = g.setWaits(id(w), bs.map(id));
          m.setWaits(w, bs);
          expect(added.sort()).toEqual(bs.filter((b) => b !== w && !before.has(id(b))).map(id).sort());
        }
        g.checkInvariants();
        const r = m.reach();
        for (let x = 0; x < n; x++) {
          const c = g.findCycleThrough(id(x));
          expect(c !== undefined, `cycle through ${x}`).toBe(r[x]![x]);
          if (c) { assertIsCycle(m, c); expect(c[0]).toBe(id(x)); }
        }
        const any = g.findAnyCycle();
        expect(any !== undefined).toBe(r.some((row, i) => row[i]));
        if (any) assertIsCycle(m, any);
        expect(g.edgeCount).toBe(m.adj.flat().filter(Boolean).length);
      }
    }
  });
});
