import { describe, expect, it } from "vitest";

import { boxShape, cropVolume, maskBox, nonzeroBox, nonzeroMask, uncropVolume } from "../../src/preprocess/crop.js";

/** A [D, H, W] volume with value `value` at each listed [z, y, x]. */
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

describe("cropVolume and uncropVolume", () => {
  it("crop copies the box and uncrop puts it back with zeros around", () => {
    // [2, 3, 4] grid with value 100z + 10y + x; box z 1..1, y 1..2, x 2..3.
    const shape: [number, number, number] = [2, 3, 4];
    const data = new Float32Array(24);
    for (let z = 0; z < 2; z++) for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) data[(z * 3 + y) * 4 + x] = 100 * z + 10 * y + x;
    const box = { start: [1, 1, 2], end: [2, 3, 4] } as const;

    const cropped = cropVolume(data, shape, box);
    expect(boxShape(box)).toEqual([1, 2, 2]);
    expect(Array.from(cropped)).toEqual([112, 113, 122, 123]);

    const restored = uncropVolume(cropped, shape, box);
    for (let i = 0; i < 24; i++) {
      const z = Math.floor(i / 12);
      const y = Math.floor((i % 12) / 4);
      const x = i % 4;
      const inBox = z === 1 && y >= 1 && x >= 2;
      expect(restored[i]).toBe(inBox ? data[i] : 0);
    }
  });

  it("handles channels-last data and a per-channel fill", () => {
    // [1, 1, 3] grid with 2 channels; crop x 1..1 then uncrop with fill (1, 0).
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const box = { start: [0, 0, 1], end: [1, 1, 2] } as const;
    const cropped = cropVolume(data, [1, 1, 3], box, 2);
    expect(Array.from(cropped)).toEqual([3, 4]);
    expect(Array.from(uncropVolume(cropped, [1, 1, 3], box, 2, [1, 0]))).toEqual([1, 0, 3, 4, 1, 0]);
  });

  it("rejects a box outside the grid", () => {
    expect(() => cropVolume(new Float32Array(8), [2, 2, 2], { start: [0, 0, 0], end: [3, 2, 2] })).toThrow(/does not fit the grid 2x2x2/);
  });
});
