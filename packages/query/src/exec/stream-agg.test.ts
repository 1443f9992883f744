/**
 * Streaming aggregation, selection-vector filters and GroupTable against naive models, over a
 * seeded random table of several scan batches (some with NULLs, some NULL-free typed).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { testDb } from '../../test/helpers.js';
import type { TestDb } from '../../test/helpers.js';
import { GroupTable, NumTable, PairTable } from './group-table.js';

interface Row { k1: number | null; k2: string | null; x: number | null; y: number; d: number }

const N = 20_000; // > 2 MemoryCatalog batches
let db: TestDb;
const rows: Row[] = [];

beforeAll(async () => {
  db = await testDb();
  const rnd = seededRandom(20261125);
  const flags = ['a', 'b', 'c', 'dd'];
  for (let i = 0; i < N; i++) {
    const early = i < 8192; // NULLs only in the first batch: later batches are NULL-free
    rows.push({
      k1: early && rnd() < 0.1 ? null : Math.floor(rnd() * 30) - 5,
      k2: early && rnd() < 0.1 ? null : flags[Math.floor(rnd() * flags.length)]!,
      x: early && rnd() < 0.1 ? null : Math.round(rnd() * 1e6) / 1e3,
      y: Math.floor(rnd() * 2_000_000_000) - 1_000_000_000,
      d: 9000 + Math.floor(rnd() * 400),
    });
  }
  await db.exec('CREATE TABLE t(k1 INTEGER, k2 TEXT, x DOUBLE PRECISION, y INTEGER, d DATE)');
  const lit = (v: number | string | null): string => (v === null ? 'NULL' : typeof v === 'string' ? `'${v}'` : String(v));
  for (let i = 0; i < N; i += 2000) {
    const vals = rows.slice(i, i + 2000).map((r) => `(${lit(r.k1)}, ${lit(r.k2)}, ${lit(r.x)}, ${r.y}, DATE '1970-01-01' + ${r.d})`);
    await db.exec(`INSERT INTO t VALUES ${vals.join(', ')}`);
  }
});

/** GROUP BY k1, k2 in order of first appearance, with the aggregates the query computes. */
function model(keep: (r: Row) => boolean): unknown[][] {
  const groups = new Map<string, { k1: number | null; k2: string | null; n: number; nx: number; sy: bigint; sx: number; mn: number | null; mx: number | null; md: number | null }>();
  for (const r of rows) {
    if (!keep(r)) continue;
    const key = `${r.k1}|${r.k2}`;
    let g = groups.get(key);
    if (!g) { g = { k1: r.k1, k2: r.k2, n: 0, nx: 0, sy: 0n, sx: 0, mn: null, mx: null, md: null }; groups.set(key, g); }
    g.n++;
    g.sy += BigInt(r.y);
    if (r.x !== null) {
      g.nx++; g.sx += r.x;
      g.mn = g.mn === null || r.x < g.mn ? r.x : g.mn;
      g.mx = g.mx === null || r.x > g.mx ? r.x : g.mx;
    }
    g.md = g.md === null || r.d > g.md ? r.d : g.md;
  }
  return [...groups.values()].map((g) => [g.k1, g.k2, BigInt(g.n), BigInt(g.nx), g.sy, g.nx ? g.sx : null, g.nx ? g.sx / g.nx : null, g.mn, g.mx, g.md]);
}

const Q = 'SELECT k1, k2, count(*), count(x), sum(y), sum(x), avg(x), min(x), max(x), max(d) - DATE \'1970-01-01\' FROM t';

