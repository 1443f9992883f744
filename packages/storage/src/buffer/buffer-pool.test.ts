import { describe, expect, it } from 'vitest';
import { seededRandom, type TableId, type Timestamp, type TxnId } from '@quiverdb/common';
import { MemEnv } from '../env/mem-env.js';
import { openStore } from '../store.js';
import { Clock, randomRow, rng, rowsToBatch, scanAll, SPEC } from '../test-support.js';
import { BufferPool } from './buffer-pool.js';

describe('BufferPool (2Q)', () => {
  it('hits, misses, evictions, pins, budget', () => {
    const p = new BufferPool<string>(100);
    expect(p.get('a')).toBeUndefined();
    expect(p.put('a', 'A', 40)).toBe('A');
    expect(p.put('b', 'B', 40)).toBe('B');
    p.unpin('a');
    expect(p.put('c', 'C', 40)).toBe('C'); // evicts a (b is pinned)
    expect(p.has('a')).toBe(false);
    expect(p.put('d', 'D', 200)).toBeUndefined(); // larger than the budget: not cached
    expect(p.put('e', 'E', 40)).toBeUndefined(); // everything pinned
    p.checkInvariants();
    expect(p.stats()).toMatchObject({ misses: 1, evictions: 1, bytesInUse: 80, peakBytes: 80 });
  });

  it('keeps heap entries within the heap budget, evicting only heap entries for it', () => {
    const p = new BufferPool<string>(1000, 0.25, 4096, 100);
    expect(p.put('t1', 'T', 300)).toBe('T'); // typed data: budget only
    expect(p.put('h1', 'H', 60, true)).toBe('H');
    p.unpin('t1');
    p.unpin('h1');
    expect(p.put('h2', 'H', 60, true)).toBe('H'); // 120 > 100 on the heap: h1 goes, t1 stays
    expect(p.has('h1')).toBe(false);
    expect(p.has('t1')).toBe(true);
    expect(p.heapBytes).toBe(60);
    expect(p.put('h3', 'H', 60, true)).toBeUndefined(); // h2 pinned: no heap room
    expect(p.put('h4', 'H', 101, true)).toBeUndefined(); // larger than the heap budget
    p.checkInvariants();
    // randomized against a model: heap bytes never exceed the heap budget while unpinned entries remain
    const rand = seededRandom(7);
    const q = new BufferPool<number>(5000, 0.25, 64, 1200);
    const pinned: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const k = `k${Math.floor(rand() * 200)}`;
      if (q.get(k) === undefined) {
        if (q.put(k, i, 10 + Math.floor(rand() * 200), rand() < 0.5) === undefined) continue;
      }
      pinned.push(k);
      while (pinned.length > 3) q.unpin(pinned.shift()!);
      q.checkInvariants();
      expect(q.heapBytes).toBeLessThanOrEqual(1200);
    }
  });

  it('resists scans: a re-referenced hot set survives a long one-pass scan', () => {
    const p = new BufferPool<number>(1000);
    const touch = (k: string): void => {
      if (p.get(k) === undefined) p.put(k, 1, 10);
      p.unpin(k);
    };
    // hot keys: referenced, evicted once into the ghost list, referenced again -> Am
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 30; i++) touch(`hot${i}`);
      for (let i = 0; i < 100; i++) touch(`warm${round}-${i}`);
    }
    for (let i = 0; i < 30; i++) touch(`hot${i}`);
    for (let i = 0; i < 10_000; i++) touch(`scan${i}`);
    let hits = 0;
    for (let i = 0; i < 30; i++) { if (p.get(`hot${i}`) !== undefined) { hits++; p.unpin(`hot${i}`); } }
    expect(hits).toBe(30);
    p.checkInvariants();
    expect(p.stats().peakBytes).toBeLessThanOrEqual(1000);
  });

  it('random operations keep the invariants', () => {
    const r = rng(3);
    const p = new BufferPool<number>(500);
    const pinned: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const k = `k${Math.floor(r() * 80)}`;
      if (r() < 0.5 && pinned.length > 0) p.unpin(pinned.splice(Math.floor(r() * pinned.length), 1)[0]!);
      else if (p.get(k) !== undefined) pinned.push(k);
      else if (p.put(k, i, 1 + Math.floor(r() * 60)) !== undefined) pinned.push(k);
      if (pinned.length > 6) p.unpin(pinned.shift()!);
      p.checkInvariants();
    }
  });
});

