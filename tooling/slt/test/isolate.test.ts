/**
 * `--isolate` against a scripted engine whose `SPIN` statement never yields: the built CLI kills
 * the child and scores the file as if it had run (needs dist/cli.js: `pnpm test` builds first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const ENGINE = fileURLToPath(new URL('./fixtures/spin-engine.mjs', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./fixtures/spin.slt', import.meta.url));

if (!existsSync(CLI)) console.warn(`quiver-slt --isolate test skipped: ${CLI} not built`);

describe.skipIf(!existsSync(CLI))('quiver-slt --isolate (built)', () => {
  it('kills a file stuck in a statement that never yields and counts the rest as wrong', () => {
    const r = spawnSync(process.execPath, [CLI, '--isolate', '--timeout', '200', '--stall', '1500', '--allow-failures', SCRIPT], {
      env: { ...process.env, QUIVER_SLT_ENGINE: ENGINE },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/spin\.slt: 25\.0% of 4 queries \(1 ok, 3 wrong, 1 skipped\); statements 0 ok, 1 wrong, 0 skipped/);
    expect(r.stdout).toMatch(/killed after 1500 ms without progress/);
  });
});
