/**
 * One optimisation step on a batch of patches: the FANCL loss, its gradients and the SGD update.
 *
 * Total loss = L(Ŷ, G) [+ L(Ŷ, C_j) in curriculum stage j] [+ λ·L_FGA when FGA is on], where L is
 * nnU-Net's Dice + cross-entropy with deep supervision when the network has it.
 */
import * as tf from "@tensorflow/tfjs";

import { deepSupervisionLoss, nearestIndices, type BatchShare } from "../nn/losses.js";
import type { SegmentationNetwork } from "../nn/network.js";
import { curriculumTarget, type HardVoxels } from "./curriculum.js";
import type { SgdOptimizer } from "./optimizer.js";
import type { PatchBatch } from "./types.js";

export interface LossSettings {
  readonly hardVoxels: HardVoxels;
  readonly batchDice: boolean;
  /** Gradients are scaled down to this global L2 norm when larger (nnU-Net: 12); null: no clipping. */
  readonly gradientClipNorm: number | null;
}

/** Where a step falls in training: 0-based epoch and iteration within it. */
export interface StepPosition {
  readonly epoch: number;
  readonly iteration: number;
}

/** A loss that is NaN or infinite; names where training stopped. */
export class NonFiniteLossError extends Error {
  override readonly name = "NonFiniteLossError";

  constructor(
    /** 0-based epoch. */
    readonly epoch: number,
    /** 0-based iteration within the epoch. */
    readonly iteration: number,
    readonly loss: number,
  ) {
    super(
      `training loss is ${loss} at epoch ${epoch} iteration ${iteration} (both 0-based); ` +
        "lower the learning rate, or check the training images for NaN or infinite values",
    );
  }
}

/** The batch as tensors: image [B, pd, ph, pw, M], labels and curriculum [B, pd, ph, pw]. */
interface BatchTensors {
  readonly image: tf.Tensor5D;
  readonly label: tf.Tensor4D;
  readonly curriculum?: { readonly label: tf.Tensor4D; readonly ignore?: tf.Tensor4D };
}

function toTensors(batch: PatchBatch, hardVoxels: HardVoxels): BatchTensors {
  const [pd, ph, pw] = batch.patchSize;
  const labelShape: [number, number, number, number] = [batch.batchSize, pd, ph, pw];
  const image = tf.tensor5d(batch.image, [batch.batchSize, pd, ph, pw, batch.channels]);
  const label = tf.tensor4d(Int32Array.from(batch.label), labelShape, "int32");
  if (batch.curriculum === undefined) return { image, label };

  const target = curriculumTarget(batch.label, batch.curriculum, hardVoxels);
  return {
    image,
    label,
    curriculum: {
      label: tf.tensor4d(Int32Array.from(target.labels), labelShape, "int32"),
      ignore: target.ignore === undefined ? undefined : tf.tensor4d(Float32Array.from(target.ignore), labelShape),
    },
  };
}

/**
 * The whole batch's counts for the loss of a shard of it: which totals each term divides by.
 * `curriculum` is set in curriculum stages.
 */
export interface StepShare {
  /** For L(Ŷ, G): no voxel is ignored. */
  readonly groundTruth: BatchShare;
  /** For L(Ŷ, C_j), whose hard voxels may be ignored. */
  readonly curriculum?: BatchShare;
  /** Samples in the whole batch, for the FGA term's mean. */
  readonly samples: number;
}

function batchLoss(net: SegmentationNetwork, tensors: BatchTensors, settings: LossSettings, share?: StepShare): tf.Scalar {
  const result = net.forward(tensors.image, true);
  const { batchDice } = settings;
  let loss = deepSupervisionLoss(result, tensors.label, { batchDice, shareOf: share?.groundTruth });

  if (tensors.curriculum !== undefined) {
    const { label, ignore } = tensors.curriculum;
    loss = tf.add(loss, deepSupervisionLoss(result, label, { batchDice, ignore, shareOf: share?.curriculum }));
  }
  if (net.config.fga.enabled && net.config.fga.lambda > 0) {
    // The FGA loss is a mean over samples of equal-sized terms: a shard's part is its mean
    // weighted by its share of the samples.
    const weight = share === undefined ? 1 : tensors.image.shape[0] / share.samples;
    loss = tf.add(loss, tf.mul(net.fgaLoss(tensors.image, result, tensors.label), net.config.fga.lambda * weight));
  }
  return loss;
}

/**
 * Returns the grids "DxHxW" of a network's outputs, full resolution first: the patch halved once
 * per stage below the first (the trainer requires patches divisible by 2^(stages − 1)).
 */
export function outputGrids(patchSize: readonly [number, number, number], stages: number): string[] {
  return Array.from({ length: stages }, (_, i) => patchSize.map((s) => Math.ceil(s / 2 ** i)).join("x"));
}

/**
 * Counts kept voxels (ignore 0) of a [B, D, H, W] mask at each grid, after resizing the mask
 * nearest-exact as the loss does. Without a mask every voxel counts.
 */
