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

describe('ALTER TABLE', () => {
  it('adds, renames and drops columns without rewriting old segments, across checkpoints and reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-alter-'));
    dirs.push(dir);
    let db = await Database.open(dir);
    let c = db.connect();
    await c.query('CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)');
    await c.query("INSERT INTO t VALUES (1, 'x'), (2, 'y')");
    await c.query('CHECKPOINT');
    const before = segmentFiles(dir);
    expect(before.size).toBeGreaterThan(0);
    await c.query("ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 7");
    await c.query("ALTER TABLE t RENAME COLUMN a TO name");
    await c.query("INSERT INTO t (id, name) VALUES (3, 'z')");
    expect((await c.query('SELECT id, name, b FROM t ORDER BY id')).rows).toEqual([[1, 'x', 7], [2, 'y', 7], [3, 'z', 7]]);
    await c.query('CHECKPOINT');
    await db.close();

    db = await Database.open(dir);
    c = db.connect();
    expect((await c.query('SELECT id, name, b FROM t ORDER BY id')).rows).toEqual([[1, 'x', 7], [2, 'y', 7], [3, 'z', 7]]);
    for (const [f, m] of before) if (segmentFiles(dir).has(f)) expect(segmentFiles(dir).get(f)).toBe(m);
    await c.query('ALTER TABLE t DROP COLUMN name');
    expect((await c.query('SELECT * FROM t ORDER BY id')).rows).toEqual([[1, 7], [2, 7], [3, 7]]);
    await c.query("ALTER TABLE t ALTER COLUMN b TYPE TEXT USING (b * 2)::text || '!'");
    expect((await c.query('SELECT * FROM t ORDER BY id')).rows).toEqual([[1, '14!'], [2, '14!'], [3, '14!']]);
    expect((await c.query('SELECT * FROM t ORDER BY id')).columns).toEqual([{ name: 'id', type: 'INTEGER' }, { name: 'b', type: 'TEXT' }]);
    await db.close();
    db = await Database.open(dir);
    c = db.connect();
    expect((await c.query('SELECT * FROM t ORDER BY id')).rows).toEqual([[1, '14!'], [2, '14!'], [3, '14!']]);
    await db.close();
  });

  it('checks constraints against existing rows and leaves the table unchanged on failure', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE t (id INTEGER, v INTEGER)');
    await c.query('INSERT INTO t VALUES (1, NULL), (1, 5)');
    await expect(c.query('ALTER TABLE t ALTER COLUMN v SET NOT NULL')).rejects.toMatchObject({ code: '23502' });
    await expect(c.query('ALTER TABLE t ADD PRIMARY KEY (id)')).rejects.toMatchObject({ code: '23505' });
    await expect(c.query('ALTER TABLE t ADD CONSTRAINT pos CHECK (v > 10)')).rejects.toMatchObject({ code: '23514' });
    await c.query('DELETE FROM t WHERE v IS NULL');
    await c.query('ALTER TABLE t ADD CONSTRAINT pos CHECK (v > 0)');
    await expect(c.query('INSERT INTO t VALUES (2, -1)')).rejects.toMatchObject({ code: '23514' });
    await c.query('ALTER TABLE t DROP CONSTRAINT pos');
    await c.query('INSERT INTO t VALUES (2, -1)');
    await c.query('ALTER TABLE t ADD PRIMARY KEY (id)');
    await expect(c.query('INSERT INTO t VALUES (2, 3)')).rejects.toMatchObject({ code: '23505' });
    await c.query('ALTER TABLE t RENAME TO u');
    await expect(c.query('SELECT * FROM t')).rejects.toMatchObject({ code: '42P01' });
    expect((await c.query('SELECT count(*) FROM u')).rows).toEqual([[2n]]);
    await c.query('BEGIN');
    await c.query('ALTER TABLE u ADD COLUMN w TEXT');
    await c.query('TRUNCATE u');
    await c.query('ROLLBACK');
    expect((await c.query('SELECT * FROM u ORDER BY id')).rows).toEqual([[1, 5], [2, -1]]);
    await c.query('CREATE SCHEMA s');
    await c.query('CREATE TABLE s.x (a INTEGER)');
    await c.query('INSERT INTO s.x VALUES (1)');
    expect((await c.query('SELECT a FROM s.x')).rows).toEqual([[1]]);
    await expect(c.query('DROP SCHEMA s')).rejects.toMatchObject({ code: '2BP01' });
    await c.query('DROP SCHEMA s CASCADE');
    await expect(c.query('SELECT a FROM s.x')).rejects.toMatchObject({ code: '42P01' });
    await db.close();
  });
});
