/**
 * The catalog's metadata store on the Bε-tree (issue 6 / issue 8): a database directory keeps its
 * committed metadata (catalog entries, tables, segments with zone maps, statistics) in
 * `catalog.qmt`, and its manifest records only the tree's root. DDL + checkpoint + reopen give the
 * catalog back; a checkpoint after one DDL change writes a handful of pages whatever the catalog's
 * size; a crash at every I/O call of the checkpoints (tree flush, manifest switch, cleanup)
 * recovers exactly the acknowledged catalog and rows.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { FaultEnv, MemEnv, type Env, type QuiverStore } from '@quiverdb/storage';
import { Database } from '../database.js';
import { BetreeMetadata } from './betree-metadata.js';

const open = (env: Env) => Database.open('/db', { env });

function backendOf(db: Database): BetreeMetadata {
  const b = (db.store as unknown as QuiverStore).metadataBackend;
  expect(b).toBeInstanceOf(BetreeMetadata);
  return b as BetreeMetadata;
}

async function manifestOf(env: Env): Promise<{ meta?: unknown[]; tables?: unknown[]; metaStore?: { file: string; meta: number } }> {
  const cur = new TextDecoder().decode(await env.readFile('/db/CURRENT')).trim();
  const b = await env.readFile(`/db/${cur}`);
  return JSON.parse(new TextDecoder().decode(b.subarray(12))) as { meta?: unknown[]; tables?: unknown[]; metaStore?: { file: string; meta: number } };
}

interface Model {
  /** the committed catalog after the last acknowledged statement */
  catalog: Map<string, string>;
  /** rows of table d acknowledged */
  rows: Set<number>;
}

/** DDL across two checkpoints and a WAL tail, plus rows in `d`; the model follows every acknowledged statement. */
async function workload(db: Database, model: Model, seed: number): Promise<void> {
  const rnd = seededRandom(seed);
  const c = db.connect();
  const run = async (sql: string, rows?: (s: Set<number>) => void): Promise<void> => {
    await c.query(sql);
    rows?.(model.rows);
    model.catalog = new Map(db.store.metaEntries());
  };
  const insert = async (from: number, n: number): Promise<void> => {
    // zone maps of several types (bigint, double, text, date, NULLs) go through the tree too
    const vals = Array.from({ length: n }, (_, i) => {
      const v = Math.floor(rnd() * 1000);
      return `(${from + i}, ${v}, ${v % 5 === 0 ? 'NULL' : `${BigInt(v) * 10_000_000_000n}`}, ${v / 7}, 's${v}', DATE '2020-01-01' + ${v})`;
    });
    await run(`INSERT INTO d VALUES ${vals.join(', ')}`, (s) => { for (let i = 0; i < n; i++) s.add(from + i); });
  };
  await run('CREATE TABLE d (a INTEGER PRIMARY KEY, v INTEGER, w BIGINT, f DOUBLE PRECISION, s TEXT, dt DATE)');
  for (let i = 0; i < 5; i++) await run(`CREATE TABLE t${i} (a INTEGER PRIMARY KEY, b VARCHAR(20) NOT NULL DEFAULT 'x${i}')`);
  await run('CREATE INDEX t1_b ON t1 (b)');
  await run('CREATE VIEW v0 AS SELECT a FROM t0 WHERE a > 3');
  await insert(0, 300);
  await run('CHECKPOINT');
  await run('ALTER TABLE t1 ADD COLUMN c INTEGER DEFAULT 5');
  await run('ALTER TABLE t2 RENAME COLUMN b TO bb');
  await run('DROP TABLE t3');
  await run('CREATE SCHEMA s1');
  await run('CREATE TABLE s1.u (a BIGINT, b TEXT)');
  await run('CREATE SEQUENCE q1');
  await insert(300, 100);
  await run('DELETE FROM d WHERE a % 7 = 1', (s) => { for (const a of [...s]) if (a % 7 === 1) s.delete(a); });
  await run('ANALYZE d');
  await run('CHECKPOINT');
  await run('ALTER TABLE t4 RENAME TO t4r');
  await run('DROP INDEX t1_b');
  await run('CREATE INDEX d_v ON d (v)');
  await insert(400, 50);
  await c.close();
}

async function verify(db: Database, model: Model, label: string): Promise<void> {
  expect(new Map(db.store.metaEntries()), label).toEqual(model.catalog);
  const c = db.connect();
  const r = await c.query('SELECT a FROM d ORDER BY a');
  expect(r.rows.map((x) => x[0]), label).toEqual([...model.rows].sort((x, y) => x - y));
  await c.close();
}

