#!/usr/bin/env node
// `pnpm demo` (after the build): create ./demo.quiver afresh with the built `quiver`, load a
// small table, then query it from a second process, which also shows the data persisted.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const quiver = fileURLToPath(new URL('../dist/quiver.js', import.meta.url));
const dir = resolve(process.cwd(), 'demo.quiver');

function run(args) {
  const r = spawnSync(process.execPath, [quiver, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`demo: quiver ${args.join(' ')} exited with ${r.status}\n`);
    process.exit(r.status ?? 1);
  }
  return r.stdout;
}

rmSync(dir, { recursive: true, force: true });
console.log(`demo: creating ${dir}`);
run([
  dir,
  '-c',
  `CREATE TABLE birds (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL,
     wingspan_cm DOUBLE PRECISION,
     seen DATE
   );
   INSERT INTO birds VALUES
     (1, 'Common swift', 42.5, '2024-05-02'),
     (2, 'Barn owl', 89.0, '2024-03-17'),
     (3, 'Kingfisher', 25.0, '2024-06-21'),
     (4, 'Grey heron', 175.0, '2024-01-09'),
     (5, 'Robin', 21.0, '2024-02-14');`,
]);
const query = 'SELECT name, wingspan_cm, seen FROM birds WHERE wingspan_cm > 24 ORDER BY wingspan_cm DESC LIMIT 3';
console.log(`demo: quiver demo.quiver -c "${query}"\n`);
process.stdout.write(run([dir, '-c', query]));
