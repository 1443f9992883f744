import { describe, expect, it } from 'vitest';
import { rowId, type PageId } from '@quiverdb/common';
import { FaultEnv, MemEnv } from '@quiverdb/storage';
import { EnvPageFile, type PageFileState } from './env-page-file.js';
import { BTree, type OrderedIndex } from '../btree/btree.js';
import { FractalIndex } from '../betree/fractal-index.js';
import { encodeKey, type KeyColumn } from '../key/key-encoding.js';
import { fromBinary, toBinary } from '../key/binary-string.js';
import { Rng } from '../testing/rng.js';
import { SortedModel, type ModelEntry } from '../testing/sorted-model.js';

const LONG = process.env.QUIVER_LONG === '1';
const spec: KeyColumn[] = [{ type: 'int32' }, { type: 'utf8' }];
const key = (r: Rng, domain: number): Uint8Array => encodeKey(spec, [r.int(domain), ['', 'a', 'bb', 'abc'][r.int(4)]!]);

interface Kind {
  name: string;
  create(f: EnvPageFile): OrderedIndex;
  open(f: EnvPageFile, meta: PageId): OrderedIndex;
}
const kinds: Kind[] = [
  { name: 'BTree', create: (f) => BTree.create(f, { unique: false }), open: (f, m) => BTree.open(f, m) },
  { name: 'FractalIndex', create: (f) => FractalIndex.create(f, { unique: false, maxFanout: 8 }), open: (f, m) => FractalIndex.open(f, m) },
];

const entriesOf = (t: OrderedIndex): ModelEntry[] => [...t.scan()].map((e) => ({ key: toBinary(e.key), rowId: e.rowId }));

/**
 * Seeded differential test over an EnvPageFile on FaultEnv(MemEnv): random inserts, deletes,
 * lookups and range scans against the sorted model; every `every` ops a checkpoint through the
 * engine's protocol (prepare at the cut → flush → record the state → committed), with crashes
 * (power loss) before the flush, between flush and record, between record and `committed`, and
 * injected I/O faults inside the flush; after a crash the file reopens at the recorded state and
 * must equal the model as of that state.
 */
async function persistDifferential(kind: Kind, seed: number, ops: number, every: number): Promise<{ crashes: number; faults: number; reopens: number }> {
  const r = new Rng(seed);
  const env = new FaultEnv(new MemEnv());
  await env.mkdir('/ix');
  const path = '/ix/1.qix';
  let file = EnvPageFile.create(env, path, 512);
  let t = kind.create(file);
  const m = new SortedModel(false);
  let recorded: PageFileState | undefined;
  let recordedModel: ModelEntry[] = [];
  let nextRow = 1;
  const counts = { crashes: 0, faults: 0, reopens: 0 };
  const reopen = async (): Promise<void> => {
    file = await EnvPageFile.open(env, recorded!);
    t = kind.open(file, recorded!.meta as PageId);
    m.entries = recordedModel.slice();
    counts.reopens++;
  };
  for (let op = 1; op <= ops; op++) {
    const x = r.int(100) + (m.entries.length > 2500 ? 12 : 0);
    if (x < 45) {
      const k = key(r, 3000);
      const rid = nextRow++;
      t.insert(k, rowId(rid));
      m.insert(toBinary(k), rid);
    } else if (x < 70 || x >= 100) {
      if (m.entries.length === 0) continue;
      const e = m.entries[r.int(m.entries.length)]!;
      t.delete(fromBinary(e.key), rowId(e.rowId));
      m.delete(e.key, e.rowId);
    } else if (x < 90) {
      const k = toBinary(key(r, 3000));
      const got = t.getAll(fromBinary(k));
      const want = m.getAll(k);
      if (got.length !== want.length || got.some((v, i) => v !== want[i])) expect(got).toEqual(want);
    } else {
      const a = toBinary(key(r, 3000));
      const b = toBinary(key(r, 3000));
      const [lo, hi] = a < b ? [a, b] : [b, a];
      const limit = 1 + r.int(50);
      const got = t.rowIds({ gte: fromBinary(lo), lt: fromBinary(hi) }, limit);
      const want = m.range({ gte: lo, lt: hi }, limit).map((e) => e.rowId);
      if (got.length !== want.length || got.some((v, i) => v !== want[i])) expect(got).toEqual(want);
    }
    if (op % 4999 === 0) {
      const { pages } = t.checkInvariants();
      expect(pages).toBe(file.pagesInUse());
    }
    if (op % every !== 0) continue;
    // ---- a checkpoint, as the engine runs it
    const meta = t.prepareCheckpoint();
    t.commitCheckpoint();
    const state = file.prepare(meta);
    const snapshot = m.entries.slice();
    const stage = r.int(10);
    if (stage === 0 && recorded !== undefined) { // power loss before the flush
      env.crash(); counts.crashes++;
      await reopen();
      continue;
    }
    if (stage === 1 && recorded !== undefined) { // an I/O fault inside the flush, the process dies
      env.setPlan({ faultAt: 1 + r.int(2), mode: r.bool() ? 'cut' : 'fail', cutFraction: 0.3 });
      await expect(file.flush()).rejects.toMatchObject({ code: '58030' });
      env.setPlan(undefined);
      env.crash(); counts.crashes++; counts.faults++;
      await reopen();
      continue;
    }
    if (stage === 2 && recorded !== undefined) { // an I/O fault inside the flush, the process lives on
      env.setPlan({ faultAt: 1 + r.int(2), mode: 'fail', dieOnFault: false });
      await expect(file.flush()).rejects.toMatchObject({ code: '58030' });
      env.setPlan(undefined);
      counts.faults++;
      continue; // the next checkpoint supersedes this prepare
    }
    await file.flush();
    if (stage === 3 && recorded !== undefined) { // power loss between the flush and the record
      env.crash(); counts.crashes++;
      await reopen();
      continue;
    }
    recorded = state;
    recordedModel = snapshot;
    if (stage === 4) { // power loss between the record and `committed`
      env.crash(); counts.crashes++;
      await reopen();
      continue;
    }
    file.committed();
    if (stage === 5) { env.crash(); counts.crashes++; await reopen(); }
    else if (stage === 6) { await file.close(); await reopen(); }
  }
  const { pages } = t.checkInvariants();
  expect(pages).toBe(file.pagesInUse());
  expect(entriesOf(t)).toEqual(m.entries);
  // a last crash-free checkpoint + reopen
  const lastMeta = t.prepareCheckpoint();
  t.commitCheckpoint();
  const st = file.prepare(lastMeta);
  await file.flush();
  file.committed();
  recorded = st;
  recordedModel = m.entries.slice();
  env.crash();
  await reopen();
  t.checkInvariants();
  expect(entriesOf(t)).toEqual(m.entries);
  return counts;
}

