import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createNetwork, type NetworkConfig, type SegmentationNetwork } from "../../src/nn/network.js";
import { initBackend } from "../../src/tensor/backend.js";
import { noAugment } from "../../src/train/augment.js";
import { SgdOptimizer } from "../../src/train/optimizer.js";
import { GradientPool, shardSizes } from "../../src/train/parallel.js";
import { Random } from "../../src/train/random.js";
import { nnUNetSchedule, type TrainingSchedule } from "../../src/train/schedule.js";
import { shardGradients, sliceBatch, stepShare, trainStep, type LossSettings } from "../../src/train/step.js";
import { trainNetwork } from "../../src/train/trainer.js";
import type { PatchBatch } from "../../src/train/types.js";
import { syntheticTrainingCase } from "./synthetic-cases.js";

const network: NetworkConfig = {
  inChannels: 4,
  numClasses: 4,
  stages: 2,
  baseFeatures: 4,
  maxFeatures: 8,
  deepSupervision: true,
  fga: { enabled: false, patchSize: 4, lambda: 1, goldenGradient: false },
};
const withFga: NetworkConfig = { ...network, fga: { ...network.fga, enabled: true, lambda: 0.5 } };

const plain: LossSettings = { hardVoxels: "background", batchDice: false, gradientClipNorm: 12 };
const ignoring: LossSettings = { ...plain, hardVoxels: "ignore" };

/**
 * Makes a batch of `batchSize` random patches [8, 8, 8] with 4 channels and labels 0 … 3. With
 * `curriculum`, it also has a curriculum mask that keeps each foreground label with probability
 * 1/2, so about half the foreground is hard (and ignored, with hardVoxels "ignore").
 */
function randomBatch(batchSize: number, seed: number, curriculum: boolean): PatchBatch {
  const rng = new Random(seed);
  const voxels = 8 * 8 * 8;
  const image = Float32Array.from({ length: batchSize * voxels * 4 }, () => rng.next() * 2 - 1);
  const label = Uint8Array.from({ length: batchSize * voxels }, () => Math.floor(rng.next() * 4));
  const batch: PatchBatch = { image, label, batchSize, patchSize: [8, 8, 8], channels: 4 };
  if (!curriculum) return batch;
  const mask = label.map((value) => (rng.next() < 0.5 ? value : 0));
  return { ...batch, curriculum: mask };
}

/** Returns the largest |a − b| over all values, divided by the largest |a|. */
function relativeDifference(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let difference = 0;
  let scale = 0;
  a.forEach((values, i) =>
    values.forEach((x, j) => {
      difference = Math.max(difference, Math.abs(x - b[i]![j]!));
      scale = Math.max(scale, Math.abs(x));
    }),
  );
  return difference / scale;
}

function values(tensors: readonly (tf.Tensor | undefined)[]): Float32Array[] {
  return tensors.map((t) => (t === undefined ? new Float32Array(0) : (t.dataSync() as Float32Array).slice()));
}

beforeAll(async () => {
  await initBackend("wasm", () => {});
});

describe("shardSizes", () => {
  it("splits batches evenly, larger first", () => {
    expect(shardSizes(2, 2)).toEqual([1, 1]);
    expect(shardSizes(5, 2)).toEqual([3, 2]);
    expect(shardSizes(7, 3)).toEqual([3, 2, 2]);
    // No more shards than samples, and one thread keeps the batch whole.
    expect(shardSizes(3, 8)).toEqual([1, 1, 1]);
    expect(shardSizes(4, 1)).toEqual([4]);
  });
});

describe("shard losses add up to the whole batch's", () => {
  // The reference is the loss and gradients of the whole batch computed at once, without shares.
  const cases: Array<[string, NetworkConfig, LossSettings, boolean]> = [
    ["Dice + CE with deep supervision", network, plain, false],
    ["a curriculum stage with ignored hard voxels", network, ignoring, true],
    ["a curriculum stage with hard voxels as background", network, plain, true],
    ["the FGA term", withFga, plain, false],
  ];
  for (const [name, config, settings, curriculum] of cases) {
    it(name, () => {
      const net = createNetwork(config, 5);
      const batch = randomBatch(3, 11, curriculum);
      const whole = shardGradients(net, batch, settings);
      const share = stepShare(batch, settings.hardVoxels, config.stages);
      const parts = [sliceBatch(batch, 0, 2), sliceBatch(batch, 2, 1)].map((b) => shardGradients(net, b, settings, share));

      expect(parts[0]!.loss + parts[1]!.loss).toBeCloseTo(whole.loss, 5);
      const summed = parts[0]!.gradients.map((g, i) => tf.add(g!, parts[1]!.gradients[i]!));
      expect(relativeDifference(values(whole.gradients), values(summed))).toBeLessThan(1e-4);
      tf.dispose([...whole.gradients, ...parts.flatMap((p) => p.gradients), ...summed].filter((g) => g !== undefined));
      net.dispose();
    });
  }

  it("refuses batch Dice, which couples the samples", () => {
    const net = createNetwork(network, 5);
    const batch = randomBatch(2, 3, false);
    const share = stepShare(batch, "background", network.stages);
    expect(() => shardGradients(net, sliceBatch(batch, 0, 1), { ...plain, batchDice: true }, share)).toThrow(/batch Dice/);
    net.dispose();
  });

  it("counts kept voxels per output grid", () => {
    // Sample 0 has one hard voxel (foreground label, curriculum 0) at (0, 0, 0), sample 1 has none.
    // At 8³ that voxel is 1 of 2·512 and is ignored. At 4³ nearest-exact takes input voxels
    // 1, 3, 5, 7 on each axis, so it is not sampled and all 2·64 voxels are kept.
    const batch = randomBatch(2, 1, false);
    const label = new Uint8Array(2 * 512);
    label[0] = 2;
    const share = stepShare({ ...batch, label, curriculum: new Uint8Array(2 * 512) }, "ignore", 2);
    expect(share.curriculum?.keptVoxels).toEqual({ "8x8x8": 1023, "4x4x4": 128 });
    expect(share.groundTruth.keptVoxels).toEqual({ "8x8x8": 1024, "4x4x4": 128 });
  });
});

