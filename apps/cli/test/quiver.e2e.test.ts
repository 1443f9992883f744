/**
 * End-to-end tests of the BUILT `quiver` executable (dist/quiver.js), spawned as a process:
 * -c, -f, stdin, every output format, errors and exit codes, persistence across two runs on
 * one directory, and the REPL fed through a pipe (-i).
 * `pnpm test` builds first; alone: pnpm turbo run build --filter=@quiverdb/cli...
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const QUIVER = fileURLToPath(new URL('../dist/quiver.js', import.meta.url));
let tmp = '';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  raw: Buffer;
}

function quiver(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [QUIVER, ...args], {
    input: input ?? '',
    env: { ...process.env, QUIVER_HISTORY: join(tmp, 'history') },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout };
}

const SETUP = "CREATE TABLE t (a INTEGER, b TEXT, c BIGINT); INSERT INTO t VALUES (1, 'x', 10), (2, 'y', 9007199254740993), (3, NULL, -5);";

if (!existsSync(QUIVER)) {
  throw new Error(`${QUIVER} is missing: build it first with \`pnpm turbo run build --filter=@quiverdb/cli...\``);
}

describe('quiver (built executable)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'quiver-cli-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('-c runs every statement and prints a table per result', () => {
    const r = quiver(['-c', `${SETUP} SELECT a, b FROM t ORDER BY a`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('CREATE TABLE');
    expect(r.stdout).toContain('INSERT 0 3');
    expect(r.stdout).toMatch(/ a \| b\s*\n---\+--/);
    expect(r.stdout).toMatch(/ 2 \| y/);
    expect(r.stdout).toContain('(3 rows)');
  });

  it('-c and -f run in the order given', async () => {
    const f = join(tmp, 'script.sql');
    await writeFile(f, "-- a comment; with a semicolon\nINSERT INTO t VALUES (4, 'from;file', 0);\n");
    const r = quiver(['--format', 'csv', '-c', SETUP, '-f', f, '-c', 'SELECT a, b FROM t WHERE a = 4']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('a,b\r\n4,from;file\r\n');
  });

  it('reads SQL from stdin when it is not a terminal', () => {
    const r = quiver(['--format', 'csv'], `${SETUP}\nSELECT count(*) AS n\n  FROM t;\n`);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('n\r\n3\r\n');
  });

  it('--format json / ndjson / markdown', () => {
    const q = `${SETUP} SELECT a, b, c FROM t ORDER BY a`;
    const json = quiver(['--format', 'json', '-c', q]);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { a: 1, b: 'x', c: 10 },
      { a: 2, b: 'y', c: 9007199254740992 }, // JSON.parse rounds; the text keeps every digit:
      { a: 3, b: null, c: -5 },
    ]);
    expect(json.stdout).toContain('9007199254740993');
    const nd = quiver(['--format', 'ndjson', '-c', q]);
    expect(nd.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toHaveLength(3);
    const md = quiver(['--format', 'markdown', '-c', q]);
    expect(md.stdout.split('\n')[0]).toBe('| a | b | c |');
    expect(md.stdout).toContain('| 3 | NULL | -5 |');
  });

  it('--format arrow writes an Arrow IPC stream of the last result', () => {
    const r = quiver(['--format', 'arrow', '-c', `${SETUP} SELECT a, b FROM t ORDER BY a`]);
    expect(r.status).toBe(0);
    const table = tableFromIPC(r.raw);
    expect(table.numRows).toBe(3);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['a', 'b']);
    expect(table.getChild('b')?.toArray()).toEqual(['x', 'y', null]);
  });

  it('an error prints ERROR: <message> (SQLSTATE <code>) on stderr, stops the script, exits 1', () => {
    const r = quiver(['-c', 'SELECT 1 AS first; SELECT * FROM no_such_table; SELECT 2 AS never']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: .+ \(SQLSTATE 42P01\)$/m);
    expect(r.stdout).toContain('first');
    expect(r.stdout).not.toContain('never');
    const syntax = quiver(['-c', 'SELEC 1']);
    expect(syntax.status).toBe(1);
    expect(syntax.stderr).toMatch(/\(SQLSTATE 42601\)/);
  });

  it('bad usage exits 2', () => {
    expect(quiver(['--format', 'xml', '-c', 'SELECT 1']).status).toBe(2);
    expect(quiver(['--no-such-option']).status).toBe(2);
  });

  it('a database directory persists across two runs', () => {
    const dir = join(tmp, 'db1');
    const first = quiver([dir, '-c', SETUP]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const second = quiver([dir, '--format', 'csv', '-c', 'SELECT a, b FROM t ORDER BY a']);
    expect(second.stderr).toBe('');
    expect(second.stdout).toBe('a,b\r\n1,x\r\n2,y\r\n3,\r\n');
  });

  it('the REPL (-i with piped input) runs multi-line statements and meta-commands', () => {
    const r = quiver(['-i'], `CREATE TABLE r (x INTEGER);\nINSERT INTO r\n  VALUES (41),\n  (42);\n\\format csv\nSELECT max(x) AS m FROM r;\nSELECT * FROM nope;\nSELECT 7 AS after_error;\n\\q\n`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('m\r\n42\r\n');
    expect(r.stdout).toContain('after_error\r\n7\r\n');
    expect(r.stderr).toMatch(/SQLSTATE 42P01/);
  });
});