/**
 * A primary key's life in the engine, on an EnvPageFile: batches appended past the right edge
 * (appendBatch, then pages written ahead as KeyIndex does after a large append), single inserts
 * at the right edge, new versions of existing keys (an UPDATE: the same key, a new row id) and
 * deletes of entries, with a checkpoint's write-ahead slices (`prepare`, statements running between
 * them) before each cut; crashes (power loss, and process kills that keep every completed write)
 * at every step of the checkpoint protocol; after each the tree reopens at the recorded state and
 * must equal the model as of that state.
 */
async function primaryKeyDifferential(seed: number, rounds: number): Promise<{ crashes: number; appended: number }> {
  const r = new Rng(seed);
  const pk: KeyColumn[] = [{ type: 'int32' }];
  const mem = new MemEnv();
  let env = new FaultEnv(mem);
  await env.mkdir('/ix');
  let file = EnvPageFile.create(env, '/ix/1.qix', 512);
  let t: BTree = BTree.create(file, { unique: false });
  const m = new SortedModel(false);
  let recorded: PageFileState | undefined;
  let recordedModel: ModelEntry[] = [];
  let nextId = 0; // keys ascending (the table's ids)
  let nextRow = 1; // row ids
  const live: number[] = [];
  const counts = { crashes: 0, appended: 0 };
  const idOf = new Map<string, number>(); // key (binary string) -> id
  const k = (id: number): Uint8Array => {
    const key = encodeKey(pk, [id]);
    idOf.set(toBinary(key), id);
    return key;
  };
  const reopen = async (kill: boolean): Promise<void> => {
    counts.crashes++;
    if (kill) env = new FaultEnv((env.inner as MemEnv).snapshot()); // every completed write stays
    else env.crash(); // only what was synced
    file = await EnvPageFile.open(env, recorded!);
    t = BTree.open(file, recorded!.meta as PageId);
    m.entries = recordedModel.slice();
    // the live ids: those of the recorded entries (an id may have several versions); later ids
    // are not reused (as the engine's row ids are not)
    live.length = 0;
    for (const id of new Set(recordedModel.map((e) => idOf.get(e.key)!))) live.push(id);
  };
  const statement = (): void => {
    const x = r.int(100);
    if (x < 8) { // a bulk insert: an ascending batch past the right edge
      const n = 1 + r.int(r.bool() ? 40 : 400);
      const first = nextId;
      const rows = Float64Array.from({ length: n }, (_, i) => nextRow + i);
      expect(t.appendBatch((i) => k(first + i), rows, n)).toBe(true);
      if (n >= 64) t.writeAhead(Math.ceil(n / 64) + 4);
      for (let i = 0; i < n; i++) { m.insert(toBinary(k(first + i)), nextRow + i); live.push(first + i); }
      nextId += n; nextRow += n; counts.appended += n;
    } else if (x < 50) { // a single-row INSERT
      t.insert(k(nextId), rowId(nextRow));
      m.insert(toBinary(k(nextId)), nextRow);
      live.push(nextId++); nextRow++;
    } else if (x < 85 && live.length > 0) { // an UPDATE: a new version of a live id
      const id = live[r.int(live.length)]!;
      t.insert(k(id), rowId(nextRow));
      m.insert(toBinary(k(id)), nextRow++);
    } else if (m.entries.length > 0) { // an entry goes (a rebuild dropping dead versions)
      const e = m.entries[r.int(m.entries.length)]!;
      expect(t.delete(fromBinary(e.key), rowId(e.rowId))).toBe(true);
      m.delete(e.key, e.rowId);
    }
  };
  for (let round = 0; round < rounds; round++) {
    for (let s = r.int(150); s > 0; s--) statement();
    // the checkpoint's prepare: write-ahead slices, statements between them
    for (let slices = r.int(6); slices > 0; slices--) {
      t.writeAhead(1 + r.int(32));
      for (let s = r.int(20); s > 0; s--) statement();
    }
    // the cut
    const meta = t.prepareCheckpoint();
    t.commitCheckpoint();
    const state = file.prepare(meta);
    const snapshot = m.entries.slice();
    const flushing = file.flush();
    for (let s = r.int(40); s > 0; s--) statement(); // commits run during the flush
    await flushing;
    const stage = r.int(8);
    if (stage === 0 && recorded !== undefined) { await reopen(r.bool()); continue; } // flushed, not recorded
    recorded = state;
    recordedModel = snapshot;
    if (stage === 1) { await reopen(r.bool()); continue; } // recorded, before committed()
    file.committed();
    if (stage === 2) await reopen(r.bool());
    if (round % 7 === 0) { const { pages } = t.checkInvariants(); expect(pages).toBe(file.pagesInUse()); }
  }
  expect(entriesOf(t)).toEqual(m.entries);
  return counts;
}

