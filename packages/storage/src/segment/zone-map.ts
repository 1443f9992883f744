/**
 * Zone maps: min / max / null count / row count per row group and column, computed when a
 * segment is written, kept in the manifest, used to skip row groups a predicate cannot match.
 *
 * Values are in the column's vector representation (number, bigint, string; bool as 0/1).
 * `min`/`max` are undefined when the chunk has no non-NULL value or the type has no order we
 * prune on (json), or a float chunk holds NaN: such zones never prune on comparisons.
 *
 * Invariants:
 *  1. `canMatch(z, p)` is false only when no row of the chunk can satisfy `p` (never a false
 *     negative: pruning must not drop a matching row).
 */
import type { ColumnVector, PhysicalType } from '@quiverdb/common';
import type { StoragePredicate } from '../api.js';

export type ZoneValue = number | bigint | string;

export interface Zone {
  min?: ZoneValue;
  max?: ZoneValue;
  nulls: number;
  rows: number;
}

export function computeZone(v: ColumnVector, type: PhysicalType, from: number, to: number): Zone {
  const rows = to - from;
  let nulls = 0;
  if (type === 'json') {
    if (v.validity !== null) for (let i = from; i < to; i++) if (v.validity[i] === 0) nulls++;
    return { nulls, rows };
  }
  const val = v.validity;
  if (ArrayBuffer.isView(v.data) && !(v.data instanceof BigInt64Array) && !(v.data instanceof BigUint64Array)) {
    // a numeric typed array (most columns): one monomorphic loop, no per-value type test
    const a = v.data as unknown as ArrayLike<number>;
    let lo = Infinity;
    let hi = -Infinity;
    let seen = false;
    for (let i = from; i < to; i++) {
      if (val !== null && val[i] === 0) { nulls++; continue; }
      const x = a[i]!;
      if (x !== x) return nullsAfterNaN(val, from, to, rows);
      seen = true;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const z: Zone = { nulls, rows };
    if (seen) { z.min = lo; z.max = hi; }
    return z;
  }
  let min: ZoneValue | undefined;
  let max: ZoneValue | undefined;
  let nan = false;
  const d = v.data as ArrayLike<ZoneValue>;
  for (let i = from; i < to; i++) {
    if (val !== null && val[i] === 0) { nulls++; continue; }
    const x = d[i]!;
    if (typeof x === 'number' && Number.isNaN(x)) { nan = true; continue; }
    if (min === undefined || x < min) min = x;
    if (max === undefined || x > max) max = x;
  }
  if (nan) return { nulls, rows };
  const z: Zone = { nulls, rows };
  if (min !== undefined) { z.min = min; z.max = max; }
  return z;
}

/** The zone of a float chunk holding NaN: counts only. */
function nullsAfterNaN(val: Uint8Array | null, from: number, to: number, rows: number): Zone {
  let nulls = 0;
  if (val !== null) for (let i = from; i < to; i++) if (val[i] === 0) nulls++;
  return { nulls, rows };
}

function comparable(v: unknown): v is ZoneValue {
  return typeof v === 'number' ? !Number.isNaN(v) : typeof v === 'bigint' || typeof v === 'string';
}

/** Same kind (a bigint zone compares with numbers too; strings only with strings). */
function sameKind(a: ZoneValue, b: ZoneValue): boolean {
  return (typeof a === 'string') === (typeof b === 'string');
}

/** Can any row of a chunk with zone `z` satisfy `p`? (conservative: true when unsure) */
export function canMatch(z: Zone | undefined, pred: StoragePredicate): boolean {
  if (z === undefined) return true;
  const p = normalizeBooleans(pred);
  if (p.kind === 'isNull') return p.negated ? z.nulls < z.rows : z.nulls > 0;
  const allNull = z.nulls === z.rows;
  if (allNull) return false; // comparisons with NULL are never true
  const { min, max } = z;
  if (min === undefined || max === undefined) return true;
  const inRange = (v: unknown): boolean => !comparable(v) || !sameKind(v, min) || (min <= v && v <= max);
  switch (p.kind) {
    case 'cmp': {
      const v = p.value;
      if (!comparable(v) || !sameKind(v, min)) return true;
      switch (p.op) {
        case '=': return min <= v && v <= max;
        case '<': return min < v;
        case '<=': return min <= v;
        case '>': return max > v;
        case '>=': return max >= v;
      }
      return true;
    }
    case 'between': {
      const { low, high } = p;
      if (comparable(low) && sameKind(low, min) && max < low) return false;
      if (comparable(high) && sameKind(high, min) && min > high) return false;
      return true;
    }
    case 'in':
      return p.values.some(inRange);
  }
}

/** bool columns hold 0 / 1: compare predicate booleans as such */
function normalizeBooleans(p: StoragePredicate): StoragePredicate {
  const b = (v: unknown): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
  switch (p.kind) {
    case 'cmp': return typeof p.value === 'boolean' ? { ...p, value: b(p.value) } : p;
    case 'between': return { ...p, low: b(p.low), high: b(p.high) };
    case 'in': return p.values.some((v) => typeof v === 'boolean') ? { ...p, values: p.values.map(b) } : p;
    case 'isNull': return p;
  }
}

/** JSON-safe form of a zone (bigint as {"$n"}) for the manifest. */
export function zoneToJson(z: Zone): unknown {
  const enc = (v: ZoneValue | undefined): unknown => (typeof v === 'bigint' ? { $n: v.toString() } : v);
  return { min: enc(z.min), max: enc(z.max), nulls: z.nulls, rows: z.rows };
}

export function zoneFromJson(j: unknown): Zone {
  const o = j as { min?: unknown; max?: unknown; nulls: number; rows: number };
  const dec = (v: unknown): ZoneValue | undefined =>
    v !== null && typeof v === 'object' && '$n' in v ? BigInt((v as { $n: string }).$n) : (v as ZoneValue | undefined);
  const z: Zone = { nulls: o.nulls, rows: o.rows };
  const min = dec(o.min);
  const max = dec(o.max);
  if (min !== undefined && max !== undefined) { z.min = min; z.max = max; }
  return z;
}
