/** Stage kinds of the no-op benchmark: cheap in-process nodes that write one small text file each. */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import * as Schema from "effect/Schema";
import { defineStage } from "../../dag/stage.js";

const ItemParams = Schema.Struct({ index: Schema.Int });
const GroupParams = Schema.Struct({ group: Schema.Int });

const cheap = () => ({ cpu: 1, gpus: 0, gpuMemoryMiB: 0 });

async function concatenate(dirs: readonly string[], out: string): Promise<void> {
  const parts = await Promise.all(dirs.map((dir) => readFile(path.join(dir, "out.txt"), "utf8")));
  await writeFile(out, parts.join(""));
}

export const itemStage = defineStage<typeof ItemParams.Type>({
  name: "item",
  version: "1",
  params: ItemParams,
  inputs: [],
  outputs: ["out.txt"],
  worker: false,
  resources: cheap,
  run: async (ctx) => {
    await writeFile(path.join(ctx.outDir, "out.txt"), `item ${ctx.params.index}\n`);
    return {};
  },
});

export const groupStage = defineStage<typeof GroupParams.Type>({
  name: "group",
  version: "1",
  params: GroupParams,
  inputs: ["items"],
  outputs: ["out.txt"],
  worker: false,
  resources: cheap,
  run: async (ctx) => {
    await concatenate(ctx.inputs["items"] as readonly string[], path.join(ctx.outDir, "out.txt"));
    return {};
  },
});

export const summaryStage = defineStage<Record<string, never>>({
  name: "summary",
  version: "1",
  params: Schema.Struct({}),
  inputs: ["groups"],
  outputs: ["out.txt"],
  worker: false,
  resources: cheap,
  run: async (ctx) => {
    await concatenate(ctx.inputs["groups"] as readonly string[], path.join(ctx.outDir, "out.txt"));
    return {};
  },
});

export const stages = [itemStage, groupStage, summaryStage];
