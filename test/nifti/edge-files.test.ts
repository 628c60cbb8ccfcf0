/**
 * Every file in ../shared/data/nifti-edge against the numbers nibabel 5.0.0 reports for it
 * (`nib.load(f)`: shape, header.get_zooms(), affine, header.get_data_dtype(), and min, max and
 * mean of `get_fdata(dtype=np.float32)` taken in float64), copied here by hand.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";

import { readNifti, readVolume } from "../../src/nifti/read.js";
import type { AffineSource, ByteOrder, NiftiDatatype } from "../../src/nifti/types.js";

const edge = path.resolve(process.cwd(), "../shared/data/nifti-edge");

interface Expected {
  file: string;
  niftiVersion: 1 | 2;
  shape: number[];
  spacing: [number, number, number];
  datatype: NiftiDatatype;
  byteOrder: ByteOrder;
  affineSource: AffineSource;
  affine: number[][];
  min: number;
  max: number;
  mean: number;
  extensionCodes: number[];
}

// Values from nibabel 5.0.0 (Debian python3-nibabel), printed with repr().
const expected: Expected[] = [
  {
    file: "5D_small.nii",
    niftiVersion: 1,
    shape: [1, 2, 3, 1, 3],
    spacing: [1, 1, 1],
    datatype: "uint8",
    byteOrder: "little",
    affineSource: "sform",
    affine: [
      [-6.920585349234898e-8, -0.0016480153426527977, 0.9999986290931702, -87.89346313476562],
      [-0.9917474985122681, 0.12820644676685333, 0.0002112178481183946, 147.39846801757812],
      [0.12820661067962646, 0.9917461276054382, 0.0016344239702448249, -120.61727905273438],
    ],
    min: 0.07691901922225952,
    max: 0.7802449464797974,
    mean: 0.40452486897508305,
    extensionCodes: [],
  },
  {
    file: "anatomical.nii",
    niftiVersion: 1,
    shape: [33, 41, 25],
    spacing: [2, 2, 2],
    datatype: "int16",
    byteOrder: "big",
    affineSource: "sform",
    affine: [
      [-2, 0, 0, 32],
      [0, 2, 0, -40],
      [0, 0, 2, -16],
    ],
    min: -610,
    max: 30393,
    mean: 8401.066725794532,
    extensionCodes: [],
  },
  {
    file: "avg152T1_LR_nifti.nii.gz",
    niftiVersion: 1,
    shape: [91, 109, 91],
    spacing: [2, 2, 2],
    datatype: "uint8",
    byteOrder: "big",
    affineSource: "sform",
    affine: [
      [-2, 0, 0, 90],
      [0, 2, 0, -126],
      [0, 0, 2, -72],
    ],
    min: 0,
    max: 255,
    mean: 82.89716151375593,
    extensionCodes: [],
  },
  {
    file: "avg152T1_LR_nifti2.nii.gz",
    niftiVersion: 2,
    shape: [91, 109, 91],
    spacing: [2, 2, 2],
    datatype: "float32",
    byteOrder: "little",
    affineSource: "sform",
    affine: [
      [-2, 0, 0, 90],
      [0, 2, 0, -126],
      [0, 0, 2, -72],
    ],
    min: 0,
    max: 255,
    mean: 82.89716151375593,
    extensionCodes: [],
  },
  {
    file: "big.nii.gz",
    niftiVersion: 1,
    shape: [64, 64, 21],
    spacing: [4, 4, 6],
    datatype: "float32",
    byteOrder: "big",
    affineSource: "qform",
    affine: [
      [-4, 0, 0, 0],
      [0, 4, 0, 0],
      [0, 0, 6, 0],
    ],
    min: -8.710750579833984,
    max: 18.582529067993164,
    mean: 0.13542099169935,
    extensionCodes: [],
  },
  {
    file: "little.nii.gz",
    niftiVersion: 1,
    shape: [64, 64, 21, 1],
    spacing: [4, 4, 6],
    datatype: "float32",
    byteOrder: "little",
    affineSource: "qform",
    affine: [
      [-4, 0, 0, 0],
      [0, 4, 0, 0],
      [0, 0, 6, 0],
    ],
    min: -8.710750579833984,
    max: 18.582529067993164,
    mean: 0.13542099169935,
    extensionCodes: [],
  },
  {
    file: "example4d.nii.gz",
    niftiVersion: 1,
    shape: [128, 96, 24, 2],
    spacing: [2, 2, 2.199999],
    datatype: "int16",
    byteOrder: "little",
    affineSource: "sform",
    affine: [
      [-2, 6.714715653593746e-19, 9.081024511081715e-18, 117.8551025390625],
      [-6.714715653593746e-19, 1.9737114906311035, -0.35552823543548584, -35.72294235229492],
      [8.25548088896093e-18, 0.3232076168060303, 2.171081781387329, -7.248798370361328],
    ],
    min: 0,
    max: 1162,
    mean: 172.90811496310764,
    extensionCodes: [6, 6],
  },
  {
    file: "example_nifti2.nii.gz",
    niftiVersion: 2,
    shape: [32, 20, 12, 2],
    spacing: [2, 2, 2.1999990940093994],
    datatype: "int16",
    byteOrder: "little",
    affineSource: "sform",
    affine: [
      [-2, 6.714715653593746e-19, 9.081024511081715e-18, 117.8551025390625],
      [-6.714715653593746e-19, 1.9737114906311035, -0.35552823543548584, -35.72294235229492],
      [8.25548088896093e-18, 0.3232076168060303, 2.171081781387329, -7.248798370361328],
    ],
    min: 46,
    max: 757,
    mean: 450.963671875,
    extensionCodes: [6, 6],
  },
  {
    file: "int32-scl-slope-brainmask.nii.gz",
    niftiVersion: 1,
    shape: [240, 240, 155],
    spacing: [1, 1, 1],
    datatype: "int32",
    byteOrder: "little",
    affineSource: "sform",
    affine: [
      [-1, 0, 0, 0],
      [0, -1, 0, 239],
      [0, 0, 1, 0],
    ],
    min: 0,
    max: 1,
    mean: 0.1666179435483871,
    extensionCodes: [],
  },
  {
    file: "seg-float64-label4-sform-only.nii.gz",
    niftiVersion: 1,
    shape: [240, 240, 155],
    spacing: [1, 1, 1],
    datatype: "float64",
    byteOrder: "little",
    affineSource: "sform",
    affine: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ],
    min: 0,
    max: 4,
    mean: 0.03217338709677419,
    extensionCodes: [],
  },
  {
    file: "standard.nii.gz",
    niftiVersion: 1,
    shape: [4, 5, 7],
    spacing: [1, 3, 2],
    datatype: "uint8",
    byteOrder: "little",
    affineSource: "sform",
    affine: [
      [1, 0, 0, 0],
      [0, 3, 0, 0],
      [0, 0, 2, 0],
    ],
    min: 0,
    max: 255,
    mean: 54.642857142857146,
    extensionCodes: [],
  },
  {
    file: "with_extension.nii.gz",
    niftiVersion: 1,
    shape: [161, 191, 151, 1],
    spacing: [1, 1, 1],
    datatype: "uint8",
    byteOrder: "big",
    affineSource: "sform",
    affine: [
      [-1, 0, 0, 80],
      [0, -1, 0, 80],
      [0, 0, -1, 85],
    ],
    min: 0,
    max: 1,
    mean: 0.3171965979246677,
    extensionCodes: [0],
  },
];

function stats(data: Float32Array | Float64Array): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / data.length };
}

describe("readNifti on nifti-edge", () => {
  for (const e of expected) {
    describe(e.file, () => {
      const image = () => readNifti(path.join(edge, e.file));

      it("has nibabel's shape, version, datatype and byte order", async () => {
        const img = await image();
        expect(img.shape).toEqual(e.shape);
        expect(img.niftiVersion).toBe(e.niftiVersion);
        expect(img.datatype).toBe(e.datatype);
        expect(img.byteOrder).toBe(e.byteOrder);
        expect(img.data.length).toBe(e.shape.reduce((a, b) => a * b, 1));
      });

      it("has nibabel's spacing and affine", async () => {
        const { geometry } = await image();
        geometry.spacing.forEach((s, i) => expect(s).toBeCloseTo(e.spacing[i]!, 5));
        expect(geometry.affineSource).toBe(e.affineSource);
        for (let r = 0; r < 3; r++) {
          for (let c = 0; c < 4; c++) expect(geometry.affine[r]![c]).toBeCloseTo(e.affine[r]![c]!, 5);
        }
        expect(geometry.affine[3]).toEqual([0, 0, 0, 1]);
      });

      it("has nibabel's value range and mean after scaling", async () => {
        const s = stats((await image()).data);
        expect(s.min).toBe(e.min);
        expect(s.max).toBe(e.max);
        // nibabel applies scl_slope/scl_inter in float32 steps, fancl in double precision with
        // one rounding, so a scaled voxel may differ by one float32 ulp: means agree to 1e-8.
        expect(s.mean).toBeCloseTo(e.mean, 8);
      });

      it("lists the header extensions nibabel lists", async () => {
        expect((await image()).extensions.map((x) => x.code)).toEqual(e.extensionCodes);
      });
    });
  }
});

describe("readVolume on nifti-edge", () => {
  it("reads a 4-D file whose fourth axis is 1 as a 3-D volume", async () => {
    const volume = await readVolume(path.join(edge, "little.nii.gz"));
    expect(volume.geometry.dims).toEqual([64, 64, 21]);
    expect(volume.data.length).toBe(64 * 64 * 21);
  });

  it("gives the int32 brain mask as exactly 0 and 1", async () => {
    const volume = await readVolume(path.join(edge, "int32-scl-slope-brainmask.nii.gz"));
    expect(new Set(volume.data)).toEqual(new Set([0, 1]));
  });

  it("rejects a 4-D series, naming the file and its shape", async () => {
    await expect(readVolume(path.join(edge, "example4d.nii.gz"))).rejects.toThrow(/example4d\.nii\.gz has shape 128x96x24x2/);
  });

  it("rejects a 5-D file, naming its shape", async () => {
    await expect(readVolume(path.join(edge, "5D_small.nii"))).rejects.toThrow(/has shape 1x2x3x1x3/);
  });

  it("reads big- and little-endian copies of one image to the same voxels", async () => {
    const big = await readVolume(path.join(edge, "big.nii.gz"));
    const little = await readVolume(path.join(edge, "little.nii.gz"));
    expect(big.data).toEqual(little.data);
  });
});
