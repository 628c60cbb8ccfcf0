/**
 * Finds the case files behind a stage's dataset input: either the `cases/` folder of a `synth`
 * node, or dataset files passed one by one (grouped back into cases by their folder).
 */
import path from "node:path";

import { discoverCases, type CaseFiles } from "../src/data/dataset.js";

export async function casesFromInputs(
  inputs: Readonly<Record<string, string | readonly string[]>>,
): Promise<readonly CaseFiles[]> {
  const synthetic = inputs.dataset === undefined ? [] : typeof inputs.dataset === "string" ? [inputs.dataset] : inputs.dataset;
  if (synthetic.length > 0) {
    return discoverCases(path.join(synthetic[0]!, "cases"));
  }
  const files = inputs.files === undefined ? [] : typeof inputs.files === "string" ? [inputs.files] : inputs.files;
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
