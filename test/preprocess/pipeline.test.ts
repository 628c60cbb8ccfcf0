import { describe, expect, it } from "vitest";

import { axisAlignedGeometry } from "../../src/nifti/geometry.js";
import type { LabelVolume, Volume } from "../../src/nifti/types.js";
import { preprocessCase, restoreLabels, restoreProbabilities } from "../../src/preprocess/pipeline.js";

type Shape = [number, number, number];

/** Builds a volume on a [D, H, W] grid at `spacing` mm, values from f(z, y, x). */
function volume(name: string, shape: Shape, spacing: number, f: (z: number, y: number, x: number) => number): Volume {
  const [nz, ny, nx] = shape;
  const data = new Float32Array(nz * ny * nx);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) data[(z * ny + y) * nx + x] = f(z, y, x);
  return { path: `${name}.nii.gz`, geometry: axisAlignedGeometry([nx, ny, nz], [spacing, spacing, spacing]), data, datatype: "float32" };
}

function labels(name: string, shape: Shape, spacing: number, f: (z: number, y: number, x: number) => number): LabelVolume {
  const v = volume(name, shape, spacing, f);
  return { path: v.path, geometry: v.geometry, data: Uint8Array.from(v.data) };
}

const inRange = (v: number, lo: number, hi: number) => v >= lo && v < hi;

/** Number of positions where two equally long arrays differ (a fast exact comparison). */
function differences(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

describe("preprocessCase without resampling", () => {
  // Brain: z 3..15, y 4..19, x 5..22 of a [20, 24, 28] grid at 1 mm.
  const shape: Shape = [20, 24, 28];
  const inBrain = (z: number, y: number, x: number) => inRange(z, 3, 16) && inRange(y, 4, 20) && inRange(x, 5, 23);
  // Modality a: 2 for x < 14, 4 for x >= 14 (9 columns each): mean 3, sd 1. Modality b: 10 for
  // y < 12, 30 for y >= 12 (8 rows each): mean 20, sd 10.
  const a = volume("a", shape, 1, (z, y, x) => {
    if (!inBrain(z, y, x)) return 0;
    return x < 14 ? 2 : 4;
  });
  const b = volume("b", shape, 1, (z, y, x) => {
    if (!inBrain(z, y, x)) return 0;
    return y < 12 ? 10 : 30;
  });
  const seg = labels("seg", shape, 1, (z, y, x) =>
    inRange(z, 6, 10) && inRange(y, 8, 12) && inRange(x, 9, 20) ? 1 + (x % 3) : 0,
  );
  const preprocessed = preprocessCase({ id: "toy", modalities: ["a", "b"], images: [a, b], seg });

  it("crops to the brain's bounding box", () => {
    expect(preprocessed.meta.cropBox).toEqual({ start: [3, 4, 5], end: [16, 20, 23] });
    expect(preprocessed.shape).toEqual([13, 16, 18]);
    expect(preprocessed.meta.croppedShape).toEqual([13, 16, 18]);
    expect(preprocessed.meta.originalShape).toEqual([20, 24, 28]);
  });

  it("records the hand-computed z-score statistics", () => {
    expect(preprocessed.meta.normalisation).toEqual([
      { modality: "a", mean: 3, sd: 1 },
      { modality: "b", mean: 20, sd: 10 },
    ]);
  });

  it("stores the z-scored modalities channels last", () => {
    const [d, h, w] = preprocessed.shape;
    expect(preprocessed.image.length).toBe(d * h * w * 2);
    for (const [z, y, x] of [[0, 0, 0], [5, 7, 8], [12, 15, 17], [4, 9, 10]] as Shape[]) {
      const i = (z * h + y) * w + x;
      expect(preprocessed.image[i * 2], `a at ${z},${y},${x}`).toBe(x + 5 < 14 ? -1 : 1);
      expect(preprocessed.image[i * 2 + 1], `b at ${z},${y},${x}`).toBe(y + 4 < 12 ? -1 : 1);
    }
  });

  it("keeps the spacing and records no target", () => {
    expect(preprocessed.spacing).toEqual([1, 1, 1]);
    expect(preprocessed.meta.targetSpacing).toBeNull();
  });

  it("restoreLabels returns the original label map exactly", () => {
    expect(differences(restoreLabels(preprocessed.label!, preprocessed.meta), seg.data)).toBe(0);
  });

  it("restoreProbabilities puts background probability 1 outside the crop box", () => {
    const [d, h, w] = preprocessed.shape;
    const probabilities = new Float32Array(d * h * w * 3).fill(0.25);
    const restored = restoreProbabilities(probabilities, 3, preprocessed.meta);
    expect(restored.length).toBe(20 * 24 * 28 * 3);
    expect(Array.from(restored.subarray(0, 3))).toEqual([1, 0, 0]);
    const inside = ((3 * 24 + 4) * 28 + 5) * 3;
    expect(Array.from(restored.subarray(inside, inside + 3))).toEqual([0.25, 0.25, 0.25]);
  });

  it("rejects a prediction of the wrong size", () => {
    expect(() => restoreLabels(new Uint8Array(10), preprocessed.meta)).toThrow(/preprocessed grid is 13x16x18/);
  });
});

describe("preprocessCase with resampling 1 mm → 2 mm", () => {
  // A 64³ grid at 1 mm, non-zero everywhere so that nothing is cropped.
  const shape: Shape = [64, 64, 64];
  const image = volume("t1", shape, 1, (z, y, x) => 1 + ((z * 7 + y * 3 + x) % 5));
  const cube = (lo: number, hi: number) =>
    labels("seg", shape, 1, (z, y, x) => (inRange(z, lo, hi) && inRange(y, lo, hi) && inRange(x, lo, hi) ? 3 : 0));

  const count = (data: Uint8Array) => data.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);

  it("halves the grid and reports the 2 mm spacing", () => {
    const p = preprocessCase({ id: "c", modalities: ["t1"], images: [image], seg: cube(22, 42) }, { targetSpacing: [2, 2, 2] });
    expect(p.shape).toEqual([32, 32, 32]);
    expect(p.spacing).toEqual([2, 2, 2]);
    expect(p.meta.targetSpacing).toEqual([2, 2, 2]);
    expect(p.image.length).toBe(32 ** 3);
  });

  it("restores a 20-voxel cube aligned to even indices exactly", () => {
    // Down, coarse voxel k reads fine voxel 2k + 1 because position 2k + 0.5 rounds up. Up, fine
    // voxels 2k and 2k + 1 read coarse voxel k. The cube [22, 42) is the pairs k = 11..20, so it returns whole.
    const seg = cube(22, 42);
    const p = preprocessCase({ id: "c", modalities: ["t1"], images: [image], seg }, { targetSpacing: [2, 2, 2] });
    expect(count(p.label!)).toBe(10 ** 3);
    expect(differences(restoreLabels(p.label!, p.meta), seg.data)).toBe(0);
  });

  it("keeps a 21-voxel cube's voxel count within one voxel per axis", () => {
    // Per axis the restored set is the pairs {2k, 2k + 1} whose odd member lies in [a, b), so its
    // length is L - 1, L or L + 1 for an original length L = 21: count within [20³, 22³]. For
    // [23, 44) the odd members 23..43 give k = 11..21, i.e. [22, 44): exactly 22³ = 10648.
    const seg = cube(23, 44);
    const p = preprocessCase({ id: "c", modalities: ["t1"], images: [image], seg }, { targetSpacing: [2, 2, 2] });
    const restored = count(restoreLabels(p.label!, p.meta));
    expect(restored).toBeGreaterThanOrEqual(20 ** 3);
    expect(restored).toBeLessThanOrEqual(22 ** 3);
    expect(restored).toBe(10648);
  });
});

