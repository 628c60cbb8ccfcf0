import { describe, expect, it } from "vitest";

import { fillHoles, maskBox, nonzeroBox, nonzeroMask } from "../../src/preprocess/mask.js";

/** Builds a [D, H, W] volume with value `value` at each listed [z, y, x]. */
function volumeWith(shape: [number, number, number], voxels: [number, number, number][], value = 1): Float32Array {
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (const [z, y, x] of voxels) data[(z * shape[1] + y) * shape[2] + x] = value;
  return data;
}

describe("nonzeroMask", () => {
  it("marks voxels non-zero in any volume", () => {
    const a = Float32Array.from([0, 1, 0, 0]);
    const b = Float32Array.from([0, 0, -2, 0]);
    expect(Array.from(nonzeroMask([a, b], 4))).toEqual([0, 1, 1, 0]);
  });
});

describe("maskBox", () => {
  it("bounds the marked voxels of a mask", () => {
    // [2, 3, 4] grid with voxels (z, y, x) = (0, 2, 1) and (1, 1, 3) marked.
    const mask = new Uint8Array(24);
    mask[(0 * 3 + 2) * 4 + 1] = 1;
    mask[(1 * 3 + 1) * 4 + 3] = 1;
    expect(maskBox(mask, [2, 3, 4])).toEqual({ start: [0, 1, 1], end: [2, 3, 4] });
  });
});

describe("nonzeroBox", () => {
  it("bounds a known blob and a voxel of another modality together", () => {
    // Modality A: a blob z 2..4, y 3..7, x 5..6. Modality B: one negative voxel at z 8, y 1, x 9.
    const shape: [number, number, number] = [10, 12, 14];
    const blob: [number, number, number][] = [];
    for (let z = 2; z <= 4; z++) for (let y = 3; y <= 7; y++) for (let x = 5; x <= 6; x++) blob.push([z, y, x]);
    const a = volumeWith(shape, blob, 3.5);
    const b = volumeWith(shape, [[8, 1, 9]], -2);

    expect(nonzeroBox([a], shape)).toEqual({ start: [2, 3, 5], end: [5, 8, 7] });
    // Union: z 2..8, y 1..7, x 5..9, half-open.
    expect(nonzeroBox([a, b], shape)).toEqual({ start: [2, 1, 5], end: [9, 8, 10] });
  });

  it("gives the whole grid for all-zero volumes", () => {
    expect(nonzeroBox([new Float32Array(24)], [2, 3, 4])).toEqual({ start: [0, 0, 0], end: [2, 3, 4] });
  });
});

describe("fillHoles", () => {
  // A 5³ grid with the hollow shell of the cube 1..3 on every axis: only the centre (2, 2, 2) is empty.
  const index = (z: number, y: number, x: number) => (z * 5 + y) * 5 + x;
  function hollowCube(): Uint8Array {
    const mask = new Uint8Array(125);
    for (let z = 1; z <= 3; z++) for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) mask[index(z, y, x)] = 1;
    mask[index(2, 2, 2)] = 0;
    return mask;
  }

  it("fills an enclosed cavity", () => {
    const filled = fillHoles(hollowCube(), [5, 5, 5]);
    expect(filled[index(2, 2, 2)]).toBe(1);
    // 27 voxels of the cube, nothing else.
    expect(filled.reduce((n, v) => n + v, 0)).toBe(27);
  });

  it("keeps a cavity open through a face", () => {
    const mask = hollowCube();
    mask[index(2, 2, 1)] = 0;
    expect(fillHoles(mask, [5, 5, 5])[index(2, 2, 2)]).toBe(0);
  });

  it("fills a cavity reached only through an edge, as scipy does", () => {
    // The removed edge voxel (1, 1, 2) touches the centre diagonally, not by a face, so the centre
    // stays enclosed for 6-connected background: scipy.ndimage.binary_fill_holes gives True there.
    const mask = hollowCube();
    mask[index(1, 1, 2)] = 0;
    const filled = fillHoles(mask, [5, 5, 5]);
    expect(filled[index(2, 2, 2)]).toBe(1);
    expect(filled[index(1, 1, 2)]).toBe(0);
  });
});
