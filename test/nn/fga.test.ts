import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { applyFga, fgaMse, goldenAttention, makeFgaHead, type FgaForward, type FgaHead } from "../../src/nn/fga.js";
import { WeightRegistry, type WeightSource } from "../../src/nn/layers.js";
import { createNetwork } from "../../src/nn/network.js";
import { initBackend } from "../../src/tensor/backend.js";

/** The FGA fixture: an independent numpy forward pass on a 5×6×7 volume, patch sizes 2 and 4. */
interface Fixture {
  shape: { D: number; H: number; W: number; modalities: number; featureChannels: number; classes: number };
  inputs: { image: number[][][][]; feature: number[][][][]; logits: number[][][][]; labels: number[][][] };
  weights: Record<"phi1a" | "phi1b" | "phi2" | "phi3", { kernel: unknown; bias: number[] }>;
  cases: Array<{
    patchSize: number;
    A: number[][][];
    goldenA: number[][][];
    correction: number[][][][];
    output: number[][][][];
    fgaLoss: number;
  }>;
}

const fixture: Fixture = JSON.parse(
  readFileSync(path.resolve(process.cwd(), "../shared/reference/fga-fixture.json"), "utf8"),
);

beforeAll(async () => {
  await initBackend("cpu", () => {});
});

/** Returns a weight source that reads the given arrays by name (`fga.phi1a.kernel`, …). */
function sourceFrom(arrays: Record<string, unknown>): WeightSource {
  return (name, shape) => {
    const values = arrays[name];
    if (values === undefined) throw new Error(`test has no weight ${name}`);
    return tf.tensor((values as number[]).flat(5 as 1), [...shape], "float32");
  };
}

function headFrom(arrays: Record<string, unknown>, inChannels: number, featureChannels: number, numClasses: number, patchSize: number): FgaHead {
  return makeFgaHead(new WeightRegistry(sourceFrom(arrays)), "fga", { inChannels, featureChannels, numClasses, patchSize });
}

/** max |actual − expected| / max |expected|, the relative error of a whole tensor. */
function relativeError(actual: tf.Tensor, expected: number[]): number {
  const values = actual.dataSync();
  expect(values.length).toBe(expected.length);
  let worst = 0;
  let scale = 0;
  expected.forEach((e, i) => {
    worst = Math.max(worst, Math.abs(values[i]! - e));
    scale = Math.max(scale, Math.abs(e));
  });
  return worst / scale;
}

function volume(values: number[][][][]): tf.Tensor5D {
  const [d, h, w, c] = [values.length, values[0]!.length, values[0]![0]!.length, values[0]![0]![0]!.length];
  return tf.tensor5d(values.flat(3), [1, d, h, w, c]);
}

// Both backends: wasm runs fancl's composed 3-D convolution, cpu the plain TF.js one.
describe.each(["cpu", "wasm"] as const)("applyFga against the numpy fixture on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend, () => {});
  });

  afterAll(async () => {
    await initBackend("cpu", () => {});
  });

  const { shape, inputs, weights } = fixture;
  const arrays = Object.fromEntries(
    Object.entries(weights).flatMap(([name, w]) => [
      [`fga.${name}.kernel`, w.kernel],
      [`fga.${name}.bias`, w.bias],
    ]),
  );

  for (const expected of fixture.cases) {
    describe(`patch size ${expected.patchSize}`, () => {
      let result!: FgaForward;
      let golden!: tf.Tensor4D;

      beforeAll(() => {
        const labels = tf.tensor4d(inputs.labels.flat(2), [1, shape.D, shape.H, shape.W], "int32");
        const head = headFrom(arrays, shape.modalities, shape.featureChannels, shape.classes, expected.patchSize);
        result = applyFga(head, volume(inputs.image), volume(inputs.feature), volume(inputs.logits));
        golden = goldenAttention(result.imagePatches, labels, shape.classes, expected.patchSize, false);
      });

      it("matches A", () => {
        expect(relativeError(result.attention, expected.A.flat(2))).toBeLessThan(1e-4);
      });

      it("matches golden A", () => {
        expect(relativeError(golden, expected.goldenA.flat(2))).toBeLessThan(1e-4);
      });

      it("matches the correction R", () => {
        expect(relativeError(result.correction, expected.correction.flat(3))).toBeLessThan(1e-4);
      });

      it("matches the output", () => {
        expect(relativeError(result.output, expected.output.flat(3))).toBeLessThan(1e-4);
      });

      it("matches L_FGA", () => {
        const loss = fgaMse(result.attention, golden).dataSync()[0]!;

        expect(Math.abs(loss - expected.fgaLoss) / expected.fgaLoss).toBeLessThan(1e-4);
      });
    });
  }
});