describe('Store scans through the buffer pool', () => {
  it('a table 10x the budget scans within it; a repeated scan that fits is served from the pool', async () => {
    const limit = 128 * 1024;
    const s = await openStore({ env: new MemEnv(), dir: '/db', rowGroupSize: 1024, memoryLimit: limit });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    const r = rng(1);
    const N = 30_000;
    for (let i = 0; i < N; i += 10_000) s.insert(a.txn, 7 as TableId, rowsToBatch(Array.from({ length: 10_000 }, (_, j) => randomRow(r, i + j))));
    await clock.commit(s, a.txn);
    await s.checkpoint();
    // (the load above was one uncommitted transaction larger than the budget: measure the scans)
    expect(s.stats().bufferPool.reservedBytes).toBe(0);
    s.bufferPool.resetPeak();
    const snap = { txnId: 1 as TxnId, startTs: 1e9 as Timestamp };
    let rows = 0;
    let bytes = 0;
    for await (const b of s.scan(7 as TableId, snap, { columns: [0, 1, 2, 3] })) {
      rows += b.batch.length;
      bytes += b.batch.length * (4 + 8 + 8 + 3) + (b.batch.columns[1]!.data as string[]).reduce((n, x) => n + 16 + x.length * 2, 0);
    }
    expect(rows).toBe(N);
    expect(bytes).toBeGreaterThan(10 * limit);
    const st = s.stats().bufferPool;
    expect(st.peakBytes).toBeLessThanOrEqual(limit);
    expect(st.evictions).toBeGreaterThan(0);
    // one int column of 3 row groups fits: the second scan is all hits
    const pred = [{ kind: 'cmp', column: 0, op: '<', value: 3 * 1024 } as const];
    const scanSmall = async (): Promise<number> => {
      let n = 0;
      for await (const b of s.scan(7 as TableId, snap, { columns: [0], predicates: pred })) n += b.batch.length;
      return n;
    };
    expect(await scanSmall()).toBe(3 * 1024);
    const before = s.stats().bufferPool;
    expect(await scanSmall()).toBe(3 * 1024);
    const after = s.stats().bufferPool;
    expect(after.misses).toBe(before.misses);
    expect(after.hits - before.hits).toBe(3);
    s.checkInvariants();
    await s.close();
  });

  it('a checkpoint offers the rows it moved to the pool: the first scan reads no file and equals a decode of the file', async () => {
    const env = new MemEnv();
    let s = await openStore({ env, dir: '/db', rowGroupSize: 500, memoryLimit: 64 << 20 });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    const r = rng(5);
    s.insert(a.txn, 7 as TableId, rowsToBatch(Array.from({ length: 2300 }, (_, j) => randomRow(r, j))));
    await clock.commit(s, a.txn);
    await s.checkpoint();
    expect(s.stats().deltaBytes).toBe(0);
    const before = s.stats().bufferPool;
    const pooled = await scanAll(s, 7 as TableId, clock.readSnap());
    const after = s.stats().bufferPool;
    expect(after.misses).toBe(before.misses); // every row group came from the pool
    expect(after.hits - before.hits).toBe(5 * 4);
    s.checkInvariants();
    await s.close();
    // reopened: nothing pooled, the same rows decoded from the segment file
    s = await openStore({ env, dir: '/db', rowGroupSize: 500, memoryLimit: 64 << 20 });
    const decoded = await scanAll(s, 7 as TableId, clock.readSnap());
    expect(s.stats().bufferPool.misses).toBeGreaterThan(0);
    expect(pooled).toEqual(decoded);
    expect(pooled.length).toBe(2300);
    await s.close();
    // a budget with no free room: the offer evicts nothing
    const tiny = await openStore({ env: new MemEnv(), dir: '/db', rowGroupSize: 500, memoryLimit: 16 * 1024 });
    const b = clock.begin();
    tiny.createTable(b.txn, SPEC(8));
    tiny.insert(b.txn, 8 as TableId, rowsToBatch(Array.from({ length: 2300 }, (_, j) => randomRow(r, j))));
    await clock.commit(tiny, b.txn);
    await tiny.checkpoint();
    expect(tiny.stats().bufferPool.evictions).toBe(0);
    expect(tiny.stats().bufferPool.bytesInUse).toBeLessThanOrEqual(16 * 1024);
    tiny.checkInvariants();
    await tiny.close();
  });

  it('loading a table 10x the budget in committed batches keeps the delta and the pool within it: the delta triggers checkpoints', async () => {
    const limit = 256 * 1024;
    const s = await openStore({ env: new MemEnv(), dir: '/db', rowGroupSize: 2048, memoryLimit: limit, checkpointWalBytes: 1 << 30 });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    await clock.commit(s, a.txn);
    const r = rng(2);
    let loaded = 0;
    let n = 0;
    while (loaded < 10 * limit) {
      const t = clock.begin();
      const batch = rowsToBatch(Array.from({ length: 500 }, (_, j) => randomRow(r, n + j)));
      for (const v of batch.columns) loaded += Array.isArray(v.data) ? (v.data as string[]).reduce((x, y) => x + 16 + y.length * 2, 0) : (v.data as Int32Array).byteLength;
      s.insert(t.txn, 7 as TableId, batch);
      n += 500;
      await clock.commit(s, t.txn);
      const st = s.stats();
      expect(st.deltaBytes!).toBeLessThanOrEqual(limit);
      expect(st.bufferPool.bytesInUse).toBeLessThanOrEqual(limit);
      // a scan meanwhile shares the budget with the delta
      if (n % 5000 === 0) for await (const _ of s.scan(7 as TableId, clock.readSnap(), { columns: [0, 1] })) void _;
    }
    await s.checkpoint();
    const st = s.stats();
    expect(st.checkpoints).toBeGreaterThanOrEqual(5); // the WAL never reached checkpointWalBytes: the delta's share did
    expect(st.bufferPool.peakBytes).toBeLessThanOrEqual(limit);
    expect(st.deltaBytes).toBe(0);
    let rows = 0;
    for await (const b of s.scan(7 as TableId, clock.readSnap(), { columns: [0] })) rows += b.batch.length;
    expect(rows).toBe(n);
    s.checkInvariants();
    await s.close();
  });
});
