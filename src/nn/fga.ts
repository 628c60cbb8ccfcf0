/**
 * Feature-guided attention (FGA) and golden FGA, FANCL's correction of the U-Net's logits.
 *
 * Terms: image X [N, D, H, W, M] (channels-last, M modalities); first-stage feature map
 * F [N, D, H, W, C]; logits Ŷ [N, D, H, W, K]; patch size p; N_p = number of p×p×p patches
 * (`patchGrid`). Steps, as the method states them:
 *   X' = φ1(X): conv3×3×3 M→64, leaky ReLU 0.01, conv3×3×3 64→1 (bias, zero 'same' padding);
 *   F_k = φ2(F)_k: conv1×1×1 C→K;
 *   P_X, P_{F,k}: [N_p, p³] patch partitions (zero padding at the high end of each axis);
 *   A_k = P_X · P_{F,k}ᵀ / p³ (the FGA, K matrices N_p × N_p per sample);
 *   Â_k = A_k with each row divided by its count of non-zero entries (an all-zero row stays zero);
 *   Z_k = Â_k · P_{Y,k}, P_{Y,k} the patches of softmax(Ŷ)_k; fold Z, crop the padding;
 *   R = φ3(Z): conv1×1×1 K→K; output Ŷ + R.
 * Golden FGA: A*_k = P_X · P_{G,k}ᵀ / p³ with G the one-hot ground truth; L_FGA = mean((A − A*)²).
 *
 * Memory: A is K·N_p² floats per sample. A 64³ patch with p = 4 has N_p = 4096, so A alone is
 * 4·4096² floats = 268 MB per sample (and as much again for A*, Â and their gradients); with
 * p = 8, N_p = 512 and A is 4 MB. Small runs use p = 8.
 *
 * The U-Net's first stage has stride 1, so F has Ŷ's spatial size: the average pooling of
 * softmax(Ŷ) to F's size is the identity and φ3 is the 1×1×1 convolution. Other sizes are rejected with an error.
 */
import * as tf from "@tensorflow/tfjs";

import { applyConv, leakyRelu, makeConv, type Conv, type WeightRegistry } from "./layers.js";
import { fromPatches, toPatches } from "./patches.js";

/** Filters of φ1's hidden layer (the method's choice). */
export const PHI1_FILTERS = 64;

/** The trainable parts of the FGA head. */
export interface FgaHead {
  readonly patchSize: number;
  readonly numClasses: number;
  /** φ1's first convolution: [3, 3, 3, M, 64]. */
  readonly phi1a: Conv;
  /** φ1's second convolution: [3, 3, 3, 64, 1]. */
  readonly phi1b: Conv;
  /** φ2: [1, 1, 1, C, K]. */
  readonly phi2: Conv;
  /** φ3: [1, 1, 1, K, K]. */
  readonly phi3: Conv;
}

/** Creates the head's weights as `<name>.phi1a.kernel`, `<name>.phi1a.bias`, … in `weights`. */
export function makeFgaHead(
  weights: WeightRegistry,
  name: string,
  options: { inChannels: number; featureChannels: number; numClasses: number; patchSize: number },
): FgaHead {
  const { inChannels, featureChannels, numClasses, patchSize } = options;
  if (!Number.isInteger(patchSize) || patchSize < 1) {
    throw new Error(`fga.patchSize must be a positive integer, got ${patchSize}; the method uses 4 or 8`);
  }
  return {
    patchSize,
    numClasses,
    phi1a: makeConv(weights, `${name}.phi1a`, 3, inChannels, PHI1_FILTERS),
    phi1b: makeConv(weights, `${name}.phi1b`, 3, PHI1_FILTERS, 1),
    phi2: makeConv(weights, `${name}.phi2`, 1, featureChannels, numClasses),
    phi3: makeConv(weights, `${name}.phi3`, 1, numClasses, numClasses),
  };
}

/** Everything one FGA forward pass produces; FGA losses and tests read the intermediate tensors. */
export interface FgaForward {
  /** X' = φ1(X): [N, D, H, W, 1]. */
  readonly imageEmbedding: tf.Tensor5D;
  /** P_X: [N, 1, N_p, p³]. */
  readonly imagePatches: tf.Tensor4D;
  /** A: [N, K, N_p, N_p], A[n, k] = A_k of sample n. */
  readonly attention: tf.Tensor4D;
  /** R: [N, D, H, W, K]. */
  readonly correction: tf.Tensor5D;
  /** Ŷ + R: [N, D, H, W, K]. */
  readonly output: tf.Tensor5D;
}

