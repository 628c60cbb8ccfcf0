import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tensor/backend.js";
import { conv3d, conv3dTranspose2 } from "../../src/tensor/conv3d.js";
import { nativeStatus, setNativeEnabled } from "../../src/tensor/native.js";
import { relativeError, values } from "./values.js";

// Expected values come from tf.conv3d and tf.conv3dTranspose and their registered gradients on the
// plain cpu backend, a separate implementation from the kernels under test: the native kernels
// (native/, C++) and the composed WASM kernels, each suite run once for each.

interface Result {
  readonly y: Float32Array;
  readonly dx: Float32Array;
  readonly dFilter: Float32Array;
}

type Op = (x: tf.Tensor5D, filter: tf.Tensor5D) => tf.Tensor5D;

/** Runs op on the current backend; the loss sum(y * weights) makes dy equal to `weights`. */
function run(op: Op, xShape: number[], filterShape: number[], seed: number): Result {
  return tf.tidy(() => {
    const x = tf.tensor(values(xShape.reduce((a, b) => a * b, 1), seed), xShape) as tf.Tensor5D;
    const filter = tf.tensor(values(filterShape.reduce((a, b) => a * b, 1), seed + 1), filterShape) as tf.Tensor5D;
    const y = op(x, filter);
    const weights = tf.tensor(values(y.size, seed + 2), y.shape);
    const [dx, dFilter] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor5D, b as tf.Tensor5D), weights)))([x, filter]);
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dFilter: dFilter.dataSync() as Float32Array };
  });
}

async function compare(
  op: Op,
  reference: (xShape: number[], filterShape: number[], seed: number) => Result,
  xShape: number[],
  filterShape: number[],
  seed: number,
): Promise<void> {
  await initBackend("cpu", () => {});
  const expected = reference(xShape, filterShape, seed);
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend(backend, () => {});
    const actual = run(op, xShape, filterShape, seed);
    expect(relativeError(actual.y, expected.y), `${backend} y`).toBeLessThan(1e-4);
    expect(relativeError(actual.dx, expected.dx), `${backend} dx`).toBeLessThan(1e-4);
    expect(relativeError(actual.dFilter, expected.dFilter), `${backend} dFilter`).toBeLessThan(1e-4);
  }
}

const referenceConv = (stride: 1 | 2) => (xShape: number[], filterShape: number[], seed: number) =>
  run((x, filter) => tf.conv3d(x, filter, stride, "same"), xShape, filterShape, seed);
const ourConv = (stride: 1 | 2): Op => (x, filter) => conv3d(x, filter, stride);

beforeAll(async () => {
  await initBackend("wasm", () => {});
});

describe("native kernels", () => {
  it("are built and load", () => {
    // npm run build compiles native/; a machine without a C++ compiler gets the composed kernels.
    const status = nativeStatus();
    expect(status.loaded ? "" : status.reason).toBe("");
  });
});

