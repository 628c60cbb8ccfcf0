import { describe, expect, it } from "vitest";
import { wilcoxonSignedRank } from "../../src/report/wilcoxon.js";
import { erfc, mean, sampleSd } from "../../src/report/stats.js";

// Expected values from scipy 1.10.1 (Debian python3-scipy):
//   exact cases:  scipy.stats.wilcoxon(d, method="exact")
//   others:       scipy.stats.wilcoxon(d, method="approx", correction=True)
describe("wilcoxonSignedRank", () => {
  it("uses the exact distribution for 8 untied differences", () => {
    const result = wilcoxonSignedRank([1.5, -0.5, 2.25, 3.0, -1.25, 0.75, 4.0, 1.75]);
    expect(result.method).toBe("exact");
    expect(result.statistic).toBe(4);
    expect(result.pValue).toBeCloseTo(0.0546875, 12);
  });

  it("gives 2/2^5 when all five differences are positive", () => {
    const result = wilcoxonSignedRank([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(result.statistic).toBe(0);
    expect(result.pValue).toBeCloseTo(0.0625, 12);
  });

  it("drops zeros and corrects for ties and continuity", () => {
    const result = wilcoxonSignedRank([0.02, -0.01, 0.02, 0.0, 0.05, -0.03, 0.04, 0.02, 0.01, 0.06]);
    expect(result.n).toBe(9);
    expect(result.method).toBe("normal");
    expect(result.statistic).toBe(7.5);
    expect(result.pValue).toBeCloseTo(0.08445614245713748, 10);
  });

  it("uses the normal approximation above 25 differences", () => {
    const d = [-0.9, 0.513, -0.374, 1.039, 0.152, -0.735, 0.678, -0.209, 1.204, 0.317, -0.57, 0.843, -0.044,
      1.369, 0.482, -0.405, 1.008, 0.121, 1.534, 0.647, -0.24, 1.173, 0.286, -0.601, 0.812, -0.075, 1.338, 0.451,
      -0.436, 0.977];
    const result = wilcoxonSignedRank(d);
    expect(result.method).toBe("normal");
    expect(result.statistic).toBe(116);
    expect(result.pValue).toBeCloseTo(0.01703611543523428, 10);
  });

  it("gives NaN without a non-zero difference", () => {
    expect(wilcoxonSignedRank([0, 0]).pValue).toBeNaN();
  });
});

describe("stats", () => {
  it("computes mean and sample sd by hand", () => {
    // [2, 4, 4, 4, 5, 5, 7, 9]: mean 5, squared deviations sum 32, sd sqrt(32 / 7).
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
    expect(sampleSd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });

  it("matches scipy.special.erfc", () => {
    // scipy.special.erfc(0.5) = 0.4795001221869535, erfc(3.5) = 7.430983723414129e-07.
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 14);
    expect(erfc(3.5) / 7.430983723414129e-7).toBeCloseTo(1, 10);
  });
});
