/**
 * `predict`: a trained network on held-out cases. Writes `labels/<id>.u8` on the preprocessed grid
 * (what curricula are mined from) and `nifti/<id>.nii.gz` on the case's original grid (what is
 * scored), both row-major [D, H, W] label maps with values 0–3.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import * as Schema from "effect/Schema";

import { defineStage } from "../dag/stage.js";
import { asList } from "./io.js";

const PredictParams = Schema.Struct({
  caseIds: Schema.Array(Schema.String),
  patchSize: Schema.Tuple([Schema.Int, Schema.Int, Schema.Int]),
  mirror: Schema.Boolean,
});

export const predictStage = defineStage<typeof PredictParams.Type>({
  name: "predict",
  version: "1",
  params: PredictParams,
  inputs: ["model", "cases"],
  outputs: ["labels", "nifti"],
  worker: true,
  resources: (params) => {
    const [d, h, w] = params.patchSize;
    const onGpu = d * h * w >= 96 ** 3;
    return { cpu: 1, gpus: onGpu ? 1 : 0, gpuMemoryMiB: onGpu ? 4096 : 0 };
  },
  run: async (ctx) => {
    const { convolutionKernels, explainHeapExhaustion, stageBackend } = await import("./backend.js");
    const { predictVolume } = await import("../src/infer/sliding-window.js");
    const { loadNetwork } = await import("../src/nn/network.js");
    const { writeNifti } = await import("../src/nifti/write.js");
    const { loadPreprocessed } = await import("../src/preprocess/storage.js");
    const { restoreLabels } = await import("../src/preprocess/pipeline.js");
    const backend = await stageBackend(ctx.log);
    const modelDir = path.join(asList(ctx.inputs.model)[0]!, "model");
    const network = await loadNetwork(modelDir);
    await fs.mkdir(path.join(ctx.outDir, "labels"), { recursive: true });
    await fs.mkdir(path.join(ctx.outDir, "nifti"), { recursive: true });

    const caseDirs = asList(ctx.inputs.cases);
    for (const [i, dir] of caseDirs.entries()) {
      ctx.signal.throwIfAborted();
      const preprocessed = await loadPreprocessed(path.join(dir, "case"));
      const { labels } = await predictVolume(network, preprocessed.image, preprocessed.shape, {
        patchSize: ctx.params.patchSize,
        mirror: ctx.params.mirror,
        onProgress: (fraction) => ctx.progress((i + fraction) / caseDirs.length, preprocessed.id),
      }).catch((error: unknown) => {
        throw explainHeapExhaustion(
          error,
          `training.patch_size (now [${ctx.params.patchSize.join(", ")}]; prediction slides a window of that size)` +
            (network.config.fga.enabled ? ` or raise fga.patch_size (now ${network.config.fga.patchSize})` : ""),
        );
      });
      await fs.writeFile(path.join(ctx.outDir, "labels", `${preprocessed.id}.u8`), labels);
      const original = restoreLabels(labels, preprocessed.meta);
      await writeNifti(
        path.join(ctx.outDir, "nifti", `${preprocessed.id}.nii.gz`),
        original,
        preprocessed.meta.originalGeometry,
      );
    }
    network.dispose();
    return { backend: backend.name, kernels: convolutionKernels(backend.name), cases: caseDirs.length };
  },
});
