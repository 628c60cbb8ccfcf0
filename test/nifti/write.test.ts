/**
 * writeNifti → readNifti round trips keep geometry and values. When Debian's nibabel is
 * importable, it must read the written files with the reference's affine and header fields.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { axisAlignedGeometry, croppedGeometry } from "../../src/nifti/geometry.js";
import { readLabelVolume, readNifti, readVolume } from "../../src/nifti/read.js";
import { writeNifti } from "../../src/nifti/write.js";

const edge = path.resolve(process.cwd(), "../shared/data/nifti-edge");
const tmp = mkdtempSync(path.join(os.tmpdir(), "fancl-nifti-write-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Finds a python3 that can import nibabel (Debian's is /usr/bin/python3), or returns undefined. */
function pythonWithNibabel(): string | undefined {
  for (const python of ["/usr/bin/python3", "python3"]) {
    try {
      execFileSync(python, ["-c", "import nibabel"], { stdio: "ignore" });
      return python;
    } catch {
      // Try the next interpreter.
    }
  }
  return undefined;
}
const python = pythonWithNibabel();

/** Reads `file` with nibabel and returns its header fields and voxel sum. */
function nibabelFacts(file: string): {
  shape: number[];
  zooms: number[];
  affine: number[][];
  qform: number[][];
  sform: number[][];
  qformCode: number;
  sformCode: number;
  units: number;
  dtype: string;
  sum: number;
} {
  const script = `
import json, sys, numpy as np, nibabel as nib
img = nib.load(sys.argv[1])
h = img.header
d = np.asanyarray(img.dataobj).astype(np.float64)
print(json.dumps({
  "shape": list(img.shape), "zooms": [float(z) for z in h.get_zooms()],
  "affine": img.affine.tolist(), "qform": h.get_qform().tolist(), "sform": h.get_sform().tolist(),
  "qformCode": int(h["qform_code"]), "sformCode": int(h["sform_code"]), "units": int(h["xyzt_units"]),
  "dtype": str(h.get_data_dtype()), "sum": float(d.sum()),
}))`;
  return JSON.parse(execFileSync(python!, ["-c", script, file], { encoding: "utf8" }));
}

describe("writeNifti", () => {
  it("round-trips an sform-only geometry and float32 values", async () => {
    const source = await readVolume(path.join(edge, "avg152T1_LR_nifti.nii.gz"));
    const out = path.join(tmp, "avg.nii.gz");
    await writeNifti(out, source.data, source.geometry);
    const back = await readNifti(out);
    expect(back.geometry).toEqual(source.geometry);
    expect(back.data.length).toBe(source.data.length);
    expect(back.data.findIndex((v, i) => v !== source.data[i])).toBe(-1);
    expect(back.datatype).toBe("float32");
  });

  it("keeps the qform of a file whose sform code is 0", async () => {
    const source = await readVolume(path.join(edge, "big.nii.gz"));
    const out = path.join(tmp, "big-copy.nii.gz");
    await writeNifti(out, source.data, source.geometry);
    const back = await readVolume(out);
    expect(back.geometry.affineSource).toBe("qform");
    expect(back.geometry.affine).toEqual(source.geometry.affine);
    expect(back.geometry.qfac).toBe(-1);
  });

  it("writes uint8 labels and int16 images with their datatypes", async () => {
    const geometry = axisAlignedGeometry([3, 2, 2], [1, 1, 2.5], [-10, 5, 0]);
    const labels = Uint8Array.from([0, 1, 2, 3, 0, 0, 1, 1, 2, 2, 3, 3]);
    const image = Int16Array.from([-300, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 32000]);
    await writeNifti(path.join(tmp, "labels.nii.gz"), labels, geometry);
    await writeNifti(path.join(tmp, "image.nii"), image, geometry);
    const backLabels = await readLabelVolume(path.join(tmp, "labels.nii.gz"));
    const backImage = await readNifti(path.join(tmp, "image.nii"));
    expect(backLabels.data).toEqual(labels);
    expect(backImage.datatype).toBe("int16");
    expect(Array.from(backImage.data)).toEqual(Array.from(image));
  });

  it("rejects data whose length does not fit the geometry", async () => {
    const geometry = axisAlignedGeometry([4, 4, 4], [1, 1, 1]);
    await expect(writeNifti(path.join(tmp, "short.nii.gz"), new Float32Array(63), geometry)).rejects.toThrow(
      /holds 63 values but the geometry is 4x4x4 = 64 voxels/,
    );
  });

  it.skipIf(python === undefined)("is read by nibabel with the reference's affine, codes and units", async () => {
    const reference = await readVolume(path.join(edge, "anatomical.nii"));
    const out = path.join(tmp, "anatomical-copy.nii.gz");
    await writeNifti(out, reference.data, reference.geometry);
    const written = nibabelFacts(out);
    const original = nibabelFacts(path.join(edge, "anatomical.nii"));
    expect(written.shape).toEqual(original.shape);
    expect(written.zooms).toEqual(original.zooms);
    expect(written.affine).toEqual(original.affine);
    expect(written.qform).toEqual(original.qform);
    expect(written.sform).toEqual(original.sform);
    expect([written.qformCode, written.sformCode, written.units]).toEqual([original.qformCode, original.sformCode, original.units]);
    expect(written.sum).toBe(original.sum);
  });

  it.skipIf(python === undefined)("places a cropped grid where nibabel puts the same voxels", async () => {
    const reference = await readVolume(path.join(edge, "with_extension.nii.gz"));
    const cropped = croppedGeometry(reference.geometry, [10, 20, 30], [5, 6, 7]);
    const out = path.join(tmp, "cropped.nii.gz");
    await writeNifti(out, new Uint8Array(5 * 6 * 7), cropped);
    const facts = nibabelFacts(out);

    // nibabel's affine of voxel (0,0,0) of the crop is the reference's voxel (10,20,30):
    // with_extension's affine is diag(-1,-1,-1) with offset (80, 80, 85) (nibabel 5.0.0).
    expect(facts.affine.map((row) => row[3])).toEqual([70, 60, 55, 1]);
    expect(facts.qform.map((row) => row[3])).toEqual([70, 60, 55, 1]);
  });
});
