/**
 * `evaluate`: scores one variant's predictions on one fold's held-out cases, on each case's
 * original grid: Dice and HD95 (mm) for ET, TC and WT, and lesion detection by size.
 * Output: `metrics.json` ({ cases: CaseScores[], lesions: LesionDetection[] }).
 */
import path from "node:path";
import * as Schema from "effect/Schema";

import { defineStage } from "../dag/stage.js";
import { scoreCase } from "../src/metrics/case-scores.js";
import { detectLesions } from "../src/metrics/detection.js";
import { readLabelVolume } from "../src/nifti/read.js";
import type { CaseScores, LesionDetection } from "../src/report/types.js";
import { asList, writeJson } from "./io.js";

const EvaluateParams = Schema.Struct({
  caseIds: Schema.Array(Schema.String),
  hd95: Schema.Literals(["medpy", "max-directed"]),
});

export interface FoldMetrics {
  readonly cases: readonly CaseScores[];
  readonly lesions: readonly LesionDetection[];
}

export const evaluateStage = defineStage<typeof EvaluateParams.Type>({
  name: "evaluate",
  version: "1",
  params: EvaluateParams,
  inputs: ["predictions", "cases"],
  outputs: ["metrics.json"],
  worker: true,
  resources: () => ({ cpu: 1, gpus: 0, gpuMemoryMiB: 0 }),
  run: async (ctx) => {
    const predictionDir = asList(ctx.inputs.predictions)[0]!;
    const caseDirs = asList(ctx.inputs.cases);
    if (caseDirs.length !== ctx.params.caseIds.length) {
      throw new Error(`evaluate got ${caseDirs.length} case folders for ${ctx.params.caseIds.length} case ids`);
    }

    const cases: CaseScores[] = [];
    const lesions: LesionDetection[] = [];
    for (const [i, caseId] of ctx.params.caseIds.entries()) {
      const gt = await readLabelVolume(path.join(caseDirs[i]!, "seg.nii.gz"));
      const pred = await readLabelVolume(path.join(predictionDir, "nifti", `${caseId}.nii.gz`));
      const grid = { dims: gt.geometry.dims, spacing: gt.geometry.spacing };

      const scores = scoreCase(gt.data, pred.data, grid, ctx.params.hd95);
      const byRegion = <K extends "dice" | "hd95">(metric: K) =>
        Object.fromEntries(scores.map((s) => [s.region, s[metric]])) as CaseScores[K];
      cases.push({ caseId, dice: byRegion("dice"), hd95: byRegion("hd95") });
      for (const lesion of detectLesions(gt.data, pred.data, grid)) {
        lesions.push({ caseId, volumeMm3: lesion.volumeMm3, sizeClass: lesion.sizeClass, detected: lesion.detected });
      }
      ctx.progress((i + 1) / ctx.params.caseIds.length, caseId);
    }

    await writeJson(path.join(ctx.outDir, "metrics.json"), { cases, lesions } satisfies FoldMetrics);
    const meanOf = (region: "ET" | "TC" | "WT") => cases.reduce((s, c) => s + c.dice[region], 0) / Math.max(1, cases.length);
    return { metrics: { diceET: meanOf("ET"), diceTC: meanOf("TC"), diceWT: meanOf("WT") } };
  },
});
