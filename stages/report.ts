/**
 * `report`: gathers every variant's fold metrics and training curves into the paper's tables,
 * paired tests against the baseline and lesion detection by size. Outputs `report.md`,
 * `report.csv`, a self-contained `report.html`, and `report.json` (the gathered input).
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import * as Schema from "effect/Schema";

import { defineStage } from "../dag/stage.js";
import { renderCsv } from "../src/report/csv.js";
import { renderHtml } from "../src/report/html.js";
import { renderMarkdown } from "../src/report/markdown.js";
import type { CurvePoint, FoldResult, ReportInput, VariantResult } from "../src/report/types.js";
import type { FoldMetrics } from "./evaluate.js";
import { asList, readJson, writeJson } from "./io.js";

const ReportParams = Schema.Struct({
  title: Schema.String,
  baseline: Schema.String,
  hd95: Schema.Literals(["medpy", "max-directed"]),
  /** The variant and fold of each entry of `evaluations` and `trainings`, in order. */
  entries: Schema.Array(Schema.Struct({ variant: Schema.String, fold: Schema.Int })),
});

export const reportStage = defineStage<typeof ReportParams.Type>({
  name: "report",
  version: "1",
  params: ReportParams,
  inputs: ["evaluations", "trainings"],
  outputs: ["report.md", "report.csv", "report.html", "report.json"],
  worker: false,
  resources: () => ({ cpu: 1, gpus: 0, gpuMemoryMiB: 0 }),
  run: async (ctx) => {
    const evaluations = asList(ctx.inputs.evaluations);
    const trainings = asList(ctx.inputs.trainings);
    const { entries } = ctx.params;
    if (evaluations.length !== entries.length || trainings.length !== entries.length) {
      throw new Error(
        `report got ${evaluations.length} evaluations and ${trainings.length} trainings for ${entries.length} entries`,
      );
    }

    const variants = new Map<string, FoldResult[]>();
    for (const [i, entry] of entries.entries()) {
      const metrics = await readJson<FoldMetrics>(path.join(evaluations[i]!, "metrics.json"));
      const curve = await readJson<CurvePoint[]>(path.join(trainings[i]!, "model", "curve.json"));
      const folds = variants.get(entry.variant) ?? [];
      folds.push({ fold: entry.fold, cases: metrics.cases, lesions: metrics.lesions, curve });
      variants.set(entry.variant, folds);
    }
    if (!variants.has(ctx.params.baseline)) {
      throw new Error(
        `report.baseline is "${ctx.params.baseline}" but the variants are ${[...variants.keys()].join(", ")}; ` +
          "set report.baseline to one of them",
      );
    }

    const input: ReportInput = {
      title: ctx.params.title,
      baseline: ctx.params.baseline,
      hd95Definition: ctx.params.hd95,
      variants: [...variants].map(([name, folds]): VariantResult => ({ name, folds })),
    };
    await writeJson(path.join(ctx.outDir, "report.json"), input);
    await fs.writeFile(path.join(ctx.outDir, "report.md"), renderMarkdown(input));
    await fs.writeFile(path.join(ctx.outDir, "report.csv"), renderCsv(input));
    await fs.writeFile(path.join(ctx.outDir, "report.html"), renderHtml(input));
    return { variants: input.variants.length, folds: Math.max(...input.variants.map((v) => v.folds.length)) };
  },
});
