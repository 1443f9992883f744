/**
 * Where checkpoints keep the committed metadata (api.ts MetadataBackend): inline in the manifest
 * (the default), or in an injected backend that receives only the keys changed since its last
 * write and whose record is all the manifest keeps. Older manifests (entries inline) open with a
 * backend too.
 */
import { describe, expect, it } from 'vitest';
import { SqlState, type TableId } from '@quiverdb/common';
import type { MetadataBackend } from './api.js';
import { MemEnv } from './env/mem-env.js';
import { decodeManifest, flattenManifest, unflattenManifest, type Manifest } from './segment/manifest.js';
import { openStore, type QuiverStore } from './store.js';
import { Clock, rowsToBatch, SPEC } from './test-support.js';

const T = 7 as TableId;

/** A backend on a MemEnv-like durable map: `disk[record]` = the entries a committed write left. */
class ModelBackend implements MetadataBackend {
  readonly held = new Map<string, string>();
  readonly changeSets: Map<string, string | undefined>[] = [];
  commits = 0;
  constructor(readonly disk: Map<number, Map<string, string>>) {}
  load(record: unknown): Promise<Map<string, string>> {
    const d = this.disk.get((record as { n: number }).n);
    if (d === undefined) throw new Error('unknown record');
    for (const [k, v] of d) this.held.set(k, v);
    return Promise.resolve(new Map(d));
  }
  write(changes: ReadonlyMap<string, string | undefined>): Promise<unknown> {
    this.changeSets.push(new Map(changes));
    for (const [k, v] of changes) (v === undefined ? this.held.delete(k) : this.held.set(k, v));
    const n = this.disk.size + 1;
    this.disk.set(n, new Map(this.held));
    return Promise.resolve({ n });
  }
  committed(): void { this.commits++; }
  close(): Promise<void> { return Promise.resolve(); }
}

async function readManifest(env: MemEnv): Promise<Manifest> {
  const name = new TextDecoder().decode(await env.readFile('/db/CURRENT')).trim();
  return decodeManifest(await env.readFile(`/db/${name}`), name);
}

/** A table with two segments (two checkpoints) and some meta entries. */
async function populate(s: QuiverStore, clock: Clock): Promise<void> {
  const a = clock.begin();
  s.createTable(a.txn, SPEC(7));
  s.metaPut(a.txn, 't/7', '{"name":"t"}');
  s.metaPut(a.txn, 'seq/table', '8');
  s.insert(a.txn, T, rowsToBatch([[1, 'a', 1n, 1], [2, 'b', 2n, 2]]));
  await clock.commit(s, a.txn);
  await s.checkpoint();
  const b = clock.begin();
  s.insert(b.txn, T, rowsToBatch([[3, 'c', 3n, 3]]));
  s.metaPut(b.txn, 'stats/7', '{"rows":3}');
  await clock.commit(s, b.txn);
  await s.checkpoint();
}

function summary(s: QuiverStore): unknown {
  return { meta: [...s.metaEntries()].sort(), stats: s.stats().tables.map((t) => ({ id: t.id, segments: t.segments, rows: t.rows })) };
}

