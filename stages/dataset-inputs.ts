/**
 * Lists the cases of a dataset root when the graph is built. Finds the case files behind a
 * stage's dataset input: either the `cases/` folder of a `synth` node, or dataset files passed
 * one by one (grouped back into cases by their folder).
 */
import path from "node:path";

import { discoverCases, type CaseFiles } from "../src/data/dataset.js";
import { asList } from "./io.js";

/**
 * Lists the cases under a dataset root, sorted by id. Cross-validation trains on or scores every
 * case, so a case folder without a segmentation is an error that names every such folder.
 */
export async function listDatasetRoot(root: string): Promise<readonly CaseFiles[]> {
  const cases = await discoverCases(root);
  const unlabelled = cases.filter((found) => found.seg === undefined);
  if (unlabelled.length > 0) {
    const shown = unlabelled.slice(0, 10).map((found) => found.folder);
    const more = unlabelled.length > shown.length ? ` and ${unlabelled.length - shown.length} more` : "";
    throw new Error(
      `case folders without a segmentation (<case>-seg.nii.gz or <case>_seg.nii.gz), ${unlabelled.length} of ` +
        `${cases.length} in ${root}: ${shown.join(", ")}${more}; cross-validation trains on and scores every ` +
        "case, so move these folders out of dataset.root (segment them afterwards with `fancl predict`)",
    );
  }
  return cases;
}

export async function casesFromInputs(
  inputs: Readonly<Record<string, string | readonly string[]>>,
): Promise<readonly CaseFiles[]> {
  const synthetic = asList(inputs.dataset);
  if (synthetic.length > 0) {
    return discoverCases(path.join(synthetic[0]!, "cases"));
  }
  const files = asList(inputs.files);
  const wanted = new Set(files.map((file) => path.resolve(file)));
  const roots = [...new Set(files.map((file) => path.dirname(path.dirname(path.resolve(file)))))];
  const cases: CaseFiles[] = [];
  for (const root of roots) {
    for (const found of await discoverCases(root)) {
      if (found.images.some((image) => wanted.has(path.resolve(image)))) {
        cases.push(found);
      }
    }
  }
  return cases;
}
