/**
 * `train`: one network on the training cases of one fold. Mining nets, the baseline and every
 * variant share this stage. Its params give the depth, whether FGA is on and whether a curriculum
 * is used. Output: `model/` (TF.js weights, network config, preprocessing, training curve).
 */
import path from "node:path";
import * as Schema from "effect/Schema";

import { defineStage } from "../dag/stage.js";
import type { NetworkConfig } from "../src/nn/network.js";
import { loadCurricula } from "./curriculum-files.js";
import type { TrainingCase } from "../src/train/trainer.js";
import { trainingThreads } from "./threads.js";
import { asList, writeJson } from "./io.js";

const Int = Schema.Int;
const Num = Schema.Finite;
const Ids = Schema.Array(Schema.String);

const TrainParamsSchema = Schema.Struct({
  network: Schema.Struct({
    inChannels: Int,
    numClasses: Int,
    stages: Int,
    baseFeatures: Int,
    maxFeatures: Int,
    deepSupervision: Schema.Boolean,
    fga: Schema.Struct({
      enabled: Schema.Boolean,
      patchSize: Int,
      lambda: Num,
      goldenGradient: Schema.Boolean,
    }),
  }),
  schedule: Schema.Struct({
    epochs: Int,
    iterationsPerEpoch: Int,
    batchSize: Int,
    patchSize: Schema.Tuple([Int, Int, Int]),
    lr: Num,
    momentum: Num,
    nesterov: Schema.Boolean,
    weightDecay: Num,
    polyExponent: Num,
    oversampleForeground: Num,
    curriculumEpochs: Schema.Array(Int),
    hardVoxels: Schema.Literals(["background", "ignore"]),
  }),
  seed: Int,
  trainCases: Ids,
  validationCases: Ids,
});

export type TrainParams = typeof TrainParamsSchema.Type;

/** Bytes of GPU memory a training needs, roughly: activations of a patch through the widest stages. */
function gpuMemoryMiB(params: TrainParams): number {
  const [d, h, w] = params.schedule.patchSize;
  const voxels = d * h * w * params.schedule.batchSize;
  const activations = voxels * params.network.baseFeatures * 4 * 12;
  return Math.ceil(activations / 2 ** 20) + 1024;
}

export const trainStage = defineStage<TrainParams>({
  name: "train",
  // Version 2: foreground patches pick a class first, then a voxel of it.
  version: "2",
  params: TrainParamsSchema,
  inputs: ["cases", "validation", "curricula"],
  outputs: ["model/model.json", "model/curve.json", "model/preprocess.json"],
  worker: true,
  // Patches of 96³ and more are GPU work; small CPU studies never ask for a device. A CPU
  // training takes a slot for each of its threads (compute.training_threads).
  resources: (params) => {
    const [d, h, w] = params.schedule.patchSize;
    const onGpu = d * h * w >= 96 ** 3;
    const cpu = onGpu ? 1 : Math.min(trainingThreads(), params.schedule.batchSize);
    return { cpu, gpus: onGpu ? 1 : 0, gpuMemoryMiB: onGpu ? gpuMemoryMiB(params) : 0 };
  },
  run: async (ctx) => {
    // Loaded here, not at the top: every worker imports the registry, and most never train.
    const { convolutionKernels, explainHeapExhaustion, stageBackend } = await import("./backend.js");
    const { fgaMemoryProblem, isHeapBackend } = await import("./study-checks.js");
    const { saveNetwork } = await import("../src/nn/network.js");
    const { loadPreprocessed } = await import("../src/preprocess/storage.js");
    const { trainNetwork } = await import("../src/train/trainer.js");
    const backend = await stageBackend(ctx.log);
    const { network: net, schedule } = ctx.params;
    // With compute.backend auto, the backend is only known here; reject before any case is loaded.
    if (net.fga.enabled && isHeapBackend(backend.name)) {
      const problem = fgaMemoryProblem({
        patchSize: schedule.patchSize,
        fgaPatchSize: net.fga.patchSize,
        batchSize: schedule.batchSize,
        numClasses: net.numClasses,
        backend: backend.name,
      });
      if (problem !== undefined) throw new Error(problem);
    }
    const caseDirs = asList(ctx.inputs.cases);
    const curriculumDirs = asList(ctx.inputs.curricula);

    const cases: TrainingCase[] = [];
    let trainingSpacing: readonly [number, number, number] | undefined;
    for (const [i, dir] of caseDirs.entries()) {
      const loaded = await loadPreprocessed(path.join(dir, "case"));
      trainingSpacing ??= loaded.spacing;
      if (loaded.label === undefined) {
        throw new Error(`case ${loaded.id} has no segmentation; training needs one for every case`);
      }
      const curricula = curriculumDirs[i] === undefined ? undefined : await loadCurricula(curriculumDirs[i]!);
      cases.push({ id: loaded.id, image: loaded.image, label: loaded.label, shape: loaded.shape, curricula });
    }
    const validation: TrainingCase[] = [];
    for (const dir of asList(ctx.inputs.validation)) {
      const loaded = await loadPreprocessed(path.join(dir, "case"));
      if (loaded.label !== undefined) {
        validation.push({ id: loaded.id, image: loaded.image, label: loaded.label, shape: loaded.shape });
      }
    }

    const network: NetworkConfig = net;
    const threads = trainingThreads();
    if (threads > 1) {
      const used = backend.name === "tensorflow" ? 1 : Math.min(threads, schedule.batchSize);
      ctx.log(`training on ${used} thread${used === 1 ? "" : "s"} (compute.training_threads ${threads}, batch ${schedule.batchSize}, backend ${backend.name})`);
    }
    const result = await trainNetwork({
      threads,
      cases,
      validation,
      network,
      schedule,
      seed: ctx.params.seed,
      checkpointDir: ctx.scratchDir,
      onProgress: (fraction, message) => ctx.progress(fraction, message),
      onResume: (epoch) => ctx.log(`resuming at epoch ${epoch + 1} from the checkpoint in ${ctx.scratchDir}`),
      signal: ctx.signal,
    }).catch((error: unknown) => {
      throw explainHeapExhaustion(
        error,
        `training.patch_size (now [${schedule.patchSize.join(", ")}]) or training.batch_size (now ${schedule.batchSize})` +
          (net.fga.enabled ? `, or raise fga.patch_size (now ${net.fga.patchSize})` : ""),
      );
    });

    const modelDir = path.join(ctx.outDir, "model");
    await saveNetwork(result.network, modelDir);
    await writeJson(path.join(modelDir, "curve.json"), result.curve);
    // The spacing the network saw, so that a new scan at another resolution is resampled to it.
    await writeJson(path.join(modelDir, "preprocess.json"), {
      targetSpacing: trainingSpacing,
      patchSize: ctx.params.schedule.patchSize,
    });
    const last = result.curve[result.curve.length - 1];
    return {
      backend: backend.name,
      kernels: convolutionKernels(backend.name),
      threads: backend.name === "tensorflow" ? 1 : Math.min(threads, schedule.batchSize),
      epochs: result.curve.length,
      metrics: { finalLoss: last?.loss ?? Number.NaN, finalValidationDice: last?.valDice ?? Number.NaN },
    };
  },
});
