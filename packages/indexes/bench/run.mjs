// Bundle bench/pages-written.ts with esbuild (workspace sources through the @quiverdb/source
// condition) and run it:  node bench/run.mjs [N] [K] [fanout]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const here = fileURLToPath(new URL('.', import.meta.url));
const esbuild = `${here}../../../node_modules/.bin/esbuild`;
const out = `${here}../node_modules/.cache/pages-written.mjs`;
const b = spawnSync(esbuild, [`${here}pages-written.ts`, '--bundle', '--platform=node', '--format=esm', `--outfile=${out}`, '--conditions=@quiverdb/source', '--log-level=warning'], { stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
const r = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
