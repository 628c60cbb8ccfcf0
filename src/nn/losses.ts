/**
 * Segmentation losses in nnU-Net's form: soft Dice (background excluded, smooth 1e-5, optional
 * batch Dice) plus cross-entropy, and deep supervision over the U-Net's outputs with weights
 * 1/2^i (the lowest resolution weighted 0, normalised).
 *
 * Shapes, channels-last: logits [N, D, H, W, K]; labels [N, D, H, W] int32 class ids 0 … K−1;
 * ignore [N, D, H, W] float, 1 where a voxel is left out of both terms. The value is
 * CE − mean soft Dice, nnU-Net's convention, so it lies in [−1, ∞) and a perfect prediction
 * approaches −1.
 */
import * as tf from "@tensorflow/tfjs";

import type { ForwardResult } from "./network.js";

/** nnU-Net's Dice smoothing term. */
export const DICE_SMOOTH = 1e-5;

export interface DiceCeOptions {
  /** 1 where a voxel is ignored by both terms, 0 elsewhere; [N, D, H, W]. */
  readonly ignore?: tf.Tensor4D;
  /** Sum Dice's terms over the batch before dividing (nnU-Net's batch Dice); default false. */
  readonly batchDice?: boolean;
  /** Added to Dice's numerator and denominator; default 1e-5. */
  readonly smooth?: number;
  /**
   * Set when these logits are one shard of a larger batch: the loss is then this shard's part of
   * the whole batch's loss, so that the parts of all shards add up to it (gradients too). Needs
   * batchDice false.
   */
  readonly shareOf?: BatchTotals;
}

/**
 * Counts over a whole batch that a shard's loss divides by. Kept voxels are those with ignore 0
 * (all voxels without an ignore mask), at the grid the loss is computed on.
 */
export interface BatchTotals {
  /** Samples in the whole batch. */
  readonly samples: number;
  /** Kept voxels of the whole batch at this grid. */
  readonly keptVoxels: number;
}

/**
 * Soft Dice + cross-entropy, nnU-Net's DC_and_CE_loss with weights 1 and 1.
 *
 * Dice: p = softmax(logits), y = one-hot(labels), m = 1 − ignore, for each foreground class k
 * (and each sample unless batchDice): dc_k = (2·Σ p·y·m + smooth) / max(Σ y·m + Σ p·m + smooth, 1e-8),
 * averaged over classes (and samples). Cross-entropy: the mean of −log p[label] over voxels with
 * m = 1; 0 when every voxel is ignored. Returns CE − mean dc.
 *
 * With `shareOf`, the sums over voxels and samples are divided by the whole batch's counts
 * (keptVoxels, samples · (K − 1)) in place of this shard's.
 */
export function diceCeLoss(logits: tf.Tensor5D, labels: tf.Tensor4D, options: DiceCeOptions = {}): tf.Scalar {
  checkShapes(logits, labels, options.ignore);
  const smooth = options.smooth ?? DICE_SMOOTH;
  const numClasses = logits.shape[4];

  const share = options.shareOf;
  if (share !== undefined && options.batchDice === true) {
    throw new Error("Dice+CE: batch Dice couples every sample of a batch, so a shard's part of it cannot be computed alone");
  }

  return tf.tidy(() => {
    const oneHot = tf.cast(tf.oneHot(tf.cast(labels, "int32"), numClasses), "float32");
    const keep = options.ignore === undefined ? null : tf.sub(1, options.ignore);
    const keepChannel = keep === null ? null : tf.expandDims(keep, -1);

    const logProbabilities = tf.logSoftmax(logits, -1);
    const voxelCe = tf.neg(tf.sum(tf.mul(oneHot, logProbabilities), -1));
    const keptCe = keep === null ? tf.sum(voxelCe) : tf.sum(tf.mul(voxelCe, keep));
    let kept: number | tf.Tensor;
    if (share !== undefined) kept = share.keptVoxels;
    else if (keep === null) kept = voxelCe.size;
    else kept = tf.sum(keep);
    const ce = tf.div(keptCe, tf.maximum(kept, 1e-8));

    // Dice over foreground classes only (channels 1 … K−1). The class axis is cut after the
    // spatial sums, on [N, K] or [K], because a 5-D slice is a slow path on WASM.
    const foreground = (t: tf.Tensor): tf.Tensor =>
      tf.slice(t, t.shape.map((_, axis) => (axis === t.rank - 1 ? 1 : 0)), t.shape.map((_, axis) => (axis === t.rank - 1 ? numClasses - 1 : -1)));
    const masked = (t: tf.Tensor): tf.Tensor => (keepChannel === null ? t : tf.mul(t, keepChannel));
    const p = masked(tf.exp(logProbabilities));
    const y = masked(oneHot);
    const axes = options.batchDice === true ? [0, 1, 2, 3] : [1, 2, 3];
    const intersect = foreground(tf.sum(tf.mul(p, y), axes));
    const sumPred = foreground(tf.sum(p, axes));
    const sumGt = foreground(tf.sum(y, axes));
    const dice = tf.div(tf.add(tf.mul(intersect, 2), smooth), tf.maximum(tf.add(tf.add(sumGt, sumPred), smooth), 1e-8));

    const meanDice = share === undefined ? tf.mean(dice) : tf.div(tf.sum(dice), share.samples * (numClasses - 1));
    return tf.sub(ce, meanDice) as tf.Scalar;
  });
}