for (const kernels of ["native", "composed"] as const) {
  describe(`conv3d, ${kernels} kernels`, () => {
    beforeAll(() => setNativeEnabled(kernels === "native"));

    const cases: [string, number[], number[], 1 | 2][] = [
      ["3x3x3 stride 1, one channel", [1, 5, 6, 7, 1], [3, 3, 3, 1, 3], 1],
      ["3x3x3 stride 1, batch 2, odd sizes", [2, 4, 5, 3, 3], [3, 3, 3, 3, 2], 1],
      ["3x3x3 stride 1, 64 to 16 channels", [1, 3, 4, 5, 64], [3, 3, 3, 64, 16], 1],
      ["3x3x3 stride 1, 8 to 64 channels", [2, 3, 3, 2, 8], [3, 3, 3, 8, 64], 1],
      ["3x3x3 stride 2, even sizes", [1, 8, 6, 4, 4], [3, 3, 3, 4, 8], 2],
      ["3x3x3 stride 2, odd sizes", [2, 7, 5, 9, 2], [3, 3, 3, 2, 4], 2],
      ["3x3x3 stride 2, mixed sizes", [2, 6, 7, 5, 3], [3, 3, 3, 3, 5], 2],
      ["3x3x3 stride 2, sizes 1 and 2", [1, 2, 1, 3, 2], [3, 3, 3, 2, 2], 2],
      ["1x1x1 stride 1, batch 2", [2, 3, 4, 5, 5], [1, 1, 1, 5, 7], 1],
      ["1x1x1 stride 2, odd sizes", [1, 5, 4, 3, 2], [1, 1, 1, 2, 3], 2],
      ["1x1x1 stride 2, batch 2", [2, 4, 3, 6, 3], [1, 1, 1, 3, 2], 2],
    ];
    cases.forEach(([name, xShape, filterShape, stride], i) => {
      it(name, async () => {
        await compare(ourConv(stride), referenceConv(stride), xShape, filterShape, 100 + 10 * i);
      });
    });

    it("gives the output shape", async () => {
      await initBackend("wasm", () => {});
      const y = conv3d(tf.zeros([2, 7, 6, 5, 3]) as tf.Tensor5D, tf.zeros([3, 3, 3, 3, 4]) as tf.Tensor5D, 2);
      expect(y.shape).toEqual([2, 4, 3, 3, 4]);
    });

    it("frees its intermediate tensors", async () => {
      await initBackend("wasm", () => {});
      const x = tf.zeros([1, 5, 4, 3, 2]) as tf.Tensor5D;
      const filter = tf.zeros([3, 3, 3, 2, 2]) as tf.Tensor5D;
      for (const stride of [1, 2] as const) {
        const before = tf.memory().numTensors;
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(conv3d(a as tf.Tensor5D, b as tf.Tensor5D, stride)))([x, filter]);
        tf.dispose(grads);
        expect(tf.memory().numTensors, `stride ${stride}`).toBe(before);
      }
      tf.dispose([x, filter]);
    });

    it("gives an empty output for empty depth", async () => {
      await initBackend("wasm", () => {});
      const y = conv3d(tf.zeros([1, 0, 4, 4, 2]) as tf.Tensor5D, tf.zeros([3, 3, 3, 2, 3]) as tf.Tensor5D, 1);
      expect(y.shape).toEqual([1, 0, 4, 4, 3]);
    });

    if (kernels === "composed") {
      it("rejects an unsupported filter size", async () => {
        await initBackend("wasm", () => {});
        expect(() => conv3d(tf.zeros([1, 3, 3, 3, 2]) as tf.Tensor5D, tf.zeros([2, 2, 2, 2, 1]) as tf.Tensor5D)).toThrow(
          /filter shape \[2, 2, 2, 2, 1\] is not supported on the wasm backend/,
        );
      });
    } else {
      it("takes a 2x2x2 filter, stride 1", async () => {
        await compare(ourConv(1), referenceConv(1), [2, 3, 4, 5, 3], [2, 2, 2, 3, 4], 900);
      });
    }

    it("rejects a channel mismatch", () => {
      expect(() => conv3d(tf.zeros([1, 3, 3, 3, 2]) as tf.Tensor5D, tf.zeros([3, 3, 3, 4, 1]) as tf.Tensor5D)).toThrow(
        /x has 2 channels but the filter expects 4/,
      );
    });
  });

  describe(`conv3dTranspose2, ${kernels} kernels`, () => {
    beforeAll(() => setNativeEnabled(kernels === "native"));

    // tfjs registers no gradient for tf.conv3dTranspose, so the expected gradients use its adjoint
    // identity: with L = sum(conv3dTranspose(x, f) * r) = sum(x * conv3d(r, f, stride 2)),
    // dL/dx = conv3d(r, f) and dL/df is the filter gradient of that forward convolution.
    const reference = (xShape: number[], filterShape: number[], seed: number): Result =>
      tf.tidy(() => {
        const [n, d, h, w] = xShape;
        const x = tf.tensor(values(xShape.reduce((a, b) => a * b, 1), seed), xShape) as tf.Tensor5D;
        const filter = tf.tensor(values(filterShape.reduce((a, b) => a * b, 1), seed + 1), filterShape) as tf.Tensor5D;
        const yShape: [number, number, number, number, number] = [n, 2 * d, 2 * h, 2 * w, filterShape[3]];
        const y = tf.conv3dTranspose(x, filter, yShape, 2, "same");
        const weights = tf.tensor(values(y.size, seed + 2), yShape) as tf.Tensor5D;
        const dx = tf.conv3d(weights, filter, 2, "same");
        const dFilter = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(weights, f as tf.Tensor5D, 2, "same"), x)))(filter);
        return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dFilter: dFilter.dataSync() as Float32Array };
      });
    const cases: [string, number[], number[]][] = [
      ["one channel, odd sizes", [1, 3, 2, 5, 1], [2, 2, 2, 1, 1]],
      ["batch 2, 4 to 2 channels", [2, 2, 3, 1, 4], [2, 2, 2, 2, 4]],
      ["64 to 32 channels", [1, 2, 2, 3, 64], [2, 2, 2, 32, 64]],
    ];
    cases.forEach(([name, xShape, filterShape], i) => {
      it(name, async () => {
        await compare(conv3dTranspose2, reference, xShape, filterShape, 500 + 10 * i);
      });
    });

    it("rejects a filter that is not 2x2x2", () => {
      expect(() =>
        conv3dTranspose2(tf.zeros([1, 2, 2, 2, 3]) as tf.Tensor5D, tf.zeros([3, 3, 3, 2, 3]) as tf.Tensor5D),
      ).toThrow(/must start with 2, 2, 2/);
    });
  });
}
