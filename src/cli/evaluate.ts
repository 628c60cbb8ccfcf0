/** `fancl evaluate`: Dice and HD95 per case and region, from label files or folders. */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";

import { normaliseLabels } from "../data/labels.js";
import { findCasePairs, type CasePair } from "../metrics/case-pairs.js";
import { scoreCase, type RegionScore } from "../metrics/case-scores.js";
import { HD95_DEFINITIONS, type Hd95Definition } from "../metrics/hd95.js";
import { gridDifference } from "../nifti/geometry.js";
import { readLabelVolume } from "../nifti/read.js";
import { UsageError, type Command } from "./command.js";

const FORMATS = ["csv", "json", "md"] as const;
type Format = (typeof FORMATS)[number];

const usage = `Usage: fancl evaluate --gt G --pred P [--hd95 medpy|max-directed] [--format csv|json|md] [--out FILE]

Scores predicted label maps against the ground truth: Dice and HD95 (mm) for the regions
ET = {3}, TC = {1, 3} and WT = {1, 2, 3}. Legacy label 4 (BraTS 2018-2021 enhancing tumour) is
mapped to 3 in both files. The voxel spacing is taken from the ground-truth header.

G and P are both label files (.nii.gz or .nii) or both folders, matched by case id:
  ground truth  <id>/<id>-seg.nii.gz, <id>/<id>_seg.nii.gz, or a flat <id>.nii.gz
  prediction    a flat <id>.nii.gz, or <id>/ holding <id>.nii.gz, <id>-seg.nii.gz,
                <id>_seg.nii.gz, <id>-pred.nii.gz or <id>_prediction.nii.gz
A case present on one side only is an error naming it.

  --hd95 DEF      medpy (default): 95th percentile of both directed surface distances pooled;
                  max-directed: the larger of the two directed 95th percentiles.
                  Surfaces are mask voxels with a background face neighbour. One mask empty
                  gives the image diagonal in mm, both empty 0.
  --format FMT    csv (default, columns case,region,dice,hd95), json or md
  --out FILE      write there instead of standard output
`;

/** One output row. */
export interface EvaluationRow extends RegionScore {
  readonly caseId: string;
}

/** Scores one pair of files (labels normalised, grids checked). */
export async function evaluatePair(pair: CasePair, definition: Hd95Definition): Promise<EvaluationRow[]> {
  const [gtVolume, predVolume] = await Promise.all([readLabelVolume(pair.gt), readLabelVolume(pair.pred)]);
  const difference = gridDifference(gtVolume.geometry, predVolume.geometry);
  if (difference !== undefined) {
    throw new UsageError(
      `case ${pair.caseId}: ${pair.pred} is not on the grid of ${pair.gt} (${difference}); ` +
        "resample the prediction to the ground truth's grid",
    );
  }
  const gt = normaliseLabels(gtVolume, pair.caseId).labels;
  const pred = normaliseLabels(predVolume, pair.caseId).labels;
  const grid = { dims: gt.geometry.dims, spacing: gt.geometry.spacing };
  return scoreCase(gt.data, pred.data, grid, definition).map((score) => ({ caseId: pair.caseId, ...score }));
}

/** Renders the rows; numbers keep full precision in csv and json, 4 decimals in md. */
export function formatRows(rows: readonly EvaluationRow[], format: Format, definition: Hd95Definition): string {
  if (format === "json") {
    const out = rows.map((r) => ({ case: r.caseId, region: r.region, dice: r.dice, hd95: r.hd95 }));
    return `${JSON.stringify({ hd95Definition: definition, rows: out }, null, 2)}\n`;
  }
  if (format === "md") {
    const lines = [`| case | region | dice | hd95 (mm, ${definition}) |`, "| --- | --- | ---: | ---: |"];
    for (const r of rows) lines.push(`| ${r.caseId} | ${r.region} | ${r.dice.toFixed(4)} | ${r.hd95.toFixed(4)} |`);
    return `${lines.join("\n")}\n`;
  }
  return `case,region,dice,hd95\n${rows.map((r) => `${r.caseId},${r.region},${r.dice},${r.hd95}`).join("\n")}\n`;
}

function choice<T extends string>(flag: string, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`${flag} ${text} is not one of ${allowed.join(", ")}; e.g. ${flag} ${fallback}`);
}

export const evaluateCommand: Command = {
  name: "evaluate",
  summary: "score predicted label maps against the ground truth (Dice, HD95 per region)",
  usage,
  run: async (argv) => {
    let values: { gt?: string; pred?: string; hd95?: string; format?: string; out?: string };
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: {
          gt: { type: "string" },
          pred: { type: "string" },
          hd95: { type: "string" },
          format: { type: "string" },
          out: { type: "string" },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n\n${usage}`);
    }
    if (values.gt === undefined || values.pred === undefined) {
      throw new UsageError(`--gt and --pred are both required\n\n${usage}`);
    }
    const definition = choice("--hd95", values.hd95, HD95_DEFINITIONS, "medpy");
    const format = choice("--format", values.format, FORMATS, "csv");

    const pairs = findCasePairs(values.gt, values.pred);
    const rows: EvaluationRow[] = [];
    for (const pair of pairs) rows.push(...(await evaluatePair(pair, definition)));

    const text = formatRows(rows, format, definition);
    if (values.out === undefined) process.stdout.write(text);
    else await writeFile(values.out, text);
    return 0;
  },
};
