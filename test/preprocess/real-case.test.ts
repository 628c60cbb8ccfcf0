import path from "node:path";

import { beforeAll, describe, expect, it } from "vitest";

import { readLabelVolume, readVolume } from "../../src/nifti/read.js";
import type { LabelVolume, Volume } from "../../src/nifti/types.js";
import { preprocessCase, restoreLabels } from "../../src/preprocess/pipeline.js";
import type { PreprocessedCase } from "../../src/preprocess/types.js";

const caseDir = path.resolve(process.cwd(), "../shared/data/brats2023/BraTS-GLI-00000-000");
const modalities = ["t1n", "t1c", "t2w", "t2f"];

describe("preprocessCase on BraTS-GLI-00000-000", () => {
  let images: Volume[];
  let seg: LabelVolume;
  let preprocessed: PreprocessedCase;

  beforeAll(async () => {
    images = await Promise.all(modalities.map((m) => readVolume(path.join(caseDir, `BraTS-GLI-00000-000-${m}.nii.gz`))));
    seg = await readLabelVolume(path.join(caseDir, "BraTS-GLI-00000-000-seg.nii.gz"));
    preprocessed = preprocessCase({ id: "BraTS-GLI-00000-000", modalities, images, seg });
  });

  it("crops to the non-zero box nibabel finds", () => {
    // numpy over the union of the four scans' non-zero voxels: x 52..187, y 40..210, z 4..149.
    expect(preprocessed.meta.cropBox).toEqual({ start: [4, 40, 52], end: [150, 211, 188] });
    expect(preprocessed.shape).toEqual([146, 171, 136]);
  });

  it("z-scores with numpy's mean and sd over the brain mask", () => {
    // numpy float64 over the 1 480 170 voxels of the mask, np.std with ddof 0.
    const expected = [
      ["t1n", 802.209220562503, 171.70546577853588],
      ["t1c", 2084.0016383253273, 837.8845151560639],
      ["t2w", 565.6707999756785, 312.47656902103563],
      ["t2f", 987.1395197848896, 357.72219897754763],
    ] as const;
    expected.forEach(([modality, mean, sd], m) => {
      const stats = preprocessed.meta.normalisation[m]!;
      expect(stats.modality).toBe(modality);
      expect(stats.mean).toBeCloseTo(mean, 6);
      expect(stats.sd).toBeCloseTo(sd, 6);
    });
  });

  it("restores the exact original labels", () => {
    const restored = restoreLabels(preprocessed.label!, preprocessed.meta);
    expect(restored.length).toBe(seg.data.length);
    let differences = 0;
    for (let i = 0; i < restored.length; i++) if (restored[i] !== seg.data[i]) differences++;
    expect(differences).toBe(0);
    // Tumour voxels, by nibabel: 11 738 + 12 836 + 32 731.
    expect(restored.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0)).toBe(57305);
  });
});
