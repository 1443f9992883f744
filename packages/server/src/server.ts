/**
 * `createServer(db, opts)`: the HTTP API and the PostgreSQL wire protocol over one Database,
 * sharing one metrics registry. `startServer(opts)` creates and starts listening.
 *
 * The server never opens or closes the Database: the caller owns it (apps/server checkpoints
 * and closes it after `close()`).
 *
 * Invariants:
 *  1. `close()` is idempotent; after it resolves no socket of the server is open and every
 *     engine Connection the server opened is closed.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerDatabase, ServerLogger } from './contract.js';
import { silentLogger } from './contract.js';
import { createHttpApi } from './http-api.js';
import { ServerMetrics } from './metrics.js';
import { PgServer } from './pg-server.js';

export interface ServerOptions {
  /** bind address (default 127.0.0.1) */
  readonly host?: string;
  /** HTTP port; 0 = any free port; null = no HTTP listener (default 8080) */
  readonly httpPort?: number | null;
  /** PostgreSQL port; 0 = any free port; null = no pg listener (default 5432) */
  readonly pgPort?: number | null;
  readonly logger?: ServerLogger;
  /** require this password from pg clients; default: trust */
  readonly pgPassword?: string;
  /** how pg clients send the password: 'scram-sha-256' (default, as PostgreSQL) or 'password' (cleartext) */
  readonly pgAuthMethod?: 'scram-sha-256' | 'password';
  /** PEM key and certificate for TLS on the PostgreSQL port (clients opt in with sslmode) */
  readonly pgTls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** PEM key and certificate: serve HTTPS instead of HTTP */
  readonly httpTls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** require `Authorization: Bearer <token>` on /v1/* HTTP requests */
  readonly httpToken?: string;
  /** largest HTTP request body in bytes (default 64 MiB) */
  readonly bodyLimit?: number;
  /** idle HTTP sessions are closed after this many ms (default 300 000) */
  readonly sessionIdleMs?: number;
  /** most concurrent pg sessions (default 500) */
  readonly maxPgConnections?: number;
  /** log statements (both protocols) that take at least this many ms, as 'slow query' warnings */
  readonly slowQueryMs?: number;
  /** how long close() lets running statements finish before dropping sockets (default 10 000 ms) */
  readonly shutdownGraceMs?: number;
}

export interface StartServerOptions extends ServerOptions {
  readonly db: ServerDatabase;
}

export interface QuiverServer {
  /** the fastify instance (usable with `inject()` before or without listening) */
  readonly http: FastifyInstance;
  readonly pg: PgServer;
  readonly metrics: ServerMetrics;
  /** bound ports, set by listen() (null when that listener is off) */
  readonly httpPort: number | null;
  readonly pgPort: number | null;
  readonly host: string;
  listen(): Promise<{ httpPort: number | null; pgPort: number | null }>;
  close(): Promise<void>;
}

export function createServer(db: ServerDatabase, opts: ServerOptions = {}): QuiverServer {
  const logger = opts.logger ?? silentLogger;
  const host = opts.host ?? '127.0.0.1';
  const metrics = new ServerMetrics();
  const http = createHttpApi(db, {
    metrics,
    logger,
    bodyLimit: opts.bodyLimit,
    sessionIdleMs: opts.sessionIdleMs,
    slowQueryMs: opts.slowQueryMs,
    token: opts.httpToken,
    tls: opts.httpTls,
  });
  const pg = new PgServer({ db, metrics, logger, password: opts.pgPassword, authMethod: opts.pgAuthMethod, tls: opts.pgTls, maxConnections: opts.maxPgConnections, slowQueryMs: opts.slowQueryMs });
  const wantHttp = opts.httpPort === undefined ? 8080 : opts.httpPort;
  const wantPg = opts.pgPort === undefined ? 5432 : opts.pgPort;
  let closing: Promise<void> | null = null;
  let pgListening = false;

  const server: { -readonly [K in keyof QuiverServer]: QuiverServer[K] } = {
    http,
    pg,
    metrics,
    host,
    httpPort: null,
    pgPort: null,
    async listen() {
      if (wantHttp !== null) {
        await http.listen({ port: wantHttp, host });
        const addr = http.server.address();
        server.httpPort = typeof addr === 'object' && addr !== null ? addr.port : wantHttp;
        logger.info('http listening', { host, port: server.httpPort });
      }
      if (wantPg !== null) {
        server.pgPort = await pg.listen(wantPg, host);
        pgListening = true;
        logger.info('pg listening', { host, port: server.pgPort });
      }
      return { httpPort: server.httpPort, pgPort: server.pgPort };
    },
    close() {
      closing ??= (async () => {
        const grace = opts.shutdownGraceMs ?? 10_000;
        await Promise.all([
          http.close(),
          pgListening ? pg.close(grace) : Promise.resolve(),
        ]);
        logger.info('server closed');
      })();
      return closing;
    },
  };
  return server;
}

/** createServer + listen. */
export async function startServer(opts: StartServerOptions): Promise<QuiverServer> {
  const server = createServer(opts.db, opts);
  try {
    await server.listen();
  } catch (err) {
    await server.close();
    throw err;
  }
  return server;
}
