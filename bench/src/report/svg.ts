/**
 * A hand-written SVG bar chart of TPC-H ratios: per query, one bar per peer engine showing
 * engine time ÷ QuiverDB time on a log scale centred on 1 (bars up: QuiverDB faster; down:
 * slower). When QuiverDB has no TPC-H figure yet, the baseline is DuckDB and the title says so.
 */
import type { EngineName } from '../engines/adapter.js';
import type { BenchReport } from '../harness/results.js';

const COLORS: Record<EngineName, string> = {
  quiverdb: '#6b3fa0',
  duckdb: '#e0a800',
  sqlite: '#2a7ab9',
  pglite: '#2f9e5e',
  alasql: '#c94f4f',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderTpchSvg(report: BenchReport): string {
  const ms = report.measurements.filter((m) => m.group === 'tpch');
  const queries = [...new Set(ms.map((m) => m.workload))];
  const engines = Object.keys(report.meta.engines) as EngineName[];
  const median = (w: string, e: EngineName): number | undefined => {
    const m = ms.find((x) => x.workload === w && x.engine === e);
    return m?.status === 'ok' ? m.stats?.median : undefined;
  };
  const quiverHas = queries.some((q) => median(q, 'quiverdb') !== undefined);
  const baseline: EngineName = quiverHas ? 'quiverdb' : 'duckdb';
  const peers = engines.filter((e) => e !== baseline);

  const W = 860, H = 420, left = 70, right = 20, top = 60, bottom = 70;
  const plotH = H - top - bottom, plotW = W - left - right;
  const maxExp = 3; // 10^-3 .. 10^3
  const y = (ratio: number): number => {
    const l = Math.max(-maxExp, Math.min(maxExp, Math.log10(ratio)));
    return top + plotH / 2 - (l / maxExp) * (plotH / 2);
  };
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const sf = String(report.meta.options['sf'] ?? '');
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(`TPC-H SF ${sf}: engine time ÷ ${baseline} time (log scale; above 1 = ${baseline} faster)`)}</text>`);
  out.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(`${report.meta.date.slice(0, 10)} · ${report.meta.nproc} cores · Node ${report.meta.node}${quiverHas ? '' : ' · QuiverDB has no TPC-H figure yet'}`)}</text>`);
  for (let e = -maxExp; e <= maxExp; e++) {
    const yy = y(10 ** e);
    out.push(`<line x1="${left}" x2="${W - right}" y1="${yy}" y2="${yy}" stroke="${e === 0 ? '#000' : '#ddd'}" stroke-width="${e === 0 ? 1.5 : 1}"/>`);
    const label = e >= 0 ? `${10 ** e}×` : `1/${10 ** -e}`;
    out.push(`<text x="${left - 6}" y="${yy + 4}" text-anchor="end" fill="#333">${label}</text>`);
  }
  const groupW = plotW / Math.max(1, queries.length);
  const barW = Math.min(22, (groupW - 10) / Math.max(1, peers.length));
  queries.forEach((q, qi) => {
    const gx = left + qi * groupW + (groupW - barW * peers.length) / 2;
    const b = median(q, baseline);
    peers.forEach((e, ei) => {
      const v = median(q, e);
      const x = gx + ei * barW;
      if (b === undefined || v === undefined) {
        out.push(`<text x="${x + barW / 2}" y="${y(1) - 4}" text-anchor="middle" fill="${COLORS[e]}" font-size="10">–</text>`);
        return;
      }
      const r = v / b;
      const y0 = y(1), y1 = y(r);
      out.push(`<rect x="${x.toFixed(1)}" y="${Math.min(y0, y1).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${Math.max(1, Math.abs(y1 - y0)).toFixed(1)}" fill="${COLORS[e]}"><title>${esc(`${q} ${e}: ${r.toFixed(2)}× (${v.toFixed(1)} ms vs ${b.toFixed(1)} ms)`)}</title></rect>`);
    });
    out.push(`<text x="${left + qi * groupW + groupW / 2}" y="${H - bottom + 18}" text-anchor="middle" font-weight="bold">${esc(q)}</text>`);
  });
  peers.forEach((e, i) => {
    const x = left + i * 140;
    out.push(`<rect x="${x}" y="${H - 30}" width="12" height="12" fill="${COLORS[e]}"/>`);
    out.push(`<text x="${x + 18}" y="${H - 20}">${esc(e)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
