/**
 * Index structures side by side (issue 6): the B+ tree and the Bε-tree (`CREATE INDEX ... USING
 * fractal`) of QuiverDB on the same random BIGINT keys, each in its own file-backed database:
 *
 *   pages written   index pages the checkpoints wrote (tree nodes, meta and directory pages of the
 *                   index file: the engine's `index_pages_written` metric) per 1,000,000 random
 *                   inserts, with a CHECKPOINT every K rows (each checkpoint writes, copy-on-write,
 *                   every node dirtied since the previous one)
 *   load            the same inserts through SQL (multi-row INSERT of 1,000 rows, CHECKPOINTs included)
 *   point lookup    `SELECT v FROM ixt WHERE k = $1` through the index, one query per call (checked)
 *
 * QuiverDB only: the other engines get `n/a` rows (no choice of index structure). Quick mode:
 * 20,000 inserts (at most 2 x the kv rows), a CHECKPOINT every 1/20 of them; the figure is still
 * scaled to 1,000,000 inserts, but a small tree is rewritten almost whole at every checkpoint, so
 * the quick ratio is lower than the full one.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadQuiver } from '../engines/quiverdb.js';
import type { BenchContext } from '../harness/context.js';
import { classifyFailure, now, toMeasurement } from '../harness/measure.js';
import { Rng } from '../rng.js';

const GROUP = 'indexes';
const STATEMENT_ROWS = 1000;

interface MetricsDatabase {
  metrics?(): Record<string, number>;
}

const TREES = [
  { method: 'btree', label: 'B+ tree' },
  { method: 'fractal', label: 'Bε-tree' },
] as const;

export async function runIndexes(ctx: BenchContext): Promise<void> {
  const quick = ctx.opts.quick;
  const n = quick ? Math.min(20_000, Math.max(1_000, 2 * ctx.opts.kvRows)) : 1_000_000;
  const every = quick ? Math.max(100, n / 20) : 10_000;
  const lookups = ctx.opts.pointLookups;
  const rng = new Rng(ctx.opts.seed ^ 0x1d3);
  // random distinct keys below 2^53 (the high bits random, the low bits the insert number)
  const keys = Array.from({ length: n }, (_, i) => rng.int(0, 2 ** 31 - 1) * 4_194_304 + (i % 4_194_304));
  const perMillion = (x: number): number => (x * 1_000_000) / n;
  const pages = new Map<string, number>();
  for (const t of TREES) {
    const base = { group: GROUP, engine: 'quiverdb' as const };
    const pageWl = `${t.label}: index pages written per 1,000,000 random inserts (CHECKPOINT every ${every.toLocaleString('en-US')} rows${quick ? `, from ${n.toLocaleString('en-US')}` : ''})`;
    const loadWl = `${t.label}: ${n.toLocaleString('en-US')} random inserts with CHECKPOINTs`;
    const lookupWl = `${t.label}: point lookup through the index`;
    try {
      ctx.log(`indexes: ${t.label}: ${n} inserts, CHECKPOINT every ${every}`);
      const { Database } = await loadQuiver();
      const dir = join(ctx.opts.tmpDir, `indexes-${t.method}`);
      mkdirSync(dir, { recursive: true });
      const db = await Database.open(dir);
      const conn = await db.connect();
      try {
        await conn.query('CREATE TABLE ixt (k BIGINT, v INTEGER)');
        await conn.query(`CREATE INDEX ixt_k ON ixt USING ${t.method} (k)`);
        const metrics = (): Record<string, number> => (db as MetricsDatabase).metrics?.() ?? {};
        const written0 = metrics().index_pages_written ?? 0;
        const insertSql = (rows: number): string => `INSERT INTO ixt VALUES ${Array.from({ length: rows }, (_, j) => `($${2 * j + 1}, $${2 * j + 2})`).join(', ')}`;
        const insert = insertSql(STATEMENT_ROWS);
        const t0 = now();
        for (let o = 0; o < n; o += STATEMENT_ROWS) {
          const rows = Math.min(STATEMENT_ROWS, n - o);
          const params: unknown[] = [];
          for (let j = 0; j < rows; j++) params.push(keys[o + j]!, o + j);
          await conn.query(rows === STATEMENT_ROWS ? insert : insertSql(rows), params);
          if ((o + rows) % every === 0) await conn.query('CHECKPOINT');
        }
        await conn.query('CHECKPOINT');
        const loadMs = now() - t0;
        const written = metrics().index_pages_written;
        if (written === undefined) throw new Error('quiverdb: no index_pages_written metric (index persistence missing)');
        const w = perMillion(written - written0);
        pages.set(t.method, w);
        const bt = pages.get('btree');
        ctx.add(toMeasurement({ ...base, workload: pageWl }, { samples: [w] }, {
          unit: 'pages',
          ...(t.method === 'fractal' && bt !== undefined ? { note: `B+ tree ÷ Bε-tree pages written: ${(bt / w).toFixed(1)}x (target >= 5x)` } : {}),
        }));
        ctx.add(toMeasurement({ ...base, workload: loadWl }, { samples: [loadMs] }, { ops: n, throughputUnit: 'rows/s' }));
        // lookups: warm-up, then timed runs, every answer checked
        const probe = new Rng(ctx.opts.seed ^ 0x77);
        const lookupRun = async (): Promise<number> => {
          const s = now();
          for (let i = 0; i < lookups; i++) {
            const at = probe.int(0, n - 1);
            const r = await conn.query('SELECT v FROM ixt WHERE k = $1', [keys[at]!]);
            if (r.rows.length !== 1 || Number(r.rows[0]![0]) !== at) throw new Error(`lookup of key #${at} returned ${JSON.stringify(r.rows)}`);
          }
          return ((now() - s) * 1000) / lookups;
        };
        for (let i = 0; i < ctx.opts.warmup; i++) await lookupRun();
        const samples: number[] = [];
        for (let i = 0; i < ctx.opts.runs; i++) samples.push(await lookupRun());
        ctx.add(toMeasurement({ ...base, workload: lookupWl }, { samples }, { unit: 'us/op' }));
      } finally {
        await conn.close();
        await db.close();
      }
    } catch (err) {
      const failure = classifyFailure('quiverdb', err);
      for (const workload of [pageWl, loadWl, lookupWl]) ctx.add(toMeasurement({ ...base, workload }, { samples: [], failure }));
    }
    for (const engine of ctx.opts.engines) {
      if (engine === 'quiverdb') continue;
      const failure = { status: 'n/a' as const, message: `${engine} has no choice of index structure` };
      for (const workload of [pageWl, loadWl, lookupWl]) ctx.add(toMeasurement({ group: GROUP, workload, engine }, { samples: [], failure }));
    }
  }
}
