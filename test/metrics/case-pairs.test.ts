import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { caseIdOfFile, findCasePairs } from "../../src/metrics/case-pairs.js";

const scratch = mkdtempSync(path.join(os.tmpdir(), "fancl-pairs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Creates an empty file (pairing looks at names only). */
function touch(...parts: string[]): string {
  const file = path.join(scratch, ...parts);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, "");
  return file;
}

describe("caseIdOfFile", () => {
  it("strips extension and seg suffix", () => {
    expect(caseIdOfFile("/x/BraTS-MET-00001-000-seg.nii.gz")).toBe("BraTS-MET-00001-000");
    expect(caseIdOfFile("Brats18_CBICA_ABM_1_seg.nii")).toBe("Brats18_CBICA_ABM_1");
    expect(caseIdOfFile("case7.nii.gz")).toBe("case7");
  });
});

describe("findCasePairs", () => {
  it("pairs 2023, 2018 and flat layouts", () => {
    const gt = path.join(scratch, "a", "gt"), pred = path.join(scratch, "a", "pred");
    const gtA = touch("a", "gt", "BraTS-MET-00001-000", "BraTS-MET-00001-000-seg.nii.gz");
    const gtB = touch("a", "gt", "Brats18_X_1", "Brats18_X_1_seg.nii.gz");
    const gtC = touch("a", "gt", "flat.nii.gz");
    const predA = touch("a", "pred", "BraTS-MET-00001-000.nii.gz");
    const predB = touch("a", "pred", "Brats18_X_1", "Brats18_X_1_prediction.nii.gz");
    const predC = touch("a", "pred", "flat", "flat-seg.nii.gz");
    expect(findCasePairs(gt, pred)).toEqual([
      { caseId: "BraTS-MET-00001-000", gt: gtA, pred: predA },
      { caseId: "Brats18_X_1", gt: gtB, pred: predB },
      { caseId: "flat", gt: gtC, pred: predC },
    ]);
  });

  it("names a prediction without ground truth", () => {
    const gt = path.join(scratch, "b", "gt"), pred = path.join(scratch, "b", "pred");
    touch("b", "gt", "one.nii.gz");
    touch("b", "pred", "one.nii.gz");
    touch("b", "pred", "two.nii.gz");
    expect(() => findCasePairs(gt, pred)).toThrow(/case two in --pred .* has no ground truth/);
  });

  it("takes the prediction from a folder that also holds the segmentation", () => {
    const root = path.join(scratch, "d");
    const gt = touch("d", "Brats18_Y_1", "Brats18_Y_1_seg.nii.gz");
    const pred = touch("d", "Brats18_Y_1", "Brats18_Y_1_prediction.nii.gz");
    expect(findCasePairs(root, root)).toEqual([{ caseId: "Brats18_Y_1", gt, pred }]);
  });

  it("rejects scoring a file against itself", () => {
    const root = path.join(scratch, "e");
    touch("e", "BraTS-MET-00002-000", "BraTS-MET-00002-000-seg.nii.gz");
    expect(() => findCasePairs(root, root)).toThrow(/same file for case BraTS-MET-00002-000/);
  });

  it("rejects a file paired with a folder", () => {
    const file = touch("c", "gt.nii.gz");
    mkdirSync(path.join(scratch, "c", "pred"), { recursive: true });
    expect(() => findCasePairs(file, path.join(scratch, "c", "pred"))).toThrow(/is a file but --pred .* is a folder/);
  });
});
