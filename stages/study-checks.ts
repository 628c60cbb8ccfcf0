/**
 * Checks of an experiment that the schema cannot state, made when the graph is built: settings
 * that only fail together (network depth and patch size, the report's baseline and the variants,
 * the FGA head and the WASM heap). Without them `plan` accepts what `run` rejects hours later.
 */
import type { ExperimentPoint, LoadedExperiment } from "../dag/app.js";
import { ExperimentError, displayPath } from "../dag/experiment/yaml.js";
import type { StudyConfig } from "./experiment.js";
import { nativeBackendInstalled, nativeBackendPackages, plannedBackend } from "./gpu-request.js";

/**
 * Largest heap the WASM backend can grow to: the 32-bit address space less one 64 KiB page
 * (`getHeapMax()` in @tensorflow/tfjs-backend-wasm 4.22).
 */
export const WASM_HEAP_BYTES = 4_294_901_760;

/**
 * Share of the heap the FGA head may take; the U-Net's activations, the weights and the batch
 * need the rest.
 */
const FGA_HEAP_SHARE = 0.5;

/**
 * Float32 values alive per sample at the peak of one training step (forward and backward), an
 * estimate. About 20 tensors have the attention's size K·N_p²: A, Â and the ops between them, the
 * golden A*, the loss's difference, and their gradients. About 512 values per voxel belong to
 * φ1's 64-channel hidden layer and its gradients.
 * NOTE: both numbers are fitted to two `tf.profile` peaks (quickstart network, K = 4, p = 4,
 * batch 2, 32³ and 40³ patches) on TF.js 4.22's CPU backend, not measured on WASM.
 */
const ATTENTION_COPIES = 20;
const PHI1_VALUES_PER_VOXEL = 512;

export interface FgaMemory {
  /** N_p: patches of p³ voxels in one training patch (each axis rounded up, as the head pads). */
  readonly patches: number;
  readonly bytes: number;
}

/** Estimates the FGA head's peak memory in one training step, for a patch of shape [D, H, W]. */
export function fgaTrainingMemory(options: {
  readonly patchSize: readonly [number, number, number];
  readonly fgaPatchSize: number;
  readonly batchSize: number;
  readonly numClasses: number;
}): FgaMemory {
  const { patchSize, fgaPatchSize: p, batchSize, numClasses } = options;
  const patches = patchSize.reduce((product, axis) => product * Math.ceil(axis / p), 1);
  const voxels = patchSize[0] * patchSize[1] * patchSize[2];
  const floats = batchSize * (ATTENTION_COPIES * numClasses * patches * patches + PHI1_VALUES_PER_VOXEL * voxels);
  return { patches, bytes: floats * 4 };
}

/** The part of the WASM heap the FGA head may use. */
export const fgaMemoryBudget = Math.floor(WASM_HEAP_BYTES * FGA_HEAP_SHARE);

/** Returns why an FGA training cannot fit the WASM or CPU backend, or undefined when it fits. */
export function fgaMemoryProblem(config: {
  readonly patchSize: readonly [number, number, number];
  readonly fgaPatchSize: number;
  readonly batchSize: number;
  readonly numClasses: number;
  readonly backend: string;
}): string | undefined {
  const memory = fgaTrainingMemory(config);
  if (memory.bytes <= fgaMemoryBudget) return undefined;
  const [d, h, w] = config.patchSize;
  const p = config.fgaPatchSize;
  return (
    `training.patch_size [${d}, ${h}, ${w}] with fga.patch_size ${p} gives N_p = ${memory.patches} FGA patches, ` +
    `so the FGA head needs about ${gib(memory.bytes)} GiB per training step (${config.numClasses}·N_p² attention ` +
    `values and their gradients for each of ${config.batchSize} samples), more than the ${gib(fgaMemoryBudget)} GiB ` +
    `it can have on the ${config.backend} backend (whose heap is at most ${gib(WASM_HEAP_BYTES)} GiB); ` +
    `lower training.patch_size or training.batch_size, raise fga.patch_size (N_p falls with its cube), ` +
    `or train on a GPU with compute.backend: tensorflow-gpu`
  );
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1);
}

