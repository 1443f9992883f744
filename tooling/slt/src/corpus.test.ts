import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBaseline, corpusFiles, displayName, isQuickCorpusFile, loadBaseline, saveBaseline, updateBaseline } from './corpus.js';
import { emptyTally } from './runner.js';
import type { FileResult } from './runner.js';

function result(file: string, ok: number, wrong: number): FileResult {
  return {
    file,
    queries: { ...emptyTally(), ok, wrong },
    statements: emptyTally(),
    timeouts: 0,
    unsupported: 0,
    halted: false,
    durationMs: 0,
    failures: [],
    fatal: undefined,
    completed: undefined,
  };
}

describe('quick subset', () => {
  it('is select1-3, evidence/ and random/*/slt_good_0', () => {
    expect(isQuickCorpusFile('select1.test')).toBe(true);
    expect(isQuickCorpusFile('select3.test')).toBe(true);
    expect(isQuickCorpusFile('select4.test')).toBe(false);
    expect(isQuickCorpusFile('evidence/in1.test')).toBe(true);
    expect(isQuickCorpusFile('random/expr/slt_good_0.test')).toBe(true);
    expect(isQuickCorpusFile('random/expr/slt_good_1.test')).toBe(false);
    expect(isQuickCorpusFile('index/between/10/slt_good_1.test')).toBe(false);
  });

  it('finds scripts recursively, sorted, and names them relative to the root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'slt-corpus-'));
    await mkdir(join(root, 'evidence'));
    await mkdir(join(root, 'index', 'x'), { recursive: true });
    for (const f of ['select1.test', 'select5.test', 'evidence/a.test', 'index/x/b.test', 'README.md']) await writeFile(join(root, f), '');
    const quick = await corpusFiles(root, 'quick');
    expect(quick.map((f) => displayName(f, root))).toEqual(['evidence/a.test', 'select1.test']);
    const full = await corpusFiles(root, 'full');
    expect(full.map((f) => displayName(f, root))).toEqual(['evidence/a.test', 'index/x/b.test', 'select1.test', 'select5.test']);
  });
});

describe('baseline', () => {
  it('flags a file whose rate dropped, not one that held or rose, nor a new file', () => {
    const b = { engine: 'postgresql', files: { 'a.test': { rate: 0.5, ok: 5, ran: 10 }, 'b.test': { rate: 0.5, ok: 5, ran: 10 } } };
    const regressions = checkBaseline([result('a.test', 4, 6), result('b.test', 6, 4), result('c.test', 0, 3)], b);
    expect(regressions.map((r) => r.file)).toEqual(['a.test']);
  });

  it('counts a file that stopped running any query as a drop', () => {
    const b = { engine: 'postgresql', files: { 'a.test': { rate: 0.5, ok: 5, ran: 10 } } };
    expect(checkBaseline([result('a.test', 0, 0)], b)).toHaveLength(1);
  });

  it('updates entries of the run, keeps the others, reports lowered ones, and round-trips through a file', async () => {
    const b = { engine: 'postgresql', files: { 'a.test': { rate: 0.5, ok: 5, ran: 10 }, 'z.test': { rate: 1, ok: 1, ran: 1 } } };
    const { baseline, lowered } = updateBaseline(b, [result('a.test', 1, 9), result('b.test', 2, 2)]);
    expect(lowered.map((l) => l.file)).toEqual(['a.test']);
    expect(baseline.files).toEqual({
      'a.test': { rate: 0.1, ok: 1, ran: 10 },
      'b.test': { rate: 0.5, ok: 2, ran: 4 },
      'z.test': { rate: 1, ok: 1, ran: 1 },
    });
    const path = join(await mkdtemp(join(tmpdir(), 'slt-baseline-')), 'baseline.json');
    await saveBaseline(path, baseline);
    expect(await loadBaseline(path)).toEqual(baseline);
    expect(await loadBaseline(join(path, '..', 'missing.json'))).toEqual({ engine: 'postgresql', files: {} });
  });
});
