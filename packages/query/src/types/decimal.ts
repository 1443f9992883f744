/**
 * Exact decimal arithmetic for NUMERIC: a scaled bigint (`v * 10^-s`).
 *
 * Invariants:
 *  1. `s` (the display scale) is a non-negative integer; `v` is the unscaled value.
 *  2. Values are immutable; every operation returns a new Decimal.
 *
 * Division and functions with inexact results follow PostgreSQL's rule of thumb: at least 16
 * significant digits, and never fewer fractional digits than either operand has.
 */
import { DbError, SqlState } from '@quiverdb/common';

const TEN = 10n;
const POW: bigint[] = [];
function pow10(n: number): bigint {
  if (n < 64) {
    let p = POW[n];
    if (p === undefined) { p = TEN ** BigInt(n); POW[n] = p; }
    return p;
  }
  return TEN ** BigInt(n);
}

function absBig(v: bigint): bigint { return v < 0n ? -v : v; }

/** Round v / d half away from zero (d > 0). */
function divRound(v: bigint, d: bigint): bigint {
  const q = v / d;
  const r = v - q * d;
  if (absBig(r) * 2n >= d) return v < 0n ? q - 1n : q + 1n;
  return q;
}

export class Decimal {
  constructor(readonly v: bigint, readonly s: number) {}

  static readonly ZERO = new Decimal(0n, 0);

