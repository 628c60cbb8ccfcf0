/**
 * Pairing ground-truth and predicted label files by case id, for `fancl evaluate`.
 *
 * Accepted layouts:
 * - ground truth: `<id>/<id>-seg.nii.gz` (BraTS 2023), `<id>/<id>_seg.nii.gz` (BraTS 2018–2021)
 *   or a flat `<id>.nii.gz`;
 * - prediction: a flat `<id>.nii.gz`, or a folder `<id>/` containing `<id>-pred.nii.gz`,
 *   `<id>_prediction.nii.gz`, `<id>.nii.gz`, `<id>-seg.nii.gz` or `<id>_seg.nii.gz` (the first
 *   that exists, in that order, so that a folder with both a segmentation and a prediction
 *   gives the prediction).
 * A pair whose two sides are the same file is an error: it would score the ground truth against itself.
 * `.nii` is accepted wherever `.nii.gz` is.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../cli/command.js";

export interface CasePair {
  readonly caseId: string;
  readonly gt: string;
  readonly pred: string;
}

const GT_SUFFIXES = ["-seg", "_seg"];
const PRED_SUFFIXES = ["-pred", "_prediction", "", "-seg", "_seg"];
const EXTENSIONS = [".nii.gz", ".nii"];

/** A case missing on one side, or an input that is neither a file nor a folder. */
export class CasePairError extends UsageError {
  readonly _tag = "CasePairError";
}

/** Returns the case id of a label file: its name without extension and without a `-seg`, `_seg`, `-gt`, `_gt`, `-pred` or `_prediction` suffix. */
export function caseIdOfFile(file: string): string {
  let name = path.basename(file);
  for (const ext of EXTENSIONS) if (name.endsWith(ext)) name = name.slice(0, -ext.length);
  for (const suffix of [...GT_SUFFIXES, "-gt", "_gt", "-pred", "_prediction"]) if (name.endsWith(suffix)) return name.slice(0, -suffix.length);
  return name;
}

/**
 * Finds the pairs to score, sorted by case id. Two files give one pair named after the ground
 * truth. Two folders are matched by case id, and a case on one side only is a CasePairError.
 */
export function findCasePairs(gt: string, pred: string): CasePair[] {
  const gtKind = kindOf(gt, "--gt");
  const predKind = kindOf(pred, "--pred");
  if (gtKind !== predKind) {
    throw new CasePairError(`--gt ${gt} is a ${gtKind} but --pred ${pred} is a ${predKind}; give two files or two folders`);
  }
  if (gtKind === "file") return [{ caseId: caseIdOfFile(gt), gt, pred }];

  const gtFiles = casesIn(gt, GT_SUFFIXES, false);
  const predFiles = casesIn(pred, PRED_SUFFIXES, true);
  if (gtFiles.size === 0) {
    throw new CasePairError(
      `--gt ${gt} contains no ground-truth file: expected <id>/<id>-seg.nii.gz, <id>/<id>_seg.nii.gz or <id>.nii.gz`,
    );
  }
  const missingPred = [...gtFiles.keys()].filter((id) => !predFiles.has(id)).sort();
  if (missingPred.length > 0) {
    throw new CasePairError(
      `case ${missingPred.join(", ")} in --gt ${gt} has no prediction in --pred ${pred} ` +
        "(looked for <id>.nii.gz and <id>/<id>{-pred,_prediction,,-seg,_seg}.nii.gz); add it or remove the case",
    );
  }
  const missingGt = [...predFiles.keys()].filter((id) => !gtFiles.has(id)).sort();
  if (missingGt.length > 0) {
    throw new CasePairError(
      `case ${missingGt.join(", ")} in --pred ${pred} has no ground truth in --gt ${gt}; add it or remove the prediction`,
    );
  }
  const pairs = [...gtFiles.keys()].sort().map((caseId) => ({ caseId, gt: gtFiles.get(caseId)!, pred: predFiles.get(caseId)! }));
  const same = pairs.filter((pair) => path.resolve(pair.gt) === path.resolve(pair.pred));
  if (same.length > 0) {
    throw new CasePairError(
      `--gt and --pred give the same file for case ${same.map((pair) => pair.caseId).join(", ")} (${same[0]!.gt}); ` +
        "put the predictions in their own folder or name them <id>-pred.nii.gz",
    );
  }
  return pairs;
}

function kindOf(p: string, flag: string): "file" | "folder" {
  if (!existsSync(p)) throw new CasePairError(`${flag} ${p} does not exist`);
  return statSync(p).isDirectory() ? "folder" : "file";
}

/** id → file for the flat `<id>.nii.gz` files and the `<id>/<id><suffix>.nii.gz` folders of `root`. */
function casesIn(root: string, suffixes: readonly string[], flatIsPrediction: boolean): Map<string, string> {
  const found = new Map<string, string>();
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) {
      const file = firstExisting(full, entry.name, suffixes);
      if (file !== undefined) found.set(entry.name, file);
      continue;
    }
    const ext = EXTENSIONS.find((e) => entry.name.endsWith(e));
    if (ext === undefined) continue;
    // A flat ground-truth file may itself carry the -seg suffix; a flat prediction is <id>.nii.gz.
    const id = flatIsPrediction ? entry.name.slice(0, -ext.length) : caseIdOfFile(entry.name);
    found.set(id, full);
  }
  return found;
}

function firstExisting(folder: string, id: string, suffixes: readonly string[]): string | undefined {
  for (const suffix of suffixes) {
    for (const ext of EXTENSIONS) {
      const file = path.join(folder, `${id}${suffix}${ext}`);
      if (existsSync(file)) return file;
    }
  }
  return undefined;
}
