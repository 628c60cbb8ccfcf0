/**
 * `ingest`: validates every case of the dataset (files present, one grid, labels, finite values)
 * and records the case list, layout, modality order and label notices in `dataset.json`.
 */
import path from "node:path";
import * as Schema from "effect/Schema";

import { defineStage } from "../dag/stage.js";
import { loadCase } from "../src/data/dataset.js";
import { casesFromInputs } from "./dataset-inputs.js";
import { writeJson } from "./io.js";

const IngestParams = Schema.Struct({});

export const ingestStage = defineStage<typeof IngestParams.Type>({
  name: "ingest",
  version: "1",
  params: IngestParams,
  inputs: ["dataset", "files"],
  outputs: ["dataset.json"],
  worker: true,
  resources: () => ({ cpu: 1, gpus: 0, gpuMemoryMiB: 0 }),
  run: async (ctx) => {
    const cases = await casesFromInputs(ctx.inputs);
    const records = [];
    for (const [i, files] of cases.entries()) {
      const loaded = await loadCase(files, { requireSeg: false });
      for (const notice of loaded.notices) ctx.log(notice);
      records.push({
        id: files.id,
        layout: files.layout,
        modalities: files.modalities,
        hasSegmentation: files.seg !== undefined,
        dims: loaded.images[0]!.geometry.dims,
        spacing: loaded.images[0]!.geometry.spacing,
        notices: loaded.notices,
      });
      ctx.progress((i + 1) / cases.length, files.id);
    }
    await writeJson(path.join(ctx.outDir, "dataset.json"), { cases: records });
    return { cases: records.length };
  },
});
