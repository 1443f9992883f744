/**
 * The model both crash tests (crash.test.ts: SIGKILL of a child process; kill-points.test.ts: kills
 * at I/O calls in process) check a reopened table against: the rows of the acknowledged commits.
 */

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
