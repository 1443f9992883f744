/**
 * Command line and environment of `quiver-server`.
 *
 *   quiver-server --data DIR [--host 127.0.0.1] [--http-port 8080] [--pg-port 5432]
 *                 [--pg-password PW] [--pg-auth scram-sha-256|password]
 *                 [--http-token TOKEN] [--tls-cert FILE --tls-key FILE] [--log-level info]
 *                 [--shutdown-grace-ms 10000]
 *                 [--slow-query-ms MS]
 *
 * Every option also reads an environment variable (the flag wins): QUIVER_DATA, QUIVER_HOST,
 * QUIVER_HTTP_PORT, QUIVER_PG_PORT, QUIVER_PG_PASSWORD, QUIVER_PG_AUTH, QUIVER_HTTP_TOKEN, QUIVER_TLS_CERT, QUIVER_TLS_KEY, QUIVER_LOG_LEVEL,
 * QUIVER_SHUTDOWN_GRACE_MS, QUIVER_SLOW_QUERY_MS. A port of 0 picks a free port (the bound port is logged);
 * a port of 'off' disables that listener. `--data :memory:` runs without a directory.
 */
import { Command, InvalidArgumentError } from 'commander';
import { isLogLevel, type LogLevel } from './logger.js';

export interface ServerConfig {
  readonly data: string;
  readonly host: string;
  readonly httpPort: number | null;
  readonly pgPort: number | null;
  readonly pgPassword: string | undefined;
  readonly pgAuth: 'scram-sha-256' | 'password';
  /** bearer token required on HTTP /v1/* requests */
  readonly httpToken: string | undefined;
  /** PEM files: HTTPS, and TLS offered on the PostgreSQL port (both or neither) */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
  /** log statements that take at least this many ms (undefined = off) */
  readonly slowQueryMs: number | undefined;
}

/** -1 stands for 'off' inside commander (which treats a null option value as "no value") */
const OFF = -1;

function port(value: string): number {
  if (value === 'off') return OFF;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is an integer 0-65535 (0 = any free port) or "off"');
  return n;
}

function level(value: string): LogLevel {
  if (!isLogLevel(value)) throw new InvalidArgumentError('one of debug, info, warn, error');
  return value;
}

function authMethod(value: string): 'scram-sha-256' | 'password' {
  if (value !== 'scram-sha-256' && value !== 'password') throw new InvalidArgumentError('scram-sha-256 or password');
  return value;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('a non-negative number');
  return n;
}

export function buildCommand(env: NodeJS.ProcessEnv = process.env): Command {
  return new Command('quiver-server')
    .description('QuiverDB over HTTP (POST /v1/query) and the PostgreSQL wire protocol')
    .option('-d, --data <dir>', 'database directory (created if missing), or :memory: [env QUIVER_DATA]', env['QUIVER_DATA'])
    .option('--host <address>', 'address to bind [env QUIVER_HOST]', env['QUIVER_HOST'] ?? '127.0.0.1')
    .option('--http-port <port>', 'HTTP port, 0 = any free port, off = none [env QUIVER_HTTP_PORT]', port, port(env['QUIVER_HTTP_PORT'] ?? '8080'))
    .option('--pg-port <port>', 'PostgreSQL port, 0 = any free port, off = none [env QUIVER_PG_PORT]', port, port(env['QUIVER_PG_PORT'] ?? '5432'))
    .option('--pg-password <password>', 'require this password from PostgreSQL clients (default: trust) [env QUIVER_PG_PASSWORD]')
    .option('--pg-auth <method>', 'how the password is sent: scram-sha-256 | password (cleartext) [env QUIVER_PG_AUTH]', authMethod, authMethod(env['QUIVER_PG_AUTH'] ?? 'scram-sha-256'))
    .option('--http-token <token>', 'require "Authorization: Bearer <token>" on HTTP /v1/* requests [env QUIVER_HTTP_TOKEN]')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS and offer TLS on the PostgreSQL port [env QUIVER_TLS_CERT]', env['QUIVER_TLS_CERT'])
    .option('--tls-key <file>', 'PEM private key for --tls-cert [env QUIVER_TLS_KEY]', env['QUIVER_TLS_KEY'])
    .option('--log-level <level>', 'debug | info | warn | error [env QUIVER_LOG_LEVEL]', level, level(env['QUIVER_LOG_LEVEL'] ?? 'info'))
    .option('--shutdown-grace-ms <ms>', 'on SIGTERM, how long running statements may finish [env QUIVER_SHUTDOWN_GRACE_MS]', nonNegative, nonNegative(env['QUIVER_SHUTDOWN_GRACE_MS'] ?? '10000'))
    .option('--slow-query-ms <ms>', 'log statements that take at least this long as "slow query" warnings [env QUIVER_SLOW_QUERY_MS]', nonNegative, env['QUIVER_SLOW_QUERY_MS'] === undefined ? undefined : nonNegative(env['QUIVER_SLOW_QUERY_MS']))
    .showHelpAfterError();
}

/** Parse argv (as process.argv: node, script, ...args). Exits 2 with usage on bad arguments (0 for --help). */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const cmd = buildCommand(env);
  cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  cmd.parse([...argv]);
  const o = cmd.opts<{ data?: string; host: string; httpPort: number; pgPort: number; pgPassword?: string; pgAuth: 'scram-sha-256' | 'password'; httpToken?: string; tlsCert?: string; tlsKey?: string; logLevel: LogLevel; shutdownGraceMs: number; slowQueryMs?: number }>();
  if (o.data === undefined || o.data === '') cmd.error('error: --data <dir> is required (or set QUIVER_DATA)', { exitCode: 2 });
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) cmd.error('error: --tls-cert and --tls-key go together', { exitCode: 2 });
  return {
    data: o.data!,
    host: o.host,
    httpPort: o.httpPort === OFF ? null : o.httpPort,
    pgPort: o.pgPort === OFF ? null : o.pgPort,
    // read here rather than as a commander default, so --help never prints it
    pgPassword: o.pgPassword ?? env['QUIVER_PG_PASSWORD'],
    pgAuth: o.pgAuth,
    httpToken: o.httpToken ?? env['QUIVER_HTTP_TOKEN'],
    tlsCert: o.tlsCert,
    tlsKey: o.tlsKey,
    logLevel: o.logLevel,
    shutdownGraceMs: o.shutdownGraceMs,
    slowQueryMs: o.slowQueryMs,
  };
}
