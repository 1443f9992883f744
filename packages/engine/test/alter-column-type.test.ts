/**
 * ALTER COLUMN TYPE without a foreground rewrite: the ALTER validates every row and writes no
 * segment; old rows are converted on read; the background rewrite (driven here step by step with
 * `rewriteStep`) replaces old segments one at a time while other sessions read and write.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function segmentFiles(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.parquet')) out.set(p, statSync(p).mtimeMs);
    }
  };
  walk(dir);
  return out;
}

const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'quiver-retype-')); dirs.push(d); return d; };

describe('ALTER COLUMN TYPE', () => {
  it('commits without writing segments, converts on read, rewrites old segments in the background while the table is read and written', async () => {
    const dir = tmp();
    let db = await Database.open(dir, { backgroundRewrite: false, rowGroupSize: 4 });
    let c = db.connect();
    await c.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, w INTEGER)');
    await c.query('CREATE INDEX t_v ON t (v)');
    await c.query("INSERT INTO t VALUES (1, '10', 1), (2, '20', 2), (3, NULL, 3), (4, '40', 4), (5, '50', 5)");
    await c.query('CHECKPOINT');
    await c.query("INSERT INTO t VALUES (6, '60', 6), (7, '70', 7)");
    await c.query('CHECKPOINT');
    await c.query("INSERT INTO t VALUES (8, '80', 8)"); // stays in the delta
    const old = segmentFiles(dir);
    expect(old.size).toBe(2);

    // other ALTERs write no segment
    await c.query('ALTER TABLE t ADD COLUMN x INTEGER DEFAULT 9');
    await c.query('ALTER TABLE t RENAME COLUMN x TO y');
    await c.query('ALTER TABLE t DROP COLUMN y');
    await c.query('ALTER TABLE t ALTER COLUMN w SET DEFAULT 0');
    await c.query('ALTER TABLE t ALTER COLUMN w SET NOT NULL');
    expect(segmentFiles(dir)).toEqual(old);

    // failing conversions leave every row and every byte as it was
    await c.query("INSERT INTO t VALUES (9, 'nine', 9)");
    await expect(c.query('ALTER TABLE t ALTER COLUMN v TYPE INTEGER')).rejects.toMatchObject({ code: '22P02' });
    await c.query('DELETE FROM t WHERE id = 9');
    await expect(c.query('ALTER TABLE t ALTER COLUMN v TYPE SMALLINT USING v::integer * 1000')).rejects.toMatchObject({ code: '22003' });
    await c.query('ALTER TABLE t ALTER COLUMN v SET NOT NULL').catch(() => undefined);
    await expect(c.query('ALTER TABLE t ALTER COLUMN w TYPE BIGINT USING NULLIF(w, 3)')).rejects.toMatchObject({ code: '23502' });
    const before = [[1, '10', 1], [2, '20', 2], [3, null, 3], [4, '40', 4], [5, '50', 5], [6, '60', 6], [7, '70', 7], [8, '80', 8]];
    expect((await c.query('SELECT * FROM t ORDER BY id')).rows).toEqual(before);
    expect(segmentFiles(dir)).toEqual(old);

    // the type change: no segment written, answers converted at once
    await c.query('ALTER TABLE t ALTER COLUMN v TYPE INTEGER USING v::integer + w');
    expect(segmentFiles(dir)).toEqual(old);
    const model = new Map<number, [number, number | null, number]>(before.map((r) => {
      const id = r[0] as number;
      return [id, [id, r[1] === null ? null : Number(r[1]) + (r[2] as number), r[2] as number]];
    }));
    const expectModel = async (conn = c) => {
      expect((await conn.query('SELECT * FROM t ORDER BY id')).rows).toEqual([...model.values()].sort((a, b) => a[0] - b[0]));
      // the index on v was rebuilt with the converted values
      expect((await conn.query('SELECT id FROM t WHERE v = 44')).rows).toEqual(model.get(4) !== undefined && model.get(4)![1] === 44 ? [[4]] : []);
    };
    expect((await c.query('SELECT * FROM t WHERE id = 1')).columns.map((x) => x.type)).toEqual(['INTEGER', 'INTEGER', 'INTEGER']);
    await expectModel();
    expect((await c.query("SELECT pending_rewrites FROM quiver_tables WHERE table_name = 't'")).rows).toEqual([[2n]]);

    // step by step; a second session writes in between
    const other = db.connect();
    let steps = 0;
    let k = 100;
    do {
      await other.query(`INSERT INTO t VALUES (${k}, ${k * 2}, ${k})`);
      model.set(k, [k, k * 2, k]);
      await other.query(`UPDATE t SET v = v + 1 WHERE id = ${steps + 1}`);
      const row = model.get(steps + 1)!;
      if (row[1] !== null) row[1]++;
      await other.query(`DELETE FROM t WHERE id = ${k - 1}`);
      model.delete(k - 1);
      k++;
      await expectModel(other);
      steps++;
      expect(steps).toBeLessThan(10);
    } while (await db.rewriteStep());
    expect(steps).toBeGreaterThanOrEqual(2);
    // every segment from before the ALTER was rewritten (only for the type change)
    for (const f of old.keys()) expect(segmentFiles(dir).has(f)).toBe(false);
    expect((await c.query("SELECT pending_rewrites FROM quiver_tables WHERE table_name = 't'")).rows).toEqual([[0n]]);
    await expectModel();

    // checkpoint and reopen: same answers; a later non-type ALTER rewrites nothing
    await c.query('CHECKPOINT');
    await db.close();
    db = await Database.open(dir, { backgroundRewrite: false, rowGroupSize: 4 });
    c = db.connect();
    await expectModel();
    const now = segmentFiles(dir);
    await c.query('ALTER TABLE t RENAME COLUMN w TO ww');
    await c.query('CHECKPOINT');
    expect(segmentFiles(dir)).toEqual(now);
    expect(await db.rewriteStep()).toBe(false);
    await db.close();
  });

  it('a deleted version the ALTER could not see but an older snapshot can reads as NULL, and does not stop the rewrite', async () => {
    const db = await Database.open(':memory:', { backgroundRewrite: false, rowGroupSize: 4 });
    const c = db.connect();
    await c.query('CREATE TABLE d (id INTEGER, v TEXT)');
    await c.query("INSERT INTO d VALUES (1, '1'), (2, 'two'), (3, '3'), (4, '4'), (5, '5')");
    await c.query('CHECKPOINT');
    await c.query('CREATE TABLE z (x INTEGER)');
    const old = db.connect();
    await old.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    expect((await old.query('SELECT count(*) FROM z')).rows).toEqual([[0n]]); // its snapshot: before the DELETE
    await c.query('DELETE FROM d WHERE id = 2');
    await c.query('ALTER TABLE d ALTER COLUMN v TYPE INTEGER USING v::integer * 10');
    while (await db.rewriteStep()) { /* to the end */ }
    expect((await c.query('SELECT * FROM d ORDER BY id')).rows).toEqual([[1, 10], [3, 30], [4, 40], [5, 50]]);
    expect((await old.query('SELECT id, v FROM d WHERE id <= 2 ORDER BY id')).rows).toEqual([[1, 10], [2, null]]);
    await old.query('COMMIT');
    await db.close();
  });

  it('a unique index that the converted values break fails the ALTER (23505) and leaves the column as it was', async () => {
    const db = await Database.open(':memory:', { backgroundRewrite: false });
    const c = db.connect();
    await c.query('CREATE TABLE u (s TEXT UNIQUE)');
    await c.query("INSERT INTO u VALUES ('1'), ('01'), ('2')");
    await expect(c.query('ALTER TABLE u ALTER COLUMN s TYPE INTEGER')).rejects.toMatchObject({ code: '23505' });
    expect((await c.query('SELECT s FROM u ORDER BY s')).rows).toEqual([['01'], ['1'], ['2']]);
    expect(await db.rewriteStep()).toBe(false);
    await c.query("DELETE FROM u WHERE s = '01'");
    await c.query('ALTER TABLE u ALTER COLUMN s TYPE INTEGER');
    await expect(c.query('INSERT INTO u VALUES (2)')).rejects.toMatchObject({ code: '23505' });
    expect((await c.query('SELECT s FROM u ORDER BY s')).rows).toEqual([[1], [2]]);
    await db.close();
  });

  it('survives a reopen in the middle of the rewrite and finishes it in the background', async () => {
    const dir = tmp();
    let db = await Database.open(dir, { backgroundRewrite: false, rowGroupSize: 2 });
    let c = db.connect();
    await c.query('CREATE TABLE m (id INTEGER, amount TEXT, note TEXT)');
    for (let i = 0; i < 4; i++) {
      await c.query(`INSERT INTO m VALUES (${i * 2}, '${i}.5', 'n${i}'), (${i * 2 + 1}, '${i}.25', NULL)`);
      await c.query('CHECKPOINT');
    }
    await c.query("INSERT INTO m VALUES (100, '7', 'delta')");
    await c.query('ALTER TABLE m ALTER COLUMN amount TYPE NUMERIC(10,2) USING amount::numeric * 2');
    await c.query('ALTER TABLE m DROP COLUMN note');
    const want = (await c.query('SELECT id, amount FROM m ORDER BY id')).rows;
    expect(want[1]).toEqual([1, '0.50']);
    expect(await db.rewriteStep()).toBe(true);
    await db.close();
    db = await Database.open(dir, { rowGroupSize: 2 }); // background rewrite on
    c = db.connect();
    expect((await c.query('SELECT id, amount FROM m ORDER BY id')).rows).toEqual(want);
    for (let i = 0; i < 200 && db.store.hasPendingRewrite?.(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(db.store.hasPendingRewrite?.()).toBe(false);
    expect((await c.query('SELECT id, amount FROM m ORDER BY id')).rows).toEqual(want);
    await db.close();
  });
});
