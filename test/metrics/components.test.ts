import { describe, expect, it } from "vitest";
import { dilate, labelComponents } from "../../src/metrics/components.js";
import { detectLesions } from "../../src/metrics/detection.js";
import { lesionWise } from "../../src/metrics/lesionwise.js";
import type { Grid } from "../../src/metrics/grid.js";

const dims: [number, number, number] = [5, 5, 5];
const at = (x: number, y: number, z: number) => (z * 5 + y) * 5 + x;

function maskOf(points: [number, number, number][]): Uint8Array {
  const mask = new Uint8Array(125);
  for (const [x, y, z] of points) mask[at(x, y, z)] = 1;
  return mask;
}

describe("labelComponents", () => {
  it("joins corner neighbours at 26 but not at 18", () => {
    // (1,1,1) and (2,2,2) touch only at a corner.
    const mask = maskOf([[1, 1, 1], [2, 2, 2]]);
    expect(labelComponents(mask, dims, 26).count).toBe(1);
    expect(labelComponents(mask, dims, 18).count).toBe(2);
  });

  it("joins edge neighbours at 18 but not at 6", () => {
    const mask = maskOf([[1, 1, 1], [2, 2, 1]]);
    expect(labelComponents(mask, dims, 18).count).toBe(1);
    expect(labelComponents(mask, dims, 6).count).toBe(2);
  });

  it("gives no component for an empty mask", () => {
    expect(labelComponents(new Uint8Array(125), dims, 26).count).toBe(0);
  });
});

describe("dilate", () => {
  it("grows one voxel into 19 with the 18-connected element", () => {
    // 1 centre + 6 face + 12 edge neighbours.
    const out = dilate(maskOf([[2, 2, 2]]), dims, 18);
    expect(out.reduce((s, v) => s + v, 0)).toBe(19);
  });

  it("clips at the array edge", () => {
    // A corner voxel at 18-connectivity: itself, 3 faces, 3 edges = 7.
    const out = dilate(maskOf([[0, 0, 0]]), dims, 18);
    expect(out.reduce((s, v) => s + v, 0)).toBe(7);
  });
});

describe("lesionWise", () => {
  const grid: Grid = { dims, spacing: [1, 1, 1] };

  it("merges two lesions two voxels apart by the dilation", () => {
    // Lesions at x = 0..1 and x = 3..4 (3 voxels each along z): gap of one voxel, so the
    // dilated masks touch and they form one lesion; the prediction covers only the first.
    const gt = maskOf([[0, 2, 1], [1, 2, 1], [0, 2, 2], [3, 2, 1], [4, 2, 1], [4, 2, 2]]);
    const pred = maskOf([[0, 2, 1], [1, 2, 1], [0, 2, 2]]);
    const result = lesionWise(gt, pred, grid);
    expect([result.gtLesions, result.tp, result.fp, result.fn]).toEqual([1, 1, 0, 0]);
    // Dice of the merged lesion: 2·3 / (6 + 3) = 2/3; one lesion, no FP.
    expect(result.lesionDice).toBeCloseTo(2 / 3, 12);
  });

  it("counts a distant prediction as FP and the missed lesion as FN", () => {
    // GT 3 voxels at the low corner, prediction 1 voxel at the far corner: Dice 0 / (1 + 1).
    const gt = maskOf([[0, 0, 0], [1, 0, 0], [0, 1, 0]]);
    const pred = maskOf([[4, 4, 4]]);
    const result = lesionWise(gt, pred, grid);
    expect([result.gtLesions, result.tp, result.fp, result.fn]).toEqual([1, 0, 1, 1]);
    expect(result.lesionDice).toBe(0);
  });

  it("leaves out lesions of 2 mm³ or less", () => {
    // A 2-voxel lesion at 1 mm: 2 mm³, left out; the prediction overlapping it is not FP.
    const gt = maskOf([[2, 2, 2], [3, 2, 2]]);
    const pred = maskOf([[2, 2, 2]]);
    const result = lesionWise(gt, pred, grid);
    expect([result.gtLesions, result.tp, result.fp, result.fn]).toEqual([0, 0, 0, 0]);
    expect(result.lesionDice).toBe(1);
  });
});

describe("detectLesions", () => {
  const idx = (x: number, y: number, z: number) => (z * 12 + y) * 12 + x;
  const cube = (labels: Uint8Array, lo: number, n: number, value: number) => {
    for (let z = lo; z < lo + n; z++) for (let y = lo; y < lo + n; y++) for (let x = lo; x < lo + n; x++) labels[idx(x, y, z)] = value;
  };

  it("classifies by equivalent-sphere diameter and detects by overlap", () => {
    // Spacing 3 mm (27 mm³ a voxel). Lesion A: 6³ voxels of label 2 = 5832 mm³,
    // diameter (6·5832/π)^(1/3) = 22.3 mm: large. Lesion B: 4³ voxels of label 1 at 7..10
    // = 1728 mm³, 14.9 mm: medium. Lesion C: one voxel of label 3 = 27 mm³, 3.7 mm: small.
    const gt = new Uint8Array(12 ** 3);
    cube(gt, 0, 6, 2);
    cube(gt, 7, 4, 1);
    gt[idx(11, 0, 0)] = 3;
    // The prediction touches A with one voxel and misses B and C.
    const pred = new Uint8Array(12 ** 3);
    pred[idx(5, 5, 5)] = 2;
    const lesions = detectLesions(gt, pred, { dims: [12, 12, 12], spacing: [3, 3, 3] });
    expect(lesions.map((l) => [l.volumeMm3, l.sizeClass, l.detected])).toEqual([
      [5832, "large", true],
      [27, "small", false],
      [1728, "medium", false],
    ]);
  });
});
