/**
 * Keys and key ranges for SSI predicate ("range") reads: a SERIALIZABLE read of
 * `WHERE k BETWEEN 10 AND 20` records the range over key space `k` (a column or an index name),
 * so a later insert of a row with k = 15 by a concurrent transaction is a rw-conflict (a phantom).
 *
 * Key order (total): by kind first (null < number/bigint < string < bytes < tuple), then
 * numbers and bigints numerically (mixed compare is exact in JS), strings by UTF-16 code units,
 * bytes lexicographically, tuples element by element (a prefix sorts first).
 *
 * Invariants:
 *  1. `compareSsiKeys` is a total order (antisymmetric, transitive): tested on random keys.
 *
 * Concurrency: pure functions.
 */
export type SsiKeyPart = number | bigint | string | Uint8Array | null;
export type SsiKey = SsiKeyPart | readonly SsiKeyPart[];

/** A predicate over one key space of one table; an absent bound is unbounded. */
export interface SsiRange {
  readonly kind: 'range';
  /** the key space: a column or index name, as the engine chooses (writes must use the same) */
  readonly space: string;
  readonly lo?: SsiKey;
  readonly hi?: SsiKey;
  /** default true */
  readonly loInclusive?: boolean;
  /** default true */
  readonly hiInclusive?: boolean;
}

/**
 * The keys of a written row version, per key space. A space present with the value `undefined`
 * is one whose key the write leaves as it was (an UPDATE that keeps the index key: the version
 * replaces one in place, as PostgreSQL's HOT update, and meets no range read of that space).
 */
export type SsiWriteKeys = Readonly<Record<string, SsiKey | undefined>>;

function rank(k: SsiKey): number {
  if (k === null) return 0;
  if (typeof k === 'number' || typeof k === 'bigint') return 1;
  if (typeof k === 'string') return 2;
  if (k instanceof Uint8Array) return 3;
  return 4;
}

export function compareSsiKeys(a: SsiKey, b: SsiKey): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0: return 0;
    case 1:
    case 2: return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 3: {
      const x = a as Uint8Array;
      const y = b as Uint8Array;
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    }
    default: {
      const x = a as readonly SsiKeyPart[];
      const y = b as readonly SsiKeyPart[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareSsiKeys(x[i]!, y[i]!);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
  }
}

/**
 * A bound with fewer parts than the key bounds a key PREFIX (a scan that bounded only the leading
 * columns of a multi-column index): compare the key's first parts only, so ('a', 5) lies inside
 * [('a'), ('a')] and outside (('a'), ...).
 */
function prefixOf(key: SsiKey, bound: SsiKey): SsiKey {
  if (!Array.isArray(key) || !Array.isArray(bound) || bound.length >= key.length) return key;
  return (key as readonly SsiKeyPart[]).slice(0, bound.length);
}

export function keyInRange(key: SsiKey, r: SsiRange): boolean {
  if (r.lo !== undefined) {
    const c = compareSsiKeys(prefixOf(key, r.lo), r.lo);
    if (c < 0 || (c === 0 && r.loInclusive === false)) return false;
  }
  if (r.hi !== undefined) {
    const c = compareSsiKeys(prefixOf(key, r.hi), r.hi);
    if (c > 0 || (c === 0 && r.hiInclusive === false)) return false;
  }
  return true;
}

/**
 * Does a write with `keys` fall inside range `r`? A write that does not name the range's key space
 * is assumed to match (conservative: a false positive costs a retry, a miss costs correctness); one
 * that names it with `undefined` (key unchanged) does not.
 */
export function writeMatchesRange(keys: SsiWriteKeys | undefined, r: SsiRange): boolean {
  if (!keys || !Object.prototype.hasOwnProperty.call(keys, r.space)) return true;
  const k = keys[r.space];
  return k !== undefined && keyInRange(k, r);
}
