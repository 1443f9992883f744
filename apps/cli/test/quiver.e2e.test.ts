/**
 * End-to-end tests of the BUILT `quiver` executable (dist/quiver.js), spawned as a process:
 * -c, -f, stdin, every output format, errors and exit codes, persistence across two runs on
 * one directory, and the REPL fed through a pipe (-i).
 * `pnpm test` builds first; alone: pnpm turbo run build --filter=@quiverdb/cli...
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

/** Spawn the built `quiver` with `args`, feeding `input` on stdin. */
function quiver(args: string[], input?: string, cwd?: string, script = QUIVER): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd,
      env: { ...process.env, QUIVER_HISTORY: join(tmp, 'history') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      const raw = Buffer.concat(out);
      resolve({ status, stdout: raw.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), raw });
    });
    child.stdin.end(input ?? '');
  });
}

const SETUP = "CREATE TABLE t (a INTEGER, b TEXT, c BIGINT); INSERT INTO t VALUES (1, 'x', 10), (2, 'y', 9007199254740993), (3, NULL, -5);";

if (!existsSync(QUIVER)) {
  throw new Error(`${QUIVER} is missing: build it first with \`pnpm turbo run build --filter=@quiverdb/cli...\``);
}

describe.concurrent('quiver (built executable)', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'quiver-cli-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('-c runs every statement and prints a table per result', async () => {
    const r = await quiver(['-c', `${SETUP} SELECT a, b FROM t ORDER BY a`]);
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
    const r = await quiver(['--format', 'csv', '-c', SETUP, '-f', f, '-c', 'SELECT a, b FROM t WHERE a = 4']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('a,b\r\n4,from;file\r\n');
  });

  it('reads SQL from stdin when it is not a terminal', async () => {
    const r = await quiver(['--format', 'csv'], `${SETUP}\nSELECT count(*) AS n\n  FROM t;\n`);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('n\r\n3\r\n');
  });

  it('-f - reads the script from stdin; --timing reports on stderr', async () => {
    const r = await quiver(['--format', 'csv', '--timing', '-f', '-'], 'SELECT 41 + 1 AS answer;');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('answer\r\n42\r\n');
    expect(r.stderr).toMatch(/^Time: \d+\.\d{3} ms$/m);
  });

  it('scripts/demo.mjs recreates ./demo.quiver and prints a query result', async () => {
    const demo = fileURLToPath(new URL('../scripts/demo.mjs', import.meta.url));
    const cwd = await mkdtemp(join(tmp, 'demo-'));
    const run = () => quiver([], undefined, cwd, demo);
    const first = await run();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/Grey heron\s+\|\s+175/);
    expect(first.stdout).toContain('(3 rows)');
    expect(existsSync(join(cwd, 'demo.quiver'))).toBe(true);
    // a second run starts from scratch (no duplicate-key error from the old directory)
    expect((await run()).status).toBe(0);
  });

  it('--format json / ndjson / markdown', async () => {
    const q = `${SETUP} SELECT a, b, c FROM t ORDER BY a`;
    const json = await quiver(['--format', 'json', '-c', q]);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { a: 1, b: 'x', c: 10 },
      { a: 2, b: 'y', c: 9007199254740992 }, // JSON.parse rounds; the text keeps every digit:
      { a: 3, b: null, c: -5 },
    ]);
    expect(json.stdout).toContain('9007199254740993');
    const nd = await quiver(['--format', 'ndjson', '-c', q]);
    expect(nd.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toHaveLength(3);
    const md = await quiver(['--format', 'markdown', '-c', q]);
    expect(md.stdout.split('\n')[0]).toBe('| a | b | c |');
    expect(md.stdout).toContain('| 3 | NULL | -5 |');
  });

  it('--format arrow writes an Arrow IPC stream of the last result', async () => {
    const r = await quiver(['--format', 'arrow', '-c', `${SETUP} SELECT a, b FROM t ORDER BY a`]);
    expect(r.status).toBe(0);
    const table = tableFromIPC(r.raw);
    expect(table.numRows).toBe(3);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['a', 'b']);
    expect(table.getChild('b')?.toArray()).toEqual(['x', 'y', null]);
  });

  it('an error prints ERROR: <message> (SQLSTATE <code>) on stderr, stops the script, exits 1', async () => {
    const r = await quiver(['-c', 'SELECT 1 AS first; SELECT * FROM no_such_table; SELECT 2 AS never']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: .+ \(SQLSTATE 42P01\)$/m);
    expect(r.stdout).toContain('first');
    expect(r.stdout).not.toContain('never');
    const syntax = await quiver(['-c', 'SELEC 1']);
    expect(syntax.status).toBe(1);
    expect(syntax.stderr).toMatch(/\(SQLSTATE 42601\)/);
  });

  it('--import loads a CSV file in one transaction; \\export and \\i work in the REPL', async () => {
    const dir = join(tmp, 'db-import');
    const csv = join(tmp, 'people.csv');
    await writeFile(csv, 'id,name,score\r\n1,"Smith, Ann",1.5\r\n2,"",\r\n3,"say ""hi""\nthere",-2\r\n');
    const create = 'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score DOUBLE PRECISION)';
    const r = await quiver([dir, '-c', create, '--import', `people=${csv}`, '--format', 'json', '-c', 'SELECT id, name, score FROM people ORDER BY id']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { id: 1, name: 'Smith, Ann', score: 1.5 },
      { id: 2, name: '', score: null },
      { id: 3, name: 'say "hi"\nthere', score: -2 },
    ]);
    // a duplicate key fails the whole file: nothing of it stays
    const again = await quiver([dir, '--import', `people=${csv}`]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/\(SQLSTATE 23505\)/);
    const out = join(tmp, 'out.csv');
    const script = join(tmp, 'count.sql');
    await writeFile(script, 'SELECT count(*) AS n FROM people;\n');
    const repl = await quiver([dir, '-i', '--format', 'csv'], `\\export ${out} SELECT name FROM people WHERE id < 3 ORDER BY id;\n\\i ${script}\n`);
    expect(repl.stderr).toBe('');
    expect(repl.stdout).toContain('n\r\n3\r\n');
    expect(await readFile(out, 'utf8')).toBe('name\r\n"Smith, Ann"\r\n""\r\n');
  });

  it('bad usage exits 2', async () => {
    expect((await quiver(['--format', 'xml', '-c', 'SELECT 1'])).status).toBe(2);
    expect((await quiver(['--no-such-option'])).status).toBe(2);
    expect((await quiver(['--import', 'no-equals-sign.csv'])).status).toBe(2);
  });

  it('a database directory persists across two runs', async () => {
    const dir = join(tmp, 'db1');
    const first = await quiver([dir, '-c', SETUP]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const second = await quiver([dir, '--format', 'csv', '-c', 'SELECT a, b FROM t ORDER BY a']);
    expect(second.stderr).toBe('');
    expect(second.stdout).toBe('a,b\r\n1,x\r\n2,y\r\n3,\r\n');
  });

  it('the REPL (-i with piped input, after -c) runs multi-line statements and meta-commands', async () => {
    const r = await quiver(
      ['-c', 'CREATE TABLE repl_tbl (x INTEGER)', '-i'],
      `INSERT INTO repl_tbl\n  VALUES (41),\n  (42);\n\\format csv\nSELECT max(x) AS m FROM repl_tbl;\nSELECT * FROM nope;\nSELECT 7 AS after_error;\n\\dt\n\\q\nSELECT 8 AS after_quit;\n`,
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('name\r\nrepl_tbl\r\n');
    expect(r.stdout).not.toContain('after_quit');
    expect(r.stdout).toContain('m\r\n42\r\n');
    expect(r.stdout).toContain('after_error\r\n7\r\n');
    expect(r.stderr).toMatch(/SQLSTATE 42P01/);
  });
});
