/**
 * The sqllogictest corpus (../shared/slt from the repo root) against QuiverDB, checked against
 * tooling/slt/baseline.json: the test fails when any file's query pass rate drops below its
 * baseline. Quick subset by default; the whole corpus with QUIVER_SLT_FULL=1. Each file has a
 * 10-minute budget (QUIVER_SLT_FILE_BUDGET_MS) on top of the 10 s per-record timeout.
 * Rewrite the baseline (after a build) with:
 *   node tooling/slt/dist/cli.js --corpus full --isolate -j 2 --update-baseline
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkBaseline, corpusFiles, defaultCorpusDir, displayName, loadBaseline } from '../src/corpus.js';
import { formatFileLine, formatTotalLine, totalsOf } from '../src/report.js';
import { runFile } from '../src/runner.js';
import type { FileResult } from '../src/runner.js';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BASELINE = fileURLToPath(new URL('../baseline.json', import.meta.url));
const CORPUS = process.env.QUIVER_SLT_CORPUS ?? defaultCorpusDir(REPO_ROOT);
const FULL = process.env.QUIVER_SLT_FULL === '1';
// A file normally takes seconds; the budget only bounds a file whose queries all time out.
const FILE_BUDGET_MS = Number(process.env.QUIVER_SLT_FILE_BUDGET_MS ?? 10 * 60_000);
const haveCorpus = existsSync(CORPUS);
if (!haveCorpus) console.warn(`slt corpus: not found at ${CORPUS}; set QUIVER_SLT_CORPUS to run it`);

describe.skipIf(!haveCorpus)(`sqllogictest corpus (${FULL ? 'full' : 'quick subset'})`, () => {
  it('no file drops below its baseline pass rate', async () => {
    const files = await corpusFiles(CORPUS, FULL ? 'full' : 'quick');
    expect(files.length).toBeGreaterThan(0);
    const results: FileResult[] = [];
    for (const f of files) {
      const r = await runFile(f, { fileBudgetMs: FILE_BUDGET_MS }, displayName(f, CORPUS));
      results.push(r);
      console.log(formatFileLine(r));
    }
    console.log(formatTotalLine(totalsOf(results)));
    expect(results.filter((r) => r.fatal !== undefined).map((r) => `${r.file}: ${r.fatal}`)).toEqual([]);
    const regressions = checkBaseline(results, await loadBaseline(BASELINE));
    expect(regressions.map((r) => `${r.file}: ${r.ok}/${r.ran} < baseline ${r.baseline.ok}/${r.baseline.ran}`)).toEqual([]);
  }, 60 * 60_000);
});
