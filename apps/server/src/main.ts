/**
 * `main(argv)`: parse the command line, run the server until a signal stops it. Startup
 * failures are logged as one JSON line and exit with status 1.
 */
import { parseConfig } from './config.js';
import { createJsonLogger } from './logger.js';
import { runServer } from './run-server.js';

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  const config = parseConfig(argv);
  const logger = createJsonLogger(config.logLevel);
  try {
    await runServer(config, { logger });
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    logger.error('startup failed', { code: typeof e.code === 'string' ? e.code : undefined, error: typeof e.message === 'string' ? e.message : String(err) });
    process.exit(1);
  }
}
