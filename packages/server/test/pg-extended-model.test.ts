/**
 * Seeded randomized test of the extended protocol against a naive model: random batches of
 * Parse / Bind / Describe / Execute (with row limits) / Close ending in Sync, over a few SQL
 * templates. The model predicts every backend message type (and error SQLSTATE, and DataRow
 * values); the server must answer exactly that. QUIVER_LONG=1 runs many more batches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type QuiverServer } from '../src/index.js';
import { FakeDatabase } from './fake-database.js';
import { RawPgClient, type BackendMessage } from './raw-pg-client.js';
import { seededRandom } from '@quiverdb/common';

type Template = 'gen' | 'cast' | 'bad';
const SQL: Record<Template, string> = {
  gen: 'SELECT n FROM generate($1)',
  cast: 'SELECT $1::INTEGER AS v',
  bad: 'SELECT * FROM no_such_table',
};
const PARAMS: Record<Template, number> = { gen: 1, cast: 1, bad: 0 };

interface ModelPortal { template: Template; param: number; cursor: number }

/** Expected message: type letter, or 'E:<SQLSTATE>', or 'D:<value>' */
type Expect = string;

class Model {
  statements = new Map<string, Template>();
  portals = new Map<string, ModelPortal>();
  skipping = false;

  private rows(p: ModelPortal): number[] {
    return p.template === 'gen' ? Array.from({ length: p.param }, (_, i) => i + 1) : [p.param];
  }

  private error(code: string): Expect[] {
    this.skipping = true;
    return [`E:${code}`];
  }

  parse(name: string, t: Template): Expect[] {
    if (this.skipping) return [];
    if (name !== '' && this.statements.has(name)) return this.error('42P05');
    this.statements.set(name, t);
    return ['1'];
  }

  bind(portal: string, stmt: string, param: number): Expect[] {
    if (this.skipping) return [];
    const t = this.statements.get(stmt);
    if (t === undefined) return this.error('26000');
    if (portal !== '' && this.portals.has(portal)) return this.error('42P03');
    this.portals.set(portal, { template: t, param, cursor: 0 });
    return ['2'];
  }

  describeS(stmt: string): Expect[] {
    if (this.skipping) return [];
    const t = this.statements.get(stmt);
    if (t === undefined) return this.error('26000');
    return ['t', t === 'bad' ? 'n' : 'T'];
  }

  describeP(portal: string): Expect[] {
    if (this.skipping) return [];
    const p = this.portals.get(portal);
    if (p === undefined) return this.error('34000');
    if (p.template === 'bad') return this.error('42P01');
    return ['T'];
  }

  execute(portal: string, maxRows: number): Expect[] {
    if (this.skipping) return [];
    const p = this.portals.get(portal);
    if (p === undefined) return this.error('34000');
    if (p.template === 'bad') return this.error('42P01');
    const rows = this.rows(p);
    const to = maxRows > 0 ? Math.min(rows.length, p.cursor + maxRows) : rows.length;
    const out = rows.slice(p.cursor, to).map((v) => `D:${v}`);
    p.cursor = to;
    out.push(to < rows.length ? 's' : 'C');
    return out;
  }

  close(kind: 'S' | 'P', name: string): Expect[] {
    if (this.skipping) return [];
    if (kind === 'S') this.statements.delete(name);
    else this.portals.delete(name);
    return ['3'];
  }

  sync(): Expect[] {
    this.skipping = false;
    return ['Z'];
  }
}

function observed(m: BackendMessage): string {
  if (m.type === 'E') return `E:${m.error!['C']}`;
  if (m.type === 'D') return `D:${m.fields![0]}`;
  return m.type;
}

let server: QuiverServer;
let port: number;
beforeAll(async () => {
  server = createServer(new FakeDatabase(), { httpPort: null, pgPort: 0 });
  port = (await server.listen()).pgPort!;
});
afterAll(async () => {
  await server.close();
});

const LONG = process.env['QUIVER_LONG'] === '1';
/** message kinds seen, to check below that the generator reaches every path */
const COUNTS = new Map<string, number>();

describe('extended protocol vs model', () => {
  afterAll(() => {
    // the generator must exercise every kind of answer, or the test proves little
    for (const kind of ['1', '2', '3', 't', 'T', 'n', 'D:1', 's', 'C', 'Z', 'E:4', 'E:3', 'E:2']) expect(COUNTS.get(kind) ?? 0, kind).toBeGreaterThan(0);
  });

  for (const seed of LONG ? Array.from({ length: 20 }, (_, i) => i + 1) : [1, 2, 3]) {
    it(`seed ${seed}`, async () => {
      const random = seededRandom(seed);
      const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const c = await RawPgClient.connect(port);
      const model = new Model();
      const names = ['', 'a', 'b'];
      const templates: Template[] = ['gen', 'gen', 'gen', 'cast', 'bad'];
      // mostly names that exist, sometimes any name (unknown statement / portal errors)
      const existing = (m: Map<string, unknown>): string => (m.size > 0 && random() < 0.85 ? pick([...m.keys()]) : pick(names));
      try {
        for (let batch = 0; batch < (LONG ? 150 : 40); batch++) {
          const expected: Expect[] = [];
          const ops = 1 + Math.floor(random() * 8);
          for (let i = 0; i < ops; i++) {
            const op = Math.floor(random() * 7);
            if (op === 0) {
              const name = random() < 0.7 ? pick(names.filter((n) => n === '' || !model.statements.has(n)).concat([''])) : pick(names);
              const t = pick(templates);
              c.parse(name, SQL[t], []);
              expected.push(...model.parse(name, t));
            } else if (op === 1 || op === 2) {
              const stmt = existing(model.statements);
              const portal = random() < 0.8 ? pick(names.filter((n) => n === '' || !model.portals.has(n)).concat([''])) : pick(names);
              const t = model.statements.get(stmt);
              const param = Math.floor(random() * 7);
              const nParams = t === undefined ? 1 : PARAMS[t];
              c.bind(portal, stmt, nParams === 0 ? [] : [{ text: String(param) }], []);
              expected.push(...model.bind(portal, stmt, nParams === 0 ? 0 : param));
            } else if (op === 3) {
              if (random() < 0.5) {
                const name = existing(model.statements);
                c.describe('S', name);
                expected.push(...model.describeS(name));
              } else {
                const name = existing(model.portals);
                c.describe('P', name);
                expected.push(...model.describeP(name));
              }
            } else if (op === 4 || op === 5) {
              const portal = existing(model.portals);
              const maxRows = pick([0, 1, 2, 3]);
              c.execute(portal, maxRows);
              expected.push(...model.execute(portal, maxRows));
            } else {
              const kind = random() < 0.5 ? 'S' : 'P';
              const name = pick(names);
              c.close_(kind, name);
              expected.push(...model.close(kind, name));
            }
          }
          c.sync();
          expected.push(...model.sync());
          const got = (await c.untilReady()).map(observed);
          for (const g of got) COUNTS.set(g.slice(0, 3), (COUNTS.get(g.slice(0, 3)) ?? 0) + 1);
          expect(got, `seed ${seed} batch ${batch}`).toEqual(expected);
        }
      } finally {
        c.close();
      }
    });
  }
});
