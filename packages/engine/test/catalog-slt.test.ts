import { expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { runFile } from '../../../tooling/slt/src/runner.js';
import { formatFailures, formatFileLine } from '../../../tooling/slt/src/report.js';

const dir = new URL('../../../test/sql/catalog/', import.meta.url).pathname;

it('test/sql/catalog/*.slt pass', async () => {
  const bad: string[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.slt'))) {
    const r = await runFile(dir + f, { timeoutMs: 5000 }, f);
    if (r.fatal || r.queries.wrong || r.statements.wrong || r.queries.ok === 0) bad.push([formatFileLine(r), ...formatFailures(r, 30)].join('\n'));
  }
  expect(bad.join('\n')).toBe('');
}, 60_000);
