/**
 * A minimal hand-driven PostgreSQL v3 frontend for tests: sends exactly the messages a test
 * asks for and decodes every backend message, so protocol details the `pg` client hides
 * (binary formats, PortalSuspended, message order after errors) can be asserted.
 */
import net from 'node:net';

export interface BackendMessage {
  type: string;
  tag?: string;
  status?: string;
  fields?: (string | null)[];
  raw?: (Buffer | null)[];
  columns?: { name: string; oid: number; typlen: number; typmod: number; format: number }[];
  paramOids?: number[];
  error?: Record<string, string>;
}

export type Param = { text: string } | { binary: Buffer } | null;

export class RawPgClient {
  private buf = Buffer.alloc(0);
  private readonly queue: BackendMessage[] = [];
  private waiter: (() => void) | null = null;
  parameters = new Map<string, string>();
  backendKey?: { pid: number; secret: number };
  sslAnswer?: string;
  lastStatus?: string;
  negotiated?: { minor: number; unknown: string[] };
  private closed = false;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.decode();
    });
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static async connect(port: number, opts: { ssl?: boolean; minor?: number; options?: Record<string, string>; user?: string } = {}): Promise<RawPgClient> {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
    let sslAnswer: string | undefined;
    if (opts.ssl) {
      const b = Buffer.alloc(8);
      b.writeInt32BE(8, 0); b.writeInt32BE(80877103, 4);
      sock.write(b);
      sslAnswer = await new Promise<string>((r) => sock.once('data', (d: Buffer) => r(d.toString('latin1'))));
    }
    const c = new RawPgClient(sock);
    c.sslAnswer = sslAnswer;
    const kv = { user: opts.user ?? 'raw', database: 'quiver', ...(opts.options ?? {}) };
    const parts = Object.entries(kv).flatMap(([k, v]) => [Buffer.from(`${k}\0${v}\0`)]);
    const body = Buffer.concat([...parts, Buffer.from([0])]);
    const head = Buffer.alloc(8);
    head.writeInt32BE(body.length + 8, 0);
    head.writeInt32BE((3 << 16) | (opts.minor ?? 0), 4);
    sock.write(Buffer.concat([head, body]));
    await c.untilReady();
    return c;
  }

  private decode(): void {
    while (this.buf.length >= 5) {
      const len = this.buf.readInt32BE(1);
      if (this.buf.length < len + 1) return;
      const type = String.fromCharCode(this.buf[0]!);
      const body = this.buf.subarray(5, len + 1);
      this.buf = this.buf.subarray(len + 1);
      this.queue.push(this.parseMessage(type, body));
      this.waiter?.();
    }
  }

  private parseMessage(type: string, b: Buffer): BackendMessage {
    let pos = 0;
    const cstr = (): string => { const e = b.indexOf(0, pos); const s = b.toString('utf8', pos, e); pos = e + 1; return s; };
    switch (type) {
      case 'S': { const k = cstr(); this.parameters.set(k, cstr()); break; }
      case 'K': this.backendKey = { pid: b.readInt32BE(0), secret: b.readInt32BE(4) }; break;
      case 'Z': this.lastStatus = String.fromCharCode(b[0]!); return { type, status: this.lastStatus };
      case 'C': return { type, tag: cstr() };
      case 'v': {
        const minor = b.readInt32BE(0) & 0xffff; const n = b.readInt32BE(4); pos = 8;
        const unknown: string[] = []; for (let i = 0; i < n; i++) unknown.push(cstr());
        this.negotiated = { minor, unknown };
        break;
      }
      case 'E': case 'N': {
        const error: Record<string, string> = {};
        while (b[pos] !== 0) { const f = String.fromCharCode(b[pos]!); pos++; error[f] = cstr(); }
        return { type, error };
      }
      case 'T': {
        const n = b.readInt16BE(0); pos = 2;
        const columns = [];
        for (let i = 0; i < n; i++) {
          const name = cstr();
          const oid = b.readInt32BE(pos + 6); const typlen = b.readInt16BE(pos + 10); const typmod = b.readInt32BE(pos + 12); const format = b.readInt16BE(pos + 16);
          pos += 18;
          columns.push({ name, oid, typlen, typmod, format });
        }
        return { type, columns };
      }
      case 'D': {
        const n = b.readInt16BE(0); pos = 2;
        const raw: (Buffer | null)[] = [];
        for (let i = 0; i < n; i++) {
          const len = b.readInt32BE(pos); pos += 4;
          if (len < 0) raw.push(null);
          else { raw.push(b.subarray(pos, pos + len)); pos += len; }
        }
        return { type, raw, fields: raw.map((x) => (x === null ? null : x.toString('utf8'))) };
      }
      case 't': {
        const n = b.readInt16BE(0);
        const paramOids = []; for (let i = 0; i < n; i++) paramOids.push(b.readUInt32BE(2 + i * 4));
        return { type, paramOids };
      }
      default: break;
    }
    return { type };
  }

  /** Messages up to and including the `count`-th next ReadyForQuery. */
  async untilReady(count = 1): Promise<BackendMessage[]> {
    const out: BackendMessage[] = [];
    let seen = 0;
    for (;;) {
      const m = this.queue.shift();
      if (m === undefined) {
        if (this.closed) throw new Error(`connection closed; got ${out.map((x) => x.type).join('')}`);
        await new Promise<void>((r) => { this.waiter = r; });
        this.waiter = null;
        continue;
      }
      if (m.type === 'S' || m.type === 'K' || m.type === 'R' || m.type === 'v') continue;
      out.push(m);
      if (m.type === 'Z' && ++seen === count) return out;
    }
  }

  private send(type: string, body: Buffer): void {
    const head = Buffer.alloc(5);
    head[0] = type.charCodeAt(0);
    head.writeInt32BE(body.length + 4, 1);
    this.sock.write(Buffer.concat([head, body]));
  }

  private static i16(n: number): Buffer { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; }
  private static i32(n: number): Buffer { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; }

  async simple(sql: string): Promise<BackendMessage[]> {
    this.send('Q', Buffer.from(`${sql}\0`));
    return this.untilReady();
  }

  parse(name: string, sql: string, oids: number[]): void {
    this.send('P', Buffer.concat([Buffer.from(`${name}\0${sql}\0`), RawPgClient.i16(oids.length), ...oids.map(RawPgClient.i32)]));
  }

  bind(portal: string, stmt: string, params: Param[], resultFormats: number[]): void {
    const formats = params.map((p) => (p !== null && 'binary' in p ? 1 : 0));
    const values = params.flatMap((p) => {
      if (p === null) return [RawPgClient.i32(-1)];
      const bytes = 'binary' in p ? p.binary : Buffer.from(p.text);
      return [RawPgClient.i32(bytes.length), bytes];
    });
    this.send('B', Buffer.concat([
      Buffer.from(`${portal}\0${stmt}\0`),
      RawPgClient.i16(formats.length), ...formats.map(RawPgClient.i16),
      RawPgClient.i16(params.length), ...values,
      RawPgClient.i16(resultFormats.length), ...resultFormats.map(RawPgClient.i16),
    ]));
  }

  describe(kind: 'S' | 'P', name: string): void {
    this.send('D', Buffer.from(`${kind}${name}\0`));
  }

  execute(portal: string, maxRows: number): void {
    this.send('E', Buffer.concat([Buffer.from(`${portal}\0`), RawPgClient.i32(maxRows)]));
  }

  close_(kind: 'S' | 'P', name: string): void {
    this.send('C', Buffer.from(`${kind}${name}\0`));
  }

  sync(): void {
    this.send('S', Buffer.alloc(0));
  }

  flush(): void {
    this.send('H', Buffer.alloc(0));
  }

  close(): void {
    if (!this.closed) this.send('X', Buffer.alloc(0));
    this.sock.end();
  }
}
