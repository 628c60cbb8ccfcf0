/**
 * Voxel-to-world geometry of a NIfTI grid: the affine by nibabel's rule, and constructors for
 * the geometry of new images (an axis-aligned grid, a reference grid with new dims, a crop).
 *
 * Units: spacing and offsets in mm; dims and voxel indices in NIfTI order [x, y, z].
 */
import type { Affine, AffineSource, Geometry } from "./types.js";

/** The header fields that decide the affine; NIfTI order, pixdim[1..3] as stored. */
export interface TransformFields {
  readonly dims: readonly [number, number, number];
  readonly pixdim: readonly [number, number, number];
  readonly qfac: number;
  readonly qformCode: number;
  readonly sformCode: number;
  readonly quatern: readonly [number, number, number, number, number, number];
  readonly srow: readonly [readonly number[], readonly number[], readonly number[]];
}

/**
 * The affine a viewer should use, by nibabel's rule: the sform when sform_code > 0, else the
 * qform when qform_code > 0, else a grid built from pixdim alone with its centre at the world
 * origin and x flipped (radiological), as nibabel's `get_base_affine` does.
 */
export function bestAffine(fields: TransformFields): { affine: Affine; source: AffineSource } {
  if (fields.sformCode > 0) {
    const [x, y, z] = fields.srow;
    return { affine: rowsToAffine([x, y, z]), source: "sform" };
  }
  if (fields.qformCode > 0) {
    return { affine: qformAffine(fields.quatern, fields.qfac, fields.pixdim), source: "qform" };
  }
  return { affine: pixdimAffine(fields.dims, fields.pixdim), source: "pixdim" };
}

/**
 * Builds the qform affine: the rotation of the quaternion (b, c, d, with a recovered as
 * nifti1_io.c does), times diag(dx, dy, qfac·dz), plus the qoffset. A qfac other than -1 counts
 * as 1.
 */
export function qformAffine(
  quatern: readonly [number, number, number, number, number, number],
  qfac: number,
  pixdim: readonly [number, number, number],
): Affine {
  const rotation = quaternionRotation(quatern[0], quatern[1], quatern[2]);
  const scale = [Math.abs(pixdim[0]), Math.abs(pixdim[1]), Math.abs(pixdim[2]) * (qfac < 0 ? -1 : 1)];
  const rows = rotation.map((row, i) => [
    row[0]! * scale[0]!,
    row[1]! * scale[1]!,
    row[2]! * scale[2]!,
    quatern[3 + i]!,
  ]);
  return rowsToAffine(rows);
}

/** 3×3 rotation of the unit quaternion (a, b, c, d) with a = sqrt(1 − b² − c² − d²). */
export function quaternionRotation(b: number, c: number, d: number): number[][] {
  let a = 1 - (b * b + c * c + d * d);

  // A quaternion slightly longer than 1 from float32 rounding is a 180° rotation: renormalise.
  if (a < 1e-7) {
    const norm = Math.sqrt(b * b + c * c + d * d);
    b /= norm;
    c /= norm;
    d /= norm;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }

  return [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - b * b - c * c],
  ];
}

/** nibabel's base affine: diag(−dx, dy, dz) with the grid centre at the world origin. */
export function pixdimAffine(
  dims: readonly [number, number, number],
  pixdim: readonly [number, number, number],
): Affine {
  const zooms = [-Math.abs(pixdim[0]), Math.abs(pixdim[1]), Math.abs(pixdim[2])];
  return rowsToAffine(
    [0, 1, 2].map((i) => {
      const row = [0, 0, 0, -((dims[i]! - 1) / 2) * zooms[i]!];
      row[i] = zooms[i]!;
      return row;
    }),
  );
}

/**
 * Geometry of an axis-aligned grid: identity directions, `spacing` in mm, voxel (0,0,0) at
 * `origin` (mm, default 0). qform and sform both carry it with code 1; units are mm.
 */
export function axisAlignedGeometry(
  dims: readonly [number, number, number],
  spacing: readonly [number, number, number],
  origin: readonly [number, number, number] = [0, 0, 0],
): Geometry {
  checkDims(dims);
  const rows = [0, 1, 2].map((i) => {
    const row = [0, 0, 0, origin[i]!];
    row[i] = spacing[i]!;
    return row;
  });
  return {
    dims: [dims[0], dims[1], dims[2]],
    spacing: [spacing[0], spacing[1], spacing[2]],
    affine: rowsToAffine(rows),
    affineSource: "sform",
    qformCode: 1,
    sformCode: 1,
    quatern: [0, 0, 0, origin[0], origin[1], origin[2]],
    qfac: 1,
    srow: [rows[0]!, rows[1]!, rows[2]!],
    xyztUnits: 2,
  };
}

