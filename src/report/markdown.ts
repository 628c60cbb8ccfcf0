/**
 * The report as Markdown: the FANCL paper's Table 1 and Table 3 layout, paired differences and
 * lesion detection by size.
 */
import { SIZE_CLASSES } from "../metrics/detection.js";
import { formatDifference, formatP, formatSpread, METRIC_LABEL } from "./format.js";
import { METRICS, SUMMARY_REGIONS, summarise, tableLayouts, type ReportSummary } from "./summary.js";
import type { ReportInput } from "./types.js";

export function renderMarkdown(input: ReportInput): string {
  const summary = summarise(input);
  const out: string[] = [`# ${input.title}`, ""];
  out.push(
    `Values are mean ± sample sd over folds; a fold's value is the mean over its cases. ` +
      `HD95 in mm, definition \`${input.hd95Definition}\`. Baseline: ${input.baseline}.`,
    "",
  );

  for (const table of tableLayouts(summary)) {
    out.push(`## ${table.caption}`, "");
    const header = ["variant"];
    for (const metric of METRICS) for (const region of SUMMARY_REGIONS) header.push(`${METRIC_LABEL[metric]} ${region}`);
    out.push(row(header), row(header.map((_, k) => (k === 0 ? "---" : "---:"))));
    for (const variant of table.variants) {
      const cells = [variant.name];
      for (const metric of METRICS) for (const region of SUMMARY_REGIONS) cells.push(formatSpread(variant.spread[metric][region], metric));
      out.push(row(cells));
    }
    out.push("");
  }

  out.push(...pairedSection(summary), ...detectionSection(summary));
  return `${out.join("\n")}\n`;
}

function pairedSection(summary: ReportSummary): string[] {
  const others = summary.variants.filter((v) => v.paired !== undefined);
  if (others.length === 0) return [];
  const out = [
    `## Paired per-case differences against ${summary.input.baseline}`,
    "",
    "Variant minus baseline over the cases scored in both; two-sided Wilcoxon signed-rank test " +
      "(zero differences dropped; exact for n ≤ 25 without ties, else normal with tie and continuity correction).",
    "",
    row(["variant", "metric", "region", "mean difference", "T", "p", "n"]),
    row(["---", "---", "---", "---:", "---:", "---:", "---:"]),
  ];
  for (const variant of others) {
    for (const metric of METRICS) {
      for (const region of SUMMARY_REGIONS) {
        const d = variant.paired![metric][region];
        out.push(row([variant.name, METRIC_LABEL[metric], region, formatDifference(d.meanDifference, metric),
          String(d.test.statistic), formatP(d.test.pValue), String(d.cases)]));
      }
    }
  }
  out.push("");
  return out;
}

function detectionSection(summary: ReportSummary): string[] {
  const out = [
    "## Lesion detection by size",
    "",
    "Detected / total ground-truth lesions (26-connected whole-tumour components), by equivalent-sphere " +
      "diameter: small < 10 mm, medium 10–20 mm, large > 20 mm.",
    "",
    row(["variant", ...SIZE_CLASSES]),
    row(["---", ...SIZE_CLASSES.map(() => "---:")]),
  ];
  for (const variant of summary.variants) {
    out.push(row([variant.name, ...SIZE_CLASSES.map((s) => `${variant.detection[s].detected} / ${variant.detection[s].total}`)]));
  }
  out.push("");
  return out;
}

function row(cells: readonly string[]): string {
  return `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
}
