import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tensor/backend.js";

// NOTE: these tests expect the optional packages @tensorflow/tfjs-node and @tensorflow/tfjs-node-gpu
// to be absent, so that "auto" falls through them to WASM. They fail where either is installed.
describe("initBackend", () => {
  it("auto falls back to wasm", async () => {
    const lines: string[] = [];
    const info = await initBackend("auto", (line) => lines.push(line));
    expect(info).toEqual({ name: "wasm", package: "@tensorflow/tfjs-backend-wasm" });
    expect(tf.getBackend()).toBe("wasm");
    expect(lines.some((l) => l.includes("@tensorflow/tfjs-node-gpu not available"))).toBe(true);
    expect(lines.some((l) => l.includes("@tensorflow/tfjs-node not available"))).toBe(true);
    expect(lines.at(-1)).toBe("tensor backend: wasm (@tensorflow/tfjs-backend-wasm)");
  });

  it("wasm computes a 2x2 matMul", async () => {
    await initBackend("wasm", () => {});
    // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]]
    const product = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
    expect(Array.from(await product.data())).toEqual([19, 22, 43, 50]);
  });

  it("forced tensorflow names missing package", async () => {
    await expect(initBackend("tensorflow", () => {})).rejects.toThrow(
      /@tensorflow\/tfjs-node.*npm install @tensorflow\/tfjs-node/,
    );
  });

  it("forced tensorflow-gpu names missing package", async () => {
    await expect(initBackend("tensorflow-gpu", () => {})).rejects.toThrow(
      /@tensorflow\/tfjs-node-gpu.*npm install @tensorflow\/tfjs-node-gpu/,
    );
  });

  it("switches between cpu and wasm", async () => {
    expect(await initBackend("cpu", () => {})).toEqual({ name: "cpu", package: "@tensorflow/tfjs-backend-cpu" });
    expect(tf.getBackend()).toBe("cpu");
    expect(await initBackend("wasm", () => {})).toEqual({ name: "wasm", package: "@tensorflow/tfjs-backend-wasm" });
    expect(tf.getBackend()).toBe("wasm");
  });

  it("rejects an invalid preference", async () => {
    await expect(initBackend("gpu" as never, () => {})).rejects.toThrow(/invalid tensor backend "gpu".*wasm, cpu/);
  });
});
