/** normaliseLabels on hand-made label maps. */
import { describe, expect, it } from "vitest";

import { InvalidLabelError, MixedLabelConventionError } from "../../src/data/errors.js";
import { normaliseLabels } from "../../src/data/labels.js";
import { axisAlignedGeometry } from "../../src/nifti/geometry.js";
import type { LabelVolume } from "../../src/nifti/types.js";

const labelMap = (values: number[]): LabelVolume => ({
  path: "seg.nii.gz",
  geometry: axisAlignedGeometry([values.length, 1, 1], [1, 1, 1]),
  data: Uint8Array.from(values),
});

describe("normaliseLabels", () => {
  it("leaves a 2023 map unchanged, with no notice", () => {
    const input = labelMap([0, 1, 2, 3]);
    const { labels, notices, legacy } = normaliseLabels(input, "c1");
    expect(labels).toBe(input);
    expect([notices, legacy]).toEqual([[], false]);
  });

  it("maps legacy 4 to 3 with a notice counting the voxels, without touching the input", () => {
    const input = labelMap([0, 4, 2, 4, 1]);
    const { labels, notices, legacy } = normaliseLabels(input, "c2");
    expect(Array.from(labels.data)).toEqual([0, 3, 2, 3, 1]);
    expect(Array.from(input.data)).toEqual([0, 4, 2, 4, 1]);
    expect(legacy).toBe(true);
    expect(notices).toEqual(["case c2: seg.nii.gz uses the legacy label 4 for enhancing tumour (2 voxels); mapped to 3"]);
  });

  it("rejects a map with both 3 and 4", () => {
    expect(() => normaliseLabels(labelMap([3, 4]), "c3")).toThrow(MixedLabelConventionError);
  });

  it("rejects label 5 and reports it", () => {
    expect(() => normaliseLabels(labelMap([0, 5]), "c4")).toThrow(InvalidLabelError);
    expect(() => normaliseLabels(labelMap([0, 5]), "c4")).toThrow(/case c4: seg\.nii\.gz has label 5 in 1 voxels/);
  });

  it("gives an empty map back unchanged", () => {
    const input: LabelVolume = { ...labelMap([0]), data: new Uint8Array(0) };
    expect(normaliseLabels(input, "c5").labels).toBe(input);
  });
});
