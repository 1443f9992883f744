/**
 * The `quiver` executable (dist/quiver.js, with a `#!/usr/bin/env node` banner): see main.ts.
 * Sets the exit status instead of calling process.exit, so piped output is fully flushed.
 */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`quiver: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
