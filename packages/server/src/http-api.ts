/**
 * The HTTP API (fastify 5).
 *
 *   POST /v1/query    {"sql": "...", "params": [...]} (or a text/plain body = the SQL)
 *                     → 200 {columns, rows, rowCount, command}   (values: see json-values.ts)
 *                     → with `Accept: application/vnd.apache.arrow.stream`: the result as an
 *                       Arrow IPC stream (headers quiver-command, quiver-row-count)
 *                     → error: {error: {code, message, position?, detail?, hint?}} with 400,
 *                       409 (40001 / 40P01), 500 (XX*, 58*), 503 (57P01, 53*)
 *   POST /v1/sessions → 201 {session}: a Connection kept for multi-request transactions; send
 *                       its id in the `quiver-session` header of /v1/query.
 *                       Responses on a session carry `quiver-transaction-status: I | T | E`.
 *   DELETE /v1/sessions/:id → 204 (closes the Connection: an open transaction rolls back)
 *   GET /health       → {status: 'ok'}
 *   GET /metrics      → Prometheus text (metrics.ts)
 *
 * Without a session header each request gets its own Connection (autocommit) and closes it; a
 * request that leaves a transaction block open there (BEGIN) is answered 400 with SQLSTATE 25000
 * and rolled back, since no later request could reach it.
 * With `token`, every /v1/* request needs `Authorization: Bearer <token>` (/health and /metrics
 * stay open for probes and scrapers). With `tls`, the same routes are served over HTTPS.
 *
 * Concurrency: requests run concurrently (each on its own Connection). Requests on one session
 * are queued and run one at a time, in arrival order. Idle sessions are closed after
 * `sessionIdleMs`.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { tableToIPC, type Table } from 'apache-arrow';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { QueryResult, ServerConnection, ServerDatabase, ServerLogger } from './contract.js';
import { errorInfo, httpStatusFor, type ErrorInfo } from './error-info.js';
import { jsonRows } from './json-values.js';
import { recordQuery, type ServerMetrics } from './metrics.js';

export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

export interface HttpApiOptions {
  readonly metrics: ServerMetrics;
  readonly logger: ServerLogger;
  /** largest accepted request body in bytes (default 64 MiB) */
  readonly bodyLimit?: number;
  /** idle sessions are closed after this many ms (default 300 000) */
  readonly sessionIdleMs?: number;
  /** at most this many open sessions (default 1000) */
  readonly maxSessions?: number | undefined;
  /** log statements that take at least this many ms (default: never) */
  readonly slowQueryMs?: number | undefined;
  /** when set, /v1/* requests must send `Authorization: Bearer <token>` (401 / 28000 otherwise) */
  readonly token?: string | undefined;
  /** PEM key and certificate: serve HTTPS instead of HTTP */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer } | undefined;
}

interface HttpSession {
  readonly id: string;
  readonly conn: ServerConnection;
  /** tail of the queue of requests on this session */
  tail: Promise<unknown>;
  lastUsed: number;
  busy: number;
}

function sendError(reply: FastifyReply, info: ErrorInfo, status = httpStatusFor(info.code)): FastifyReply {
  const error: Record<string, unknown> = { code: info.code, message: info.message };
  if (info.position !== undefined) error['position'] = info.position;
  if (info.detail !== undefined) error['detail'] = info.detail;
  if (info.hint !== undefined) error['hint'] = info.hint;
  return reply.code(status).type('application/json; charset=utf-8').send({ error });
}

function parseBody(body: unknown): { sql: string; params: unknown[] } | null {
  if (typeof body === 'string') return { sql: body, params: [] };
  if (typeof body !== 'object' || body === null) return null;
  const { sql, params } = body as { sql?: unknown; params?: unknown };
  if (typeof sql !== 'string') return null;
  if (params !== undefined && params !== null && !Array.isArray(params)) return null;
  return { sql, params: (params as unknown[] | undefined | null) ?? [] };
}