/**
 * nnU-Net's deep supervision weights for `outputs` outputs, highest resolution first:
 * 1/2^i, the last set to 0, normalised to sum 1. One output gets weight 1.
 * Example: 4 outputs → 1, 1/2, 1/4, 0 → 4/7, 2/7, 1/7, 0.
 */
export function deepSupervisionWeights(outputs: number): number[] {
  if (!Number.isInteger(outputs) || outputs < 1) {
    throw new Error(`deep supervision needs at least one output, got ${outputs}`);
  }
  if (outputs === 1) return [1];
  const raw = Array.from({ length: outputs }, (_, i) => (i === outputs - 1 ? 0 : 1 / 2 ** i));
  const total = raw.reduce((sum, w) => sum + w, 0);
  return raw.map((w) => w / total);
}

/** Options of `deepSupervisionLoss`: those of `diceCeLoss`, with a shard's totals given per grid. */
export interface DeepSupervisionOptions extends Omit<DiceCeOptions, "shareOf"> {
  /** Set when these outputs are one shard of a larger batch (see `DiceCeOptions.shareOf`). */
  readonly shareOf?: BatchShare;
}

/** A whole batch's counts for every output grid of a network, for the loss of one of its shards. */
export interface BatchShare {
  /** Samples in the whole batch. */
  readonly samples: number;
  /** Kept voxels of the whole batch, keyed by the grid "DxHxW" of each output. */
  readonly keptVoxels: Readonly<Record<string, number>>;
}

/**
 * Dice + CE on the full-resolution logits and on each deep supervision output, weighted by
 * `deepSupervisionWeights`. Labels (and the ignore mask) are brought to each output's size by
 * nearest neighbour ('nearest-exact': output voxel i takes input voxel floor((i + 0.5)·in/out)).
 * Outputs with weight 0 are not evaluated. Without deep supervision this is `diceCeLoss` on
 * `result.logits`.
 */
export function deepSupervisionLoss(
  result: ForwardResult,
  labels: tf.Tensor4D,
  options: DeepSupervisionOptions = {},
): tf.Scalar {
  const outputs = [result.logits, ...result.deepSupervision];
  const weights = deepSupervisionWeights(outputs.length);
  const { shareOf, ...common } = options;

  return tf.tidy(() => {
    const terms: tf.Scalar[] = [];
    outputs.forEach((output, i) => {
      const weight = weights[i]!;
      if (weight === 0) return;
      const [, d, h, w] = output.shape;
      const scaledLabels = nearestResize(labels, d, h, w);
      const scaledIgnore = options.ignore === undefined ? undefined : nearestResize(options.ignore, d, h, w);
      let share: BatchTotals | undefined;
      if (shareOf !== undefined) {
        const grid = `${d}x${h}x${w}`;
        const keptVoxels = shareOf.keptVoxels[grid];
        if (keptVoxels === undefined) {
          throw new Error(`deep supervision: the batch totals have no count for the output grid ${grid}; give one for each output`);
        }
        share = { samples: shareOf.samples, keptVoxels };
      }
      terms.push(tf.mul(diceCeLoss(output, scaledLabels, { ...common, ignore: scaledIgnore, shareOf: share }), weight));
    });
    return tf.addN(terms) as tf.Scalar;
  });
}

/**
 * Returns, for each output voxel i, the input voxel that nearest-exact resizing from `from` to
 * `to` voxels takes: floor((i + 0.5)·from/to), at most from − 1.
 */
export function nearestIndices(from: number, to: number): number[] {
  return Array.from({ length: to }, (_, i) => Math.min(from - 1, Math.floor(((i + 0.5) * from) / to)));
}

/** Nearest-neighbour ('nearest-exact') resize of [N, D, H, W] to [N, d, h, w]; identity when equal. */
export function nearestResize(volume: tf.Tensor4D, depth: number, height: number, width: number): tf.Tensor4D {
  const target = [depth, height, width];
  return tf.tidy(() => {
    let out: tf.Tensor = volume;
    target.forEach((size, axis) => {
      const from = volume.shape[axis + 1]!;
      if (from === size) return;
      out = tf.gather(out, tf.tensor1d(nearestIndices(from, size), "int32"), axis + 1);
    });
    return out as tf.Tensor4D;
  });
}

function checkShapes(logits: tf.Tensor5D, labels: tf.Tensor4D, ignore: tf.Tensor4D | undefined): void {
  if (logits.rank !== 5) {
    throw new Error(`Dice+CE: logits must be [N, D, H, W, K], got shape ${logits.shape.join("x")}`);
  }
  const grid = logits.shape.slice(0, 4).join("x");
  if (labels.shape.join("x") !== grid) {
    throw new Error(`Dice+CE: labels are ${labels.shape.join("x")} but the logits' grid is ${grid} (N x D x H x W)`);
  }
  if (ignore !== undefined && ignore.shape.join("x") !== grid) {
    throw new Error(`Dice+CE: the ignore mask is ${ignore.shape.join("x")} but the logits' grid is ${grid} (N x D x H x W)`);
  }
  if (logits.shape[4] < 2) {
    throw new Error(`Dice+CE: logits have ${logits.shape[4]} classes; background plus at least one class are needed`);
  }
}
