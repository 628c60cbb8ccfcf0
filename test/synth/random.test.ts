import { describe, expect, it } from "vitest";

import { caseRandom } from "../../src/synth/random.js";

const draw = (seed: number, index: number, stream: string, n: number) => {
  const r = caseRandom(seed, index, stream);
  return Array.from({ length: n }, () => r.next());
};

describe("caseRandom", () => {
  it("repeats a stream for the same (seed, case, name)", () => {
    expect(draw(42, 3, "lesions", 50)).toEqual(draw(42, 3, "lesions", 50));
  });

  it("gives different streams for a different seed, case or name", () => {
    const base = draw(42, 3, "lesions", 5);
    expect(draw(43, 3, "lesions", 5)).not.toEqual(base);
    expect(draw(42, 4, "lesions", 5)).not.toEqual(base);
    expect(draw(42, 3, "anatomy", 5)).not.toEqual(base);
  });

  it("draws uniform numbers in [0, 1) with mean 1/2 and variance 1/12", () => {
    const values = draw(7, 0, "u", 100_000);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
    // Standard error of the mean: sqrt(1/12 / 1e5) ≈ 0.0009; allow 5 of them.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.0046);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it("draws standard normals with mean 0 and sd 1", () => {
    const r = caseRandom(7, 0, "n");
    const values = Array.from({ length: 100_000 }, () => r.normal());
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    // Standard error 1/sqrt(1e5) ≈ 0.0032 for the mean, 0.0022 for the sd; allow 5 of them.
    expect(Math.abs(mean)).toBeLessThan(0.016);
    expect(Math.abs(sd - 1)).toBeLessThan(0.011);
  });

  it("draws integers over the whole closed range", () => {
    const r = caseRandom(1, 2, "i");
    const seen = new Set(Array.from({ length: 1000 }, () => r.int(1, 10)));
    expect([...seen].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("draws log-uniform values: as many in [1, 3.873) as in [3.873, 15)", () => {
    // sqrt(15) ≈ 3.873 splits [1, 15) into two halves of equal logarithmic length.
    const r = caseRandom(5, 0, "l");
    const values = Array.from({ length: 20_000 }, () => r.logUniform(1, 15));
    const low = values.filter((v) => v < Math.sqrt(15)).length;
    expect(values.every((v) => v >= 1 && v < 15)).toBe(true);
    // Binomial(20000, 1/2): sd ≈ 71; allow 5 sd.
    expect(Math.abs(low - 10_000)).toBeLessThan(355);
  });

  it("rejects a seed that is not a 32-bit whole number", () => {
    expect(() => caseRandom(-1, 0, "x")).toThrow(/invalid seed -1: expected an integer/);
    expect(() => caseRandom(1.5, 0, "x")).toThrow(/invalid seed 1\.5/);
  });
});