describe('EnvPageFile', () => {
  const ops = LONG ? 1_000_000 : 100_000;
  for (const kind of kinds) {
    it(`${kind.name}: matches a sorted model through ${ops} operations across checkpoints, crashes and reopens`, async () => {
      const c = await persistDifferential(kind, 11, ops, 1500);
      expect(c.crashes).toBeGreaterThan(10);
      expect(c.faults).toBeGreaterThan(5);
      expect(c.reopens).toBeGreaterThan(15);
    }, LONG ? 3_600_000 : 120_000);
  }

  it('a primary key (appended batches, pages written ahead, new versions) across checkpoints and crashes', async () => {
    for (const seed of LONG ? [1, 2, 3, 4, 5, 6, 7, 8] : [1]) {
      const c = await primaryKeyDifferential(seed, LONG ? 600 : 120);
      expect(c.crashes).toBeGreaterThan(20);
      expect(c.appended).toBeGreaterThan(1000);
    }
  }, LONG ? 3_600_000 : 120_000);

  it('rejects a missing, short or corrupt file with XX002', async () => {
    const env = new MemEnv();
    await env.mkdir('/ix');
    const f = EnvPageFile.create(env, '/ix/a.qix', 512);
    const t = BTree.create(f, { unique: false });
    for (let i = 0; i < 500; i++) t.insert(encodeKey(spec, [i, 'x']), rowId(i + 1));
    const meta = t.prepareCheckpoint();
    t.commitCheckpoint();
    const st = f.prepare(meta);
    await f.flush();
    f.committed();
    await f.close();
    // intact: reopens, reading only the pages the tree visits
    const ok = await EnvPageFile.open(env, st);
    const t2 = BTree.open(ok, meta);
    expect(t2.getAll(encodeKey(spec, [7, 'x']))).toEqual([8]);
    expect(ok.stats.reads).toBeLessThan(st.pages / 2);
    await ok.close();
    await expect(EnvPageFile.open(env, { ...st, file: '/ix/none.qix' })).rejects.toMatchObject({ code: 'XX002' });
    await expect(EnvPageFile.open(env, { ...st, pages: st.pages + 3 })).rejects.toMatchObject({ code: 'XX002' });
    for (const page of [0, meta, st.dirHead, 2]) {
      const h = await env.open('/ix/a.qix');
      const at = page * 512 + 9;
      const b = await h.read(at, 1);
      await h.write(at, Uint8Array.of(b[0]! ^ 0x5a));
      await expect(EnvPageFile.open(env, st)).rejects.toMatchObject({ code: 'XX002' });
      await h.write(at, b);
      await h.close();
    }
    await (await EnvPageFile.open(env, st)).close();
  });
});
