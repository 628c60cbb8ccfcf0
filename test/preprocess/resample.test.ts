import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { resampleLinear, resampleNearest, resampledShape } from "../../src/preprocess/resample.js";

const here = path.dirname(fileURLToPath(import.meta.url));

interface TorchFixture {
  shape: [number, number, number];
  channels: number;
  volume: number[];
  labels: number[];
  cases: { outShape: [number, number, number]; linear: number[]; nearest: number[] }[];
}
const torchFixture = JSON.parse(readFileSync(path.join(here, "fixtures/resample-torch.json"), "utf8")) as TorchFixture;

/** Input position read by output index o (n → m voxels), per the documented convention. */
const position = (o: number, n: number, m: number) => ((o + 0.5) * n) / m - 0.5;

describe("resampledShape", () => {
  it("scales each axis by its spacing ratio", () => {
    // D = 155 at dz 1 → 2 mm: 77.5 rounds to 78; H = 240 at 1 → 1.5 mm: 160; W = 240 at 0.5 → 1 mm: 120.
    expect(resampledShape([155, 240, 240], [0.5, 1, 1], [1, 1.5, 2])).toEqual([78, 160, 120]);
  });

  it("keeps at least one voxel per axis", () => {
    expect(resampledShape([1, 2, 3], [1, 1, 1], [10, 10, 10])).toEqual([1, 1, 1]);
  });

  it("rejects a spacing that is not positive", () => {
    expect(() => resampledShape([4, 4, 4], [1, 1, 1], [0, 1, 1])).toThrow(/positive size in mm/);
  });
});

describe("resampleLinear", () => {
  it("is exact on a linear ramp inside", () => {
    // f(z, y, x) = 2z + 3y - x + 5 on a [6, 7, 8] grid, resampled to [9, 5, 13].
    const [nz, ny, nx] = [6, 7, 8];
    const [mz, my, mx] = [9, 5, 13];
    const ramp = (z: number, y: number, x: number) => 2 * z + 3 * y - x + 5;
    const data = new Float32Array(nz * ny * nx);
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) data[(z * ny + y) * nx + x] = ramp(z, y, x);

    const out = resampleLinear(data, [nz, ny, nx], [mz, my, mx]);

    let interior = 0;
    for (let z = 0; z < mz; z++) {
      for (let y = 0; y < my; y++) {
        for (let x = 0; x < mx; x++) {
          const pz = position(z, nz, mz);
          const py = position(y, ny, my);
          const px = position(x, nx, mx);
          const inside = [pz, py, px].every((p, axis) => p >= 0 && p <= [nz, ny, nx][axis]! - 1);
          if (!inside) continue;
          interior++;
          expect(out[(z * my + y) * mx + x]).toBeCloseTo(ramp(pz, py, px), 4);
        }
      }
    }
    // z: positions (o+0.5)·6/9 − 0.5 lie in [0, 5] for o = 1..7 (7 values); y: 7/5 → o = 0..4 (5);
    // x: 8/13 → o = 1..11 (11). 7 · 5 · 11 = 385 interior points.
    expect(interior).toBe(385);
  });

  it("matches PyTorch's trilinear interpolation (align_corners=False) on a 2-channel volume", () => {
    for (const c of torchFixture.cases) {
      const out = resampleLinear(Float32Array.from(torchFixture.volume), torchFixture.shape, c.outShape, torchFixture.channels);
      expect(out.length).toBe(c.linear.length);
      const worst = c.linear.reduce((m, v, i) => Math.max(m, Math.abs(v - out[i]!)), 0);
      expect(worst, `shape ${c.outShape.join("x")}`).toBeLessThan(1e-5);
    }
  });

  it("returns an equal copy when the shape does not change", () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = resampleLinear(data, [2, 2, 2], [2, 2, 2]);
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(out).not.toBe(data);
  });

  it("rejects data whose length does not match the shape", () => {
    expect(() => resampleLinear(new Float32Array(7), [2, 2, 2], [4, 4, 4])).toThrow(/7 values but shape 2x2x2/);
  });
});

describe("resampleNearest", () => {
  it("matches PyTorch's nearest-exact interpolation", () => {
    for (const c of torchFixture.cases) {
      const out = resampleNearest(Uint8Array.from(torchFixture.labels), torchFixture.shape, c.outShape);
      expect(Array.from(out), `shape ${c.outShape.join("x")}`).toEqual(c.nearest);
    }
  });

  it("keeps the label set of a map with large label blocks", () => {
    // Four 8-voxel-thick slabs along z labelled 0, 1, 2, 3, resampled 32 → 13 and 32 → 50.
    const shape = [32, 6, 6] as const;
    const labels = new Uint8Array(32 * 36);
    for (let z = 0; z < 32; z++) labels.fill(Math.floor(z / 8), z * 36, (z + 1) * 36);
    for (const d of [13, 50]) {
      const out = resampleNearest(labels, shape, [d, 5, 9]);
      expect([...new Set(out)].sort()).toEqual([0, 1, 2, 3]);
    }
  });

  it("copies every channel of the chosen voxel", () => {
    // Two voxels along x with channels (10, 11) and (20, 21), upsampled to 4 voxels. The x positions
    // −0.25, 0.25, 0.75, 1.25 round, after clamping, to voxels 0, 0, 1, 1.
    const out = resampleNearest(Float32Array.from([10, 11, 20, 21]), [1, 1, 2], [1, 1, 4], 2);
    expect(Array.from(out)).toEqual([10, 11, 10, 11, 20, 21, 20, 21]);
  });
});
