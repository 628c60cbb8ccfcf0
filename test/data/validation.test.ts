/**
 * Case validation on small synthetic cases written with the NIfTI writer into a temp folder:
 * each defect gives its own error class, carrying the case, file and value.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { discoverCases, loadCase } from "../../src/data/dataset.js";
import {
  CaseLayoutError,
  DatasetRootError,
  GridMismatchError,
  InvalidLabelError,
  MissingModalityError,
  MixedLabelConventionError,
  NonFiniteVoxelError,
} from "../../src/data/errors.js";
import { axisAlignedGeometry } from "../../src/nifti/geometry.js";
import type { Geometry } from "../../src/nifti/types.js";
import { writeNifti } from "../../src/nifti/write.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "fancl-data-validation-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const grid = axisAlignedGeometry([4, 3, 2], [1, 1, 1]);
const voxels = 4 * 3 * 2;

interface CaseSpec {
  /** Modalities to write (default all four). */
  modalities?: string[];
  /** Segmentation voxels; omitted = no seg file. */
  seg?: Uint8Array;
  segGeometry?: Geometry;
  /** Values of the t2f image (default all 1). */
  t2f?: Float32Array;
}

/** Writes a 2023-layout case `id` under a fresh root and returns the root. */
async function writeCase(id: string, spec: CaseSpec): Promise<string> {
  const root = path.join(tmp, id);
  const folder = path.join(root, id);
  mkdirSync(folder, { recursive: true });
  for (const modality of spec.modalities ?? ["t1n", "t1c", "t2w", "t2f"]) {
    const data = modality === "t2f" && spec.t2f !== undefined ? spec.t2f : new Float32Array(voxels).fill(1);
    await writeNifti(path.join(folder, `${id}-${modality}.nii.gz`), data, grid);
  }
  if (spec.seg !== undefined) {
    await writeNifti(path.join(folder, `${id}-seg.nii.gz`), spec.seg, spec.segGeometry ?? grid);
  }
  return root;
}

async function loadOnly(root: string, requireSeg = true) {
  const [files] = await discoverCases(root);
  return loadCase(files!, { requireSeg });
}

describe("case validation", () => {
  it("accepts a complete case with 2023 labels", async () => {
    const seg = new Uint8Array(voxels);
    seg.set([1, 2, 3]);
    const loaded = await loadOnly(await writeCase("good", { seg }));
    expect(Array.from(loaded.seg!.data.subarray(0, 4))).toEqual([1, 2, 3, 0]);
    expect(loaded.notices).toEqual([]);
  });

  it("a case missing a modality is a MissingModalityError naming the expected file", async () => {
    const root = await writeCase("no-t2w", { modalities: ["t1n", "t1c", "t2f"] });
    const error = await discoverCases(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingModalityError);
    expect((error as MissingModalityError).modality).toBe("t2w");
    expect((error as Error).message).toContain("no-t2w-t2w.nii.gz is missing");
  });

  it("names the missing file with the prefix of the files present", async () => {
    // The folder is called c1, its files BraTS-X-*: the user must add BraTS-X-t2f.nii.gz.
    const root = path.join(tmp, "renamed");
    const folder = path.join(root, "c1");
    mkdirSync(folder, { recursive: true });
    for (const modality of ["t1n", "t1c", "t2w"]) {
      await writeNifti(path.join(folder, `BraTS-X-${modality}.nii.gz`), new Float32Array(voxels).fill(1), grid);
    }
    const error = await discoverCases(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingModalityError);
    expect((error as Error).message).toContain("case c1 has no t2f image: BraTS-X-t2f.nii.gz is missing");
  });

  it("a segmentation on a different shape is a GridMismatchError naming both shapes", async () => {
    const root = await writeCase("other-shape", {
      seg: new Uint8Array(4 * 3 * 3),
      segGeometry: axisAlignedGeometry([4, 3, 3], [1, 1, 1]),
    });
    const error = await loadOnly(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GridMismatchError);
    expect((error as GridMismatchError).file).toMatch(/other-shape-seg\.nii\.gz$/);
    expect((error as Error).message).toContain("shape 4x3x2 vs 4x3x3");
  });

  it("a segmentation shifted by 0.5 mm is a GridMismatchError", async () => {
    const root = await writeCase("shifted", {
      seg: new Uint8Array(voxels),
      segGeometry: axisAlignedGeometry([4, 3, 2], [1, 1, 1], [0.5, 0, 0]),
    });
    await expect(loadOnly(root)).rejects.toThrow(/affine offset\[0\] 0 mm vs 0\.5 mm/);
  });

  it("a segmentation whose offset differs by 1e-5 mm is on the same grid", async () => {
    const root = await writeCase("float-noise", {
      seg: new Uint8Array(voxels),
      segGeometry: axisAlignedGeometry([4, 3, 2], [1, 1, 1], [1e-5, 0, 0]),
    });
    await expect(loadOnly(root)).resolves.toBeDefined();
  });

  it("NaN voxels are a NonFiniteVoxelError naming the file and voxel", async () => {
    const t2f = new Float32Array(voxels).fill(1);
    t2f[7] = Number.NaN;
    const error = await loadOnly(await writeCase("nan", { t2f }), false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteVoxelError);
    expect((error as NonFiniteVoxelError).voxelIndex).toBe(7);
    expect((error as NonFiniteVoxelError).file).toMatch(/nan-t2f\.nii\.gz$/);
  });

  it("an infinite voxel is a NonFiniteVoxelError", async () => {
    const t2f = new Float32Array(voxels).fill(1);
    t2f[0] = Number.POSITIVE_INFINITY;
    await expect(loadOnly(await writeCase("inf", { t2f }), false)).rejects.toBeInstanceOf(NonFiniteVoxelError);
  });

  it("label 5 is an InvalidLabelError with the value and its voxel count", async () => {
    const seg = new Uint8Array(voxels);
    seg.set([5, 5, 1]);
    const error = await loadOnly(await writeCase("label5", { seg })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidLabelError);
    expect([(error as InvalidLabelError).value, (error as InvalidLabelError).voxelCount]).toEqual([5, 2]);
  });

  it("labels 3 and 4 together are a MixedLabelConventionError", async () => {
    const seg = new Uint8Array(voxels);
    seg.set([3, 4]);
    await expect(loadOnly(await writeCase("mixed", { seg }))).rejects.toBeInstanceOf(MixedLabelConventionError);
  });

  it("a case folder with both layouts is a CaseLayoutError", async () => {
    const root = await writeCase("both", {});
    await writeNifti(path.join(root, "both", "both_t1.nii.gz"), new Float32Array(voxels), grid);
    await expect(discoverCases(root)).rejects.toBeInstanceOf(CaseLayoutError);
  });

  it("a root without case folders is a DatasetRootError", async () => {
    const root = path.join(tmp, "empty-root");
    mkdirSync(path.join(root, "not-a-case"), { recursive: true });
    await expect(discoverCases(root)).rejects.toBeInstanceOf(DatasetRootError);
  });
});
