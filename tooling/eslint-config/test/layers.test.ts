/**
 * The layer rules of ARCHITECTURE.md section 1 are real: a forbidden cross-package import fails
 * lint, an allowed one passes. Lints fixture files as if they sat in the package folders.
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const fixture = (p: string) => readFileSync(join(here, '..', 'fixtures', p), 'utf8');

async function lintAs(path: string, code: string) {
  const eslint = new ESLint({ cwd: root });
  const [res] = await eslint.lintText(code, { filePath: join(root, path) });
  return res!.messages.filter((m) => m.ruleId === 'no-restricted-imports');
}

describe('layer rules', () => {
  it('storage importing txn fails lint', async () => {
    const msgs = await lintAs('packages/storage/src/bad.ts', fixture('packages/storage/src/bad.ts'));
    expect(msgs.length).toBe(1);
    expect(msgs[0]!.severity).toBe(2);
  });
  it('query importing storage fails lint', async () => {
    const msgs = await lintAs('packages/query/src/bad.ts', fixture('packages/query/src/bad.ts'));
    expect(msgs.length).toBe(1);
  });
  it('query importing common passes', async () => {
    const msgs = await lintAs('packages/query/src/good.ts', fixture('packages/query/src/good.ts'));
    expect(msgs).toEqual([]);
  });
  it('every layer may import common, none may import the engine below it', async () => {
    for (const dir of ['storage', 'indexes', 'txn', 'query']) {
      const bad = await lintAs(`packages/${dir}/src/x.ts`, "import { Database } from 'quiverdb';\nexport const d = Database;\n");
      expect(bad.length, dir).toBe(1);
      const ok = await lintAs(`packages/${dir}/src/x.ts`, "import { DbError } from '@quiverdb/common';\nexport const e = DbError;\n");
      expect(ok, dir).toEqual([]);
    }
  });
});
