import { describe, expect, it } from 'vitest';
import { FilePageStore, MemBlockFile } from './file-page-store.js';
import { BTree } from '../btree/btree.js';
import { BeTree } from '../betree/betree.js';
import { encodeKey } from '../key/key-encoding.js';
import { toBinary } from '../key/binary-string.js';
import { Rng } from '../testing/rng.js';

const k = (i: number): Uint8Array => encodeKey([{ type: 'int32' }], [i]);

describe('FilePageStore', () => {
  it('reopens both trees at their last durable roots after a crash at any point, never double-using a page', () => {
    const r = new Rng(5);
    let file = new MemBlockFile();
    let store = FilePageStore.open(file, 512);
    let bt = BTree.create(store, { unique: true, name: 'bt' });
    let be = BeTree.create(store, { name: 'be' });
    let live = new Map<number, number>();
    let durableBt = new Map<number, number>();
    let durableBe = new Map<number, number>();
    for (let round = 0; round < 60; round++) {
      for (let op = 0; op < 300; op++) {
        const x = r.int(2000);
        if (r.int(3) === 0) {
          if (live.has(x)) { bt.delete(k(x), live.get(x)!); be.delete(k(x)); live.delete(x); }
        } else if (!live.has(x)) {
          const rid = r.int(1e9);
          expect(bt.insert(k(x), rid).inserted).toBe(true);
          be.put(k(x), Uint8Array.of(rid & 0xff));
          live.set(x, rid);
        }
      }
      const stage = r.int(4);
      if (stage >= 1) { bt.checkpoint(); durableBt = new Map(live); }
      if (stage >= 2) { be.checkpoint(); durableBe = new Map(live); }
      if (stage === 3 || r.int(3) === 0) {
        // crash: only synced bytes survive
        file = new MemBlockFile(file.crashImage());
        store = FilePageStore.open(file, 512);
        bt = BTree.open(store, store.getRoot('bt')!, { name: 'bt' });
        be = BeTree.open(store, store.getRoot('be')!, { name: 'be' });
        const a = bt.checkInvariants().pages;
        const b = be.checkInvariants().pages;
        expect(store.pagesInUse()).toBeGreaterThanOrEqual(a + b);
        expect([...bt.scan()].map((e) => [toBinary(e.key), e.rowId])).toEqual([...durableBt].sort((p, q) => p[0] - q[0]).map(([x, rid]) => [toBinary(k(x)), rid]));
        expect([...be.scan()].map((e) => toBinary(e.key))).toEqual([...durableBe.keys()].sort((p, q) => p - q).map((x) => toBinary(k(x))));
        // the two trees may now disagree; continue from the B+ tree's content in both
        for (const [x] of durableBe) if (!durableBt.has(x)) be.delete(k(x));
        for (const [x, rid] of durableBt) be.put(k(x), Uint8Array.of(rid & 0xff));
        live = new Map(durableBt);
      }
    }
    bt.checkpoint();
    be.checkpoint();
    const a = bt.checkInvariants().pages;
    const b = be.checkInvariants().pages;
    // without a crash since the last commit nothing leaks
    const again = FilePageStore.open(new MemBlockFile(file.crashImage()), 512);
    expect(again.getRoot('bt')).toBe(bt.metaPage);
    expect(store.pagesInUse()).toBeGreaterThanOrEqual(a + b);
  });

  it('falls back to the previous superblock when the newest is torn', () => {
    const file = new MemBlockFile();
    const store = FilePageStore.open(file, 512);
    const t = BTree.create(store, { unique: true, name: 't' });
    t.insert(k(1), 1);
    const m1 = t.checkpoint();
    t.insert(k(2), 2);
    const m2 = t.checkpoint();
    expect(FilePageStore.open(new MemBlockFile(file.crashImage()), 512).getRoot('t')).toBe(m2);
    const img = file.crashImage();
    // generation of the last commit decides its slot; tear it
    const g0 = new DataView(img.buffer).getFloat64(12);
    const g1 = new DataView(img.buffer).getFloat64(512 + 12);
    img[(g0 > g1 ? 0 : 512) + 40] ^= 0xff;
    const s = FilePageStore.open(new MemBlockFile(img), 512);
    expect(s.getRoot('t')).toBe(m1);
    expect([...BTree.open(s, m1).scan()].map((e) => e.rowId)).toEqual([1]);
    // opened with another page size argument, the file's own page size wins
    expect(FilePageStore.open(new MemBlockFile(file.crashImage())).pageSize).toBe(512);
  });
});

describe('two-phase checkpoint', () => {
  it('keeps the previous version intact until the caller commits, with the meta id recorded elsewhere', () => {
    const file = new MemBlockFile();
    const store = FilePageStore.open(file, 512);
    const t = BTree.create(store, { unique: true }); // no name: the caller records the meta page id
    for (let i = 0; i < 300; i++) t.insert(k(i), i);
    const m1 = t.prepareCheckpoint();
    store.setRoot('catalog', m1); // the caller's own durable record
    t.commitCheckpoint();
    for (let i = 0; i < 300; i++) t.delete(k(i), i);
    for (let i = 1000; i < 1300; i++) t.insert(k(i), i);
    const m2 = t.prepareCheckpoint();
    // a second tree reuses every free page before the caller records m2
    const other = BTree.create(store, { unique: true, name: 'other' });
    for (let i = 0; i < 2000; i++) other.insert(k(i), i);
    other.checkpoint();
    // crash before the record of m2: the store reopens at m1, intact
    const s = FilePageStore.open(new MemBlockFile(file.crashImage()), 512);
    const back = BTree.open(s, s.getRoot('catalog')!);
    back.checkInvariants();
    expect(back.rowIds()).toEqual(Array.from({ length: 300 }, (_, i) => i));
    store.setRoot('catalog', m2);
    t.commitCheckpoint();
    const s2 = FilePageStore.open(new MemBlockFile(file.crashImage()), 512);
    expect(BTree.open(s2, s2.getRoot('catalog')!).rowIds()).toEqual(Array.from({ length: 300 }, (_, i) => 1000 + i));
  });
});

describe('MemBlockFile.drainWrites', () => {
  it('replaying the drained groups on another file reproduces the durable image', () => {
    const file = new MemBlockFile();
    const store = FilePageStore.open(file, 512);
    const t = BTree.create(store, { unique: true, name: 't' });
    const replica = new MemBlockFile();
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 200; i++) t.insert(k(round * 1000 + i), i);
      t.checkpoint();
      for (const g of file.drainWrites()) {
        for (const w of g.writes) replica.write(w.pos, w.data);
        replica.sync();
      }
    }
    const s = FilePageStore.open(new MemBlockFile(replica.crashImage()), 512);
    expect(BTree.open(s, s.getRoot('t')!).checkInvariants().pages).toBe(t.checkInvariants().pages);
    expect(BTree.open(s, s.getRoot('t')!).size).toBe(1000);
  });
});
