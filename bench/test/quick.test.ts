/**
 * Smoke test of the harness (no timing assertions): the TPC-H generator is deterministic and
 * sound, DuckDB and SQLite agree on every TPC-H answer at a tiny scale, and a quick run of the
 * whole harness produces a report with a row per (workload, engine) and the three outputs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checksumTable, checkTableData, compareAnswers, createAdapter, defaultOptions, generateKv, generateTpch, orderKey,
  runBench, supplierOfPart, TPCH_QUERIES, tpchRowCounts, type EngineAdapter,
} from '../src/index.js';
import { querySqlFor } from '../src/tpch/queries.js';

const SF = 0.002;

describe('TPC-H generator', () => {
  it('is deterministic: same seed, same checksums; another seed, other checksums', () => {
    const a = generateTpch(SF, 7);
    const b = generateTpch(SF, 7);
    const c = generateTpch(SF, 8);
    for (const name of Object.keys(a) as (keyof typeof a)[]) {
      checkTableData(a[name]);
      expect(checksumTable(a[name])).toBe(checksumTable(b[name]));
    }
    expect(checksumTable(a.lineitem)).not.toBe(checksumTable(c.lineitem));
    expect(checksumTable(a.customer)).not.toBe(checksumTable(c.customer));
    // region and nation are fixed lists, but their comments come from the seed
    expect(checksumTable(a.nation)).not.toBe(checksumTable(c.nation));
  });

  it('has spec row counts and keeps foreign keys inside their parents', () => {
    const d = generateTpch(0.01, 1);
    const n = tpchRowCounts(0.01);
    expect(d.supplier.rowCount).toBe(n.supplier);
    expect(d.part.rowCount).toBe(n.part);
    expect(d.partsupp.rowCount).toBe(4 * n.part);
    expect(d.customer.rowCount).toBe(n.customer);
    expect(d.orders.rowCount).toBe(n.orders);
    expect(d.lineitem.rowCount).toBeGreaterThan(3 * n.orders);
    expect(d.lineitem.rowCount).toBeLessThan(5 * n.orders);
    const orderKeys = new Set(d.orders.columns[0] as Int32Array);
    for (const k of d.lineitem.columns[0] as Int32Array) expect(orderKeys.has(k)).toBe(true);
    for (const k of d.orders.columns[1] as Int32Array) {
      expect(k % 3).not.toBe(0);
      expect(k).toBeLessThanOrEqual(n.customer);
    }
    expect(orderKey(0)).toBe(1);
    expect(orderKey(8)).toBe(33);
    // every (l_partkey, l_suppkey) pair is one of the part's four partsupp rows
    const ps = new Set<string>();
    const psPart = d.partsupp.columns[0] as Int32Array, psSupp = d.partsupp.columns[1] as Int32Array;
    for (let i = 0; i < psPart.length; i++) ps.add(`${psPart[i]}:${psSupp[i]}`);
    expect(ps.size).toBe(psPart.length);
    const lPart = d.lineitem.columns[1] as Int32Array, lSupp = d.lineitem.columns[2] as Int32Array;
    for (let i = 0; i < lPart.length; i += 97) expect(ps.has(`${lPart[i]}:${lSupp[i]}`)).toBe(true);
    expect(supplierOfPart(1, 0, 100)).toBeGreaterThanOrEqual(1);
  });

  it('kv rows are deterministic and keyed 1..n', () => {
    const a = generateKv(1000, 3), b = generateKv(1000, 3);
    expect(checksumTable(a)).toBe(checksumTable(b));
    expect(Array.from((a.columns[0] as Int32Array).slice(0, 3))).toEqual([1, 2, 3]);
  }, 180_000);
});

describe('DuckDB and SQLite agree on TPC-H answers', () => {
  const opened: EngineAdapter[] = [];
  afterAll(async () => {
    for (const a of opened) await a.close();
  });

  it('every query, same rows after rounding', async () => {
    const data = generateTpch(SF, 11);
    const duck = createAdapter('duckdb');
    const lite = createAdapter('sqlite');
    opened.push(duck, lite);
    for (const a of [duck, lite]) {
      await a.open({ kind: 'memory' });
      for (const t of Object.values(data)) await a.load(t);
    }
    let nonEmpty = 0;
    for (const q of TPCH_QUERIES) {
      const d = await duck.query(querySqlFor(q, 'duckdb'));
      const s = await lite.query(querySqlFor(q, 'sqlite'));
      expect(compareAnswers(d, s), q.id).toBeUndefined();
      if (d.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThanOrEqual(7);
    // the comparison is not vacuous: a changed value is a mismatch
    const q1 = await duck.query(TPCH_QUERIES[0]!.sql);
    const tampered = q1.map((r, i) => (i === 0 ? r.map((v, j) => (j === 2 ? Number(v) + 1 : v)) : r));
    expect(compareAnswers(q1, tampered)).toBeDefined();
  }, 180_000);
});

describe('harness, quick mode at a tiny scale', () => {
  const out = mkdtempSync(join(os.tmpdir(), 'quiver-bench-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  // PGlite starts slowly (initdb in WASM, twice): it joins in the long mode (QUIVER_LONG=1).
  const long = process.env['QUIVER_LONG'] === '1';
  it('reports every workload for every engine and writes json, md and svg', async () => {
    const opts = defaultOptions(true, {
      sf: SF, runs: 1, warmup: 0, kvRows: 2_000, pointLookups: 20, rangeScans: 5, durableInserts: 5, bulkRows: 500,
      updates: 50, txnsPerRun: 8, connections: [1, 4], budgetMs: 5_000,
      engines: long ? ['quiverdb', 'duckdb', 'sqlite', 'pglite', 'alasql'] : ['quiverdb', 'duckdb', 'sqlite', 'alasql'],
    });
    const report = await runBench(opts, { outDir: out });
    const engines = opts.engines;
    const workloads = [...new Set(report.measurements.map((m) => `${m.group}/${m.workload}`))];
    expect(workloads.filter((w) => w.startsWith('tpch/'))).toHaveLength(TPCH_QUERIES.length);
    for (const w of workloads) {
      const rows = report.measurements.filter((m) => `${m.group}/${m.workload}` === w);
      expect(rows.map((m) => m.engine).sort(), w).toEqual([...engines].sort());
    }
    // the peers that support everything run everything without error
    for (const m of report.measurements.filter((x) => x.engine === 'duckdb' || x.engine === 'sqlite')) {
      expect(m.status, `${m.engine} ${m.workload}: ${m.error?.message ?? ''}`).toBe('ok');
    }
    for (const m of report.measurements) {
      if (m.status === 'ok') expect(m.samples.length).toBeGreaterThan(0);
      else expect(m.error?.message, `${m.engine} ${m.workload}`).toBeTruthy();
    }
    // PGlite has one connection; AlaSQL keeps no files
    if (long) expect(report.measurements.find((m) => m.engine === 'pglite' && m.workload.includes('4 connections'))?.status).toBe('n/a');
    expect(report.measurements.find((m) => m.engine === 'alasql' && m.workload.startsWith('durable'))?.status).toBe('n/a');
    const json = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { measurements: unknown[] };
    expect(json.measurements.length).toBe(report.measurements.length);
    expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('| Q1 |');
    expect(readFileSync(join(out, 'tpch.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  }, 180_000);
});