/** Returns the reference's geometry (same affine, voxel (0,0,0) in the same place) with other dims. */
export function geometryWithDims(reference: Geometry, dims: readonly [number, number, number]): Geometry {
  checkDims(dims);
  return { ...reference, dims: [dims[0], dims[1], dims[2]] };
}

/**
 * Returns the geometry of the sub-grid of `reference` that starts at voxel `start` and has
 * `dims` voxels. `start` is in NIfTI order [x, y, z] and may be negative (padding). Directions
 * and spacing stay, and the qform and sform offsets move to the world position of `start`.
 */
export function croppedGeometry(
  reference: Geometry,
  start: readonly [number, number, number],
  dims: readonly [number, number, number],
): Geometry {
  checkDims(dims);
  const shift = (m: readonly (readonly number[])[]) =>
    [0, 1, 2].map((i) => m[i]![0]! * start[0] + m[i]![1]! * start[1] + m[i]![2]! * start[2]);

  const affineShift = shift(reference.affine);
  const affine = rowsToAffine(reference.affine.slice(0, 3).map((row, i) => [row[0], row[1], row[2], row[3] + affineShift[i]!]));

  const srowShift = shift(reference.srow);
  const srow = reference.srow.map((row, i) => [row[0]!, row[1]!, row[2]!, row[3]! + srowShift[i]!]);

  const [b, c, d, qx, qy, qz] = reference.quatern;
  const qform = qformAffine(reference.quatern, reference.qfac, reference.spacing);
  const qformShift = shift(qform);

  return {
    ...reference,
    dims: [dims[0], dims[1], dims[2]],
    affine,
    srow: [srow[0]!, srow[1]!, srow[2]!],
    quatern: [b, c, d, qx + qformShift[0]!, qy + qformShift[1]!, qz + qformShift[2]!],
  };
}

/** Tolerances for `gridDifference`; defaults suit BraTS files written by different tools. */
export interface GridTolerance {
  /** Largest difference of a direction-matrix entry, relative to that column's spacing. */
  readonly relativeDirection: number;
  /** Largest difference of an offset, in mm. */
  readonly offsetMm: number;
}

export const defaultGridTolerance: GridTolerance = { relativeDirection: 1e-4, offsetMm: 1e-3 };

/**
 * Describes why two geometries are not the same grid (shape, spacing or affine), or returns
 * undefined when they agree within `tolerance`. The text names the values, e.g. "shape
 * 240x240x154 vs 240x240x155".
 */
export function gridDifference(a: Geometry, b: Geometry, tolerance = defaultGridTolerance): string | undefined {
  if (a.dims.some((n, i) => n !== b.dims[i])) {
    return `shape ${a.dims.join("x")} vs ${b.dims.join("x")}`;
  }
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const scale = Math.max(Math.abs(a.spacing[j]!), Math.abs(b.spacing[j]!), 1e-12);
      const diff = Math.abs(a.affine[i][j] - b.affine[i][j]);
      if (diff > tolerance.relativeDirection * scale) {
        return `affine[${i}][${j}] ${a.affine[i][j]} vs ${b.affine[i][j]}`;
      }
    }
    const offset = Math.abs(a.affine[i][3] - b.affine[i][3]);
    if (offset > tolerance.offsetMm) {
      return `affine offset[${i}] ${a.affine[i][3]} mm vs ${b.affine[i][3]} mm`;
    }
  }
  return undefined;
}

function rowsToAffine(rows: readonly (readonly number[])[]): Affine {
  const row = (i: number): [number, number, number, number] => [rows[i]![0]!, rows[i]![1]!, rows[i]![2]!, rows[i]![3]!];
  return [row(0), row(1), row(2), [0, 0, 0, 1]];
}

function checkDims(dims: readonly number[]): void {
  if (dims.length !== 3 || dims.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new RangeError(`grid dims must be three positive integers [nx, ny, nz], got [${dims.join(", ")}]`);
  }
}
