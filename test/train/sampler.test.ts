import { describe, expect, it } from "vitest";

import { Random } from "../../src/train/random.js";
import { cropInto, foregroundByClass, isForcedForeground, patchStart, sampleBatch } from "../../src/train/sampler.js";
import type { TrainingCase } from "../../src/train/types.js";

/** Builds a case of `shape` whose image channel c at voxel v is v·10 + c, with one foreground voxel. */
function caseWithVoxel(shape: [number, number, number], foreground: [number, number, number], channels = 2): TrainingCase {
  const voxels = shape[0] * shape[1] * shape[2];
  const image = new Float32Array(voxels * channels);
  for (let v = 0; v < voxels; v++) for (let c = 0; c < channels; c++) image[v * channels + c] = v * 10 + c;
  const label = new Uint8Array(voxels);
  label[(foreground[0] * shape[1] + foreground[1]) * shape[2] + foreground[2]] = 2;
  return { id: "hand", image, label, shape };
}

describe("foreground oversampling rule", () => {
  const forced = (batch: number) => Array.from({ length: batch }, (_, i) => isForcedForeground(i, batch, 0.33));

  it("forces the last round(B·0.33) samples", () => {
    // B = 1: none; B = 2: the second; B = 6: the last two.
    expect(forced(1)).toEqual([false]);
    expect(forced(2)).toEqual([false, true]);
    expect(forced(3)).toEqual([false, false, true]);
    expect(forced(6)).toEqual([false, false, false, false, true, true]);
  });
});

describe("class-first foreground sampling", () => {
  // A 20×20×20 case: class 2 fills the slab z < 10 (4000 voxels), class 3 is the single voxel
  // [15, 15, 15], and class 1 is absent. A voxel of G drawn uniformly is the class-3 voxel in 1 of
  // 4001 draws, but a class drawn first is class 3 in half of them.
  const shape: [number, number, number] = [20, 20, 20];
  const label = new Uint8Array(20 * 20 * 20);
  for (let v = 0; v < 10 * 20 * 20; v++) label[v] = 2;
  const rare = (15 * 20 + 15) * 20 + 15;
  label[rare] = 3;

  it("groups voxels by the classes present", () => {
    const classes = foregroundByClass(label);
    expect(classes.length).toBe(2);
    expect(classes[0]!.length).toBe(4000);
    expect(classes[0]![3999]).toBe(3999);
    expect(Array.from(classes[1]!)).toEqual([rare]);
  });

  it("gives an empty list for a label map without foreground", () => {
    expect(foregroundByClass(new Uint8Array(27))).toEqual([]);
  });

  it("centres on a one-voxel class about half the time", () => {
    const rng = new Random(11);
    const draws = 2000;
    let onRare = 0;
    for (let i = 0; i < draws; i++) {
      const start = patchStart(label, shape, [4, 4, 4], true, rng);
      // The patch's centre voxel is start + 2 on each axis.
      if (start[0] + 2 === 15 && start[1] + 2 === 15 && start[2] + 2 === 15) onRare++;
    }
    // Binomial(2000, 0.5) has mean 1000 and standard deviation 22.4, so ±150 is over 6 deviations.
    expect(onRare).toBeGreaterThan(850);
    expect(onRare).toBeLessThan(1150);
  });
});

