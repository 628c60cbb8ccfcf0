/** Geometry helpers against hand-computed matrices and nibabel's rules. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import {
  axisAlignedGeometry,
  croppedGeometry,
  geometryWithDims,
  gridDifference,
  pixdimAffine,
  qformAffine,
  quaternionRotation,
} from "../../src/nifti/geometry.js";
import { readNifti, readVolume } from "../../src/nifti/read.js";
import type { Geometry } from "../../src/nifti/types.js";
import { niftiHeader } from "../../src/nifti/write.js";

const edge = path.resolve(process.cwd(), "../shared/data/nifti-edge");
const tmp = mkdtempSync(path.join(os.tmpdir(), "fancl-nifti-geometry-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const close = (actual: readonly (readonly number[])[], expected: number[][]) =>
  expected.forEach((row, i) => row.forEach((v, j) => expect(actual[i]![j]).toBeCloseTo(v, 12)));

describe("quaternionRotation", () => {
  it("is the identity for b = c = d = 0", () => {
    close(quaternionRotation(0, 0, 0), [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  it("turns 180° about x for (b, c, d) = (1, 0, 0)", () => {
    close(quaternionRotation(1, 0, 0), [
      [1, 0, 0],
      [0, -1, 0],
      [0, 0, -1],
    ]);
  });

  it("turns 90° about z for d = sin 45°", () => {
    close(quaternionRotation(0, 0, Math.SQRT1_2), [
      [0, -1, 0],
      [1, 0, 0],
      [0, 0, 1],
    ]);
  });

  it("renormalises a quaternion a little longer than 1 (float32 rounding) to a = 0", () => {
    close(quaternionRotation(1.0000001, 0, 0), [
      [1, 0, 0],
      [0, -1, 0],
      [0, 0, -1],
    ]);
  });
});

describe("affines", () => {
  it("qform: qfac -1 flips the third column, pixdim scales, qoffset translates", () => {
    close(qformAffine([0, 0, 0, 10, 20, 30], -1, [2, 3, 4]), [
      [2, 0, 0, 10],
      [0, 3, 0, 20],
      [0, 0, -4, 30],
      [0, 0, 0, 1],
    ]);
  });

  it("pixdim only: nibabel's base affine, x flipped and centred (shape 4x5x7, zooms 1,3,2)", () => {
    // -((n-1)/2)·zoom per axis with zoom_x = -1: 1.5, -6, -6.
    close(pixdimAffine([4, 5, 7], [1, 3, 2]), [
      [-1, 0, 0, 1.5],
      [0, 3, 0, -6],
      [0, 0, 2, -6],
      [0, 0, 0, 1],
    ]);
  });

  it("a file with qform and sform code 0 gets the pixdim affine", async () => {
    const geometry: Geometry = { ...axisAlignedGeometry([4, 5, 7], [1, 3, 2]), qformCode: 0, sformCode: 0 };
    const file = path.join(tmp, "no-xform.nii");
    writeFileSync(file, Buffer.concat([niftiHeader(geometry, "uint8", 8, "x"), Buffer.alloc(4 * 5 * 7)]));
    const image = await readNifti(file);
    expect(image.geometry.affineSource).toBe("pixdim");
    close(image.geometry.affine, [
      [-1, 0, 0, 1.5],
      [0, 3, 0, -6],
      [0, 0, 2, -6],
      [0, 0, 0, 1],
    ]);
  });

  it("axisAlignedGeometry puts voxel (0,0,0) at the origin with codes 1 and mm units", () => {
    const g = axisAlignedGeometry([10, 20, 30], [0.5, 1, 2], [-5, 6, 7]);
    close(g.affine, [
      [0.5, 0, 0, -5],
      [0, 1, 0, 6],
      [0, 0, 2, 7],
      [0, 0, 0, 1],
    ]);
    expect([g.qformCode, g.sformCode, g.xyztUnits]).toEqual([1, 1, 2]);
  });

  it("axisAlignedGeometry rejects dims that are not positive integers", () => {
    expect(() => axisAlignedGeometry([0, 2, 2], [1, 1, 1])).toThrow(/three positive integers/);
  });
});

describe("croppedGeometry", () => {
  it("maps crop voxel v to the world point of reference voxel start + v (oblique example4d)", async () => {
    const reference = (await readNifti(path.join(edge, "example4d.nii.gz"))).geometry;
    const start = [3, -2, 5] as const;
    const crop = croppedGeometry(reference, start, [10, 10, 10]);
    const world = (a: readonly (readonly number[])[], v: readonly number[]) =>
      [0, 1, 2].map((i) => a[i]![0]! * v[0]! + a[i]![1]! * v[1]! + a[i]![2]! * v[2]! + a[i]![3]!);
    for (const v of [
      [0, 0, 0],
      [1, 2, 3],
    ]) {
      const inCrop = world(crop.affine, v);
      const inReference = world(reference.affine, [v[0]! + start[0], v[1]! + start[1], v[2]! + start[2]]);
      inCrop.forEach((x, i) => expect(x).toBeCloseTo(inReference[i]!, 9));
      const qCrop = world(qformAffine(crop.quatern, crop.qfac, crop.spacing), v);
      const qReference = world(qformAffine(reference.quatern, reference.qfac, reference.spacing), [
        v[0]! + start[0],
        v[1]! + start[1],
        v[2]! + start[2],
      ]);
      qCrop.forEach((x, i) => expect(x).toBeCloseTo(qReference[i]!, 9));
    }
    expect(crop.dims).toEqual([10, 10, 10]);
  });

  it("geometryWithDims keeps the affine and changes dims only", () => {
    const g = axisAlignedGeometry([4, 4, 4], [1, 1, 1], [1, 2, 3]);
    const h = geometryWithDims(g, [8, 8, 2]);
    expect(h.affine).toEqual(g.affine);
    expect(h.dims).toEqual([8, 8, 2]);
  });
});

describe("gridDifference", () => {
  const base = axisAlignedGeometry([240, 240, 155], [1, 1, 1], [0, 239, 0]);
  const withAffine = (row: number, col: number, delta: number): Geometry => {
    const affine = base.affine.map((r) => [...r]) as unknown as Geometry["affine"];
    affine[row]![col]! += delta;
    return { ...base, affine };
  };

  it("accepts the same grid", () => {
    expect(gridDifference(base, base)).toBeUndefined();
  });

  it("accepts direction differences of 1e-6 (float32 cosines) and offsets of 1e-4 mm", () => {
    expect(gridDifference(base, withAffine(0, 1, 1e-6))).toBeUndefined();
    expect(gridDifference(base, withAffine(1, 3, 1e-4))).toBeUndefined();
  });

  it("rejects a direction difference of 1e-3 and an offset of 0.01 mm", () => {
    expect(gridDifference(base, withAffine(0, 1, 1e-3))).toMatch(/affine\[0\]\[1\]/);
    expect(gridDifference(base, withAffine(2, 3, 0.01))).toMatch(/offset\[2\]/);
  });

  it("rejects another shape, naming both", () => {
    expect(gridDifference(base, geometryWithDims(base, [240, 240, 154]))).toBe("shape 240x240x155 vs 240x240x154");
  });

  it("accepts each BraTS 2018 prediction on its ground truth's grid (affines agree within 1e-4)", async () => {
    const data = path.resolve(process.cwd(), "../shared/data/brats2018");
    for (const id of ["Brats18_CBICA_ABM_1", "Brats18_TCIA03_265_1"]) {
      const [gt, pred] = await Promise.all([
        readVolume(path.join(data, id, `${id}_seg.nii.gz`)),
        readVolume(path.join(data, id, `${id}_prediction.nii.gz`)),
      ]);
      expect(pred.geometry.affineSource).toBe("sform");
      expect(gridDifference(gt.geometry, pred.geometry)).toBeUndefined();
    }
  });
});
