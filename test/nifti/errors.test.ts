/**
 * Bad NIfTI inputs each give their own error class, carrying the file, with a message that
 * names the file and what to do. Fixtures are corrupted copies written to a temp folder.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";

import {
  NiftiDatatypeError,
  NiftiFileError,
  NiftiFormatError,
  NiftiLabelValueError,
  NiftiTruncatedError,
} from "../../src/nifti/errors.js";
import { axisAlignedGeometry } from "../../src/nifti/geometry.js";
import { readLabelVolume, readNifti, readVolume } from "../../src/nifti/read.js";
import { writeNifti } from "../../src/nifti/write.js";

const edge = path.resolve(process.cwd(), "../shared/data/nifti-edge");
const tmp = mkdtempSync(path.join(os.tmpdir(), "fancl-nifti-errors-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fixture(name: string, bytes: Uint8Array): string {
  const file = path.join(tmp, name);
  writeFileSync(file, bytes);
  return file;
}

describe("NIfTI read errors and gzip edge cases", () => {
  it("a .nii.gz cut in half is a NiftiTruncatedError naming the file", async () => {
    const whole = readFileSync(path.join(edge, "standard.nii.gz"));
    const file = fixture("cut.nii.gz", whole.subarray(0, Math.floor(whole.length / 2)));
    const error = await readVolume(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NiftiTruncatedError);
    expect((error as NiftiTruncatedError).file).toBe(file);
    expect((error as Error).message).toContain("cut.nii.gz is truncated");
  });

  it("a .nii whose voxel data ends early is a NiftiTruncatedError with both sizes", async () => {
    const whole = readFileSync(path.join(edge, "anatomical.nii"));
    const file = fixture("short.nii", whole.subarray(0, 1000));
    const error = await readVolume(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NiftiTruncatedError);
    // anatomical.nii: vox_offset 352 + 33·41·25 int16 voxels (nibabel 5.0.0) = 68002 bytes.
    expect((error as NiftiTruncatedError).expectedBytes).toBe(352 + 33 * 41 * 25 * 2);
    expect((error as NiftiTruncatedError).actualBytes).toBe(1000);
  });

  it("a text file is a NiftiFormatError", async () => {
    const file = fixture("notes.nii", Buffer.from("this is not an image, just some words in a file\n".repeat(20)));
    await expect(readNifti(file)).rejects.toBeInstanceOf(NiftiFormatError);
    await expect(readNifti(file)).rejects.toThrow(/notes\.nii is not a NIfTI image/);
  });

  it("a gzipped text file is a NiftiFormatError", async () => {
    const file = fixture("notes.nii.gz", gzipSync(Buffer.from("x".repeat(600))));
    await expect(readNifti(file)).rejects.toBeInstanceOf(NiftiFormatError);
  });

  it("a header with a wrong magic string is a NiftiFormatError quoting the magic", async () => {
    const bytes = Buffer.from(readFileSync(path.join(edge, "anatomical.nii")));
    bytes.write("abc", 344, "latin1");
    await expect(readNifti(fixture("magic.nii", bytes))).rejects.toThrow(/magic string is "abc"/);
  });

  it("a complex64 datatype is a NiftiDatatypeError carrying the code", async () => {
    const bytes = Buffer.from(gunzipSync(readFileSync(path.join(edge, "standard.nii.gz"))));
    bytes.writeInt16LE(32, 70);
    const error = await readNifti(fixture("complex.nii", bytes)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NiftiDatatypeError);
    expect((error as NiftiDatatypeError).datatypeCode).toBe(32);
  });

  it("a missing file is a NiftiFileError", async () => {
    await expect(readNifti(path.join(tmp, "absent.nii.gz"))).rejects.toBeInstanceOf(NiftiFileError);
  });

  it("a label map with a non-integral value is a NiftiLabelValueError naming the value", async () => {
    const data = new Float32Array(8);
    data[5] = 2.5;
    const file = path.join(tmp, "half.nii.gz");
    await writeNifti(file, data, axisAlignedGeometry([2, 2, 2], [1, 1, 1]));
    const error = await readLabelVolume(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NiftiLabelValueError);
    expect([(error as NiftiLabelValueError).value, (error as NiftiLabelValueError).voxelIndex]).toEqual([2.5, 5]);
  });

  it("a label map with a negative value is a NiftiLabelValueError", async () => {
    const data = Int16Array.from([0, 1, 2, -1, 0, 0, 0, 0]);
    const file = path.join(tmp, "negative.nii.gz");
    await writeNifti(file, data, axisAlignedGeometry([2, 2, 2], [1, 1, 1]));
    await expect(readLabelVolume(file)).rejects.toThrow(/voxel 3 has value -1/);
  });

  it("reads a .nii.gz made of two gzip members (as bgzip and pigz write)", async () => {
    const whole = gunzipSync(readFileSync(path.join(edge, "standard.nii.gz")));
    const half = Math.floor(whole.length / 2);
    const file = fixture("members.nii.gz", Buffer.concat([gzipSync(whole.subarray(0, half)), gzipSync(whole.subarray(half))]));
    const [joined, original] = await Promise.all([readNifti(file), readNifti(path.join(edge, "standard.nii.gz"))]);
    expect(Array.from(joined.data)).toEqual(Array.from(original.data));
  });

  it("reads the float64 legacy segmentation as integral labels without remapping 4", async () => {
    const labels = await readLabelVolume(path.join(edge, "seg-float64-label4-sform-only.nii.gz"));
    expect(new Set(labels.data)).toEqual(new Set([0, 1, 2, 4]));
  });
});
