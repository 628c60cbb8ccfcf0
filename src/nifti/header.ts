/**
 * Parses a NIfTI-1 or NIfTI-2 header (either byte order, with extensions) from the first bytes
 * of a decompressed file. Field decoding is done by nifti-reader-js; this module checks the
 * header, reads srow_* (which the library folds into its own affine) and builds the Geometry.
 */
import { NIFTI1, NIFTI2 } from "nifti-reader-js";

import { NiftiDatatypeError, NiftiFormatError, NiftiTruncatedError } from "./errors.js";
import { bestAffine } from "./geometry.js";
import type { ByteOrder, Geometry, NiftiDatatype, NiftiExtension } from "./types.js";

/** Everything the voxel decoder and `fancl info` need from a header. */
export interface NiftiHeader {
  readonly niftiVersion: 1 | 2;
  readonly byteOrder: ByteOrder;
  /** dim[1..dim[0]], NIfTI order. */
  readonly shape: readonly number[];
  /** pixdim[1..dim[0]]. */
  readonly pixdim: readonly number[];
  readonly datatype: NiftiDatatype;
  readonly datatypeCode: number;
  readonly bytesPerVoxel: number;
  /** Byte offset of the first voxel. */
  readonly voxOffset: number;
  readonly sclSlope: number;
  readonly sclInter: number;
  readonly description: string;
  readonly extensions: readonly NiftiExtension[];
  readonly geometry: Geometry;
}

const datatypes: ReadonlyMap<number, { name: NiftiDatatype; bytes: number }> = new Map([
  [2, { name: "uint8", bytes: 1 }],
  [4, { name: "int16", bytes: 2 }],
  [8, { name: "int32", bytes: 4 }],
  [16, { name: "float32", bytes: 4 }],
  [64, { name: "float64", bytes: 8 }],
  [256, { name: "int8", bytes: 1 }],
  [512, { name: "uint16", bytes: 2 }],
  [768, { name: "uint32", bytes: 4 }],
]);

/** NIfTI datatype code of each datatype name (the inverse of the table above). */
export const datatypeCodes: Readonly<Record<NiftiDatatype, number>> = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  float64: 64,
  int8: 256,
  uint16: 512,
  uint32: 768,
};

/**
 * Reads the header at the start of `bytes` (a whole decompressed file, or at least its header
 * and extensions). `file` is used in error messages only.
 */
export function parseHeader(bytes: Uint8Array, file: string): NiftiHeader {
  if (bytes.byteLength < 4) {
    throw new NiftiFormatError(file, `it is only ${bytes.byteLength} bytes long`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { version, littleEndian } = detectVersion(view, file);
  const headerSize = version === 1 ? 348 : 540;
  if (bytes.byteLength < headerSize) {
    throw new NiftiTruncatedError(file, headerSize, bytes.byteLength);
  }
  checkMagic(bytes, version, file);

  // Extensions sit between the header and vox_offset; the library parses them from that span.
  const storedOffset = version === 1 ? view.getFloat32(108, littleEndian) : Number(view.getBigInt64(168, littleEndian));
  const voxOffset = Math.max(Math.round(storedOffset), headerSize + 4);
  const span = new Uint8Array(bytes.subarray(0, Math.min(voxOffset, bytes.byteLength)));
  const header = version === 1 ? new NIFTI1() : new NIFTI2();
  try {
    header.readHeader(span.buffer);
  } catch (error) {
    throw new NiftiFormatError(file, `its header cannot be parsed (${(error as Error).message})`);
  }

  const ndim = header.dims[0]!;
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7) {
    throw new NiftiFormatError(file, `dim[0] is ${ndim}, not a number of axes from 1 to 7`);
  }
  const shape = header.dims.slice(1, ndim + 1);
  if (shape.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new NiftiFormatError(file, `its dims ${shape.join("x")} contain a size below 1`);
  }
  const type = datatypes.get(header.datatypeCode);
  if (type === undefined) {
    throw new NiftiDatatypeError(file, header.datatypeCode);
  }

  const pixdim = header.pixDims.slice(1, ndim + 1);
  const dims3 = [0, 1, 2].map((i) => shape[i] ?? 1) as [number, number, number];
  const pixdim3 = [0, 1, 2].map((i) => (i < ndim ? header.pixDims[i + 1]! : 1)) as [number, number, number];
  const quatern = [
    header.quatern_b,
    header.quatern_c,
    header.quatern_d,
    header.qoffset_x,
    header.qoffset_y,
    header.qoffset_z,
  ] as const;
  const srow = readSrow(view, version, littleEndian);
  const qfac = header.pixDims[0]! < 0 ? -1 : 1;
  const { affine, source } = bestAffine({
    dims: dims3,
    pixdim: pixdim3,
    qfac,
    qformCode: header.qform_code,
    sformCode: header.sform_code,
    quatern,
    srow,
  });

  return {
    niftiVersion: version,
    byteOrder: littleEndian ? "little" : "big",
    shape,
    pixdim,
    datatype: type.name,
    datatypeCode: header.datatypeCode,
    bytesPerVoxel: type.bytes,
    voxOffset,
    sclSlope: header.scl_slope,
    sclInter: header.scl_inter,
    description: header.description.replace(/\0+$/, ""),
    extensions: header.extensions.map((e) => ({ code: e.ecode, size: e.esize })),
    geometry: {
      dims: dims3,
      spacing: [Math.abs(pixdim3[0]), Math.abs(pixdim3[1]), Math.abs(pixdim3[2])],
      affine,
      affineSource: source,
      qformCode: header.qform_code,
      sformCode: header.sform_code,
      quatern,
      qfac,
      srow,
      xyztUnits: header.xyzt_units,
    },
  };
}

/** Tells whether scl_slope requests scaling: non-zero and finite (NaN and 0 mean "none"). */
export function hasScaling(header: Pick<NiftiHeader, "sclSlope" | "sclInter">): boolean {
  const inter = Number.isFinite(header.sclInter) ? header.sclInter : 0;
  return header.sclSlope !== 0 && Number.isFinite(header.sclSlope) && (header.sclSlope !== 1 || inter !== 0);
}

function detectVersion(view: DataView, file: string): { version: 1 | 2; littleEndian: boolean } {
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === 348) return { version: 1, littleEndian };
    if (size === 540) return { version: 2, littleEndian };
  }
  throw new NiftiFormatError(file, `its first four bytes (sizeof_hdr) are neither 348 nor 540 in either byte order`);
}

function checkMagic(bytes: Uint8Array, version: 1 | 2, file: string): void {
  const at = version === 1 ? 344 : 4;
  const magic = String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!);
  if (magic === `ni${version}`) {
    throw new NiftiFormatError(file, "it is the header of a .hdr/.img pair; convert the pair to a single .nii.gz");
  }
  if (magic !== `n+${version}` || bytes[at + 3] !== 0) {
    throw new NiftiFormatError(file, `its magic string is ${JSON.stringify(magic)}, not "n+${version}"`);
  }
}

function readSrow(
  view: DataView,
  version: 1 | 2,
  littleEndian: boolean,
): readonly [readonly number[], readonly number[], readonly number[]] {
  const start = version === 1 ? 280 : 400;
  const size = version === 1 ? 4 : 8;
  const row = (r: number) =>
    [0, 1, 2, 3].map((c) => {
      const at = start + (r * 4 + c) * size;
      return version === 1 ? view.getFloat32(at, littleEndian) : view.getFloat64(at, littleEndian);
    });
  return [row(0), row(1), row(2)];
}