describe('catalog metadata on the Bε-tree', () => {
  it('DDL, checkpoint, reopen: the catalog comes back from the tree; the manifest keeps only its root', async () => {
    const env = new MemEnv();
    const model: Model = { catalog: new Map(), rows: new Set() };
    let db = await open(env);
    await workload(db, model, 1);
    await db.close();
    const m = await manifestOf(env);
    expect(m.meta).toBeUndefined();
    expect(m.tables).toBeUndefined();
    expect(m.metaStore?.file).toBe('catalog.qmt');
    db = await open(env);
    await verify(db, model, 'reopen');
    const b = backendOf(db);
    expect(b.tree!.checkInvariants().pages).toBeGreaterThan(1);
    // every segment with its zone maps came from the tree: a zone-map-pruned scan still prunes
    const c = db.connect();
    expect((await c.query('SELECT count(*) FROM d WHERE a >= 400')).rows[0]![0]).toBe(50n);
    await c.query('CREATE TABLE after_reopen (x INTEGER)');
    await c.query('CHECKPOINT');
    // incremental after a reopen too: entries read back from the tree compare equal to the ones
    // the store re-serializes (segments with zone maps, deletes, specs): only the new table's keys
    expect(b.figures.lastWriteKeys).toBeLessThanOrEqual(3);
    await c.close();
    await db.close();
    db = await open(env);
    expect(db.committedCatalog.table('public', 'after_reopen')).toBeDefined();
    expect(db.committedCatalog.table('public', 't4r')).toBeDefined();
    expect(db.committedCatalog.table('public', 't3')).toBeUndefined();
    const catalog = new Map(db.store.metaEntries());
    await db.close();
    // the manifest names the tree relative to the directory: a moved database still opens
    const copy = async (from: string, to: string): Promise<void> => {
      await env.mkdir(to);
      for (const name of await env.list(from)) {
        const p = `${from}/${name}`;
        let bytes: Uint8Array | undefined;
        try { bytes = await env.readFile(p); } catch { bytes = undefined; }
        if (bytes === undefined) await copy(p, `${to}/${name}`);
        else if (name !== 'LOCK') await env.writeFileDurable(`${to}/${name}`, bytes);
      }
    };
    await copy('/db', '/moved/db');
    await env.remove('/db');
    db = await Database.open('/moved/db', { env });
    expect(new Map(db.store.metaEntries())).toEqual(catalog);
    await db.close();
  });

  it('a 1,000-table catalog: a checkpoint after one DDL change writes a handful of pages', async () => {
    const env = new MemEnv();
    const db = await Database.open('/db', { env, durable: false });
    const c = db.connect();
    for (let i = 0; i < 1000; i++) await c.query(`CREATE TABLE t${i} (a INTEGER PRIMARY KEY, b TEXT, c DOUBLE PRECISION, d DATE)`);
    await c.query('CHECKPOINT');
    const b = backendOf(db);
    const whole = b.figures.pagesWritten;
    const treePages = b.tree!.checkInvariants().pages;
    expect(treePages).toBeGreaterThan(100);
    await c.query('ALTER TABLE t500 ADD COLUMN e INTEGER');
    await c.query('CHECKPOINT');
    expect(b.figures.lastWriteKeys).toBeLessThanOrEqual(3);
    expect(b.figures.lastWritePages).toBeGreaterThan(0);
    expect(b.figures.lastWritePages).toBeLessThanOrEqual(8);
    await c.query('CREATE TABLE one_more (x INTEGER)');
    await c.query('CHECKPOINT');
    expect(b.figures.lastWritePages).toBeLessThanOrEqual(8);
    expect(b.figures.pagesWritten - whole).toBeLessThan(whole / 10);
    b.tree!.checkInvariants();
    await c.close();
    await db.close();
    const again = await Database.open('/db', { env, durable: false });
    expect(again.committedCatalog.tablesById.size).toBe(1001);
    expect(again.committedCatalog.table('public', 't500')!.columns.map((x) => x.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    await again.close();
  });

  it('a crash at every I/O call of the checkpoints (tree flush, manifest switch, cleanup) recovers the acknowledged catalog', async () => {
    // probe: count the calls and locate the metadata tree's writes and the manifest switches
    const probe = new FaultEnv(new MemEnv());
    probe.keepLog = true;
    const pdb = await open(probe);
    await workload(pdb, { catalog: new Map(), rows: new Set() }, 2);
    await pdb.close();
    const total = probe.ops;
    const at = (re: RegExp) => probe.log.filter((l) => re.test(l)).map((l) => Number(l.split(' ')[0]));
    const treeCalls = at(/\/db\/catalog\.qmt/);
    const treeSyncs = at(/ sync \/db\/catalog\.qmt/);
    const renames = at(/ rename /);
    expect(treeSyncs.length).toBeGreaterThanOrEqual(3);
    // between each tree fsync and its CURRENT switch lie the manifest's own calls
    for (const s of treeSyncs) expect(Math.min(...renames.filter((r) => r > s)) - s).toBeGreaterThan(1);
    const from = Math.min(...treeCalls);
    let fired = 0;
    for (let n = from; n <= total; n++) {
      const env = new FaultEnv(new MemEnv());
      env.setPlan({ faultAt: n, mode: n % 2 === 0 ? 'fail' : 'cut', cutFraction: 0.5 });
      const model: Model = { catalog: new Map(), rows: new Set() };
      const db = await open(env);
      let failed = false;
      try { await workload(db, model, 2); await db.close(); } catch { failed = true; }
      if (failed) {
        fired++;
        (db.store as unknown as QuiverStore).abandon();
      }
      env.crash();
      const again = await open(env);
      await verify(again, model, `fault at ${n}/${total}`);
      backendOf(again).tree?.checkInvariants();
      await again.close();
    }
    expect(fired).toBeGreaterThan(10);
  });
});
