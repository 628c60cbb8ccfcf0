/**
 * Loads the C++ addon of native/ (convolution kernels and the fused instance norm + leaky ReLU),
 * built by `npm run build` (scripts/build-native.mjs). Where it is missing, cannot load, or
 * FANCL_NATIVE=0 is set, `nativeAddon()` returns undefined and callers use TensorFlow.js ops.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The addon's functions; each fills preallocated outputs (see native/src/addon.cc). */
export interface NativeAddon {
  forward(x: Float32Array, filter: Float32Array, y: Float32Array, shape: Int32Array): void;
  backpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, shape: Int32Array): void;
  backpropFilter(x: Float32Array, dy: Float32Array, dFilter: Float32Array, shape: Int32Array): void;
  usesAvx512(): boolean;
  normActForward(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, invStd: Float32Array,
    n: number, voxels: number, c: number, eps: number, slope: number,
  ): void;
  normActBackward(
    x: Float32Array, mean: Float32Array, invStd: Float32Array, gamma: Float32Array, beta: Float32Array, dy: Float32Array,
    dx: Float32Array, dGamma: Float32Array, dBeta: Float32Array, dBias: Float32Array,
    n: number, voxels: number, c: number, eps: number, slope: number,
  ): void;
}

/** Whether the addon loaded, and why not when it did not. */
export type NativeStatus =
  | { readonly loaded: true; readonly path: string; readonly avx512: boolean }
  | { readonly loaded: false; readonly reason: string };

const addonFile = path.join("native", "build", "Release", "fancl_native.node");

let cached: { addon: NativeAddon | undefined; status: NativeStatus } | undefined;

/** Finds native/build/Release/fancl_native.node in the repository above this module (src/ or dist/src/). */
function findAddon(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 5; level++) {
    const candidate = path.join(dir, addonFile);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}

function load(): { addon: NativeAddon | undefined; status: NativeStatus } {
  if (process.env.FANCL_NATIVE === "0") {
    return { addon: undefined, status: { loaded: false, reason: "FANCL_NATIVE=0" } };
  }
  const file = findAddon();
  if (file === undefined) {
    return { addon: undefined, status: { loaded: false, reason: `${addonFile} not found; run npm run build` } };
  }
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    return { addon, status: { loaded: true, path: file, avx512: addon.usesAvx512() } };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0]! : String(error);
    return { addon: undefined, status: { loaded: false, reason: `${file} failed to load: ${reason}` } };
  }
}

/** Reports whether the native kernels are in use, loading them on the first call. */
export function nativeStatus(): NativeStatus {
  cached ??= load();
  return cached.status;
}

let enabled = true;

/**
 * Turns the native kernels off (false) or back on (true) in this process, so that tests and
 * benchmarks can compare them with the TensorFlow.js paths. On by default.
 */
export function setNativeEnabled(on: boolean): void {
  enabled = on;
}

/** Returns the addon, or undefined when it is missing or turned off. */
export function nativeAddon(): NativeAddon | undefined {
  if (!enabled) return undefined;
  cached ??= load();
  return cached.addon;
}
