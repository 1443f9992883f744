/**
 * quiverdb — an embedded relational database for Node.js: tables as Apache Parquet, computation on
 * Apache Arrow, PostgreSQL's SQL and transactions.
 *
 * ```ts
 * import { Database } from 'quiverdb';
 * const db = await Database.open('./mydb');   // ':memory:' for an in-memory database
 * const conn = db.connect();
 * await conn.query('CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)');
 * await conn.query('INSERT INTO t VALUES ($1, $2)', [1, 'one']);
 * const r = await conn.query('SELECT a, b FROM t WHERE a > $1', [0]);
 * r.rows; // [[1, 'one']]
 * await conn.close(); await db.close();
 * ```
 *
 * The engine package is where storage, indexes, transactions and the SQL stack meet; see
 * database.ts for the picture.
 */
export { Database } from './database.js';
export type { DatabaseOptions } from './database.js';
export { Connection } from './connection.js';
export { Result } from './result.js';
export type { ResultColumn } from './result.js';
export { DbError, SqlState, isDbError } from '@quiverdb/common';
export type { SqlType } from '@quiverdb/common';
