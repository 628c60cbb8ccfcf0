/**
 * Finds the case files behind a stage's dataset input: either the `cases/` folder of a `synth`
 * node, or dataset files passed one by one (grouped back into cases by their folder).
 */
import path from "node:path";

import { discoverCases, type CaseFiles } from "../src/data/dataset.js";
import { asList } from "./io.js";

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
