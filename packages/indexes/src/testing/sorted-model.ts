/**
 * A super-inefficient sorted list of (key, rowId) entries: the naive model the trees are tested
 * against. Keys are binary strings of user keys; order is (key, rowId).
 */
import { binaryPrefixSuccessor } from '../key/binary-string.js';

export interface ModelEntry { key: string; rowId: number }

export interface ModelRange { gt?: string; gte?: string; lt?: string; lte?: string; reverse?: boolean }

export class SortedModel {
  entries: ModelEntry[] = [];
  constructor(readonly unique: boolean) {}

  #cmp(a: ModelEntry, key: string, rowId: number): number {
    if (a.key !== key) return a.key < key ? -1 : 1;
    if (this.unique) return 0;
    return a.rowId - rowId;
  }

  #find(key: string, rowId: number): { i: number; found: boolean } {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#cmp(this.entries[mid]!, key, rowId) < 0) lo = mid + 1;
      else hi = mid;
    }
    return { i: lo, found: lo < this.entries.length && this.#cmp(this.entries[lo]!, key, rowId) === 0 };
  }

  /** undefined when inserted, else the existing row id. */
  insert(key: string, rowId: number): number | undefined {
    const { i, found } = this.#find(key, rowId);
    if (found) return this.entries[i]!.rowId;
    this.entries.splice(i, 0, { key, rowId });
    return undefined;
  }

  delete(key: string, rowId: number): boolean {
    const { i, found } = this.#find(key, rowId);
    if (!found || this.entries[i]!.rowId !== rowId) return false;
    this.entries.splice(i, 1);
    return true;
  }

  /** First index whose entry satisfies `pred`, for a predicate false…false true…true. */
  #partition(pred: (k: string) => boolean): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.entries[mid]!.key)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  getAll(key: string): number[] {
    const out: number[] = [];
    for (let i = this.#partition((k) => k >= key); i < this.entries.length && this.entries[i]!.key === key; i++) out.push(this.entries[i]!.rowId);
    return out;
  }

  /** Entries within r (prefix semantics of KeyRange): both bounds are monotone predicates. */
  range(r: ModelRange, limit = Infinity): ModelEntry[] {
    const lowerOk = (k: string): boolean => (r.gte === undefined || k >= r.gte) && (r.gt === undefined || (k > r.gt && !k.startsWith(r.gt)));
    const upperFails = (k: string): boolean => !((r.lt === undefined || k < r.lt) && (r.lte === undefined || k <= r.lte || k.startsWith(r.lte)));
    const a = this.#partition(lowerOk);
    const z = Math.max(a, this.#partition(upperFails));
    if (r.reverse === true) return this.entries.slice(Math.max(a, z - limit), z).reverse();
    return this.entries.slice(a, Math.min(z, a + limit));
  }
}

export { binaryPrefixSuccessor };
