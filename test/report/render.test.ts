import { describe, expect, it } from "vitest";
import { renderCsv } from "../../src/report/csv.js";
import { renderHtml } from "../../src/report/html.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import type { CaseScores, ReportInput } from "../../src/report/types.js";

function scores(caseId: string, dice: [number, number, number], hd95: [number, number, number]): CaseScores {
  return { caseId, dice: { ET: dice[0], TC: dice[1], WT: dice[2] }, hd95: { ET: hd95[0], TC: hd95[1], WT: hd95[2] } };
}

const curve = [{ epoch: 0, loss: 1.2, lr: 0.01 }, { epoch: 1, loss: 0.9, lr: 0.009, valDice: 0.4 }];

/**
 * Baseline fold 0: ET Dice 0.8, 0.6 → 0.7; fold 1: 0.9, 0.7 → 0.8. Mean 0.75,
 * sd sqrt(((0.7 − 0.75)² + (0.8 − 0.75)²) / 1) = sqrt(0.005) = 0.0707107.
 * Baseline case c1 mean Dice (0.8 + 0.9 + 0.7) / 3 = 0.8.
 */
const input: ReportInput = {
  title: "Demo <study>",
  baseline: "baseline",
  hd95Definition: "medpy",
  variants: [
    {
      name: "baseline",
      folds: [
        { fold: 0, cases: [scores("c1", [0.8, 0.9, 0.7], [2, 4, 6]), scores("c2", [0.6, 0.7, 0.5], [4, 6, 8])],
          lesions: [{ caseId: "c1", volumeMm3: 50, sizeClass: "small", detected: false }], curve },
        { fold: 1, cases: [scores("c3", [0.9, 0.8, 0.9], [1, 2, 3]), scores("c4", [0.7, 0.8, 0.9], [3, 3, 3])],
          lesions: [{ caseId: "c3", volumeMm3: 9000, sizeClass: "large", detected: true }], curve },
      ],
    },
    {
      name: "fancl",
      folds: [
        { fold: 0, cases: [scores("c1", [0.85, 0.9, 0.75], [2, 3, 5]), scores("c2", [0.7, 0.7, 0.6], [3, 5, 7])],
          lesions: [{ caseId: "c1", volumeMm3: 50, sizeClass: "small", detected: true }], curve },
        { fold: 1, cases: [scores("c3", [0.95, 0.8, 0.9], [1, 2, 3]), scores("c4", [0.75, 0.85, 0.95], [2, 3, 3])],
          lesions: [{ caseId: "c3", volumeMm3: 9000, sizeClass: "large", detected: true }], curve },
      ],
    },
  ],
};

describe("renderCsv", () => {
  const lines = renderCsv(input).trim().split("\n");

  it("has the columns variant,region,metric,mean,sd,n", () => {
    expect(lines[0]).toBe("variant,region,metric,mean,sd,n");
  });

  it("has one row per variant, region and metric", () => {
    // 2 variants × 4 regions × 2 metrics.
    expect(lines.length - 1).toBe(16);
  });

  it("gives the hand-computed baseline ET Dice mean ± sd over 2 folds", () => {
    const [variant, region, metric, mean, sd, n] = lines[1]!.split(",");
    expect([variant, region, metric, n]).toEqual(["baseline", "ET", "dice", "2"]);
    expect(Number(mean)).toBeCloseTo(0.75, 12);
    expect(Number(sd)).toBeCloseTo(Math.sqrt(0.005), 12);
  });

  it("averages the three regions per case for the mean region", () => {
    // Baseline case means: c1 0.8, c2 0.6 → fold 0.7; c3 0.8667, c4 0.8 → fold 0.83333.
    const row = lines.find((l) => l.startsWith("baseline,mean,dice,"))!.split(",");
    expect(Number(row[3])).toBeCloseTo((0.7 + (0.8666666666666667 + 0.8) / 2) / 2, 12);
  });
});

describe("renderMarkdown", () => {
  const md = renderMarkdown(input);

  it("shows Table 1 with mean ± sd", () => {
    expect(md).toContain("## Table 1: baseline vs fancl");
    expect(md).toContain("| baseline | 0.7500 ± 0.0707 |");
  });

  it("shows detection counts by size", () => {
    // fancl detected the small lesion of c1 and the large one of c3.
    expect(md).toContain("| fancl | 1 / 1 | 0 / 0 | 1 / 1 |");
  });

  it("shows the paired test with its case count", () => {
    // fancl − baseline ET Dice per case, in float64: 0.85 − 0.8 and 0.95 − 0.9 are both
    // 0.04999999999999993 (a tie), 0.75 − 0.7 = 0.050000000000000044, 0.7 − 0.6 ≈ 0.1. All
    // positive, T = 0, ties → normal approximation; scipy.stats.wilcoxon(d, method="approx",
    // correction=True).pvalue = 0.0975125381781096, printed with 4 significant digits.
    expect(md).toContain("| fancl | Dice | ET | +0.0625 | 0 | 0.09751 | 4 |");
  });
});

describe("renderHtml", () => {
  const html = renderHtml(input);

  it("is self-contained: no external URL, no script", () => {
    expect(html).not.toMatch(/https?:|<script|<link/i);
  });

  it("escapes the title", () => {
    expect(html).toContain("<h1>Demo &lt;study&gt;</h1>");
  });

  it("draws per-fold scores and training curves as inline SVG", () => {
    expect(html.match(/<svg /g)?.length).toBe(4);
  });
});

describe("report input checks", () => {
  it("names a baseline that is not a variant", () => {
    expect(() => renderCsv({ ...input, baseline: "nnunet" })).toThrow(/baseline nnunet is not one of the variants baseline, fancl/);
  });
});
