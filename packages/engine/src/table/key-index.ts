/**
 * `KeyIndex`: one index's entries (encoded key → row ids), ordered by key bytes.
 *
 * Backed by a sorted map from the key's order-preserving binary string to the row ids with that
 * key, so equality lookups are one hash probe and range scans walk the sorted key list.
 *
 * Invariants:
 *  1. `#sorted` holds exactly the keys of `#entries`, in ascending binary order, when `#dirty` is false.
 *  2. A row id appears at most once per key.
 */
import { toBinary, type KeySpec } from '@quiverdb/indexes';

export class KeyIndex {
  readonly spec: KeySpec;
  readonly unique: boolean;
  readonly #entries = new Map<string, number[]>();
  #sorted: string[] = [];
  #dirty = false;

  constructor(spec: KeySpec, unique: boolean) {
    this.spec = spec;
    this.unique = unique;
  }

  get size(): number {
    return this.#entries.size;
  }

  insert(key: Uint8Array, rowId: number): void {
    const k = toBinary(key);
    const ids = this.#entries.get(k);
    if (ids) {
      if (!ids.includes(rowId)) ids.push(rowId);
    } else {
      this.#entries.set(k, [rowId]);
      this.#dirty = true;
    }
  }

  lookup(key: Uint8Array): readonly number[] {
    return this.#entries.get(toBinary(key)) ?? [];
  }

  /** Row ids whose key lies between `low` and `high` (byte prefixes allowed), in key order. */
  range(low: Uint8Array | undefined, high: Uint8Array | undefined, lowInclusive: boolean, highInclusive: boolean, reverse = false): number[] {
    if (this.#dirty) {
      this.#sorted = [...this.#entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.#dirty = false;
    }
    const lo = low ? toBinary(low) : undefined;
    const hi = high ? toBinary(high) : undefined;
    const keys = this.#sorted;
    let start = 0;
    if (lo !== undefined) {
      let a = 0, b = keys.length;
      while (a < b) {
        const m = (a + b) >> 1;
        if (keys[m]! < lo || (!lowInclusive && keys[m]!.startsWith(lo))) a = m + 1;
        else b = m;
      }
      start = a;
    }
    const out: number[] = [];
    const take = (k: string) => { for (const id of this.#entries.get(k)!) out.push(id); };
    const within = (k: string) => {
      if (hi === undefined) return true;
      if (k.startsWith(hi)) return highInclusive;
      return k < hi;
    };
    const picked: string[] = [];
    for (let i = start; i < keys.length && within(keys[i]!); i++) picked.push(keys[i]!);
    if (reverse) picked.reverse();
    for (const k of picked) take(k);
    return out;
  }

  checkInvariants(): void {
    for (const [k, ids] of this.#entries) {
      if (new Set(ids).size !== ids.length) throw new Error(`duplicate row id under key ${JSON.stringify(k)}`);
    }
    if (!this.#dirty) {
      if (this.#sorted.length !== this.#entries.size) throw new Error('sorted key list out of date');
      for (let i = 1; i < this.#sorted.length; i++) if (!(this.#sorted[i - 1]! < this.#sorted[i]!)) throw new Error('keys out of order');
    }
  }
}

