/**
 * One PostgreSQL wire-protocol (v3.0) session: a socket, one engine Connection, prepared
 * statements and portals.
 *
 * Message flow (backend side):
 *   startup   SSLRequest → 'S' and a TLS handshake when the server has a certificate, else 'N';
 *             GSSENCRequest → 'N'; CancelRequest → forwarded, socket closed;
 *             StartupMessage → [AuthenticationCleartextPassword → PasswordMessage] →
 *             AuthenticationOk, ParameterStatus*, BackendKeyData, ReadyForQuery('I').
 *             A 3.x minor version > 0 first gets NegotiateProtocolVersion (we speak 3.0).
 *   simple    Query → per statement: [RowDescription, DataRow*] CommandComplete | ErrorResponse
 *             (stops the string) ; EmptyQueryResponse for an empty string; then ReadyForQuery.
 *             Several statements outside a transaction block run in one implicit transaction
 *             (as in PostgreSQL), unless the string contains transaction control itself.
 *   extended  Parse/Bind/Describe/Execute/Close/Flush/Sync. After an ErrorResponse every
 *             message up to the next Sync is skipped. Execute with a row limit returns
 *             PortalSuspended and continues on the next Execute.
 *
 * Execution model: an extended-protocol portal runs its statement once, when it is first
 * described (Describe 'P') or executed, and keeps the rows; Execute then pages through them.
 * Describe of a statement ('S') needs the result columns without running it: it uses
 * `conn.describe()` when the engine provides it, else runs `SELECT * FROM (<sql>) LIMIT 0` with
 * NULL parameters for row-returning statements (inside a transaction block under a savepoint,
 * so a failing probe cannot abort the client's transaction), else answers NoData.
 *
 * Transaction status (ReadyForQuery): `conn.transactionStatus()` when the engine has it, else
 * tracked from the statements run (BEGIN/START → 'T', COMMIT/END/ROLLBACK/ABORT → 'I',
 * ROLLBACK TO → 'T', an error inside a block → 'E').
 *
 * Invariants:
 *  1. Messages of one session are handled strictly one at a time, in arrival order (a queue
 *     drained by one async loop); several sessions run concurrently.
 *  2. Every Sync, and every Query not skipped by invariant 3, is answered by exactly one
 *     ReadyForQuery.
 *  3. After an error in the extended protocol nothing but Sync (and Terminate) is processed,
 *     Query messages included (as PostgreSQL does).
 *  4. The engine Connection is closed exactly once, when the socket goes away.
 *
 * Concurrency: the only shared state is the server's session registry (for CancelRequest and
 * shutdown); it is touched only in `onStarted`/`onClosed` callbacks.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { QueryResult, ResultColumn, ServerConnection, ServerDatabase, ServerLogger, TransactionStatus } from './contract.js';
import { commandTag, returnsRows } from './command-tag.js';
import { errorInfo, ProtocolError, type ErrorInfo } from './error-info.js';
import { recordQuery, type ServerMetrics } from './metrics.js';
import { decodeBinary, encodeBinary } from './pg-binary-format.js';
import { PgBody, PgFrameReader, PgWriter, type Frame } from './pg-message-io.js';
import { fromPgText, toPgText } from './pg-text-format.js';
import { Oid, pgTypeOf } from './pg-types.js';
import { ScramExchange, SCRAM_MECHANISM, type ScramSecret } from './pg-scram.js';
import { firstKeyword, splitSql } from './sql-split.js';

export const SERVER_VERSION = '16.0 (QuiverDB)';

/** Password authentication: SCRAM-SHA-256 (as PostgreSQL's default) or cleartext. */
export type PgAuth = { readonly method: 'scram-sha-256'; readonly secret: ScramSecret } | { readonly method: 'password'; readonly password: string };

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3_0 = 196608;

/** flush the output buffer to the socket once it holds this many bytes */
const FLUSH_BYTES = 256 * 1024;

