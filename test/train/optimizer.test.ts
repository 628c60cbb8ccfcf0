import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { SgdOptimizer } from "../../src/train/optimizer.js";
import { polyLearningRate, validateSchedule, nnUNetSchedule } from "../../src/train/schedule.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("SgdOptimizer", () => {
  it("matches torch Nesterov SGD", () => {
    // torch.optim.SGD(lr 0.1, momentum 0.9, nesterov, weight_decay 0.1) minimising θ² from θ = 1.
    // torch 1.13 prints θ = 0.6010000109672546, 0.19110101461410522, -0.14046837389469147.
    // By hand, step 1: g = 2 + 0.1 = 2.1, v = 2.1, θ = 1 − 0.1·(2.1 + 0.9·2.1) = 0.601.
    const theta = tf.variable(tf.scalar(1));
    const optimizer = new SgdOptimizer([theta], { momentum: 0.9, nesterov: true, weightDecay: 0.1 });
    const values: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { grads } = tf.variableGrads(() => tf.square(theta) as tf.Scalar, [theta]);
      optimizer.step([grads[theta.name]!], 0.1);
      tf.dispose(grads);
      values.push(theta.dataSync()[0]!);
    }
    expect(values[0]).toBeCloseTo(0.601, 6);
    expect(values[1]).toBeCloseTo(0.19110101461410522, 6);
    expect(values[2]).toBeCloseTo(-0.14046837389469147, 6);
    optimizer.dispose();
    theta.dispose();
  });

  it("restores velocities so that a restored optimiser continues identically", async () => {
    const a = tf.variable(tf.tensor([1, -2]));
    const b = tf.variable(tf.tensor([1, -2]));
    const first = new SgdOptimizer([a], { momentum: 0.99, nesterov: true, weightDecay: 0 });
    const gradient = tf.tensor([0.5, 0.25]);
    first.step([gradient], 0.01);
    b.assign(a);
    const second = new SgdOptimizer([b], { momentum: 0.99, nesterov: true, weightDecay: 0 });
    second.setState(await first.getState());
    first.step([gradient], 0.01);
    second.step([gradient], 0.01);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b, gradient]);
    first.dispose();
    second.dispose();
  });
});

describe("poly learning rate", () => {
  it("decays as (1 − epoch/epochs)^0.9", () => {
    // lr0 at epoch 0, lr0·0.5^0.9 = 0.0053589 at half of the epochs.
    expect(polyLearningRate(0.01, 0, 100, 0.9)).toBe(0.01);
    // 0.5^0.9 = exp(0.9·ln 0.5) = 0.535887
    expect(polyLearningRate(0.01, 50, 100, 0.9)).toBeCloseTo(0.005358867, 8);
    expect(polyLearningRate(0.01, 9, 10, 0.9)).toBeCloseTo(0.001258925, 8);
  });
});

describe("validateSchedule", () => {
  const base = { ...nnUNetSchedule, epochs: 4, iterationsPerEpoch: 2, batchSize: 2, patchSize: [8, 8, 8] as const };

  it("accepts nnU-Net's settings", () => {
    expect(() => validateSchedule(base)).not.toThrow();
  });

  it("rejects curriculum stages longer than the training, naming both numbers", () => {
    expect(() => validateSchedule({ ...base, curriculumEpochs: [3, 2] })).toThrow(/add up to 5 but epochs is 4/);
  });

  it("rejects a zero batch size", () => {
    expect(() => validateSchedule({ ...base, batchSize: 0 })).toThrow(/batchSize is 0/);
  });
});