export function createHttpApi(db: ServerDatabase, opts: HttpApiOptions): FastifyInstance {
  const { metrics, logger } = opts;
  const sessionIdleMs = opts.sessionIdleMs ?? 300_000;
  const maxSessions = opts.maxSessions ?? 1000;
  const sessions = new Map<string, HttpSession>();
  const base = { logger: false, bodyLimit: opts.bodyLimit ?? 64 * 1024 * 1024, return503OnClosing: true, forceCloseConnections: 'idle' as const };
  // HTTPS and HTTP instances differ only in their server type; the routes are the same
  const app = (opts.tls !== undefined ? Fastify({ ...base, https: { key: opts.tls.key, cert: opts.tls.cert } }) : Fastify(base)) as unknown as FastifyInstance;

  if (opts.token !== undefined) {
    const expected = createHash('sha256').update(opts.token).digest();
    app.addHook('onRequest', async (req, reply) => {
      if (!req.url.startsWith('/v1/')) return;
      const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      const given = createHash('sha256').update(m?.[1] ?? '').digest();
      if (m === null || !timingSafeEqual(given, expected)) {
        return sendError(reply.header('www-authenticate', 'Bearer'), { code: '28000', message: 'missing or wrong bearer token' }, 401);
      }
    });
  }

  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    const code = status >= 500 ? 'XX000' : '08P01';
    void sendError(reply, { code, message: err.message }, status);
  });
  app.setNotFoundHandler((req, reply) => {
    void sendError(reply, { code: '08P01', message: `no route ${req.method} ${req.url}` }, 404);
  });
  app.addHook('onResponse', async (req, reply) => {
    logger.debug?.('http request', { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 });
  });

  const closeSession = async (s: HttpSession): Promise<void> => {
    if (!sessions.delete(s.id)) return;
    await s.tail.catch(() => undefined);
    try {
      await s.conn.close();
    } catch (err) {
      logger.warn('closing http session failed', { session: s.id, error: errorInfo(err).message });
    }
    metrics.connectionClosed('http');
  };

  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const s of sessions.values()) {
      if (s.busy === 0 && now - s.lastUsed > sessionIdleMs) {
        logger.info('closing idle http session', { session: s.id });
        void closeSession(s);
      }
    }
  }, Math.max(1000, Math.min(sessionIdleMs, 60_000)));
  sweeper.unref();

  // Responses that finish after close() began must not keep their socket alive: the keep-alive
  // connection would hold the close for its whole idle timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    await Promise.all([...sessions.values()].map(closeSession));
  });

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/metrics', async (_req, reply) => {
    let engine: unknown;
    try {
      engine = db.metrics?.();
    } catch (err) {
      logger.warn('db.metrics() failed', { error: errorInfo(err).message });
    }
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render(engine));
  });

  app.post('/v1/sessions', async (_req, reply) => {
    if (sessions.size >= maxSessions) return sendError(reply, { code: '53300', message: `too many sessions (limit ${maxSessions})` }, 503);
    let conn: ServerConnection;
    try {
      conn = await db.connect();
    } catch (err) {
      return sendError(reply, errorInfo(err));
    }
    metrics.connectionOpened('http');
    const s: HttpSession = { id: randomUUID(), conn, tail: Promise.resolve(), lastUsed: Date.now(), busy: 0 };
    sessions.set(s.id, s);
    return reply.code(201).send({ session: s.id });
  });

  app.delete<{ Params: { id: string } }>('/v1/sessions/:id', async (req, reply) => {
    const s = sessions.get(req.params.id);
    if (s === undefined) return sendError(reply, { code: '08003', message: `no session ${req.params.id}` }, 404);
    await closeSession(s);
    return reply.code(204).send();
  });

  const run = async (conn: ServerConnection, sql: string, params: unknown[]): Promise<{ result?: QueryResult; error?: ErrorInfo }> => {
    const t0 = performance.now();
    try {
      const result = await conn.query(sql, params);
      recordQuery(opts, 'http', sql, (performance.now() - t0) / 1000);
      return { result };
    } catch (err) {
      const error = errorInfo(err);
      recordQuery(opts, 'http', sql, (performance.now() - t0) / 1000, error.code);
      if (error.code.startsWith('XX')) logger.error('query failed with an internal error', { sql: sql.slice(0, 200), error: error.message });
      return { error };
    }
  };

  app.post('/v1/query', async (req, reply) => {
    const body = parseBody(req.body);
    if (body === null) {
      return sendError(reply, { code: '08P01', message: 'request body must be {"sql": string, "params"?: array}' }, 400);
    }
    const sessionId = req.headers['quiver-session'];
    let outcome: { result?: QueryResult; error?: ErrorInfo };
    let session: HttpSession | undefined;
    if (typeof sessionId === 'string' && sessionId.length > 0) {
      const s = sessions.get(sessionId);
      if (s === undefined) return sendError(reply, { code: '08003', message: `no session ${sessionId}` }, 404);
      session = s;
      s.busy++;
      const p = s.tail.then(() => run(s.conn, body.sql, body.params));
      s.tail = p.catch(() => undefined);
      try {
        outcome = await p;
      } finally {
        s.busy--;
        s.lastUsed = Date.now();
      }
    } else {
      let conn: ServerConnection;
      try {
        conn = await db.connect();
      } catch (err) {
        return sendError(reply, errorInfo(err));
      }
      metrics.connectionOpened('http');
      try {
        outcome = await run(conn, body.sql, body.params);
        // the Connection closes with this request: a transaction block it opened would roll back
        // silently, so it is refused (its work is rolled back) and the client is told to use a session
        const left = conn.transactionStatus?.();
        if (outcome.error === undefined && left !== undefined && left !== 'I') {
          outcome = { error: { code: '25000', message: 'a transaction block cannot span sessionless requests (it was rolled back): create a session with POST /v1/sessions and send its id in the quiver-session header' } };
        }
      } finally {
        try {
          await conn.close();
        } catch (err) {
          logger.warn('closing http connection failed', { error: errorInfo(err).message });
        }
        metrics.connectionClosed('http');
      }
    }
    const txStatus = session?.conn.transactionStatus?.();
    if (txStatus !== undefined) reply.header('quiver-transaction-status', txStatus);
    if (outcome.error !== undefined || outcome.result === undefined) {
      return sendError(reply, outcome.error ?? { code: 'XX000', message: 'internal error (this is a bug): no result' });
    }
    const result = outcome.result;
    if ((req.headers.accept ?? '').includes(ARROW_STREAM)) {
      if (typeof result.toArrow !== 'function') {
        return sendError(reply, { code: '0A000', message: 'this result cannot be returned as Arrow' }, 406);
      }
      let bytes: Uint8Array;
      try {
        bytes = tableToIPC(result.toArrow() as Table, 'stream');
      } catch (err) {
        return sendError(reply, errorInfo(err));
      }
      return reply
        .type(ARROW_STREAM)
        .header('quiver-command', result.command)
        .header('quiver-row-count', String(result.rowCount))
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
    return reply.type('application/json; charset=utf-8').send({
      columns: result.columns.map((c) => ({ name: c.name, type: c.type })),
      rows: jsonRows(result.rows),
      rowCount: result.rowCount,
      command: result.command,
    });
  });

  return app;
}
