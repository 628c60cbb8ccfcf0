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
}

/**
 * Soft Dice + cross-entropy, nnU-Net's DC_and_CE_loss with weights 1 and 1.
 *
 * Dice: p = softmax(logits), y = one-hot(labels), m = 1 − ignore, for each foreground class k
 * (and each sample unless batchDice): dc_k = (2·Σ p·y·m + smooth) / max(Σ y·m + Σ p·m + smooth, 1e-8),
 * averaged over classes (and samples). Cross-entropy: the mean of −log p[label] over voxels with
 * m = 1; 0 when every voxel is ignored. Returns CE − mean dc.
 */
export function diceCeLoss(logits: tf.Tensor5D, labels: tf.Tensor4D, options: DiceCeOptions = {}): tf.Scalar {
  checkShapes(logits, labels, options.ignore);
  const smooth = options.smooth ?? DICE_SMOOTH;
  const numClasses = logits.shape[4];

  return tf.tidy(() => {
    const oneHot = tf.cast(tf.oneHot(tf.cast(labels, "int32"), numClasses), "float32");
    const keep = options.ignore === undefined ? null : tf.sub(1, options.ignore);
    const keepChannel = keep === null ? null : tf.expandDims(keep, -1);

    const logProbabilities = tf.logSoftmax(logits, -1);
    const voxelCe = tf.neg(tf.sum(tf.mul(oneHot, logProbabilities), -1));
    const ce =
      keep === null ? tf.mean(voxelCe) : tf.div(tf.sum(tf.mul(voxelCe, keep)), tf.maximum(tf.sum(keep), 1e-8));

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

    return tf.sub(ce, tf.mean(dice)) as tf.Scalar;
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

/**
 * Dice + CE on the full-resolution logits and on each deep supervision output, weighted by
 * `deepSupervisionWeights`. Labels (and the ignore mask) are brought to each output's size by
 * nearest neighbour ('nearest-exact': output voxel i takes input voxel floor((i + 0.5)·in/out)).
 * Outputs with weight 0 are not evaluated. Without deep supervision this is `diceCeLoss` on
 * `result.logits`.
 */
export function deepSupervisionLoss(result: ForwardResult, labels: tf.Tensor4D, options: DiceCeOptions = {}): tf.Scalar {
  const outputs = [result.logits, ...result.deepSupervision];
  const weights = deepSupervisionWeights(outputs.length);

  return tf.tidy(() => {
    const terms: tf.Scalar[] = [];
    outputs.forEach((output, i) => {
      const weight = weights[i]!;
      if (weight === 0) return;
      const [, d, h, w] = output.shape;
      const scaledLabels = nearestResize(labels, d, h, w);
      const scaledIgnore = options.ignore === undefined ? undefined : nearestResize(options.ignore, d, h, w);
      terms.push(tf.mul(diceCeLoss(output, scaledLabels, { ...options, ignore: scaledIgnore }), weight));
    });
    return tf.addN(terms) as tf.Scalar;
  });
}

/** Nearest-neighbour ('nearest-exact') resize of [N, D, H, W] to [N, d, h, w]; identity when equal. */
export function nearestResize(volume: tf.Tensor4D, depth: number, height: number, width: number): tf.Tensor4D {
  const target = [depth, height, width];
  return tf.tidy(() => {
    let out: tf.Tensor = volume;
    target.forEach((size, axis) => {
      const from = volume.shape[axis + 1]!;
      if (from === size) return;
      const indices = Array.from({ length: size }, (_, i) => Math.min(from - 1, Math.floor(((i + 0.5) * from) / size)));
      out = tf.gather(out, tf.tensor1d(indices, "int32"), axis + 1);
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
