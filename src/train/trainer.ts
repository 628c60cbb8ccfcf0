/**
 * The training loop: epochs × iterations of sample → augment → step, with the poly learning
 * rate, the curriculum stage of each epoch, a validation Dice and a checkpoint after every epoch.
 * A checkpoint in `checkpointDir` from an interrupted run of the same training is resumed, and the
 * resumed run ends with the same weights as an uninterrupted one (all randomness comes from one
 * seeded generator whose state is checkpointed).
 */
import * as tf from "@tensorflow/tfjs";

import { createNetwork, type NetworkConfig, type SegmentationNetwork } from "../nn/network.js";
import { augmentBatch, defaultAugment } from "./augment.js";
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from "./checkpoint.js";
import { curriculumStage } from "./curriculum.js";
import type { CurveEntry } from "./curve.js";
import { SgdOptimizer } from "./optimizer.js";
import { GradientPool } from "./parallel.js";
import { Random } from "./random.js";
import { sampleBatch } from "./sampler.js";
import { polyLearningRate, validateSchedule, type TrainingSchedule } from "./schedule.js";
import { trainStep, type LossSettings } from "./step.js";
import type { TrainingCase } from "./types.js";
import { validationDice } from "./validation.js";

export type { TrainingCase } from "./types.js";
export type { CurveEntry } from "./curve.js";
export type { TrainingSchedule } from "./schedule.js";
export { NonFiniteLossError } from "./step.js";

export interface TrainOptions {
  readonly cases: readonly TrainingCase[];
  readonly validation: readonly TrainingCase[];
  readonly network: NetworkConfig;
  readonly schedule: TrainingSchedule;
  readonly seed: number;
  /** Called once with the first epoch to run (0-based) when a checkpoint is resumed. */
  readonly onResume?: (epoch: number) => void;
  /** Folder of `checkpoint.bin`, written after every epoch and resumed from. */
  readonly checkpointDir: string;
  readonly onProgress?: (fraction: number, message: string) => void;
  readonly onEpoch?: (entry: CurveEntry) => void;
  /** Stops the training before the next iteration; the last checkpoint stays. */
  readonly signal?: AbortSignal;
  /**
   * CPU threads for each step's forward and backward pass (default 1): the batch is split by
   * sample across worker threads (see parallel.ts). Used on the wasm and cpu backends only; a
   * native TensorFlow backend has threads of its own, and this is ignored there. The result equals
   * one thread's up to float rounding.
   */
  readonly threads?: number;
}

export interface TrainResult {
  readonly network: SegmentationNetwork;
  readonly curve: readonly CurveEntry[];
}

/** JSON with object keys sorted, so that the key order a caller happens to use does not matter. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Identifies a training, so that a checkpoint of another training is never resumed. */
function fingerprintOf(options: TrainOptions): string {
  return canonicalJson({
    network: options.network,
    schedule: options.schedule,
    seed: options.seed,
    cases: options.cases.map((c) => c.id),
  });
}

function checkCases(options: TrainOptions): void {
  if (options.cases.length === 0) throw new Error("trainNetwork: no training cases; give at least one case");
  const divisor = 2 ** (options.network.stages - 1);
  if (options.schedule.patchSize.some((s) => s % divisor !== 0)) {
    const suggestion = options.schedule.patchSize.map((s) => Math.max(divisor, Math.round(s / divisor) * divisor));
    throw new Error(
      `trainNetwork: patchSize [${options.schedule.patchSize.join(", ")}] must be divisible by 2^(stages − 1) = ${divisor} ` +
        `for a ${options.network.stages}-stage network; use e.g. [${suggestion.join(", ")}]`,
    );
  }
  const stages = options.schedule.curriculumEpochs?.filter((e) => e > 0).length ?? 0;
  for (const c of [...options.cases, ...options.validation]) {
    const voxels = c.shape[0] * c.shape[1] * c.shape[2];
    if (c.label.length !== voxels || c.image.length !== voxels * options.network.inChannels) {
      throw new Error(
        `case ${c.id}: shape [${c.shape.join(", ")}] needs ${voxels} labels and ${voxels * options.network.inChannels} ` +
          `image values (${options.network.inChannels} channels, channels-last) but has ${c.label.length} and ${c.image.length}`,
      );
    }
  }
  if (stages > 0) {
    const needed = options.schedule.curriculumEpochs!.length;
    for (const c of options.cases) {
      if ((c.curricula?.length ?? 0) < needed) {
        throw new Error(
          `case ${c.id} has ${c.curricula?.length ?? 0} curriculum masks but curriculumEpochs has ${needed} stages; ` +
            "compute the curricula from the mining nets first, or set curriculumEpochs to []",
        );
      }
    }
  }
}

/** Restores network, optimiser and generator from `checkpoint`. */
function restore(net: SegmentationNetwork, optimizer: SgdOptimizer, checkpoint: Checkpoint, dir: string): void {
  if (checkpoint.variables.length !== net.variables.length) {
    throw new Error(
      `checkpoint in ${dir} has ${checkpoint.variables.length} variables but the network has ${net.variables.length}; ` +
        "delete the checkpoint folder to start afresh",
    );
  }
  net.variables.forEach((v, i) => {
    const values = checkpoint.variables[i]!;
    if (values.length !== v.size) throw new Error(`checkpoint in ${dir}: variable ${v.name} has ${values.length} values, expected ${v.size}`);
    const saved = tf.tensor(values, v.shape);
    v.assign(saved);
    saved.dispose();
  });
  optimizer.setState(checkpoint.velocities);
}

