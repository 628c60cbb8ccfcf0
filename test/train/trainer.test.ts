import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import type { NetworkConfig } from "../../src/nn/network.js";
import { initBackend } from "../../src/tensor/backend.js";
import { noAugment } from "../../src/train/augment.js";
import { buildCurricula } from "../../src/train/curriculum.js";
import { nnUNetSchedule, type TrainingSchedule } from "../../src/train/schedule.js";
import { NonFiniteLossError, trainNetwork, type CurveEntry, type TrainOptions } from "../../src/train/trainer.js";
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

const schedule: TrainingSchedule = {
  ...nnUNetSchedule,
  epochs: 3,
  iterationsPerEpoch: 2,
  batchSize: 2,
  patchSize: [8, 16, 16],
  curriculumEpochs: [],
  validationPatchesPerCase: 1,
};

const cases = [syntheticTrainingCase(0, [32, 48, 48], 4), syntheticTrainingCase(1, [32, 48, 48], 4)];
const validation = [syntheticTrainingCase(3, [32, 48, 48], 4)];

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), "fancl-train-"));
}

async function weightsOf(variables: readonly tf.Variable[]): Promise<Float32Array[]> {
  return Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
}

beforeAll(async () => {
  await initBackend("wasm", () => {});
});

describe("trainNetwork checkpoints", () => {
  it("resumes an interrupted run exactly", async () => {
    // Interrupted after epoch 1 and resumed: the weights and curve of an uninterrupted run.
    const options: TrainOptions = { cases, validation, network, schedule, seed: 17, checkpointDir: await tempDir() };
    const uninterrupted = await trainNetwork(options);

    const checkpointDir = await tempDir();
    const controller = new AbortController();
    const seen: CurveEntry[] = [];
    await expect(
      trainNetwork({
        ...options,
        checkpointDir,
        signal: controller.signal,
        onEpoch: (entry) => {
          seen.push(entry);
          controller.abort();
        },
      }),
    ).rejects.toThrow();
    expect(seen.map((e) => e.epoch)).toEqual([0]);

    const resumedEpochs: number[] = [];
    const resumed = await trainNetwork({ ...options, checkpointDir, onEpoch: (e) => resumedEpochs.push(e.epoch) });
    expect(resumedEpochs).toEqual([1, 2]);
    expect(resumed.curve).toEqual(uninterrupted.curve);

    const a = await weightsOf(uninterrupted.network.variables);
    const b = await weightsOf(resumed.network.variables);
    let maxDifference = 0;
    a.forEach((values, i) => values.forEach((x, j) => (maxDifference = Math.max(maxDifference, Math.abs(x - b[i]![j]!)))));
    expect(maxDifference).toBeLessThanOrEqual(1e-5);

    // A finished training's checkpoint gives the same result again without running an epoch.
    const again: number[] = [];
    const repeated = await trainNetwork({ ...options, checkpointDir, onEpoch: (e) => again.push(e.epoch) });
    expect(again).toEqual([]);
    expect(repeated.curve).toEqual(uninterrupted.curve);
    uninterrupted.network.dispose();
    resumed.network.dispose();
    repeated.network.dispose();
  });

  it("leaves no tensors behind and reports progress up to 1", async () => {
    const before = tf.memory().numTensors;
    const fractions: number[] = [];
    const result = await trainNetwork({
      cases,
      validation,
      network: { ...network, fga: { ...network.fga, enabled: true } },
      schedule: { ...schedule, curriculumEpochs: [] },
      seed: 8,
      checkpointDir: await tempDir(),
      onProgress: (fraction) => fractions.push(fraction),
    });
    result.network.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(fractions).toHaveLength(6);
    expect(fractions[5]).toBe(1);
  });

  it("records loss, poly lr and validation Dice for every epoch", async () => {
    const result = await trainNetwork({ cases, validation, network, schedule, seed: 3, checkpointDir: await tempDir() });
    expect(result.curve.map((e) => e.epoch)).toEqual([0, 1, 2]);
    // lr0·(1 − e/3)^0.9: 0.01, 0.01·(2/3)^0.9 = 0.0069425 (exp(0.9·ln(2/3)) = 0.694253), 0.01·(1/3)^0.9 = 0.0037204.
    expect(result.curve[0]!.lr).toBeCloseTo(0.01, 10);
    expect(result.curve[1]!.lr).toBeCloseTo(0.0069425, 6);
    expect(result.curve[2]!.lr).toBeCloseTo(0.0037204, 6);
    for (const entry of result.curve) {
      expect(Number.isFinite(entry.loss)).toBe(true);
      expect(entry.valDice).toBeGreaterThanOrEqual(0);
      expect(entry.valDice).toBeLessThanOrEqual(1);
      expect(entry.curriculumStage).toBeNull();
    }
    result.network.dispose();
  });

  it("refuses a checkpoint written by a different training", async () => {
    const checkpointDir = await tempDir();
    const short = { ...schedule, epochs: 1, iterationsPerEpoch: 1 };
    (await trainNetwork({ cases, validation: [], network, schedule: short, seed: 1, checkpointDir })).network.dispose();
    await expect(trainNetwork({ cases, validation: [], network, schedule: short, seed: 2, checkpointDir })).rejects.toThrow(
      /belongs to a different training/,
    );

    // The same training with its settings listed in another key order resumes the checkpoint.
    const reordered = Object.fromEntries(Object.entries(short).reverse()) as unknown as TrainingSchedule;
    const resumed = await trainNetwork({ cases, validation: [], network, schedule: reordered, seed: 1, checkpointDir });
    expect(resumed.curve).toHaveLength(1);
    resumed.network.dispose();
  });
});

