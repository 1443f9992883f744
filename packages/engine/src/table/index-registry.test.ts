/**
 * Persisted indexes (issue 6): an index survives checkpoint + reopen without a rebuild and answers
 * as a scan does; a corrupt file falls back to a rebuild; a crash at every I/O call of a
 * checkpoint (in particular between the index flush and the manifest switch) loses nothing.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import { FaultEnv, MemEnv, type Env, type QuiverStore } from '@quiverdb/storage';
import { Database } from '../database.js';
import type { Connection } from '../connection.js';

type Model = Map<number, { b: string; c: number }>;

const open = (env: Env) => Database.open('/db', { env });

/** Crash: drop what was not fsync'ed; the old Database is abandoned, never closed. */
function crash(env: FaultEnv, db: Database): void {
  (db.store as unknown as QuiverStore).abandon();
  env.crash();
}

async function insertRows(c: Connection, model: Model, from: number, n: number, rnd: () => number): Promise<void> {
  for (let o = 0; o < n; o += 250) {
    const vals: string[] = [];
    const rows: [number, { b: string; c: number }][] = [];
    for (let a = from + o; a < from + Math.min(n, o + 250); a++) {
      const row = { b: `k${Math.floor(rnd() * 500)}`, c: Math.floor(rnd() * 300) };
      rows.push([a, row]);
      vals.push(`(${a}, '${row.b}', ${row.c})`);
    }
    await c.query(`INSERT INTO t VALUES ${vals.join(', ')}`);
    for (const [a, row] of rows) model.set(a, row); // acknowledged
  }
}

/** Table + two secondary indexes (B+ tree, fractal) + `base` (<= 3000) rows, checkpointed; then WAL-only changes. */
async function workload(db: Database, model: Model, seed: number, finalCheckpoint: boolean, base = 3000): Promise<void> {
  const rnd = seededRandom(seed);
  const c = db.connect();
  await c.query('CREATE TABLE t (a INTEGER PRIMARY KEY, b VARCHAR(20), c INTEGER)');
  await c.query('CREATE INDEX t_c ON t (c)');
  await c.query('CREATE INDEX t_b ON t USING fractal (b)');
  await insertRows(c, model, 0, base, rnd);
  await c.query('CHECKPOINT');
  // after the checkpoint: only in the WAL
  await insertRows(c, model, 3000, 400, rnd);
  for (let i = 0; i < 60; i++) {
    const a = Math.floor(rnd() * 3400);
    const nc = Math.floor(rnd() * 300);
    await c.query('UPDATE t SET c = $1 WHERE a = $2', [nc, a]);
    const row = model.get(a);
    if (row) row.c = nc;
  }
  await c.query('DELETE FROM t WHERE a % 17 = 3');
  for (const a of [...model.keys()]) if (a % 17 === 3) model.delete(a);
  if (finalCheckpoint) {
    await insertRows(c, model, 3400, 100, rnd);
    await c.query('CHECKPOINT');
    await insertRows(c, model, 3500, 50, rnd);
  }
}

/** Every answer through the indexes equals the model and the same query forced to scan. */
async function verify(db: Database, model: Model, label: string): Promise<void> {
  const c = db.connect();
  const all = await c.query('SELECT a, b, c FROM t ORDER BY a');
  expect(all.rows, label).toEqual([...model].sort((x, y) => x[0] - y[0]).map(([a, r]) => [a, r.b, r.c]));
  const plan = (await c.query('EXPLAIN SELECT a FROM t WHERE c = 7')).rows.flat().join('\n');
  expect(plan, label).toMatch(/t_c/);
  for (let v = 0; v < 300; v += 13) {
    const want = [...model].filter(([, r]) => r.c === v).map(([a]) => a).sort((x, y) => x - y);
    expect((await c.query('SELECT a FROM t WHERE c = $1 ORDER BY a', [v])).rows.flat(), label).toEqual(want);
    expect((await c.query('SELECT a FROM t WHERE c + 0 = $1 ORDER BY a', [v])).rows.flat(), label).toEqual(want);
    const b = `k${v}`;
    const wantB = [...model].filter(([, r]) => r.b === b).map(([a]) => a).sort((x, y) => x - y);
    expect((await c.query('SELECT a FROM t WHERE b = $1 ORDER BY a', [b])).rows.flat(), label).toEqual(wantB);
  }
  for (const a of [5, 1000, 3001, 3399, 3549]) {
    expect((await c.query('SELECT c FROM t WHERE a = $1', [a])).rows, label).toEqual(model.has(a) ? [[model.get(a)!.c]] : []);
  }
  await expect(c.query("INSERT INTO t VALUES (10, 'x', 1)"), label).rejects.toMatchObject({ code: '23505' });
  // every row of the table through every index (amcheck-like)
  expect(await db.verifyIndexes(), label).toEqual({ indexes: 3, rows: 3 * model.size });
  await c.close();
}

