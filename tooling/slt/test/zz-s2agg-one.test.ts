// temporary (s2agg helper): run selected .slt files; removed after use
import { it } from 'vitest';
import { formatFailures, formatFileLine } from '../src/report.js';
import { runFile } from '../src/runner.js';
it('one', async () => {
  for (const f of (process.env.SLT_FILES ?? '').split(',')) {
    const r = await runFile(f, {}, f);
    console.log([formatFileLine(r), ...formatFailures(r, 5)].join('\n'));
  }
}, 600_000);