/**
 * A 4×4×4 example with p = 2 (2×2×2 = 8 patches, raster index i = 4·gd + 2·gh + gw) where φ1
 * passes the image's first channel through (centre taps 1, all else 0; the values are positive,
 * so the leaky ReLU is the identity) and φ2 and φ3 are identities:
 *   X'(d, h, w) = 1 + 16d + 4h + w;
 *   F_0 = 1 everywhere; F_1 = 1 only at voxel (1, 2, 3), which is patch (0, 1, 1) = column 3 at
 *   local position (1, 0, 1).
 * Then A_0[i, j] = mean of X' over patch i = 1 + 16(2gd + ½) + 4(2gh + ½) + (2gw + ½)
 * = 11.5 + 32gd + 8gh + 2gw for every j, and A_1[i, 3] = X'(2gd+1, 2gh, 2gw+1) / 8
 * = (18 + 32gd + 8gh + 2gw) / 8 with every other column 0.
 * With zero logits, softmax is ½ per class: Z_0 = Â_0 · ½ = A_0[i, ·] / 8 · 8 · ½ = A_0[i, 0] / 2
 * (8 non-zero entries per row), and Z_1 = A_1[i, 3] / 2 (one non-zero entry per row).
 */
describe("applyFga on a hand-computed 4×4×4 example", () => {
  const size = 4;
  const identityHead = (): FgaHead => {
    const phi1a = tf.buffer([3, 3, 3, 1, 64]);
    phi1a.set(1, 1, 1, 1, 0, 0);
    const phi1b = tf.buffer([3, 3, 3, 64, 1]);
    phi1b.set(1, 1, 1, 1, 0, 0);
    const arrays = {
      "fga.phi1a.kernel": Array.from(phi1a.values),
      "fga.phi1a.bias": new Array(64).fill(0),
      "fga.phi1b.kernel": Array.from(phi1b.values),
      "fga.phi1b.bias": [0],
      "fga.phi2.kernel": [1, 0, 0, 1],
      "fga.phi2.bias": [0, 0],
      "fga.phi3.kernel": [1, 0, 0, 1],
      "fga.phi3.bias": [0, 0],
    };
    return headFrom(arrays, 1, 2, 2, 2);
  };
  const voxels = Array.from({ length: size ** 3 }, (_, v) => [Math.floor(v / 16), Math.floor(v / 4) % 4, v % 4] as const);
  const image = (): tf.Tensor5D =>
    tf.tensor5d(
    voxels.map(([d, h, w]) => 1 + 16 * d + 4 * h + w),
    [1, size, size, size, 1],
  );
  const feature = (): tf.Tensor5D =>
    tf.tensor5d(
    voxels.flatMap(([d, h, w]) => [1, d === 1 && h === 2 && w === 3 ? 1 : 0]),
    [1, size, size, size, 2],
  );
  const logits = (): tf.Tensor5D => tf.zeros([1, size, size, size, 2]);
  const patches = Array.from({ length: 8 }, (_, i) => [Math.floor(i / 4), Math.floor(i / 2) % 2, i % 2] as const);
  const mean = ([gd, gh, gw]: readonly [number, number, number]) => 11.5 + 32 * gd + 8 * gh + 2 * gw;
  const single = ([gd, gh, gw]: readonly [number, number, number]) => (18 + 32 * gd + 8 * gh + 2 * gw) / 8;

  let result!: FgaForward;

  beforeAll(() => {
    result = applyFga(identityHead(), image(), feature(), logits());
  });

  it("gives A_0 rows of patch means", () => {
    const expected = patches.flatMap((patch) => new Array(8).fill(mean(patch)));

    expect(relativeError(tf.slice(result.attention, [0, 0, 0, 0], [1, 1, 8, 8]), expected)).toBeLessThan(1e-6);
  });

  it("gives A_1 one non-zero column", () => {
    // The column is X' at the marked voxel's local position in each patch.
    const expected = patches.flatMap((patch) => Array.from({ length: 8 }, (_, j) => (j === 3 ? single(patch) : 0)));

    expect(relativeError(tf.slice(result.attention, [0, 1, 0, 0], [1, 1, 8, 8]), expected)).toBeLessThan(1e-6);
  });

  it("gives R from Â and softmax patches", () => {
    const patchOf = ([d, h, w]: readonly [number, number, number]) =>
      [Math.floor(d / 2), Math.floor(h / 2), Math.floor(w / 2)] as const;
    const expected = voxels.flatMap((v) => [mean(patchOf(v)) / 2, single(patchOf(v)) / 2]);

    expect(relativeError(result.correction, expected)).toBeLessThan(1e-6);
  });

  it("gives zero L_FGA for one-hot φ2(F)", () => {
    // φ2 is the identity, so feeding one-hot labels as F makes A equal A*.
    const labelValues = voxels.map(([d, h, w]) => (d + h * w) % 2);
    const labels = tf.tensor4d(labelValues, [1, size, size, size], "int32");
    const oneHotFeature = tf.tensor5d(
      labelValues.flatMap((label) => [label === 0 ? 1 : 0, label === 1 ? 1 : 0]),
      [1, size, size, size, 2],
    );
    const pass = applyFga(identityHead(), image(), oneHotFeature, logits());

    const loss = fgaMse(pass.attention, goldenAttention(pass.imagePatches, labels, 2, 2, false)).dataSync()[0];

    expect(loss).toBe(0);
  });
});

