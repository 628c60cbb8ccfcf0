/**
 * Types shared by the NIfTI reader and writer.
 *
 * Axis convention: NIfTI stores voxels with i (x) fastest, then j (y), then k (z). fancl keeps
 * that memory order and reads it as a row-major array of shape [D, H, W] = [nz, ny, nx], so a
 * volume becomes a TensorFlow.js tensor without a transpose. `dims` stays in NIfTI order
 * [nx, ny, nz]; `spacing` is in millimetres in NIfTI order [dx, dy, dz].
 */

/** Where the voxel-to-world affine came from, by nibabel's rule. */
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
  /** Row-major [nz, ny, nx] (x fastest), length nx*ny*nz. */
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
