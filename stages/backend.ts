/**
 * The tensor backend for stages that run networks. The choice comes from the experiment's
 * `compute.backend`, passed to worker processes in FANCL_BACKEND by the CLI: it is not a param,
 * so it never enters a node key.
 */
import { initBackend, type BackendInfo, type BackendPreference } from "../src/tensor/backend.js";
import { nativeStatus } from "../src/tensor/native.js";

const preferences: readonly BackendPreference[] = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"];

export const backendEnvironmentVariable = "FANCL_BACKEND";

/**
 * Names the kernels that run convolutions on `backend`: TensorFlow's own on the native backends,
 * else fancl's native addon (with or without AVX-512) or, without it, the composed WASM kernels
 * and the reason. Recorded in manifests beside the backend.
 */
export function convolutionKernels(backend: string): string {
  if (backend === "tensorflow") return "tensorflow";
  const status = nativeStatus();
  if (status.loaded) return status.avx512 ? "native (AVX-512)" : "native (portable loops)";
  return `composed (${status.reason})`;
}

/**
 * Returns a warning for the command line when the native kernels cannot be used on the wasm and
 * cpu backends (not built, or built but not loadable), else undefined. Rejects a FANCL_NATIVE that
 * is neither 0 nor 1.
 */
export function nativeKernelWarning(): string | undefined {
  const setting = process.env.FANCL_NATIVE;
  if (setting !== undefined && setting !== "0" && setting !== "1") {
    throw new Error(`FANCL_NATIVE=${setting} is neither 0 nor 1; set 0 to turn the native kernels off, or 1 (or unset it) to use them`);
  }
  const status = nativeStatus();
  if (status.loaded || setting === "0") return undefined;
  return (
    `fancl: native kernels not in use (${status.reason}); convolutions run in the composed WASM kernels, ` +
    "about 3× slower. Install a C++ compiler and make, then run npm run build"
  );
}

/**
 * Activates the configured backend and logs one line naming it and one naming the convolution
 * kernels. The backends skipped on the way (native packages not installed, say) are logged only
 * when FANCL_LOG_BACKENDS is set.
 */
export async function stageBackend(log: (message: string) => void): Promise<BackendInfo> {
  const requested = process.env[backendEnvironmentVariable] ?? "auto";
  if (!preferences.includes(requested as BackendPreference)) {
    throw new Error(
      `${backendEnvironmentVariable}=${requested} is not a backend; use one of ${preferences.join(", ")}`,
    );
  }
  const verbose = process.env.FANCL_LOG_BACKENDS !== undefined;
  const info = await initBackend(requested as BackendPreference, (line) => {
    if (verbose || !line.includes("not available")) log(line);
  });
  log(`convolution kernels: ${convolutionKernels(info.name)}`);
  return info;
}

/**
 * Rewrites a WASM heap exhaustion, which the backend reports as "memory access out of bounds" (a
 * RangeError or a WebAssembly.RuntimeError, depending on where the access fails) with a stack of
 * WASM frames. Returns an error that names the cause and the settings to lower, with the original
 * as its cause. Any other error is returned unchanged.
 */
export function explainHeapExhaustion(error: unknown, settings: string): unknown {
  if (!(error instanceof Error) || !error.message.includes("memory access out of bounds")) return error;
  return new Error(
    `the WASM backend's heap (at most 4 GiB) ran out (${error.message}); lower ${settings}, ` +
      "or run on a GPU with compute.backend: tensorflow-gpu",
    { cause: error },
  );
}
