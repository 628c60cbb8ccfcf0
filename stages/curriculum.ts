/**
 * `curriculum`: the nested curriculum masks C_1 ⊆ C_2 ⊆ … of one case, from the out-of-fold
 * predictions of the mining nets ordered by increasing depth.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import * as Schema from "effect/Schema";

import { defineStage } from "../dag/stage.js";
import { saveCurricula } from "./curriculum-files.js";
import { asList } from "./io.js";

const CurriculumParams = Schema.Struct({
  caseId: Schema.String,
  depths: Schema.Array(Schema.Int),
});

export const curriculumStage = defineStage<typeof CurriculumParams.Type>({
  name: "curriculum",
  version: "1",
  params: CurriculumParams,
  inputs: ["case", "predictions"],
  outputs: ["curricula.u8", "curricula.json"],
  worker: false,
  resources: () => ({ cpu: 1, gpus: 0, gpuMemoryMiB: 0 }),
  run: async (ctx) => {
    const { loadPreprocessed } = await import("../src/preprocess/storage.js");
    const { buildCurricula, easyVoxels } = await import("../src/train/curriculum.js");
    const { caseId } = ctx.params;
    const preprocessed = await loadPreprocessed(path.join(asList(ctx.inputs.case)[0]!, "case"));
    if (preprocessed.label === undefined) {
      throw new Error(`case ${caseId} has no segmentation; a curriculum needs the ground truth`);
    }
    const voxels = preprocessed.label.length;

    const predictions: Uint8Array[] = [];
    for (const dir of asList(ctx.inputs.predictions)) {
      const file = path.join(dir, "labels", `${caseId}.u8`);
      const bytes = new Uint8Array(await fs.readFile(file));
      if (bytes.length !== voxels) {
        throw new Error(`${file} has ${bytes.length} voxels but case ${caseId} has ${voxels}; rerun with --force predict`);
      }
      predictions.push(bytes);
    }

    const curricula = buildCurricula(preprocessed.label, predictions);
    const easy = predictions.map((p) => easyVoxels(preprocessed.label!, p).reduce((n, v) => n + v, 0));
    await saveCurricula(
      ctx.outDir,
      { caseId, shape: preprocessed.shape, stages: curricula.length, easyVoxels: easy },
      curricula,
    );
    return { easyVoxels: easy };
  },
});
