/** Percentiles and friends over raw samples (nearest-rank, no interpolation). */

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

export const round = (x: number, digits = 1): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  const mean = samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : Number.NaN;
  return {
    count: samples.length,
    p50: round(percentile(samples, 50), 2),
    p99: round(percentile(samples, 99), 2),
    max: round(samples.length ? samples.reduce((a, b) => Math.max(a, b), -Infinity) : Number.NaN, 2),
    mean: round(mean, 2),
  };
}
