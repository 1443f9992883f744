import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliConnection, CliResult } from './engine.js';
import { runRepl } from './repl.js';
import { Session } from './session.js';

class FakeError extends Error {
  readonly code = '42P01';
}

/** Echoes each statement back as a one-row result; `SELECT * FROM missing` fails with 42P01. */
function fakeConnection(seen: string[]): CliConnection {
  return {
    async query(sql: string): Promise<CliResult> {
      seen.push(sql);
      if (sql.includes('missing')) throw new FakeError('relation "missing" does not exist');
      return {
        columns: [{ name: 'sql', type: 'TEXT' }],
        rows: [[sql]],
        rowCount: 1,
        command: 'SELECT',
        toArrow: () => {
          throw new Error('not used');
        },
      };
    },
    async close() {},
  };
}

async function drive(lines: string[]): Promise<{ out: string; err: string; seen: string[] }> {
  const seen: string[] = [];
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (d: Buffer) => (out += d.toString()));
  let err = '';
  const errStream = { write: (s: string | Uint8Array) => (err += s.toString()) };
  const session = new Session(fakeConnection(seen), 'csv', output, errStream);
  const done = runRepl(session, { input, output, err: errStream, terminal: false });
  input.end(lines.join('\n') + '\n');
  await done;
  return { out, err, seen };
}

describe('runRepl', () => {
  it('runs a statement once its terminating ; arrives, across lines', async () => {
    const r = await drive(['SELECT', '  1;', 'SELECT 2; SELECT', "'a;b';"]);
    expect(r.seen).toEqual(['SELECT\n  1', 'SELECT 2', "SELECT\n'a;b'"]);
    expect(r.out).toContain('quiver-> ');
  });

  it('prints errors and goes on', async () => {
    const r = await drive(['SELECT * FROM missing;', 'SELECT 3;']);
    expect(r.err).toContain('ERROR: relation "missing" does not exist (SQLSTATE 42P01)');
    expect(r.seen).toEqual(['SELECT * FROM missing', 'SELECT 3']);
  });

  it('handles meta-commands: \\format, \\?, unknown, \\q stops reading', async () => {
    const r = await drive(['\\format json', 'SELECT 4;', '\\?', '\\nope', '\\q', 'SELECT 5;']);
    expect(r.out).toContain('Output format is json.');
    expect(r.out).toContain('{"sql":"SELECT 4"}');
    expect(r.out).toContain('meta-commands:');
    expect(r.err).toContain('invalid command \\nope');
    expect(r.seen).toEqual(['SELECT 4']);
  });

  it('ends at end of input, dropping an unterminated statement', async () => {
    const r = await drive(['SELECT 6;', 'SELECT 7']);
    expect(r.seen).toEqual(['SELECT 6']);
  });
});
