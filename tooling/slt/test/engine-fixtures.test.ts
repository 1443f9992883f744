/**
 * The runner against the real engine (from source, no build): the scripts in
 * test/fixtures/engine exercise named connections, SQLSTATE expectations, sort modes, hashing
 * and `restart`, and must pass completely; `--complete` must regenerate their expected blocks.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findScripts } from '../src/corpus.js';
import { parseScript } from '../src/parser.js';
import { formatFailures } from '../src/report.js';
import { runFile, runScript } from '../src/runner.js';

const DIR = fileURLToPath(new URL('./fixtures/engine', import.meta.url));

describe('engine fixtures', () => {
  it('every record passes', async () => {
    const files = await findScripts([DIR]);
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const r = await runFile(f);
      expect(formatFailures(r), f).toEqual([]);
      expect(r.fatal).toBeUndefined();
      expect(r.queries.ok).toBeGreaterThan(0);
    }
  });

  it('--complete rewrites emptied result blocks back to the originals', async () => {
    const original = await readFile(`${DIR}/basics.slt`, 'utf8');
    // Drop every result block (the lines after ---- up to the blank line).
    const emptied = original.replace(/^----\n(?:.+\n)*/gm, '----\n');
    expect(emptied).not.toBe(original);
    const r = await runScript(parseScript(emptied, 'basics.slt'), { complete: true });
    expect(r.completed).toBe(original);
  });
});
