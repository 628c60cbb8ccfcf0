/**
 * Wilcoxon signed-rank test on paired differences, two-sided.
 *
 * Zero differences are dropped first (scipy's default `zero_method="wilcox"`), then the
 * absolute differences are ranked with average ranks for ties. The statistic is
 * T = min(R+, R−). The p-value comes from:
 * - the exact null distribution of R+ when at most 25 differences remain and no two absolute
 *   differences tie (scipy `wilcoxon(d, method="exact")`);
 * - otherwise the normal approximation with the tie correction of the variance and a
 *   continuity correction of 0.5 (scipy `wilcoxon(d, method="approx", correction=True)`).
 */
import { normalSf } from "./stats.js";

export interface WilcoxonResult {
  /** min(R+, R−). */
  readonly statistic: number;
  readonly pValue: number;
  /** Differences left after dropping zeros. */
  readonly n: number;
  readonly method: "exact" | "normal";
}

/** Largest n for the exact distribution. */
export const EXACT_MAX_N = 25;

/**
 * Runs the test on `differences` (e.g. variant − baseline per case). With no non-zero difference
 * the test is undefined: statistic 0, p-value NaN, n 0.
 */
export function wilcoxonSignedRank(differences: readonly number[]): WilcoxonResult {
  const d = differences.filter((v) => v !== 0);
  const n = d.length;
  if (n === 0) return { statistic: 0, pValue: NaN, n: 0, method: "exact" };

  // Average ranks of |d|, ties sharing the mean of their positions.
  const order = d.map((v, i) => [Math.abs(v), i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Float64Array(n);
  const tieSizes: number[] = [];
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && order[end]![0] === order[start]![0]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]![1]] = rank;
    tieSizes.push(end - start);
    start = end;
  }
  let rPlus = 0;
  for (let i = 0; i < n; i++) if (d[i]! > 0) rPlus += ranks[i]!;
  const total = (n * (n + 1)) / 2;
  const statistic = Math.min(rPlus, total - rPlus);
  const ties = tieSizes.some((t) => t > 1);

  if (n <= EXACT_MAX_N && !ties) {
    return { statistic, pValue: Math.min(1, 2 * exactCdf(n, statistic)), n, method: "exact" };
  }

  const expected = total / 2;
  let variance = (n * (n + 1) * (2 * n + 1)) / 24;
  for (const t of tieSizes) variance -= (t * t * t - t) / 48;
  const z = (statistic - expected - 0.5 * Math.sign(statistic - expected)) / Math.sqrt(variance);
  return { statistic, pValue: Math.min(1, 2 * normalSf(Math.abs(z))), n, method: "normal" };
}

/** P(R+ ≤ t) under the null for n untied ranks 1…n: subsets of {1…n} with sum ≤ t over 2^n. */
function exactCdf(n: number, t: number): number {
  const maxSum = (n * (n + 1)) / 2;
  const counts = new Float64Array(maxSum + 1);
  counts[0] = 1;
  for (let k = 1; k <= n; k++) {
    for (let s = maxSum; s >= k; s--) counts[s]! += counts[s - k]!;
  }
  let below = 0;
  for (let s = 0; s <= Math.floor(t); s++) below += counts[s]!;
  return below / 2 ** n;
}
