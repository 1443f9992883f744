/**
 * Replaces the part of README.md between `<!-- latest:start -->` and `<!-- latest:end -->` with
 * the latest results (the Markdown report without its title, and the chart).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { BenchReport } from '../harness/results.js';
import { renderMarkdown } from './markdown.js';

const START = '<!-- latest:start -->';
const END = '<!-- latest:end -->';

export function updateReadmeSection(readmePath: string, report: BenchReport, chartPath = 'results/tpch.svg'): void {
  const text = readFileSync(readmePath, 'utf8');
  const a = text.indexOf(START), b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${readmePath}: no ${START} ... ${END} section`);
  const body = renderMarkdown(report).replace(/^# .*\n/, '').replace(/^## /gm, '### ').trim();
  const chart = report.measurements.some((m) => m.group === 'tpch') ? `![TPC-H ratios](${chartPath})\n\n` : '';
  writeFileSync(readmePath, `${text.slice(0, a + START.length)}\n${chart}${body}\n${text.slice(b)}`);
}
