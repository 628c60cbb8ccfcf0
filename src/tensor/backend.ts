/**
 * Chooses the TensorFlow.js backend at run time.
 *
 * Order for "auto": `@tensorflow/tfjs-node-gpu` (CUDA), `@tensorflow/tfjs-node` (native CPU),
 * `@tensorflow/tfjs-backend-wasm` (XNNPACK, one thread), the plain `cpu` backend that ships with
 * `@tensorflow/tfjs`. The native packages are optional dependencies: they are loaded with a
 * dynamic `import()` so that their absence only moves the choice down the list.
 */
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";

/** Backend requested by the caller. "auto" takes the first backend in the order above that loads. */
export type BackendPreference = "auto" | "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu";

/** Backend in use: `name` is `tf.getBackend()`, `package` is the npm package that provides it. */
export interface BackendInfo {
  readonly name: string;
  readonly package: string;
}

/** Concrete backend that `initBackend` can try. */
interface Candidate {
  readonly preference: Exclude<BackendPreference, "auto">;
  readonly name: string;
  readonly package: string;
  /** Loads the package and registers its backend with tfjs. Throws when the package is missing. */
  readonly load: () => Promise<void>;
}

const require = createRequire(import.meta.url);

/** Imports a package by a name TypeScript cannot see, so an absent optional package still compiles. */
async function importOptional(packageName: string): Promise<unknown> {
  return import(packageName);
}

/**
 * Loads the WASM backend with its `.wasm` binaries read from the installed package's dist folder
 * (a file path, which works under plain `node` and vitest alike) and XNNPACK limited to one thread.
 */
async function loadWasm(): Promise<void> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");

  // Paths and threads can only be set before the backend's first initialisation.
  if (tf.findBackend("wasm") === undefined) {
    const distFolder = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
    wasm.setWasmPaths(distFolder + path.sep);
    wasm.setThreadsCount(1);
  }
}

const candidates: readonly Candidate[] = [
  {
    preference: "tensorflow-gpu",
    name: "tensorflow",
    package: "@tensorflow/tfjs-node-gpu",
    load: async () => {
      await importOptional("@tensorflow/tfjs-node-gpu");
    },
  },
  {
    preference: "tensorflow",
    name: "tensorflow",
    package: "@tensorflow/tfjs-node",
    load: async () => {
      await importOptional("@tensorflow/tfjs-node");
    },
  },
  { preference: "wasm", name: "wasm", package: "@tensorflow/tfjs-backend-wasm", load: loadWasm },
  { preference: "cpu", name: "cpu", package: "@tensorflow/tfjs-backend-cpu", load: async () => {} },
];

function describeError(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}

/** Loads one candidate and makes it the active backend. Throws with the reason when that fails. */
async function activate(candidate: Candidate): Promise<BackendInfo> {
  await candidate.load();
  const ok = await tf.setBackend(candidate.name);
  if (!ok || tf.getBackend() !== candidate.name) {
    throw new Error(`tf.setBackend("${candidate.name}") failed after loading ${candidate.package}`);
  }
  await tf.ready();
  return { name: candidate.name, package: candidate.package };
}

/**
 * Selects and initialises the tensor backend, logs one line naming it, and returns it.
 *
 * - "auto" tries the candidates in order and logs each one skipped with its reason.
 * - A named preference uses exactly that backend or throws an error that names the missing
 *   package and how to install it.
 *
 * Calling it again is cheap: a backend that is already active is kept.
 */
export async function initBackend(
  preference: BackendPreference = "auto",
  log: (line: string) => void = (line) => console.error(line),
): Promise<BackendInfo> {
  if (preference !== "auto") {
    const candidate = candidates.find((entry) => entry.preference === preference);
    if (candidate === undefined) {
      throw new Error(
        `invalid tensor backend "${String(preference)}": use one of auto, tensorflow-gpu, tensorflow, wasm, cpu`,
      );
    }
    try {
      const info = await activate(candidate);
      log(`tensor backend: ${info.name} (${info.package})`);
      return info;
    } catch (error) {
      throw new Error(
        `tensor backend "${preference}" needs the package ${candidate.package}, which could not be loaded ` +
          `(${describeError(error)}). Install it with \`npm install ${candidate.package}\` ` +
          `or choose backend "auto", "wasm" or "cpu".`,
        { cause: error },
      );
    }
  }

  for (const candidate of candidates) {
    try {
      const info = await activate(candidate);
      log(`tensor backend: ${info.name} (${info.package})`);
      return info;
    } catch (error) {
      log(`tensor backend ${candidate.package} not available, trying the next one: ${describeError(error)}`);
    }
  }
  throw new Error("tensor backend initialisation failed for every candidate, including the built-in cpu backend; reinstall @tensorflow/tfjs");
}