describe("preprocessCase with other spacings", () => {
  it("maps [dx, dy, dz] to the W, H and D axes", () => {
    // Spacing 0.5 mm in x, 1 mm in y, 2 mm in z on a [D, H, W] = [6, 8, 10] grid, resampled to 1 mm:
    // D 6·2/1 = 12, H 8·1/1 = 8, W 10·0.5/1 = 5.
    const v = volume("t1", [6, 8, 10], 1, () => 1);
    const anisotropic: Volume = { ...v, geometry: axisAlignedGeometry([10, 8, 6], [0.5, 1, 2]) };
    const p = preprocessCase({ id: "a", modalities: ["t1"], images: [anisotropic] }, { targetSpacing: [1, 1, 1] });
    expect(p.shape).toEqual([12, 8, 5]);
    expect(p.spacing).toEqual([1, 1, 1]);
    expect(p.meta.spacingBefore).toEqual([0.5, 1, 2]);
  });

  it("reports the exact grid spacing when the size rounds", () => {
    // W = 25 voxels of 1 mm to 2 mm: round(12.5) = 13 voxels of 25/13 mm.
    const p = preprocessCase({ id: "r", modalities: ["t1"], images: [volume("t1", [4, 4, 25], 1, () => 1)] }, { targetSpacing: [2, 1, 1] });
    expect(p.shape).toEqual([4, 4, 13]);
    expect(p.spacing[0]).toBeCloseTo(25 / 13, 12);
  });

  it("restores labels exactly after upsampling 1 mm → 0.5 mm", () => {
    // Up by 2, fine voxels 2k and 2k + 1 read coarse voxel k. Back down, coarse voxel k reads fine
    // voxel 2k + 1, which carries k's label, so every label map returns unchanged.
    const shape: Shape = [9, 10, 11];
    const image = volume("t1", shape, 1, () => 5);
    const seg = labels("seg", shape, 1, (z, y, x) => (z * 7 + y * 5 + x * 3) % 4);
    const p = preprocessCase({ id: "u", modalities: ["t1"], images: [image], seg }, { targetSpacing: [0.5, 0.5, 0.5] });
    expect(p.shape).toEqual([18, 20, 22]);
    expect(differences(restoreLabels(p.label!, p.meta), seg.data)).toBe(0);
  });

  it("restoreProbabilities returns a constant map unchanged through resampling", () => {
    const shape: Shape = [8, 8, 8];
    const image = volume("t1", shape, 1, (z) => (z >= 2 && z < 6 ? 1 : 0));
    const p = preprocessCase({ id: "p", modalities: ["t1"], images: [image] }, { targetSpacing: [2, 2, 2] });
    expect(p.shape).toEqual([2, 4, 4]);
    const probabilities = new Float32Array(2 * 4 * 4 * 2);
    for (let i = 0; i < probabilities.length; i += 2) {
      probabilities[i] = 0.75;
      probabilities[i + 1] = 0.25;
    }
    const restored = restoreProbabilities(probabilities, 2, p.meta);
    for (let z = 0; z < 8; z++) {
      const i = ((z * 8 + 3) * 8 + 3) * 2;
      // Inside the crop box (z 2..5) the interpolation of a constant is that constant.
      const inside = z >= 2 && z < 6;
      expect(restored[i], `background at z ${z}`).toBe(inside ? 0.75 : 1);
      expect(restored[i + 1], `tumour at z ${z}`).toBe(inside ? 0.25 : 0);
    }
  });
});

