/**
 * Validation during training: whole-tumour Dice of the network on a fixed set of patches of the
 * validation cases, each centred on a foreground voxel. The patches are drawn from their own
 * generator, seeded the same way every epoch, so the curve compares like with like and the
 * training's generator is untouched.
 */
import * as tf from "@tensorflow/tfjs";

import type { SegmentationNetwork } from "../nn/network.js";
import { Random } from "./random.js";
import { cropInto, patchStart } from "./sampler.js";
import type { Shape3, TrainingCase } from "./types.js";

/**
 * Dice of the whole tumour (label ≠ 0) between two label maps of equal length: 1 when both are
 * empty, 0 when exactly one is.
 */
export function wholeTumourDice(prediction: Uint8Array, truth: Uint8Array): number {
  let both = 0;
  let predicted = 0;
  let actual = 0;
  for (let v = 0; v < truth.length; v++) {
    const p = prediction[v] !== 0;
    const t = truth[v] !== 0;
    if (p) predicted++;
    if (t) actual++;
    if (p && t) both++;
  }
  return predicted + actual === 0 ? 1 : (2 * both) / (predicted + actual);
}

/** Argmax labels [N·pd·ph·pw] of the network on images [N, pd, ph, pw, M]. */
async function predictPatch(net: SegmentationNetwork, image: tf.Tensor5D): Promise<Uint8Array> {
  const labels = tf.tidy(() => tf.argMax(net.forward(image, false).logits, -1));
  const data = await labels.data();
  labels.dispose();
  return Uint8Array.from(data);
}

/**
 * Mean WT Dice over `patchesPerCase` foreground-centred patches of each validation case; null
 * when there are no validation cases.
 */
export async function validationDice(
  net: SegmentationNetwork,
  cases: readonly TrainingCase[],
  patchSize: Shape3,
  patchesPerCase: number,
  seed: number,
): Promise<number | null> {
  if (cases.length === 0 || patchesPerCase < 1) return null;
  const rng = new Random(seed ^ 0x5bd1e995);
  const [pd, ph, pw] = patchSize;
  const voxels = pd * ph * pw;
  let total = 0;
  let count = 0;

  for (const c of cases) {
    const channels = c.image.length / (c.shape[0] * c.shape[1] * c.shape[2]);
    for (let i = 0; i < patchesPerCase; i++) {
      const start = patchStart(c.label, c.shape, patchSize, true, rng);
      const image = new Float32Array(voxels * channels);
      const truth = new Uint8Array(voxels);
      cropInto(c.image, c.shape, channels, start, patchSize, image, 0);
      cropInto(c.label, c.shape, 1, start, patchSize, truth, 0);

      const input = tf.tensor5d(image, [1, pd, ph, pw, channels]);
      const prediction = await predictPatch(net, input);
      input.dispose();
      total += wholeTumourDice(prediction, truth);
      count++;
    }
  }
  return total / count;
}
