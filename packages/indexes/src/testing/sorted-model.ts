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

  getAll(key: string): number[] {
    return this.entries.filter((e) => e.key === key).map((e) => e.rowId);
  }

  range(r: ModelRange, limit = Infinity): ModelEntry[] {
    const ok = (k: string): boolean => {
      if (r.gte !== undefined && !(k >= r.gte)) return false;
      if (r.gt !== undefined && !(k > r.gt && !k.startsWith(r.gt))) return false;
      if (r.lt !== undefined && !(k < r.lt)) return false;
      if (r.lte !== undefined && !(k <= r.lte || k.startsWith(r.lte))) return false;
      return true;
    };
    const out: ModelEntry[] = [];
    const n = this.entries.length;
    for (let j = 0; j < n && out.length < limit; j++) {
      const e = this.entries[r.reverse === true ? n - 1 - j : j]!;
      if (ok(e.key)) out.push(e);
    }
    return out;
  }
}

export { binaryPrefixSuccessor };
