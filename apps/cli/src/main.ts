/**
 * `quiver [DIR] [-c SQL] [-f FILE] [--format table|csv|json|ndjson|markdown|arrow]`
 *
 *   DIR omitted       an in-memory database (':memory:')
 *   -c SQL, -f FILE   run them in the order given (both may repeat; `-f -` reads stdin); stop at
 *                     the first error
 *   --import T=F.csv  load a CSV file into table T (in order with -c/-f; one transaction)
 *   neither           SQL from stdin when stdin is not a terminal, else the REPL
 *   -i                the REPL even when stdin is not a terminal (after -c/-f, if given)
 *
 * Exit status: 0 success; 1 an SQL error (printed on stderr as `ERROR: <message> (SQLSTATE <code>)`)
 * or a database that does not open; 2 bad usage.
 */
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { formatError, openDatabase, type CliDatabase } from './engine.js';
import { OUTPUT_FORMATS, type OutputFormat } from './format-result.js';
import { runRepl } from './repl.js';
import { Session } from './session.js';

export const VERSION = '0.1.0';

export interface CliIo {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

type Action = { kind: 'sql'; text: string } | { kind: 'file'; path: string } | { kind: 'import'; table: string; path: string };

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Run the CLI with `argv` (arguments after the program name); resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIo = process): Promise<number> {
  const actions: Action[] = [];
  const program = new Command('quiver')
    .description('QuiverDB command line: run SQL against a database directory (in memory when DIR is omitted)')
    .argument('[dir]', 'database directory (created if missing)')
    .option('-c, --command <sql>', 'run SQL (repeatable; statements separated by ;)')
    .option('-f, --file <path>', 'run the SQL in a file, - for stdin (repeatable)')
    .option('--import <table=file.csv>', 'load a CSV file (header = column names) into a table (repeatable)')
    .addOption(new Option('--format <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
    .option('-i, --interactive', 'start the REPL even when stdin is not a terminal')
    .option('--timing', 'print the time of each statement on stderr')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  program.on('option:command', (text: string) => actions.push({ kind: 'sql', text }));
  program.on('option:file', (path: string) => actions.push({ kind: 'file', path }));
  program.on('option:import', (spec: string) => {
    const eq = spec.indexOf('=');
    actions.push(eq > 0 ? { kind: 'import', table: spec.slice(0, eq), path: spec.slice(eq + 1) } : { kind: 'import', table: '', path: spec });
  });

  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
    }
    throw err;
  }
  const opts = program.opts<{ format: OutputFormat; interactive?: boolean; timing?: boolean }>();
  const dir = program.args[0] ?? ':memory:';
  const interactive = opts.interactive === true || (actions.length === 0 && io.stdin.isTTY === true);
  if (interactive && opts.format === 'arrow') {
    io.stderr.write('quiver: --format arrow needs -c, -f or SQL on stdin, not the REPL\n');
    return 2;
  }

  const badImport = actions.find((a) => a.kind === 'import' && (a.table === '' || a.path === ''));
  if (badImport !== undefined) {
    io.stderr.write('quiver: --import needs TABLE=FILE\n');
    return 2;
  }

  let db: CliDatabase;
  try {
    db = await openDatabase(dir);
  } catch (err) {
    io.stderr.write(formatError(err));
    return 1;
  }
  const conn = db.connect();
  const session = new Session(conn, opts.format, io.stdout, io.stderr);
  session.timing = opts.timing === true;
  let ok = true;
  try {
    if (actions.length > 0) {
      for (const a of actions) {
        if (a.kind === 'import') {
          if (!(await session.importFile(a.table, a.path))) {
            ok = false;
            break;
          }
          continue;
        }
        let text: string;
        if (a.kind === 'sql') text = a.text;
        else {
          try {
            text = a.path === '-' ? await readAll(io.stdin) : await readFile(a.path, 'utf8');
          } catch (err) {
            io.stderr.write(`quiver: cannot read ${a.path}: ${(err as Error).message}\n`);
            ok = false;
            break;
          }
        }
        if (!(await session.runScript(text))) {
          ok = false;
          break;
        }
      }
    }
    if (interactive && ok) {
      await runRepl(session, { input: io.stdin, output: io.stdout, err: io.stderr, terminal: io.stdin.isTTY === true });
    } else if (!interactive && actions.length === 0) {
      ok = await session.runScript(await readAll(io.stdin));
    }
    if (ok) session.flushArrow();
  } finally {
    await conn.close().catch(() => undefined);
    try {
      await db.close();
    } catch (err) {
      io.stderr.write(formatError(err));
      ok = false;
    }
  }
  return ok ? 0 : 1;
}
