import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { createJsonLogger } from './logger.js';

const argv = (...args: string[]): string[] => ['node', 'quiver-server', ...args];

describe('parseConfig', () => {
  it('has the documented defaults', () => {
    expect(parseConfig(argv('--data', '/tmp/x'), {})).toEqual({
      data: '/tmp/x', host: '127.0.0.1', httpPort: 8080, pgPort: 5432, pgPassword: undefined, pgAuth: 'scram-sha-256', httpToken: undefined, tlsCert: undefined, tlsKey: undefined, logLevel: 'info', shutdownGraceMs: 10_000, slowQueryMs: undefined,
    });
  });

  it('reads the environment, and flags win over it', () => {
    const env = { QUIVER_DATA: '/env', QUIVER_HOST: '0.0.0.0', QUIVER_HTTP_PORT: '0', QUIVER_PG_PORT: 'off', QUIVER_LOG_LEVEL: 'debug', QUIVER_PG_PASSWORD: 'pw', QUIVER_SLOW_QUERY_MS: '250', QUIVER_HTTP_TOKEN: 'tok' };
    expect(parseConfig(argv(), env)).toMatchObject({ data: '/env', host: '0.0.0.0', httpPort: 0, pgPort: null, logLevel: 'debug', pgPassword: 'pw', slowQueryMs: 250, httpToken: 'tok' });
    expect(parseConfig(argv('--data', '/flag', '--pg-port', '6543', '--http-port', 'off'), env)).toMatchObject({ data: '/flag', pgPort: 6543, httpPort: null });
  });
});

describe('createJsonLogger', () => {
  it('writes one JSON object per line and filters by level', () => {
    const lines: string[] = [];
    const log = createJsonLogger('info', (l) => lines.push(l));
    log.debug('hidden');
    log.info('hello', { n: 1n, text: 'a\nb' });
    log.error('bad', { error: new Error('boom') });
    expect(lines.length).toBe(2);
    for (const l of lines) expect(l.endsWith('\n') && !l.slice(0, -1).includes('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', msg: 'hello', n: '1', text: 'a\nb' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'error', msg: 'bad', error: 'boom' });
  });
});
