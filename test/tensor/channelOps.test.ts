import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tensor/backend.js";
import { addChannelBias, concatChannels, instanceNorm } from "../../src/tensor/channelOps.js";
import { relativeError, values } from "./values.js";

// Expected values and gradients come from TensorFlow.js's own ops and autodiff on the cpu backend
// (tf.moments, broadcast add, tf.concat), a separate path from the custom gradients under test.

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

type Op = (...inputs: tf.Tensor[]) => tf.Tensor;

/** Returns the output and the gradient of sum(op(...) * weights) for each input. */
function run(op: Op, shapes: number[][], seed: number): Float32Array[] {
  return tf.tidy(() => {
    const inputs = shapes.map((shape, i) => tf.tensor(values(size(shape), seed + i), shape));
    const y = op(...inputs);
    const weights = tf.tensor(values(y.size, seed + 99), y.shape);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), weights)))(inputs);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

async function compare(op: Op, reference: Op, shapes: number[][], seed: number): Promise<void> {
  await initBackend("cpu", () => {});
  const expected = run(reference, shapes, seed);
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend(backend, () => {});
    const actual = run(op, shapes, seed);
    expect(actual.length).toBe(expected.length);
    actual.forEach((result, i) => {
      expect(result.length, `${backend} output ${i} size`).toBe(expected[i]!.length);
      expect(relativeError(result, expected[i]!), `${backend} output ${i}`).toBeLessThan(1e-4);
    });
  }
}

describe("addChannelBias", () => {
  it("matches broadcast add", async () => {
    await compare(
      (x, b) => addChannelBias(x as tf.Tensor5D, b as tf.Tensor1D),
      (x, b) => tf.add(x!, b!),
      [[2, 3, 4, 5, 6], [6]],
      1,
    );
  });
});

describe("instanceNorm", () => {
  const reference: Op = (x, scale, shift) => {
    const { mean, variance } = tf.moments(x!, [1, 2, 3], true);
    return tf.add(tf.mul(tf.div(tf.sub(x!, mean), tf.sqrt(tf.add(variance, 1e-5))), scale!), shift!);
  };
  it("matches moments-based norm, batch 2", async () => {
    await compare(
      (x, s, b) => instanceNorm(x as tf.Tensor5D, s as tf.Tensor1D, b as tf.Tensor1D, 1e-5),
      reference,
      [[2, 3, 5, 4, 3], [3], [3]],
      10,
    );
  });
  it("matches moments-based norm, one channel", async () => {
    await compare(
      (x, s, b) => instanceNorm(x as tf.Tensor5D, s as tf.Tensor1D, b as tf.Tensor1D, 1e-5),
      reference,
      [[1, 4, 3, 5, 1], [1], [1]],
      20,
    );
  });
});

describe("concatChannels", () => {
  it("matches tf.concat on channels", async () => {
    await compare(
      (a, b) => concatChannels(a as tf.Tensor5D, b as tf.Tensor5D),
      (a, b) => tf.concat([a!, b!], 4),
      [[2, 3, 2, 4, 3], [2, 3, 2, 4, 5]],
      30,
    );
  });
  it("rejects mismatched spatial shapes", () => {
    expect(() => concatChannels(tf.zeros([1, 2, 2, 2, 1]) as tf.Tensor5D, tf.zeros([1, 2, 2, 3, 1]) as tf.Tensor5D)).toThrow(
      /differ outside the channel axis/,
    );
  });
});