export interface PgSessionOptions {
  readonly db: ServerDatabase;
  readonly metrics: ServerMetrics;
  readonly logger: ServerLogger;
  /** log statements that take at least this many ms (default: never) */
  readonly slowQueryMs?: number | undefined;
  /** how clients authenticate; none = trust */
  readonly auth?: PgAuth | undefined;
  /** offer TLS: SSLRequest is answered 'S' and the session continues over TLS */
  readonly tls?: SecureContext | undefined;
  /** refuse the session with this FATAL error once its StartupMessage arrives (e.g. 53300) */
  readonly reject?: ErrorInfo | undefined;
  readonly processId: number;
  /** called once the session is authenticated and ready */
  onStarted?(session: PgSession): void;
  /** called once when the session ends */
  onClosed?(session: PgSession): void;
  /** a CancelRequest arrived on this (otherwise unused) connection */
  onCancel?(processId: number, secretKey: number): void;
}

interface PreparedStatement {
  readonly sql: string;
  /** offset of `sql` in the Parse text, to report error positions in the client's string */
  readonly offset: number;
  /** declared parameter type OIDs (0 = unspecified), one per parameter */
  readonly paramOids: number[];
  /**
   * cached Describe answer: result columns (null = no rows), parameter OIDs as reported
   * (untyped ones as text), and as inferred (0 where neither client nor engine gave a type)
   */
  described?: { columns: readonly ResultColumn[] | null; paramOids: number[]; inferredOids: number[] };
}

interface Portal {
  readonly stmt: PreparedStatement;
  readonly params: unknown[];
  readonly resultFormats: number[];
  result?: QueryResult;
  statusBefore?: TransactionStatus;
  /** next row to send */
  cursor: number;
}

type State = 'startup' | 'authenticating' | 'ready' | 'closed';

const ROW_KEYWORDS = new Set(['SELECT', 'VALUES', 'WITH', 'TABLE', 'SHOW', 'EXPLAIN']);
/** statements that manage transactions: a Query string containing one gets no implicit block */
const TXN_CONTROL = new Set(['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE', 'PREPARE', 'SET', 'VACUUM', 'CHECKPOINT']);

export class PgSession {
  readonly processId: number;
  readonly secretKey = randomInt(1, 2 ** 31 - 1);
  private state: State = 'startup';
  private readonly reader = new PgFrameReader();
  private readonly out = new PgWriter();
  private draining: Promise<void> | null = null;
  private conn: ServerConnection | null = null;
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal>();
  private skipUntilSync = false;
  private trackedStatus: TransactionStatus = 'I';
  private user = '';
  private startupParams = new Map<string, string>();
  private terminating: ErrorInfo | null = null;
  private scram: ScramExchange | null = null;
  private scramStarted = false;
  private closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  /** the client socket: the TCP socket, replaced by a TLSSocket over it after SSLRequest → 'S' */
  private socket: Socket;
  private encrypted = false;
  private readonly onData = (chunk: Buffer): void => {
    this.reader.push(chunk);
    this.pump();
  };
  private readonly onError = (err: Error): void => {
    this.opts.logger.debug?.('pg socket error', { pid: this.processId, error: err.message });
  };
  private readonly onClose = (): void => void this.cleanup();

  constructor(
    socket: Socket,
    private readonly opts: PgSessionOptions,
  ) {
    this.processId = opts.processId;
    this.closedPromise = new Promise((resolve) => { this.resolveClosed = resolve; });
    socket.setNoDelay(true);
    this.socket = socket;
    this.attach(socket);
  }

  private attach(s: Socket): void {
    s.on('data', this.onData);
    s.on('error', this.onError);
    s.on('close', this.onClose);
  }

  private detach(s: Socket): void {
    s.off('data', this.onData);
    s.off('error', this.onError);
    s.off('close', this.onClose);
  }

  /** Did the client switch to TLS? */
  get tls(): boolean {
    return this.encrypted;
  }

  /** Resolves when the session has ended and its Connection is closed. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Is a message being handled right now (e.g. a query running)? */
  get busy(): boolean {
    return this.draining !== null;
  }

  get startupParameters(): ReadonlyMap<string, string> {
    return this.startupParams;
  }

  /** CancelRequest for this session: forwarded to the engine when it can cancel. */
  cancel(): void {
    this.conn?.cancel?.();
  }

