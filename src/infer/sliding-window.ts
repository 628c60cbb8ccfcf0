/**
 * Sliding-window inference over a whole preprocessed volume, after nnU-Net: windows of the
 * training patch size with step 0.5, each window's softmax weighted by a Gaussian importance map
 * (σ = patch/8), optional test-time mirroring (softmax averaged over all 8 combinations of flips
 * of the three spatial axes), then argmax to labels.
 */
import * as tf from "@tensorflow/tfjs";

import { cropInto } from "../train/sampler.js";
import type { Shape3 } from "../train/types.js";
import { gaussianImportanceMap, slidingWindowSteps } from "./gaussian.js";

/** Anything with the network's forward pass; a SegmentationNetwork is one. */
export interface PatchPredictor {
  /** x [1, pd, ph, pw, M] → logits [1, pd, ph, pw, K]. */
  forward(x: tf.Tensor5D, training: boolean): { readonly logits: tf.Tensor5D };
}

export interface PredictOptions {
  /** Window size [D, H, W] in voxels (the training patch size). */
  readonly patchSize: Shape3;
  /** Average the softmax over the 8 mirrored copies of each window. */
  readonly mirror?: boolean;
  /** Window step as a fraction of the patch (default 0.5). */
  readonly stepSize?: number;
  /** Also return the averaged class probabilities. */
  readonly returnProbabilities?: boolean;
  readonly onProgress?: (fraction: number) => void;
}

export interface VolumePrediction {
  /** Argmax labels [D, H, W] (the lowest class wins ties). */
  readonly labels: Uint8Array;
  /** Channels-last [D, H, W, K] softmax probabilities, when asked for. */
  readonly probabilities?: Float32Array;
}

const flipCombinations: number[][] = [
  [],
  [1],
  [2],
  [3],
  [1, 2],
  [1, 3],
  [2, 3],
  [1, 2, 3],
];

/** Softmax [1, pd, ph, pw, K] of one window, averaged over flips when `mirror`. */
function windowProbabilities(net: PatchPredictor, patch: tf.Tensor5D, mirror: boolean): tf.Tensor5D {
  return tf.tidy(() => {
    if (!mirror) return tf.softmax(net.forward(patch, false).logits) as tf.Tensor5D;
    let sum: tf.Tensor5D | null = null;
    for (const axes of flipCombinations) {
      const input = axes.length === 0 ? patch : tf.reverse(patch, axes);
      const probs = tf.softmax(net.forward(input, false).logits) as tf.Tensor5D;
      const back = axes.length === 0 ? probs : tf.reverse(probs, axes);
      sum = sum === null ? back : tf.add(sum, back);
    }
    return tf.div(sum!, flipCombinations.length);
  });
}

/**
 * Predicts labels for `image`, channels-last [D, H, W, M] float32 of `shape` [D, H, W]. An image
 * smaller than the patch along an axis is centred in a zero-padded window. An empty image (a zero
 * extent) is rejected.
 */
export async function predictVolume(
  net: PatchPredictor,
  image: Float32Array,
  shape: Shape3,
  options: PredictOptions,
): Promise<VolumePrediction> {
  const { patchSize, mirror = false, stepSize = 0.5, returnProbabilities = false, onProgress } = options;
  const voxels = shape[0] * shape[1] * shape[2];
  if (voxels === 0 || image.length % voxels !== 0) {
    throw new Error(
      `predictVolume: image has ${image.length} values for shape [${shape.join(", ")}]; ` +
        "it must be channels-last [D, H, W, M] with D·H·W > 0",
    );
  }
  const channels = image.length / voxels;

  // Pad every axis shorter than the patch, keeping the image centred.
  const padded = shape.map((s, a) => Math.max(s, patchSize[a]!)) as [number, number, number];
  const before = shape.map((s, a) => Math.floor((padded[a]! - s) / 2)) as [number, number, number];
  const paddedVoxels = padded[0] * padded[1] * padded[2];
  const paddedImage = new Float32Array(paddedVoxels * channels);
  cropInto(image, shape, channels, [-before[0], -before[1], -before[2]], padded, paddedImage, 0);

  const gaussian = gaussianImportanceMap(patchSize);
  const starts = padded.map((s, a) => slidingWindowSteps(s, patchSize[a]!, stepSize));
  const windows = starts[0]!.length * starts[1]!.length * starts[2]!.length;
  const [pd, ph, pw] = patchSize;
  const patchVoxels = pd * ph * pw;
  const patch = new Float32Array(patchVoxels * channels);

  let classes = 0;
  let sums = new Float32Array(0);
  const weights = new Float32Array(paddedVoxels);
  let done = 0;

  for (const z0 of starts[0]!) {
    for (const y0 of starts[1]!) {
      for (const x0 of starts[2]!) {
        cropInto(paddedImage, padded, channels, [z0, y0, x0], patchSize, patch, 0);
        const input = tf.tensor5d(patch, [1, pd, ph, pw, channels]);
        const probsTensor = windowProbabilities(net, input, mirror);
        const probs = (await probsTensor.data()) as Float32Array;
        input.dispose();
        probsTensor.dispose();

        if (classes === 0) {
          classes = probs.length / patchVoxels;
          sums = new Float32Array(paddedVoxels * classes);
        }

        // Accumulate the Gaussian-weighted probabilities and the weights.
        for (let z = 0; z < pd; z++) {
          for (let y = 0; y < ph; y++) {
            const row = (z * ph + y) * pw;
            const target = ((z0 + z) * padded[1] + y0 + y) * padded[2] + x0;
            for (let x = 0; x < pw; x++) {
              const g = gaussian[row + x]!;
              const t = target + x;
              weights[t]! += g;
              for (let k = 0; k < classes; k++) sums[t * classes + k]! += g * probs[(row + x) * classes + k]!;
            }
          }
        }
        done++;
        onProgress?.(done / windows);
      }
    }
  }

  // Normalise, crop the padding away and take the argmax.
  const labels = new Uint8Array(voxels);
  const probabilities = returnProbabilities ? new Float32Array(voxels * classes) : undefined;
  let v = 0;
  for (let z = 0; z < shape[0]; z++) {
    for (let y = 0; y < shape[1]; y++) {
      for (let x = 0; x < shape[2]; x++, v++) {
        const t = ((z + before[0]) * padded[1] + y + before[1]) * padded[2] + x + before[2];
        let best = 0;
        let bestValue = -Infinity;
        for (let k = 0; k < classes; k++) {
          const p = sums[t * classes + k]! / weights[t]!;
          if (probabilities !== undefined) probabilities[v * classes + k] = p;
          if (p > bestValue) {
            bestValue = p;
            best = k;
          }
        }
        labels[v] = best;
      }
    }
  }
  return probabilities === undefined ? { labels } : { labels, probabilities };
}
