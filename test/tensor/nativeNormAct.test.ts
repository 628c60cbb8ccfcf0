import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createNetwork, type NetworkConfig } from "../../src/nn/network.js";
import { initBackend } from "../../src/tensor/backend.js";
import { setNativeEnabled } from "../../src/tensor/native.js";
import { nativeNormAct } from "../../src/tensor/nativeNormAct.js";
import { values } from "./values.js";

// The reference is the formula written with plain TensorFlow.js ops (tf.moments, tf.leakyRelu)
// and differentiated by TensorFlow.js itself on the cpu backend.

const settings = { eps: 1e-5, slope: 0.01 };

function reference(x: tf.Tensor5D, bias: tf.Tensor1D, scale: tf.Tensor1D, shift: tf.Tensor1D): tf.Tensor5D {
  const shifted = tf.add(x, bias);
  const { mean, variance } = tf.moments(shifted, [1, 2, 3], true);
  const normalised = tf.div(tf.sub(shifted, mean), tf.sqrt(tf.add(variance, settings.eps)));
  return tf.leakyRelu(tf.add(tf.mul(normalised, scale), shift), settings.slope) as tf.Tensor5D;
}

type Op = (x: tf.Tensor5D, bias: tf.Tensor1D, scale: tf.Tensor1D, shift: tf.Tensor1D) => tf.Tensor5D;

/** Value and the gradients for x, bias, scale and shift of sum(op(...) · r) for fixed weights r. */
function evaluate(op: Op, shape: [number, number, number, number, number], seed: number): Float32Array[] {
  return tf.tidy(() => {
    const c = shape[4];
    const x = tf.tensor5d(values(shape.reduce((a, b) => a * b, 1), seed, 3, 0.5), shape);
    const bias = tf.tensor1d(values(c, seed + 1));
    const scale = tf.tensor1d(values(c, seed + 2, 0.5, 1));
    const shift = tf.tensor1d(values(c, seed + 3, 0.5));
    const weights = tf.tensor5d(values(x.size, seed + 4), shape);
    const loss = (a: tf.Tensor, b: tf.Tensor, s: tf.Tensor, t: tf.Tensor) =>
      tf.sum(tf.mul(op(a as tf.Tensor5D, b as tf.Tensor1D, s as tf.Tensor1D, t as tf.Tensor1D), weights));
    const grads = tf.grads(loss)([x, bias, scale, shift]);
    return [op(x, bias, scale, shift), ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/** Largest absolute difference divided by the largest absolute expected value (or by 1, if larger). */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 1e-3;
  expected.forEach((e, i) => {
    diff = Math.max(diff, Math.abs(actual[i]! - e));
    scale = Math.max(scale, Math.abs(e));
  });
  return diff / scale;
}

describe("nativeNormAct", () => {
  beforeAll(async () => {
    await initBackend("wasm", () => {});
  });

  const cases: Array<[string, [number, number, number, number, number]]> = [
    ["one channel, odd sizes", [1, 3, 5, 7, 1]],
    ["batch 2, 3 channels", [2, 4, 3, 5, 3]],
    // 4 and 8 channels over a multiple of 16 values: rows of 16 lanes hold several voxels.
    ["4 channels, 64 voxels", [1, 4, 4, 4, 4]],
    ["batch 2, 8 channels", [2, 4, 4, 6, 8]],
    ["batch 2, 17 channels", [2, 3, 4, 4, 17]],
    ["32 channels", [1, 6, 6, 6, 32]],
  ];
  cases.forEach(([name, shape], i) => {
    it(name, async () => {
      await initBackend("cpu", () => {});
      const expected = evaluate(reference, shape, 40 + i);
      await initBackend("wasm", () => {});
      const op = nativeNormAct(settings);
      expect(op).toBeDefined();
      const actual = evaluate(op!, shape, 40 + i);
      const [y, dx, dBias, dScale, dShift] = actual as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
      expect(relativeError(y, expected[0]!), "y").toBeLessThan(1e-4);
      expect(relativeError(dx, expected[1]!), "dx").toBeLessThan(1e-4);
      expect(relativeError(dScale, expected[3]!), "dscale").toBeLessThan(1e-4);
      expect(relativeError(dShift, expected[4]!), "dshift").toBeLessThan(1e-4);
      // The bias cancels in the norm, so its exact gradient is 0; both sides hold rounding noise.
      expect(Math.max(...dBias.map(Math.abs)), "dbias").toBeLessThan(1e-4);
    });
  });

  it("is undefined when the native kernels are off", () => {
    setNativeEnabled(false);
    expect(nativeNormAct(settings)).toBeUndefined();
    setNativeEnabled(true);
  });
});

describe("a U-Net with and without the native kernels", () => {
  afterAll(() => setNativeEnabled(true));

  it("has the same logits and gradients", async () => {
    await initBackend("wasm", () => {});
    const config: NetworkConfig = {
      inChannels: 4,
      numClasses: 4,
      stages: 3,
      baseFeatures: 8,
      maxFeatures: 16,
      deepSupervision: true,
      fga: { enabled: false, patchSize: 4, lambda: 0, goldenGradient: false },
    };
    const run = (native: boolean): Float32Array[] => {
      setNativeEnabled(native);
      const net = createNetwork(config, 3);
      const x = tf.tensor5d(values(2 * 8 * 12 * 8 * 4, 7), [2, 8, 12, 8, 4]);
      const out = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(net.forward(x, true).logits)) as tf.Scalar, [...net.variables]);
        // Deep supervision heads do not reach the loss and have no gradient.
        const reached = net.variables.flatMap((v) => (grads[v.name] === undefined ? [] : [grads[v.name]!]));
        return [value, ...reached].map((t) => t.dataSync() as Float32Array);
      });
      x.dispose();
      net.dispose();
      return out;
    };
    const withNative = run(true);
    const without = run(false);
    expect(withNative.length).toBe(without.length);
    expect(relativeError(withNative[0]!, without[0]!), "loss").toBeLessThan(1e-4);
    // Conv biases before a norm have gradients that are 0 up to rounding, so every gradient is
    // compared on the scale of the largest one.
    const largest = Math.max(...without.slice(1).map((g) => Math.max(...g.map(Math.abs))));
    withNative.slice(1).forEach((g, i) => {
      const difference = Math.max(...g.map((value, j) => Math.abs(value - without[i + 1]![j]!)));
      expect(difference / largest, `gradient ${i}`).toBeLessThan(1e-4);
    });
  });
});