describe('persisted indexes', () => {
  it('reopen from the index files after checkpoint + crash: no rebuild, only the replayed rows added', async () => {
    const env = new FaultEnv(new MemEnv());
    const model: Model = new Map();
    let db = await open(env);
    await workload(db, model, 1, false);
    crash(env, db);
    db = await open(env);
    expect(db.indexes.stats).toMatchObject({ opened: 3, rebuilt: 0, fallbacks: 0 });
    // the replay put back the 400 inserts and the 60 updated versions: only those were added (x 3 indexes)
    expect(db.indexes.stats.deltaRows).toBeGreaterThanOrEqual(3 * 400);
    expect(db.indexes.stats.deltaRows).toBeLessThanOrEqual(3 * 460);
    // page images not decoded yet are charged to the buffer pool (memory_limit)
    const m = db.metrics();
    expect(m.index_resident_bytes).toBeGreaterThan(0);
    expect(m.buffer_pool_bytes).toBeGreaterThanOrEqual(m.index_resident_bytes!);
    expect(m.index_pages_read).toBeGreaterThan(0);
    await verify(db, model, 'after reopen');
    // keep going: a second checkpoint over the reopened files, a clean close, a reopen
    const c = db.connect();
    await insertRows(c, model, 5000, 300, seededRandom(9));
    await c.query('CHECKPOINT');
    await db.close();
    db = await open(env);
    expect(db.indexes.stats).toMatchObject({ opened: 3, rebuilt: 0, fallbacks: 0, deltaRows: 0 });
    await verify(db, model, 'after second reopen');
    await db.close();
  });

  it('writes during a checkpoint (between the cut and the manifest switch) survive a crash', async () => {
    const env = new FaultEnv(new MemEnv());
    let db = await open(env);
    const model: Model = new Map();
    const a = db.connect();
    await a.query('CREATE TABLE t (a INTEGER PRIMARY KEY, b VARCHAR(20), c INTEGER)');
    await a.query('CREATE INDEX t_c ON t (c)');
    await a.query('CREATE INDEX t_b ON t USING fractal (b)');
    const rnd = seededRandom(5);
    const writer = async (): Promise<void> => {
      for (let i = 0; i < 30; i++) {
        await insertRows(a, model, i * 40, 40, rnd);
        const x = Math.floor(rnd() * (i + 1) * 40);
        await a.query('UPDATE t SET c = c + 1000 WHERE a = $1', [x]);
        const row = model.get(x);
        if (row) row.c += 1000;
      }
    };
    const b = db.connect();
    const checkpoints = async (): Promise<void> => {
      for (let i = 0; i < 8; i++) { await b.query('CHECKPOINT'); await new Promise((r) => setImmediate(r)); }
    };
    await Promise.all([writer(), checkpoints()]);
    crash(env, db);
    db = await open(env);
    expect(db.indexes.stats).toMatchObject({ opened: 3, rebuilt: 0, fallbacks: 0 });
    const c = db.connect();
    for (const [x, row] of model) {
      if (x % 7 !== 0) continue;
      expect((await c.query('SELECT a FROM t WHERE c = $1', [row.c])).rows.flat()).toContain(x);
      expect((await c.query('SELECT a FROM t WHERE b = $1', [row.b])).rows.flat()).toContain(x);
    }
    expect((await c.query('SELECT count(*) FROM t')).rows).toEqual([[BigInt(model.size)]]);
    for (const ix of db.committedCatalog.indexes.values()) db.indexes.get(ix, db.committedCatalog.tablesById.get(ix.tableId)!).checkInvariants();
    await db.close();
  });

  it('verifyIndexes reports an index that lacks a row (XX002) and a sound one after its rebuild', async () => {
    const env = new FaultEnv(new MemEnv());
    const model: Model = new Map();
    let db = await open(env);
    await workload(db, model, 3, true);
    expect(await db.verifyIndexes()).toEqual({ indexes: 3, rows: 3 * model.size });
    // drop one entry of the fractal tree behind the engine's back
    const cat = db.committedCatalog;
    const ix = [...cat.indexes.values()].find((i) => i.name === 't_b')!;
    const idx = db.indexes.get(ix, cat.tablesById.get(ix.tableId)!);
    const [first] = [...idx.tree.scan()];
    expect(idx.tree.delete(first!.key, first!.rowId)).toBe(true);
    await expect(db.verifyIndexes()).rejects.toMatchObject({ code: 'XX002', message: expect.stringMatching(/t_b has no entry for 1 row/) });
    // built anew by a scan
    const c = db.connect();
    await c.query('DROP INDEX t_b');
    await c.query('CREATE INDEX t_b ON t USING fractal (b)');
    expect(await db.verifyIndexes()).toEqual({ indexes: 3, rows: 3 * model.size });
    await db.close();
    db = await open(env);
    await verify(db, model, 'after reopen');
    await db.close();
  });

  it('a tree grown far past its table by dead versions is rebuilt at open', async () => {
    const env = new FaultEnv(new MemEnv());
    let db = await open(env);
    const c = db.connect();
    await c.query('CREATE TABLE u (a INTEGER PRIMARY KEY, n INTEGER)');
    await c.query(`INSERT INTO u SELECT g, 0 FROM generate_series(1, 1000) AS s(g)`);
    for (let i = 0; i < 12; i++) await c.query('UPDATE u SET n = n + 1');
    await db.close();
    db = await open(env);
    // 13,000 entries (every version) for 1,000 rows: over 2 x 1,000 + 10,000
    expect(db.indexes.stats).toMatchObject({ opened: 0, bloated: 1, rebuilt: 1, fallbacks: 0 });
    expect((await db.connect().query('SELECT n FROM u WHERE a = 500')).rows).toEqual([[12]]);
    await db.close();
    db = await open(env); // the rebuilt tree holds the live versions only: reopened
    expect(db.indexes.stats).toMatchObject({ opened: 1, bloated: 0, rebuilt: 0 });
    await db.close();
  });

  it('a corrupt or missing index file is rebuilt by a scan, never losing rows', async () => {
    const env = new FaultEnv(new MemEnv());
    const model: Model = new Map();
    let db = await open(env);
    await workload(db, model, 2, true);
    await db.close();
    const rec = (await readRecord(env)).indexes;
    expect(rec.length).toBe(3);
    // flip a byte in the meta page of the first index, remove the second's file
    const [first, second] = [rec[0]![1], rec[1]![1]];
    const f = await env.open(first.file);
    const at = first.meta * first.pageSize + 5;
    const b = await f.read(at, 1);
    await f.write(at, Uint8Array.of(b[0]! ^ 0xff));
    await f.sync();
    await f.close();
    await env.remove(second.file);
    const logged: string[] = [];
    const origWarn = console.warn;
    console.warn = (m: string) => { logged.push(m); };
    try {
      db = await open(env);
    } finally {
      console.warn = origWarn;
    }
    expect(db.indexes.stats).toMatchObject({ opened: 1, rebuilt: 2, fallbacks: 2 });
    expect(logged.length).toBe(2);
    await verify(db, model, 'after fallback');
    await db.close();
  });

  it('a crash at every I/O call of a checkpoint (index flush, manifest switch, cleanup) loses nothing', async () => {
    // probe: count the I/O calls of the whole workload, and where the last checkpoint starts
    const probe = new FaultEnv(new MemEnv());
    probe.keepLog = true;
    const pm: Model = new Map();
    const pdb = await open(probe);
    await workload(pdb, pm, 3, true, 500);
    await pdb.close();
    const total = probe.ops;
    const manifests = probe.log.filter((l) => /MANIFEST-/.test(l)).map((l) => Number(l.split(' ')[0]));
    const indexWrites = probe.log.filter((l) => /\/index\//.test(l)).map((l) => Number(l.split(' ')[0]));
    expect(indexWrites.length).toBeGreaterThan(0);
    // every call from the second checkpoint's index flush to the end (covers whole checkpoints)
    const from = Math.min(...indexWrites.filter((n) => n > manifests[0]!));
    // ... among them the calls after an index file's fsync and before the CURRENT switch
    const lastIndexSync = Math.max(...probe.log.filter((l) => / sync \/db\/index\//.test(l)).map((l) => Number(l.split(' ')[0])));
    const switchAt = Math.min(...probe.log.filter((l) => / rename /.test(l)).map((l) => Number(l.split(' ')[0])).filter((n) => n > lastIndexSync));
    expect(lastIndexSync).toBeGreaterThanOrEqual(from);
    expect(switchAt - lastIndexSync).toBeGreaterThan(1);
    let fired = 0;
    for (let n = from; n <= total; n++) {
      const env = new FaultEnv(new MemEnv());
      env.setPlan({ faultAt: n, mode: n % 2 === 0 ? 'fail' : 'cut', cutFraction: 0.5 });
      const model: Model = new Map();
      const db = await open(env);
      let failed = false;
      try { await workload(db, model, 3, true, 500); await db.close(); } catch { failed = true; }
      if (failed) {
        fired++;
        crash(env, db);
      } else {
        env.crash();
      }
      const again = await open(env);
      expect(again.indexes.stats.fallbacks, `fault at ${n}`).toBe(0);
      // the model is what the workload acknowledged; a failed workload stopped at a CHECKPOINT or
      // at the close, after every write was acknowledged
      await verify(again, model, `fault at ${n}/${total}`);
      await again.close();
    }
    expect(fired).toBeGreaterThan(5);
  });
});

async function readRecord(env: Env): Promise<{ indexes: [string, { file: string; meta: number; pageSize: number }][] }> {
  const cur = new TextDecoder().decode(await env.readFile('/db/CURRENT')).trim();
  const b = await env.readFile(`/db/${cur}`);
  const m = JSON.parse(new TextDecoder().decode(b.subarray(12))) as { hook: { indexes: [string, { file: string; meta: number; pageSize: number }][] } };
  return m.hook;
}
