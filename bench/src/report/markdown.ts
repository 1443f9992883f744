/**
 * The Markdown report: one table per group, engines as columns, each cell the median with its
 * spread [min–max] and the ratio to QuiverDB (engine time ÷ QuiverDB time: above 1 QuiverDB is
 * faster, below 1 it is slower), then the failures with their SQLSTATE / message.
 */
import type { EngineName } from '../engines/adapter.js';
import type { BenchReport, Measurement } from '../harness/results.js';

const GROUP_TITLES: Record<string, string> = {
  load: 'Load',
  tpch: 'TPC-H (warm, in memory)',
  oltp: 'OLTP on kv (file-backed, durable)',
  concurrency: 'Concurrent short read-write transactions (file-backed, durable)',
  indexes: 'Index structures: B+ tree vs Bε-tree (QuiverDB, file-backed)',
};

export function fmtNum(x: number): string {
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

function fmtRate(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return v >= 10 ? v.toFixed(0) : v.toPrecision(2);
}

const unitLabel = (u: string): string => (u === 'us/op' ? 'µs' : u);

function cell(m: Measurement | undefined, base: Measurement | undefined): string {
  if (!m) return '';
  switch (m.status) {
    case 'n/a': return 'n/a';
    case 'unsupported': return `unsupported${m.error?.code ? ` (${m.error.code})` : ''}`;
    case 'error': return `**error**${m.error?.code ? ` (${m.error.code})` : ''}`;
    case 'timeout': return 'timeout';
    case 'ok': break;
  }
  const s = m.stats!;
  let out = `${fmtNum(s.median)} ${unitLabel(m.unit)}`;
  if (m.samples.length > 1) out += ` [${fmtNum(s.min)}–${fmtNum(s.max)}]`;
  if (m.throughput) out += ` · ${fmtRate(m.throughput.value)} ${m.throughput.unit}`;
  if (m.engine !== 'quiverdb' && base?.status === 'ok' && base.stats) out += ` · **×${fmtNum(s.median / base.stats.median)}**`;
  return out;
}

/** Geometric mean of (engine ÷ QuiverDB) over workloads where both ran. */
export function geoMeanRatio(ms: readonly Measurement[], engine: EngineName, baseline: EngineName = 'quiverdb'): { value: number; count: number } | undefined {
  let logSum = 0, count = 0;
  const byWorkload = new Map<string, Map<EngineName, Measurement>>();
  for (const m of ms) {
    if (!byWorkload.has(m.workload)) byWorkload.set(m.workload, new Map());
    byWorkload.get(m.workload)!.set(m.engine, m);
  }
  for (const row of byWorkload.values()) {
    const b = row.get(baseline), e = row.get(engine);
    if (b?.status === 'ok' && e?.status === 'ok' && b.stats && e.stats && b.stats.median > 0) {
      logSum += Math.log(e.stats.median / b.stats.median);
      count++;
    }
  }
  return count ? { value: Math.exp(logSum / count), count } : undefined;
}

interface Target {
  readonly issue: number;
  readonly text: string;
  /** 'met' | 'not met' | 'not measured' and the figure behind it. */
  readonly verdict: string;
}

function medianOf(ms: readonly Measurement[], group: string, workload: (w: string) => boolean, engine: EngineName): number | undefined {
  const m = ms.find((x) => x.group === group && workload(x.workload) && x.engine === engine);
  return m?.status === 'ok' ? m.stats?.median : undefined;
}

/**
 * The time limit a peer's TPC-H query was stopped at (status `timeout`), in ms: the peer took at
 * least that long. Read from the failure message the host writes (engines/adapter.ts).
 */
function timedOutAt(ms: readonly Measurement[], workload: string, engine: EngineName): number | undefined {
  const m = ms.find((x) => x.group === 'tpch' && x.workload === workload && x.engine === engine);
  const s = m?.status === 'timeout' ? /after the (\d+(?:\.\d+)?) s time limit/.exec(m.error?.message ?? '') : null;
  return s ? Number(s[1]) * 1000 : undefined;
}

/** The performance targets the issues set, checked against this run. */
export function evaluateTargets(report: BenchReport): Target[] {
  const ms = report.measurements;
  const out: Target[] = [];
  const verdict = (ok: boolean | undefined, figure: string): string => (ok === undefined ? 'not measured' : `${ok ? 'met' : 'not met'} (${figure})`);
  const tpch = ms.filter((m) => m.group === 'tpch');
  if (tpch.length) {
    for (const peer of ['sqlite', 'pglite', 'alasql'] as const) {
      const queries = [...new Set(tpch.map((m) => m.workload))];
      let wins = 0, both = 0;
      for (const q of queries) {
        const a = medianOf(ms, 'tpch', (w) => w === q, 'quiverdb'), b = medianOf(ms, 'tpch', (w) => w === q, peer);
        // a peer stopped at the time limit took at least the limit: slower when QuiverDB's median is below it
        const limit = b === undefined ? timedOutAt(ms, q, peer) : undefined;
        if (a !== undefined && (b !== undefined || limit !== undefined)) {
          both++;
          if (a < (b ?? limit!)) wins++;
        }
      }
      out.push({ issue: 5, text: `TPC-H: QuiverDB faster than ${peer} on every query`, verdict: verdict(both ? wins === queries.length : undefined, `faster on ${wins} of ${queries.length}`) });
    }
    const gm = geoMeanRatio(tpch, 'duckdb');
    out.push({ issue: 5, text: 'TPC-H: QuiverDB within 2.5x of DuckDB in geometric mean', verdict: verdict(gm ? gm.value >= 0.4 : undefined, gm ? `QuiverDB ${fmtNum(1 / gm.value)}x DuckDB's time over ${gm.count} queries` : '') });
  }
  const ratioTo = (group: string, w: (x: string) => boolean, peer: EngineName): number | undefined => {
    const a = medianOf(ms, group, w, 'quiverdb'), b = medianOf(ms, group, w, peer);
    return a !== undefined && b !== undefined ? a / b : undefined;
  };
  const point = ratioTo('oltp', (w) => w.startsWith('point lookup'), 'sqlite');
  out.push({ issue: 6, text: 'point lookup within 1.5x of SQLite', verdict: verdict(point === undefined ? undefined : point <= 1.5, point === undefined ? '' : `${fmtNum(point)}x`) });
  const range = ratioTo('oltp', (w) => w.startsWith('range scan'), 'sqlite');
  out.push({ issue: 6, text: '100-row range scan within 1.5x of SQLite', verdict: verdict(range === undefined ? undefined : range <= 1.5, range === undefined ? '' : `${fmtNum(range)}x`) });
  const btPages = medianOf(ms, 'indexes', (w) => w.startsWith('B+ tree: index pages written'), 'quiverdb');
  const bePages = medianOf(ms, 'indexes', (w) => w.startsWith('Bε-tree: index pages written'), 'quiverdb');
  const pageRatio = btPages !== undefined && bePages !== undefined && bePages > 0 ? btPages / bePages : undefined;
  out.push({ issue: 6, text: 'Bε-tree writes at least 5x fewer pages than the B+ tree for random inserts', verdict: verdict(pageRatio === undefined ? undefined : pageRatio >= 5, pageRatio === undefined ? '' : `${fmtNum(pageRatio)}x`) });
  const load = ratioTo('load', (w) => w.startsWith('load kv'), 'sqlite');
  out.push({ issue: 4, text: 'bulk load at least SQLite\'s rows/s (kv load)', verdict: verdict(load === undefined ? undefined : load <= 1, load === undefined ? '' : `QuiverDB takes ${fmtNum(load)}x SQLite's time`) });
  const commit = ratioTo('oltp', (w) => w.startsWith('durable single-row insert'), 'sqlite');
  out.push({ issue: 4, text: 'durable single-row commits (1 connection) at least SQLite WAL+FULL\'s rate', verdict: verdict(commit === undefined ? undefined : commit <= 1, commit === undefined ? '' : `QuiverDB takes ${fmtNum(commit)}x SQLite's time per commit`) });
  // commits/s of 16 connections vs SQLite's single-connection commits/s
  const rate = (group: string, w: (x: string) => boolean, engine: EngineName): number | undefined => {
    const m = ms.find((x) => x.group === group && x.engine === engine && w(x.workload));
    return m?.status === 'ok' ? m.throughput?.value : undefined;
  };
  const q16 = rate('concurrency', (w) => w.startsWith('durable single-row INSERT') && w.endsWith(' 16 connections'), 'quiverdb');
  const s1rate = rate('oltp', (w) => w.startsWith('durable single-row insert'), 'sqlite');
  const gc = q16 === undefined || s1rate === undefined ? undefined : q16 / s1rate;
  out.push({
    issue: 4,
    text: 'durable single-row commits from 16 connections at least 3x SQLite WAL+FULL\'s single-connection rate (group commit)',
    verdict: verdict(gc === undefined ? undefined : gc >= 3, gc === undefined ? '' : `${fmtNum(gc)}x`),
  });
  const t16 = medianOf(ms, 'concurrency', (w) => w.startsWith('short read-write') && w.endsWith(' 16 connections'), 'quiverdb');
  const s1 = medianOf(ms, 'concurrency', (w) => w.startsWith('short read-write') && w.endsWith(' 1 connection'), 'sqlite');
  out.push({
    issue: 7,
    text: 'short read-write transactions from 16 connections vs SQLite\'s single-connection rate (reported, no target)',
    verdict: t16 === undefined || s1 === undefined ? 'not measured' : `QuiverDB at ${fmtNum(s1 / t16)}x SQLite's tx/s`,
  });
  return out;
}

export function renderMarkdown(report: BenchReport): string {
  const { meta } = report;
  const engines = Object.keys(meta.engines) as EngineName[];
  const lines: string[] = [];
  lines.push(`# QuiverDB bench results`);
  lines.push('');
  lines.push(`${meta.date} · ${meta.nproc} cores (\`nproc\`) · ${meta.cpu} · ${meta.totalMemGb} GB · Node ${meta.node} · ${meta.platform}` +
    `${meta.commit ? ` · commit ${meta.commit}` : ''}` +
    `${meta.loadAverageAtStart ? ` · load average ${meta.loadAverageAtStart.join(' / ')} at start` : ''}` +
    `${meta.loadAverage ? `, ${meta.loadAverage.join(' / ')} at end` : ''}`);
  lines.push('');
  const o = meta.options;
  lines.push(`Options: ${Object.entries(o).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('/') : String(v)}`).join(', ')}.`);
  lines.push(`Engines: ${engines.map((e) => `${e} ${meta.engines[e]}`).join(', ')}.`);
  lines.push('');
  lines.push('Each cell: median [min–max] over the timed runs · throughput · **×ratio** = engine time ÷ QuiverDB time ' +
    '(above 1: QuiverDB is faster). `unsupported`: QuiverDB cannot run it yet (SQLSTATE); `n/a`: the engine has no such feature.');
  const groups = [...new Set(report.measurements.map((m) => m.group))];
  for (const g of groups) {
    const ms = report.measurements.filter((m) => m.group === g);
    lines.push('');
    lines.push(`## ${GROUP_TITLES[g] ?? g}`);
    lines.push('');
    lines.push(`| workload | ${engines.join(' | ')} |`);
    lines.push(`|---|${engines.map(() => '---').join('|')}|`);
    const workloads = [...new Set(ms.map((m) => m.workload))];
    for (const w of workloads) {
      const row = new Map(ms.filter((m) => m.workload === w).map((m) => [m.engine, m]));
      lines.push(`| ${w} | ${engines.map((e) => cell(row.get(e), row.get('quiverdb'))).join(' | ')} |`);
    }
    if (g === 'tpch') {
      const gm = engines.map((e) => {
        if (e === 'quiverdb') return '1';
        const r = geoMeanRatio(ms, e);
        return r ? `×${fmtNum(r.value)} (${r.count} q)` : '–';
      });
      lines.push(`| geometric mean of ratios | ${gm.join(' | ')} |`);
    }
  }
  const targets = evaluateTargets(report);
  if (targets.length) {
    lines.push('');
    lines.push('## Targets from the issues');
    lines.push('');
    lines.push('| issue | target | this run |');
    lines.push('|---|---|---|');
    for (const t of targets) lines.push(`| #${t.issue} | ${t.text} | ${t.verdict} |`);
  }
  if (report.memory.length) {
    lines.push('');
    lines.push('## Process memory (rss after each load; one process runs every engine, so deltas are indicative)');
    lines.push('');
    lines.push('| phase | engine | rss MB | Δ MB |');
    lines.push('|---|---|---|---|');
    for (const m of report.memory) lines.push(`| ${m.phase} | ${m.engine} | ${m.rssMb} | ${m.deltaMb >= 0 ? '+' : ''}${m.deltaMb} |`);
    if (meta.peakRssMb) lines.push(`\nPeak rss of the run: ${meta.peakRssMb} MB. Duration: ${meta.durationS ?? '?'} s.`);
  }
  const failures = report.measurements.filter((m) => m.status !== 'ok');
  if (failures.length) {
    lines.push('');
    lines.push('## Not measured');
    lines.push('');
    const seen = new Set<string>();
    for (const f of failures) {
      const key = `${f.engine}|${f.status}|${f.error?.code ?? ''}|${f.error?.message ?? ''}`;
      const same = failures.filter((x) => `${x.engine}|${x.status}|${x.error?.code ?? ''}|${x.error?.message ?? ''}` === key);
      if (seen.has(key)) continue;
      seen.add(key);
      const where = same.map((x) => x.workload).join(', ');
      lines.push(`- **${f.engine}** ${f.status}${f.error?.code ? ` ${f.error.code}` : ''} — ${where}: ${(f.error?.message ?? '').replace(/\s+/g, ' ').replace(/\|/g, '\\|')}`);
    }
  }
  const notes = report.measurements.filter((m) => m.note && m.status === 'ok' && m.note !== 'reference answer');
  if (notes.length) {
    lines.push('');
    lines.push('Notes: ' + notes.map((m) => `${m.engine} / ${m.workload}: ${m.note}`).join('; ') + '.');
  }
  lines.push('');
  return lines.join('\n');
}
