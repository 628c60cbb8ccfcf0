/** `fancl evaluate`: Dice and HD95 per case and region, from label files or folders. */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";

import { normaliseLabels } from "../data/labels.js";
import { findCasePairs, type CasePair } from "../metrics/case-pairs.js";
import { scoreCase, type RegionScore } from "../metrics/case-scores.js";
import { HD95_DEFINITIONS, type Hd95Definition } from "../metrics/hd95.js";
import { lesionWise } from "../metrics/lesionwise.js";
import { regionMask } from "../metrics/regions.js";
import { gridDifference } from "../nifti/geometry.js";
import { readLabelVolume } from "../nifti/read.js";
import { UsageError, type Command } from "./command.js";

const FORMATS = ["csv", "json", "md"] as const;
type Format = (typeof FORMATS)[number];

const usage = `Usage: fancl evaluate --gt G --pred P [--hd95 medpy|max-directed] [--format csv|json|md]
                      [--lesion-wise] [--out FILE]

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
  --lesion-wise   add the BraTS 2023 lesion-wise scores (BraTS-MET settings: lesions grouped
                  by one 18-connected dilation, lesions of 2 mm³ or less left out, 374 mm for
                  a miss): columns lesion_dice,lesion_hd95,gt_lesions,tp,fp,fn
  --out FILE      write there instead of standard output
`;

/** One output row; the lesion-wise fields are present with `--lesion-wise`. */
export interface EvaluationRow extends RegionScore {
  readonly caseId: string;
  readonly lesionWise?: {
    readonly lesionDice: number;
    /** mm. */
    readonly lesionHd95: number;
    readonly gtLesions: number;
    readonly tp: number;
    readonly fp: number;
    readonly fn: number;
  };
}

/** Scores one pair of files, after normalising labels and checking that the grids match. */
export async function evaluatePair(pair: CasePair, definition: Hd95Definition, withLesions = false): Promise<EvaluationRow[]> {
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
  return scoreCase(gt.data, pred.data, grid, definition).map((score) => {
    if (!withLesions) return { caseId: pair.caseId, ...score };
    const result = lesionWise(regionMask(gt.data, score.region), regionMask(pred.data, score.region), grid);
    const { lesionDice, lesionHd95, gtLesions, tp, fp, fn } = result;
    return { caseId: pair.caseId, ...score, lesionWise: { lesionDice, lesionHd95, gtLesions, tp, fp, fn } };
  });
}

const LESION_COLUMNS = ["lesion_dice", "lesion_hd95", "gt_lesions", "tp", "fp", "fn"] as const;

/** Lists a row's cells in column order: case, region, dice, hd95, then the lesion-wise columns if present. */
function cells(row: EvaluationRow): (string | number)[] {
  const base: (string | number)[] = [row.caseId, row.region, row.dice, row.hd95];
  const l = row.lesionWise;
  return l === undefined ? base : [...base, l.lesionDice, l.lesionHd95, l.gtLesions, l.tp, l.fp, l.fn];
}

/** Renders the rows. Numbers keep full precision in csv and json and get 4 decimals in md. */
export function formatRows(rows: readonly EvaluationRow[], format: Format, definition: Hd95Definition): string {
  const withLesions = rows.some((r) => r.lesionWise !== undefined);
  const columns = ["case", "region", "dice", "hd95", ...(withLesions ? LESION_COLUMNS : [])];
  if (format === "json") {
    const out = rows.map((r) => Object.fromEntries(cells(r).map((value, k) => [columns[k]!, value])));
    return `${JSON.stringify({ hd95Definition: definition, rows: out }, null, 2)}\n`;
  }
  if (format === "md") {
    const header = columns.map((c) => (c === "hd95" ? `hd95 (mm, ${definition})` : c));
    const lines = [`| ${header.join(" | ")} |`, `| --- | --- | ${header.slice(2).map(() => "---:").join(" | ")} |`];
    for (const r of rows) {
      const text = cells(r).map((value) => (typeof value === "number" && !Number.isInteger(value) ? value.toFixed(4) : String(value)));
      lines.push(`| ${text.join(" | ")} |`);
    }
    return `${lines.join("\n")}\n`;
  }
  return `${[columns.join(","), ...rows.map((r) => cells(r).join(","))].join("\n")}\n`;
}

function choice<T extends string>(flag: string, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`${flag} ${text} is not one of ${allowed.join(", ")}; e.g. ${flag} ${fallback}`);
}

/** Writes the table to --out, creating its folder as `fancl predict` does for its output. */
async function writeOut(file: string, text: string): Promise<void> {
  try {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFile(file, text);
  } catch (error) {
    const reasons: Record<string, string> = {
      EISDIR: "it is a folder",
      ENOTDIR: "a part of its path is a file, not a folder",
      // mkdir gives EEXIST, not ENOTDIR, when the folder to create is an existing file.
      EEXIST: `${path.dirname(file)} is a file, not a folder`,
    };
    const reason = reasons[(error as NodeJS.ErrnoException).code ?? ""] ?? (error as Error).message;
    throw new UsageError(`--out ${file} cannot be written: ${reason}; give the path of a file to write the scores to`);
  }
}

export const evaluateCommand: Command = {
  name: "evaluate",
  summary: "score predicted label maps against the ground truth (Dice, HD95 per region)",
  usage,
  run: async (argv) => {
    let values: { gt?: string; pred?: string; hd95?: string; format?: string; out?: string; "lesion-wise"?: boolean };
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: {
          gt: { type: "string" },
          pred: { type: "string" },
          hd95: { type: "string" },
          format: { type: "string" },
          out: { type: "string" },
          "lesion-wise": { type: "boolean" },
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
    for (const pair of pairs) rows.push(...(await evaluatePair(pair, definition, values["lesion-wise"] === true)));

    const text = formatRows(rows, format, definition);
    if (values.out === undefined) process.stdout.write(text);
    else await writeOut(values.out, text);
    return 0;
  },
};
