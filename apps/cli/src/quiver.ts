/**
 * The `quiver` executable (dist/quiver.js, with a `#!/usr/bin/env node` banner): see main.ts.
 * Sets the exit status instead of calling process.exit, so piped output is fully flushed.
 */
import { main } from './main.js';

// `quiver ... | head`: a closed pipe ends the program quietly instead of with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`quiver: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
