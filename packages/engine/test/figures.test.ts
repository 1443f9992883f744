import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../src/index.js';

describe('per-table and per-index figures', () => {
  it('quiver_tables and quiver_indexes describe storage, statistics and indexes', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    await c.query("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    await c.query('DELETE FROM t WHERE id = 3');
    await c.query('ANALYZE t');
    const r = await c.query("SELECT rows, analyzed_rows, last_analyze IS NOT NULL FROM quiver_tables WHERE table_name = 't'");
    expect(r.rows).toEqual([[2n, 2n, true]]);
    const ix = await c.query("SELECT index_name, method, is_primary, columns, entries, height IS NOT NULL FROM quiver_indexes WHERE table_name = 't'");
    expect(ix.rows).toEqual([['t_pkey', 'btree', true, 'id', 3n, true]]);
    await db.close();
  });

  it('last_compaction: set by OPTIMIZE, kept across checkpoint and reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-figures-'));
    try {
      let db = await Database.open(dir);
      let c = db.connect();
      await c.query('CREATE TABLE t (id INTEGER, v TEXT)');
      await c.query('CREATE TABLE u (id INTEGER)');
      for (let i = 0; i < 3; i++) {
        await c.query(`INSERT INTO t VALUES (${i}, 'x'), (${i + 10}, 'y')`);
        await c.query('CHECKPOINT');
      }
      const q = "SELECT table_name, last_compaction IS NOT NULL, segments FROM quiver_tables WHERE table_name IN ('t', 'u') ORDER BY table_name";
      expect((await c.query(q)).rows).toEqual([['t', false, 3n], ['u', false, 0n]]);
      const t0 = Date.now();
      await c.query('OPTIMIZE t');
      expect((await c.query(q)).rows).toEqual([['t', true, 1n], ['u', false, 0n]]);
      const at = Date.parse((await c.query("SELECT last_compaction FROM quiver_tables WHERE table_name = 't'")).rows[0]![0] as string);
      expect(at).toBeGreaterThanOrEqual(t0 - 1000);
      expect((await c.query("SELECT last_vacuum IS NOT NULL, vacuum_count FROM pg_stat_user_tables WHERE relname = 't'")).rows).toEqual([[true, 1n]]);
      await c.query('INSERT INTO u VALUES (1)');
      await c.query('CHECKPOINT');
      await db.close();
      db = await Database.open(dir);
      c = db.connect();
      expect((await c.query(q)).rows).toEqual([['t', true, 1n], ['u', false, 1n]]);
      expect(Date.parse((await c.query("SELECT last_compaction FROM quiver_tables WHERE table_name = 't'")).rows[0]![0] as string)).toBe(at);
      // zone maps: a selective predicate skips the row group that cannot match
      const groups = async () => (await c.query("SELECT row_groups_scanned, row_groups_skipped FROM quiver_tables WHERE table_name = 't'")).rows[0] as bigint[];
      const [scanned0, skipped0] = await groups();
      expect((await c.query('SELECT v FROM t WHERE id = 999')).rows).toEqual([]);
      const [scanned1, skipped1] = await groups();
      expect([scanned1! - scanned0!, skipped1! - skipped0!]).toEqual([1n, 1n]);
      expect((await c.query('SELECT v FROM t WHERE id = 1')).rows).toEqual([['x']]);
      const [scanned2, skipped2] = await groups();
      expect([scanned2! - scanned1!, skipped2! - skipped1!]).toEqual([1n, 0n]);
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pg_stat_wal counts the records, writes and fsyncs of commits (file-backed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-figures-'));
    try {
      const db = await Database.open(dir);
      const c = db.connect();
      await c.query('CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT)');
      const q = 'SELECT wal_records, wal_bytes, wal_write, wal_sync, wal_write_time, wal_sync_time, wal_fpi, wal_buffers_full, stats_reset FROM pg_stat_wal';
      const before = (await c.query(q)).rows;
      expect(before.length).toBe(1);
      const [r0, b0, w0, s0, wt0, st0] = before[0] as [bigint, bigint, bigint, bigint, number, number];
      for (let i = 0; i < 10; i++) await c.query('INSERT INTO w VALUES ($1, $2)', [i, 'x']);
      const after = (await c.query(q)).rows[0] as [bigint, bigint, bigint, bigint, number, number, bigint, bigint, unknown];
      const [r1, b1, w1, s1, wt1, st1, fpi, full, reset] = after;
      // a lone single-row commit: its insert record and its COMMIT, one write, one fsync (give or
      // take a background commit of an automatic ANALYZE, and the fsync of a segment switch to
      // the preallocated spare)
      const within = (d: bigint, lo: bigint, hi: bigint): void => { expect(d >= lo && d <= hi, `${d} in [${lo}, ${hi}]`).toBe(true); };
      within(r1 - r0, 20n, 26n);
      expect(b1 - b0).toBeGreaterThan(20n * 9n); // each record at least its header
      within(w1 - w0, 10n, 12n);
      within(s1 - s0, 10n, 13n);
      expect(wt1).toBeGreaterThanOrEqual(wt0);
      expect(st1).toBeGreaterThan(st0);
      expect([fpi, full]).toEqual([0n, 0n]);
      expect(reset).not.toBeNull();
      // a read-only statement writes nothing
      await c.query('SELECT count(*) FROM w');
      expect(((await c.query(q)).rows[0] as bigint[])[0]).toBe(r1);
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
