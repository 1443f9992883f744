/**
 * Serializability checker for recorded histories (Adya's direct serialization graph).
 *
 * Input: the COMMITTED transactions, each with its position in commit order, the items it read
 * (and which committed transaction wrote the version it saw, or null for the initial version) and
 * the items it wrote. With snapshot-based MVCC and first-updater-wins the version order of an item
 * is the commit order of its writers, which is what this checker assumes.
 *
 * Edges (Ti -> Tj means Ti must precede Tj in any equivalent serial order):
 *   ww  Tj wrote the version right after Ti's version of an item
 *   wr  Tj read the version Ti wrote
 *   rw  Tj wrote the version right after the one Ti read (an anti-dependency)
 * The history is (conflict-)serializable iff this graph is acyclic; a topological order is an
 * equivalent serial order. Reads of one's own writes add no edges.
 *
 * Invariants:
 *  1. `verdict.serializable` iff no cycle; a returned cycle is a closed walk over real edges; a
 *     returned order is a permutation of the input respecting every edge (tests check both, and
 *     compare with a brute-force search over all orders on small histories).
 *
 * Concurrency: pure function.
 */
export type HistoryTxnId = number | string;

export interface HistoryRead<K = string> {
  readonly item: K;
  /** the committed writer of the version seen; null = the initial version */
  readonly from: HistoryTxnId | null;
}

export interface HistoryTransaction<K = string> {
  readonly id: HistoryTxnId;
  /** position in commit order (any increasing numbers, e.g. commit timestamps) */
  readonly commitOrder: number;
  readonly reads: readonly HistoryRead<K>[];
  readonly writes: readonly K[];
}

export type DependencyKind = 'ww' | 'wr' | 'rw';

export interface DependencyEdge<K = string> {
  readonly from: HistoryTxnId;
  readonly to: HistoryTxnId;
  readonly kind: DependencyKind;
  readonly item: K;
}

export type HistoryVerdict<K = string> =
  | { readonly serializable: true; readonly order: HistoryTxnId[] }
  | { readonly serializable: false; readonly cycle: DependencyEdge<K>[] };

/** The direct serialization graph's edges (deduplicated per (from, to, kind)). */
export function dependencyEdges<K>(history: readonly HistoryTransaction<K>[]): DependencyEdge<K>[] {
  const byOrder = [...history].sort((a, b) => a.commitOrder - b.commitOrder);
  // version chain per item: writers in commit order
  const chains = new Map<K, HistoryTxnId[]>();
  for (const t of byOrder) {
    for (const item of new Set(t.writes)) {
      let c = chains.get(item);
      if (!c) chains.set(item, (c = []));
      c.push(t.id);
    }
  }
  const edges: DependencyEdge<K>[] = [];
  const seen = new Set<string>();
  const add = (from: HistoryTxnId, to: HistoryTxnId, kind: DependencyKind, item: K): void => {
    if (from === to) return;
    const k = `${String(from)}\u0000${String(to)}\u0000${kind}`;
    if (seen.has(k)) return;
    seen.add(k);
    edges.push({ from, to, kind, item });
  };
  for (const [item, chain] of chains) {
    for (let i = 1; i < chain.length; i++) add(chain[i - 1]!, chain[i]!, 'ww', item);
  }
  for (const t of history) {
    for (const r of t.reads) {
      const chain = chains.get(r.item) ?? [];
      if (r.from !== null) add(r.from, t.id, 'wr', r.item);
      const pos = r.from === null ? -1 : chain.indexOf(r.from);
      if (r.from !== null && pos < 0) {
        throw new Error(`history: ${String(t.id)} read ${String(r.item)} from ${String(r.from)}, which did not write it`);
      }
      const next = chain[pos + 1];
      if (next !== undefined) add(t.id, next, 'rw', r.item);
    }
  }
  return edges;
}

/** Is the committed history serializable? Returns a serial order or one cycle. */
export function checkSerializable<K = string>(history: readonly HistoryTransaction<K>[]): HistoryVerdict<K> {
  const edges = dependencyEdges(history);
  const ids = history.map((t) => t.id);
  const out = new Map<HistoryTxnId, DependencyEdge<K>[]>();
  const indeg = new Map<HistoryTxnId, number>();
  for (const id of ids) { out.set(id, []); indeg.set(id, 0); }
  for (const e of edges) {
    out.get(e.from)!.push(e);
    indeg.set(e.to, indeg.get(e.to)! + 1);
  }
  // Kahn's algorithm, ties broken by commit order for a stable, readable order
  const commitOf = new Map(history.map((t) => [t.id, t.commitOrder] as const));
  const ready = ids.filter((id) => indeg.get(id) === 0).sort((a, b) => commitOf.get(a)! - commitOf.get(b)!);
  const order: HistoryTxnId[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const e of out.get(id)!) {
      const d = indeg.get(e.to)! - 1;
      indeg.set(e.to, d);
      if (d === 0) {
        let i = 0;
        while (i < ready.length && commitOf.get(ready[i]!)! < commitOf.get(e.to)!) i++;
        ready.splice(i, 0, e.to);
      }
    }
  }
  if (order.length === ids.length) return { serializable: true, order };
  return { serializable: false, cycle: findCycle(ids.filter((id) => indeg.get(id)! > 0), out) };
}

/**
 * A cycle among `nodes` (the ones Kahn's algorithm could not order). Each of them has an in-edge
 * from another of them, so walking edges BACKWARDS never gets stuck and must repeat a node.
 */
function findCycle<K>(nodes: HistoryTxnId[], out: Map<HistoryTxnId, DependencyEdge<K>[]>): DependencyEdge<K>[] {
  const inSet = new Set(nodes);
  const into = new Map<HistoryTxnId, DependencyEdge<K>>();
  for (const id of nodes) for (const e of out.get(id)!) if (inSet.has(e.to) && !into.has(e.to)) into.set(e.to, e);
  const seenAt = new Map<HistoryTxnId, number>();
  const back: DependencyEdge<K>[] = [];
  let cur = nodes[0]!;
  for (;;) {
    seenAt.set(cur, back.length);
    const e = into.get(cur);
    if (!e) throw new Error('history checker: blocked node without a blocked predecessor (bug)');
    back.push(e);
    cur = e.from;
    const at = seenAt.get(cur);
    if (at !== undefined) return back.slice(at).reverse();
  }
}