/** Backends whose memory is the WASM heap or the process's own; the native ones manage their own. */
export function isHeapBackend(backend: string): boolean {
  return backend === "wasm" || backend === "cpu";
}

/**
 * Checks every point of the experiment and throws one `ExperimentError` listing every problem,
 * each naming the file, the point when there are several, the keys and the fix. `preference` is
 * the backend preference in effect (FANCL_BACKEND or compute.backend).
 */
export function checkStudy(experiment: LoadedExperiment<StudyConfig>, preference: string): void {
  const file = displayPath(experiment.file);
  const problems: string[] = [];
  const several = experiment.points.length > 1;

  const setting = preference === experiment.base.compute.backend ? "compute.backend" : "FANCL_BACKEND";
  const missing = missingBackendProblem(preference, setting);
  if (missing !== undefined) problems.push(`${file}: ${missing}`);
  const backend = heapBackendLabel(preference, setting);

  // A problem most points share (a --set, a base setting) is listed once, with the points it affects.
  const pointsWith = new Map<string, string[]>();
  for (const point of experiment.points) {
    for (const problem of pointProblems(point, backend)) {
      pointsWith.set(problem, [...(pointsWith.get(problem) ?? []), point.name]);
    }
  }
  for (const [problem, names] of pointsWith) {
    const where = !several || names.length === experiment.points.length
      ? file
      : `${file}: ${names.length === 1 ? "variant" : "variants"} ${names.join(", ")}`;
    problems.push(`${where}: ${problem}`);
  }

  const baseline = reportBaseline(experiment);
  if (baseline.problem !== undefined) problems.push(`${file}: ${baseline.problem}`);

  if (problems.length > 0) throw new ExperimentError(problems);
}

/**
 * Returns the point the report compares the others with: report.baseline when set, else the
 * single point of a file without variants, else the point named "baseline". `problem` explains
 * why none fits and names the likely choices.
 */
export function reportBaseline(experiment: LoadedExperiment<StudyConfig>): { name: string; problem?: string } {
  const names = experiment.points.map((point) => point.name);
  const set = experiment.base.report.baseline;
  if (set === null && names.length === 1) return { name: names[0]! };

  const name = set ?? "baseline";
  if (names.includes(name)) return { name };
  if (set !== null) {
    const known = names.length > 1
      ? `the variants are ${names.join(", ")}`
      : `a file without variants has the single point "${names[0]}"`;
    return {
      name,
      problem:
        `report.baseline: "${set}" is not a variant of this experiment (${known}); ` +
        "set report.baseline to the variant the others are compared with",
    };
  }

  // With a matrix the points are named "variant,key=value", so the baseline's points start with "baseline,".
  const likely = names.filter((point) => point.startsWith("baseline,"));
  const choices = likely.length > 0 ? `the likely choices are ${likely.join(", ")}` : `the points are ${names.join(", ")}`;
  return {
    name,
    problem:
      `report.baseline is not set and no point is named "baseline" (${choices}); ` +
      "set report.baseline to the point the others are compared with",
  };
}

/**
 * Returns why a native backend named outright cannot run here (its package or addon is missing),
 * or undefined. "auto" is never rejected here because it moves down to WASM.
 */
function missingBackendProblem(preference: string, setting: string): string | undefined {
  if (preference !== "tensorflow-gpu" && preference !== "tensorflow") return undefined;
  const packageName = nativeBackendPackages[preference];
  if (nativeBackendInstalled(packageName)) return undefined;
  return (
    `${setting}: ${preference} needs the package ${packageName} with its native addon ` +
    `(lib/napi-v*/tfjs_binding.node), which is not installed; install it with \`npm install ${packageName}\`, ` +
    "or set compute.backend to auto (the best backend installed) or wasm"
  );
}

/** The heap backend the FGA check applies to, as the messages name it, or undefined for a native one. */
interface HeapBackend {
  /** The backend's own name, as `fgaMemoryProblem` states it. */
  readonly name: string;
  /** The setting as a message names it, e.g. `compute.backend auto (which picks wasm here, ...)`. */
  readonly label: string;
}

