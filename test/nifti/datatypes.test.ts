/**
 * Every supported datatype, with and without scl_slope/scl_inter, in files assembled byte by
 * byte here (header from the writer's header builder, voxels from a typed array), so the
 * expected values are the hand-chosen inputs and their hand-computed scaled values.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { axisAlignedGeometry } from "../../src/nifti/geometry.js";
import { readLabelVolume, readNifti, readVolume } from "../../src/nifti/read.js";
import type { NiftiDatatype } from "../../src/nifti/types.js";
import { niftiHeader } from "../../src/nifti/write.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "fancl-nifti-datatypes-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const grid = axisAlignedGeometry([3, 2, 1], [1, 1, 1]);

type Typed = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** Writes a little-endian .nii with `voxels` after a 352-byte header (+ `padding` bytes). */
function niiFile(name: string, datatype: NiftiDatatype, voxels: Typed, slope = 1, inter = 0, padding = 0): string {
  const header = niftiHeader(grid, datatype, voxels.BYTES_PER_ELEMENT * 8, "test");
  header.writeFloatLE(352 + padding, 108);
  header.writeFloatLE(slope, 112);
  header.writeFloatLE(inter, 116);
  const file = path.join(tmp, name);
  writeFileSync(file, Buffer.concat([header, Buffer.alloc(padding), Buffer.from(voxels.buffer, voxels.byteOffset, voxels.byteLength)]));
  return file;
}

const cases: { datatype: NiftiDatatype; voxels: Typed }[] = [
  { datatype: "uint8", voxels: Uint8Array.from([0, 1, 2, 3, 254, 255]) },
  { datatype: "int8", voxels: Int8Array.from([-128, -1, 0, 1, 2, 127]) },
  { datatype: "int16", voxels: Int16Array.from([-32768, -2, 0, 3, 4, 32767]) },
  { datatype: "uint16", voxels: Uint16Array.from([0, 1, 2, 3, 40000, 65535]) },
  { datatype: "int32", voxels: Int32Array.from([-2147483648, -5, 0, 6, 7, 2147483647]) },
  { datatype: "uint32", voxels: Uint32Array.from([0, 1, 2, 3, 5, 4294967295]) },
  { datatype: "float32", voxels: Float32Array.from([-1.5, 0, 0.25, 3, 1e6, -7]) },
  { datatype: "float64", voxels: Float64Array.from([-1.5, 0, 0.1, 3, 1e300, -7]) },
];

describe("datatypes", () => {
  for (const { datatype, voxels } of cases) {
    it(`reads ${datatype} voxels unscaled`, async () => {
      const image = await readNifti(niiFile(`${datatype}.nii`, datatype, voxels));
      expect(image.datatype).toBe(datatype);
      expect(image.data).toBeInstanceOf(datatype === "float64" ? Float64Array : Float32Array);
      const expected = datatype === "float64" ? Array.from(voxels) : Array.from(voxels, (v) => Math.fround(v));
      expect(Array.from(image.data)).toEqual(expected);
    });

    it(`applies scl_slope 2 and scl_inter -1 to ${datatype}`, async () => {
      const image = await readNifti(niiFile(`${datatype}-scaled.nii`, datatype, voxels, 2, -1));
      const expected = Array.from(voxels, (v) => 2 * v - 1);
      const rounded = datatype === "float64" ? expected : expected.map((v) => Math.fround(v));
      expect(Array.from(image.data)).toEqual(rounded);
    });
  }

  it("ignores scl_inter when scl_slope is 0", async () => {
    const image = await readNifti(niiFile("slope0.nii", "int16", Int16Array.from([1, 2, 3, 4, 5, 6]), 0, 100));
    expect(Array.from(image.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("ignores a NaN scl_slope", async () => {
    const image = await readNifti(niiFile("slopenan.nii", "uint8", Uint8Array.from([1, 2, 3, 4, 5, 6]), Number.NaN, 100));
    expect(Array.from(image.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("reads float32 voxels that start at an offset not divisible by 4", async () => {
    const voxels = Float32Array.from([1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
    const image = await readVolume(niiFile("misaligned.nii", "float32", voxels, 1, 0, 3));
    expect(Array.from(image.data)).toEqual([1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
  });

  it("reads scaled int16 labels (raw 2·label + 1, slope 0.5, inter -0.5) as the labels", async () => {
    const labels = await readLabelVolume(niiFile("scaled-labels.nii", "int16", Int16Array.from([1, 3, 5, 7, 1, 1]), 0.5, -0.5));
    expect(Array.from(labels.data)).toEqual([0, 1, 2, 3, 0, 0]);
  });

  it("rejects a slope that scales int32 values past the float32 range", async () => {
    await expect(readVolume(niiFile("overflow.nii", "int32", Int32Array.from([0, 1, 2, 3, 4, 5]), 1e30))).rejects.toThrow(
      /beyond the float32 range/,
    );
  });
});

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

describe.skipIf(python === undefined)("big-endian NIfTI-2 written by nibabel", () => {
  it("reads to the same shape, affine and voxels as the little-endian original", async () => {
    const original = path.resolve(process.cwd(), "../shared/data/nifti-edge/example_nifti2.nii.gz");
    const swapped = path.join(tmp, "example_nifti2_be.nii.gz");
    const script = `
import sys, nibabel as nib
img = nib.load(sys.argv[1])
hdr = img.header.as_byteswapped(">")
nib.Nifti2Image(img.get_fdata().astype(">i2"), img.affine, hdr).to_filename(sys.argv[2])
assert nib.load(sys.argv[2]).header.endianness == ">"`;
    execFileSync(python!, ["-c", script, original, swapped]);
    const [little, big] = await Promise.all([readNifti(original), readNifti(swapped)]);
    expect(big.byteOrder).toBe("big");
    expect(big.niftiVersion).toBe(2);
    expect(big.shape).toEqual(little.shape);
    expect(big.geometry.affine).toEqual(little.geometry.affine);
    expect(big.data.findIndex((v, i) => v !== little.data[i])).toBe(-1);
  });
});
