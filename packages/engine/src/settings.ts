/**
 * Session settings (`SET`, `SHOW`, `RESET`), with PostgreSQL's names and defaults where they exist.
 *
 * Invariants:
 *  1. Names are lower case. Unknown names are rejected with 42704, as PostgreSQL does, except names
 *     with a dot (custom placeholders, e.g. `myapp.x`), which are accepted.
 */
import { DbError, SqlState } from '@quiverdb/common';
import { defaultMemoryLimit } from '@quiverdb/storage';

export interface SettingSpec {
  readonly default: string;
  /** normalize and validate a value; throws 22023 when invalid */
  readonly check?: (v: string) => string;
  readonly description: string;
}

const bool = (v: string): string => {
  const s = v.toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(s)) return 'on';
  if (['off', 'false', 'no', '0'].includes(s)) return 'off';
  throw new DbError(SqlState.InvalidParameterValue, `invalid value for a boolean setting: "${v}"`);
};
const isolation = (v: string): string => {
  const s = v.toLowerCase().replace(/\s+/g, ' ').trim();
  if (['read uncommitted', 'read committed', 'repeatable read', 'serializable'].includes(s)) return s;
  throw new DbError(SqlState.InvalidParameterValue, `invalid value for parameter "default_transaction_isolation": "${v}"`);
};
const duration = (v: string): string => {
  const m = /^\s*(\d+)\s*(ms|s|min)?\s*$/i.exec(v);
  if (!m) throw new DbError(SqlState.InvalidParameterValue, `invalid duration: "${v}"`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  return String(unit === 's' ? n * 1000 : unit === 'min' ? n * 60000 : n);
};
const oneOf = (...opts: string[]) => (v: string): string => {
  const s = v.toLowerCase();
  if (!opts.includes(s)) throw new DbError(SqlState.InvalidParameterValue, `invalid value "${v}": expected one of ${opts.join(', ')}`);
  return s;
};

const intIn = (lo: number, hi: number) => (v: string): string => {
  const n = Number(v.trim());
  if (!Number.isInteger(n) || n < lo || n > hi) throw new DbError(SqlState.InvalidParameterValue, `invalid value "${v}": expected an integer in [${lo}, ${hi}]`);
  return String(n);
};

export const SETTINGS: Readonly<Record<string, SettingSpec>> = {
  default_transaction_isolation: { default: 'read committed', check: isolation, description: 'isolation level of new transactions' },
  default_transaction_read_only: { default: 'off', check: bool, description: 'new transactions are read only' },
  transaction_isolation: { default: 'read committed', check: isolation, description: 'isolation level of the current transaction' },
  lock_timeout: { default: '0', check: duration, description: 'ms to wait for a lock before 55P03 (0 = forever)' },
  deadlock_timeout: { default: '1000', check: duration, description: 'ms after which a waiter re-checks for deadlocks' },
  deadlock_prevention: { default: 'detect', check: oneOf('detect', 'wait-die', 'wound-wait', 'no-wait'), description: 'how lock waits avoid deadlocks' },
  statement_timeout: { default: '0', check: duration, description: 'ms before a statement is cancelled (0 = never)' },
  search_path: { default: 'public', description: 'schemas searched for unqualified names' },
  client_encoding: { default: 'UTF8', description: 'client character set (UTF8 only)' },
  datestyle: { default: 'ISO, MDY', description: 'date output style' },
  timezone: { default: 'UTC', description: 'time zone (timestamps are without time zone)' },
  application_name: { default: '', description: 'name reported by the client' },
  standard_conforming_strings: { default: 'on', description: 'backslashes are literal in strings' },
  extra_float_digits: { default: '1', description: 'float output precision' },
  server_version: { default: '16.0 (QuiverDB)', description: 'PostgreSQL version QuiverDB speaks' },
  // DuckDB's policy: 80 % of the memory the process may use (cgroup limit, else RAM), not a fixed
  // figure: an in-memory database has no OS page cache behind its buffer pool, so a table larger
  // than a small fixed budget would be re-decoded from its segments on every scan. It is a ceiling
  // for the buffer pool and for each statement's operators (53200 / spilling past it), not an
  // allocation. Read once at start-up; `Database.open(path, { memoryLimit })` or SET override it.
  memory_limit: { default: String(defaultMemoryLimit()), description: 'memory budget in bytes (buffer pool; operators per statement); default 80% of RAM' },
  default_statistics_target: { default: '100', check: intIn(1, 10000), description: 'ANALYZE samples 300 x this many rows; MCV and histogram sizes' },
};

export class Settings {
  readonly #values = new Map<string, string>();
  /** the last `snapshot()`, until a value changes (handed out read-only, never changed after) */
  #snapshot: ReadonlyMap<string, string> | undefined;

  get(name: string): string {
    const n = name.toLowerCase();
    const v = this.#values.get(n);
    if (v !== undefined) return v;
    const spec = SETTINGS[n];
    if (spec) return spec.default;
    if (n.includes('.') || n.startsWith('disable_rule_') || n.startsWith('enable_')) return '';
    throw new DbError(SqlState.UndefinedObject, `unrecognized configuration parameter "${name}"`);
  }

  set(name: string, value: string | null): void {
    const n = name.toLowerCase();
    const spec = SETTINGS[n];
    if (!spec && !n.includes('.') && !n.startsWith('disable_rule_') && !n.startsWith('enable_')) {
      throw new DbError(SqlState.UndefinedObject, `unrecognized configuration parameter "${name}"`);
    }
    this.#snapshot = undefined;
    if (value === null) { this.#values.delete(n); return; }
    this.#values.set(n, spec?.check ? spec.check(value) : value);
  }

  reset(name: string): void {
    if (name.toLowerCase() === 'all') { this.#values.clear(); this.#snapshot = undefined; return; }
    this.set(name, null);
  }

  /**
   * All explicitly set values plus defaults, for the SQL stack: one map per change of a value,
   * not per statement (every statement takes one).
   */
  snapshot(): ReadonlyMap<string, string> {
    if (this.#snapshot !== undefined) return this.#snapshot;
    const m = new Map<string, string>();
    for (const [k, s] of Object.entries(SETTINGS)) m.set(k, s.default);
    for (const [k, v] of this.#values) m.set(k, v);
    return (this.#snapshot = m);
  }
}
