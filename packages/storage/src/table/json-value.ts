/**
 * JSON text for `json` columns (vector.ts): bigint values are written as {"$n":"123"}.
 */
export function jsonEncode(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? { $n: x.toString() } : x)) ?? 'null';
}

export function jsonDecode(s: string): unknown {
  return JSON.parse(s, (_k, x: unknown) => {
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      const o = x as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === '$n' && typeof o.$n === 'string') return BigInt(o.$n);
    }
    return x;
  });
}
