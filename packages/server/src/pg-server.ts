/**
 * The PostgreSQL wire-protocol listener: accepts sockets, gives each a `PgSession`, keeps the
 * registry used by CancelRequest and by shutdown.
 *
 * Shutdown (`close()`): stop accepting; idle sessions get FATAL 57P01 and are closed at once;
 * a session with a statement in flight is closed as soon as that statement finishes; after
 * `graceMs` the remaining sockets are destroyed (their Connections are still closed, which
 * rolls back what was open).
 *
 * Invariants:
 *  1. `sessions` holds exactly the sessions whose socket is open.
 *  2. Process ids are unique for the life of the server.
 */
import net from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { ServerDatabase, ServerLogger } from './contract.js';
import type { ServerMetrics } from './metrics.js';
import { scramSecret } from './pg-scram.js';
import { PgSession, type PgAuth } from './pg-session.js';

export interface PgServerOptions {
  readonly db: ServerDatabase;
  readonly metrics: ServerMetrics;
  readonly logger: ServerLogger;
  /** require a password from clients (default: trust) */
  readonly password?: string | undefined;
  /** 'scram-sha-256' (default, as PostgreSQL) or 'password' (cleartext) */
  readonly authMethod?: 'scram-sha-256' | 'password';
  /** PEM key and certificate: offer TLS to clients that ask (sslmode=prefer/require) */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer } | undefined;
  /** at most this many concurrent sessions (default 500); more get FATAL 53300 */
  readonly maxConnections?: number | undefined;
  /** log statements that take at least this many ms (default: never) */
  readonly slowQueryMs?: number | undefined;
}

export class PgServer {
  private readonly server: net.Server;
  private readonly sessions = new Set<PgSession>();
  private readonly byPid = new Map<number, PgSession>();
  private nextPid = 1000 + Math.floor(Math.random() * 1000);
  private closing = false;
  private readonly auth: PgAuth | undefined;
  private readonly tls: SecureContext | undefined;

  constructor(private readonly opts: PgServerOptions) {
    this.tls = opts.tls === undefined ? undefined : createSecureContext({ key: opts.tls.key, cert: opts.tls.cert });
    const pw = opts.password;
    if (pw === undefined) this.auth = undefined;
    else if (opts.authMethod === 'password') this.auth = { method: 'password', password: pw };
    else this.auth = { method: 'scram-sha-256', secret: scramSecret(pw) };
    this.server = net.createServer((socket) => this.accept(socket));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const pid = this.nextPid++;
    const full = this.sessions.size >= (this.opts.maxConnections ?? 500);
    const session = new PgSession(socket, {
      reject: full ? { code: '53300', message: 'sorry, too many clients already' } : undefined,
      db: this.opts.db,
      metrics: this.opts.metrics,
      logger: this.opts.logger,
      auth: this.auth,
      tls: this.tls,
      slowQueryMs: this.opts.slowQueryMs,
      processId: pid,
      onStarted: (s) => this.byPid.set(s.processId, s),
      onClosed: (s) => {
        this.sessions.delete(s);
        this.byPid.delete(s.processId);
      },
      onCancel: (cancelPid, secret) => {
        const target = this.byPid.get(cancelPid);
        if (target !== undefined && target.secretKey === secret) {
          this.opts.logger.info('pg cancel request', { pid: cancelPid });
          target.cancel();
        }
      },
    });
    this.sessions.add(session);
  }

  /** Start listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  }

  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const all = [...this.sessions];
    for (const s of all) s.terminate();
    const ended = Promise.all(all.map((s) => s.closed));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), graceMs); });
    if ((await Promise.race([ended, timeout])) === 'timeout') {
      this.opts.logger.warn('pg sessions still busy at shutdown, closing their sockets', { sessions: this.sessions.size });
      for (const s of this.sessions) s.destroy();
      clearTimeout(timer);
      // a statement that never settles must not hang the shutdown: give it a last moment
      await Promise.race([ended, new Promise((resolve) => { timer = setTimeout(resolve, 2000); })]);
    }
    clearTimeout(timer);
    await stopped;
  }
}
