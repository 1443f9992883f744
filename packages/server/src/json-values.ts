/**
 * Row values for the HTTP JSON API.
 *
 * JSON has no bigint, NaN or Infinity, so:
 *   bigint → a JSON number when it is a safe integer (|n| ≤ 2^53 − 1), else a decimal string;
 *   NaN / Infinity / -Infinity → the strings 'NaN' / 'Infinity' / '-Infinity';
 *   Uint8Array → '\x' + hex (PostgreSQL's bytea output); Date → ISO 8601 string;
 *   NUMERIC / DATE / TIMESTAMP / INTERVAL are already strings and stay strings.
 * A client that needs exact BIGINT values should read them as strings when they are strings,
 * or ask for Arrow (which keeps int64).
 */

export function jsonValue(v: unknown): unknown {
  switch (typeof v) {
    case 'bigint':
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    case 'number':
      if (Number.isFinite(v)) return v;
      return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    case 'object':
      if (v === null) return null;
      if (v instanceof Uint8Array) return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
      if (v instanceof Date) return v.toISOString();
      if (Array.isArray(v)) return v.map(jsonValue);
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonValue(x)]));
    default:
      return v;
  }
}

export function jsonRows(rows: readonly (readonly unknown[])[]): unknown[][] {
  return rows.map((row) => row.map(jsonValue));
}
