/**
 * `quiver-slt --update-baseline` / `--baseline` end to end on the built CLI, with the scripted
 * engine of test/fixtures/spin-engine.mjs (needs dist/cli.js: `pnpm test` builds first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const ENGINE = fileURLToPath(new URL('./fixtures/spin-engine.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));

const slt = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, QUIVER_SLT_ENGINE: ENGINE }, encoding: 'utf8', timeout: 30_000 });

describe.skipIf(!existsSync(CLI))('quiver-slt baseline (built)', () => {
  it('writes a baseline, passes against it, fails (exit 1) when a rate is below it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slt-baseline-cli-'));
    const baseline = join(dir, 'baseline.json');
    const file = join(FIXTURES, 'ok-and-wrong.slt');
    const update = slt(['--root', FIXTURES, '--baseline', baseline, '--update-baseline', file]);
    expect(update.status).toBe(0);
    expect(JSON.parse(await readFile(baseline, 'utf8'))).toEqual({
      engine: 'postgresql',
      files: { 'ok-and-wrong.slt': { rate: 0.5, ok: 1, ran: 2 } },
    });
    const check = slt(['--root', FIXTURES, '--baseline', baseline, file]);
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/^baseline: no file below/m);
    await writeFile(baseline, JSON.stringify({ engine: 'postgresql', files: { 'ok-and-wrong.slt': { rate: 1, ok: 2, ran: 2 } } }));
    const drop = slt(['--root', FIXTURES, '--baseline', baseline, file]);
    expect(drop.status).toBe(1);
    expect(drop.stdout).toMatch(/^baseline: DROP ok-and-wrong\.slt 50\.0% \(1\/2\) < 100\.0% \(2\/2\)$/m);
    // no line of the report has the CI verdict shape `N passed, N failed`
    for (const out of [update.stdout, check.stdout, drop.stdout]) {
      expect(out).not.toMatch(/^(\w+:\s*)?\d+ passed, \d+ failed$/m);
    }
  });

  it('without a baseline, any wrong record makes the exit status 1 (unless --allow-failures)', () => {
    const file = join(FIXTURES, 'ok-and-wrong.slt');
    expect(slt([file]).status).toBe(1);
    expect(slt(['--allow-failures', file]).status).toBe(0);
  });
});
