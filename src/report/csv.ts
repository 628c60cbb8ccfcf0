/**
 * The report's fold summary as CSV: one row per variant, region and metric, with the columns
 * `variant,region,metric,mean,sd,n` (region ET, TC, WT or mean; metric dice or hd95 in mm;
 * n = number of folds; sd empty with fewer than two folds).
 */
import { METRICS, SUMMARY_REGIONS, summarise } from "./summary.js";
import type { ReportInput } from "./types.js";

export function renderCsv(input: ReportInput): string {
  const summary = summarise(input);
  const lines = ["variant,region,metric,mean,sd,n"];
  for (const variant of summary.variants) {
    for (const region of SUMMARY_REGIONS) {
      for (const metric of METRICS) {
        const spread = variant.spread[metric][region];
        lines.push([quote(variant.name), region, metric, number(spread.mean), number(spread.sd), String(spread.n)].join(","));
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

function number(value: number): string {
  return Number.isNaN(value) ? "" : String(value);
}

/** RFC 4180 quoting for names holding a comma, quote or line break. */
function quote(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
