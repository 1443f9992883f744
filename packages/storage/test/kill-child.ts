/**
 * Child process of kill.test.ts: runs a random workload on a NodeEnv store and reports, on fd 1,
 * one JSON line per commit: {"t":"begin",...} before prepareCommit and {"t":"ack"} after it
 * resolved. The parent SIGKILLs it at a random moment. Checkpoints and compactions run in the
 * background, concurrently with the commits.
 */
import { writeSync } from 'node:fs';
import type { TableId, Timestamp, TxnId } from '@quiverdb/common';
import { NodeEnv } from '../src/env/node-env.js';
import { openStore } from '../src/store.js';
import { rng, rowsToBatch, scanAll, SPEC, randomRow } from '../src/test-support.js';

const [dir, seedArg] = process.argv.slice(2);
const T = 7 as TableId;
const say = (o: unknown): void => { writeSync(1, JSON.stringify(o) + '\n'); };

async function main(): Promise<void> {
  const r = rng(Number(seedArg));
  const s = await openStore({ env: new NodeEnv(), dir: dir!, rowGroupSize: 64, checkpointWalBytes: 32 * 1024 }, { smallSegmentRows: 500, walSegmentBytes: 16 * 1024 });
  let ts = s.recoveredCommitTs + 1;
  let txn = 2 ** 50 + 1;
  const begin = (): { txn: TxnId; snap: { txnId: TxnId; startTs: Timestamp } } => {
    const id = txn++ as TxnId;
    return { txn: id, snap: { txnId: id, startTs: (ts + 1) as Timestamp } };
  };
  if (!s.hasTable(T)) {
    const a = begin();
    s.createTable(a.txn, SPEC(7));
    say({ t: 'begin', create: true, ins: [], del: [] });
    await s.prepareCommit(a.txn);
    s.finishCommit(a.txn, ++ts as Timestamp);
    say({ t: 'ack' });
  }
  // live row ids, kept locally (one scan at start) so a txn need not scan to pick deletes
  const live = (await scanAll(s, T, { txnId: 1 as TxnId, startTs: (ts + 1) as Timestamp })).map((x) => x.id);
  say({ t: 'ready' });
  let key = Math.floor(r() * 1e6) * 1000;
  for (;;) {
    const t = begin();
    const rows = Array.from({ length: 1 + Math.floor(r() * 40) }, () => randomRow(r, key++));
    const ids = s.insert(t.txn, T, rowsToBatch(rows));
    const del: number[] = [];
    if (r() < 0.5) for (let i = 0; i < 3 && live.length > 0; i++) del.push(live[Math.floor(r() * live.length)]!);
    const outs = s.delete(t.txn, t.snap, T, Float64Array.from(new Set(del)));
    const deleted = [...new Set(del)].filter((_, i) => outs[i]!.kind === 'deleted');
    say({ t: 'begin', ins: [...ids].map((id, i) => [id, rows[i]![0]]), del: deleted });
    await s.prepareCommit(t.txn);
    s.finishCommit(t.txn, ++ts as Timestamp);
    say({ t: 'ack' });
    live.push(...ids);
    for (const id of deleted) live.splice(live.indexOf(id), 1);
    const x = r();
    const bg = (what: string, p: Promise<void>): void => {
      say({ t: 'bg-start', what });
      p.then(() => say({ t: 'bg-done', what }), (e: unknown) => say({ t: 'error', message: `${what}: ${String(e)}` }));
    };
    if (x < 0.15) bg('checkpoint', s.checkpoint());
    else if (x < 0.2) { s.setGcHorizon((ts + 1) as Timestamp); bg('compact', s.compact()); }
  }
}

main().catch((e: unknown) => { say({ t: 'error', message: String(e) }); process.exit(1); });
