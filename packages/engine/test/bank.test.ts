/**
 * Randomized bank: 16+ connections run transfers between accounts and invariant checks at
 * REPEATABLE READ and SERIALIZABLE, retrying on 40001 / 40P01, for a fixed number of operations.
 *
 * Checked:
 *  - every invariant check (a read of all accounts in one transaction) sees the constant total;
 *  - no committed transfer is lost: replaying the committed transfers in commit order on a model
 *    gives exactly the final balances, and each account's last writer is the model's;
 *  - SERIALIZABLE: the committed history (reads with the writer of the version seen, through a
 *    `ver` column every write stamps; writes) has an equivalent serial order (`checkSerializable`).
 *
 * Transfers read both balances and write ABSOLUTE values (balance = read value +/- amount), so a
 * lost update or a read of a stale version would break the model comparison.
 * QUIVER_LONG=1 runs 10x more operations.
 */
import { describe, expect, it } from 'vitest';
import { DbError } from '@quiverdb/common';
import { checkSerializable, type HistoryTransaction } from '@quiverdb/txn';
import { Database, type Connection } from '../src/index.js';
import { seededRandom } from '@quiverdb/common';

const LONG = process.env.QUIVER_LONG === '1';

interface Committed {
  readonly tag: number;
  readonly order: number;
  readonly reads: { item: number; from: number | null }[];
  readonly writes: { item: number; balance: number }[];
}