async function snapshot(
  net: SegmentationNetwork,
  optimizer: SgdOptimizer,
  nextEpoch: number,
  rng: Random,
  curve: readonly CurveEntry[],
  fingerprint: string,
): Promise<Checkpoint> {
  const variables = await Promise.all(net.variables.map(async (v) => ((await v.data()) as Float32Array).slice()));
  return { nextEpoch, rngState: rng.getState(), curve, fingerprint, variables, velocities: await optimizer.getState() };
}

/** Runs one epoch of iterations; returns the mean loss. */
async function runEpoch(
  net: SegmentationNetwork,
  optimizer: SgdOptimizer,
  options: TrainOptions,
  epoch: number,
  lr: number,
  stage: number,
  rng: Random,
  pool: GradientPool | undefined,
): Promise<number> {
  const { schedule, signal, onProgress } = options;
  const settings: LossSettings = {
    hardVoxels: schedule.hardVoxels,
    batchDice: schedule.batchDice ?? false,
    gradientClipNorm: schedule.gradientClipNorm === undefined ? 12 : schedule.gradientClipNorm,
  };
  const augment = schedule.augment ?? defaultAugment;
  let sum = 0;

  for (let iteration = 0; iteration < schedule.iterationsPerEpoch; iteration++) {
    signal?.throwIfAborted();
    const batch = sampleBatch(
      options.cases,
      {
        batchSize: schedule.batchSize,
        patchSize: schedule.patchSize,
        oversampleForeground: schedule.oversampleForeground,
        curriculumStage: stage,
      },
      rng,
    );
    augmentBatch(batch, augment, rng);
    const where = { epoch, iteration };
    const loss =
      pool === undefined
        ? trainStep(net, optimizer, batch, lr, settings, where)
        : await pool.step(net, optimizer, batch, lr, settings, where);
    sum += loss;

    const done = epoch * schedule.iterationsPerEpoch + iteration + 1;
    onProgress?.(
      done / (schedule.epochs * schedule.iterationsPerEpoch),
      `epoch ${epoch + 1}/${schedule.epochs} iteration ${iteration + 1}/${schedule.iterationsPerEpoch} loss ${loss.toFixed(4)}`,
    );
    // Let an abort from another task land between iterations.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return sum / schedule.iterationsPerEpoch;
}

/**
 * Trains a network (see the file comment). Rejects with NonFiniteLossError naming the epoch and
 * iteration when the loss stops being finite, and with the signal's reason when aborted.
 */
export async function trainNetwork(options: TrainOptions): Promise<TrainResult> {
  const { schedule, network: config, seed, checkpointDir } = options;
  validateSchedule(schedule);
  checkCases(options);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new Error(`trainNetwork: threads must be a positive integer, got ${options.threads}`);
  }
  const fingerprint = fingerprintOf(options);
  const curriculumEpochs = schedule.curriculumEpochs ?? [];

  const net = createNetwork(config, seed);
  const optimizer = new SgdOptimizer(net.variables, {
    momentum: schedule.momentum,
    nesterov: schedule.nesterov,
    weightDecay: schedule.weightDecay,
  });
  let rng = new Random(seed);
  let curve: CurveEntry[] = [];
  let startEpoch = 0;
  let pool: GradientPool | undefined;

  try {
    const backend = tf.getBackend();
    if ((options.threads ?? 1) > 1 && schedule.batchSize > 1 && (backend === "wasm" || backend === "cpu")) {
      pool = await GradientPool.start(Math.min(options.threads!, schedule.batchSize), { network: config, backend });
    }
    const checkpoint = await loadCheckpoint(checkpointDir);
    if (checkpoint !== undefined) {
      if (checkpoint.fingerprint !== fingerprint) {
        throw new Error(
          `the checkpoint in ${checkpointDir} belongs to a different training (network, schedule, seed or cases differ); ` +
            "delete it or choose another checkpointDir",
        );
      }
      restore(net, optimizer, checkpoint, checkpointDir);
      rng = Random.fromState(checkpoint.rngState);
      curve = [...checkpoint.curve];
      startEpoch = checkpoint.nextEpoch;
      options.onResume?.(startEpoch);
    }

    for (let epoch = startEpoch; epoch < schedule.epochs; epoch++) {
      const lr = polyLearningRate(schedule.lr, epoch, schedule.epochs, schedule.polyExponent);
      const stage = curriculumStage(epoch, curriculumEpochs);
      const loss = await runEpoch(net, optimizer, options, epoch, lr, stage, rng, pool);
      const valDice = await validationDice(
        net,
        options.validation,
        schedule.patchSize,
        schedule.validationPatchesPerCase ?? 2,
        seed,
      );

      const entry: CurveEntry = { epoch, loss, lr, valDice, curriculumStage: stage >= 0 ? stage + 1 : null };
      curve.push(entry);
      await saveCheckpoint(checkpointDir, await snapshot(net, optimizer, epoch + 1, rng, curve, fingerprint));
      options.onEpoch?.(entry);
    }
  } catch (error) {
    optimizer.dispose();
    net.dispose();
    throw error;
  } finally {
    await pool?.close();
  }

  optimizer.dispose();
  return { network: net, curve };
}
