/**
 * discoverCases and loadCase on the real BraTS 2018 and BraTS 2023 cases in ../shared/data.
 * Label counts come from nibabel 5.0.0 (`np.unique(np.asanyarray(img.dataobj),
 * return_counts=True)` on each seg file).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";

import { discoverCases, loadCase, modalityOrder } from "../../src/data/dataset.js";
import { MissingSegmentationError } from "../../src/data/errors.js";

const data = path.resolve(process.cwd(), "../shared/data");

function labelCounts(labels: Uint8Array): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const v of labels) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

describe("discoverCases", () => {
  it("finds the eight BraTS 2018 cases in the legacy layout, sorted by id", async () => {
    const cases = await discoverCases(path.join(data, "brats2018"));
    expect(cases.map((c) => c.id)).toEqual([
      "Brats18_2013_11_1",
      "Brats18_2013_3_1",
      "Brats18_CBICA_ABM_1",
      "Brats18_CBICA_AQN_1",
      "Brats18_TCIA01_378_1",
      "Brats18_TCIA01_425_1",
      "Brats18_TCIA02_370_1",
      "Brats18_TCIA03_265_1",
    ]);
    expect(new Set(cases.map((c) => c.layout))).toEqual(new Set(["legacy"]));
  });

  it("maps legacy t1, t1ce, t2, flair to t1n, t1c, t2w, t2f and ignores the prediction file", async () => {
    const [first] = (await discoverCases(path.join(data, "brats2018"))).filter((c) => c.id === "Brats18_CBICA_ABM_1");
    expect(first!.modalities).toEqual(["t1n", "t1c", "t2w", "t2f"]);
    expect(first!.images.map((f) => path.basename(f))).toEqual([
      "Brats18_CBICA_ABM_1_t1.nii.gz",
      "Brats18_CBICA_ABM_1_t1ce.nii.gz",
      "Brats18_CBICA_ABM_1_t2.nii.gz",
      "Brats18_CBICA_ABM_1_flair.nii.gz",
    ]);
    expect(path.basename(first!.seg!)).toBe("Brats18_CBICA_ABM_1_seg.nii.gz");
  });

  it("finds the BraTS 2023 cases, one of them without a segmentation", async () => {
    const cases = await discoverCases(path.join(data, "brats2023"));
    expect(cases.map((c) => [c.id, c.layout, c.seg === undefined])).toEqual([
      ["BraTS-GLI-00000-000", "brats2023", false],
      ["BraTS-MET-00110-000", "brats2023", true],
    ]);
    expect(cases[1]!.images.map((f) => path.basename(f))).toEqual([
      "BraTS-MET-00110-000-t1n.nii.gz",
      "BraTS-MET-00110-000-t1c.nii.gz",
      "BraTS-MET-00110-000-t2w.nii.gz",
      "BraTS-MET-00110-000-t2f.nii.gz",
    ]);
  });
});

describe("loadCase", () => {
  it("loads a legacy case with an int16 segmentation and maps label 4 to 3 with a notice", async () => {
    const [files] = (await discoverCases(path.join(data, "brats2018"))).filter((c) => c.id === "Brats18_2013_11_1");
    const loaded = await loadCase(files!, { requireSeg: true });
    expect(loaded.modalities).toEqual([...modalityOrder]);
    expect(loaded.images.map((v) => v.geometry.dims)).toEqual(Array(4).fill([240, 240, 155]));
    expect(labelCounts(loaded.seg!.data)).toEqual({ 0: 8788743, 1: 45839, 2: 73741, 3: 19677 });
    expect(loaded.notices).toHaveLength(1);
    expect(loaded.notices[0]).toMatch(/Brats18_2013_11_1.*legacy label 4.*19677 voxels.*mapped to 3/);
  });

  it("loads a legacy case with a uint8 segmentation", async () => {
    const [files] = (await discoverCases(path.join(data, "brats2018"))).filter((c) => c.id === "Brats18_CBICA_ABM_1");
    const loaded = await loadCase(files!, { requireSeg: true });
    expect(labelCounts(loaded.seg!.data)).toEqual({ 0: 8888228, 1: 3398, 2: 30215, 3: 6159 });
  });

  it("loads and validates every BraTS 2018 case, each with one legacy-label notice", async () => {
    for (const files of await discoverCases(path.join(data, "brats2018"))) {
      const loaded = await loadCase(files, { requireSeg: true });
      expect(loaded.notices).toHaveLength(1);
      expect(loaded.seg!.data.includes(4)).toBe(false);
    }
  });

  it("loads a 2023 case with a float32 segmentation and no notice", async () => {
    const [files] = await discoverCases(path.join(data, "brats2023"));
    const loaded = await loadCase(files!, { requireSeg: true });
    expect(labelCounts(loaded.seg!.data)).toEqual({ 0: 8870695, 1: 11738, 2: 12836, 3: 32731 });
    expect(loaded.notices).toEqual([]);
  });

  it("loads a case without a segmentation for prediction", async () => {
    const files = (await discoverCases(path.join(data, "brats2023")))[1]!;
    const loaded = await loadCase(files, { requireSeg: false });
    expect(loaded.seg).toBeUndefined();
    expect(loaded.images).toHaveLength(4);
  });

  it("refuses a case without a segmentation for training", async () => {
    const files = (await discoverCases(path.join(data, "brats2023")))[1]!;
    await expect(loadCase(files, { requireSeg: true })).rejects.toBeInstanceOf(MissingSegmentationError);
  });
});