describe("trainNetwork with a curriculum", () => {
  it("runs curriculum stages, then G alone", async () => {
    // Stages 1 and 2 for one epoch each, in both hard-voxel modes.
    // Mining predictions: G with its ET removed (shallow) and G itself (deep).
    const staged = cases.map((c) => ({
      ...c,
      curricula: buildCurricula(c.label, [c.label.map((l) => (l === 3 ? 0 : l)), c.label]),
    }));
    for (const hardVoxels of ["background", "ignore"] as const) {
      const result = await trainNetwork({
        cases: staged,
        validation: [],
        network,
        schedule: { ...schedule, curriculumEpochs: [1, 1], hardVoxels },
        seed: 4,
        checkpointDir: await tempDir(),
      });
      expect(result.curve.map((e) => e.curriculumStage)).toEqual([1, 2, null]);
      expect(result.curve.every((e) => Number.isFinite(e.loss) && e.valDice === null)).toBe(true);
      result.network.dispose();
    }
  });
});

describe("trainNetwork errors", () => {
  it("stops on a NaN loss with an error naming epoch 0, iteration 0", async () => {
    const poisoned = cases.map((c) => ({ ...c, image: c.image.map(() => Number.NaN) }));
    const attempt = trainNetwork({ cases: poisoned, validation: [], network, schedule, seed: 1, checkpointDir: await tempDir() });
    await expect(attempt).rejects.toThrow(/loss is NaN at epoch 0 iteration 0/);
    await expect(attempt).rejects.toBeInstanceOf(NonFiniteLossError);
  });

  it("stops when a huge learning rate makes the loss overflow, naming where", async () => {
    const wild = { ...schedule, lr: 1e12, epochs: 3, iterationsPerEpoch: 3, augment: noAugment };
    const error = await trainNetwork({ cases, validation: [], network, schedule: wild, seed: 1, checkpointDir: await tempDir() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NonFiniteLossError);
    const { epoch, iteration } = error as NonFiniteLossError;
    expect((error as Error).message).toContain(`epoch ${epoch} iteration ${iteration}`);
    // The first step is taken with the initial weights, whose loss is finite.
    expect(epoch * 3 + iteration).toBeGreaterThan(0);
  });

  it("rejects a patch size the network cannot halve", async () => {
    const odd = { ...schedule, patchSize: [8, 16, 15] as const };
    await expect(trainNetwork({ cases, validation: [], network, schedule: odd, seed: 1, checkpointDir: await tempDir() })).rejects.toThrow(
      /patchSize \[8, 16, 15\] must be divisible by 2\^\(stages − 1\) = 2/,
    );
  });

  it("rejects curriculum stages when the cases have no curriculum masks", async () => {
    const staged = { ...schedule, curriculumEpochs: [1, 1] };
    await expect(trainNetwork({ cases, validation: [], network, schedule: staged, seed: 1, checkpointDir: await tempDir() })).rejects.toThrow(
      /has 0 curriculum masks but curriculumEpochs has 2 stages/,
    );
  });
});
