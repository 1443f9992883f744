/**
 * `async` records and `wait conX` (the blocking-statement extension, README "Format"): a fake engine
 * where `LOCK` on one connection makes `BLOCKED` on another wait until `UNLOCK`.
 */
import { describe, expect, it } from 'vitest';
import type { SltConnection, SltDatabase, SltQueryResult } from '../src/database.js';
import { parseScript } from '../src/parser.js';
import { runScript } from '../src/runner.js';

function lockingDb(): SltDatabase {
  let release: (() => void) | undefined;
  let locked: Promise<void> | undefined;
  const ok = (command: string, rows: unknown[][] = []): SltQueryResult => ({ columns: rows.length ? [{ name: 'x', type: 'INTEGER' }] : [], rows, rowCount: rows.length, command });
  const conn = (): SltConnection => ({
    async query(sql: string) {
      if (sql === 'LOCK') { locked = new Promise((r) => { release = r; }); return ok('LOCK'); }
      if (sql === 'UNLOCK') { release?.(); locked = undefined; return ok('UNLOCK'); }
      if (sql === 'BLOCKED') { if (locked) await locked; return ok('SELECT', [[1]]); }
      if (sql === 'FAIL') throw Object.assign(new Error('boom'), { code: '40001' });
      return ok('OK');
    },
    async close() {},
  });
  return { connect: conn, async close() {} };
}

const run = (text: string) => runScript(parseScript(text, 'a.slt'), { open: async () => lockingDb(), timeoutMs: 2000 });

describe('async records', () => {
  it('parses `async` and `wait conX`', () => {
    const s = parseScript('statement ok con2 async\nBLOCKED\n\nquery I con1 async\nBLOCKED\n----\n1\n\nwait con2\n');
    expect(s.records.map((r) => r.kind)).toEqual(['statement', 'query', 'wait']);
    expect(s.records[0]).toMatchObject({ async: true, connection: 'con2' });
    expect(s.records[1]).toMatchObject({ async: true, connection: 'con1', label: undefined });
    expect(s.records[2]).toMatchObject({ connection: 'con2' });
  });

  it('a blocked record is judged at `wait` after another connection releases it', async () => {
    const r = await run('statement ok con1\nLOCK\n\nquery I con2 async\nBLOCKED\n----\n1\n\nstatement ok con1\nUNLOCK\n\nwait con2\n');
    expect(r.queries).toEqual({ ok: 1, wrong: 0, skipped: 0 });
    expect(r.statements).toEqual({ ok: 2, wrong: 0, skipped: 0 });
  });

  it('an `async` record that does not block counts as wrong', async () => {
    const r = await run('query I con2 async\nBLOCKED\n----\n1\n');
    expect(r.queries.wrong).toBe(1);
    expect(r.failures[0]!.reason).toMatch(/block/);
  });

  it('a pending record is judged before its connection runs again, and at the end of the file', async () => {
    const r = await run('statement ok con1\nLOCK\n\nstatement ok con2 async\nBLOCKED\n\nstatement ok con1\nUNLOCK\n\nstatement ok con2\nOK\n\nstatement ok con1\nLOCK\n\nstatement error 40001 con3 async\nBLOCKED\n');
    // the last one blocks forever (nobody unlocks) and times out at the end of the file
    expect(r.statements.ok).toBe(5);
    expect(r.statements.wrong).toBe(1);
    expect(r.timeouts).toBe(1);
  });
});