  /**
   * End the session as PostgreSQL does on shutdown: FATAL 57P01 to the client, then close.
   * A message being handled finishes first.
   */
  terminate(info: ErrorInfo = { code: '57P01', message: 'terminating connection due to administrator command' }): void {
    if (this.state === 'closed') return;
    this.terminating = info;
    if (this.draining === null) this.finishTermination();
  }

  /** Drop the socket now (shutdown grace period over). The Connection is still closed. */
  destroy(): void {
    this.socket.destroy();
  }

  private finishTermination(): void {
    const info = this.terminating;
    if (info === null || this.state === 'closed') return;
    if (this.state === 'ready' || this.state === 'authenticating') this.writeError(info, 'FATAL');
    this.flush();
    this.socket.end();
    this.state = 'closed'; // once: later input is ignored
    // a client that never reads must not hold the shutdown forever
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  // ---- input loop ---------------------------------------------------------------------------

  private pump(): void {
    if (this.draining !== null || this.state === 'closed') return;
    let settle!: () => void;
    this.draining = new Promise<void>((resolve) => { settle = resolve; });
    void this.drain().finally(() => {
      this.draining = null;
      settle();
      if (this.terminating !== null) this.finishTermination();
      else if (this.state !== 'closed' && this.reader.hasFrame(this.state !== 'startup')) this.pump();
    });
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.terminating !== null || this.state === 'closed') break;
        const frame = this.reader.next(this.state !== 'startup');
        if (frame === null) break;
        await this.handle(frame);
      }
    } catch (err) {
      const info = errorInfo(err);
      this.opts.logger.warn('pg session ended by a fatal error', { pid: this.processId, code: info.code, error: info.message });
      if (this.state !== 'closed') {
        this.writeError(info, 'FATAL');
        this.flush();
        this.socket.end();
        this.state = 'closed';
      }
    }
  }

  private async handle(frame: Frame): Promise<void> {
    if (this.state === 'startup') return this.handleStartup(new PgBody(frame.body));
    if (this.state === 'authenticating') return this.handlePassword(frame);
    const body = new PgBody(frame.body);
    if (frame.type === 'X') {
      this.socket.end();
      this.state = 'closed';
      return;
    }
    if (this.skipUntilSync && frame.type !== 'S') return;
    try {
      switch (frame.type) {
        case 'Q':
          try {
            return await this.simpleQuery(body.cstring());
          } catch (err) {
            // simpleQuery reports statement errors itself; this is anything else that broke it
            if (err instanceof ProtocolError && err.fatal) throw err;
            this.writeError(errorInfo(err));
            this.readyForQuery();
            return;
          }
        case 'P': return this.parse(body);
        case 'B': return await this.bind(body);
        case 'D': return await this.describe(body);
        case 'E': return await this.execute(body);
        case 'C': return this.close(body);
        case 'H': return this.flush();
        case 'S':
          this.skipUntilSync = false;
          this.readyForQuery();
          return;
        case 'd': case 'c': case 'f':
          return; // CopyData / CopyDone / CopyFail outside COPY: ignored, as PostgreSQL does
        case 'F':
          throw new ProtocolError('0A000', 'the function call protocol is not supported');
        default:
          throw new ProtocolError('08P01', `invalid frontend message type ${frame.type.charCodeAt(0)}`, { fatal: true });
      }
    } catch (err) {
      if (err instanceof ProtocolError && err.fatal) throw err;
      // an error in the extended protocol (outside simpleQuery, which reports its own)
      this.writeError(errorInfo(err));
      this.skipUntilSync = true;
    }
  }

  // ---- startup ------------------------------------------------------------------------------

  private async handleStartup(body: PgBody): Promise<void> {
    const code = body.int32();
    if (code === SSL_REQUEST && this.opts.tls !== undefined && !this.encrypted) {
      // A client must wait for 'S' before its TLS handshake: plaintext already here would be
      // injected into the encrypted session (CVE-2021-23214), so it is refused.
      if (this.reader.buffered > 0) throw new ProtocolError('08P01', 'received unencrypted data after SSL request', { fatal: true });
      const raw = this.socket;
      raw.write(Buffer.from('S'));
      this.detach(raw);
      const secure = new TLSSocket(raw, { isServer: true, secureContext: this.opts.tls });
      this.socket = secure;
      this.encrypted = true;
      this.attach(secure);
      return;
    }
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.socket.write(Buffer.from('N'));
      return;
    }
    if (code === CANCEL_REQUEST) {
      const pid = body.int32();
      const secret = body.int32();
      this.opts.onCancel?.(pid, secret);
      this.state = 'closed';
      this.socket.end();
      return;
    }
    if (code >> 16 !== 3) {
      throw new ProtocolError('0A000', `unsupported frontend protocol ${code >> 16}.${code & 0xffff}: server supports 3.0`);
    }
    const unknownOptions: string[] = [];
    while (body.remaining > 1) {
      const key = body.cstring();
      if (key === '') break;
      const value = body.cstring();
      if (key.startsWith('_pq_.')) unknownOptions.push(key);
      else this.startupParams.set(key, value);
    }
    this.user = this.startupParams.get('user') ?? '';
    if (this.opts.reject !== undefined) throw new ProtocolError(this.opts.reject.code, this.opts.reject.message, { fatal: true });
    if (this.user === '') throw new ProtocolError('28000', 'no PostgreSQL user name specified in startup packet');
    if ((code & 0xffff) !== 0 || unknownOptions.length > 0) {
      this.out.begin('v').int32(PROTOCOL_3_0).int32(unknownOptions.length);
      for (const o of unknownOptions) this.out.cstring(o);
      this.out.end();
    }
    const auth = this.opts.auth;
    if (auth !== undefined) {
      this.state = 'authenticating';
      if (auth.method === 'password') {
        this.out.begin('R').int32(3).end(); // AuthenticationCleartextPassword
      } else {
        this.scram = new ScramExchange(auth.secret);
        this.out.begin('R').int32(10).cstring(SCRAM_MECHANISM).byte(0).end(); // AuthenticationSASL
      }
      this.flush();
      return;
    }
    await this.completeStartup();
  }

  private async handlePassword(frame: Frame): Promise<void> {
    if (frame.type !== 'p') throw new ProtocolError('08P01', `expected a password message, got ${frame.type}`, { fatal: true });
    const failed = (): ProtocolError => new ProtocolError('28P01', `password authentication failed for user "${this.user}"`, { fatal: true });
    const auth = this.opts.auth!;
    const body = new PgBody(frame.body);
    if (auth.method === 'password') {
      const digest = (x: string): Buffer => createHash('sha256').update(x).digest();
      if (!timingSafeEqual(digest(body.cstring()), digest(auth.password))) throw failed();
      return this.completeStartup();
    }
    const scram = this.scram!;
    if (!this.scramStarted) {
      // SASLInitialResponse: mechanism, int32 length, client-first-message
      const mechanism = body.cstring();
      if (mechanism !== SCRAM_MECHANISM) throw new ProtocolError('28000', `unsupported SASL mechanism ${mechanism}`, { fatal: true });
      const len = body.int32();
      const serverFirst = scram.first(body.bytes(len).toString('utf8'));
      this.scramStarted = true;
      this.out.begin('R').int32(11).bytes(Buffer.from(serverFirst)).end(); // AuthenticationSASLContinue
      this.flush();
      return;
    }
    let serverFinal: string;
    try {
      serverFinal = scram.final(frame.body.toString('utf8'));
    } catch {
      throw failed();
    }
    this.out.begin('R').int32(12).bytes(Buffer.from(serverFinal)).end(); // AuthenticationSASLFinal
    this.scram = null;
    await this.completeStartup();
  }

  private async completeStartup(): Promise<void> {
    this.conn = await this.opts.db.connect();
    this.opts.metrics.connectionOpened('pg');
    this.state = 'ready';
    this.out.begin('R').int32(0).end();
    const params: [string, string][] = [
      ['server_version', SERVER_VERSION],
      ['server_encoding', 'UTF8'],
      ['client_encoding', 'UTF8'],
      ['DateStyle', 'ISO, MDY'],
      ['IntervalStyle', 'postgres'],
      ['TimeZone', 'UTC'],
      ['integer_datetimes', 'on'],
      ['standard_conforming_strings', 'on'],
      ['is_superuser', 'on'],
      ['session_authorization', this.user],
      ['application_name', this.startupParams.get('application_name') ?? ''],
      ['default_transaction_read_only', 'off'],
      ['in_hot_standby', 'off'],
    ];
    for (const [k, v] of params) this.out.begin('S').cstring(k).cstring(v).end();
    this.out.begin('K').int32(this.processId).int32(this.secretKey).end();
    this.opts.onStarted?.(this);
    this.opts.logger.debug?.('pg session started', { pid: this.processId, user: this.user, database: this.startupParams.get('database') });
    this.readyForQuery();
  }

  // ---- output helpers -----------------------------------------------------------------------

  private flush(): void {
    if (this.out.size > 0 && !this.socket.destroyed) this.socket.write(this.out.take());
  }

  /** Flush when the buffer is large; wait for the socket to drain if the client reads slowly. */
  private async maybeFlush(): Promise<void> {
    if (this.out.size < FLUSH_BYTES || this.socket.destroyed) return;
    if (!this.socket.write(this.out.take())) {
      await new Promise<void>((resolve) => {
        const done = (): void => { this.socket.off('drain', done); this.socket.off('close', done); resolve(); };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      });
    }
  }

  private status(): TransactionStatus {
    return this.conn?.transactionStatus?.() ?? this.trackedStatus;
  }

  private readyForQuery(): void {
    this.out.begin('Z').byte(this.status().charCodeAt(0)).end();
    this.flush();
  }

  private writeError(info: ErrorInfo, severity: 'ERROR' | 'FATAL' = 'ERROR', positionOffset = 0): void {
    this.out.begin('E');
    this.out.byte(0x53).cstring(severity); // S
    this.out.byte(0x56).cstring(severity); // V
    this.out.byte(0x43).cstring(info.code); // C
    this.out.byte(0x4d).cstring(info.message); // M
    if (info.detail !== undefined) this.out.byte(0x44).cstring(info.detail); // D
    if (info.hint !== undefined) this.out.byte(0x48).cstring(info.hint); // H
    if (info.position !== undefined) this.out.byte(0x50).cstring(String(info.position + positionOffset)); // P
    this.out.byte(0);
    this.out.end();
  }

  private rowDescription(columns: readonly ResultColumn[], formats: readonly number[]): void {
    this.out.begin('T').int16(columns.length);
    columns.forEach((c, i) => {
      const t = pgTypeOf(c.type);
      this.out.cstring(c.name).int32(0).int16(0).int32(t.oid).int16(t.typlen).int32(t.typmod).int16(formats[i] ?? 0);
    });
    this.out.end();
  }

  private async dataRows(result: QueryResult, from: number, to: number, formats: readonly number[]): Promise<void> {
    const oids = result.columns.map((c) => pgTypeOf(c.type).oid);
    const binary = formats.some((f) => f === 1);
    for (let r = from; r < to; r++) {
      const row = result.rows[r]!;
      this.out.begin('D').int16(oids.length);
      for (let c = 0; c < oids.length; c++) {
        const v = row[c];
        if (v === null || v === undefined) this.out.int32(-1);
        else if (binary && formats[c] === 1) this.out.lengthPrefixedBytes(encodeBinary(v, oids[c]!));
        else this.out.lengthPrefixedString(toPgText(v, oids[c]!));
      }
      this.out.end();
      await this.maybeFlush();
    }
  }

  // ---- running statements -------------------------------------------------------------------

  private connection(): ServerConnection {
    if (this.conn === null) throw new ProtocolError('08003', 'connection is not open');
    return this.conn;
  }

  /** Run one statement, keeping metrics and the tracked transaction status. */
  private async run(sql: string, params: unknown[]): Promise<QueryResult> {
    const t0 = performance.now();
    const statusBefore = this.status();
    try {
      const result = await this.connection().query(sql, params);
      recordQuery(this.opts, 'pg', sql, (performance.now() - t0) / 1000);
      this.trackSuccess(sql, statusBefore);
      return result;
    } catch (err) {
      const info = errorInfo(err);
      recordQuery(this.opts, 'pg', sql, (performance.now() - t0) / 1000, info.code);
      if (info.code.startsWith('XX')) this.opts.logger.error('query failed with an internal error', { pid: this.processId, sql: sql.slice(0, 200), error: info.message });
      if (statusBefore !== 'I') this.trackedStatus = 'E';
      throw err;
    }
  }

  private trackSuccess(sql: string, before: TransactionStatus): void {
    const kw = firstKeyword(sql);
    const rest = sql.replace(/^\s*[A-Za-z]+\s*/, '').toUpperCase();
    if (kw === 'BEGIN' || kw === 'START') this.trackedStatus = 'T';
    else if (kw === 'COMMIT' || kw === 'END' || kw === 'ABORT') this.trackedStatus = 'I';
    else if (kw === 'ROLLBACK') this.trackedStatus = /^(WORK\s+|TRANSACTION\s+)?TO\b/.test(rest) ? 'T' : 'I';
    else if (kw === 'PREPARE' && /^TRANSACTION\b/.test(rest)) this.trackedStatus = 'I';
    else this.trackedStatus = before;
  }

  private async simpleQuery(sql: string): Promise<void> {
    const pieces = splitSql(sql);
    if (pieces.length === 0) {
      this.out.begin('I').end();
      this.readyForQuery();
      return;
    }
    // a portal-less statement sequence drops the unnamed portal, as PostgreSQL does
    this.portals.delete('');
    // Several statements outside a transaction block run as one implicit transaction, as in
    // PostgreSQL — unless the string manages transactions itself.
    const implicit = pieces.length > 1 && this.status() === 'I' && !pieces.some((p) => TXN_CONTROL.has(firstKeyword(p.text)));
    if (implicit) await this.control('BEGIN');
    let failed = false;
    for (const piece of pieces) {
      const statusBefore = this.status();
      let result: QueryResult;
      try {
        result = await this.run(piece.text, []);
      } catch (err) {
        this.writeError(errorInfo(err), 'ERROR', piece.start);
        failed = true;
        break;
      }
      if (returnsRows(result)) {
        const formats = result.columns.map(() => 0);
        this.rowDescription(result.columns, formats);
        await this.dataRows(result, 0, result.rows.length, formats);
      }
      this.out.begin('C').cstring(commandTag(result, statusBefore)).end();
      await this.maybeFlush();
    }
    if (implicit) {
      try {
        await this.control(failed ? 'ROLLBACK' : 'COMMIT');
      } catch (err) {
        this.writeError(errorInfo(err));
        if (this.status() !== 'I') await this.control('ROLLBACK').catch(() => undefined);
      }
    }
    this.readyForQuery();
  }

  /** BEGIN / COMMIT / ROLLBACK the server issues itself (not counted as client statements). */
  private async control(sql: 'BEGIN' | 'COMMIT' | 'ROLLBACK'): Promise<void> {
    try {
      const r = await this.connection().query(sql, []);
      this.trackedStatus = sql === 'BEGIN' ? 'T' : 'I';
      if (sql === 'COMMIT' && r.command.toUpperCase() === 'ROLLBACK') {
        throw new ProtocolError('40001', 'the implicit transaction of the query string was rolled back');
      }
    } catch (err) {
      if (sql !== 'BEGIN') this.trackedStatus = 'I';
      throw err;
    }
  }

  // ---- extended protocol --------------------------------------------------------------------

  private parse(body: PgBody): void {
    const name = body.cstring();
    const query = body.cstring();
    const nTypes = body.int16();
    const declared: number[] = [];
    for (let i = 0; i < nTypes; i++) declared.push(body.uint32());
    const pieces = splitSql(query);
    if (pieces.length > 1) throw new ProtocolError('42601', 'cannot insert multiple commands into a prepared statement');
    if (name !== '' && this.statements.has(name)) throw new ProtocolError('42P05', `prepared statement "${name}" already exists`);
    const piece = pieces[0];
    const count = Math.max(nTypes, piece?.maxParam ?? 0);
    const paramOids = Array.from({ length: count }, (_, i) => declared[i] ?? 0);
    this.statements.set(name, { sql: piece?.text ?? '', offset: piece?.start ?? 0, paramOids });
    this.out.begin('1').end();
  }

  private async bind(body: PgBody): Promise<void> {
    const portalName = body.cstring();
    const stmtName = body.cstring();
    const stmt = this.statements.get(stmtName);
    if (stmt === undefined) throw new ProtocolError('26000', `prepared statement "${stmtName}" does not exist`);
    const nFormats = body.int16();
    const formats: number[] = [];
    for (let i = 0; i < nFormats; i++) formats.push(body.int16());
    const nParams = body.int16();
    if (nParams !== stmt.paramOids.length) {
      throw new ProtocolError('08P01', `bind message supplies ${nParams} parameters, but prepared statement "${stmtName}" requires ${stmt.paramOids.length}`);
    }
    if (nFormats > 1 && nFormats !== nParams) throw new ProtocolError('08P01', `bind message has ${nFormats} parameter formats but ${nParams} parameters`);
    // parameters the client left untyped take the types the engine infers, when it can say
    let oids = stmt.paramOids;
    if (oids.some((o) => o === 0) && typeof this.conn?.describe === 'function') {
      oids = (await this.describeStatement(stmt)).inferredOids;
    }
    const params: unknown[] = [];
    for (let i = 0; i < nParams; i++) {
      const len = body.int32();
      if (len === -1) {
        params.push(null);
        continue;
      }
      const bytes = body.bytes(len);
      const format = nFormats === 0 ? 0 : nFormats === 1 ? formats[0]! : formats[i]!;
      const oid = oids[i] ?? 0;
      if (format === 1) params.push(decodeBinary(bytes, oid));
      else if (format === 0) params.push(fromPgText(bytes.toString('utf8'), oid));
      else throw new ProtocolError('08P01', `unsupported format code: ${format}`);
    }
    const nResult = body.int16();
    const resultFormats: number[] = [];
    for (let i = 0; i < nResult; i++) {
      const f = body.int16();
      if (f !== 0 && f !== 1) throw new ProtocolError('08P01', `unsupported format code: ${f}`);
      resultFormats.push(f);
    }
    if (portalName !== '' && this.portals.has(portalName)) throw new ProtocolError('42P03', `cursor "${portalName}" already exists`);
    this.portals.set(portalName, { stmt, params, resultFormats, cursor: 0 });
    this.out.begin('2').end();
  }

  /** Per-column result formats of a portal, from Bind's list (none = text, one = for all). */
  private formatsFor(portal: Portal, n: number): number[] {
    const f = portal.resultFormats;
    if (f.length === 0) return new Array<number>(n).fill(0);
    if (f.length === 1) return new Array<number>(n).fill(f[0]!);
    if (f.length !== n) throw new ProtocolError('08P01', `bind message has ${f.length} result formats but query has ${n} columns`);
    return f;
  }

  private async runPortal(portal: Portal): Promise<QueryResult> {
    if (portal.result === undefined) {
      portal.statusBefore = this.status();
      try {
        portal.result = await this.run(portal.stmt.sql, portal.params);
      } catch (err) {
        const info = errorInfo(err);
        throw Object.assign(new ProtocolError(info.code, info.message), {
          position: info.position === undefined ? undefined : info.position + portal.stmt.offset,
          detail: info.detail,
          hint: info.hint,
        });
      }
    }
    return portal.result;
  }

  private async describe(body: PgBody): Promise<void> {
    const kind = String.fromCharCode(body.byte());
    const name = body.cstring();
    if (kind === 'S') {
      const stmt = this.statements.get(name);
      if (stmt === undefined) throw new ProtocolError('26000', `prepared statement "${name}" does not exist`);
      const d = await this.describeStatement(stmt);
      this.out.begin('t').int16(d.paramOids.length);
      for (const oid of d.paramOids) this.out.uint32(oid);
      this.out.end();
      if (d.columns === null) this.out.begin('n').end();
      else this.rowDescription(d.columns, d.columns.map(() => 0));
      return;
    }
    if (kind === 'P') {
      const portal = this.portals.get(name);
      if (portal === undefined) throw new ProtocolError('34000', `portal "${name}" does not exist`);
      if (portal.stmt.sql === '') {
        this.out.begin('n').end();
        return;
      }
      const result = await this.runPortal(portal);
      if (returnsRows(result)) this.rowDescription(result.columns, this.formatsFor(portal, result.columns.length));
      else this.out.begin('n').end();
      return;
    }
    throw new ProtocolError('08P01', `invalid DESCRIBE message subtype ${kind}`);
  }

  private async describeStatement(stmt: PreparedStatement): Promise<NonNullable<PreparedStatement['described']>> {
    if (stmt.described !== undefined) return stmt.described;
    const conn = this.connection();
    let columns: readonly ResultColumn[] | null = null;
    let paramTypes: readonly (string | null)[] = [];
    if (stmt.sql === '') {
      columns = null;
    } else if (typeof conn.describe === 'function') {
      const d = await conn.describe(stmt.sql);
      columns = d.columns;
      paramTypes = d.paramTypes ?? [];
    } else if (ROW_KEYWORDS.has(firstKeyword(stmt.sql)) && this.status() !== 'E') {
      // Probe: run the statement for no rows. Inside a transaction block it runs under a
      // savepoint, so a failing probe cannot abort the client's transaction.
      const inBlock = this.status() === 'T';
      try {
        if (inBlock) await conn.query('SAVEPOINT quiver_describe', []);
        try {
          const probe = await conn.query(`SELECT * FROM (${stmt.sql}) AS quiver_describe LIMIT 0`, stmt.paramOids.map(() => null));
          columns = probe.columns;
        } catch {
          columns = null;
        }
        if (inBlock) {
          await conn.query('ROLLBACK TO SAVEPOINT quiver_describe', []);
          await conn.query('RELEASE SAVEPOINT quiver_describe', []);
        }
      } catch (err) {
        // the engine refused the savepoint dance: report that, rather than a wrong answer
        throw new ProtocolError(errorInfo(err).code, `cannot describe the statement inside this transaction: ${errorInfo(err).message}`);
      }
    }
    const inferredOids = stmt.paramOids.map((oid, i) => {
      if (oid !== 0) return oid;
      const t = paramTypes[i];
      return t === null || t === undefined ? 0 : pgTypeOf(t).oid;
    });
    const paramOids = inferredOids.map((oid) => (oid === 0 ? Oid.text : oid));
    stmt.described = { columns, paramOids, inferredOids };
    return stmt.described;
  }

  private async execute(body: PgBody): Promise<void> {
    const name = body.cstring();
    const maxRows = body.int32();
    const portal = this.portals.get(name);
    if (portal === undefined) throw new ProtocolError('34000', `portal "${name}" does not exist`);
    if (portal.stmt.sql === '') {
      this.out.begin('I').end();
      return;
    }
    const result = await this.runPortal(portal);
    if (!returnsRows(result)) {
      this.out.begin('C').cstring(commandTag(result, portal.statusBefore)).end();
      return;
    }
    const formats = this.formatsFor(portal, result.columns.length);
    const from = portal.cursor;
    const to = maxRows > 0 ? Math.min(result.rows.length, from + maxRows) : result.rows.length;
    await this.dataRows(result, from, to, formats);
    portal.cursor = to;
    if (to < result.rows.length) {
      this.out.begin('s').end();
      return;
    }
    this.out.begin('C').cstring(commandTag({ command: result.command, rowCount: to - from }, portal.statusBefore)).end();
  }

  private close(body: PgBody): void {
    const kind = String.fromCharCode(body.byte());
    const name = body.cstring();
    if (kind === 'S') this.statements.delete(name);
    else if (kind === 'P') this.portals.delete(name);
    else throw new ProtocolError('08P01', `invalid CLOSE message subtype ${kind}`);
    this.out.begin('3').end();
  }

  // ---- teardown -----------------------------------------------------------------------------

  private async cleanup(): Promise<void> {
    this.state = 'closed';
    // let a running statement finish before its Connection goes away
    if (this.draining !== null) await this.draining;
    const wasStarted = this.conn !== null;
    const conn = this.conn;
    this.conn = null;
    this.portals.clear();
    this.statements.clear();
    if (conn !== null) {
      try {
        await conn.close();
      } catch (err) {
        this.opts.logger.warn('closing pg connection failed', { pid: this.processId, error: errorInfo(err).message });
      }
      this.opts.metrics.connectionClosed('pg');
    }
    if (wasStarted) this.opts.logger.debug?.('pg session ended', { pid: this.processId });
    this.opts.onClosed?.(this);
    this.resolveClosed();
  }
}