describe('streaming hash aggregation', () => {
  it('matches the model without a filter', async () => {
    expect(await db.rows(`${Q} GROUP BY k1, k2`)).toEqual(model(() => true));
  });
  it('matches the model under selective and unselective filters (both fold paths)', async () => {
    expect(await db.rows(`${Q} WHERE y > 500000000 GROUP BY k1, k2`)).toEqual(model((r) => r.y > 500000000));
    expect(await db.rows(`${Q} WHERE y > -900000000 GROUP BY k1, k2`)).toEqual(model((r) => r.y > -900000000));
    expect(await db.rows(`${Q} WHERE x < 400 AND k2 IN ('a', 'dd') AND y <> 7 AND d >= DATE '1970-01-01' + 9100 GROUP BY k1, k2`))
      .toEqual(model((r) => r.x !== null && r.x < 400 && (r.k2 === 'a' || r.k2 === 'dd') && r.y !== 7 && r.d >= 9100));
    // ranges (one pass per column): inclusive / exclusive bounds, integer, date and double columns
    // (x has NULLs in the first batch: the two-compare fallback), and BETWEEN; the bounds are
    // values present in the table, so an off-by-one bound changes the answer
    const y0 = rows[9000]!.y, y1 = rows[12000]!.y, x0 = rows[15000]!.x!, x1 = rows[16000]!.x!;
    const [ylo, yhi] = y0 < y1 ? [y0, y1] : [y1, y0];
    const [xlo, xhi] = x0 < x1 ? [x0, x1] : [x1, x0];
    const day = (d: number): string => `DATE '${new Date(d * 86400000).toISOString().slice(0, 10)}'`;
    const d0 = rows[10000]!.d;
    for (const [lop, hop] of [['>=', '<'], ['>', '<='], ['>', '<'], ['>=', '<=']] as const) {
      const cmp = (v: number, op: string, b: number): boolean => (op === '>=' ? v >= b : op === '>' ? v > b : op === '<' ? v < b : v <= b);
      expect(await db.rows(`${Q} WHERE y ${lop} ${ylo} AND y ${hop} ${yhi} AND x ${lop} ${xlo} AND ${xhi} ${hop === '<' ? '>' : '>='} x GROUP BY k1, k2`))
        .toEqual(model((r) => cmp(r.y, lop, ylo) && cmp(r.y, hop, yhi) && r.x !== null && cmp(r.x, lop, xlo) && cmp(r.x, hop, xhi)));
      expect(await db.rows(`${Q} WHERE d ${lop} ${day(d0)} AND d ${hop} ${day(d0 + 1)} GROUP BY k1, k2`))
        .toEqual(model((r) => cmp(r.d, lop, d0) && cmp(r.d, hop, d0 + 1)));
    }
    expect(await db.rows(`${Q} WHERE d BETWEEN ${day(d0)} AND ${day(d0 + 2)} GROUP BY k1, k2`)).toEqual(model((r) => r.d >= d0 && r.d <= d0 + 2));
    expect(await db.rows(`${Q} WHERE k2 NOT IN ('b') AND k1 <> 3 GROUP BY k1, k2`))
      .toEqual(model((r) => r.k2 !== null && r.k2 !== 'b' && r.k1 !== null && r.k1 !== 3));
  });
  it('one-sided compares at the int32 edges and IN lists of strings sharing a slot', async () => {
    const y0 = rows[7000]!.y, x0 = rows[7001]!.x!, d0 = rows[7002]!.d;
    const day = `DATE '${new Date(d0 * 86400000).toISOString().slice(0, 10)}'`;
    const cases: [string, (r: Row) => boolean][] = [
      [`y < ${y0}`, (r) => r.y < y0], [`y <= ${y0}`, (r) => r.y <= y0], [`y > ${y0}`, (r) => r.y > y0], [`${y0} <= y`, (r) => r.y >= y0],
      ['y < -2147483648', () => false], ['y >= -2147483648', () => true], ['y <= 2147483647', () => true], ['y > 2147483647', () => false],
      [`x > ${x0}`, (r) => r.x !== null && r.x > x0], [`x <= ${x0}`, (r) => r.x !== null && r.x <= x0],
      [`d < ${day}`, (r) => r.d < d0], [`d >= ${day}`, (r) => r.d >= d0],
      // 'dd' / 'dxd' and 'a' / 'aza'... share length and end characters only in part: same slot for 'dxd' / 'ddd'
      ["k2 IN ('dxd', 'ddd', 'dd', 'b')", (r) => r.k2 === 'dd' || r.k2 === 'b'],
      ["k2 IN ('cc', 'dd', 'a') AND y > 0", (r) => (r.k2 === 'dd' || r.k2 === 'a') && r.y > 0],
      ["k2 NOT IN ('dxd', 'ddd', 'a')", (r) => r.k2 !== null && r.k2 !== 'a'],
      ["k2 IN ('zz', 'q')", () => false],
    ];
    for (const [where, keep] of cases) expect(await db.rows(`${Q} WHERE ${where} GROUP BY k1, k2`), where).toEqual(model(keep));
  });
  it('sum and avg of the same argument, and an aggregate without groups', async () => {
    const keep = (r: Row): boolean => r.x !== null && r.x > 100;
    const m = model(keep);
    let sx = 0, n = 0;
    for (const r of rows) if (keep(r)) { sx += r.x!; n++; }
    expect(await db.rows('SELECT sum(x), avg(x), count(*) FROM t WHERE x > 100')).toEqual([[sx, sx / n, BigInt(n)]]);
    expect(m.length).toBeGreaterThan(10);
    expect(await db.rows('SELECT count(*), sum(x), min(y) FROM t WHERE y > 2000000000')).toEqual([[0n, null, null]]);
    expect(await db.rows('SELECT k1, count(*) FROM t WHERE y > 2000000000 GROUP BY k1')).toEqual([]);
  });
  it('an error on a row the filter drops is not raised; one on a kept row is', async () => {
    await db.exec('CREATE TABLE z(a INTEGER, b INTEGER)');
    const vals: string[] = [];
    for (let i = 0; i < 9000; i++) vals.push(`(${i}, ${i % 10 === 0 ? 0 : i % 7})`);
    await db.exec(`INSERT INTO z VALUES ${vals.join(', ')}`);
    let want = 0n;
    for (let i = 0; i < 9000; i++) { const b = i % 10 === 0 ? 0 : i % 7; if (b !== 0) want += BigInt(Math.trunc(1000 / b)); }
    expect(await db.rows('SELECT sum(1000 / b) FROM z WHERE b <> 0')).toEqual([[want]]);
    expect(await db.code('SELECT sum(1000 / b) FROM z WHERE a >= 0')).toBe('22012');
    // DOUBLE arithmetic (scratch kernels): overflow on a dropped row is not raised, on a kept row it is
    await db.exec('CREATE TABLE zd(a INTEGER, x DOUBLE PRECISION)');
    const dv: string[] = [];
    for (let i = 0; i < 9000; i++) dv.push(`(${i}, ${i % 100 === 7 ? '1e300' : (i % 13) / 4})`);
    await db.exec(`INSERT INTO zd VALUES ${dv.join(', ')}`);
    let s1 = 0, s2 = 0;
    for (let i = 0; i < 9000; i++) { if (i % 100 === 7) continue; const x = (i % 13) / 4; s1 += x * 1e300 * 10; s2 += (2 - x) * (x + 1); }
    expect(await db.rows('SELECT sum(x * 1e300 * 10), sum((2 - x) * (x + 1)) FROM zd WHERE x < 100')).toEqual([[s1, s2]]);
    expect(await db.code('SELECT sum(x * 1e300 * 10) FROM zd WHERE a >= 0')).toBe('22003');
  });
  it('DISTINCT and other aggregates use the generic accumulators across batches', async () => {
    const seen = new Map<string, Set<number>>();
    for (const r of rows) { const k = String(r.k2); if (!seen.has(k)) seen.set(k, new Set()); if (r.k1 !== null) seen.get(k)!.add(r.k1); }
    const want = [...seen.entries()].map(([k, s]) => [k === 'null' ? null : k, BigInt(s.size)]);
    expect(await db.rows('SELECT k2, count(DISTINCT k1) FROM t GROUP BY k2')).toEqual(want);
  });
});

