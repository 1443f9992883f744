/**
 * The interactive loop: `quiver> ` prompts, statements that span lines until a top-level `;`,
 * history in ~/.quiver_history (QUIVER_HISTORY overrides; newest last in the file), and a few
 * psql-style meta-commands:
 *
 *   \q  quit            \?  help               \dt  list tables        \d NAME  describe a table
 *   \timing [on|off]    \format FMT (table|csv|json|ndjson|markdown)
 *   \import TABLE FILE  \export FILE QUERY   \i FILE
 *
 * Concurrency: one statement at a time; input lines that arrive meanwhile wait in readline's
 * queue. Ctrl-C clears a partly typed statement; Ctrl-D (end of input) quits.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { OUTPUT_FORMATS, type OutputFormat } from './format-result.js';
import type { Output, Session } from './session.js';
import { splitStatements } from './split-statements.js';

const HISTORY_SIZE = 1000;
const PROMPT = 'quiver> ';
const CONTINUATION = 'quiver-> ';

export const REPL_HELP = `meta-commands:
  \\q                 quit (or Ctrl-D)
  \\dt                list tables
  \\d NAME            describe a table
  \\timing [on|off]   print the time each statement takes
  \\format FMT        output format: table, csv, json, ndjson, markdown
  \\import TABLE FILE load a CSV file (header = column names) into TABLE
  \\export FILE QUERY write a query's result to FILE (.csv .json .ndjson .md .arrow)
  \\i FILE            run the SQL in FILE
  \\?                 this help
SQL statements end with ';' and may span lines.
`;

export function historyFile(): string {
  return process.env.QUIVER_HISTORY ?? join(homedir(), '.quiver_history');
}

function loadHistory(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0).slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

const LIST_TABLES =
  "SELECT table_name AS name FROM information_schema.tables WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1";

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export interface ReplOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: Output & NodeJS.WritableStream;
  readonly err: Output;
  /** Use terminal editing and history (stdin is a TTY). */
  readonly terminal: boolean;
}

/** Run the REPL until \q or end of input. */
export async function runRepl(session: Session, opts: ReplOptions): Promise<void> {
  const histPath = historyFile();
  const rl = createInterface({
    input: opts.input,
    output: opts.output,
    terminal: opts.terminal,
    prompt: PROMPT,
    ...(opts.terminal ? { history: loadHistory(histPath), historySize: HISTORY_SIZE, removeHistoryDuplicates: true } : {}),
  });
  let buffer = '';
  const prompt = (): void => {
    rl.setPrompt(buffer.length > 0 ? CONTINUATION : PROMPT);
    rl.prompt();
  };
  const remember = (entry: string): void => {
    if (!opts.terminal || entry.trim().length === 0) return;
    try {
      appendFileSync(histPath, `${entry.replace(/\n/g, ' ')}\n`);
    } catch {
      // history is a convenience: an unwritable file is not an error
    }
  };
  rl.on('SIGINT', () => {
    buffer = '';
    opts.output.write('\n');
    prompt();
  });
  if (opts.terminal) opts.output.write('quiver: type \\? for help, \\q to quit\n');
  prompt();

  for await (const line of rl) {
    if (buffer.length === 0 && line.trim().startsWith('\\')) {
      remember(line.trim());
      const quit = await metaCommand(session, line.trim(), opts);
      if (quit) break;
      prompt();
      continue;
    }
    buffer = buffer.length > 0 ? `${buffer}\n${line}` : line;
    const split = splitStatements(buffer);
    for (const sql of split.statements) {
      remember(`${sql};`);
      await session.runStatement(sql);
    }
    session.flushArrow();
    buffer = split.rest.length > 0 || split.open ? buffer.slice(split.restOffset).replace(/^\s+/, '') : '';
    prompt();
  }
  rl.close();
  if (opts.terminal) trimHistory(histPath);
}

function trimHistory(path: string): void {
  try {
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
    if (lines.length > HISTORY_SIZE) writeFileSync(path, `${lines.slice(-HISTORY_SIZE).join('\n')}\n`);
  } catch {
    // ignore
  }
}

/** Handle a backslash command; true when the REPL should quit. */
async function metaCommand(session: Session, cmd: string, opts: ReplOptions): Promise<boolean> {
  const [name, ...args] = cmd.split(/\s+/);
  switch (name) {
    case '\\q':
    case '\\quit':
      return true;
    case '\\?':
    case '\\h':
    case '\\help':
      opts.output.write(REPL_HELP);
      return false;
    case '\\dt':
      await session.runStatement(LIST_TABLES);
      return false;
    case '\\d':
      if (args[0] === undefined) {
        await session.runStatement(LIST_TABLES);
      } else {
        await session.runStatement(
          `SELECT column_name AS column, data_type AS type, is_nullable AS nullable FROM information_schema.columns WHERE table_name = ${quoteLiteral(args[0])} ORDER BY ordinal_position`,
        );
      }
      return false;
    case '\\import':
      if (args.length !== 2) opts.err.write('usage: \\import TABLE FILE.csv\n');
      else await session.importFile(args[0]!, args[1]!);
      return false;
    case '\\export': {
      const rest = cmd.slice(name!.length).trim();
      const space = rest.search(/\s/);
      if (space < 0) opts.err.write('usage: \\export FILE QUERY\n');
      else await session.exportQuery(rest.slice(0, space), rest.slice(space + 1).trim().replace(/;\s*$/, ''));
      return false;
    }
    case '\\i':
    case '\\include': {
      const path = cmd.slice(name!.length).trim();
      if (path.length === 0) opts.err.write('usage: \\i FILE\n');
      else {
        let text: string | undefined;
        try {
          text = readFileSync(path, 'utf8');
        } catch (err) {
          opts.err.write(`\\i: cannot read ${path}: ${(err as Error).message}\n`);
        }
        if (text !== undefined) await session.runScript(text);
      }
      return false;
    }
    case '\\timing':
      session.timing = args[0] === undefined ? !session.timing : args[0] === 'on';
      opts.output.write(`Timing is ${session.timing ? 'on' : 'off'}.\n`);
      return false;
    case '\\format':
    case '\\pset': {
      const f = name === '\\pset' ? args[1] : args[0];
      if (f !== undefined && (OUTPUT_FORMATS as readonly string[]).includes(f) && f !== 'arrow') {
        session.format = f as OutputFormat;
        opts.output.write(`Output format is ${f}.\n`);
      } else {
        opts.err.write(`\\format: one of table, csv, json, ndjson, markdown\n`);
      }
      return false;
    }
    default:
      opts.err.write(`invalid command ${name ?? ''}; try \\? for help\n`);
      return false;
  }
}
