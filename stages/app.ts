/** The FANCL study as an engine Application: its stages, experiment schema and DAG builder. */
import { fileURLToPath } from "node:url";

import type { Application } from "../dag/app.js";
import { backendEnvironmentVariable, nativeKernelWarning } from "./backend.js";
import { StudySchema, type StudyConfig } from "./experiment.js";
import { unusedGpuWarning } from "./gpu-request.js";
import { buildStudy } from "./pipeline.js";
import { stages } from "./registry.js";
import { trainingThreads, trainingThreadsEnvironmentVariable } from "./threads.js";

export const fanclApplication: Application<StudyConfig> = {
  registryModule: fileURLToPath(new URL("./registry.js", import.meta.url)),
  stages,
  experimentSchema: StudySchema,
  buildGraph: async (experiment, graph) => {
    // The backend and the training threads are execution settings, not params: workers inherit
    // them from the environment.
    if (process.env[backendEnvironmentVariable] === undefined) {
      process.env[backendEnvironmentVariable] = experiment.base.compute.backend;
    }
    if (process.env[trainingThreadsEnvironmentVariable] === undefined) {
      process.env[trainingThreadsEnvironmentVariable] = String(experiment.base.compute.training_threads);
    }
    trainingThreads(); // rejects a bad FANCL_TRAINING_THREADS before any node runs
    const backend = process.env[backendEnvironmentVariable]!;
    const warning = unusedGpuWarning(backend);
    if (warning !== undefined) process.stderr.write(`${warning}\n`);
    // The native kernels matter only where TensorFlow's own kernels do not run.
    const nativeWarning = nativeKernelWarning();
    if (nativeWarning !== undefined && backend !== "tensorflow" && backend !== "tensorflow-gpu") {
      process.stderr.write(`${nativeWarning}\n`);
    }
    await buildStudy(experiment, graph);
  },
};
