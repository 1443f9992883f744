import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeOpener } from '../test/fake-database.js';
import type { Canned, FakeDbLog } from '../test/fake-database.js';
import { parseScript } from './parser.js';
import { passRate, runFile, runScript, settleWithin } from './runner.js';

const canned: Record<string, Canned> = {
  'SELECT 1': { columns: ['x'], rows: [[1]] },
  'SELECT pair': { columns: ['a', 'b'], rows: [[2, 'z'], [1, 'y']] },
  'SELECT big': { columns: ['n'], rows: Array.from({ length: 20 }, (_, i) => [i]) },
  'SELECT real': { columns: ['r'], rows: [[2.5]] },
};

const run = (text: string, opts: Parameters<typeof runScript>[1] = {}) =>
  runScript(parseScript(text, 't.slt'), { open: fakeOpener(canned), ...opts });

describe('runScript', () => {
  it('scores passing and failing statements and queries', async () => {
    const r = await run(`statement ok
CREATE TABLE t

statement ok
CREATE TABLE t

statement error
CREATE TABLE t

query I
SELECT 1
----
1

query I
SELECT 1
----
2

query II rowsort
SELECT pair
----
1
y
2
z

query I
SELECT nothing
----
1
`);
    expect(r.statements).toEqual({ ok: 2, wrong: 1, skipped: 0 });
    expect(r.queries).toEqual({ ok: 1, wrong: 3, skipped: 0 });
    // 'II' declared for a text column is read as an integer: 'y' -> 0, so the rowsort query is wrong
    expect(r.failures.map((f) => f.line)).toEqual([4, 15, 20, 28]);
    expect(passRate(r.queries)).toBe(0.25);
  });

  it('matches statement error SQLSTATEs (header form and ---- form)', async () => {
    const r = await run(`statement error 42P07
FAIL 42P07

statement error 42P01
FAIL 42P07

statement error
FAIL 42P07
----
42P07

query error 22012
FAIL 22012
`);
    expect(r.statements).toEqual({ ok: 2, wrong: 1, skipped: 0 });
    expect(r.queries).toEqual({ ok: 1, wrong: 0, skipped: 0 });
  });

  it('skips by skipif/onlyif, stops at halt, applies hash-threshold', async () => {
    const r = await run(`skipif postgresql
query I
SELECT 1
----
1

onlyif mysql
statement ok
FAIL 42601

hash-threshold 5

query I nosort
SELECT big
----
20 values hashing to ${'0'.repeat(32)}

onlyif sqlite
halt

query R
SELECT real
----
2.500

halt

query I
SELECT 1
----
1
`);
    expect(r.queries).toEqual({ ok: 1, wrong: 1, skipped: 1 });
    expect(r.statements).toEqual({ ok: 0, wrong: 0, skipped: 1 });
    expect(r.halted).toBe(true);
  });

  it('gives each named connection its own session on one database', async () => {
    const log: FakeDbLog = { opened: [], closed: 0, connections: 0, closedConnections: 0 };
    const r = await runScript(
      parseScript(`statement ok con1
SET v = one

statement ok con2
SET v = two

query T con1
SHOW v
----
one

query T con2
SHOW v
----
two

query T
SHOW v
----
NULL
`),
      { open: fakeOpener(canned, log) },
    );
    expect(r.queries).toEqual({ ok: 3, wrong: 0, skipped: 0 });
    expect(log.opened).toEqual([':memory:']);
    expect(log.connections).toBe(3);
    expect(log.closedConnections).toBe(3);
    expect(log.closed).toBe(1);
  });

  it('counts a hung record as timed out, replaces its connection and goes on', async () => {
    const r = await run(`statement ok
SET v = 1

statement ok
HANG

query T
SHOW v
----
NULL

query I
SELECT 1
----
1
`, { timeoutMs: 50 });
    expect(r.timeouts).toBe(1);
    expect(r.statements).toEqual({ ok: 1, wrong: 1, skipped: 0 });
    // the fresh connection does not see the abandoned one's variable
    expect(r.queries).toEqual({ ok: 2, wrong: 0, skipped: 0 });
  });

  it('counts every record as wrong when the database does not open', async () => {
    const r = await runScript(parseScript('statement ok\nCREATE TABLE t\n\nquery I\nSELECT 1\n----\n1\n'), {
      open: () => Promise.reject(new Error('no engine')),
    });
    expect(r.fatal).toMatch(/did not open/);
    expect(r.queries.wrong).toBe(1);
    expect(r.statements.wrong).toBe(1);
  });

  it('opens a fresh temporary directory per file in directory mode', async () => {
    const log: FakeDbLog = { opened: [], closed: 0, connections: 0, closedConnections: 0 };
    await runScript(parseScript('query I\nSELECT 1\n----\n1\n'), { open: fakeOpener(canned, log), storage: 'directory' });
    await runScript(parseScript('query I\nSELECT 1\n----\n1\n'), { open: fakeOpener(canned, log), storage: 'directory' });
    expect(log.opened).toHaveLength(2);
    expect(log.opened[0]).not.toBe(':memory:');
    expect(log.opened[0]).not.toBe(log.opened[1]);
  });

  it('complete mode rewrites expected results and keeps everything else', async () => {
    const text = `# header comment
statement ok
CREATE TABLE t

query II rowsort
SELECT pair
----
old

query I
SELECT 1

hash-threshold 3

query I
SELECT big
----
`;
    const r = await run(text.replace('query II rowsort', 'query IT rowsort'), { complete: true });
    expect(r.completed).toBe(`# header comment
statement ok
CREATE TABLE t

query IT rowsort
SELECT pair
----
1\ty
2\tz

query I
SELECT 1
----
1

hash-threshold 3

query I
SELECT big
----
20 values hashing to ${(await import('./result-set.js')).hashValues(Array.from({ length: 20 }, (_, i) => String(i)))}
`);
    const again = await run(r.completed!);
    expect(again.queries).toEqual({ ok: 3, wrong: 0, skipped: 0 });
  });
});

