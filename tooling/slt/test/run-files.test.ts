/**
 * Run chosen scripts from source, without building anything (the engine resolves to its
 * TypeScript source through vitest):
 *
 *   QUIVER_SLT_FILES="../../test/sql ../../../shared/slt/select4.test" npx vitest run test/run-files.test.ts
 *
 * Paths are relative to tooling/slt (or absolute), files or directories, separated by spaces.
 * QUIVER_SLT_COMPLETE=1 rewrites expected results in place (`--complete`). Skipped when
 * QUIVER_SLT_FILES is unset; fails when a file cannot run or (without QUIVER_SLT_ALLOW_FAILURES=1)
 * when any record is wrong.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { displayName, findScripts } from '../src/corpus.js';
import { formatFailures, formatFileLine, formatTotalLine, totalsOf } from '../src/report.js';
import { runFile } from '../src/runner.js';
import type { FileResult } from '../src/runner.js';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_ROOT = resolve(PACKAGE_DIR, '..', '..');
const SPEC = process.env.QUIVER_SLT_FILES ?? '';

describe.skipIf(SPEC.trim() === '')('QUIVER_SLT_FILES', () => {
  it('runs the chosen scripts', async () => {
    const files = await findScripts(SPEC.trim().split(/\s+/).map((p) => resolve(PACKAGE_DIR, p)));
    const complete = process.env.QUIVER_SLT_COMPLETE === '1';
    const results: FileResult[] = [];
    for (const f of files) {
      const r = await runFile(f, { complete }, displayName(f, REPO_ROOT));
      results.push(r);
      console.log([formatFileLine(r), ...formatFailures(r, 20)].join('\n'));
      if (complete && r.completed !== undefined && r.fatal === undefined) await writeFile(f, r.completed);
    }
    console.log(formatTotalLine(totalsOf(results), 'slt'));
    expect(results.filter((r) => r.fatal !== undefined).map(formatFileLine)).toEqual([]);
    if (process.env.QUIVER_SLT_ALLOW_FAILURES !== '1' && !complete) {
      expect(results.filter((r) => r.queries.wrong + r.statements.wrong > 0).map(formatFileLine)).toEqual([]);
    }
  }, 60 * 60_000);
});
