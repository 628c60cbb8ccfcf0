/**
 * The stage interface: what every stage kind declares to the engine, and what its `run` gets.
 */
import type { AnyDecoder } from "./experiment/issues.js";
import { decodeAll, formatPath } from "./experiment/issues.js";

/** Resources a node keeps reserved while it runs. */
export interface Resources {
  /** CPU slots (worker threads or processes it keeps busy). */
  readonly cpu: number;
  /** Whole GPUs it needs; 0 for a CPU-only node. */
  readonly gpus: number;
  /** GPU memory it needs on each of its GPUs, in MiB; lets small jobs share one GPU. */
  readonly gpuMemoryMiB: number;
}

/** The context a stage's `run` receives. */
export interface StageContext<P> {
  /** The decoded params, defaults filled. */
  readonly params: P;
  /** A temporary folder: write every declared output here; the runtime renames it into the store. */
  readonly outDir: string;
  /**
   * A folder of this node's own that survives a failed or interrupted attempt, so checkpoints
   * written here let a rerun resume. The runtime removes it once the node is committed.
   */
  readonly scratchDir: string;
  /** By input name: an upstream node's folder, or a dataset file's path; lists stay lists. */
  readonly inputs: Readonly<Record<string, string | readonly string[]>>;
  /** One log line with structured annotations; the runtime adds the node key. */
  readonly log: (message: string, annotations?: Record<string, unknown>) => void;
  /** Progress from 0 to 1, drawn as a progress bar; not logged. */
  readonly progress: (fraction: number, message?: string) => void;
  /** Aborted on Ctrl-C or when the run is cancelled; stop promptly. */
  readonly signal: AbortSignal;
  /** The device the runtime leased; the worker process already has `CUDA_VISIBLE_DEVICES` set. */
  readonly device: { readonly cudaVisibleDevices?: string };
}

/** One kind of stage: a unit of caching with params, inputs, outputs and a version. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry holds kinds of every param type
export interface StageKind<P = any> {
  /** Unique name, e.g. `preprocess`; part of every key. */
  readonly name: string;
  /** Bumped by hand when the meaning of the outputs changes; part of every key. */
  readonly version: string;
  /** Decodes raw params (unknown) into P, filling defaults; excess keys are rejected. */
  readonly params: AnyDecoder<P>;
  /** Declared input names; a node must give exactly these. */
  readonly inputs: readonly string[];
  /** Files or folders (relative to outDir) that a successful run must leave. */
  readonly outputs: readonly string[];
  /** True: run in a child worker process (training, prediction). */
  readonly worker: boolean;
  /** Returns the resources a node of this kind reserves while it runs, computed from its params. */
  resources(params: P): Resources;
  /** Does the work; returns the summary recorded in the manifest (`metrics` go to the index). */
  run(ctx: StageContext<P>): Promise<Record<string, unknown>>;
}

/** Bad params for a stage: names the stage, each offending key and what was found. */
export class StageParamsError extends Error {
  override readonly name = "StageParamsError";
}

/**
 * Checks a stage kind's declaration and returns it unchanged, typed by its params.
 * Throws when the name or version is empty or an input or output is declared twice.
 */
export function defineStage<P>(kind: StageKind<P>): StageKind<P> {
  if (!/^[a-z][a-z0-9-]*$/.test(kind.name)) {
    throw new Error(`stage name "${kind.name}" is invalid: use lowercase letters, digits and dashes, starting with a letter`);
  }
  if (kind.version.trim() === "") throw new Error(`stage ${kind.name} has an empty version: give it a version such as "1"`);
  for (const [what, names] of [["input", kind.inputs], ["output", kind.outputs]] as const) {
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) throw new Error(`stage ${kind.name} declares the ${what} "${name}" twice`);
      seen.add(name);
    }
  }
  return kind;
}

/**
 * Decodes raw params with the kind's schema, filling defaults.
 * Throws a `StageParamsError` listing every problem, e.g.
 * `stage train: params.lr: expected number, got "fast"`.
 */
export function resolveParams<P>(kind: StageKind<P>, raw: unknown): P {
  const decoded = decodeAll(kind.params, raw === undefined ? {} : raw);
  if (decoded.ok) return decoded.value;
  const lines = decoded.problems.map((problem) => `stage ${kind.name}: params${problem.path.length > 0 ? `.${formatPath(problem.path)}` : ""}: ${problem.message}`);
  throw new StageParamsError(lines.join("\n"));
}
