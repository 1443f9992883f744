/**
 * Every published package is installable on its own: pack each one with `pnpm pack` (which turns
 * `workspace:*` into real versions), install the tarballs into an empty folder outside the
 * workspace with plain npm, and run a query through `import { Database } from 'quiverdb'`; run the
 * `quiver` bin from the installed CLI too.
 *
 * Needs the packages built (`pnpm test` builds first) and the npm registry for third-party deps.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PUBLISHED = ['packages/common', 'packages/storage', 'packages/indexes', 'packages/txn', 'packages/query', 'packages/engine', 'packages/server', 'apps/cli', 'apps/server'];
const built = PUBLISHED.every((p) => existsSync(join(root, p, 'dist')));

describe.skipIf(!built)('packed packages', () => {
  it('install from tarballs into an empty folder and run a query', () => {
    const work = mkdtempSync(join(tmpdir(), 'quiver-pack-'));
    try {
      const tarDir = join(work, 'tarballs');
      for (const p of PUBLISHED) {
        execFileSync('pnpm', ['pack', '--pack-destination', tarDir], { cwd: join(root, p), stdio: 'pipe' });
      }
      const tarballs = readdirSync(tarDir).filter((f) => f.endsWith('.tgz')).map((f) => join(tarDir, f));
      expect(tarballs.length).toBe(PUBLISHED.length);
      const app = join(work, 'app');
      execFileSync('mkdir', ['-p', app]);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { cwd: app, stdio: 'pipe', timeout: 300_000 });
      writeFileSync(join(app, 'main.js'), [
        "import { Database } from 'quiverdb';",
        "const db = await Database.open(':memory:');",
        'const c = db.connect();',
        "await c.query('CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)');",
        "await c.query('INSERT INTO t VALUES ($1, $2), (2, $3)', [1, 'x', 'y']);",
        "const r = await c.query('SELECT a, b FROM t WHERE a > $1 ORDER BY a', [0]);",
        'console.log(JSON.stringify(r.rows));',
        'await db.close();',
      ].join('\n'));
      const out = execFileSync('node', ['main.js'], { cwd: app, encoding: 'utf8' });
      expect(out.trim()).toBe('[[1,"x"],[2,"y"]]');
      const cli = execFileSync(join(app, 'node_modules', '.bin', 'quiver'), ['-c', 'SELECT 1 + 1 AS two', '--format', 'csv'], { cwd: app, encoding: 'utf8' });
      expect(cli).toContain('2');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);
});
