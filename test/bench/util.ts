// Small helpers shared by the benchmark sections: progress output, statistics, formatting.
import { performance } from 'node:perf_hooks';

const started = performance.now();

/** One progress line on stderr, stamped with the seconds since the bench started. */
export function progress(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${seconds}s] ${message}\n`);
}

export const elapsedSeconds = () => (performance.now() - started) / 1000;

/** Median of the values (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile: the smallest value with at least p% of the values at or below it. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Milliseconds with three significant-ish decimals for small values. */
export const ms = (value: number) => (value < 10 ? value.toFixed(3) : value < 100 ? value.toFixed(2) : value.toFixed(1));
export const ratio = (value: number) => `${value.toFixed(2)}×`;
export const mib = (bytes: number) => (bytes / MiB).toFixed(1);
export const count = (n: number) => n.toLocaleString('en-US');

/** A size like "16 MiB" or "1 GiB". */
export const sizeLabel = (bytes: number) => (bytes >= GiB ? `${bytes / GiB} GiB` : `${bytes / MiB} MiB`);

/** Decimal megabytes per second, the usual unit for throughput. */
export const mbPerSecond = (bytes: number, milliseconds: number) => bytes / 1e6 / (milliseconds / 1000);

/** A Markdown table from a header row and body rows. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

// Clean-up that must happen even when the run is interrupted (Ctrl-C) or dies: temp folders and
// the server process. Each section registers its own and unregisters it once done.
const cleanups = new Set<() => void>();

export function registerCleanup(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

export function runCleanups(): void {
  for (const fn of [...cleanups]) {
    cleanups.delete(fn);
    try {
      fn();
    } catch {
      // best effort: keep cleaning the rest
    }
  }
}
