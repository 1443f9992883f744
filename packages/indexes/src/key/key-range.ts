/**
 * Key ranges: user-facing bounds over encoded keys, and their translation to bounds over stored
 * (binary string) keys, shared by both trees.
 *
 * A bound that is a key prefix (fewer columns than the key) applies to the prefix, so
 * `{ gt: enc([5]) }` on (a, b) means a > 5 and `{ lte: enc([5]) }` means a <= 5. For full keys
 * this is plain key comparison, because full keys of one spec never prefix one another.
 */
import { toBinary, binaryPrefixSuccessor } from './binary-string.js';

/**
 * Range bounds over user keys (encoded). A bound that is a key prefix (fewer columns) applies
 * to the prefix: `{ gt: enc([5]) }` on (a, b) means a > 5, `{ lte: enc([5]) }` means a <= 5.
 */
export interface KeyRange {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  /** descending key order */
  reverse?: boolean;
}

/** Internal bounds on stored keys: lo inclusive, hi exclusive; undefined = unbounded. */
export interface Bounds {
  lo: string | undefined;
  hi: string | undefined;
  empty: boolean;
}

/** Translate user-key bounds (prefix semantics) to stored-key bounds. @internal */
export function toBounds(r: KeyRange): Bounds {
  let lo: string | undefined;
  let hi: string | undefined;
  let empty = false;
  if (r.gte !== undefined) lo = toBinary(r.gte);
  if (r.gt !== undefined) {
    const s = binaryPrefixSuccessor(toBinary(r.gt));
    if (s === undefined) empty = true;
    else if (lo === undefined || s > lo) lo = s;
  }
  if (r.lt !== undefined) hi = toBinary(r.lt);
  if (r.lte !== undefined) {
    const s = binaryPrefixSuccessor(toBinary(r.lte));
    if (s !== undefined && (hi === undefined || s < hi)) hi = s;
  }
  if (lo !== undefined && hi !== undefined && lo >= hi) empty = true;
  return { lo, hi, empty };
}

