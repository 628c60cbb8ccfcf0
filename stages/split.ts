/** `split`: the seeded k-fold split by case id, written as `split.json` (fold → held-out ids). */
import path from "node:path";
import * as Schema from "effect/Schema";

import { defineStage } from "../dag/stage.js";
import { kFoldSplit } from "../src/data/split.js";
import { writeJson } from "./io.js";

const SplitParams = Schema.Struct({
  caseIds: Schema.Array(Schema.String),
  folds: Schema.Int,
  seed: Schema.Int,
});

export const splitStage = defineStage<typeof SplitParams.Type>({
  name: "split",
  version: "1",
  params: SplitParams,
  inputs: [],
  outputs: ["split.json"],
  worker: false,
  resources: () => ({ cpu: 1, gpus: 0, gpuMemoryMiB: 0 }),
  run: async (ctx) => {
    const folds = kFoldSplit(ctx.params.caseIds, ctx.params.folds, ctx.params.seed);
    await writeJson(path.join(ctx.outDir, "split.json"), { folds });
    return { folds: folds.length, cases: ctx.params.caseIds.length };
  },
});
