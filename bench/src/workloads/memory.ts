/** Process memory readings (one process runs every engine, each in a worker thread of it: figures are indicative). */
export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1048576);
}

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
