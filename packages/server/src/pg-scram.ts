/**
 * SCRAM-SHA-256 (RFC 5802 / RFC 7677) server side, as PostgreSQL uses it for password
 * authentication: AuthenticationSASL → SASLInitialResponse (client-first) →
 * AuthenticationSASLContinue (server-first) → SASLResponse (client-final) →
 * AuthenticationSASLFinal (server signature) → AuthenticationOk. No channel binding (no TLS).
 *
 * Invariants:
 *  1. The password is never compared or stored in clear beyond `ScramSecret` creation: a session
 *     checks the client proof against StoredKey only.
 *  2. The combined nonce starts with the client's nonce, and the final message must echo it.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from './error-info.js';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
const ITERATIONS = 4096;

export interface ScramSecret {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

export function scramSecret(password: string, salt = randomBytes(16), iterations = ITERATIONS): ScramSecret {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  return { salt, iterations, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

function fail(message: string): ProtocolError {
  return new ProtocolError('28P01', message, { fatal: true });
}

function attributes(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0]!, part.slice(2));
  }
  return out;
}

/** One SCRAM exchange. */
export class ScramExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';

  constructor(private readonly secret: ScramSecret) {}

  /** client-first-message → server-first-message */
  first(clientFirst: string): string {
    const m = /^([ny]|p=[^,]*),([^,]*),(.*)$/.exec(clientFirst);
    if (!m) throw fail('malformed SCRAM client-first-message');
    if (m[1]!.startsWith('p')) throw fail('SCRAM channel binding is not supported (no TLS)');
    this.gs2Header = `${m[1]},${m[2]},`;
    this.clientFirstBare = m[3]!;
    const clientNonce = attributes(this.clientFirstBare).get('r');
    if (clientNonce === undefined || clientNonce === '') throw fail('SCRAM client nonce missing');
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.secret.salt.toString('base64')},i=${this.secret.iterations}`;
    return this.serverFirst;
  }

  /** client-final-message → server-final-message; throws 28P01 when the proof is wrong */
  final(clientFinal: string): string {
    const attrs = attributes(clientFinal);
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64')) throw fail('SCRAM channel binding mismatch');
    if (attrs.get('r') !== this.nonce) throw fail('SCRAM nonce mismatch');
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const signature = hmac(this.secret.storedKey, authMessage);
    if (proof.length !== signature.length) throw fail('password authentication failed');
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ signature[i]!;
    if (!timingSafeEqual(sha256(clientKey), this.secret.storedKey)) throw fail('password authentication failed');
    return `v=${hmac(this.secret.serverKey, authMessage).toString('base64')}`;
  }
}
