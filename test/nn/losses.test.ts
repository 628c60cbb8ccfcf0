import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { deepSupervisionLoss, deepSupervisionWeights, diceCeLoss, nearestResize } from "../../src/nn/losses.js";
import type { ForwardResult } from "../../src/nn/network.js";
import { initBackend } from "../../src/tensor/backend.js";

const s = 1e-5;
const ln2 = Math.log(2);
const ln3 = Math.log(3);

beforeAll(async () => {
  await initBackend("cpu", () => {});
});

/**
 * Sample 1, one row of two voxels, K = 3:
 *   voxel a: logits (0, 0, 0)     -> softmax (1/3, 1/3, 1/3), label 1
 *   voxel b: logits (ln2, 0, 0)   -> softmax (1/2, 1/4, 1/4), label 0
 * Sample 2:
 *   voxel c: logits (0, 0, 0)     -> (1/3, 1/3, 1/3), label 2
 *   voxel d: logits (0, ln2, 0)   -> (1/4, 1/2, 1/4), label 1
 */
const sample1Logits = [
  [0, 0, 0],
  [ln2, 0, 0],
];
const sample2Logits = [
  [0, 0, 0],
  [0, ln2, 0],
];

function logits(samples: number[][][]): tf.Tensor5D {
  return tf.tensor5d(samples.flat(2), [samples.length, 1, 1, 2, 3]);
}

function labels(samples: number[][]): tf.Tensor4D {
  return tf.tensor4d(samples.flat(), [samples.length, 1, 1, 2], "int32");
}

function value(t: tf.Scalar): number {
  return t.dataSync()[0]!;
}

describe("diceCeLoss", () => {
  it("matches the hand computation on one sample", () => {
    // CE: (−ln(1/3) − ln(1/2)) / 2. Dice, class 1: I = 1/3, Σp = 1/3 + 1/4 = 7/12, Σy = 1;
    // class 2: I = 0, Σp = 7/12, Σy = 0.
    const ce = (ln3 + ln2) / 2;
    const dice1 = (2 / 3 + s) / (1 + 7 / 12 + s);
    const dice2 = s / (7 / 12 + s);
    const expected = ce - (dice1 + dice2) / 2;

    const loss = value(diceCeLoss(logits([sample1Logits]), labels([[1, 0]])));

    expect(loss).toBeCloseTo(expected, 6);
  });

  it("averages per-sample Dice over samples and classes without batch Dice", () => {
    // Sample 2, class 1: I = 1/2, Σp = 1/3 + 1/2 = 5/6, Σy = 1; class 2: I = 1/3, Σp = 7/12, Σy = 1.
    const ce = (2 * ln3 + 2 * ln2) / 4;
    const dices = [(2 / 3 + s) / (19 / 12 + s), s / (7 / 12 + s), (1 + s) / (11 / 6 + s), (2 / 3 + s) / (19 / 12 + s)];
    const expected = ce - dices.reduce((a, b) => a + b, 0) / 4;

    const loss = value(diceCeLoss(logits([sample1Logits, sample2Logits]), labels([[1, 0], [2, 1]])));

    expect(loss).toBeCloseTo(expected, 6);
  });

  it("sums Dice terms over the batch with batch Dice", () => {
    // Class 1: I = 1/3 + 1/2 = 5/6, Σp = 7/12 + 5/6 = 17/12, Σy = 2.
    // Class 2: I = 0 + 1/3, Σp = 7/12 + 7/12 = 7/6, Σy = 1.
    const ce = (2 * ln3 + 2 * ln2) / 4;
    const dice1 = (5 / 3 + s) / (2 + 17 / 12 + s);
    const dice2 = (2 / 3 + s) / (1 + 7 / 6 + s);
    const expected = ce - (dice1 + dice2) / 2;

    const loss = value(
      diceCeLoss(logits([sample1Logits, sample2Logits]), labels([[1, 0], [2, 1]]), { batchDice: true }),
    );

    expect(loss).toBeCloseTo(expected, 6);
  });

  it("leaves ignored voxels out of both terms", () => {
    // Voxel b ignored: CE = −ln(1/3); class 1: I = 1/3, Σp = 1/3, Σy = 1; class 2: I = 0, Σp = 1/3.
    const expected = ln3 - ((2 / 3 + s) / (4 / 3 + s) + s / (1 / 3 + s)) / 2;
    const ignore = tf.tensor4d([0, 1], [1, 1, 1, 2]);

    const loss = value(diceCeLoss(logits([sample1Logits]), labels([[1, 0]]), { ignore }));

    expect(loss).toBeCloseTo(expected, 6);
  });

  it("does not change when the logits of ignored voxels change", () => {
    const ignore = tf.tensor4d([0, 1], [1, 1, 1, 2]);
    const changed = [
      [0, 0, 0],
      [-7, 12, 3],
    ];

    const before = value(diceCeLoss(logits([sample1Logits]), labels([[1, 0]]), { ignore }));
    const after = value(diceCeLoss(logits([changed]), labels([[1, 0]]), { ignore }));

    expect(after).toBe(before);
  });

  it("gives no gradient to ignored voxels' logits", () => {
    const ignore = tf.tensor4d([0, 1], [1, 1, 1, 2]);
    const x = logits([sample1Logits]);

    const grad = tf.grad((l: tf.Tensor) => diceCeLoss(l as tf.Tensor5D, labels([[1, 0]]), { ignore }))(x);
    const values = Array.from(grad.dataSync());

    expect(values.slice(3)).toEqual([0, 0, 0]);
    expect(values.slice(0, 3).some((v) => v !== 0)).toBe(true);
  });

  it("is CE only (zero Dice) when every voxel is ignored, with CE 0", () => {
    // Σp = Σy = I = 0 for both classes: dc = s / s = 1 each, CE = 0, so the loss is −1.
    const ignore = tf.tensor4d([1, 1], [1, 1, 1, 2]);

    const loss = value(diceCeLoss(logits([sample1Logits]), labels([[1, 0]]), { ignore }));

    expect(loss).toBeCloseTo(-1, 6);
  });

  it("names both shapes when labels do not match the logits", () => {
    expect(() => diceCeLoss(logits([sample1Logits]), tf.zeros([1, 1, 2, 2], "int32") as tf.Tensor4D)).toThrow(
      /labels are 1x1x2x2 but the logits' grid is 1x1x1x2/,
    );
  });
});

