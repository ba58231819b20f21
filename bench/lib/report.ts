/** Small statistics and formatting helpers for benchmark output. */

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const fmtRate = (bytesPerSecond: number) => `${(bytesPerSecond / 1e9).toFixed(2)} GB/s`;
export const fmtSeconds = (s: number) => `${s.toFixed(3)} s`;
export const fmtMB = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
export const fmtRps = (r: number) => `${r.toFixed(0)} req/s`;
export const fmtRatio = (r: number) => `${r.toFixed(2)}×`;

export interface Row {
  metric: string;
  meshdav: string;
  rclone: string;
  apache: string;
  /** meshdav relative to rclone, in the direction where ≥ 1.00× is as good or better. */
  ratio: string;
  target: string;
  ok: boolean | undefined;
}

export function printTable(rows: Row[]): void {
  const head: Row = { metric: 'metric', meshdav: 'meshdav', rclone: 'rclone', apache: 'apache', ratio: 'vs rclone', target: 'target', ok: undefined };
  const cols = ['metric', 'meshdav', 'rclone', 'apache', 'ratio', 'target'] as const;
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => r[c].length))])) as Record<(typeof cols)[number], number>;
  const line = (r: Row) =>
    cols.map((c) => r[c].padEnd(width[c])).join('  ') + '  ' + (r.ok === undefined ? (r === head ? 'result' : '') : r.ok ? 'met' : 'MISSED');
  console.log(line(head));
  console.log(cols.map((c) => '-'.repeat(width[c])).join('  ') + '  ------');
  for (const r of rows) console.log(line(r));
}
