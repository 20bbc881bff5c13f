// Percentiles for benchmark figures (nearest-rank on a sorted copy).
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summarize(values: number[]): { p50: number; p95: number; max: number } {
  return { p50: percentile(values, 50), p95: percentile(values, 95), max: percentile(values, 100) };
}

/** Prints `rows` as a Markdown table under `header` (the same keys), columns padded. */
export function printTable<R extends Record<string, string>>(header: R, rows: R[]): void {
  const keys = Object.keys(header) as Array<keyof R>;
  const widths = keys.map((k) => Math.max(...[header, ...rows].map((r) => Array.from(String(r[k])).length)));
  const line = (r: R) => `| ${keys.map((k, i) => String(r[k]).padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}