async function runBank(level: 'REPEATABLE READ' | 'SERIALIZABLE', seed: number, opts: { connections: number; accounts: number; ops: number }) {
  const db = await Database.open(':memory:');
  const setup = db.connect();
  await setup.query('CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, ver INTEGER NOT NULL)');
  const initial = 1000;
  const values = Array.from({ length: opts.accounts }, (_, i) => `(${i}, ${initial}, 0)`).join(', ');
  await setup.query(`INSERT INTO accounts VALUES ${values}`);
  const total = initial * opts.accounts;

  const random = seededRandom(seed);
  let nextTag = 1;
  let commitOrder = 0;
  const committed: Committed[] = [];
  const stats = { committed: 0, transfers: 0, checks: 0, retries: 0, serializationFailures: 0, deadlocks: 0, skipped: 0, maxAttempts: 0 };
  let opsLeft = opts.ops;

  const yieldNow = () => new Promise<void>((r) => setImmediate(r));

  const worker = async (conn: Connection) => {
    while (opsLeft > 0) {
      opsLeft--;
      const check = random() < 0.2;
      const a = Math.floor(random() * opts.accounts);
      let b = Math.floor(random() * (opts.accounts - 1));
      if (b >= a) b++;
      const amount = 1 + Math.floor(random() * 50);
      for (let attempt = 0; ; attempt++) {
        const tag = nextTag++;
        const reads: { item: number; from: number | null }[] = [];
        const writes: { item: number; balance: number }[] = [];
        try {
          await conn.query(`BEGIN ISOLATION LEVEL ${level}${check ? ' READ ONLY' : ''}`);
          if (check) {
            const r = await conn.query('SELECT id, balance, ver FROM accounts ORDER BY id');
            let sum = 0;
            for (const [id, bal, ver] of r.rows as [number, number, number][]) {
              sum += bal;
              reads.push({ item: id, from: ver === 0 ? null : ver });
            }
            expect(r.rows.length).toBe(opts.accounts);
            expect(sum).toBe(total);
          } else {
            const ra = await conn.query(`SELECT balance, ver FROM accounts WHERE id = ${a}`);
            await yieldNow();
            const rb = await conn.query(`SELECT balance, ver FROM accounts WHERE id = ${b}`);
            const [balA, verA] = ra.rows[0] as [number, number];
            const [balB, verB] = rb.rows[0] as [number, number];
            reads.push({ item: a, from: verA === 0 ? null : verA }, { item: b, from: verB === 0 ? null : verB });
            if (balA >= amount) {
              await conn.query(`UPDATE accounts SET balance = ${balA - amount}, ver = ${tag} WHERE id = ${a}`);
              await yieldNow();
              await conn.query(`UPDATE accounts SET balance = ${balB + amount}, ver = ${tag} WHERE id = ${b}`);
              writes.push({ item: a, balance: balA - amount }, { item: b, balance: balB + amount });
            }
          }
          await conn.query('COMMIT');
          committed.push({ tag, order: commitOrder++, reads, writes });
          stats.committed++;
          if (check) stats.checks++;
          else if (writes.length > 0) stats.transfers++;
          else stats.skipped++;
          break;
        } catch (err) {
          await conn.query('ROLLBACK');
          const code = err instanceof DbError ? err.code : undefined;
          if (code === '40001') stats.serializationFailures++;
          else if (code === '40P01') stats.deadlocks++;
          else throw err;
          stats.retries++;
          if (attempt > 500) throw new Error(`${check ? 'check' : 'transfer'} retried more than 500 times: ${code}`);
          stats.maxAttempts = Math.max(stats.maxAttempts, attempt + 1);
          // randomized backoff growing with the attempts, so no transaction starves
          await new Promise((r) => setTimeout(r, random() * Math.min(attempt + 1, 16)));
        }
      }
    }
  };

  const started = performance.now();
  const conns = Array.from({ length: opts.connections }, () => db.connect());
  await Promise.all(conns.map(worker));
  const ms = performance.now() - started;

  // the model: committed transfers replayed in commit order
  const model = new Map<number, { balance: number; ver: number }>();
  for (let i = 0; i < opts.accounts; i++) model.set(i, { balance: initial, ver: 0 });
  for (const t of [...committed].sort((x, y) => x.order - y.order)) {
    for (const w of t.writes) model.set(w.item, { balance: w.balance, ver: t.tag });
  }
  const final = await setup.query('SELECT id, balance, ver FROM accounts ORDER BY id');
  const actual = (final.rows as [number, number, number][]).map(([id, balance, ver]) => [id, balance, ver]);
  const expected = [...model].map(([id, m]) => [id, m.balance, m.ver]);
  expect(actual).toEqual(expected);
  expect(actual.reduce((s, r) => s + r[1]!, 0)).toBe(total);

  // computed at both levels; asserted at SERIALIZABLE (REPEATABLE READ may show read-only anomalies)
  let verdict: ReturnType<typeof checkSerializable<number>> | undefined;
  {
    const history: HistoryTransaction<number>[] = committed.map((t) => ({
      id: t.tag,
      commitOrder: t.order,
      reads: t.reads,
      writes: t.writes.map((w) => w.item),
    }));
    verdict = checkSerializable(history);
  }
  await db.close();
  return { stats, ms, verdict };
}

describe('bank: concurrent transfers keep the total', () => {
  const opts = { connections: 16, accounts: 40, ops: LONG ? 2000 : 160 };
  for (const level of ['REPEATABLE READ', 'SERIALIZABLE'] as const) {
    it(`${level}: ${opts.connections} connections, ${opts.ops} operations`, async () => {
      const { stats, ms, verdict } = await runBank(level, 0x5eed + (level === 'SERIALIZABLE' ? 1 : 0), opts);
      console.log(`bank ${level}: ${JSON.stringify(stats)} in ${ms.toFixed(0)} ms (${((stats.committed / ms) * 1000).toFixed(0)} commits/s)`);
      expect(stats.committed).toBe(opts.ops);
      expect(stats.transfers).toBeGreaterThan(opts.ops / 2);
      expect(stats.checks).toBeGreaterThan(0);
      console.log(`bank ${level}: committed history serializable: ${verdict!.serializable}`);
      if (level === 'SERIALIZABLE') {
        if (!verdict!.serializable) console.log('cycle:', JSON.stringify(verdict!.cycle));
        expect(verdict!.serializable).toBe(true);
      }
    }, 120_000);
  }
});
