import { describe, expect, it } from 'vitest';
import type { ColumnBatch, TableId, Timestamp, TxnId } from '@quiverdb/common';
import type { StoragePredicate, StoredTableSpec } from './api.js';
import { MemEnv } from './env/mem-env.js';
import { openStore, type QuiverStore } from './store.js';
import { Clock, rowsToBatch, SPEC } from './test-support.js';

const T = 7 as TableId;

async function rowsOf(s: QuiverStore, snap: { txnId: TxnId; startTs: Timestamp }, columns: number[]): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const { batch } of s.scan(T, snap, { columns })) {
    for (let i = 0; i < batch.length; i++) {
      out.push(batch.columns.map((c) => (c.validity !== null && c.validity[i] === 0 ? null : (c.data as ArrayLike<unknown>)[i])));
    }
  }
  return out.sort((a, b) => (a[0] as number) - (b[0] as number));
}

describe('DDL through storage', () => {
  it('ADD / RENAME / DROP COLUMN over segments and delta, recovered from WAL and manifest', async () => {
    const env = new MemEnv();
    let s = await openStore({ env, dir: '/db', rowGroupSize: 4 });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    s.insert(a.txn, T, rowsToBatch([[1, 'a', 1n, 1], [2, 'b', 2n, 2]]));
    await clock.commit(s, a.txn);
    await s.checkpoint();
    const base = SPEC(7);
    const added: StoredTableSpec = { id: T, columns: [...base.columns, { id: 5, name: 'extra', type: 'utf8', nullable: true }] };
    const b = clock.begin();
    s.alterTable(b.txn, added);
    const withExtra: ColumnBatch = { length: 1, columns: [...rowsToBatch([[3, 'c', 3n, 3]]).columns, { data: ['x'], validity: null }] };
    s.insert(b.txn, T, withExtra);
    await clock.commit(s, b.txn);
    expect(await rowsOf(s, clock.readSnap(), [0, 4])).toEqual([[1, null], [2, null], [3, 'x']]);
    // IS NOT NULL on the new column prunes the old segment's row group
    const st = { rowGroupsTotal: 0, rowGroupsSkipped: 0 };
    for await (const _ of s.scan(T, clock.readSnap(), { columns: [4], predicates: [{ kind: 'isNull', column: 4, negated: true }] }, st)) void _;
    expect(st).toEqual({ rowGroupsTotal: 1, rowGroupsSkipped: 1 });
    await s.checkpoint();
    const renamed: StoredTableSpec = { id: T, columns: added.columns.map((c) => (c.id === 2 ? { ...c, name: 'renamed' } : c)) };
    const c = clock.begin();
    s.alterTable(c.txn, renamed);
    await clock.commit(s, c.txn);
    expect(await rowsOf(s, clock.readSnap(), [0, 1])).toEqual([[1, 'a'], [2, 'b'], [3, 'c']]);
    const dropped: StoredTableSpec = { id: T, columns: renamed.columns.filter((x) => x.id !== 3) };
    const d = clock.begin();
    s.alterTable(d.txn, dropped);
    await clock.commit(s, d.txn);
    // rolled back ALTER restores the spec
    const e = clock.begin();
    s.alterTable(e.txn, base);
    s.rollback(e.txn);
    const want = [[1, 'a', 1, null], [2, 'b', 2, null], [3, 'c', 3, 'x']];
    expect(await rowsOf(s, clock.readSnap(), [0, 1, 2, 3])).toEqual(want);
    s.abandon();
    env.crash();
    s = await openStore({ env, dir: '/db', rowGroupSize: 4 });
    const snap = { txnId: 1 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp };
    expect(await rowsOf(s, snap, [0, 1, 2, 3])).toEqual(want);
    await s.checkpoint();
    s.abandon();
    env.crash();
    s = await openStore({ env, dir: '/db', rowGroupSize: 4 });
    expect(await rowsOf(s, { txnId: 1 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp }, [0, 1, 2, 3])).toEqual(want);
    await s.close();
  });

  it('DROP TABLE: gone at commit, files removed after the next checkpoint; a rolled back drop keeps it', async () => {
    const env = new MemEnv();
    let s = await openStore({ env, dir: '/db' });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    s.insert(a.txn, T, rowsToBatch([[1, 'a', 1n, 1]]));
    await clock.commit(s, a.txn);
    await s.checkpoint();
    expect(await env.list('/db/data/7')).toHaveLength(1);
    const r = clock.begin();
    s.dropTable(r.txn, T);
    s.rollback(r.txn);
    expect(s.hasTable(T)).toBe(true);
    const b = clock.begin();
    s.dropTable(b.txn, T);
    await clock.commit(s, b.txn);
    expect(s.hasTable(T)).toBe(false);
    s.abandon();
    env.crash();
    s = await openStore({ env, dir: '/db' });
    expect(s.hasTable(T)).toBe(false);
    await s.checkpoint();
    expect(await env.exists('/db/data/7')).toBe(false);
    await s.close();
  });
});

