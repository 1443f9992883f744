/** computeZone against a naive model on seeded random chunks (typed arrays, strings, NULLs, NaN). */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import type { ColumnVector, PhysicalType } from '@quiverdb/common';
import { computeZone, type Zone, type ZoneValue } from './zone-map.js';

function model(data: ArrayLike<unknown>, validity: Uint8Array | null, from: number, to: number): Zone {
  const vals: ZoneValue[] = [];
  let nulls = 0;
  for (let i = from; i < to; i++) {
    if (validity !== null && validity[i] === 0) nulls++;
    else vals.push(data[i] as ZoneValue);
  }
  const z: Zone = { nulls, rows: to - from };
  if (vals.some((x) => typeof x === 'number' && Number.isNaN(x)) || vals.length === 0) return z;
  z.min = vals.reduce((a, b) => (b < a ? b : a));
  z.max = vals.reduce((a, b) => (b > a ? b : a));
  return z;
}

describe('computeZone', () => {
  it('equals the naive model (seeded)', () => {
    const rnd = seededRandom(77);
    for (let c = 0; c < 600; c++) {
      const n = 1 + Math.floor(rnd() * 40);
      const kind = Math.floor(rnd() * 4);
      const validity = rnd() < 0.4 ? Uint8Array.from({ length: n }, () => (rnd() < 0.3 ? 0 : 1)) : null;
      let data: ArrayLike<unknown>;
      let type: PhysicalType;
      if (kind === 0) { data = Int32Array.from({ length: n }, () => Math.floor(rnd() * 200) - 100); type = 'int32'; }
      else if (kind === 1) {
        data = Float64Array.from({ length: n }, () => { const r = rnd(); return r < 0.03 ? NaN : r < 0.06 ? -Infinity : r < 0.09 ? Infinity : r < 0.15 ? -0 : rnd() * 10 - 5; });
        type = 'float64';
      } else if (kind === 2) { data = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rnd() * 1e6) - 5e5) * 1000003n); type = 'int64'; }
      else { data = Array.from({ length: n }, () => `s${Math.floor(rnd() * 50)}`); type = 'utf8'; }
      const from = Math.floor(rnd() * n);
      const to = from + Math.floor(rnd() * (n - from + 1));
      const v = { data, validity } as unknown as ColumnVector;
      const z = computeZone(v, type, from, to);
      const m = model(data, validity, from, to);
      expect({ ...z, min: Object.is(z.min, -0) ? 0 : z.min, max: Object.is(z.max, -0) ? 0 : z.max })
        .toEqual({ ...m, min: Object.is(m.min, -0) ? 0 : m.min, max: Object.is(m.max, -0) ? 0 : m.max });
    }
  });
});