describe('metadata backends', () => {
  it('flattenManifest / unflattenManifest round-trip tables, segments in order, and meta entries', () => {
    const seg = (id: number) => ({ id, file: `data/7/${id}.parquet`, rows: 1, bytes: 10, columns: SPEC(7).columns, runs: [0, 1], rowGroups: [{ offset: 0, rows: 1, zones: [[1, { min: 1 }]] as [number, unknown][] }], deletes: '' });
    const m = {
      meta: [['t/2', 'x'], ['t/10', 'y'], ['seq/table', '11']] as [string, string][],
      tables: [
        { spec: SPEC(2), nextRowId: 5, segments: [seg(12), seg(3)], lastCompaction: 99 },
        { spec: SPEC(10), nextRowId: 0, segments: [] },
      ],
    };
    const flat = flattenManifest(m);
    expect(flat.size).toBe(3 + 2 + 2);
    const back = unflattenManifest(flat);
    expect(back.tables).toEqual(m.tables);
    expect(new Map(back.meta)).toEqual(new Map(m.meta));
    // digit runs compare as numbers: t/2 before t/10
    expect(back.meta.map((x) => x[0]).filter((k) => k.startsWith('t/'))).toEqual(['t/2', 't/10']);
    // a table naming a segment the entries lack is corruption, not a silently shorter table
    flat.delete([...flat.keys()].find((k) => k.startsWith('s:'))!);
    expect(() => unflattenManifest(flat)).toThrow(expect.objectContaining({ code: SqlState.DataCorrupted }));
  });

  it('default: the entries stay inline in the manifest and survive checkpoint + reopen', async () => {
    const env = new MemEnv();
    const clock = new Clock();
    let s = await openStore({ env, dir: '/db', rowGroupSize: 4 });
    await populate(s, clock);
    const before = summary(s);
    const m = await readManifest(env);
    expect(m.metaStore).toBeUndefined();
    expect(new Map(m.meta).get('stats/7')).toBe('{"rows":3}');
    expect(m.tables[0]!.segments.length).toBe(2);
    await s.close();
    s = await openStore({ env, dir: '/db', rowGroupSize: 4 });
    expect(summary(s)).toEqual(before);
    await s.close();
  });

  it('a backend gets only the changed keys; the manifest keeps only its record; reopen reads it back', async () => {
    const env = new MemEnv();
    const disk = new Map<number, Map<string, string>>();
    const clock = new Clock();
    const b1 = new ModelBackend(disk);
    let s = await openStore({ env, dir: '/db', rowGroupSize: 4, metadata: b1 });
    await populate(s, clock);
    const m = await readManifest(env);
    expect(m.meta).toBeUndefined();
    expect(m.tables).toBeUndefined();
    expect(m.metaStore).toEqual({ n: 2 });
    expect(b1.commits).toBe(2);
    // the second checkpoint: the new meta entry, the table record (segment list, next row id), the new segment
    const second = [...b1.changeSets[1]!.keys()].sort();
    expect(second).toEqual(['m:stats/7', `s:0000000007:${second[1]!.slice(-10)}`, 't:0000000007']);
    expect(b1.changeSets[0]!.has(second[1]!)).toBe(false);
    // one meta change, no data: exactly one key
    const c = clock.begin();
    s.metaPut(c.txn, 'stats/7', undefined);
    await clock.commit(s, c.txn);
    await s.checkpoint();
    expect([...b1.changeSets[2]!]).toEqual([['m:stats/7', undefined]]);
    const before = summary(s);
    await s.close();
    const b2 = new ModelBackend(disk);
    s = await openStore({ env, dir: '/db', rowGroupSize: 4, metadata: b2 });
    expect(summary(s)).toEqual(before);
    // rows come back from the segments the backend listed
    expect(s.rowCount(T)).toBe(3);
    await s.close();
    // a manifest whose metadata lives in a backend cannot be opened without one
    await expect(openStore({ env, dir: '/db', rowGroupSize: 4 })).rejects.toMatchObject({ code: SqlState.DataCorrupted });
  });

  it('a database written with inline metadata (older format) opens with a backend; its first checkpoint moves every entry', async () => {
    const env = new MemEnv();
    const clock = new Clock();
    let s = await openStore({ env, dir: '/db', rowGroupSize: 4 });
    await populate(s, clock);
    const before = summary(s);
    await s.close();
    const disk = new Map<number, Map<string, string>>();
    const b = new ModelBackend(disk);
    s = await openStore({ env, dir: '/db', rowGroupSize: 4, metadata: b });
    expect(summary(s)).toEqual(before);
    const c = clock.begin();
    s.metaPut(c.txn, 'x', '1');
    await clock.commit(s, c.txn);
    await s.checkpoint();
    expect(b.changeSets.length).toBe(1);
    expect(b.changeSets[0]!.size).toBe(3 + 1 + 1 + 2); // meta entries, table, two segments
    expect((await readManifest(env)).meta).toBeUndefined();
    await s.close();
    s = await openStore({ env, dir: '/db', rowGroupSize: 4, metadata: new ModelBackend(disk) });
    expect(s.metaEntries().get('x')).toBe('1');
    expect(s.rowCount(T)).toBe(3);
    await s.close();
  });

  it('a failed checkpoint never commits the backend; the next write sends changes relative to what it holds', async () => {
    const env = new MemEnv();
    const disk = new Map<number, Map<string, string>>();
    const clock = new Clock();
    const b = new ModelBackend(disk);
    let fail = true;
    const flaky: MetadataBackend = {
      load: (r) => b.load(r),
      write: async (ch) => { const r = await b.write(ch); if (fail) throw new Error('disk full'); return r; },
      committed: () => b.committed(),
      close: () => b.close(),
    };
    const s = await openStore({ env, dir: '/db', metadata: flaky });
    const a = clock.begin();
    s.metaPut(a.txn, 'k', 'v1');
    await clock.commit(s, a.txn);
    await expect(s.checkpoint()).rejects.toThrow('disk full');
    expect(b.commits).toBe(0);
    expect(await env.exists('/db/CURRENT')).toBe(false);
    const c = clock.begin();
    s.metaPut(c.txn, 'k', undefined);
    await clock.commit(s, c.txn);
    fail = false;
    await s.checkpoint();
    expect(b.commits).toBe(1);
    expect([...b.changeSets[1]!]).toEqual([['m:k', undefined]]);
    expect(b.held.has('m:k')).toBe(false);
    await s.close();
  });
});
