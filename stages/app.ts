/** The FANCL study as an engine Application: its stages, experiment schema and DAG builder. */
import { fileURLToPath } from "node:url";

import type { Application } from "../dag/app.js";
import { backendEnvironmentVariable } from "./backend.js";
import { StudySchema, type StudyConfig } from "./experiment.js";
import { unusedGpuWarning } from "./gpu-request.js";
import { buildStudy } from "./pipeline.js";
import { stages } from "./registry.js";

export const fanclApplication: Application<StudyConfig> = {
  registryModule: fileURLToPath(new URL("./registry.js", import.meta.url)),
  stages,
  experimentSchema: StudySchema,
  buildGraph: async (experiment, graph) => {
    // The backend is an execution setting, not a param: workers inherit it from the environment.
    if (process.env[backendEnvironmentVariable] === undefined) {
      process.env[backendEnvironmentVariable] = experiment.base.compute.backend;
    }
    const warning = unusedGpuWarning(process.env[backendEnvironmentVariable]!);
    if (warning !== undefined) process.stderr.write(`${warning}\n`);
    await buildStudy(experiment, graph);
  },
};
