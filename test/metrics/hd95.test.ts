import { describe, expect, it } from "vitest";
import { directedSurfaceDistances, hd95 } from "../../src/metrics/hd95.js";
import { dice } from "../../src/metrics/dice.js";
import { percentileSorted } from "../../src/metrics/percentile.js";
import type { Grid } from "../../src/metrics/grid.js";
import { random, randomBlobs } from "./random.js";

function box(dims: [number, number, number], lo: [number, number, number], hi: [number, number, number]): Uint8Array {
  const mask = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let z = lo[2]; z < hi[2]; z++) for (let y = lo[1]; y < hi[1]; y++) for (let x = lo[0]; x < hi[0]; x++) {
    mask[(z * dims[1] + y) * dims[0] + x] = 1;
  }
  return mask;
}

/**
 * Full-volume reference written independently of the code under test: surfaces by an explicit
 * face-neighbour test on a zero-padded array, distances by brute force over all surface pairs.
 */
function bruteDirected(gt: Uint8Array, pred: Uint8Array, grid: Grid): { gtToPred: number[]; predToGt: number[] } {
  const [nx, ny, nz] = grid.dims;
  const at = (m: Uint8Array, x: number, y: number, z: number) =>
    x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz ? 0 : m[(z * ny + y) * nx + x]!;
  const surface = (m: Uint8Array) => {
    const points: [number, number, number][] = [];
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      if (!at(m, x, y, z)) continue;
      const inner = at(m, x - 1, y, z) && at(m, x + 1, y, z) && at(m, x, y - 1, z) && at(m, x, y + 1, z) &&
        at(m, x, y, z - 1) && at(m, x, y, z + 1);
      if (!inner) points.push([x * grid.spacing[0], y * grid.spacing[1], z * grid.spacing[2]]);
    }
    return points;
  };
  const nearest = (from: number[][], to: number[][]) =>
    from.map((p) => Math.min(...to.map((q) => Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!)))).sort((a, b) => a - b);
  const sg = surface(gt), sp = surface(pred);
  return { gtToPred: nearest(sg, sp), predToGt: nearest(sp, sg) };
}

describe("percentileSorted", () => {
  it("interpolates linearly like numpy", () => {
    // numpy.percentile([1, 2, 3, 4, 10], 95) = 4 + 0.8·(10 − 4) = 8.8 (rank 0.95·4 = 3.8).
    expect(percentileSorted([1, 2, 3, 4, 10], 95)).toBeCloseTo(8.8, 12);
  });
});

describe("dice", () => {
  it("gives 1 for two empty masks", () => {
    expect(dice(new Uint8Array(4), new Uint8Array(4))).toBe(1);
  });

  it("gives 0 when exactly one mask is empty", () => {
    expect(dice(Uint8Array.from([1, 0]), new Uint8Array(2))).toBe(0);
  });

  it("gives 2|A∩B| / (|A| + |B|)", () => {
    // |A| = 3, |B| = 2, |A∩B| = 1: 2/5.
    expect(dice(Uint8Array.from([1, 1, 1, 0]), Uint8Array.from([0, 0, 1, 1]))).toBeCloseTo(0.4, 12);
  });
});

describe("hd95", () => {
  const grid: Grid = { dims: [12, 10, 8], spacing: [1, 1, 1] };

  it("gives 0 for two empty masks", () => {
    expect(hd95(new Uint8Array(960), new Uint8Array(960), grid)).toBe(0);
  });

  it("gives the image diagonal when only the prediction is empty", () => {
    // sqrt(12² + 10² + 8²) = sqrt(308).
    expect(hd95(box([12, 10, 8], [2, 2, 2], [5, 5, 5]), new Uint8Array(960), grid)).toBeCloseTo(Math.sqrt(308), 9);
  });

  it("gives the image diagonal when only the ground truth is empty", () => {
    expect(hd95(new Uint8Array(960), box([12, 10, 8], [2, 2, 2], [5, 5, 5]), grid, "max-directed")).toBeCloseTo(Math.sqrt(308), 9);
  });

  it("uses the z spacing for a z shift", () => {
    // 4×4×2 cube moved one slice along z: every surface voxel has a partner at 0 or 3 mm, with
    // more than 5 % at 3 mm (the top and bottom faces), so the 95th percentile is 3.
    const g: Grid = { dims: [8, 8, 6], spacing: [1, 1, 3] };
    const a = box([8, 8, 6], [2, 2, 1], [6, 6, 3]);
    const b = box([8, 8, 6], [2, 2, 2], [6, 6, 4]);
    expect(hd95(a, b, g, "medpy")).toBeCloseTo(3, 12);
  });

  it("treats mask voxels on the array edge as surface", () => {
    // A 3×1×1 line filling a 3×1×1 array: all three voxels are surface; the prediction is
    // the voxel x = 0. Distances gt→pred: 0, 1, 2 mm (dx = 1); pred→gt: 0. Pooled [0, 0, 1, 2]:
    // rank 0.95·3 = 2.85 → 1 + 0.85·(2 − 1) = 1.85. Max-directed: max(0.95·2 → 1.9, 0) = 1.9.
    const g: Grid = { dims: [3, 1, 1], spacing: [1, 1, 1] };
    const gt = Uint8Array.from([1, 1, 1]);
    const pred = Uint8Array.from([1, 0, 0]);
    expect(hd95(gt, pred, g, "medpy")).toBeCloseTo(1.85, 12);
    expect(hd95(gt, pred, g, "max-directed")).toBeCloseTo(1.9, 12);
  });

  it("crops to the bounding box without changing any distance on random masks", () => {
    const next = random(11);
    for (let trial = 0; trial < 6; trial++) {
      const g: Grid = { dims: [14, 11, 9], spacing: [0.9, 1.2, 2 + trial * 0.25] };
      const gt = randomBlobs(next, [14, 11, 9], 2);
      const pred = randomBlobs(next, [14, 11, 9], 3);
      const fast = directedSurfaceDistances(gt, pred, g)!;
      const slow = bruteDirected(gt, pred, g);
      expect(Array.from(fast.gtToPred).map((v) => +v.toFixed(9))).toEqual(slow.gtToPred.map((v) => +v.toFixed(9)));
      expect(Array.from(fast.predToGt).map((v) => +v.toFixed(9))).toEqual(slow.predToGt.map((v) => +v.toFixed(9)));
    }
  });
});
