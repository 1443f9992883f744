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
  return v.toFixed(0);
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

export function renderMarkdown(report: BenchReport): string {
  const { meta } = report;
  const engines = Object.keys(meta.engines) as EngineName[];
  const lines: string[] = [];
  lines.push(`# QuiverDB bench results`);
  lines.push('');
  lines.push(`${meta.date} · ${meta.nproc} cores (\`nproc\`) · ${meta.cpu} · ${meta.totalMemGb} GB · Node ${meta.node} · ${meta.platform}` +
    `${meta.commit ? ` · commit ${meta.commit}` : ''}`);
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
