import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { gaussianImportanceMap, slidingWindowSteps } from "../../src/infer/gaussian.js";
import { predictVolume, type PatchPredictor } from "../../src/infer/sliding-window.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** A predictor that returns the same logits at every voxel. */
function constantPredictor(logits: number[]): PatchPredictor {
  return {
    forward: (x) => {
      const [n, d, h, w] = x.shape;
      return { logits: tf.tile(tf.tensor5d(logits, [1, 1, 1, 1, logits.length]), [n, d, h, w, 1]) as tf.Tensor5D };
    },
  };
}

/** A predictor whose logits are 10 × one-hot(image channel 0), so its labels copy channel 0. */
const copyPredictor: PatchPredictor = {
  forward: (x) => {
    const channel0 = tf.squeeze(tf.slice(x, [0, 0, 0, 0, 0], [-1, -1, -1, -1, 1]), [4]);
    return { logits: tf.mul(tf.oneHot(tf.cast(channel0, "int32"), 4), 10) as tf.Tensor5D };
  },
};

function softmax(values: number[]): number[] {
  const exps = values.map(Math.exp);
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

describe("gaussianImportanceMap", () => {
  // 8³ patch: centre index 4, σ = 1 voxel.
  const map = gaussianImportanceMap([8, 8, 8]);
  const at = (z: number, y: number, x: number) => map[(z * 8 + y) * 8 + x]!;

  it("is 1 at the centre voxel [4, 4, 4]", () => {
    expect(at(4, 4, 4)).toBe(1);
  });

  it("falls to exp(−8) at faces", () => {
    // exp(−4²/2) = exp(−8) at the middle of a face, exp(−24) at the corner.
    expect(at(0, 4, 4)).toBeCloseTo(Math.exp(-8), 10);
    expect(at(4, 4, 0)).toBeCloseTo(Math.exp(-8), 10);
    expect(at(0, 0, 0) / Math.exp(-24)).toBeCloseTo(1, 5);
  });

  it("is exp(−3²/2) three voxels above the centre on the last axis", () => {
    expect(at(4, 4, 7)).toBeCloseTo(Math.exp(-4.5), 7);
  });
});

describe("gaussianImportanceMap against scipy", () => {
  it("matches nnU-Net's construction on a 6×8×10 patch", () => {
    // scipy.ndimage.gaussian_filter of a unit impulse at [3, 4, 5], sigma = patch/8, mode
    // "constant", divided by its maximum (nnU-Net's compute_gaussian), printed by scipy 1.10.
    const map = gaussianImportanceMap([6, 8, 10]);
    const at = (z: number, y: number, x: number) => map[(z * 8 + y) * 10 + x]!;
    const scipy: Array<[number, number, number, number]> = [
      [3, 4, 5, 1.0],
      [0, 0, 0, 3.775134544279098e-11],
      [5, 7, 9, 1.8963955441534247e-6],
      [1, 2, 3, 0.0010748699993466553],
      [0, 4, 5, 0.00033546262790251185],
    ];
    for (const [z, y, x, expected] of scipy) expect(at(z, y, x) / expected).toBeCloseTo(1, 5);
  });
});

describe("slidingWindowSteps", () => {
  it("spreads ceil((size − patch)/(patch/2)) + 1 windows from 0 to size − patch", () => {
    // 10, 4: ceil(6/2) + 1 = 4 windows, step 2.
    expect(slidingWindowSteps(10, 4)).toEqual([0, 2, 4, 6]);
    // 9, 4: ceil(5/2) + 1 = 4 windows, step 5/3 rounded.
    expect(slidingWindowSteps(9, 4)).toEqual([0, 2, 3, 5]);
    expect(slidingWindowSteps(4, 4)).toEqual([0]);
  });
});

describe("predictVolume", () => {
  it("a constant predictor gives its softmax everywhere and its argmax as the label", async () => {
    const logits = [0.5, -1, 2, 1];
    const expected = softmax(logits);
    const shape = [5, 7, 9] as const;
    const image = new Float32Array(5 * 7 * 9 * 2);
    const { labels, probabilities } = await predictVolume(constantPredictor(logits), image, shape, {
      patchSize: [4, 4, 4],
      returnProbabilities: true,
    });
    expect(labels.every((l) => l === 2)).toBe(true);
    for (let v = 0; v < labels.length; v++) {
      for (let k = 0; k < 4; k++) expect(Math.abs(probabilities![v * 4 + k]! - expected[k]!)).toBeLessThan(1e-6);
    }
  });

  it("works on an image smaller than the patch, with mirroring", async () => {
    const shape = [3, 2, 5] as const;
    const image = new Float32Array(3 * 2 * 5);
    for (let v = 0; v < image.length; v++) image[v] = v % 4;
    const { labels } = await predictVolume(copyPredictor, image, shape, { patchSize: [4, 4, 8], mirror: true });
    expect(Array.from(labels)).toEqual(Array.from(image));
  });

  it("puts each window's output back where it was cut (overlapping windows, mirroring)", async () => {
    const shape = [6, 9, 11] as const;
    const voxels = 6 * 9 * 11;
    const image = new Float32Array(voxels * 2);
    for (let v = 0; v < voxels; v++) image[v * 2] = (v * 5) % 4;
    const before = tf.memory().numTensors;
    const { labels } = await predictVolume(copyPredictor, image, shape, { patchSize: [4, 4, 4], mirror: true });
    expect(Array.from(labels)).toEqual(Array.from({ length: voxels }, (_, v) => (v * 5) % 4));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("weights overlapping windows by the Gaussian: hand computation on a 4×4×6 image", async () => {
    // Patch 4³ → windows along W start at 0 and 2 (σ = 0.5 voxel, centre index 2). The first
    // window predicts class 1 (logits [0, 3]), the second class 0 (logits [3, 0]). The predictor
    // distinguishes them by channel 0 of its first voxel, which contains the W coordinate.
    const predictor: PatchPredictor = {
      forward: (x) => {
        const first = x.dataSync()[0]!;
        const logits = first === 0 ? [0, 3] : [3, 0];
        return constantPredictor(logits).forward(x, false);
      },
    };
    const image = new Float32Array(4 * 4 * 6);
    for (let v = 0; v < image.length; v++) image[v] = v % 6;
    const { probabilities } = await predictVolume(predictor, image, [4, 4, 6], { patchSize: [4, 4, 4], returnProbabilities: true });

    const a = softmax([0, 3])[1]!;
    const b = softmax([3, 0])[1]!;
    // x = 2: index 2 of window 0 (weight 1) and index 0 of window 1 (weight exp(−(0−2)²/(2·0.25)) = exp(−8)).
    const atTwo = (a + Math.exp(-8) * b) / (1 + Math.exp(-8));
    // x = 3: index 3 of window 0 and index 1 of window 1: weights exp(−2) each, so the plain mean.
    const atThree = (a + b) / 2;
    const p = (x: number) => probabilities![((1 * 4 + 2) * 6 + x) * 2 + 1]!;
    expect(p(0)).toBeCloseTo(a, 6);
    expect(p(2)).toBeCloseTo(atTwo, 6);
    expect(p(3)).toBeCloseTo(atThree, 6);
    expect(p(5)).toBeCloseTo(b, 6);
  });

  it("rejects an image whose length does not fit the shape", async () => {
    await expect(predictVolume(copyPredictor, new Float32Array(10), [2, 2, 2], { patchSize: [2, 2, 2] })).rejects.toThrow(
      /10 values for shape \[2, 2, 2\]/,
    );
  });
});
