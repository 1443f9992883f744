/**
 * `KeyIndex`: one SQL index as the engine uses it — an `OrderedIndex` from @quiverdb/indexes (a
 * B+ tree, or a fractal tree for `USING fractal`) over order-preserving encoded keys, plus the
 * key spec and whether the SQL index is UNIQUE.
 *
 * MVCC: the tree is always physically non-unique (key ‖ row id): several versions of a row, or a
 * deleted and a re-inserted row, share a key until old versions are collected. UNIQUE is enforced
 * by the engine (EngineTable's unique check), which looks at every candidate's stamps.
 *
 * Invariants:
 *  1. (key, rowId) pairs are unique in the tree (`insert` of a present pair is a no-op).
 */
import { BTree, FractalIndex, MemPageStore, type KeySpec, type OrderedIndex } from '@quiverdb/indexes';

export class KeyIndex {
  readonly spec: KeySpec;
  readonly unique: boolean;
  readonly tree: OrderedIndex;

  constructor(spec: KeySpec, unique: boolean, method: 'btree' | 'fractal' = 'btree') {
    this.spec = spec;
    this.unique = unique;
    const pages = new MemPageStore();
    this.tree = method === 'fractal' ? FractalIndex.create(pages, { unique: false }) : BTree.create(pages, { unique: false });
  }

  /** Add (key, rowId); adding a present pair changes nothing (invariant 1). */
  insert(key: Uint8Array, rowId: number): void {
    this.tree.insert(key, rowId);
  }

  lookup(key: Uint8Array): readonly number[] {
    return this.tree.getAll(key);
  }

  /** Row ids whose key (or key prefix) lies between `low` and `high`, in key order. */
  range(low: Uint8Array | undefined, high: Uint8Array | undefined, lowInclusive: boolean, highInclusive: boolean, reverse = false, limit = Infinity): number[] {
    return this.tree.rowIds({
      ...(low ? (lowInclusive ? { gte: low } : { gt: low }) : {}),
      ...(high ? (highInclusive ? { lte: high } : { lt: high }) : {}),
      reverse,
    }, limit);
  }

  checkInvariants(): void {
    this.tree.checkInvariants();
  }
}
