import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { initBackend } from "../../src/tensor/backend.js";
import { conv3d, conv3dTranspose2 } from "../../src/tensor/conv3d.js";
import { nativeStatus } from "../../src/tensor/native.js";
import { relativeError, values } from "./values.js";

// The native addon reads FANCL_NATIVE_PORTABLE once, on its first use in a process. Vitest runs
// each test file in a process of its own, so this file checks the portable loops that CPUs
// without AVX-512 run. The reference is tf.conv3d on the cpu backend, as in conv3d.test.ts.
process.env.FANCL_NATIVE_PORTABLE = "1";

type Op = (x: tf.Tensor5D, filter: tf.Tensor5D) => tf.Tensor5D;

function run(op: Op, xShape: number[], filterShape: number[]): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor(values(xShape.reduce((a, b) => a * b, 1), 3), xShape) as tf.Tensor5D;
    const filter = tf.tensor(values(filterShape.reduce((a, b) => a * b, 1), 4), filterShape) as tf.Tensor5D;
    const weights = tf.tensor(values(op(x, filter).size, 5), op(x, filter).shape);
    const [dx, dFilter] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor5D, b as tf.Tensor5D), weights)))([
      x,
      filter,
    ]);
    return [op(x, filter), dx, dFilter].map((t) => t.dataSync() as Float32Array);
  });
}

describe("native kernels without AVX-512", () => {
  beforeAll(async () => {
    await initBackend("wasm", () => {});
  });

  it("report the portable loops", () => {
    const status = nativeStatus();
    expect(status.loaded ? "" : status.reason).toBe("");
    expect(status).toMatchObject({ loaded: true, avx512: false });
  });

  const cases: Array<[string, number[], number[], 1 | 2]> = [
    ["stride 1, batch 2, 3 to 5 channels", [2, 4, 5, 3, 3], [3, 3, 3, 3, 5], 1],
    ["stride 2, odd sizes, 17 to 33 channels", [1, 5, 7, 3, 17], [3, 3, 3, 17, 33], 2],
  ];
  for (const [name, xShape, filterShape, stride] of cases) {
    it(`match tf.conv3d: ${name}`, async () => {
      await initBackend("cpu", () => {});
      const expected = run((x, f) => tf.conv3d(x, f, stride, "same"), xShape, filterShape);
      await initBackend("wasm", () => {});
      const actual = run((x, f) => conv3d(x, f, stride), xShape, filterShape);
      actual.forEach((a, i) => expect(relativeError(a, expected[i]!), ["y", "dx", "dFilter"][i]).toBeLessThan(1e-4));
    });
  }

  it("match tf.conv3dTranspose forward", async () => {
    const xShape = [1, 2, 3, 2, 6];
    const filterShape = [2, 2, 2, 4, 6];
    await initBackend("cpu", () => {});
    const expected = tf.tidy(() =>
      tf
        .conv3dTranspose(tf.tensor(values(72, 3), xShape) as tf.Tensor5D, tf.tensor(values(192, 4), filterShape) as tf.Tensor5D, [1, 4, 6, 4, 4], 2, "same")
        .dataSync() as Float32Array,
    );
    await initBackend("wasm", () => {});
    const actual = tf.tidy(
      () => conv3dTranspose2(tf.tensor(values(72, 3), xShape) as tf.Tensor5D, tf.tensor(values(192, 4), filterShape) as tf.Tensor5D).dataSync() as Float32Array,
    );
    expect(relativeError(actual, expected)).toBeLessThan(1e-4);
  });
});