describe("goldenAttention gradient", () => {
  // d/dP_X[i, v] of Σ A* = Σ_{k, j} P_G[k, j, v] / p³ = 8 patches · 1 class / 8 = 1 on a 4³ grid, p = 2.
  const labels = tf.tensor4d(
    Array.from({ length: 64 }, (_, i) => i % 3),
    [1, 4, 4, 4],
    "int32",
  );
  const imagePatches = tf.randomNormal([1, 1, 8, 8], 0, 1, "float32", 9) as tf.Tensor4D;

  it("flows into P_X when goldenGradient is on", () => {
    const grad = tf.grad((p: tf.Tensor) => tf.sum(goldenAttention(p as tf.Tensor4D, labels, 3, 2, true)))(imagePatches);

    expect(Array.from(grad.dataSync()).every((g) => Math.abs(g - 1) < 1e-6)).toBe(true);
  });

  it("is zero when goldenGradient is off", () => {
    const grad = tf.grad((p: tf.Tensor) => tf.sum(goldenAttention(p as tf.Tensor4D, labels, 3, 2, false)))(imagePatches);

    expect(Array.from(grad.dataSync()).every((g) => g === 0)).toBe(true);
  });
});

describe("FGA in the network", () => {
  const fga = { enabled: true, patchSize: 4, lambda: 0.1, goldenGradient: false };

  it("runs on odd 5×6×7 volumes", () => {
    // A one-stage U-Net accepts any size, so FGA's padding is what is tested.
    const net = createNetwork(
      { inChannels: 4, numClasses: 4, stages: 1, baseFeatures: 4, maxFeatures: 4, deepSupervision: false, fga },
      1,
    );
    const x = tf.randomNormal([2, 5, 6, 7, 4], 0, 1, "float32", 1) as tf.Tensor5D;

    const result = net.forward(x, false);

    // Patch grid 2×2×2 = 8 patches.
    expect(result.logits.shape).toEqual([2, 5, 6, 7, 4]);
    expect(result.baseLogits.shape).toEqual([2, 5, 6, 7, 4]);
    expect(result.fga?.attention.shape).toEqual([2, 4, 8, 8]);
    expect(result.fga?.imageEmbedding.shape).toEqual([2, 5, 6, 7, 1]);
    net.dispose();
  });

  it("gives 0 as the FGA loss when FGA is off", () => {
    const net = createNetwork(
      { inChannels: 1, numClasses: 2, stages: 1, baseFeatures: 2, maxFeatures: 2, deepSupervision: false, fga: { ...fga, enabled: false } },
      1,
    );
    const x = tf.ones([1, 2, 2, 2, 1]) as tf.Tensor5D;

    const loss = net.fgaLoss(x, net.forward(x, false), tf.zeros([1, 2, 2, 2], "int32") as tf.Tensor4D);

    expect(loss.dataSync()[0]).toBe(0);
    net.dispose();
  });

  it("sends gradients to φ1, φ2, φ3 and encoder", () => {
    const net = createNetwork(
      { inChannels: 4, numClasses: 4, stages: 1, baseFeatures: 4, maxFeatures: 4, deepSupervision: false, fga },
      2,
    );
    const x = tf.randomNormal([1, 5, 6, 7, 4], 0, 1, "float32", 3) as tf.Tensor5D;
    const labels = tf.tensor4d(
      Array.from({ length: 210 }, (_, i) => (i * 5) % 4),
      [1, 5, 6, 7],
      "int32",
    );

    const { grads } = tf.variableGrads(() => {
      const result = net.forward(x, true);
      const segmentation = tf.neg(tf.mean(tf.mul(tf.logSoftmax(result.logits), tf.oneHot(labels, 4))));
      return tf.add(segmentation, tf.mul(net.fgaLoss(x, result, labels), fga.lambda)) as tf.Scalar;
    }, [...net.variables]);

    for (const name of ["fga.phi1a.kernel", "fga.phi1b.kernel", "fga.phi2.kernel", "fga.phi3.kernel", "encoder.0.0.conv.kernel"]) {
      const variable = net.namedVariables.find(([n]) => n === name)![1];
      expect(tf.norm(grads[variable.name]!).dataSync()[0], name).toBeGreaterThan(0);
    }
    net.dispose();
  });
});