function keptVoxelsByGrid(
  ignore: Uint8Array | undefined,
  batchSize: number,
  patchSize: readonly [number, number, number],
  grids: readonly string[],
): Record<string, number> {
  const [pd, ph, pw] = patchSize;
  const counts: Record<string, number> = {};
  for (const grid of grids) {
    const [d, h, w] = grid.split("x").map(Number) as [number, number, number];
    if (ignore === undefined) {
      counts[grid] = batchSize * d * h * w;
      continue;
    }
    const zs = nearestIndices(pd, d);
    const ys = nearestIndices(ph, h);
    const xs = nearestIndices(pw, w);
    let kept = 0;
    for (let b = 0; b < batchSize; b++) {
      for (const z of zs) {
        for (const y of ys) {
          const row = ((b * pd + z) * ph + y) * pw;
          for (const x of xs) kept += ignore[row + x] === 1 ? 0 : 1;
        }
      }
    }
    counts[grid] = kept;
  }
  return counts;
}

/** Computes the whole batch's counts that each shard's loss divides by (see `StepShare`). */
export function stepShare(batch: PatchBatch, hardVoxels: HardVoxels, stages: number): StepShare {
  const grids = outputGrids(batch.patchSize, stages);
  const samples = batch.batchSize;
  const groundTruth = { samples, keptVoxels: keptVoxelsByGrid(undefined, samples, batch.patchSize, grids) };
  if (batch.curriculum === undefined) return { groundTruth, samples };
  const target = curriculumTarget(batch.label, batch.curriculum, hardVoxels);
  const curriculum = { samples, keptVoxels: keptVoxelsByGrid(target.ignore, samples, batch.patchSize, grids) };
  return { groundTruth, curriculum, samples };
}

/** Samples [start, start + count) of `batch`, as a batch of their own. */
export function sliceBatch(batch: PatchBatch, start: number, count: number): PatchBatch {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > batch.batchSize) {
    throw new Error(`sliceBatch: samples [${start}, ${start + count}) are not within a batch of ${batch.batchSize}`);
  }
  const [pd, ph, pw] = batch.patchSize;
  const voxels = pd * ph * pw;
  const labels = (array: Uint8Array): Uint8Array => array.slice(start * voxels, (start + count) * voxels);
  return {
    image: batch.image.slice(start * voxels * batch.channels, (start + count) * voxels * batch.channels),
    label: labels(batch.label),
    curriculum: batch.curriculum === undefined ? undefined : labels(batch.curriculum),
    batchSize: count,
    patchSize: batch.patchSize,
    channels: batch.channels,
  };
}

/** The loss of one shard and its gradients, in the order of `net.variables` (undefined: not reached). */
export interface ShardGradients {
  readonly loss: number;
  readonly gradients: (tf.Tensor | undefined)[];
}

/**
 * Forward and backward pass on `batch`. With `share`, `batch` is one shard of a larger batch and
 * the loss and gradients are its parts of the whole batch's, so the parts of all shards add up to
 * them. The caller disposes the gradients.
 */
export function shardGradients(
  net: SegmentationNetwork,
  batch: PatchBatch,
  settings: LossSettings,
  share?: StepShare,
): ShardGradients {
  const tensors = toTensors(batch, settings.hardVoxels);
  try {
    const { value, grads } = tf.variableGrads(() => batchLoss(net, tensors, settings, share), [...net.variables]);
    const loss = value.dataSync()[0]!;
    value.dispose();
    return { loss, gradients: net.variables.map((v) => grads[v.name]) };
  } finally {
    tf.dispose([tensors.image, tensors.label, tensors.curriculum?.label, tensors.curriculum?.ignore].filter((t) => t !== undefined));
  }
}

/**
 * Scales `gradients` by min(1, maxNorm / ‖g‖₂), with ‖g‖₂ the L2 norm of all of them together, as
 * torch.nn.utils.clip_grad_norm_ does. Missing gradients stay missing. The caller disposes the result.
 */
export function clipByGlobalNorm(
  gradients: readonly (tf.Tensor | undefined)[],
  maxNorm: number,
): (tf.Tensor | undefined)[] {
  const present = gradients.filter((g): g is tf.Tensor => g !== undefined);
  if (present.length === 0) return [...gradients];
  const norm = tf.tidy(() => Math.sqrt(tf.addN(present.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!));
  const scale = norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  return gradients.map((g) => {
    if (g === undefined) return undefined;
    return scale === 1 ? tf.clone(g) : tf.mul(g, scale);
  });
}

/**
 * Checks the loss, clips the gradients and updates the weights. Throws NonFiniteLossError before
 * any weight changes when the loss is NaN or infinite. Does not dispose `gradients`.
 */
export function applyGradients(
  optimizer: SgdOptimizer,
  loss: number,
  gradients: readonly (tf.Tensor | undefined)[],
  lr: number,
  settings: LossSettings,
  where: StepPosition,
): void {
  if (!Number.isFinite(loss)) throw new NonFiniteLossError(where.epoch, where.iteration, loss);
  const clipped = settings.gradientClipNorm === null ? [] : clipByGlobalNorm(gradients, settings.gradientClipNorm);
  try {
    optimizer.step(settings.gradientClipNorm === null ? gradients : clipped, lr);
  } finally {
    tf.dispose(clipped.filter((g) => g !== undefined));
  }
}

/**
 * Runs one step on the whole batch in this thread and returns the loss before the update. A
 * non-finite loss throws NonFiniteLossError before any weight changes.
 */
export function trainStep(
  net: SegmentationNetwork,
  optimizer: SgdOptimizer,
  batch: PatchBatch,
  lr: number,
  settings: LossSettings,
  where: StepPosition,
): number {
  const { loss, gradients } = shardGradients(net, batch, settings);
  try {
    applyGradients(optimizer, loss, gradients, lr, settings, where);
  } finally {
    tf.dispose(gradients.filter((g) => g !== undefined));
  }
  return loss;
}