describe('GroupTable', () => {
  it('assigns ids in order of first appearance across batches, with selections', () => {
    const rnd = seededRandom(77);
    for (let round = 0; round < 20; round++) {
      const width = 1 + (round % 3);
      const gt = new GroupTable(width);
      const model = new Map<string, number>();
      for (let b = 0; b < 5; b++) {
        const n = 1 + Math.floor(rnd() * 3000);
        const card = round % 2 === 0 ? 3 : 500;
        const cols = Array.from({ length: width }, (_x, c) => {
          if (c === 1) return Array.from({ length: n }, () => (rnd() < 0.1 ? null : 's' + Math.floor(rnd() * card)));
          // numbers incl. NaN (one group) and -0 (the group of 0)
          const num = (): number => { const r = rnd(); return r < 0.02 ? NaN : r < 0.04 ? -0 : r < 0.06 ? 0 : Math.floor(rnd() * card) * 0.5; };
          if (c === 2 || rnd() < 0.5) return Float64Array.from({ length: n }, num) as unknown as unknown[];
          return Array.from({ length: n }, () => (rnd() < 0.1 ? null : num()));
        });
        const useSel = rnd() < 0.5;
        const sel = new Int32Array(n);
        let m = 0;
        for (let i = 0; i < n; i++) if (!useSel || rnd() < 0.6) sel[m++] = i;
        const out = new Int32Array(n);
        gt.assign(cols, n, out, useSel ? sel : null, m);
        const picked = new Set(Array.from(sel.subarray(0, m)));
        const want = new Int32Array(n);
        const keysOk: boolean[] = [];
        for (let i = 0; i < n; i++) {
          if (!picked.has(i)) continue;
          const key = cols.map((c) => String(c[i])).join('|');
          if (!model.has(key)) model.set(key, model.size);
          want[i] = model.get(key)! + 1;
          keysOk.push(cols.every((c, j) => String(gt.keys[j]![want[i]! - 1]) === String(c[i])));
        }
        expect(out).toEqual(want);
        expect(keysOk.every((k) => k)).toBe(true);
        gt.checkInvariants();
      }
      expect(gt.count).toBe(model.size);
    }
  });
  it('dependent key columns (prefix cache) and typed key columns, with a reserved size', () => {
    const rnd = seededRandom(5);
    const gt = new GroupTable(3, 50);
    const model = new Map<string, number>();
    const firsts: unknown[][] = [];
    for (let b = 0; b < 6; b++) {
      const n = 1 + Math.floor(rnd() * 2000);
      const k0 = Int32Array.from({ length: n }, () => Math.floor(rnd() * 300));
      // column 1 mostly follows column 0 (as c_name follows c_custkey), sometimes not, with NULLs
      const c1 = Array.from(k0, (k) => (rnd() < 0.05 ? null : rnd() < 0.1 ? 'x' + Math.floor(rnd() * 3) : 'name' + k));
      // column 2: typed in the first batches, a JS array (with NULL and -0) from batch 4 on
      const f = (): number => (rnd() < 0.05 ? -0 : Math.floor(rnd() * 2) / 2);
      const c2 = b < 4 ? Float64Array.from({ length: n }, f) as unknown as unknown[] : Array.from({ length: n }, () => (rnd() < 0.1 ? null : f()));
      const cols = [k0 as unknown as unknown[], c1, c2];
      const out = new Int32Array(n);
      gt.assign(cols, n, out);
      for (let i = 0; i < n; i++) {
        const key = cols.map((c) => (Object.is(c[i], -0) ? '0' : String(c[i]))).join('|');
        if (!model.has(key)) { model.set(key, model.size); firsts.push(cols.map((c) => c[i])); }
        if (out[i] !== model.get(key)! + 1) expect.unreachable(`batch ${b} row ${i}: ${key}`);
      }
      gt.checkInvariants();
      expect(gt.keyColumn(0)).toBeInstanceOf(Int32Array);
      expect(gt.keyColumn(2) instanceof Float64Array).toBe(b < 4);
    }
    expect(gt.count).toBe(model.size);
    for (let c = 0; c < 3; c++) expect(Array.from(gt.keyColumn(c))).toEqual(firsts.map((r) => r[c]));
  });
  it('int32 keys: direct table through growth on both sides, then a wide key, a double and NaN move it to the NumTable', () => {
    const rnd = seededRandom(123);
    for (let round = 0; round < 6; round++) {
      const gt = new GroupTable(round % 3 === 2 ? 2 : 1, round * 1000);
      const model = new Map<string, number>();
      let next = 1000;
      for (let b = 0; b < 12; b++) {
        const n = 1 + Math.floor(rnd() * 4000);
        // sorted runs moving up, some keys below the first ones, later a key far away / untyped values
        const far = round < 4 && b === 8 + (round % 4);
        const k0: unknown[] = b >= 10 && round % 2 === 1
          ? Array.from({ length: n }, () => { const r = rnd(); return r < 0.05 ? NaN : r < 0.1 ? 0.5 : r < 0.15 ? -0 : r < 0.2 ? null : Math.floor(rnd() * 5000) - 100; })
          : Int32Array.from({ length: n }, (_x, i) => (far && i === n >> 1 ? 2_000_000_000 : rnd() < 0.1 ? -Math.floor(rnd() * 300) : next + Math.floor(i / 4))) as unknown as unknown[];
        next += n >> 2;
        const cols = round % 3 === 2 ? [k0, Array.from({ length: n }, () => 's' + Math.floor(rnd() * 3))] : [k0];
        const useSel = rnd() < 0.4;
        const sel = new Int32Array(n);
        let m = 0;
        for (let i = 0; i < n; i++) if (!useSel || rnd() < 0.7) sel[m++] = i;
        const out = new Int32Array(n);
        gt.assign(cols, n, out, useSel ? sel : null, m);
        for (let p = 0; p < m; p++) {
          const i = sel[p]!;
          const key = cols.map((c) => (Object.is(c[i], -0) ? '0' : String(c[i]))).join('|');
          if (!model.has(key)) model.set(key, model.size);
          if (out[i] !== model.get(key)! + 1) expect.unreachable(`round ${round} batch ${b} row ${i}: ${key}`);
        }
        gt.checkInvariants();
      }
      expect(gt.count).toBe(model.size);
    }
  });
  it('NumTable: runs, strides, negatives, doubles, -0 and NaN through growth', () => {
    const rnd = seededRandom(31);
    const t = new NumTable();
    const model = new Map<number, number>(); // a Map meets keys as SQL grouping does (-0 = 0, NaN = NaN)
    const keys: number[] = [];
    for (let i = 0; i < 60_000; i++) keys.push(i); // a run
    for (let i = 0; i < 20_000; i++) keys.push(i * 1024, -i * 16, 2 ** 40 + i * 4096); // strides, negatives, beyond int32
    for (let i = 0; i < 20_000; i++) keys.push(rnd() * 1e6, Math.floor(rnd() * 1e5) / 4);
    keys.push(-0, 0, NaN, NaN, Infinity, -Infinity, 0.1 + 0.2);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(i * 7919) % keys.length]!;
      // a new key takes the next id; a known key must come back with its own (never `fresh`)
      const fresh = model.size;
      if (!model.has(k)) model.set(k, fresh);
      if (t.lookup(k, fresh) !== model.get(k)) expect.unreachable(`key ${k}`);
    }
    t.checkInvariants();
    expect(t.size).toBe(model.size);
  });
  it('PairTable gives dense ids to distinct pairs through growth and its direct cache', () => {
    const rnd = seededRandom(9);
    const p = new PairTable();
    const model = new Map<string, number>();
    for (let i = 0; i < 50_000; i++) {
      const x = rnd() < 0.7 ? Math.floor(rnd() * 1100) : Math.floor(rnd() * 1e6);
      const y = Math.floor(rnd() * (rnd() < 0.5 ? 70 : 5000));
      const k = `${x},${y}`;
      if (!model.has(k)) model.set(k, model.size);
      if (p.get(x, y) !== model.get(k)) expect.unreachable(`pair ${k}`);
    }
    p.checkInvariants();
    expect(p.size).toBe(model.size);
  });
});
