/**
 * The tensor backend a study will get, found without loading TensorFlow. Also warns when
 * `fancl run --gpus` requests GPUs that this backend will not use, because otherwise a study
 * meant for a GPU trains on WASM without a word.
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

/** The npm package whose native addon each TensorFlow backend needs. */
export const nativeBackendPackages = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
} as const;

/**
 * Tells whether a native TensorFlow package is installed with its addon. The package looks for
 * `lib/napi-v*\/tfjs_binding.node` before it loads anything, so without that file it cannot load.
 * TensorFlow itself is not loaded here, so an addon that is present but fails to load (missing
 * CUDA libraries, for example) still counts as installed.
 */
export function nativeBackendInstalled(packageName: string): boolean {
  try {
    const manifest = createRequire(import.meta.url).resolve(`${packageName}/package.json`);
    const lib = path.join(path.dirname(manifest), "lib");
    return readdirSync(lib).some((entry) => existsSync(path.join(lib, entry, "tfjs_binding.node")));
  } catch {
    return false;
  }
}

/**
 * Returns the backend a preference will use, without loading TensorFlow. For "auto" this is the
 * first of tensorflow-gpu, tensorflow and wasm that is installed, the order of src/tensor/backend.ts.
 */
export function plannedBackend(preference: string): string {
  if (preference !== "auto") return preference;
  if (nativeBackendInstalled(nativeBackendPackages["tensorflow-gpu"])) return "tensorflow-gpu";
  if (nativeBackendInstalled(nativeBackendPackages.tensorflow)) return "tensorflow";
  return "wasm";
}

/**
 * Returns one warning line when GPUs were requested with `--gpus` but `backend` (the backend
 * preference in effect) does not run on a GPU; undefined otherwise.
 */
export function unusedGpuWarning(backend: string): string | undefined {
  if (requestedGpus === undefined || requestedGpus.trim() === "") return undefined;
  if (backend === "tensorflow-gpu") return undefined;
  if (plannedBackend(backend) === "tensorflow-gpu") return undefined;
  const reason =
    backend === "auto"
      ? "compute.backend is auto and @tensorflow/tfjs-node-gpu is not installed with its native addon, so it picks a CPU backend"
      : `the tensor backend is ${backend} (compute.backend or FANCL_BACKEND), which does not use a GPU`;
  return (
    `fancl: warning: --gpus ${requestedGpus} was given but ${reason}; networks train on the CPU. ` +
    "Install @tensorflow/tfjs-node-gpu and set compute.backend: tensorflow-gpu to train on the GPU"
  );
}