describe("GradientPool", () => {
  let pool: GradientPool;
  beforeAll(async () => {
    pool = await GradientPool.start(2, { network, backend: "wasm" });
  });
  afterAll(async () => {
    await pool.close();
  });

  async function stepBoth(settings: LossSettings, curriculum: boolean): Promise<number> {
    const single = createNetwork(network, 9);
    const parallel = createNetwork(network, 9);
    const sgd = { momentum: 0.99, nesterov: true, weightDecay: 3e-5 };
    const singleOptimizer = new SgdOptimizer(single.variables, sgd);
    const parallelOptimizer = new SgdOptimizer(parallel.variables, sgd);
    const where = { epoch: 0, iteration: 0 };
    for (let step = 0; step < 2; step++) {
      const batch = randomBatch(2, 20 + step, curriculum);
      const lossOne = trainStep(single, singleOptimizer, batch, 0.01, settings, where);
      const lossTwo = await pool.step(parallel, parallelOptimizer, batch, 0.01, settings, where);
      expect(lossTwo).toBeCloseTo(lossOne, 5);
    }
    const difference = relativeDifference(values(single.variables), values(parallel.variables));
    [singleOptimizer, parallelOptimizer].forEach((o) => o.dispose());
    [single, parallel].forEach((n: SegmentationNetwork) => n.dispose());
    return difference;
  }

  it("takes the same steps on two threads as on one", async () => {
    expect(await stepBoth(plain, false)).toBeLessThan(1e-5);
    expect(await stepBoth(ignoring, true)).toBeLessThan(1e-5);
  });

  it("passes a worker's error on, naming the cause", async () => {
    // A network with three stages has more variables than the two-stage copy in the worker.
    const other = createNetwork({ ...network, stages: 3 }, 1);
    const optimizer = new SgdOptimizer(other.variables, { momentum: 0.9, nesterov: false, weightDecay: 0 });
    const batch = { ...randomBatch(2, 4, false) };
    await expect(pool.step(other, optimizer, batch, 0.01, plain, { epoch: 0, iteration: 0 })).rejects.toThrow(
      /weight arrays for \d+ variables/,
    );
    optimizer.dispose();
    other.dispose();
  });
});

describe("trainNetwork with threads", () => {
  it("matches one-thread training weights", async () => {
    const schedule: TrainingSchedule = {
      ...nnUNetSchedule,
      epochs: 1,
      iterationsPerEpoch: 3,
      batchSize: 2,
      patchSize: [8, 16, 16],
      curriculumEpochs: [],
      validationPatchesPerCase: 1,
      augment: noAugment,
    };
    const cases = [syntheticTrainingCase(0, [32, 48, 48], 4), syntheticTrainingCase(1, [32, 48, 48], 4)];
    const base = { cases, validation: [], network, schedule, seed: 3 };
    const dir = (): Promise<string> => fs.mkdtemp(path.join(os.tmpdir(), "fancl-parallel-"));
    const one = await trainNetwork({ ...base, checkpointDir: await dir() });
    const two = await trainNetwork({ ...base, checkpointDir: await dir(), threads: 2 });

    expect(two.curve[0]!.loss).toBeCloseTo(one.curve[0]!.loss, 4);
    expect(relativeDifference(values(one.network.variables), values(two.network.variables))).toBeLessThan(1e-4);
    one.network.dispose();
    two.network.dispose();
  });

  it("rejects a thread count that is not a positive integer", async () => {
    const schedule: TrainingSchedule = { ...nnUNetSchedule, epochs: 1, iterationsPerEpoch: 1, batchSize: 2, patchSize: [8, 16, 16] };
    const cases = [syntheticTrainingCase(0, [32, 48, 48], 4)];
    await expect(
      trainNetwork({ cases, validation: [], network, schedule, seed: 1, checkpointDir: os.tmpdir(), threads: 1.5 }),
    ).rejects.toThrow(/threads.*1\.5/);
  });
});
