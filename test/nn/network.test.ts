import { pathToFileURL } from "node:url";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { readFileSync } from "node:fs";

import { deepSupervisionLoss, diceCeLoss } from "../../src/nn/losses.js";
import {
  buildNetwork,
  createNetwork,
  loadNetwork,
  saveNetwork,
  type ForwardResult,
  type NetworkConfig,
  type SegmentationNetwork,
} from "../../src/nn/network.js";
import { initBackend } from "../../src/tensor/backend.js";

const noFga = { enabled: false, patchSize: 8, lambda: 0, goldenGradient: false } as const;

function config(overrides: Partial<NetworkConfig>): NetworkConfig {
  return {
    inChannels: 4,
    numClasses: 4,
    stages: 3,
    baseFeatures: 4,
    maxFeatures: 8,
    deepSupervision: false,
    fga: noFga,
    ...overrides,
  };
}

function parameterCount(variables: readonly tf.Variable[]): number {
  return variables.reduce((sum, v) => sum + v.size, 0);
}

let tmp = "";

beforeAll(async () => {
  await initBackend("cpu", () => {});
  tmp = await mkdtemp(path.join(os.tmpdir(), "fancl-nn-"));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("createNetwork", () => {
  it("has the hand-counted parameter count", () => {
    // in 1, K 2, features 2, 4 (conv kernels k³·in·out + out bias; norms 2·C):
    // encoder.0: 27·1·2+2 + 4 = 60 and 27·2·2+2 + 4 = 114; encoder.1: 27·2·4+4 + 8 = 228, 27·4·4+4 + 8 = 444;
    // decoder.0.up: 8·4·2+2 = 66; decoder.0: 27·4·2+2 + 4 = 222 and 114; head: 2·2+2 = 6. Total 1254.
    const net = createNetwork(config({ inChannels: 1, numClasses: 2, stages: 2, baseFeatures: 2, maxFeatures: 4 }), 1);

    expect(parameterCount(net.variables)).toBe(1254);
    net.dispose();
  });

  it("caps features at maxFeatures", () => {
    // Features 4, 8, 8: encoder.2's first kernel is 3·3·3·8·8.
    const net = createNetwork(config({}), 1);

    const kernel = net.namedVariables.find(([name]) => name === "encoder.2.0.conv.kernel")?.[1];
    expect(kernel?.shape).toEqual([3, 3, 3, 8, 8]);
    net.dispose();
  });

  it("draws He-normal kernels", () => {
    // std = sqrt(2 / (1 + 0.01²)) / sqrt(fanIn), nnU-Net's kaiming_normal_ with a = 0.01.
    const net = createNetwork(config({ baseFeatures: 32, maxFeatures: 64 }), 7);
    const kernel = net.namedVariables.find(([name]) => name === "encoder.1.1.conv.kernel")![1];

    const values = Array.from(kernel.dataSync());
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);

    // fanIn = 27·64; 110 592 draws give the std to well under 1 %.
    expect(std / (Math.sqrt(2 / (1 + 1e-4)) / Math.sqrt(27 * 64))).toBeCloseTo(1, 1);
    net.dispose();
  });

  it("is reproducible from its seed", () => {
    const a = createNetwork(config({}), 5);
    const b = createNetwork(config({}), 5);
    const c = createNetwork(config({}), 6);

    const first = (net: typeof a) => Array.from(net.variables[0]!.dataSync());
    expect(first(b)).toEqual(first(a));
    expect(first(c)).not.toEqual(first(a));
    [a, b, c].forEach((net) => net.dispose());
  });

  it("rejects an invalid config", () => {
    expect(() => createNetwork(config({ stages: 0 }), 1)).toThrow(/network.stages must be a positive integer, got 0/);
  });
});

describe("SegmentationNetwork.forward", () => {
  it("gives full-resolution outputs without deep supervision", () => {
    const net = createNetwork(config({}), 1);
    const x = tf.randomNormal([2, 8, 8, 4, 4], 0, 1, "float32", 1) as tf.Tensor5D;

    const result = net.forward(x, false);

    expect(result.logits.shape).toEqual([2, 8, 8, 4, 4]);
    expect(result.features.shape).toEqual([2, 8, 8, 4, 4]);
    expect(result.deepSupervision).toEqual([]);
    expect(result.baseLogits).toBe(result.logits);
    net.dispose();
  });

  it("gives lower-resolution deep supervision outputs", () => {
    // 4 stages: decoder outputs at 1, 1/2, 1/4; the deep supervision list contains 1/2 and 1/4.
    const net = createNetwork(config({ stages: 4, deepSupervision: true }), 1);
    const x = tf.randomNormal([1, 8, 16, 8, 4], 0, 1, "float32", 1) as tf.Tensor5D;

    const result = net.forward(x, true);

    expect(result.logits.shape).toEqual([1, 8, 16, 8, 4]);
    expect(result.deepSupervision.map((t) => t.shape)).toEqual([
      [1, 4, 8, 4, 4],
      [1, 2, 4, 2, 4],
    ]);
    net.dispose();
  });

  it("rejects sizes not divisible by 2^(stages−1)", () => {
    const net = createNetwork(config({}), 1);
    const x = tf.zeros([1, 8, 6, 8, 4]) as tf.Tensor5D;

    expect(() => net.forward(x, false)).toThrow(/input is 8x6x8 .* 3 stages needs every size divisible by 4/);
    net.dispose();
  });

  it("rejects a wrong modality count", () => {
    const net = createNetwork(config({}), 1);

    expect(() => net.forward(tf.zeros([1, 4, 4, 4, 2]) as tf.Tensor5D, false)).toThrow(/2 channels .* expects 4/);
    net.dispose();
  });

  it("sends gradients to encoder, decoder and heads", () => {
    const net = createNetwork(config({ stages: 2, deepSupervision: true }), 3);
    const x = tf.randomNormal([1, 4, 4, 4, 4], 0, 1, "float32", 2) as tf.Tensor5D;
    const labels = tf.tensor4d(
      Array.from({ length: 64 }, (_, i) => i % 4),
      [1, 4, 4, 4],
      "int32",
    );

    const { grads } = tf.variableGrads(() => deepSupervisionLoss(net.forward(x, true), labels), [...net.variables]);

    for (const name of ["encoder.0.0.conv.kernel", "encoder.1.1.conv.kernel", "decoder.0.up.kernel", "decoder.0.head.kernel"]) {
      const variable = net.namedVariables.find(([n]) => n === name)![1];
      expect(tf.norm(grads[variable.name]!).dataSync()[0], name).toBeGreaterThan(0);
    }
    net.dispose();
  });
});

describe("saveNetwork and loadNetwork", () => {
  it("round-trips to the same outputs", async () => {
    // FGA and deep supervision on, so every kind of weight is saved.
    const cfg = config({
      stages: 2,
      deepSupervision: true,
      fga: { enabled: true, patchSize: 2, lambda: 0.1, goldenGradient: false },
    });
    const net = createNetwork(cfg, 11);
    const x = tf.randomNormal([1, 4, 4, 6, 4], 0, 1, "float32", 4) as tf.Tensor5D;
    const dir = path.join(tmp, "roundtrip");

    await saveNetwork(net, dir);
    const loaded = await loadNetwork(dir);

    expect(loaded.config).toEqual(cfg);
    expect(Array.from(loaded.forward(x, false).logits.dataSync())).toEqual(Array.from(net.forward(x, false).logits.dataSync()));
    net.dispose();
    loaded.dispose();
  });

  it("writes a TF.js weights manifest", async () => {
    const net = createNetwork(config({ stages: 2 }), 2);
    const dir = path.join(tmp, "manifest");

    await saveNetwork(net, dir);
    const model = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8"));
    const bytes = (await readFile(path.join(dir, "weights.bin"))).byteLength;

    expect(model.weightsManifest[0].paths).toEqual(["weights.bin"]);
    expect(model.weightsManifest[0].weights[0]).toEqual({ name: "encoder.0.0.conv.kernel", shape: [3, 3, 3, 4, 4], dtype: "float32" });
    expect(bytes).toBe(4 * parameterCount(net.variables));
    net.dispose();
  });

  it("rejects a foreign model.json", async () => {
    const dir = path.join(tmp, "foreign");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "model.json"), '{"format":"layers-model"}');

    await expect(loadNetwork(dir)).rejects.toThrow(/model.json has format "layers-model"/);
  });
});

