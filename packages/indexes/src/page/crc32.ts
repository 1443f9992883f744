/**
 * CRC-32 (IEEE, reflected 0xEDB88320) for pages and root/meta records.
 *
 * Uses zlib's implementation (node:zlib `crc32`, Node >= 20.15: the same polynomial, many times
 * faster than a byte-wise table on 4 KiB pages) when present, else a byte-wise table.
 *
 * Invariants:
 *  1. crc32(ascii "123456789") === 0xCBF43926 (the standard check value), whichever path runs.
 */
import * as zlib from 'node:zlib';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** The byte-wise table version (reference for tests, fallback without zlib's). @internal */
export function crc32Table(data: Uint8Array, start = 0, end = data.length): number {
  return (tableUpdate(0xffffffff, data, start, end) ^ 0xffffffff) >>> 0;
}

/** The running (pre-inverted) CRC `c` continued over data[start..end) with the byte-wise table. */
function tableUpdate(c: number, data: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  if (native !== undefined && end - start >= 64) {
    return native(start === 0 && end === data.length ? data : data.subarray(start, end), 0) >>> 0;
  }
  return crc32Table(data, start, end);
}

/** Zero bytes for `crc32Padded` (a page is at most 64 KiB). */
let zeros = new Uint8Array(4096);

/** CRC-32 of `data` followed by zero bytes up to `size` bytes in all (a zero-padded page). */
export function crc32Padded(data: Uint8Array, size: number): number {
  const pad = size - data.length;
  if (pad <= 0) return crc32(data);
  if (zeros.length < pad) zeros = new Uint8Array(pad);
  if (native !== undefined) return native(zeros.subarray(0, pad), native(data, 0)) >>> 0;
  const c = tableUpdate(tableUpdate(0xffffffff, data, 0, data.length), zeros, 0, pad);
  return (c ^ 0xffffffff) >>> 0;
}
