/**
 * Detection of ground-truth lesions by size, for the report's sensitivity by lesion size.
 */
import { labelComponents } from "./components.js";
import { checkGrid, voxelVolume, type Grid } from "./grid.js";
import { regionMask } from "./regions.js";

/**
 * By equivalent-sphere diameter d = (6·V/π)^(1/3) of the lesion volume V:
 * small d < 10 mm, medium 10 mm ≤ d ≤ 20 mm, large d > 20 mm.
 */
export type SizeClass = "small" | "medium" | "large";

export const SIZE_CLASSES: readonly SizeClass[] = ["small", "medium", "large"];

export interface DetectedLesion {
  /** Voxel count times voxel volume, mm³. */
  readonly volumeMm3: number;
  readonly sizeClass: SizeClass;
  /** True when any predicted whole-tumour voxel lies inside the lesion. */
  readonly detected: boolean;
}

/** Size class of a lesion of `volumeMm3` mm³ (see `SizeClass`). */
export function sizeClassOf(volumeMm3: number): SizeClass {
  const diameterMm = Math.cbrt((6 * volumeMm3) / Math.PI);
  if (diameterMm < 10) return "small";
  return diameterMm <= 20 ? "medium" : "large";
}

/**
 * Lists the ground-truth lesions, each a 26-connected component of the whole tumour (labels 1, 2,
 * 3) of `gt`. It is detected when any predicted whole-tumour component overlaps it, that is when
 * any predicted label 1–3 voxel lies inside it. Both label maps are row-major [nz, ny, nx] on
 * `grid` (spacing in mm), legacy label 4 already mapped to 3. Lesions come in the order of their
 * first voxel in memory; an empty ground truth gives an empty list.
 */
export function detectLesions(gt: Uint8Array, pred: Uint8Array, grid: Grid): DetectedLesion[] {
  checkGrid(grid, [gt, pred], "lesion detection");
  const components = labelComponents(regionMask(gt, "WT"), grid.dims, 26);
  const predicted = regionMask(pred, "WT");

  const detected = new Uint8Array(components.count + 1);
  for (let i = 0; i < predicted.length; i++) {
    if (predicted[i] !== 0) detected[components.labels[i]!] = 1;
  }

  const lesions: DetectedLesion[] = [];
  for (let c = 1; c <= components.count; c++) {
    const volumeMm3 = components.sizes[c]! * voxelVolume(grid);
    lesions.push({ volumeMm3, sizeClass: sizeClassOf(volumeMm3), detected: detected[c] === 1 });
  }
  return lesions;
}
