/**
 * `preprocess`: one case, cropped to the non-zero box, z-scored per modality over the brain, and
 * optionally resampled. Outputs `case/` (the network's input grid) and `seg.nii.gz` (the ground
 * truth on the original grid, labels normalised to 0–3) for evaluation.
 */
import path from "node:path";
import * as Schema from "effect/Schema";

import { defineStage } from "../dag/stage.js";
import { loadCase } from "../src/data/dataset.js";
import { writeNifti } from "../src/nifti/write.js";
import { preprocessCase } from "../src/preprocess/pipeline.js";
import { savePreprocessed } from "../src/preprocess/storage.js";
import { casesFromInputs } from "./dataset-inputs.js";

const Spacing = Schema.Tuple([Schema.Finite, Schema.Finite, Schema.Finite]);
const PreprocessParams = Schema.Struct({
  caseId: Schema.String,
  targetSpacing: Schema.NullOr(Spacing),
});

export const preprocessStage = defineStage<typeof PreprocessParams.Type>({
  name: "preprocess",
  version: "1",
  params: PreprocessParams,
  inputs: ["dataset", "files"],
  outputs: ["case"],
  worker: true,
  resources: () => ({ cpu: 1, gpus: 0, gpuMemoryMiB: 0 }),
  run: async (ctx) => {
    const { caseId, targetSpacing } = ctx.params;
    const files = (await casesFromInputs(ctx.inputs)).find((c) => c.id === caseId);
    if (files === undefined) {
      throw new Error(`case ${caseId} is not among this node's dataset files; check dataset.root`);
    }
    const loaded = await loadCase(files, { requireSeg: false });
    for (const notice of loaded.notices) ctx.log(notice);

    const preprocessed = preprocessCase(loaded, { targetSpacing });
    await savePreprocessed(path.join(ctx.outDir, "case"), preprocessed);
    if (loaded.seg !== undefined) {
      await writeNifti(path.join(ctx.outDir, "seg.nii.gz"), loaded.seg.data, loaded.seg.geometry);
    }
    return { shape: preprocessed.shape, spacing: preprocessed.spacing, hasSegmentation: loaded.seg !== undefined };
  },
});
