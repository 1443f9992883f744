/**
 * Binary strings: the in-memory form of encoded keys inside the trees.
 *
 * A binary string holds one byte per UTF-16 code unit (0..255). JavaScript compares strings by
 * code unit, so for binary strings `a < b` is exactly memcmp order of the bytes — and V8
 * compares and stores one-byte strings far faster and more compactly than `Uint8Array`s.
 *
 * Invariants:
 *  1. Every code unit of a binary string is <= 0xff.
 *  2. `toBinary(fromBinary(s)) === s` and `fromBinary(toBinary(b))` equals `b` byte for byte.
 */

import { getBinary } from '../page/page-codec.js';

/** Bytes → binary string. */
export function toBinary(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= 64) return getBinary(bytes, 0, n); // flat (see getBinary)
  let s = '';
  for (let i = 0; i < n; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(n, i + 4096)) as unknown as number[]);
  }
  return s;
}

/** Binary string → bytes. REQUIRES: invariant 1. */
export function fromBinary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** memcmp order of two byte arrays: negative, 0 or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * The smallest key greater than every key that starts with `prefix` (exclusive upper bound of a
 * prefix scan), or `undefined` when no such key exists (the prefix is empty or all 0xff).
 */
export function prefixSuccessor(prefix: Uint8Array): Uint8Array | undefined {
  let i = prefix.length - 1;
  while (i >= 0 && prefix[i] === 0xff) i--;
  if (i < 0) return undefined;
  const out = prefix.slice(0, i + 1);
  out[i]! += 1;
  return out;
}

/** `prefixSuccessor` on binary strings. */
export function binaryPrefixSuccessor(prefix: string): string | undefined {
  let i = prefix.length - 1;
  while (i >= 0 && prefix.charCodeAt(i) === 0xff) i--;
  if (i < 0) return undefined;
  return prefix.slice(0, i) + String.fromCharCode(prefix.charCodeAt(i) + 1);
}
