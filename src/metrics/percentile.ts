/**
 * Returns the q-th percentile (0 ≤ q ≤ 100) of an ascending array with numpy's default "linear"
 * interpolation: the value at fractional rank (q / 100)·(n − 1), interpolated between its two
 * neighbours. An empty array has no percentile and throws.
 */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error("percentile of an empty list is undefined");
  const rank = (q / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  const t = rank - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  // numpy's lerp: from the nearer end, so equal neighbours give that value exactly.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}