/**
 * Runs one FGA pass: image [N, D, H, W, M], feature [N, D, H, W, C], logits [N, D, H, W, K].
 * All three share one grid of any size, because the patch partition pads what p does not divide.
 */
export function applyFga(head: FgaHead, image: tf.Tensor5D, feature: tf.Tensor5D, logits: tf.Tensor5D): FgaForward {
  const [n, d, h, w] = image.shape;
  const grid = `${n}x${d}x${h}x${w}`;
  for (const [label, tensor] of [
    ["feature map", feature],
    ["logits", logits],
  ] as const) {
    const [tn, td, th, tw] = tensor.shape;
    if (`${tn}x${td}x${th}x${tw}` !== grid) {
      throw new Error(
        `FGA needs the image, the feature map and the logits on one grid; image is ${grid} (N x D x H x W) ` +
          `but the ${label} is ${tn}x${td}x${th}x${tw}; the feature map must come from a stride-1 first stage`,
      );
    }
  }
  if (logits.shape[4] !== head.numClasses) {
    throw new Error(`FGA head has ${head.numClasses} classes but the logits have ${logits.shape[4]} channels`);
  }

  const p = head.patchSize;
  const voxelsPerPatch = p * p * p;

  const imageEmbedding = applyConv(head.phi1b, leakyRelu(applyConv(head.phi1a, image)));
  const imagePatches = toPatches(imageEmbedding, p);
  const featurePatches = toPatches(applyConv(head.phi2, feature), p);
  const attention = correlate(imagePatches, featurePatches, voxelsPerPatch);

  // Â: rows scaled by their count of non-zero entries. |sign(A)| counts them and, unlike notEqual,
  // has a (zero) gradient, which TensorFlow.js needs for every op between the weights and the loss.
  const nonZero = tf.sum(tf.abs(tf.sign(attention)), -1, true);
  const normalised = tf.div(attention, tf.maximum(nonZero, 1));

  const probabilityPatches = toPatches(tf.softmax(logits, -1) as tf.Tensor5D, p);
  const z = tf.matMul(normalised, probabilityPatches) as tf.Tensor4D;
  const correction = applyConv(head.phi3, fromPatches(z, p, d, h, w));
  const output = tf.add(logits, correction) as tf.Tensor5D;

  return { imageEmbedding, imagePatches, attention, correction, output };
}

/**
 * Computes the golden FGA A* [N, K, N_p, N_p] from P_X [N, 1, N_p, p³] and labels [N, D, H, W]
 * int32 with class ids 0 … K−1 (any other value gives an all-zero one-hot row).
 * With `goldenGradient` false, A* is a constant for the gradient, so nothing flows into φ1 through it.
 */
export function goldenAttention(
  imagePatches: tf.Tensor4D,
  labels: tf.Tensor4D,
  numClasses: number,
  patchSize: number,
  goldenGradient: boolean,
): tf.Tensor4D {
  const oneHot = tf.cast(tf.oneHot(tf.cast(labels, "int32"), numClasses), "float32") as tf.Tensor5D;
  const labelPatches = toPatches(oneHot, patchSize);
  if (labelPatches.shape[2] !== imagePatches.shape[2]) {
    throw new Error(
      `labels ${labels.shape.join("x")} give ${labelPatches.shape[2]} patches but the image gives ` +
        `${imagePatches.shape[2]}; labels must share the image's grid`,
    );
  }
  const source = goldenGradient ? imagePatches : stopGradient(imagePatches);
  return correlate(source, labelPatches, patchSize * patchSize * patchSize);
}

/** L_FGA = mean((A − A*)²) over samples, classes and both patch indices (unweighted; λ is the trainer's). */
export function fgaMse(attention: tf.Tensor4D, golden: tf.Tensor4D): tf.Scalar {
  return tf.mean(tf.squaredDifference(attention, golden));
}

/**
 * Computes P_X · P_kᵀ / p³ for every class k: [N, 1, N_p, p³] and [N, K, N_p, p³] -> [N, K, N_p, N_p].
 * P_X is tiled over the K classes because in TensorFlow.js 4.22 the gradient of a broadcasting
 * batched matMul keeps the broadcast shape and backpropagation fails.
 */
function correlate(imagePatches: tf.Tensor4D, classPatches: tf.Tensor4D, voxelsPerPatch: number): tf.Tensor4D {
  const tiled = tf.tile(imagePatches, [1, classPatches.shape[1], 1, 1]);
  return tf.div(tf.matMul(tiled, classPatches, false, true), voxelsPerPatch) as tf.Tensor4D;
}

/** Returns x with a zero gradient, because TensorFlow.js has no stop-gradient op. */
const stopGradient = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor4D) => tf.Tensor4D;
