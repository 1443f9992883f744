/**
 * memory_limit through the engine: SET memory_limit reaches the executor; an ORDER BY over it
 * spills sorted runs into <db dir>/tmp (or the OS temp dir for ':memory:') and every spill file
 * is gone when the statement ends, also when it fails or is cancelled; operators that cannot
 * spill fail with 53200 and the session (and its transaction block, after ROLLBACK) goes on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../src/index.js';
import { SpillDir, spillDirOf } from '../src/spill-dir.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'quiver-memlimit-')); dirs.push(d); return d; };

const code = async (p: Promise<unknown>): Promise<string | undefined> => {
  try { await p; return undefined; } catch (e) { return (e as { code?: string }).code ?? 'no code'; }
};

async function fill(db: Database): Promise<void> {
  const c = db.connect();
  await c.query('CREATE TABLE t(id INTEGER, g INTEGER, s TEXT)');
  await c.query("INSERT INTO t SELECT x, x % 13, 'v' || (x * 7919 % 30000) FROM generate_series(1, 30000) x");
  await c.close();
}

describe('memory_limit in the engine', () => {
  it('ORDER BY spills into the database directory and cleans up', async () => {
    const dir = tmp();
    const db = await Database.open(dir);
    try {
      await fill(db);
      const c = db.connect();
      const want = (await c.query('SELECT id, s FROM t ORDER BY s, id')).rows;
      await c.query("SET memory_limit = '512kB'");
      expect((await c.query('SHOW memory_limit')).rows).toEqual([['512kB']]);
      const got = (await c.query('SELECT id, s FROM t ORDER BY s, id')).rows;
      expect(got).toEqual(want);
      expect(existsSync(join(dir, 'tmp'))).toBe(true); // it did spill
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
      // an error after the sort spilled still removes the files
      expect(await code(c.query('SELECT 1 / (id - id) FROM (SELECT id FROM t ORDER BY s) x'))).toBe('22012');
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
      await c.close();
    } finally { await db.close(); }
  });

  it('53200 for a hash aggregate / join over the limit; the session goes on', async () => {
    const db = await Database.open(':memory:');
    try {
      await fill(db);
      const c = db.connect();
      await c.query("SET memory_limit = '256kB'");
      expect(await code(c.query('SELECT id, count(*) FROM t GROUP BY id'))).toBe('53200');
      expect(await code(c.query('SELECT count(*) FROM t a JOIN t b ON a.id = b.id'))).toBe('53200');
      expect((await c.query('SELECT count(*) FROM t WHERE g = 0')).rows).toEqual([[2307n]]);
      // inside a block: the block is aborted as for any error, ROLLBACK recovers
      await c.query('BEGIN');
      expect(await code(c.query('SELECT id, count(*) FROM t GROUP BY id'))).toBe('53200');
      expect(await code(c.query('SELECT 1'))).toBe('25P02');
      await c.query('ROLLBACK');
      expect(await code(c.query("SET memory_limit = 'plenty'"))).toBe('22023');
      await c.query('RESET memory_limit');
      expect((await c.query('SELECT id, count(*) FROM t GROUP BY id')).rowCount).toBe(30000);
      await c.close();
    } finally { await db.close(); }
  });

  it('SpillDir removes what it created at close, and sweeps files of dead processes', async () => {
    const dir = tmp();
    expect(spillDirOf(dir)).toBe(`${dir}/tmp`);
    expect(spillDirOf(':memory:')).toContain(tmpdir());
    const s = new SpillDir(dir);
    const a = await s.create(), b = await s.create();
    await a.append(new Uint8Array([1, 2, 3]));
    await b.append(new Uint8Array([9]));
    expect(Array.from(await a.read(1, 2))).toEqual([2, 3]);
    expect(readdirSync(join(dir, 'tmp'))).toHaveLength(2);
    await s.remove(a);
    expect(readdirSync(join(dir, 'tmp'))).toHaveLength(1);
    await s.close();
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    // a file left by a process that no longer exists is swept at the first spill of a new directory
    const dir2 = tmp();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir2, 'tmp'));
    writeFileSync(join(dir2, 'tmp', 'spill-999999999-0.tmp'), 'stale');
    const s2 = new SpillDir(dir2);
    await s2.create();
    await s2.close();
    expect(readdirSync(join(dir2, 'tmp'))).toEqual([]);
  });
});
