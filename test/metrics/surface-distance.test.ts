import path from "node:path";
import { describe, expect, it } from "vitest";
import { readLabelVolume } from "../../src/nifti/read.js";
import { regionMask, type Region } from "../../src/metrics/regions.js";
import { surfaceHd95 } from "../../src/metrics/surface-distance.js";
import { surfelAreaTable } from "../../src/metrics/surfels.js";
import { lesionWise } from "../../src/metrics/lesionwise.js";
import type { Grid } from "../../src/metrics/grid.js";

const data = path.resolve(process.cwd(), "../shared/data");

describe("surfelAreaTable", () => {
  const iso = surfelAreaTable([1, 1, 1]);

  it("gives a cut-off corner the triangle through three edge midpoints", () => {
    // Triangle with sides √2/2: area √3/4 · (√2/2)² = √3/8.
    expect(iso[1]).toBeCloseTo(Math.sqrt(3) / 8, 12);
    expect(iso[128]).toBeCloseTo(Math.sqrt(3) / 8, 12);
  });

  it("gives two corners on an edge a 1 × √2/2 rectangle", () => {
    // Code 3: voxels (1,1,1) and (1,1,0), an edge along z.
    expect(iso[3]).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it("gives four corners of a face a unit square", () => {
    // Code 15: the four voxels with a = 1 (the upper x half).
    expect(iso[15]).toBeCloseTo(1, 12);
  });

  it("gives a code and its complement the same area", () => {
    expect(iso[254]).toBeCloseTo(iso[1]!, 12);
  });

  it("stretches the edge rectangle by dz = 3 mm", () => {
    // The code-3 rectangle spans the z edge: 3 mm × √2/2 mm.
    expect(surfelAreaTable([1, 1, 3])[3]).toBeCloseTo(3 * Math.SQRT1_2, 12);
  });
});

describe("surfaceHd95", () => {
  const grid: Grid = { dims: [20, 4, 4], spacing: [1, 1, 1] };
  const at = (x: number, y: number, z: number) => (z * 4 + y) * 20 + x;

  it("gives 0 for two empty masks and Infinity for one", () => {
    const empty = new Uint8Array(320);
    const one = new Uint8Array(320);
    one[at(3, 1, 1)] = 1;
    expect(surfaceHd95(empty, empty, grid)).toBe(0);
    expect(surfaceHd95(one, empty, grid)).toBe(Infinity);
  });

  it("measures between voxel corners", () => {
    // Voxels x = 2 and x = 7: corners at x = 2, 3 and 7, 8, four each, all of equal area.
    // From the ground truth: four corners at 4 mm (x = 3 → 7), four at 5 mm (x = 2 → 7); the
    // cumulative area reaches 95 % only at the last: 5.
    const gt = new Uint8Array(320), pred = new Uint8Array(320);
    gt[at(2, 1, 1)] = 1;
    pred[at(7, 1, 1)] = 1;
    expect(surfaceHd95(gt, pred, grid)).toBe(5);
  });
});

describe("surfaceHd95 on ../shared/data/metric-edge (official legacy HD95 from REFERENCE.md)", () => {
  async function load(name: string) {
    const dir = path.join(data, "metric-edge");
    const gt = await readLabelVolume(path.join(dir, `${name}-gt.nii.gz`));
    const pred = await readLabelVolume(path.join(dir, `${name}-pred.nii.gz`));
    return { grid: { dims: gt.geometry.dims, spacing: gt.geometry.spacing }, gt: gt.data, pred: pred.data };
  }
  const cases: [string, Region, number][] = [
    ["shifted-by-one", "ET", 1],
    ["single-voxel-each", "ET", 5],
    ["anisotropic", "ET", 3],
    // Without the 4 → 3 mapping: the official code gives 374 (ET empty), 3 (TC), 2 (WT).
    ["label-4-legacy", "TC", 3],
    ["label-4-legacy", "WT", 2],
  ];
  for (const [name, region, expected] of cases) {
    it(`${name} ${region} gives ${expected} mm`, async () => {
      const { grid, gt, pred } = await load(name);
      expect(surfaceHd95(regionMask(gt, region), regionMask(pred, region), grid)).toBeCloseTo(expected, 9);
    });
  }

  it("single-voxel-each scores lesion-wise Dice 0 and HD95 374 with 1 FP", async () => {
    const { grid, gt, pred } = await load("single-voxel-each");
    const result = lesionWise(regionMask(gt, "ET"), regionMask(pred, "ET"), grid);
    expect([result.gtLesions, result.tp, result.fp, result.fn, result.lesionDice, result.lesionHd95]).toEqual([0, 0, 1, 0, 0, 374]);
  });
});
