/**
 * HyperLogLog distinct-count sketch (Flajolet et al. 2007, with the small-range correction),
 * used by ANALYZE for `n_distinct` without keeping the values.
 *
 * Layout: 2^p one-byte registers (p = 12: 4096 registers, standard error ~1.6%). A value is
 * hashed to 32 bits (FNV-1a over its text form, then a murmur-style finalizer); the top p bits pick
 * a register, the rank of the remaining bits' leading one updates it.
 *
 * Invariants:
 *  1. Every register holds a rank in [0, 32 - p + 1].
 */
export class HyperLogLog {
  readonly p: number;
  readonly #m: number;
  readonly #reg: Uint8Array;

  constructor(p = 12) {
    this.p = p;
    this.#m = 1 << p;
    this.#reg = new Uint8Array(this.#m);
  }

  add(value: unknown): void {
    const h = hash32(typeof value === 'string' ? value : typeof value === 'bigint' ? `${value}n` : String(value));
    const idx = h >>> (32 - this.p);
    const rest = (h << this.p) >>> 0;
    const rank = rest === 0 ? 32 - this.p + 1 : Math.clz32(rest) + 1;
    if (rank > this.#reg[idx]!) this.#reg[idx] = rank;
  }

  estimate(): number {
    const m = this.#m;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      const r = this.#reg[i]!;
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / m);
    const e = (alpha * m * m) / sum;
    if (e <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
    return Math.round(e);
  }

  checkInvariants(): void {
    const max = 32 - this.p + 1;
    for (const r of this.#reg) if (r > max) throw new Error(`register rank ${r} > ${max}`);
  }
}

function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
