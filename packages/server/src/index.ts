/**
 * @quiverdb/server — QuiverDB over HTTP (`POST /v1/query`, `/health`, `/metrics`) and the
 * PostgreSQL wire protocol v3, on top of a `quiverdb` Database.
 *
 *   import { Database } from 'quiverdb';
 *   import { startServer } from '@quiverdb/server';
 *   const db = await Database.open('./data');
 *   const server = await startServer({ db, host: '127.0.0.1', httpPort: 8080, pgPort: 5432 });
 *   ...
 *   await server.close(); await db.checkpoint(); await db.close();
 */
export { createServer, startServer } from './server.js';
export type { QuiverServer, ServerOptions, StartServerOptions } from './server.js';
export type {
  ServerDatabase,
  ServerConnection,
  QueryResult,
  ResultColumn,
  StatementDescription,
  TransactionStatus,
  ServerLogger,
} from './contract.js';
export { silentLogger } from './contract.js';
export { ARROW_STREAM } from './http-api.js';
export { ServerMetrics } from './metrics.js';
export { PgServer } from './pg-server.js';
export type { PgServerOptions } from './pg-server.js';
export { SERVER_VERSION } from './pg-session.js';
export { errorInfo, httpStatusFor } from './error-info.js';
export type { ErrorInfo } from './error-info.js';
export { jsonValue } from './json-values.js';
export { formatFloat4, formatFloat8, toPgText } from './pg-text-format.js';
export { pgTypeOf, Oid } from './pg-types.js';
