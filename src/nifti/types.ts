/**
 * Types shared by the NIfTI reader and writer.
 *
 * Axis convention: NIfTI stores voxels with i (x) fastest, then j (y), then k (z). fancl keeps
 * that memory order and reads it as a row-major array of shape [D, H, W] = [nz, ny, nx], so a
 * volume becomes a TensorFlow.js tensor without a transpose. `dims` stays in NIfTI order
 * [nx, ny, nz]; `spacing` is in millimetres in NIfTI order [dx, dy, dz].
 */

/** Source of the voxel-to-world affine, chosen by nibabel's rule. */
export type AffineSource = "sform" | "qform" | "pixdim";

export type NiftiDatatype =
  | "uint8"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "float32"
  | "float64";

/** 4×4 row-major voxel-to-world matrix, in mm. */
export type Affine = [
  [number, number, number, number],
  [number, number, number, number],
  [number, number, number, number],
  [number, number, number, number],
];

/**
 * The header fields needed to write a new image on the same grid as a reference, so that
 * ITK-SNAP, 3D Slicer and nibabel overlay it exactly.
 */
export interface Geometry {
  /** [nx, ny, nz]. */
  readonly dims: readonly [number, number, number];
  /** [dx, dy, dz] in mm. */
  readonly spacing: readonly [number, number, number];
  readonly affine: Affine;
  readonly affineSource: AffineSource;
  readonly qformCode: number;
  readonly sformCode: number;
  /** quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z. */
  readonly quatern: readonly [number, number, number, number, number, number];
  /** pixdim[0], the qfac (±1). */
  readonly qfac: number;
  /** srow_x, srow_y, srow_z, each of 4 numbers. */
  readonly srow: readonly [readonly number[], readonly number[], readonly number[]];
  /** NIfTI xyzt_units byte. */
  readonly xyztUnits: number;
}

/** A 3-D scalar volume, values already scaled by scl_slope/scl_inter. */
export interface Volume {
  readonly path: string;
  readonly geometry: Geometry;
  /**
   * Row-major [nz, ny, nx] (x fastest), length nx*ny*nz. For an unscaled float32 file this is a
   * view into the decompressed file (byteOffset after the header), not a copy.
   */
  readonly data: Float32Array;
  readonly datatype: NiftiDatatype;
}

/** A 3-D label map (values 0..255), same layout as Volume.data. */
export interface LabelVolume {
  readonly path: string;
  readonly geometry: Geometry;
  /** Row-major [nz, ny, nx] (x fastest). */
  readonly data: Uint8Array;
}

/** Byte order of a file's header and voxel data. */
export type ByteOrder = "little" | "big";

/** One header extension: its code (e.g. 6 = comment, 4 = AFNI) and size in bytes. */
export interface NiftiExtension {
  readonly code: number;
  readonly size: number;
}

/**
 * A NIfTI image of any dimensionality with the facts of its header, as `readNifti` returns it.
 *
 * `data` contains the voxel values after scl_slope/scl_inter, in file order (x fastest, then y,
 * z, t, ...): a row-major array of shape `shape` reversed. It is a Float64Array when the file
 * stores float64, else a Float32Array (values computed in double precision, then rounded).
 */
export interface NiftiImage {
  readonly path: string;
  readonly niftiVersion: 1 | 2;
  /** dim[1..dim[0]], NIfTI order [nx, ny, nz, nt, ...]. */
  readonly shape: readonly number[];
  /** pixdim[1..dim[0]]: mm for the first three axes, the file's units after that. */
  readonly pixdim: readonly number[];
  readonly datatype: NiftiDatatype;
  readonly datatypeCode: number;
  readonly byteOrder: ByteOrder;
  /** scl_slope as stored; 0 (or NaN) means no scaling was applied. */
  readonly sclSlope: number;
  /** scl_inter as stored; used only when scl_slope is non-zero. */
  readonly sclInter: number;
  readonly description: string;
  readonly extensions: readonly NiftiExtension[];
  /** Grid of the first three axes (missing axes count as size 1, spacing 1). */
  readonly geometry: Geometry;
  readonly data: Float32Array | Float64Array;
}
