/**
 * Statement and plan caches for repeated SQL (prepared-style point lookups through
 * `conn.query(sql, params)`, bulk loads repeating one parameterized INSERT): the parse of a SQL
 * text made only of SELECT / INSERT / UPDATE / DELETE and transaction-control statements is kept
 * by text, and
 * the optimized plan of a SELECT statement is kept on the statement object, so a repeated
 * `SELECT ... WHERE id = $1` skips parse, bind and optimize.
 *
 * Keys: SQL text → statements (parameter types are inferred from the text alone, so the text
 * determines them). Statement → plan, valid while
 *   - the catalog's `version()` is the same (the engine bumps it on every committed DDL and
 *     reports a non-finite version while the transaction has uncommitted DDL: never cached),
 *   - the disabled optimizer rules are the same,
 *   - every scanned table's row count is in the same power-of-two bucket (plans chose between
 *     index and full scans on it; checked on every 64th hit only: a stale bucket costs speed,
 *     never correctness).
 * Catalogs without `version()` (MemoryCatalog) are never cached.
 *
 * Invariants:
 *  1. A cached plan is only returned for a catalog whose version equals the one it was built
 *     under; plans resolve tables by name at execution (exec/execute.ts), never reuse objects of
 *     another transaction.
 *  2. Cached statements and plans are never mutated by their users (they are shared).
 *  3. Both caches are bounded (LRU by insertion, MAX_ENTRIES; the parse cache also by the total
 *     length of its texts, MAX_TEXT_CHARS, and keeps no text over LONG_TEXT without a `$`).
 */
import type { Catalog, QualifiedName } from '../catalog/catalog.js';
import type { Plan } from '../plan/plan.js';
import type { Statement } from '../sql/statement.js';

const MAX_ENTRIES = 512;

const statements = new Map<string, readonly Statement[]>();

/** Statements of `sql` parsed before, if the text holds only cacheable kinds. */
export function cachedParse(sql: string): Statement[] | undefined {
  const hit = statements.get(sql);
  return hit ? [...hit] : undefined;
}

/** `cachedParse` without the copy: the cached statements themselves (never to be mutated). */
export function cachedStatements(sql: string): readonly Statement[] | undefined {
  return statements.get(sql);
}

/**
 * Statement kinds whose parse is kept: queries and DML (a bulk load repeats one INSERT text), and
 * transaction control (BEGIN / COMMIT / ROLLBACK / SAVEPOINT / RELEASE / ROLLBACK TO: stateless
 * statements every short transaction repeats).
 */
const CACHED_KINDS: ReadonlySet<string> = new Set(['select', 'insert', 'update', 'delete',
  'begin', 'commit', 'rollback', 'savepoint', 'release', 'rollbackTo']);
/** Total characters of cached SQL texts (parse trees grow with them: a 1,000-row VALUES list). */
const MAX_TEXT_CHARS = 4_000_000;
let cachedChars = 0;

/**
 * Texts longer than this are kept only when they hold a `$` (parameters): a long text of literals
 * (a multi-row INSERT of a bulk load) is hardly ever sent twice, and its tree would only be
 * garbage that the collector copies and promotes.
 */
const LONG_TEXT = 4096;

export function rememberParse(sql: string, parsed: readonly Statement[]): void {
  if (parsed.length === 0 || !parsed.every((s) => CACHED_KINDS.has(s.kind))) return;
  if (sql.length > LONG_TEXT && !sql.includes('$')) return;
  if (sql.length > MAX_TEXT_CHARS / 8 || statements.has(sql)) return;
  while (statements.size > 0 && (statements.size >= MAX_ENTRIES || cachedChars + sql.length > MAX_TEXT_CHARS)) {
    const oldest = statements.keys().next().value!;
    cachedChars -= oldest.length;
    statements.delete(oldest);
  }
  statements.set(sql, parsed);
  cachedChars += sql.length;
}

interface Entry {
  readonly version: number;
  readonly rules: string;
  readonly plan: Plan;
  readonly tables: readonly { readonly name: QualifiedName; readonly bucket: number }[];
  hits: number;
}

/** Row-count buckets are re-checked on every CHECK_EVERY-th hit (they only steer plan choice). */
const CHECK_EVERY = 64;

const plans = new WeakMap<Statement, Entry>();

function bucket(rows: number): number { return rows <= 0 ? 0 : Math.floor(Math.log2(rows)) + 1; }

function scannedTables(p: Plan, acc: Map<string, QualifiedName>): void {
  if (p.k === 'scan' || p.k === 'indexScan') { acc.set(`${p.name.schema ?? ''}.${p.name.name}`, p.name); return; }
  for (const v of Object.values(p)) {
    if (v && typeof v === 'object' && 'k' in v && 'out' in v) scannedTables(v as Plan, acc);
  }
}

/** per settings map (the engine hands the same map until a setting changes) */
const rulesKeys = new WeakMap<ReadonlyMap<string, string>, string>();

function rulesKey(settings: ReadonlyMap<string, string>): string {
  const hit = rulesKeys.get(settings);
  if (hit !== undefined) return hit;
  let s = '';
  for (const [k, v] of settings) if (k.startsWith('disable_rule_')) s += `${k}=${v};`;
  rulesKeys.set(settings, s);
  return s;
}

/** The plan last cached for `s` (valid or not: a hint, e.g. for the shape of its next plan). */
export function lastPlanOf(s: Statement): Plan | undefined {
  return plans.get(s)?.plan;
}

/** The plan of `s`, from the cache when still valid, else built by `build` (and cached). */
export function cachedPlan(s: Statement, catalog: Catalog, settings: ReadonlyMap<string, string>, build: () => Plan): Plan {
  const version = catalog.version?.();
  if (version === undefined || !Number.isFinite(version)) return build();
  const rules = rulesKey(settings);
  const e = plans.get(s);
  if (e && e.version === version && e.rules === rules
    && (++e.hits % CHECK_EVERY !== 0 || e.tables.every((t) => bucket(catalog.getTable(t.name)?.stats().rowCount ?? -1) === t.bucket))) return e.plan;
  const plan = build();
  const names = new Map<string, QualifiedName>();
  scannedTables(plan, names);
  const tables: { name: QualifiedName; bucket: number }[] = [];
  for (const name of names.values()) {
    const t = catalog.getTable(name);
    if (!t) return plan;
    tables.push({ name, bucket: bucket(t.stats().rowCount) });
  }
  plans.set(s, { version, rules, plan, tables, hits: 0 });
  return plan;
}
