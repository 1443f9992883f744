import { it } from 'vitest';
import { FaultEnv } from '../src/env/fault-env.js';
import { MemEnv } from '../src/env/mem-env.js';
import { openStore } from '../src/store.js';
import type { TableId, TxnId, Timestamp } from '@quiverdb/common';
import { Clock, randomRow, rng, rowsToBatch, scanAll, SPEC } from '../src/test-support.js';
it('prof', async () => {
  for (let rep = 0; rep < 3; rep++) {
  const env = new FaultEnv(new MemEnv());
  let t0 = performance.now();
  const s = await openStore({ env, dir: '/db', rowGroupSize: 16 });
  const t1 = performance.now();
  const clock = new Clock();
  const a = clock.begin(); s.createTable(a.txn, SPEC(7)); await clock.commit(s, a.txn);
  const r = rng(1);
  for (let i = 0; i < 10; i++) { const t = clock.begin(); s.insert(t.txn, 7 as TableId, rowsToBatch(Array.from({ length: 8 }, () => randomRow(r, i)))); await clock.commit(s, t.txn); }
  const t2 = performance.now();
  await s.checkpoint();
  const t3 = performance.now();
  await s.compact();
  s.abandon();
  const s2 = await openStore({ env: env, dir: '/db', rowGroupSize: 16 });
  const t4 = performance.now();
  await scanAll(s2, 7 as TableId, { txnId: 1 as TxnId, startTs: 1e9 as Timestamp });
  const t5 = performance.now();
  console.log({ open: t1 - t0, commits: t2 - t1, ckpt: t3 - t2, reopen: t4 - t3, scan: t5 - t4 });
  }
});
