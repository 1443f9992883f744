/**
 * The model both crash tests (crash.test.ts: SIGKILL of a child process; kill-points.test.ts: kills
 * at I/O calls in process) check a reopened table against: the rows of the acknowledged commits.
 */
import { expect } from 'vitest';

/** A transaction's operations as the workload reports them: insert, update, delete, bulk insert (ids first.., v + i mod 1000). */
export type Op = ['i', number, number] | ['u', number, number] | ['d', number] | ['b', number, number, number];

/** Apply a committed transaction's operations to the model (id -> v). */
export function apply(model: Map<number, number>, ops: readonly Op[]): void {
  for (const op of ops) {
    if (op[0] === 'i') model.set(op[1], op[2]);
    else if (op[0] === 'b') { for (let i = 0; i < op[2]; i++) model.set(op[1] + i, (op[3] + i) % 1000); }
    else if (op[0] === 'u') { if (model.has(op[1])) model.set(op[1], op[2]); }
    else model.delete(op[1]);
  }
}

/** What differs between the model and the reopened table (a few ids of each kind), for a failure's message. */
export function describeDiff(model: ReadonlyMap<number, number>, got: ReadonlyMap<number, number>): string {
  const missing: string[] = [];
  const extra: string[] = [];
  const changed: string[] = [];
  let nm = 0;
  let ne = 0;
  let nc = 0;
  for (const [k, v] of model) {
    if (!got.has(k)) { if (nm++ < 10) missing.push(`${k}=${v}`); } else if (got.get(k) !== v) { if (nc++ < 10) changed.push(`${k}: ${v} -> ${got.get(k)}`); }
  }
  for (const [k, v] of got) if (!model.has(k) && ne++ < 10) extra.push(`${k}=${v}`);
  return `model ${model.size} rows, table ${got.size}; missing ${nm} [${missing.join(' ')}]; extra ${ne} [${extra.join(' ')}]; changed ${nc} [${changed.join(', ')}]`;
}

/**
 * Check the rows of a reopened table (`SELECT id, v, s FROM kv ORDER BY id`) against what the
 * parent knew at the kill, with vitest's `expect`: every row's text; each burst INSERT in flight
 * present with its value or absent; the table equal to `model`, or to `model` plus the whole
 * in-flight transaction `pending`. `model` becomes the new state (what was found durable added);
 * returns how many in-flight commits were. `label` and `detail` go into a failure's message.
 */
export function checkReopened(label: string, rows: readonly (readonly [number, number, string])[], model: Map<number, number>,
  pending: readonly Op[] | undefined, burst: ReadonlyMap<number, number>, detail = ''): number {
  const got = new Map(rows.map((r) => [Number(r[0]), Number(r[1])]));
  // (one expect for all rows: an expect per row cost seconds an iteration on large tables)
  expect(rows.find((r) => r[2] !== `row ${r[0]}`), `${label}: a row's text`).toBeUndefined();
  let inflight = 0;
  for (const [id, v] of burst) {
    if (!got.has(id)) continue;
    expect(got.get(id), `${label}: in-flight burst row ${id}`).toBe(v);
    model.set(id, v);
    inflight++;
  }
  const same = (m: ReadonlyMap<number, number>): boolean => m.size === got.size && [...m].every(([k, v]) => got.get(k) === v);
  if (same(model)) return inflight;
  // the in-flight transaction may have become durable before the kill: then all of it is there
  const withInflight = new Map(model);
  if (pending !== undefined) apply(withInflight, pending);
  const message = `${label}: ${describeDiff(model, got)}; with the in-flight transaction: ${pending === undefined ? 'none' : describeDiff(withInflight, got)}${detail}`;
  expect(pending, `data differs from acknowledged commits: ${message}`).toBeDefined();
  expect(same(withInflight), `neither without nor with the in-flight commit: ${message}`).toBe(true);
  apply(model, pending!);
  return inflight + 1;
}