describe("preprocessCase brain mask", () => {
  it("counts an enclosed zero voxel as brain, as nnU-Net's hole filling does", () => {
    // A 3³ cube of 2 with a 0 at its centre inside a 5³ grid: 27 brain voxels, 26 of value 2.
    // mean = 52/27; variance = 104/27 − (52/27)² = 104/729, so sd = √104 / 27.
    const inCube = (v: number) => v >= 1 && v <= 3;
    const image = volume("t1", [5, 5, 5], 1, (z, y, x) =>
      inCube(z) && inCube(y) && inCube(x) && !(z === 2 && y === 2 && x === 2) ? 2 : 0,
    );
    const p = preprocessCase({ id: "h", modalities: ["t1"], images: [image] });
    expect(p.shape).toEqual([3, 3, 3]);
    expect(p.meta.normalisation[0]!.mean).toBeCloseTo(52 / 27, 12);
    expect(p.meta.normalisation[0]!.sd).toBeCloseTo(Math.sqrt(104) / 27, 12);
    // The hole is z-scored like any brain voxel: (0 − 52/27) / (√104 / 27) = −52 / √104.
    expect(p.image[13]).toBeCloseTo(-52 / Math.sqrt(104), 5);
  });
});

describe("preprocessCase open cavity", () => {
  it("leaves a cavity open through the crop box face out of the brain", () => {
    // The same cube with both the centre (2, 2, 2) and the top-face centre (3, 2, 2) at 0: the
    // cavity opens onto the grid's outside, so it is not a hole and stays 0 after the z-score.
    const inCube = (v: number) => v >= 1 && v <= 3;
    const image = volume("t1", [5, 5, 5], 1, (z, y, x) => {
      if (!(inCube(z) && inCube(y) && inCube(x))) return 0;
      if (y === 2 && x === 2 && (z === 2 || z === 3)) return 0;
      return 1 + x;
    });
    const p = preprocessCase({ id: "o", modalities: ["t1"], images: [image] });
    expect(p.meta.cropBox).toEqual({ start: [1, 1, 1], end: [4, 4, 4] });
    // Cropped voxel (1, 1, 1) is the centre.
    expect(p.image[13]).toBe(0);
    // 25 brain voxels: x = 1 and x = 3 have 9 each (values 2 and 4), x = 2 has 7 (value 3): mean 3.
    expect(p.meta.normalisation[0]!.mean).toBeCloseTo(3, 12);
  });
});

describe("preprocessCase input checks", () => {
  it("names both files when the grids differ", () => {
    const a = volume("case-t1n", [4, 5, 6], 1, () => 1);
    const b = volume("case-t1c", [4, 5, 7], 1, () => 1);
    expect(() => preprocessCase({ id: "x", modalities: ["t1n", "t1c"], images: [a, b] })).toThrow(
      "case-t1c.nii.gz has shape 7x5x4 but case-t1n.nii.gz has 6x5x4; all modalities and the segmentation of a case must share one grid",
    );
  });

  it("rejects a case without images", () => {
    expect(() => preprocessCase({ id: "x", modalities: [], images: [] })).toThrow(/case x has no images/);
  });
});