/** A PyTorch forward pass of a 4-stage U-Net with deep supervision; see fixtures/unet_torch.py. */
interface TorchFixture {
  config: Omit<NetworkConfig, "fga">;
  weights: Record<string, unknown>;
  image: unknown[];
  labels: unknown[];
  logits: unknown[];
  deepSupervision: unknown[][];
  diceCe: number;
  diceCeBatch: number;
  deepSupervisionLoss: number;
  /** d(deep supervision loss)/d(weight) for a few weights, in fancl's layout. */
  gradients: Record<string, unknown[]>;
}

// Both backends: wasm runs fancl's composed 3-D convolution, cpu the plain TF.js one.
describe.each(["cpu", "wasm"] as const)("U-Net against PyTorch on %s", (backend) => {
  const fixture: TorchFixture = JSON.parse(
    readFileSync(path.resolve(process.cwd(), "test/nn/fixtures/unet-torch.json"), "utf8"),
  );
  const flat = (values: unknown[]): number[] => values.flat(5) as number[];
  const [n, d, h, w] = [2, 8, 16, 8];
  let labels!: tf.Tensor4D;
  let image!: tf.Tensor5D;
  let net!: SegmentationNetwork;
  let result!: ForwardResult;

  beforeAll(async () => {
    await initBackend(backend, () => {});
    net = buildNetwork({ ...fixture.config, fga: noFga }, (name, shape) =>
      tf.tensor(flat(fixture.weights[name] as unknown[]), [...shape]),
    );
    image = tf.tensor5d(flat(fixture.image), [n, d, h, w, fixture.config.inChannels]);
    labels = tf.tensor4d(flat(fixture.labels), [n, d, h, w], "int32");
    result = net.forward(image, false);
  });

  afterAll(async () => {
    await initBackend("cpu", () => {});
  });

  /** max |actual − expected| / max |expected| over the tensor. */
  const relativeError = (actual: tf.Tensor, expected: number[]): number => {
    const values = actual.dataSync();
    const scale = Math.max(...expected.map(Math.abs));
    return Math.max(...expected.map((e, i) => Math.abs(values[i]! - e))) / scale;
  };

  it("matches the full-resolution logits", () => {
    expect(relativeError(result.logits, flat(fixture.logits))).toBeLessThan(1e-4);
  });

  it("matches the deep supervision outputs", () => {
    expect(result.deepSupervision.length).toBe(2);
    result.deepSupervision.forEach((output, i) => {
      expect(relativeError(output, flat(fixture.deepSupervision[i]!))).toBeLessThan(1e-4);
    });
  });

  it("matches Dice+CE with and without batch Dice", () => {
    expect(diceCeLoss(result.logits, labels).dataSync()[0]).toBeCloseTo(fixture.diceCe, 4);
    expect(diceCeLoss(result.logits, labels, { batchDice: true }).dataSync()[0]).toBeCloseTo(fixture.diceCeBatch, 4);
  });

  it("matches the deep supervision loss with nearest-exact labels", () => {
    expect(deepSupervisionLoss(result, labels).dataSync()[0]).toBeCloseTo(fixture.deepSupervisionLoss, 4);
  });

  it("matches torch's weight gradients", () => {
    const { grads } = tf.variableGrads(() => deepSupervisionLoss(net.forward(image, true), labels), [...net.variables]);

    for (const [name, expected] of Object.entries(fixture.gradients)) {
      const variable = net.namedVariables.find(([weight]) => weight === name)![1];
      expect(relativeError(grads[variable.name]!, flat(expected)), name).toBeLessThan(1e-3);
    }
  });
});

describe("createNetwork with seed 0", () => {
  it("gives the same weights in two separate processes", async () => {
    // TF.js takes a random seed of 0 as "no seed"; only a fresh process shows a weight that slipped
    // through. The script runs the compiled network from dist/ (npm test builds first).
    const { spawnSync } = await import("node:child_process");
    const network = pathToFileURL(path.resolve("dist/src/nn/network.js")).href;
    const script = `
      import * as tf from "@tensorflow/tfjs";
      import { createNetwork } from ${JSON.stringify(network)};
      await tf.setBackend("cpu");
      const net = createNetwork({ inChannels: 4, numClasses: 4, stages: 2, baseFeatures: 4, maxFeatures: 8,
        deepSupervision: false, fga: { enabled: false, patchSize: 0, lambda: 0, goldenGradient: false } }, 0);
      console.log(net.variables.map((v) => Array.from(v.dataSync()).join(",")).join(";"));`;
    const weights = () =>
      spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }).stdout.trim().split("\n").pop();
    const first = weights();
    expect(first).toMatch(/[0-9]/);
    expect(weights()).toBe(first);
  });
});
