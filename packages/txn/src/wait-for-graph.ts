/**
 * The wait-for graph: an edge W -> B means transaction W waits for a lock that B holds (or that B
 * requested earlier in the same FIFO queue, in a conflicting mode). A cycle is a deadlock.
 *
 * The lock manager replaces a waiter's whole out-edge set whenever the lock state it waits on
 * changes (`setWaits`) and clears it when its waits end, so the graph always equals the edges
 * recomputed from the lock table (the lock manager's `checkInvariants()` verifies that).
 *
 * Invariants:
 *  1. `#in` is exactly the reverse of `#out`; no empty sets are stored.
 *  2. No self-edges (a transaction never waits for itself).
 *
 * Concurrency: synchronous; every method runs to completion between awaits, so searches always
 * see a consistent graph.
 */
import type { TxnId } from '@quiverdb/common';
import { invariant } from '@quiverdb/common';

export class WaitForGraph {
  readonly #out = new Map<TxnId, Set<TxnId>>();
  readonly #in = new Map<TxnId, Set<TxnId>>();

  /**
   * Replace `waiter`'s out-edges by `blockers`. Returns the blockers that were not already edges
   * (a deadlock can only be closed by a new edge).
   */
  setWaits(waiter: TxnId, blockers: Iterable<TxnId>): TxnId[] {
    const next = new Set<TxnId>();
    for (const b of blockers) if (b !== waiter) next.add(b);
    const prev = this.#out.get(waiter);
    const added: TxnId[] = [];
    if (prev) {
      for (const b of prev) if (!next.has(b)) this.#unlinkIn(b, waiter);
    }
    for (const b of next) {
      if (!prev?.has(b)) {
        added.push(b);
        let s = this.#in.get(b);
        if (!s) this.#in.set(b, (s = new Set()));
        s.add(waiter);
      }
    }
    if (next.size > 0) this.#out.set(waiter, next);
    else this.#out.delete(waiter);
    return added;
  }

  /** Remove all of `waiter`'s out-edges. */
  clearWaits(waiter: TxnId): void {
    if (!this.#out.has(waiter)) return; // no out-edges (the usual case at commit): nothing to do
    this.setWaits(waiter, []);
  }

  /** Remove a transaction entirely (its out- and in-edges). */
  removeNode(t: TxnId): void {
    this.clearWaits(t);
    const ins = this.#in.get(t);
    if (ins) {
      for (const w of [...ins]) {
        const s = this.#out.get(w);
        s?.delete(t);
        if (s?.size === 0) this.#out.delete(w);
      }
      this.#in.delete(t);
    }
  }

  blockersOf(t: TxnId): readonly TxnId[] {
    return [...(this.#out.get(t) ?? [])];
  }

  waitersOf(t: TxnId): readonly TxnId[] {
    return [...(this.#in.get(t) ?? [])];
  }

  isWaiting(t: TxnId): boolean {
    return this.#out.has(t);
  }

  get edgeCount(): number {
    let n = 0;
    for (const s of this.#out.values()) n += s.size;
    return n;
  }

  /** All edges as [waiter, blocker] pairs (for views and tests). */
  edges(): [TxnId, TxnId][] {
    const r: [TxnId, TxnId][] = [];
    for (const [w, s] of this.#out) for (const b of s) r.push([w, b]);
    return r;
  }

  /**
   * A cycle through `start`, as the list of transactions along it beginning with `start`
   * (start -> c[1] -> ... -> start), or undefined. Iterative DFS: graphs of thousands of waiters
   * do not overflow the stack.
   */
  findCycleThrough(start: TxnId): TxnId[] | undefined {
    const first = this.#out.get(start);
    if (!first) return undefined;
    const parent = new Map<TxnId, TxnId>();
    const visited = new Set<TxnId>([start]);
    const stack: TxnId[] = [];
    for (const b of first) {
      if (b === start) return [start];
      if (!visited.has(b)) { visited.add(b); parent.set(b, start); stack.push(b); }
    }
    while (stack.length > 0) {
      const n = stack.pop()!;
      const outs = this.#out.get(n);
      if (!outs) continue;
      for (const b of outs) {
        if (b === start) {
          const path: TxnId[] = [n];
          let p = parent.get(n);
          while (p !== undefined && p !== start) { path.push(p); p = parent.get(p); }
          path.push(start);
          return path.reverse();
        }
        if (!visited.has(b)) { visited.add(b); parent.set(b, n); stack.push(b); }
      }
    }
    return undefined;
  }

  /** Any cycle in the graph (used by the periodic `deadlock_timeout` re-check), or undefined. */
  findAnyCycle(): TxnId[] | undefined {
    // Tarjan-free approach: colour DFS, iterative.
    const colour = new Map<TxnId, 1 | 2>(); // 1 = on stack, 2 = done
    for (const root of this.#out.keys()) {
      if (colour.has(root)) continue;
      const stack: { node: TxnId; it: Iterator<TxnId> }[] = [{ node: root, it: (this.#out.get(root) ?? new Set()).values() }];
      colour.set(root, 1);
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const nx = top.it.next();
        if (nx.done) { colour.set(top.node, 2); stack.pop(); continue; }
        const b = nx.value;
        const c = colour.get(b);
        if (c === 1) {
          const idx = stack.findIndex((f) => f.node === b);
          return stack.slice(idx).map((f) => f.node);
        }
        if (c === undefined) {
          colour.set(b, 1);
          stack.push({ node: b, it: (this.#out.get(b) ?? new Set()).values() });
        }
      }
    }
    return undefined;
  }

  /** Executable twin of the invariants. */
  checkInvariants(): void {
    let fwd = 0;
    for (const [w, s] of this.#out) {
      invariant(s.size > 0, 'wait-for graph: empty out-set stored');
      for (const b of s) {
        invariant(b !== w, 'wait-for graph: self edge');
        invariant(this.#in.get(b)?.has(w) === true, 'wait-for graph: missing reverse edge');
        fwd++;
      }
    }
    let rev = 0;
    for (const [b, s] of this.#in) {
      invariant(s.size > 0, 'wait-for graph: empty in-set stored');
      for (const w of s) {
        invariant(this.#out.get(w)?.has(b) === true, 'wait-for graph: dangling reverse edge');
        rev++;
      }
    }
    invariant(fwd === rev, 'wait-for graph: edge counts differ');
  }

  #unlinkIn(b: TxnId, waiter: TxnId): void {
    const s = this.#in.get(b);
    if (!s) return;
    s.delete(waiter);
    if (s.size === 0) this.#in.delete(b);
  }
}
