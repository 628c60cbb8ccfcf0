/**
 * Warns when `fancl run --gpus` requests GPUs that the tensor backend will not use: the GPU lease
 * is the engine's, the backend the experiment's (compute.backend, or FANCL_BACKEND), and without
 * this line a study meant for a GPU trains on WASM without a word.
 */
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** The `--gpus` value of the current command line, noted by the CLI before the graph is built. */
let requestedGpus: string | undefined;

/** Notes the `--gpus` value of a `run` command line (undefined when absent). */
export function noteRequestedGpus(value: string | undefined): void {
  requestedGpus = value;
}

/** Finds a `--gpus` value in verb arguments, as `--gpus 0,1` or `--gpus=0,1`. */
export function gpusArgument(argv: readonly string[]): string | undefined {
  for (const [i, arg] of argv.entries()) {
    if (arg === "--") return undefined;
    if (arg === "--gpus") return argv[i + 1];
    if (arg.startsWith("--gpus=")) return arg.slice("--gpus=".length);
  }
  return undefined;
}

/**
 * Whether @tensorflow/tfjs-node-gpu is installed with its native addon: the package looks for
 * `lib/napi-v*\/tfjs_binding.node` before it loads anything, so "auto" never picks it without one.
 */
function gpuBackendInstalled(): boolean {
  try {
    const manifest = createRequire(import.meta.url).resolve("@tensorflow/tfjs-node-gpu/package.json");
    const lib = path.join(path.dirname(manifest), "lib");
    return readdirSync(lib).some((entry) => existsSync(path.join(lib, entry, "tfjs_binding.node")));
  } catch {
    return false;
  }
}

/**
 * Returns one warning line when GPUs were requested with `--gpus` but `backend` (the backend
 * preference in effect) does not run on a GPU; undefined otherwise.
 */
export function unusedGpuWarning(backend: string): string | undefined {
  if (requestedGpus === undefined || requestedGpus.trim() === "") return undefined;
  if (backend === "tensorflow-gpu") return undefined;
  if (backend === "auto" && gpuBackendInstalled()) return undefined;
  const why =
    backend === "auto"
      ? "compute.backend is auto and @tensorflow/tfjs-node-gpu is not installed with its native addon, so it picks a CPU backend"
      : `the tensor backend is ${backend} (compute.backend or FANCL_BACKEND), which does not use a GPU`;
  return (
    `fancl: warning: --gpus ${requestedGpus} was given but ${why}; networks train on the CPU. ` +
    "Install @tensorflow/tfjs-node-gpu and set compute.backend: tensorflow-gpu to train on the GPU"
  );
}
