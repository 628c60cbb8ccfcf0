import { describe, expect, it } from "vitest";
import { squaredEdt, squaredEdtAt } from "../../src/metrics/edt.js";
import { random } from "./random.js";

/** Brute force: min over feature voxels of Σ ((Δ axis) · spacing)². */
function bruteForce(features: Uint8Array, dims: [number, number, number], spacing: [number, number, number]): Float64Array {
  const [nx, ny, nz] = dims;
  const out = new Float64Array(features.length).fill(Infinity);
  const points: [number, number, number][] = [];
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    if (features[(z * ny + y) * nx + x]) points.push([x, y, z]);
  }
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    let best = Infinity;
    for (const [px, py, pz] of points) {
      const d = ((x - px) * spacing[0]) ** 2 + ((y - py) * spacing[1]) ** 2 + ((z - pz) * spacing[2]) ** 2;
      if (d < best) best = d;
    }
    out[(z * ny + y) * nx + x] = best;
  }
  return out;
}

describe("squaredEdt", () => {
  it("gives squared mm distances along x with dx = 2 mm", () => {
    // Feature at x = 1 on a 5×1×1 line: distances 1, 0, 1, 2, 3 voxels × 2 mm, squared.
    const features = Uint8Array.from([0, 1, 0, 0, 0]);
    expect(Array.from(squaredEdt(features, [5, 1, 1], [2, 1, 1]))).toEqual([4, 0, 4, 16, 36]);
  });

  it("weights y by its spacing in a 3×3 plane", () => {
    // Feature at the centre, spacing dx = 1, dy = 2: x-neighbours 1, y-neighbours 4, corners 1 + 4.
    const features = new Uint8Array(9);
    features[4] = 1;
    expect(Array.from(squaredEdt(features, [3, 3, 1], [1, 2, 1]))).toEqual([5, 4, 5, 1, 0, 1, 5, 4, 5]);
  });

  it("weights z by its spacing in a 2×1×3 volume", () => {
    // Feature at (0, 0, 0), spacing [1, 1, 3]: (1,0,0) → 1, (0,0,1) → 9, (1,0,2) → 1 + 36.
    const features = new Uint8Array(6);
    features[0] = 1;
    expect(Array.from(squaredEdt(features, [2, 1, 3], [1, 1, 3]))).toEqual([0, 1, 9, 10, 36, 37]);
  });

  it("takes the nearer of two features", () => {
    // Features at x = 0 and x = 6 on a 7-voxel line: 0 1 2 3 2 1 0, squared.
    const features = Uint8Array.from([1, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(squaredEdt(features, [7, 1, 1], [1, 1, 1]))).toEqual([0, 1, 4, 9, 4, 1, 0]);
  });

  it("gives Infinity everywhere without a feature", () => {
    const out = squaredEdt(new Uint8Array(8), [2, 2, 2], [1, 1, 1]);
    expect(Array.from(out)).toEqual(new Array(8).fill(Infinity));
  });

  it("equals brute force on random sparse anisotropic volumes", () => {
    const next = random(7);
    for (let trial = 0; trial < 5; trial++) {
      const dims: [number, number, number] = [9 + trial, 7, 5 + (trial % 3)];
      const spacing: [number, number, number] = [0.7 + trial * 0.1, 1.3, 2.5];
      const features = new Uint8Array(dims[0] * dims[1] * dims[2]);
      for (let i = 0; i < features.length; i++) features[i] = next() < 0.04 ? 1 : 0;
      features[trial] = 1;
      const fast = squaredEdt(features, dims, spacing);
      const slow = bruteForce(features, dims, spacing);
      for (let i = 0; i < fast.length; i++) expect(fast[i]).toBeCloseTo(slow[i]!, 9);
    }
  });

  it("squaredEdtAt equals brute force at the query voxels", () => {
    const next = random(23);
    const dims: [number, number, number] = [10, 8, 9];
    const spacing: [number, number, number] = [1.1, 0.8, 2.4];
    const features = new Uint8Array(720);
    const query = new Uint8Array(720);
    for (let i = 0; i < 720; i++) {
      features[i] = next() < 0.03 ? 1 : 0;
      query[i] = next() < 0.1 ? 1 : 0;
    }
    features[100] = 1;
    const slow = bruteForce(features, dims, spacing);
    const expected = Array.from(slow).filter((_, i) => query[i] === 1);
    const actual = Array.from(squaredEdtAt(features, query, dims, spacing));
    expect(actual.map((v) => +v.toFixed(9))).toEqual(expected.map((v) => +v.toFixed(9)));
  });
});
