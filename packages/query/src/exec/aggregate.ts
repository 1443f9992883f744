/**
 * Aggregate accumulators: one object per aggregate call, holding per-group state in arrays
 * indexed by group number (hash aggregation assigns dense group numbers).
 *
 * Invariants:
 *  1. `add(g, v)` is called only with non-null `v` (NULL inputs are skipped, as SQL requires),
 *     except for count(*), which counts rows.
 *  2. `result(g)` of a group that saw no input is the SQL result over the empty set
 *     (0 for count, NULL for the others).
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import { Decimal } from '../types/decimal.js';
import { compareValues, valueToText } from '../types/values.js';
import type { Interval } from '../types/values.js';
import { moreAccumulator } from './aggregate-more.js';

export interface Accumulator {
  add(g: number, v: unknown, extra?: unknown): void;
  result(g: number): unknown;
}

function sqrtDecimal(d: Decimal): Decimal {
  const x = Math.sqrt(d.toNumber());
  return Decimal.fromNumber(x);
}

class Moments implements Accumulator {
  n: number[] = []; s: unknown[] = []; s2: unknown[] = [];
  constructor(private readonly name: string, private readonly dec: boolean) {}
  add(g: number, v: unknown): void {
    this.n[g] = (this.n[g] ?? 0) + 1;
    if (this.dec) {
      const d = v instanceof Decimal ? v : Decimal.fromInt(v as number | bigint);
      this.s[g] = ((this.s[g] as Decimal | undefined) ?? Decimal.ZERO).add(d);
      this.s2[g] = ((this.s2[g] as Decimal | undefined) ?? Decimal.ZERO).add(d.mul(d));
    } else {
      const x = v as number;
      this.s[g] = ((this.s[g] as number | undefined) ?? 0) + x;
      this.s2[g] = ((this.s2[g] as number | undefined) ?? 0) + x * x;
    }
  }
  result(g: number): unknown {
    const n = this.n[g] ?? 0;
    const pop = this.name.endsWith('_pop');
    if (n === 0 || (!pop && n === 1)) return null;
    const denom = pop ? n : n - 1;
    const isStd = this.name.startsWith('stddev');
    if (this.dec) {
      const s = this.s[g] as Decimal, s2 = this.s2[g] as Decimal;
      const N = Decimal.fromInt(n);
      let v = s2.mul(N).sub(s.mul(s)).div(N.mul(Decimal.fromInt(denom)));
      if (v.sign() < 0) v = Decimal.ZERO;
      return isStd ? sqrtDecimal(v) : v;
    }
    const s = this.s[g] as number, s2 = this.s2[g] as number;
    let v = (s2 - (s * s) / n) / denom;
    if (v < 0) v = 0;
    return isStd ? Math.sqrt(v) : v;
  }
}

export function makeAccumulator(name: string, argType: SqlType | undefined, resultType: SqlType, star: boolean, extra?: unknown): Accumulator {
  switch (name) {
    case 'count': {
      const c: number[] = [];
      return { add(g) { c[g] = (c[g] ?? 0) + 1; }, result: (g) => BigInt(c[g] ?? 0) };
    }
    case 'sum': case 'avg': {
      const avg = name === 'avg';
      const n: number[] = [];
      const id = argType?.id;
      if (id === 'INTEGER' || id === 'SMALLINT') {
        const s: number[] = [];
        return {
          add(g, v) { s[g] = (s[g] ?? 0) + (v as number); n[g] = (n[g] ?? 0) + 1; },
          result(g) {
            if (!n[g]) return null;
            if (!avg) return BigInt(s[g]!);
            return Decimal.fromInt(s[g]!).div(Decimal.fromInt(n[g]!));
          },
        };
      }
      if (id === 'BIGINT' || id === 'NUMERIC') {
        // fast path: unscaled sums in plain numbers while every value is small and of one scale
        const fast: number[] = [];
        const scale: number[] = [];
        const s: (Decimal | undefined)[] = [];
        const LIMIT = 2 ** 52;
        return {
          add(g, v) {
            n[g] = (n[g] ?? 0) + 1;
            const d = v instanceof Decimal ? v : Decimal.fromInt(v as bigint);
            if (s[g] === undefined) {
              if (d.small) {
                const sc = scale[g];
                if (sc === undefined) { scale[g] = d.s; fast[g] = d.n; return; }
                if (sc === d.s) { const r = fast[g]! + d.n; if (Math.abs(r) < LIMIT) { fast[g] = r; return; } }
              }
              s[g] = scale[g] === undefined ? Decimal.ZERO : new Decimal(fast[g]!, scale[g]!);
            }
            s[g] = s[g]!.add(d);
          },
          result(g) {
            if (!n[g]) return null;
            const tot = s[g] ?? new Decimal(fast[g]!, scale[g]!);
            return avg ? tot.div(Decimal.fromInt(n[g]!)) : tot;
          },
        };
      }
      if (id === 'INTERVAL') {
        const s: Interval[] = [];
        return {
          add(g, v) { const a = s[g] ?? { months: 0, days: 0, us: 0 }; const b = v as Interval; s[g] = { months: a.months + b.months, days: a.days + b.days, us: a.us + b.us }; n[g] = (n[g] ?? 0) + 1; },
          result(g) {
            if (!n[g]) return null;
            const a = s[g]!;
            if (!avg) return a;
            const k = n[g]!;
            return { months: Math.trunc(a.months / k), days: Math.trunc(a.days / k), us: Math.round(a.us / k) };
          },
        };
      }
      const s: number[] = [];
      const real = resultType.id === 'REAL';
      return {
        add(g, v) { s[g] = (s[g] ?? 0) + (v as number); n[g] = (n[g] ?? 0) + 1; },
        result(g) { if (!n[g]) return null; const r = avg ? s[g]! / n[g]! : s[g]!; return real ? Math.fround(r) : r; },
      };
    }
    case 'min': case 'max': {
      const best: unknown[] = [];
      const dir = name === 'min' ? -1 : 1;
      return {
        add(g, v) { const b = best[g]; if (b === undefined || compareValues(v, b) * dir > 0) best[g] = v; },
        result: (g) => best[g] ?? null,
      };
    }
    case 'bool_and': case 'every': {
      const r: (boolean | undefined)[] = [];
      return { add(g, v) { r[g] = (r[g] ?? true) && (v as boolean); }, result: (g) => r[g] ?? null };
    }
    case 'bool_or': {
      const r: (boolean | undefined)[] = [];
      return { add(g, v) { r[g] = (r[g] ?? false) || (v as boolean); }, result: (g) => r[g] ?? null };
    }
    case 'string_agg': {
      const parts: string[][] = [];
      const seps: string[][] = [];
      return {
        add(g, v, sep) { (parts[g] ??= []).push(valueToText(v, argType!)); (seps[g] ??= []).push(sep === null || sep === undefined ? '' : String(sep)); },
        result(g) {
          const p = parts[g];
          if (!p) return null;
          let s = p[0]!;
          for (let i = 1; i < p.length; i++) s += seps[g]![i]! + p[i]!;
          return s;
        },
      };
    }
    case 'stddev': case 'stddev_samp': case 'stddev_pop': case 'variance': case 'var_samp': case 'var_pop':
      return new Moments(name === 'stddev' ? 'stddev_samp' : name === 'variance' ? 'var_samp' : name, resultType.id === 'NUMERIC');
    case 'percentile_cont': case 'percentile_disc': {
      const vals: unknown[][] = [];
      const frac = Number(extra);
      return {
        add(g, v) { (vals[g] ??= []).push(v); },
        result(g) {
          const v = vals[g];
          if (!v || v.length === 0) return null;
          v.sort(compareValues);
          if (name === 'percentile_disc') return v[Math.max(0, Math.ceil(frac * v.length) - 1)]!;
          const pos = frac * (v.length - 1);
          const lo = Math.floor(pos), hi = Math.ceil(pos);
          const num = (z: unknown): number => (z instanceof Decimal ? z.toNumber() : Number(z));
          const x = num(v[lo]), y = num(v[hi]);
          return x + (y - x) * (pos - lo);
        },
      };
    }
  }
  const more = moreAccumulator(name); // bit_and, bit_or, bit_xor, mode (aggregate-more.ts)
  if (more) return more;
  void star;
  throw new DbError(SqlState.UndefinedFunction, `aggregate ${name} is not supported`);
}
