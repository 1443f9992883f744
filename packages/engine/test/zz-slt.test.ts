import { it } from 'vitest';
import { readdirSync } from 'node:fs';
import { runFile } from '../../../tooling/slt/src/runner.js';
import { formatFailures, formatFileLine } from '../../../tooling/slt/src/report.js';
it('slt', async () => {
  const dir = '/work/main/test/sql/txn/';
  const only = process.env.SLT_ONLY;
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.slt') && (!only || f.includes(only)))) {
    const r = await runFile(dir + f, { timeoutMs: 3000 }, f);
    console.log([formatFileLine(r), ...formatFailures(r, 30)].join('\n'));
  }
}, 600_000);
