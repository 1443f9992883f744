import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultEnv } from './fault-env.js';
import { MemEnv } from './mem-env.js';
import { NodeEnv } from './node-env.js';
import type { Env } from './env.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function basic(env: Env, root: string): Promise<void> {
  await env.mkdir(`${root}/a/b`);
  const f = await env.open(`${root}/a/b/f`, { create: true });
  await f.append(bytes('hello '));
  await f.append(bytes('world'));
  await f.write(0, bytes('J'));
  expect(await f.size()).toBe(11);
  expect(text(await f.read(6, 5))).toBe('world');
  await f.sync();
  f.syncNow();
  await f.truncate(5);
  await f.close();
  expect(text(await env.readFile(`${root}/a/b/f`))).toBe('Jello');
  await env.writeFileDurable(`${root}/a/g`, bytes('x'));
  await env.rename(`${root}/a/g`, `${root}/a/h`);
  expect(await env.exists(`${root}/a/g`)).toBe(false);
  expect(await env.list(`${root}/a`)).toEqual(['b', 'h']);
  const blob = await env.openBlob(`${root}/a/h`);
  expect(text(new Uint8Array(await blob.arrayBuffer()))).toBe('x');
  await env.remove(`${root}/a/h`);
  expect(await env.list(`${root}/a`)).toEqual(['b']);
  expect(await env.list(`${root}/nope`)).toEqual([]);
  expect(env.processAlive(process.pid)).toBe(true);
}

describe('Env', () => {
  it('NodeEnv basics', async () => {
    const root = mkdtempSync(join(tmpdir(), 'quiver-env-'));
    try { await basic(new NodeEnv(), root); } finally { rmSync(root, { recursive: true, force: true }); }
  });
  it('MemEnv basics', async () => { await basic(new MemEnv(), '/db'); });
  it('FaultEnv passes through', async () => { await basic(new FaultEnv(new MemEnv()), '/db'); });

  it('MemEnv snapshot keeps every write, synced or not, and is independent of the original', async () => {
    const env = new MemEnv();
    await env.mkdir('/d');
    const f = await env.open('/d/a', { create: true });
    await f.append(bytes('one'));
    await f.sync();
    await f.append(bytes('two')); // not synced
    await env.writeFile('/d/b', bytes('never synced'));
    const s = env.snapshot();
    expect(s.lockScope()).not.toBe(env.lockScope());
    await f.append(bytes('three')); // after the copy
    expect(new TextDecoder().decode(await s.readFile('/d/a'))).toBe('onetwo');
    expect(new TextDecoder().decode(await s.readFile('/d/b'))).toBe('never synced');
    expect(await s.list('/d')).toEqual(['a', 'b']);
    s.crash(); // the copy's files count as synced
    expect(new TextDecoder().decode(await s.readFile('/d/a'))).toBe('onetwo');
    expect(new TextDecoder().decode(await env.readFile('/d/a'))).toBe('onetwothree');
  });

  it('MemEnv crash keeps only synced content under synced names', async () => {
    const env = new MemEnv();
    await env.mkdir('/d');
    const f = await env.open('/d/a', { create: true });
    await f.append(bytes('one'));
    await f.sync();
    await env.syncDir('/d');
    await f.append(bytes('two'));
    await env.writeFile('/d/b', bytes('unsynced entry'));
    await env.writeFileDurable('/d/c', bytes('durable'));
    await env.writeFile('/d/tmp', bytes('new'));
    const t = await env.open('/d/tmp');
    await t.sync();
    await env.rename('/d/tmp', '/d/c'); // rename not dir-synced: lost
    env.crash();
    expect(text(await env.readFile('/d/a'))).toBe('one');
    expect((await env.readFile('/d/b')).length).toBe(0); // entry made durable by the dir sync, content not
    expect(text(await env.readFile('/d/c'))).toBe('durable');
    await expect(f.append(bytes('x'))).rejects.toMatchObject({ code: '58030' });
  });

  it('FaultEnv fails / cuts at the Nth call and dies', async () => {
    const mem = new MemEnv();
    const env = new FaultEnv(mem);
    await env.mkdir('/d');
    const f = await env.open('/d/a', { create: true });
    await f.append(bytes('aaaa'));
    await f.sync();
    await env.syncDir('/d');
    env.setPlan({ faultAt: 1, mode: 'cut', cutFraction: 0.5 });
    await expect(f.append(bytes('bbbb'))).rejects.toMatchObject({ code: '58030' });
    expect(env.dead).toBe(true);
    await expect(env.readFile('/d/a')).rejects.toMatchObject({ code: '58030' });
    expect(text(await mem.readFile('/d/a'))).toBe('aaaabb');
    env.crash();
    expect(text(await env.readFile('/d/a'))).toBe('aaaa');
    env.setPlan({ faultAt: 2, mode: 'fail', dieOnFault: false });
    await env.writeFile('/d/x', bytes('1'));
    await expect(env.rename('/d/x', '/d/y')).rejects.toMatchObject({ code: '58030' });
    expect(await env.exists('/d/x')).toBe(true);
    expect(env.ops).toBe(2);
  });
});