function heapBackendLabel(preference: string, setting: string): HeapBackend | undefined {
  const name = plannedBackend(preference);
  if (!isHeapBackend(name)) return undefined;
  const label = preference === name
    ? `${setting} ${name}`
    : `${setting} ${preference} (which picks ${name} here: neither ${nativeBackendPackages["tensorflow-gpu"]} ` +
      `nor ${nativeBackendPackages.tensorflow} is installed with its native addon)`;
  return { name, label };
}

function pointProblems(point: ExperimentPoint<StudyConfig>, backend: HeapBackend | undefined): string[] {
  const config = point.config;
  const patch = config.training.patch_size;
  const problems: string[] = [];

  if (config.dataset.root === null && config.dataset.synthetic === null) {
    problems.push(
      "dataset.root is not set and dataset.synthetic is null, so the experiment has no cases; " +
        "pass --set dataset.root=PATH (a folder of BraTS case folders) or give dataset.synthetic",
    );
  }

  const depthProblem = (key: string, depth: number): string | undefined => {
    const factor = 2 ** (depth - 1);
    if (patch.every((axis) => axis % factor === 0)) return undefined;
    const deepest = Math.min(...patch.map(deepestFor));
    const fitted = patch.map((axis) => Math.max(factor, Math.round(axis / factor) * factor));
    return (
      `${key} ${depth} halves the patch ${depth - 1} times, so every axis of training.patch_size must be ` +
      `divisible by 2^${depth - 1} = ${factor}, but it is [${patch.join(", ")}]; ` +
      `use a training.patch_size such as [${fitted.join(", ")}], or at most ${deepest} stages for this patch`
    );
  };
  const stages = depthProblem("network.stages:", config.network.stages);
  if (stages !== undefined) problems.push(stages);

  if (config.curriculum.enabled) {
    const depths = config.mining.depths;
    if (depths.length === 0) {
      problems.push(
        "mining.depths is empty but curriculum.enabled is true; the curriculum is mined by the nets of these " +
          "depths, so give at least one depth (e.g. mining.depths: [2, 3]) or set curriculum.enabled: false",
      );
    }
    for (const depth of depths) {
      const problem = depthProblem(`mining.depths: depth`, depth);
      if (problem !== undefined) problems.push(problem);
    }
    const curriculumEpochs = config.curriculum.stage_epochs.reduce((sum, stage) => sum + stage, 0);
    if (curriculumEpochs > config.training.epochs) {
      problems.push(
        `curriculum.stage_epochs add up to ${curriculumEpochs} but training.epochs is ${config.training.epochs}; the curriculum ` +
          "stages run inside the training, so lower curriculum.stage_epochs or raise training.epochs",
      );
    }
    if (config.curriculum.stage_epochs.length > depths.length) {
      problems.push(
        `curriculum.stage_epochs has ${config.curriculum.stage_epochs.length} entries but mining.depths has ` +
          `only ${depths.length}; curriculum stage j needs the mining nets of the j shallowest depths, so give ` +
          "at most one stage per depth",
      );
    }
  }

  // The trainer's own schedule checks (src/train/schedule.ts), stated with the experiment's keys.
  const { momentum, oversample_foreground: oversample } = config.training;
  if (momentum >= 1) {
    problems.push(`training.momentum: ${momentum} is invalid; SGD momentum must be in [0, 1), e.g. 0.99`);
  }
  if (oversample > 1) {
    problems.push(
      `training.oversample_foreground: ${oversample} is invalid; it is the share of patches centred on ` +
        "foreground, so it must be in [0, 1], e.g. 0.33",
    );
  }

  if (config.fga.enabled && backend !== undefined) {
    const problem = fgaMemoryProblem({
      patchSize: patch,
      fgaPatchSize: config.fga.patch_size,
      batchSize: config.training.batch_size,
      numClasses: 4,
      backend: backend.name,
    });
    if (problem !== undefined) problems.push(`${backend.label}: ${problem}`);
  }
  return problems;
}

/** Most U-Net stages an axis of this length allows: one more than the times it halves evenly. */
function deepestFor(axis: number): number {
  let stages = 1;
  while (axis % 2 ** stages === 0) stages++;
  return stages;
}
