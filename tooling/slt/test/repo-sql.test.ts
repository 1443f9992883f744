/**
 * Every `test/sql/**\/*.slt` of the repository must pass completely: no wrong record, no
 * unsupported directive, no file that fails to run.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { displayName, findScripts } from '../src/corpus.js';
import { formatFailures, formatFileLine, formatTotalLine, totalsOf } from '../src/report.js';
import { runFile } from '../src/runner.js';
import type { FileResult } from '../src/runner.js';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SQL_DIR = fileURLToPath(new URL('../../../test/sql', import.meta.url));
const files = existsSync(SQL_DIR) ? (await findScripts([SQL_DIR])).filter((f) => f.endsWith('.slt')) : [];

if (files.length === 0) console.warn(`test/sql: no .slt files under ${SQL_DIR}`);

describe.skipIf(files.length === 0)('test/sql/**/*.slt', () => {
  it('every record of every file passes', async () => {
    const results: FileResult[] = [];
    const lines: string[] = [];
    for (const f of files) {
      const r = await runFile(f, {}, displayName(f, REPO_ROOT));
      results.push(r);
      lines.push(formatFileLine(r));
      if (r.queries.wrong + r.statements.wrong + r.unsupported > 0 || r.fatal !== undefined) lines.push(...formatFailures(r, 20));
    }
    lines.push(formatTotalLine(totalsOf(results), 'test/sql'));
    console.log(lines.join('\n'));
    const bad = results
      .filter((r) => r.queries.wrong + r.statements.wrong + r.unsupported > 0 || r.fatal !== undefined)
      .map((r) => formatFileLine(r));
    expect(bad).toEqual([]);
  }, 30 * 60_000);
});
