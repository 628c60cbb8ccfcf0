import { describe, expect, it } from "vitest";

import { boxShape, cropVolume, uncropVolume } from "../../src/preprocess/crop.js";

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
