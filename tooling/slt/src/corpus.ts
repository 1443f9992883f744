/**
 * Finding scripts, the quick subset of the sqllogictest corpus, and the pass-rate baseline.
 *
 * Baseline file (tooling/slt/baseline.json):
 *   { "engine": "postgresql",
 *     "files": { "<path relative to the corpus root>": { "rate": <ok/ran>, "ok": N, "ran": N }, ... } }
 *
 * Invariants:
 *  1. A file's rate may not go below its baseline rate (the check allows no slack: runs are
 *     deterministic apart from timeouts).
 *  2. Files are always listed in a stable order (sorted by path), so reports diff cleanly.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { FileResult } from './runner.js';

const SCRIPT_EXT = /\.(test|slt)$/;

/** Expand files and directories (recursively) into a sorted list of `.test`/`.slt` scripts. */
export async function findScripts(paths: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  const walk = async (p: string): Promise<void> => {
    const st = await stat(p);
    if (st.isDirectory()) {
      const entries = await readdir(p, { withFileTypes: true });
      for (const e of entries) {
        const child = join(p, e.name);
        if (e.isDirectory()) await walk(child);
        else if (SCRIPT_EXT.test(e.name)) out.add(resolve(child));
      }
    } else {
      out.add(resolve(p));
    }
  };
  for (const p of paths) await walk(p);
  return [...out].sort();
}

/** Is `relPath` (relative to the corpus root, '/'-separated) in the quick subset? */
export function isQuickCorpusFile(relPath: string): boolean {
  const p = relPath.split(sep).join('/');
  return /^select[123]\.test$/.test(p) || p.startsWith('evidence/') || /^random\/[^/]+\/slt_good_0\.test$/.test(p);
}

/** The corpus scripts: every `.test` under `root`, or only the quick subset. */
export async function corpusFiles(root: string, which: 'quick' | 'full'): Promise<string[]> {
  const all = await findScripts([root]);
  return which === 'full' ? all : all.filter((f) => isQuickCorpusFile(relative(root, f)));
}

/** The corpus lives in `../shared/slt` relative to the repository root. */
export function defaultCorpusDir(repoRoot: string): string {
  return resolve(repoRoot, '..', 'shared', 'slt');
}

/** Name of a script in reports and in the baseline: relative to `root` when inside it, '/'-separated. */
export function displayName(file: string, root: string): string {
  const rel = relative(root, file);
  const name = rel.startsWith('..') ? file : rel;
  return name.split(sep).join('/');
}

export interface BaselineEntry {
  readonly rate: number;
  readonly ok: number;
  readonly ran: number;
}

export interface Baseline {
  readonly engine: string;
  readonly files: Record<string, BaselineEntry>;
}

/** Rate used for baselines: ok / ran, 0 when nothing ran (a file that stops running is a drop). */
export function baselineRate(r: FileResult): number {
  const ran = r.queries.ok + r.queries.wrong;
  return ran === 0 ? 0 : r.queries.ok / ran;
}

export async function loadBaseline(path: string): Promise<Baseline> {
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as Partial<Baseline>;
    return { engine: data.engine ?? 'postgresql', files: data.files ?? {} };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { engine: 'postgresql', files: {} };
    throw err;
  }
}

export async function saveBaseline(path: string, b: Baseline): Promise<void> {
  const files: Record<string, BaselineEntry> = {};
  for (const k of Object.keys(b.files).sort()) files[k] = b.files[k]!;
  await writeFile(path, `${JSON.stringify({ engine: b.engine, files }, null, 2)}\n`);
}

export interface Regression {
  readonly file: string;
  readonly baseline: BaselineEntry;
  readonly rate: number;
  readonly ok: number;
  readonly ran: number;
}

/** Files whose rate dropped below the baseline. Files without a baseline entry never regress. */
export function checkBaseline(results: readonly FileResult[], b: Baseline): Regression[] {
  const out: Regression[] = [];
  for (const r of results) {
    const base = b.files[r.file];
    if (base === undefined) continue;
    const rate = baselineRate(r);
    if (rate < base.rate - 1e-12) out.push({ file: r.file, baseline: base, rate, ok: r.queries.ok, ran: r.queries.ok + r.queries.wrong });
  }
  return out;
}

/** A new baseline with the entries of `results` replaced (others kept); also which entries went down. */
export function updateBaseline(b: Baseline, results: readonly FileResult[]): { baseline: Baseline; lowered: Regression[] } {
  const files: Record<string, BaselineEntry> = { ...b.files };
  for (const r of results) {
    const ran = r.queries.ok + r.queries.wrong;
    files[r.file] = { rate: baselineRate(r), ok: r.queries.ok, ran };
  }
  return { baseline: { engine: b.engine, files }, lowered: checkBaseline(results, b) };
}
