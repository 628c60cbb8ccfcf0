import { describe, expect, it } from "vitest";

import { nonzeroMask } from "../../src/preprocess/mask.js";
import { zscoreInPlace } from "../../src/preprocess/zscore.js";

describe("zscoreInPlace", () => {
  it("matches a hand computation", () => {
    // Masked values 1, 2, 3, 6: mean 3, squared deviations 4 + 1 + 0 + 9 = 14, sd = sqrt(14/4).
    const volume = Float32Array.from([1, 2, 7, 3, 6, 9]);
    const mask = Uint8Array.from([1, 1, 0, 1, 1, 0]);
    const stats = zscoreInPlace(volume, mask);
    const sd = Math.sqrt(3.5);
    expect(stats.mean).toBe(3);
    expect(stats.sd).toBeCloseTo(sd, 12);
    const expected = [-2 / sd, -1 / sd, 0, 0, 3 / sd, 0];
    expected.forEach((v, i) => expect(volume[i]).toBeCloseTo(v, 6));
  });

  it("standardises a skewed volume", () => {
    // Values 1000 + i² on a quarter of the voxels, the rest 0 (outside the brain).
    const n = 4000;
    const volume = new Float32Array(n);
    for (let i = 0; i < n; i += 4) volume[i] = 1000 + (i / 4) ** 2;
    const mask = nonzeroMask([volume], n);
    zscoreInPlace(volume, mask);

    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i += 4) sum += volume[i]!;
    const mean = sum / 1000;
    for (let i = 0; i < n; i += 4) squares += (volume[i]! - mean) ** 2;
    expect(mean).toBeCloseTo(0, 5);
    expect(Math.sqrt(squares / 1000)).toBeCloseTo(1, 5);
    for (let i = 1; i < n; i += 4) expect(volume[i]).toBe(0);
  });

  it("sets voxels outside the mask to 0 even when they are non-zero", () => {
    const volume = Float32Array.from([5, 7, 100]);
    zscoreInPlace(volume, Uint8Array.from([1, 1, 0]));
    expect(Array.from(volume)).toEqual([-1, 1, 0]);
  });

  it("gives mean 0, sd 1 and zeros for an empty mask", () => {
    const volume = Float32Array.from([0, 4, 0]);
    expect(zscoreInPlace(volume, new Uint8Array(3))).toEqual({ mean: 0, sd: 1 });
    expect(Array.from(volume)).toEqual([0, 0, 0]);
  });

  it("leaves a constant brain at 0 instead of dividing by 0", () => {
    const volume = Float32Array.from([4, 4, 0]);
    expect(zscoreInPlace(volume, Uint8Array.from([1, 1, 0]))).toEqual({ mean: 4, sd: 0 });
    expect(Array.from(volume)).toEqual([0, 0, 0]);
  });
});
