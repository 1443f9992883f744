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

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const P10: number[] = Array.from({ length: 23 }, (_x, i) => 10 ** i);

/** n / 10^k rounded half away from zero, for safe integers n. */
function divRoundNum(n: number, k: number): number {
  const d = P10[k]!;
  const r = n % d;
  let q = (n - r) / d;
  if (Math.abs(r) * 2 >= d) q += n < 0 ? -1 : 1;
  return q;
}

export class Decimal {
  /** unscaled value when it is a safe integer (fast path), else NaN */
  readonly n: number;
  readonly #b: bigint | null;

  constructor(v: bigint | number, readonly s: number) {
    if (typeof v === 'number') { this.n = v; this.#b = null; return; }
    if (v >= -9007199254740991n && v <= 9007199254740991n) { this.n = Number(v); this.#b = null; }
    else { this.n = NaN; this.#b = v; }
  }

  /** the unscaled value */
  get v(): bigint { return this.#b ?? BigInt(this.n); }
  get small(): boolean { return this.#b === null; }

  static readonly ZERO = new Decimal(0, 0);

  static parse(text: string): Decimal {
    // fast path: [-]digits[.digits] with at most 15 digits
    const len = text.length;
    if (len > 0 && len <= 17) {
      let i = 0, neg = false, n = 0, s = 0, digits = 0, dot = false, ok = true;
      const c0 = text.charCodeAt(0);
      if (c0 === 45 || c0 === 43) { neg = c0 === 45; i = 1; }
      for (; i < len; i++) {
        const c = text.charCodeAt(i);
        if (c >= 48 && c <= 57) { n = n * 10 + (c - 48); digits++; if (dot) s++; }
        else if (c === 46 && !dot) dot = true;
        else { ok = false; break; }
      }
      if (ok && digits > 0 && digits <= 15) return new Decimal(neg ? -n : n, s);
    }
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
    return new Decimal(typeof n === 'bigint' ? n : Number.isSafeInteger(n) ? n : BigInt(n), 0);
  }

  static fromNumber(n: number): Decimal {
    if (!Number.isFinite(n)) throw new DbError(SqlState.InvalidParameterValue, `cannot convert ${n} to numeric`);
    if (Number.isInteger(n) && Math.abs(n) < 1e21) return Decimal.fromInt(Number.isSafeInteger(n) ? n : BigInt(n));
    // PostgreSQL converts float8 with 15 significant digits
    return Decimal.parse(n.toPrecision(15)).trim();
  }

  /** Remove trailing fractional zeros. */
  trim(): Decimal {
    if (this.#b === null) {
      let n = this.n, s = this.s;
      while (s > 0 && n % 10 === 0) { n /= 10; s--; }
      return s === this.s ? this : new Decimal(n, s);
    }
    let v = this.#b;
    let s = this.s;
    while (s > 0 && v % TEN === 0n) { v /= TEN; s--; }
    return s === this.s ? this : new Decimal(v, s);
  }

  withScale(s: number): Decimal {
    if (s === this.s) return this;
    if (this.#b === null) {
      if (s > this.s) {
        const k = s - this.s;
        if (k < 23) { const r = this.n * P10[k]!; if (Math.abs(r) <= MAX_SAFE) return new Decimal(r, s); }
      } else if (this.s - s < 23) return new Decimal(divRoundNum(this.n, this.s - s), s);
    }
    if (s > this.s) return new Decimal(this.v * pow10(s - this.s), s);
    return new Decimal(divRound(this.v, pow10(this.s - s)), s);
  }

  toString(): string {
    const neg = this.#b === null ? this.n < 0 : this.#b < 0n;
    let digits = this.#b === null ? String(Math.abs(this.n)) : absBig(this.#b).toString();
    if (this.s === 0) return (neg && digits !== '0' ? '-' : '') + digits;
    if (digits.length <= this.s) digits = '0'.repeat(this.s - digits.length + 1) + digits;
    const cut = digits.length - this.s;
    return (neg ? '-' : '') + digits.slice(0, cut) + '.' + digits.slice(cut);
  }

  toNumber(): number {
    if (this.#b === null && this.s < 23) {
      const r = this.n / P10[this.s]!;
      // exact when the unscaled value is small enough for the division to round correctly
      if (Math.abs(this.n) < 2 ** 52) return r;
    }
    return Number(this.toString());
  }

  sign(): number { return this.#b === null ? Math.sign(this.n) : this.#b < 0n ? -1 : this.#b > 0n ? 1 : 0; }

  neg(): Decimal { return this.#b === null ? new Decimal(this.n === 0 ? 0 : -this.n, this.s) : new Decimal(-this.#b, this.s); }
  abs(): Decimal { return this.sign() < 0 ? this.neg() : this; }

  add(o: Decimal): Decimal {
    if (this.#b === null && o.#b === null) {
      if (this.s === o.s) { const r = this.n + o.n; if (Math.abs(r) <= MAX_SAFE) return new Decimal(r, this.s); }
      else if (Math.abs(this.s - o.s) < 23) {
        const r = this.s > o.s ? this.n + o.n * P10[this.s - o.s]! : this.n * P10[o.s - this.s]! + o.n;
        if (Math.abs(r) <= MAX_SAFE / 2) return new Decimal(r, Math.max(this.s, o.s));
      }
    }
    const s = Math.max(this.s, o.s);
    return new Decimal(this.withScale(s).v + o.withScale(s).v, s);
  }
  sub(o: Decimal): Decimal { return this.add(o.neg()); }
  mul(o: Decimal): Decimal {
    if (this.#b === null && o.#b === null) { const r = this.n * o.n; if (Math.abs(r) <= MAX_SAFE) return new Decimal(r === 0 ? 0 : r, this.s + o.s); }
    return new Decimal(this.v * o.v, this.s + o.s);
  }

  cmp(o: Decimal): number {
    if (this.#b === null && o.#b === null) {
      if (this.s === o.s) return this.n < o.n ? -1 : this.n > o.n ? 1 : 0;
      if (Math.abs(this.s - o.s) < 23) {
        const a = this.s >= o.s ? this.n : this.n * P10[o.s - this.s]!;
        const b = o.s >= this.s ? o.n : o.n * P10[this.s - o.s]!;
        if (Math.abs(a) <= MAX_SAFE && Math.abs(b) <= MAX_SAFE) return a < b ? -1 : a > b ? 1 : 0;
      }
    }
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