describe("patchStart", () => {
  it("centres a foreground patch on the only foreground voxel", () => {
    const c = caseWithVoxel([20, 20, 20], [10, 12, 9]);
    const start = patchStart(c.label, c.shape, [8, 8, 8], true, new Random(1));
    // Voxel minus half the patch, per axis.
    expect(start).toEqual([6, 8, 5]);
  });

  it("keeps a foreground patch from starting below the lower bound near the edge", () => {
    const c = caseWithVoxel([20, 20, 20], [1, 0, 19]);
    const start = patchStart(c.label, c.shape, [8, 8, 8], true, new Random(1));
    // z: max(0, 1 − 4) = 0; y: max(0, −4) = 0; x: 19 − 4 = 15 (overhangs the upper end; padded).
    expect(start).toEqual([0, 0, 15]);
  });

  it("places uniform patches inside the case, reaching both ends", () => {
    const c = caseWithVoxel([10, 12, 9], [0, 0, 0]);
    const rng = new Random(7);
    const seen = new Set<number>();
    for (let i = 0; i < 400; i++) {
      const [z, y, x] = patchStart(c.label, c.shape, [4, 4, 4], false, rng);
      expect(z).toBeGreaterThanOrEqual(0);
      expect(z).toBeLessThanOrEqual(6);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(8);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(5);
      seen.add(x);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("centres a case smaller than the patch", () => {
    // Shape [2, 3, 4] in a 4³ patch starts at [−1, 0, 0].
    // need to pad: [2, 1, 0] → lower bound −floor(pad/2) = [−1, 0, 0], upper bound equal to it.
    const c = caseWithVoxel([2, 3, 4], [0, 0, 0]);
    expect(patchStart(c.label, c.shape, [4, 4, 4], false, new Random(3))).toEqual([-1, 0, 0]);
  });
});

describe("cropInto", () => {
  it("copies the block and pads with zeros outside the volume", () => {
    const c = caseWithVoxel([2, 3, 4], [0, 0, 0]);
    const out = new Float32Array(4 * 4 * 4 * 2);
    cropInto(c.image, c.shape, 2, [-1, 0, 0], [4, 4, 4], out, 0);
    for (let z = 0; z < 4; z++) {
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) {
          const sz = z - 1;
          const inside = sz >= 0 && sz < 2 && y < 3;
          const v = (sz * 3 + y) * 4 + x;
          for (let ch = 0; ch < 2; ch++) {
            expect(out[((z * 4 + y) * 4 + x) * 2 + ch]).toBe(inside ? v * 10 + ch : 0);
          }
        }
      }
    }
  });
});

describe("sampleBatch", () => {
  it("centres the forced sample on foreground", () => {
    // Batch of 2: the second sample has the only foreground voxel at its centre.
    const c = caseWithVoxel([16, 16, 16], [9, 5, 11], 1);
    const batch = sampleBatch([c], { batchSize: 2, patchSize: [6, 6, 6], oversampleForeground: 0.33, curriculumStage: -1 }, new Random(5));
    const voxels = 6 * 6 * 6;
    const centre = (3 * 6 + 3) * 6 + 3;
    expect(batch.label[voxels + centre]).toBe(2);
    expect(batch.image[voxels + centre]).toBe(((9 * 16 + 5) * 16 + 11) * 10);
    expect(batch.curriculum).toBeUndefined();
  });

  it("cuts the active curriculum mask at the same place as G", () => {
    const c = caseWithVoxel([8, 8, 8], [4, 4, 4], 1);
    const mask = new Uint8Array(c.label.length);
    mask[(4 * 8 + 4) * 8 + 4] = 7;
    const withMask = { ...c, curricula: [new Uint8Array(c.label.length), mask] };
    const batch = sampleBatch([withMask], { batchSize: 2, patchSize: [4, 4, 4], oversampleForeground: 0.33, curriculumStage: 1 }, new Random(9));
    const centre = (2 * 4 + 2) * 4 + 2;
    expect(batch.curriculum![64 + centre]).toBe(7);
  });

  it("names the case when a curriculum stage has no mask", () => {
    const c = caseWithVoxel([8, 8, 8], [4, 4, 4], 1);
    expect(() =>
      sampleBatch([c], { batchSize: 1, patchSize: [4, 4, 4], oversampleForeground: 0.33, curriculumStage: 0 }, new Random(1)),
    ).toThrow(/case hand has 0 curriculum masks/);
  });

  it("is reproducible from the generator state", () => {
    const c = caseWithVoxel([12, 12, 12], [3, 3, 3], 1);
    const options = { batchSize: 3, patchSize: [4, 4, 4] as const, oversampleForeground: 0.33, curriculumStage: -1 };
    const a = new Random(11);
    sampleBatch([c], options, a);
    const b = Random.fromState(a.getState());
    expect(Array.from(sampleBatch([c], options, a).image)).toEqual(Array.from(sampleBatch([c], options, b).image));
  });
});
