/**
 * Small helpers over ColumnVector data: copy ranges, gather rows, null vectors, byte sizes.
 */
import { allocateData, type ColumnVector, type PhysicalType, type VectorData } from '@quiverdb/common';

export function isTyped(d: VectorData): d is Uint8Array | Int32Array | BigInt64Array | Float64Array {
  return !Array.isArray(d);
}

/** Slots up to which `copyData` copies value by value (cheaper than a typed-array view). */
const SMALL_COPY = 8;

/** Copy `n` slots of `src` from `from` into `dst` at `to`. */
export function copyData(dst: VectorData, to: number, src: VectorData, from: number, n: number): void {
  if (n <= SMALL_COPY || !isTyped(dst)) {
    // a few values (single-row writes), or plain arrays: element copies, no subarray view
    const d = dst as unknown[];
    const s = src as ArrayLike<unknown>;
    for (let i = 0; i < n; i++) d[to + i] = s[from + i];
  } else {
    (dst as Float64Array).set((src as Float64Array).subarray(from, from + n), to);
  }
}

export function sliceVector(v: ColumnVector, from: number, to: number): ColumnVector {
  const d = v.data;
  return {
    data: isTyped(d) ? d.subarray(from, to) : d.slice(from, to),
    validity: v.validity === null ? null : v.validity.subarray(from, to),
  };
}

/** Rows `sel[0..n)` of `v`, as a new vector. */
export function gatherVector(v: ColumnVector, type: PhysicalType, sel: Uint32Array, n: number): ColumnVector {
  const out = allocateData(type, n);
  const src = v.data;
  if (isTyped(out)) {
    const o = out as Float64Array;
    const s = src as Float64Array;
    for (let i = 0; i < n; i++) o[i] = s[sel[i]!]!;
  } else {
    const s = src as unknown[];
    for (let i = 0; i < n; i++) out[i] = s[sel[i]!];
  }
  let validity: Uint8Array | null = null;
  if (v.validity !== null) {
    validity = new Uint8Array(n);
    const vs = v.validity;
    for (let i = 0; i < n; i++) validity[i] = vs[sel[i]!]!;
  }
  return { data: out, validity };
}

/** An all-NULL vector (for columns a segment or chunk does not have). */
export function nullVector(type: PhysicalType, n: number): ColumnVector {
  return { data: allocateData(type, n), validity: new Uint8Array(n) };
}

/**
 * The vector of a column for `n` rows written before the column existed: its `missing` value
 * (ADD COLUMN ... DEFAULT) or NULL. Always has a validity array.
 */
export function absentVector(col: { readonly type: PhysicalType; readonly missing?: string | number | null }, n: number): ColumnVector {
  const v = nullVector(col.type, n);
  if (col.missing === undefined || col.missing === null) return v;
  const value = col.type === 'int64' ? BigInt(col.missing) : col.type === 'json' ? JSON.parse(String(col.missing)) : col.missing;
  (v.data as { fill(x: unknown): unknown }).fill(value);
  v.validity!.fill(1);
  return v;
}

/** Approximate in-memory bytes of `n` slots. */
export function vectorBytes(v: ColumnVector, n: number): number {
  let b = v.validity === null ? 0 : n;
  const d = v.data;
  if (isTyped(d)) b += n * d.BYTES_PER_ELEMENT;
  else {
    b += n * 8;
    for (let i = 0; i < n; i++) {
      const x = d[i];
      if (typeof x === 'string') b += 16 + x.length * 2;
      else if (x !== null && typeof x === 'object') b += 64;
    }
  }
  return b;
}

/** Grow a data array to `cap` slots keeping the first `len`. */
export function growData(type: PhysicalType, d: VectorData, len: number, cap: number): VectorData {
  const next = allocateData(type, cap);
  copyData(next, 0, d, 0, len);
  return next;
}