describe('scan shapes', () => {
  it('no columns (count(*)) and row ids only, over segments and delta', async () => {
    const s = await openStore({ env: new MemEnv(), dir: '/db', rowGroupSize: 3 });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    s.insert(a.txn, T, rowsToBatch([[1, 'a', 1n, 1], [2, 'b', 2n, 2], [3, 'c', 3n, 3], [4, 'd', 4n, 4]]));
    await clock.commit(s, a.txn);
    await s.checkpoint();
    const b = clock.begin();
    s.insert(b.txn, T, rowsToBatch([[5, 'e', 5n, 5]]));
    s.delete(b.txn, b.snap, T, Float64Array.of(1));
    await clock.commit(s, b.txn);
    let n = 0;
    const ids: number[] = [];
    for await (const x of s.scan(T, clock.readSnap(), { columns: [], withRowIds: true, batchSize: 2 })) {
      n += x.batch.length;
      expect(x.batch.columns).toHaveLength(0);
      ids.push(...x.rowIds!);
    }
    expect(n).toBe(4);
    expect(ids.sort()).toEqual([0, 2, 3, 4]);
    expect(s.rowCount(T)).toBe(4);
    await s.close();
  });
});

describe('ADD COLUMN with a missing value (DEFAULT)', () => {
  it('old rows read it, and zone maps of old segments prune with it, not with NULL', async () => {
    const s = await openStore({ env: new MemEnv(), dir: '/db', rowGroupSize: 4 });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    s.insert(a.txn, T, rowsToBatch([[1, 'a', 1n, 1], [2, 'b', 2n, 2]]));
    await clock.commit(s, a.txn);
    await s.checkpoint();
    const spec: StoredTableSpec = { id: T, columns: [...SPEC(7).columns, { id: 5, name: 'n', type: 'int64', nullable: true, missing: '42' }] };
    const b = clock.begin();
    s.alterTable(b.txn, spec);
    await clock.commit(s, b.txn);
    expect(await rowsOf(s, clock.readSnap(), [0, 4])).toEqual([[1, 42n], [2, 42n]]);
    const count = async (p: StoragePredicate): Promise<number> => {
      let n = 0;
      for await (const x of s.scan(T, clock.readSnap(), { columns: [4], predicates: [p] })) n += x.batch.length;
      return n;
    };
    expect(await count({ kind: 'cmp', column: 4, op: '=', value: 42n })).toBe(2);
    expect(await count({ kind: 'cmp', column: 4, op: '>', value: 42n })).toBe(0);
    expect(await count({ kind: 'isNull', column: 4, negated: false })).toBe(0);
    expect(await count({ kind: 'isNull', column: 4, negated: true })).toBe(2);
    await s.close();
  });
});

describe('open failures', () => {
  it('a corrupt manifest is XX001 (every time: a failed open does not keep the lock)', async () => {
    const env = new MemEnv();
    const s = await openStore({ env, dir: '/db' });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    await clock.commit(s, a.txn);
    await s.close(); // checkpoints
    const name = new TextDecoder().decode(await env.readFile('/db/CURRENT')).trim();
    const bytes = await env.readFile(`/db/${name}`);
    bytes[bytes.length - 2] ^= 0xff;
    await env.writeFile(`/db/${name}`, bytes);
    await expect(openStore({ env, dir: '/db' })).rejects.toMatchObject({ code: 'XX001' });
    await expect(openStore({ env, dir: '/db' })).rejects.toMatchObject({ code: 'XX001' });
  });
});

