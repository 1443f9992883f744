/**
 * @quiverdb/server-app — the `quiver-server` program: configuration (config.ts), structured
 * logs (logger.ts), and the run / graceful-shutdown sequence (run-server.ts). The bin entry is
 * quiver-server.ts.
 */
export { buildCommand, parseConfig } from './config.js';
export type { ServerConfig } from './config.js';
export { createJsonLogger, isLogLevel } from './logger.js';
export type { JsonLogger, LogLevel } from './logger.js';
export { runServer } from './run-server.js';
export type { RunningServer, RunOptions } from './run-server.js';
export { main } from './main.js';
