import { describe, expect, it } from 'vitest';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { ScramExchange, scramSecret } from './pg-scram.js';

/** the client side of SCRAM-SHA-256, written from RFC 5802, to drive the server */
function clientFinal(password: string, clientFirstBare: string, serverFirst: string, gs2 = 'n,,'): { message: string; expectedServer: string } {
  const attrs = new Map(serverFirst.split(',').map((p) => [p[0]!, p.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(attrs.get('s')!, 'base64'), Number(attrs.get('i')), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=${Buffer.from(gs2).toString('base64')},r=${attrs.get('r')}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const sig = createHmac('sha256', storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]!));
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return { message: `${withoutProof},p=${proof.toString('base64')}`, expectedServer: `v=${createHmac('sha256', serverKey).update(authMessage).digest('base64')}` };
}

describe('SCRAM-SHA-256', () => {
  const secret = scramSecret('pencil');

  it('accepts the right password and proves the server knows it', () => {
    const x = new ScramExchange(secret);
    const serverFirst = x.first('n,,n=,r=rOprNGfwEbeRWgbNEkqO');
    expect(serverFirst).toMatch(/^r=rOprNGfwEbeRWgbNEkqO[^,]+,s=[^,]+,i=4096$/);
    const { message, expectedServer } = clientFinal('pencil', 'n=,r=rOprNGfwEbeRWgbNEkqO', serverFirst);
    expect(x.final(message)).toBe(expectedServer);
  });

  it('rejects a wrong password, a changed nonce and channel binding', () => {
    const x = new ScramExchange(secret);
    const serverFirst = x.first('n,,n=,r=abc');
    expect(() => x.final(clientFinal('wrong', 'n=,r=abc', serverFirst).message)).toThrow(expect.objectContaining({ code: '28P01' }));
    const y = new ScramExchange(secret);
    const sf = y.first('n,,n=,r=abc');
    const msg = clientFinal('pencil', 'n=,r=abc', sf).message.replace(/r=abc/, 'r=abd');
    expect(() => y.final(msg)).toThrow(expect.objectContaining({ code: '28P01' }));
    expect(() => new ScramExchange(secret).first('p=tls-server-end-point,,n=,r=abc')).toThrow(expect.objectContaining({ code: '28P01' }));
  });
});
