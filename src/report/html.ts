/**
 * The report as one self-contained HTML page: inline CSS, the tables of the Markdown report and
 * inline SVG plots of per-fold scores and training curves. No scripts and no external URLs.
 */
import { SIZE_CLASSES } from "../metrics/detection.js";
import { formatDifference, formatP, formatSpread, METRIC_LABEL } from "./format.js";
import { METRICS, SUMMARY_REGIONS, summarise, tableLayouts, type ReportSummary } from "./summary.js";
import { dotPlot, escapeXml, linePlot, PALETTE, type Series } from "./svg.js";
import type { ReportInput } from "./types.js";

const CSS = `body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:75rem}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:0.25rem 0.5rem}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
svg.plot{font-size:10px;margin:0.5rem 1rem 0.5rem 0}svg.plot .title{font-size:12px;font-weight:600}
.plots{display:flex;flex-wrap:wrap}`;

export function renderHtml(input: ReportInput): string {
  const summary = summarise(input);
  const body: string[] = [
    `<h1>${escapeXml(input.title)}</h1>`,
    `<p>Values are mean ± sample sd over folds; a fold's value is the mean over its cases. HD95 in mm, definition <code>${escapeXml(input.hd95Definition)}</code>. Baseline: ${escapeXml(input.baseline)}.</p>`,
  ];

  for (const table of tableLayouts(summary)) {
    const header = METRICS.flatMap((m) => SUMMARY_REGIONS.map((r) => `${METRIC_LABEL[m]} ${r}`));
    const rows = table.variants.map((v) =>
      [escapeXml(v.name), ...METRICS.flatMap((m) => SUMMARY_REGIONS.map((r) => formatSpread(v.spread[m][r], m)))],
    );
    body.push(`<h2>${escapeXml(table.caption)}</h2>`, htmlTable(["variant", ...header], rows));
  }

  body.push(...pairedSection(summary), ...detectionSection(summary), ...plots(input, summary));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(input.title)}</title>
<style>
${CSS}
</style>
</head>
<body>
${body.join("\n")}
</body>
</html>
`;
}

function pairedSection(summary: ReportSummary): string[] {
  const rows: string[][] = [];
  for (const v of summary.variants) {
    if (v.paired === undefined) continue;
    for (const m of METRICS) {
      for (const r of SUMMARY_REGIONS) {
        const d = v.paired[m][r];
        rows.push([escapeXml(v.name), METRIC_LABEL[m], r, formatDifference(d.meanDifference, m), String(d.test.statistic), formatP(d.test.pValue), String(d.cases)]);
      }
    }
  }
  if (rows.length === 0) return [];
  return [
    `<h2>Paired per-case differences against ${escapeXml(summary.input.baseline)}</h2>`,
    "<p>Variant minus baseline over the cases scored in both; two-sided Wilcoxon signed-rank test (zero differences dropped; exact for n ≤ 25 without ties, else normal with tie and continuity correction).</p>",
    htmlTable(["variant", "metric", "region", "mean difference", "T", "p", "n"], rows),
  ];
}

function detectionSection(summary: ReportSummary): string[] {
  const rows = summary.variants.map((v) => [escapeXml(v.name), ...SIZE_CLASSES.map((s) => `${v.detection[s].detected} / ${v.detection[s].total}`)]);
  return [
    "<h2>Lesion detection by size</h2>",
    "<p>Detected / total ground-truth lesions by equivalent-sphere diameter: small &lt; 10 mm, medium 10–20 mm, large &gt; 20 mm.</p>",
    htmlTable(["variant", ...SIZE_CLASSES], rows),
  ];
}

function plots(input: ReportInput, summary: ReportSummary): string[] {
  const foldPlots = METRICS.map((m) =>
    dotPlot(
      `${METRIC_LABEL[m]} per fold`,
      SUMMARY_REGIONS,
      METRIC_LABEL[m],
      summary.variants.map((v, k): Series => ({
        label: v.name,
        colour: PALETTE[k % PALETTE.length]!,
        points: SUMMARY_REGIONS.flatMap((r, c) => v.spread[m][r].foldValues.map((y) => [c, y] as const)),
      })),
    ),
  );
  const curve = (key: "loss" | "valDice", title: string) =>
    linePlot(
      title,
      "epoch",
      key === "loss" ? "loss" : "validation Dice",
      input.variants.flatMap((v, k) =>
        v.folds.map((f): Series => ({
          label: v.name,
          colour: PALETTE[k % PALETTE.length]!,
          points: f.curve.filter((p) => p[key] !== undefined).map((p) => [p.epoch, p[key]!] as const),
        })),
      ),
    );
  const hasValDice = input.variants.some((v) => v.folds.some((f) => f.curve.some((p) => p.valDice !== undefined)));
  return [
    "<h2>Per-fold scores</h2>",
    `<div class="plots">${foldPlots.join("\n")}</div>`,
    "<h2>Training curves</h2>",
    `<div class="plots">${curve("loss", "Training loss (one line per fold)")}${hasValDice ? `\n${curve("valDice", "Validation Dice")}` : ""}</div>`,
  ];
}

function htmlTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = `<tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c, k) => (k === 0 ? `<td>${c}</td>` : `<td class="num">${c}</td>`)).join("")}</tr>`);
  return `<table>\n${head}\n${body.join("\n")}\n</table>`;
}
