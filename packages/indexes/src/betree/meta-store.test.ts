import { describe, expect, it } from 'vitest';
import { MetaStore } from './meta-store.js';
import { MemPageStore } from '../page/mem-page-store.js';
import { Rng } from '../testing/rng.js';

describe('MetaStore', () => {
  it('stores values of any size under string keys and scans by prefix, across checkpoint + reopen', () => {
    const r = new Rng(3);
    const store = new MemPageStore(1024);
    let ms = MetaStore.create(store, { name: 'catalog' });
    const model = new Map<string, string>();
    const names = ['table/1', 'table/10', 'table/2', 'column/1/a', 'column/1/b', 'index/é', 'zone/1/0', 'stats/1', 'a\u0000b', ''];
    for (let op = 0; op < 4000; op++) {
      const name = r.pick(names) + (r.int(3) === 0 ? String(r.int(50)) : '');
      if (r.int(4) === 0) {
        expect(ms.delete(name)).toBe(model.delete(name));
      } else {
        const v = 'x'.repeat(r.int(r.int(10) === 0 ? 3000 : 40)) + op;
        ms.put(name, v);
        model.set(name, v);
      }
      if (op % 500 === 0) {
        ms.checkInvariants();
        ms = MetaStore.open(store, ms.checkpoint(), { name: 'catalog' });
      }
      if (op % 97 === 0) {
        const prefix = r.pick(['', 'table/', 'table/1', 'column/1/', 'zz', 'a']);
        const want = [...model.entries()].filter(([k]) => k.startsWith(prefix)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        const got = [...ms.scan(prefix)].map(([k, v]) => [k, new TextDecoder().decode(v)]);
        expect(got).toEqual(want);
      }
    }
    for (const [k, v] of model) expect(ms.getString(k)).toBe(v);
    expect(ms.get('missing')).toBeUndefined();
  });
});
