/**
 * Fast UTF-8 for string columns: an ASCII column (the common case) is copied unit by unit into
 * one buffer in a single pass, decoded with one Buffer call; per-value coding only otherwise.
 *
 * Invariants:
 *  1. decodeStrings(encodeStrings(ss)) equals ss for every sequence of well-formed strings.
 */
const enc = new TextEncoder();
const dec = new TextDecoder();

const asText = (x: unknown): string => (typeof x === 'string' ? x : String(x ?? ''));

export function encodeStrings(ss: readonly unknown[], n: number, toText: (x: unknown) => string = asText): { bytes: Uint8Array; offsets: Int32Array } {
  // the values as strings: `ss` itself when they all are (no copy), else converted
  let strs = ss as readonly string[];
  let units = 0;
  if (toText === asText) {
    for (let i = 0; i < n; i++) {
      const x = ss[i];
      if (typeof x !== 'string') { units = -1; break; }
      units += x.length;
    }
  } else units = -1;
  if (units < 0) {
    const conv = new Array<string>(n);
    units = 0;
    for (let i = 0; i < n; i++) units += (conv[i] = toText(ss[i])).length;
    strs = conv;
  }
  // ASCII (the common case): one byte per UTF-16 unit, copied by a plain loop (faster than a
  // join + TextEncoder of the whole column); the first unit above 0x7f switches to UTF-8
  const offsets = new Int32Array(n + 1);
  const ascii = new Uint8Array(units);
  let o = 0;
  ascii: {
    for (let i = 0; i < n; i++) {
      const s = strs[i]!;
      offsets[i] = o;
      for (let k = 0; k < s.length; k++) {
        const c = s.charCodeAt(k);
        if (c > 0x7f) break ascii;
        ascii[o++] = c;
      }
    }
    offsets[n] = o;
    return { bytes: ascii, offsets };
  }
  const buf = new Uint8Array(units * 3);
  o = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = o;
    o += enc.encodeInto(strs[i]!, buf.subarray(o)).written;
  }
  offsets[n] = o;
  return { bytes: buf.subarray(0, o), offsets };
}

function isAscii(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i]! > 0x7f) return false;
  return true;
}

/** Strings i in [first, first+n) given byte offsets (offsets[i]..offsets[i+1]) into `bytes`. */
export function decodeStrings(bytes: Uint8Array, offsets: ArrayLike<number>, first: number, n: number, out: unknown[], at: number): void {
  const start = offsets[first]!;
  const end = offsets[first + n]!;
  if (isAscii(bytes, start, end)) {
    const whole = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
    for (let i = 0; i < n; i++) out[at + i] = whole.substring(offsets[first + i]! - start, offsets[first + i + 1]! - start);
    return;
  }
  // one decode of the whole range, then cut it at UTF-16 positions counted from the bytes:
  // every byte that is not a continuation byte starts a code point (4-byte ones take 2 units)
  const whole = dec.decode(bytes.subarray(start, end));
  const cuts = new Array<string>(n);
  let pos = 0;
  let b = start;
  for (let i = 0; i < n; i++) {
    const e = offsets[first + i + 1]!;
    let units = 0;
    for (; b < e; b++) {
      const x = bytes[b]!;
      if ((x & 0xc0) !== 0x80) units += x >= 0xf0 ? 2 : 1;
    }
    cuts[i] = whole.substring(pos, pos + units);
    pos += units;
  }
  if (pos === whole.length) {
    for (let i = 0; i < n; i++) out[at + i] = cuts[i];
    return;
  }
  // malformed input (replacement characters change the counts): value by value
  for (let i = 0; i < n; i++) out[at + i] = dec.decode(bytes.subarray(offsets[first + i]!, offsets[first + i + 1]!));
}
