import { describe, expect, it } from "vitest";

import { augmentBatch, flipAxis, noAugment } from "../../src/train/augment.js";
import { Random } from "../../src/train/random.js";
import type { PatchBatch } from "../../src/train/types.js";

/** Builds a batch of 2 patches 3×4×5 with 2 channels: channel 0 = the label, channel 1 = a ramp. */
function labelledBatch(): PatchBatch {
  const voxels = 3 * 4 * 5;
  const label = Uint8Array.from({ length: 2 * voxels }, (_, i) => (i * 7) % 4);
  const image = new Float32Array(2 * voxels * 2);
  for (let i = 0; i < 2 * voxels; i++) {
    image[i * 2] = label[i]!;
    image[i * 2 + 1] = i / 10;
  }
  return { image, label, curriculum: label.slice(), batchSize: 2, patchSize: [3, 4, 5], channels: 2 };
}

function stats(values: number[]) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, sd };
}

describe("flipAxis", () => {
  it("reverses the W axis", () => {
    // 1×2×3 block: [0 1 2 | 3 4 5] → [2 1 0 | 5 4 3].
    const data = Uint8Array.from([0, 1, 2, 3, 4, 5]);
    flipAxis(data, 0, [1, 2, 3], 1, 2);
    expect(Array.from(data)).toEqual([2, 1, 0, 5, 4, 3]);
  });

  it("reverses the D axis keeping channels", () => {
    // 2×1×2 block with 2 channels: the two depth slices swap, each voxel's channels stay together.
    const data = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    flipAxis(data, 0, [2, 1, 2], 2, 0);
    expect(Array.from(data)).toEqual([5, 6, 7, 8, 1, 2, 3, 4]);
  });

  it("twice on each axis is the identity", () => {
    const data = Float32Array.from({ length: 3 * 4 * 5 * 2 }, (_, i) => i);
    const copy = data.slice();
    for (const axis of [0, 1, 2] as const) {
      flipAxis(data, 0, [3, 4, 5], 2, axis);
      flipAxis(data, 0, [3, 4, 5], 2, axis);
    }
    expect(Array.from(data)).toEqual(Array.from(copy));
  });
});

describe("augmentBatch", () => {
  it("mirroring keeps image, G and curriculum aligned", () => {
    const batch = labelledBatch();
    const before = Array.from(batch.image);
    for (let seed = 0; seed < 5; seed++) augmentBatch(batch, { ...noAugment, mirror: true }, new Random(seed));
    for (let i = 0; i < batch.label.length; i++) {
      expect(batch.image[i * 2]).toBe(batch.label[i]);
      expect(batch.curriculum![i]).toBe(batch.label[i]);
    }
    expect(Array.from(batch.image)).not.toEqual(before);
  });

  it("brightness fixed at 2 doubles every value", () => {
    const batch = labelledBatch();
    const before = Array.from(batch.image);
    augmentBatch(batch, { ...noAugment, brightness: { probability: 1, range: [2, 2] } }, new Random(1));
    expect(Array.from(batch.image)).toEqual(before.map((x) => 2 * x));
  });

  it("noise of variance 0.25 adds deviations with sd near 0.5", () => {
    const voxels = 16 * 16 * 16;
    const batch: PatchBatch = {
      image: new Float32Array(voxels),
      label: new Uint8Array(voxels),
      batchSize: 1,
      patchSize: [16, 16, 16],
      channels: 1,
    };
    augmentBatch(batch, { ...noAugment, noise: { probability: 1, variance: [0.25, 0.25] } }, new Random(2));
    const { mean, sd } = stats(Array.from(batch.image));
    // 4096 samples: the sd of the sample mean is 0.5/64 ≈ 0.008, of the sample sd ≈ 0.0055.
    expect(Math.abs(mean)).toBeLessThan(0.04);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.03);
  });

  it("gamma changes values but keeps each channel's mean and sd", () => {
    const batch = labelledBatch();
    const channel = (b: PatchBatch, c: number) => Array.from(b.image.subarray(0, 60 * 2)).filter((_, i) => i % 2 === c);
    const before = stats(channel(batch, 1));
    const rampBefore = channel(batch, 1);
    augmentBatch(batch, { ...noAugment, gamma: { probability: 1, range: [1.5, 1.5] } }, new Random(3));
    const after = stats(channel(batch, 1));
    expect(after.mean).toBeCloseTo(before.mean, 4);
    expect(after.sd).toBeCloseTo(before.sd, 4);
    expect(channel(batch, 1)).not.toEqual(rampBefore);
  });
});
