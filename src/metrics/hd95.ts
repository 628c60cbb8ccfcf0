/**
 * HD95: the 95th percentile Hausdorff distance between the voxel surfaces of two binary masks,
 * in mm from the voxel spacing.
 */
import { squaredEdtAt } from "./edt.js";
import { percentileSorted } from "./percentile.js";
import { voxelSurface } from "./surface.js";
import { boundingBox, checkGrid, cropWithMargin, diagonalMm, type Grid } from "./grid.js";

/**
 * - `medpy`: the 95th percentile of both directed surface-distance lists joined into one
 *   (MedPy's `hd95`).
 * - `max-directed`: the larger of the two directed 95th percentiles.
 */
export type Hd95Definition = "medpy" | "max-directed";

export const HD95_DEFINITIONS: readonly Hd95Definition[] = ["medpy", "max-directed"];

/** Distances in mm from each surface voxel of one mask to the nearest surface voxel of the other. */
export interface DirectedDistances {
  /** From each ground-truth surface voxel to the prediction's surface, ascending. */
  readonly gtToPred: Float64Array;
  /** From each predicted surface voxel to the ground truth's surface, ascending. */
  readonly predToGt: Float64Array;
}

/**
 * Directed surface distances (mm) between two non-empty masks, row-major [nz, ny, nx].
 * Surfaces are MedPy's (see `voxelSurface`). Computed inside the bounding box of the union
 * plus a one-voxel zero margin: the margin reproduces the out-of-array background of the
 * erosion, and every surface voxel, hence every nearest one, lies inside the box, so the crop
 * changes no distance. Returns undefined when either mask is empty.
 */
export function directedSurfaceDistances(gt: Uint8Array, pred: Uint8Array, grid: Grid): DirectedDistances | undefined {
  checkGrid(grid, [gt, pred], "hd95");
  const box = boundingBox(grid, gt, pred);
  if (box === undefined) return undefined;

  const gtCrop = cropWithMargin(grid, gt, box, 1);
  const predCrop = cropWithMargin(grid, pred, box, 1);
  const dims = gtCrop.dims;
  const gtSurface = voxelSurface(gtCrop.data, dims);
  const predSurface = voxelSurface(predCrop.data, dims);
  if (!gtSurface.includes(1) || !predSurface.includes(1)) return undefined;

  return {
    gtToPred: sortedDistances(squaredEdtAt(predSurface, gtSurface, dims, grid.spacing)),
    predToGt: sortedDistances(squaredEdtAt(gtSurface, predSurface, dims, grid.spacing)),
  };
}

/**
 * HD95 in mm between two binary masks, row-major [nz, ny, nx] on `grid`.
 * Both empty gives 0; exactly one empty gives the image diagonal (`diagonalMm`).
 */
export function hd95(gt: Uint8Array, pred: Uint8Array, grid: Grid, definition: Hd95Definition = "medpy"): number {
  const distances = directedSurfaceDistances(gt, pred, grid);
  if (distances === undefined) {
    const bothEmpty = gt.every((v) => v === 0) && pred.every((v) => v === 0);
    return bothEmpty ? 0 : diagonalMm(grid);
  }
  return hd95FromDistances(distances, definition);
}

/** HD95 in mm from the two directed lists (each ascending and non-empty). */
export function hd95FromDistances(distances: DirectedDistances, definition: Hd95Definition): number {
  if (definition === "max-directed") {
    return Math.max(percentileSorted(distances.gtToPred, 95), percentileSorted(distances.predToGt, 95));
  }
  return percentileSorted(mergeSorted(distances.gtToPred, distances.predToGt), 95);
}

/** Merges two ascending arrays into one ascending array. */
function mergeSorted(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0, j = 0, k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** Takes square roots of squared distances (mm²) and sorts them ascending, in place. */
function sortedDistances(squared: Float64Array): Float64Array {
  for (let i = 0; i < squared.length; i++) squared[i] = Math.sqrt(squared[i]!);
  return squared.sort();
}