describe('deferred insert records (single-row inserts)', () => {
  it('runs of small inserts become few WAL records; statement rollbacks, deletes and DDL between them recover exactly', async () => {
    const env = new MemEnv();
    let s = await openStore({ env, dir: '/db', rowGroupSize: 8 });
    const clock = new Clock();
    const a = clock.begin();
    s.createTable(a.txn, SPEC(7));
    await clock.commit(s, a.txn);
    const b = clock.begin();
    const want = new Map<number, unknown[]>();
    const ids: number[] = [];
    for (let k = 0; k < 300; k++) {
      const mark = s.savepoint(b.txn);
      const [id] = s.insert(b.txn, T, rowsToBatch([[k, k % 7 === 0 ? null : `v${k}`, BigInt(k), k / 2]]));
      if (k % 10 === 3) { s.rollbackTo(b.txn, mark); continue; } // a failed statement
      ids.push(id!);
      want.set(k, [k, k % 7 === 0 ? null : `v${k}`, BigInt(k), k / 2]);
      if (k % 25 === 24) {
        // an UPDATE's delete of an earlier row of this transaction
        const victim = ids.splice(Math.floor(ids.length / 2), 1)[0]!;
        expect(s.delete(b.txn, b.snap, T, Float64Array.of(victim))).toEqual([{ kind: 'deleted' }]);
      }
    }
    // ALTER in the same transaction: the deferred rows before it are encoded then, one record
    // each (a ROLLBACK TO SAVEPOINT may still drop some), under the columns they were inserted with
    const added: StoredTableSpec = { id: T, columns: [...SPEC(7).columns, { id: 5, name: 'extra', type: 'utf8', nullable: true }] };
    s.alterTable(b.txn, added);
    for (let k = 300; k < 310; k++) {
      s.insert(b.txn, T, { length: 1, columns: [...rowsToBatch([[k, `v${k}`, BigInt(k), k / 2]]).columns, { data: [`x${k}`], validity: null }] });
      want.set(k, [k, `v${k}`, BigInt(k), k / 2]);
    }
    await clock.commit(s, b.txn);
    // without DDL, a run of single-row inserts is one record: ~30 bytes a row here, against
    // ~160 with a record per row (the ALTER above gave those)
    const perRow = async (): Promise<number> => {
      const before = s.stats().walBytes;
      const c = clock.begin();
      for (let k = 1000; k < 1200; k++) s.insert(c.txn, T, { length: 1, columns: [...rowsToBatch([[k, `v${k}`, BigInt(k), k / 2]]).columns, { data: [null], validity: Uint8Array.of(0) }] });
      await clock.commit(s, c.txn);
      for (let k = 1000; k < 1200; k++) want.set(k, [k, `v${k}`, BigInt(k), k / 2]);
      return (s.stats().walBytes - before) / 200;
    };
    expect(await perRow()).toBeLessThan(60);
    const check = async (): Promise<void> => {
      const snap = { txnId: 1 as TxnId, startTs: (Math.max(clock.ts, s.recoveredCommitTs) + 1) as Timestamp };
      const rows = await rowsOf(s, snap, [0, 1, 2, 3]);
      const live = new Map(rows.map((r) => [r[0] as number, r]));
      // every kept row but the deleted ones, with its values
      const deleted = [...want.keys()].filter((k) => !live.has(k));
      expect(deleted.length).toBe(Math.floor(300 / 25));
      for (const [k, row] of live) expect(row).toEqual(want.get(k));
      expect(live.has(3)).toBe(false); // rolled back statements are gone
      expect(live.size).toBe(want.size - deleted.length);
    };
    await check();
    s.abandon();
    env.crash();
    s = await openStore({ env, dir: '/db', rowGroupSize: 8 });
    await check();
    await s.close();
  });
});