  static parse(text: string): Decimal {
    const t = text.trim();
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(t);
    if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) {
      throw new DbError(SqlState.InvalidTextRepresentation, `invalid input syntax for type numeric: "${text}"`);
    }
    const intPart = m[2] ?? '';
    const frac = m[3] ?? '';
    let v = BigInt((intPart + frac) || '0');
    let s = frac.length;
    if (m[4] !== undefined) {
      const e = Number(m[4]);
      if (e >= s) { v *= pow10(e - s); s = 0; } else s -= e;
    }
    if (m[1] === '-') v = -v;
    return new Decimal(v, s);
  }

  static fromInt(n: number | bigint): Decimal {
    return new Decimal(typeof n === 'bigint' ? n : BigInt(n), 0);
  }

  static fromNumber(n: number): Decimal {
    if (!Number.isFinite(n)) throw new DbError(SqlState.InvalidParameterValue, `cannot convert ${n} to numeric`);
    if (Number.isInteger(n) && Math.abs(n) < 1e21) return new Decimal(BigInt(n), 0);
    // PostgreSQL converts float8 with 15 significant digits
    return Decimal.parse(n.toPrecision(15)).trim();
  }

  /** Remove trailing fractional zeros. */
  trim(): Decimal {
    let v = this.v;
    let s = this.s;
    while (s > 0 && v % TEN === 0n) { v /= TEN; s--; }
    return s === this.s ? this : new Decimal(v, s);
  }

  withScale(s: number): Decimal {
    if (s === this.s) return this;
    if (s > this.s) return new Decimal(this.v * pow10(s - this.s), s);
    return new Decimal(divRound(this.v, pow10(this.s - s)), s);
  }

  toString(): string {
    const neg = this.v < 0n;
    let digits = absBig(this.v).toString();
    if (this.s === 0) return (neg ? '-' : '') + digits;
    if (digits.length <= this.s) digits = '0'.repeat(this.s - digits.length + 1) + digits;
    const cut = digits.length - this.s;
    return (neg ? '-' : '') + digits.slice(0, cut) + '.' + digits.slice(cut);
  }

  toNumber(): number { return Number(this.toString()); }

  sign(): number { return this.v < 0n ? -1 : this.v > 0n ? 1 : 0; }

  neg(): Decimal { return new Decimal(-this.v, this.s); }
  abs(): Decimal { return this.v < 0n ? this.neg() : this; }

  add(o: Decimal): Decimal {
    const s = Math.max(this.s, o.s);
    return new Decimal(this.withScale(s).v + o.withScale(s).v, s);
  }
  sub(o: Decimal): Decimal {
    const s = Math.max(this.s, o.s);
    return new Decimal(this.withScale(s).v - o.withScale(s).v, s);
  }
  mul(o: Decimal): Decimal { return new Decimal(this.v * o.v, this.s + o.s); }

  cmp(o: Decimal): number {
    const s = Math.max(this.s, o.s);
    const a = this.withScale(s).v;
    const b = o.withScale(s).v;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** Approximate base-10 exponent of the leading digit (0 for 1..9, -1 for 0.1..0.9). */
  magnitude(): number {
    if (this.v === 0n) return 0;
    return absBig(this.v).toString().length - 1 - this.s;
  }

  /** [weight, first digit] of the value in PostgreSQL's base-10000 representation. */
  nbaseLead(): [number, number] {
    if (this.v === 0n) return [0, 0];
    const d = absBig(this.v).toString();
    const e = d.length - 1 - this.s;
    const w = Math.floor(e / 4);
    const k = e - w * 4 + 1;
    return [w, Number(d.slice(0, k).padEnd(k, '0'))];
  }

  div(o: Decimal, scale?: number): Decimal {
    if (o.v === 0n) throw new DbError(SqlState.DivisionByZero, 'division by zero');
    let rs = scale;
    if (rs === undefined) {
      // PostgreSQL's select_div_scale, in base-10000 digits
      const [w1, f1] = this.nbaseLead();
      const [w2, f2] = o.nbaseLead();
      let qweight = w1 - w2;
      if (f1 <= f2) qweight--;
      rs = Math.max(16 - qweight * 4, this.s, o.s, 0);
      rs = Math.min(rs, 1000);
    }
    // this.v/10^this.s / (o.v/10^o.s) = this.v * 10^(o.s) / (o.v * 10^this.s)
    // result unscaled at rs: this.v * 10^(o.s + rs) / (o.v * 10^this.s)
    let num = this.v * pow10(o.s + rs);
    let den = o.v * pow10(this.s);
    if (den < 0n) { den = -den; num = -num; }
    return new Decimal(divRound(num, den), rs);
  }

  /** Truncating integer division (PostgreSQL `div`) and modulo share this. */
  mod(o: Decimal): Decimal {
    if (o.v === 0n) throw new DbError(SqlState.DivisionByZero, 'division by zero');
    const s = Math.max(this.s, o.s);
    const a = this.withScale(s).v;
    const b = o.withScale(s).v;
    return new Decimal(a % b, s);
  }

  round(scale: number): Decimal {
    if (scale >= this.s) return this.withScale(Math.max(scale, 0));
    if (scale >= 0) return this.withScale(scale);
    const p = pow10(-scale);
    const r = divRound(this.v, pow10(this.s) * p) * p;
    return new Decimal(r, 0);
  }

  trunc(scale: number): Decimal {
    if (scale >= this.s) return this.withScale(Math.max(scale, 0));
    const d = pow10(this.s - Math.max(scale, 0));
    let v = this.v / d;
    if (scale < 0) { const p = pow10(-scale); v = (v / p) * p; }
    return new Decimal(v, Math.max(scale, 0));
  }

  floor(): Decimal {
    if (this.s === 0) return this;
    const d = pow10(this.s);
    let q = this.v / d;
    if (this.v < 0n && q * d !== this.v) q -= 1n;
    return new Decimal(q, 0);
  }
  ceil(): Decimal {
    if (this.s === 0) return this;
    const d = pow10(this.s);
    let q = this.v / d;
    if (this.v > 0n && q * d !== this.v) q += 1n;
    return new Decimal(q, 0);
  }

  /** Integer value rounded half away from zero (for casts to integer types). */
  toBigIntRounded(): bigint {
    return this.s === 0 ? this.v : divRound(this.v, pow10(this.s));
  }

  isInteger(): boolean { return this.s === 0 || this.v % pow10(this.s) === 0n; }
}