describe("deepSupervisionWeights", () => {
  it("gives 4/7, 2/7, 1/7, 0 for four outputs", () => {
    // 1, 1/2, 1/4, 1/8 with the last set to 0: 1, 1/2, 1/4, 0, sum 7/4.
    const weights = deepSupervisionWeights(4);

    [4 / 7, 2 / 7, 1 / 7, 0].forEach((expected, i) => expect(weights[i]).toBeCloseTo(expected, 12));
  });

  it("gives weight 1 to a single output", () => {
    expect(deepSupervisionWeights(1)).toEqual([1]);
  });

  it("gives 1, 0 for two outputs", () => {
    expect(deepSupervisionWeights(2)).toEqual([1, 0]);
  });
});

describe("nearestResize", () => {
  it("takes voxels 1 and 3 of each axis when halving 4 voxels (nearest-exact)", () => {
    // floor((i + 0.5) · 4 / 2) = 1, 3.
    const volume = tf.tensor4d(
      Array.from({ length: 64 }, (_, i) => i),
      [1, 4, 4, 4],
      "int32",
    );

    const halved = Array.from(nearestResize(volume, 2, 2, 2).dataSync());

    const expected = [1, 3].flatMap((d) => [1, 3].flatMap((h) => [1, 3].map((w) => d * 16 + h * 4 + w)));
    expect(halved).toEqual(expected);
  });
});

describe("deepSupervisionLoss", () => {
  it("weights outputs 2/3, 1/3, 0", () => {
    // Three outputs: weights 1, 1/2, 0 -> 2/3, 1/3, 0. The lowest output contains NaN, which would
    // poison the sum if it were evaluated.
    const full = tf.randomNormal([1, 4, 4, 4, 3], 0, 1, "float32", 3) as tf.Tensor5D;
    const half = tf.randomNormal([1, 2, 2, 2, 3], 0, 1, "float32", 4) as tf.Tensor5D;
    const lowest = tf.fill([1, 1, 1, 1, 3], NaN) as tf.Tensor5D;
    const labelValues = Array.from({ length: 64 }, (_, i) => (i * 7) % 3);
    const fullLabels = tf.tensor4d(labelValues, [1, 4, 4, 4], "int32");
    const halfLabels = tf.tensor4d(
      [1, 3].flatMap((d) => [1, 3].flatMap((h) => [1, 3].map((w) => labelValues[d * 16 + h * 4 + w]!))),
      [1, 2, 2, 2],
      "int32",
    );
    const result: ForwardResult = {
      logits: full,
      baseLogits: full,
      deepSupervision: [half, lowest],
      features: full,
      fga: null,
    };

    const loss = value(deepSupervisionLoss(result, fullLabels));

    const expected = (2 / 3) * value(diceCeLoss(full, fullLabels)) + (1 / 3) * value(diceCeLoss(half, halfLabels));
    expect(loss).toBeCloseTo(expected, 5);
  });

  it("ignores masked voxels at every resolution", () => {
    // Voxels with d ≥ 2 are ignored. Nearest-exact halving reads voxels 1 and 3, so at half
    // resolution d = 1 is ignored too; changing logits there must not change the loss.
    const labelValues = Array.from({ length: 64 }, (_, i) => (i * 5) % 3);
    const fullLabels = tf.tensor4d(labelValues, [1, 4, 4, 4], "int32");
    const ignore = tf.tensor4d(
      Array.from({ length: 64 }, (_, i) => (Math.floor(i / 16) >= 2 ? 1 : 0)),
      [1, 4, 4, 4],
    );
    const full = tf.randomNormal([1, 4, 4, 4, 3], 0, 1, "float32", 5) as tf.Tensor5D;
    const half = tf.randomNormal([1, 2, 2, 2, 3], 0, 1, "float32", 6) as tf.Tensor5D;
    const lowest = tf.zeros([1, 1, 1, 1, 3]) as tf.Tensor5D;
    const keepFirstHalf = (t: tf.Tensor5D, noise: number): tf.Tensor5D => {
      const [, d] = t.shape;
      const firstHalf = tf.slice(t, [0, 0, 0, 0, 0], [-1, d / 2, -1, -1, -1]);
      const changed = tf.fill([1, d / 2, t.shape[2], t.shape[3], 3], noise);
      return tf.concat([firstHalf, changed], 1) as tf.Tensor5D;
    };
    const resultWith = (noise: number): ForwardResult => {
      const logits = keepFirstHalf(full, noise);
      return { logits, baseLogits: logits, deepSupervision: [keepFirstHalf(half, noise), lowest], features: logits, fga: null };
    };

    const before = value(deepSupervisionLoss(resultWith(0.5), fullLabels, { ignore }));
    const after = value(deepSupervisionLoss(resultWith(-9), fullLabels, { ignore }));

    expect(after).toBeCloseTo(before, 6);
    expect(Number.isFinite(before)).toBe(true);
  });
});
