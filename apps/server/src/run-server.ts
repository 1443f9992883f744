/**
 * `runServer(config)`: open the database, serve it, and shut down gracefully.
 *
 * Shutdown (`shutdown()`, or SIGTERM / SIGINT when `handleSignals`):
 *   1. stop accepting connections; running statements get `shutdownGraceMs` to finish, then
 *      their sockets are dropped (their transactions roll back);
 *   2. `db.checkpoint()` — committed rows become Parquet segments, the WAL is trimmed;
 *   3. `db.close()`;
 *   then the process exits 0 (1 if a step failed). A second signal exits at once with 1.
 *
 * Invariants:
 *  1. shutdown() runs its steps once, however often it is called or signalled.
 *  2. The database is closed on every path that opened it (a failed checkpoint still closes).
 */
import { readFileSync } from 'node:fs';
import { Database } from 'quiverdb';
import { startServer, type QuiverServer } from '@quiverdb/server';
import type { ServerConfig } from './config.js';
import { createJsonLogger, type JsonLogger } from './logger.js';

export interface RunningServer {
  readonly server: QuiverServer;
  readonly db: Database;
  readonly logger: JsonLogger;
  /** graceful shutdown; resolves with the exit code */
  shutdown(reason?: string): Promise<number>;
}

export interface RunOptions {
  readonly logger?: JsonLogger;
  /** install SIGTERM / SIGINT handlers that shut down and exit (default true) */
  readonly handleSignals?: boolean;
}

export async function runServer(config: ServerConfig, opts: RunOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createJsonLogger(config.logLevel);
  // read the TLS files before opening the database, so a bad path fails fast
  const pgTls = config.tlsCert !== undefined && config.tlsKey !== undefined ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
  const t0 = performance.now();
  const db = await Database.open(config.data);
  logger.info('database open', { data: config.data, ms: Math.round(performance.now() - t0) });
  let server: QuiverServer;
  try {
    server = await startServer({
      db,
      host: config.host,
      httpPort: config.httpPort,
      pgPort: config.pgPort,
      logger,
      ...(config.pgPassword !== undefined ? { pgPassword: config.pgPassword } : {}),
      pgAuthMethod: config.pgAuth,
      ...(pgTls !== undefined ? { pgTls, httpTls: pgTls } : {}),
      ...(config.httpToken !== undefined ? { httpToken: config.httpToken } : {}),
      shutdownGraceMs: config.shutdownGraceMs,
      ...(config.slowQueryMs !== undefined ? { slowQueryMs: config.slowQueryMs } : {}),
    });
  } catch (err) {
    await db.close();
    throw err;
  }
  logger.info('ready', { host: config.host, httpPort: server.httpPort, pgPort: server.pgPort, tls: pgTls !== undefined, pid: process.pid });

  let stopping: Promise<number> | null = null;
  const shutdown = (reason = 'shutdown requested'): Promise<number> => {
    stopping ??= (async () => {
      logger.info('shutting down', { reason });
      let code = 0;
      try {
        await server.close();
      } catch (err) {
        code = 1;
        logger.error('closing the listeners failed', { error: err });
      }
      try {
        await db.checkpoint();
        logger.info('checkpoint done');
      } catch (err) {
        code = 1;
        logger.error('checkpoint failed', { error: err });
      }
      try {
        await db.close();
      } catch (err) {
        code = 1;
        logger.error('closing the database failed', { error: err });
      }
      logger.info('stopped', { exitCode: code });
      return code;
    })();
    return stopping;
  };

  if (opts.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping !== null) {
        logger.warn('second signal, exiting now', { signal });
        process.exit(1);
      }
      void shutdown(signal).then((code) => process.exit(code));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  return { server, db, logger, shutdown };
}
