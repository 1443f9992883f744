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
