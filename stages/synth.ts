/** `synth`: a generated BraTS-METS 2023-layout dataset, cached like any node. Output: `cases/`. */
import path from "node:path";
import * as Schema from "effect/Schema";

import { defineStage } from "../dag/stage.js";
import { writeSyntheticDataset } from "../src/synth/dataset.js";

const SynthParams = Schema.Struct({
  cases: Schema.Int,
  seed: Schema.Int,
  shape: Schema.Tuple([Schema.Int, Schema.Int, Schema.Int]),
  spacing: Schema.Finite,
});

export const synthStage = defineStage<typeof SynthParams.Type>({
  name: "synth",
  version: "1",
  params: SynthParams,
  inputs: [],
  outputs: ["cases"],
  worker: true,
  resources: () => ({ cpu: 1, gpus: 0, gpuMemoryMiB: 0 }),
  run: async (ctx) => {
    const { cases, seed, shape, spacing } = ctx.params;
    await writeSyntheticDataset(path.join(ctx.outDir, "cases"), { cases, seed, shape, spacing });
    return { cases };
  },
});
