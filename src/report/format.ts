/**
 * Number formatting shared by the Markdown and HTML renderers.
 */
import type { FoldSpread, Metric } from "./summary.js";

/** Dice with 4 decimals, HD95 (mm) with 2; NaN as "n/a". */
export function formatValue(value: number, metric: Metric): string {
  if (Number.isNaN(value)) return "n/a";
  return value.toFixed(metric === "dice" ? 4 : 2);
}

/** "mean ± sd", or the mean alone when sd is undefined (one fold). */
export function formatSpread(spread: FoldSpread, metric: Metric): string {
  if (Number.isNaN(spread.sd)) return formatValue(spread.mean, metric);
  return `${formatValue(spread.mean, metric)} ± ${formatValue(spread.sd, metric)}`;
}

/** p-values: 4 significant digits, "< 1e-4" below that, NaN as "n/a". */
export function formatP(p: number): string {
  if (Number.isNaN(p)) return "n/a";
  return p < 1e-4 ? "< 1e-4" : p.toPrecision(4);
}

/** Signed difference with the metric's decimals. */
export function formatDifference(value: number, metric: Metric): string {
  if (Number.isNaN(value)) return "n/a";
  const text = formatValue(Math.abs(value), metric);
  return value < 0 ? `−${text}` : `+${text}`;
}

export const METRIC_LABEL: Readonly<Record<Metric, string>> = { dice: "Dice", hd95: "HD95 (mm)" };
