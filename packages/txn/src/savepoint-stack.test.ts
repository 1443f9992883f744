import { describe, expect, it } from 'vitest';
import { isDbError, SqlState } from '@quiverdb/common';
import { SavepointStack } from './savepoint-stack.js';
import { SeededRandom, iterations } from '../test/support/seeded-random.js';

describe('SavepointStack', () => {
  it('follows PostgreSQL: repeated names, ROLLBACK TO keeps, RELEASE removes later ones', () => {
    const s = new SavepointStack<number>();
    s.push('a', 1);
    s.push('b', 2);
    s.push('a', 3);
    s.push('c', 4);
    const r = s.rollbackTo('a');
    expect(r.savepoint.payload).toBe(3);
    expect(r.discarded.map((x) => x.payload)).toEqual([4]);
    expect(s.entries().map((x) => x.payload)).toEqual([1, 2, 3]);
    expect(s.rollbackTo('a').discarded).toEqual([]); // can roll back to it again
    expect(s.release('a').map((x) => x.payload)).toEqual([3]);
    expect(s.find('a')?.payload).toBe(1); // the older one is visible again
    expect(s.release('b').map((x) => x.payload)).toEqual([2]);
    expect(s.depth).toBe(1);
  });

  it('unknown names get 3B001', () => {
    const s = new SavepointStack<number>();
    for (const f of [() => s.rollbackTo('x'), () => s.release('x')]) {
      let err: unknown;
      try { f(); } catch (e) { err = e; }
      expect(isDbError(err, SqlState.InvalidSavepointSpecification)).toBe(true);
    }
  });

  it('agrees with a naive array model on random operations (seeded)', () => {
    const rnd = new SeededRandom(99);
    for (let round = 0; round < iterations(50, 500); round++) {
      const s = new SavepointStack<number>();
      const model: [string, number][] = [];
      for (let step = 0; step < 40; step++) {
        const name = rnd.pick(['a', 'b', 'c']);
        const op = rnd.int(3);
        const lastIdx = model.map((e) => e[0]).lastIndexOf(name);
        if (op === 0) { s.push(name, step); model.push([name, step]); }
        else if (op === 1) {
          if (lastIdx < 0) { expect(() => s.rollbackTo(name)).toThrow(); continue; }
          expect(s.rollbackTo(name).savepoint.payload).toBe(model[lastIdx]![1]);
          model.length = lastIdx + 1;
        } else {
          if (lastIdx < 0) { expect(() => s.release(name)).toThrow(); continue; }
          s.release(name);
          model.length = lastIdx;
        }
        expect(s.entries().map((e) => [e.name, e.payload])).toEqual(model);
        s.checkInvariants((p) => p);
      }
    }
  });
});