describe('runFile', () => {
  it('reads a file from disk and names it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slt-test-'));
    const f = join(dir, 'a.slt');
    await writeFile(f, 'query I\nSELECT 1\n----\n1\n');
    const r = await runFile(f, { open: fakeOpener(canned) }, 'a.slt');
    expect(r.file).toBe('a.slt');
    expect(r.queries.ok).toBe(1);
    expect(await readFile(f, 'utf8')).toContain('SELECT 1');
  });
});

describe('settleWithin', () => {
  it('reports a result that arrives after the deadline as a timeout', async () => {
    const slow = () => {
      const end = Date.now() + 30;
      while (Date.now() < end) {
        // a statement that never yields
      }
      return Promise.resolve(1);
    };
    expect((await settleWithin(slow, 10)).kind).toBe('timeout');
    expect((await settleWithin(() => Promise.resolve(1), 1000)).kind).toBe('ok');
    expect((await settleWithin(() => Promise.reject(new Error('x')), 1000)).kind).toBe('error');
  });
});

describe('restart', () => {
  it('closes the database and reopens the same directory (directory mode chosen automatically)', async () => {
    const log: FakeDbLog = { opened: [], closed: 0, connections: 0, closedConnections: 0 };
    const r = await runScript(parseScript('statement ok\nSET v = 1\n\nrestart\n\nquery T\nSHOW v\n----\nNULL\n'), {
      open: fakeOpener(canned, log),
    });
    expect(r.queries.ok).toBe(1);
    expect(log.opened).toHaveLength(2);
    expect(log.opened[0]).not.toBe(':memory:');
    expect(log.opened[1]).toBe(log.opened[0]);
    expect(log.closed).toBe(2);
  });
});

describe('complete mode and column counts', () => {
  it('rewrites the type letters of a query whose column count changed', async () => {
    const r = await run('# c\nskipif mysql\nquery I rowsort label-1\nSELECT pair\n----\nold\n', { complete: true });
    expect(r.queries.wrong).toBe(1);
    expect(r.completed).toBe('# c\nskipif mysql\nquery II rowsort label-1\nSELECT pair\n----\n1\t0\n2\t0\n');
  });

  it('maps SQL types to letters', async () => {
    const { typeLetter } = await import('./runner.js');
    expect(['INTEGER', 'BIGINT', 'DOUBLE PRECISION', 'REAL', 'NUMERIC(10,2)', 'TEXT', 'BOOLEAN'].map(typeLetter)).toEqual(['I', 'I', 'R', 'R', 'T', 'T', 'T']);
  });
});
