/**
 * Lesion-wise scores as the BraTS 2023 challenge computes them (challenge BraTS-MET: one
 * dilation, lesions of 2 mm³ or less left out), on one binary region mask pair.
 *
 * - Ground-truth lesions: the ground truth is dilated `dilation` times with the 18-connected
 *   3×3×3 element. Ground-truth voxels in one 26-connected component of the dilated mask form
 *   one lesion, so lesions closer than the dilation merge.
 * - Matching: the prediction is split into 26-connected components. Every component with a
 *   voxel inside the lesion dilated again (same element, same count) is matched to the lesion.
 * - Per lesion: Dice between the lesion and the union of its matched components (0 when none).
 * - False positives: components matched to no lesion, whatever their size.
 * - Lesions with volume ≤ `volumeThresholdMm3` count in neither the score nor TP nor FN, and
 *   components matched to them are not false positives.
 * - Per lesion HD95: the area-weighted surface HD95 (`surfaceHd95`) between the lesion and its
 *   matched components, Infinity (no match) replaced by `missedHd95` (374 mm).
 * - Lesion-wise Dice = Σ lesion Dice / (lesions + FP); 1 when that denominator is 0.
 * - Lesion-wise HD95 = (Σ lesion HD95 + 374·FP) / (lesions + FP); 0 when that denominator is 0.
 */
import { dilate, labelComponents } from "./components.js";
import { checkGrid, voxelVolume, type Grid } from "./grid.js";
import { surfaceHd95OfVoxels } from "./surface-distance.js";

export interface LesionWiseOptions {
  /** Dilation iterations (BraTS-MET: 1). */
  readonly dilation: number;
  /** Lesions at or below this volume in mm³ are left out (BraTS-MET: 2). */
  readonly volumeThresholdMm3: number;
  /** HD95 in mm of a missed lesion and of each false positive (BraTS 2023: 374). */
  readonly missedHd95: number;
}

export const BRATS_MET_OPTIONS: LesionWiseOptions = { dilation: 1, volumeThresholdMm3: 2, missedHd95: 374 };

/** One ground-truth lesion after grouping by dilation. */
export interface LesionScore {
  /** Voxel count times voxel volume, mm³. */
  readonly volumeMm3: number;
  /** Number of predicted components matched to the lesion. */
  readonly matched: number;
  readonly dice: number;
  /** mm; `missedHd95` when no component matched. */
  readonly hd95: number;
  /** False when the lesion is at or below the volume threshold and so left out. */
  readonly counted: boolean;
  /** Voxel indices (row-major [nz, ny, nx]) of the lesion. */
  readonly voxels: Int32Array;
  /** Voxel indices of the union of its matched predicted components. */
  readonly matchedVoxels: Int32Array;
}

export interface LesionWiseResult {
  /** Lesions above the volume threshold: TP + FN. */
  readonly gtLesions: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly lesionDice: number;
  /** mm. */
  readonly lesionHd95: number;
  /** Every lesion, left-out ones included, in order of first voxel in memory. */
  readonly lesions: readonly LesionScore[];
}

/**
 * Lesion-wise counts, Dice and HD95 of one region. `gt` and `pred` are 0/1 masks, row-major
 * [nz, ny, nx] on `grid` (spacing in mm). Both empty gives 0 lesions and Dice 1.
 */
export function lesionWise(gt: Uint8Array, pred: Uint8Array, grid: Grid, options: LesionWiseOptions = BRATS_MET_OPTIONS): LesionWiseResult {
  checkGrid(grid, [gt, pred], "lesion-wise scores");
  const dims = grid.dims;

  // Lesions: ground-truth voxels grouped by the components of the dilated ground truth.
  let grown: Uint8Array = gt;
  for (let k = 0; k < options.dilation; k++) grown = dilate(grown, dims, 18);
  const groups = labelComponents(grown, dims, 26);
  const lesionVoxels = voxelsByLabel(groups.labels, groups.count, gt);

  const predComponents = labelComponents(pred, dims, 26);
  const componentVoxels = voxelsByLabel(predComponents.labels, predComponents.count, pred);
  const matchedAny = new Uint8Array(predComponents.count + 1);

  const lesions: LesionScore[] = [];
  for (const voxels of lesionVoxels) {
    // Components that reach into the lesion dilated once more.
    const matched = componentsNear(voxels, predComponents.labels, dims, options.dilation);
    for (const c of matched) matchedAny[c] = 1;

    let matchedSize = 0;
    for (const c of matched) matchedSize += predComponents.sizes[c]!;
    const matchedVoxels = new Int32Array(matchedSize);
    let n = 0;
    for (const c of matched) for (const i of componentVoxels[c - 1]!) matchedVoxels[n++] = i;

    let both = 0;
    for (const i of voxels) if (matched.has(predComponents.labels[i]!)) both++;
    const volumeMm3 = voxels.length * voxelVolume(grid);
    const hd95 = surfaceHd95OfVoxels(voxels, matchedVoxels, grid);
    lesions.push({
      volumeMm3,
      matched: matched.size,
      dice: (2 * both) / (voxels.length + matchedSize),
      hd95: Number.isFinite(hd95) ? hd95 : options.missedHd95,
      counted: volumeMm3 > options.volumeThresholdMm3,
      voxels,
      matchedVoxels,
    });
  }

  const counted = lesions.filter((l) => l.counted);
  const tp = counted.filter((l) => l.matched > 0).length;
  let fp = 0;
  for (let c = 1; c <= predComponents.count; c++) if (matchedAny[c] === 0) fp++;
  const denominator = counted.length + fp;
  const diceSum = counted.reduce((sum, l) => sum + l.dice, 0);
  const hd95Sum = counted.reduce((sum, l) => sum + l.hd95, 0) + fp * options.missedHd95;
  return {
    gtLesions: counted.length,
    tp,
    fp,
    fn: counted.length - tp,
    lesionDice: denominator === 0 ? 1 : diceSum / denominator,
    lesionHd95: denominator === 0 ? 0 : hd95Sum / denominator,
    lesions,
  };
}

/** Voxel indices of each label 1…count, restricted to voxels where `within` is non-zero. */
function voxelsByLabel(labels: Int32Array, count: number, within: Uint8Array): Int32Array[] {
  const counts = new Int32Array(count + 1);
  for (let i = 0; i < labels.length; i++) if (within[i] !== 0) counts[labels[i]!]!++;
  const lists = Array.from({ length: count }, (_, k) => new Int32Array(counts[k + 1]!));
  const fill = new Int32Array(count + 1);
  for (let i = 0; i < labels.length; i++) {
    if (within[i] === 0) continue;
    const c = labels[i]!;
    lists[c - 1]![fill[c]!++] = i;
  }
  return lists;
}

/**
 * Finds the labels of `labels` (0 = none) inside the voxel set dilated `dilation` times with the
 * 18-connected element. Works in the set's bounding box grown by `dilation`, so the cost follows
 * the lesion's size, not the volume's.
 */
function componentsNear(voxels: Int32Array, labels: Int32Array, dims: readonly [number, number, number], dilation: number): Set<number> {
  const [nx, ny, nz] = dims;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const i of voxels) {
    const p = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))];
    for (let k = 0; k < 3; k++) {
      lo[k] = Math.min(lo[k]!, p[k]!);
      hi[k] = Math.max(hi[k]!, p[k]!);
    }
  }
  const x0 = Math.max(0, lo[0]! - dilation), y0 = Math.max(0, lo[1]! - dilation), z0 = Math.max(0, lo[2]! - dilation);
  const bx = Math.min(nx - 1, hi[0]! + dilation) - x0 + 1;
  const by = Math.min(ny - 1, hi[1]! + dilation) - y0 + 1;
  const bz = Math.min(nz - 1, hi[2]! + dilation) - z0 + 1;

  let local: Uint8Array = new Uint8Array(bx * by * bz);
  for (const i of voxels) {
    const x = (i % nx) - x0, y = (Math.floor(i / nx) % ny) - y0, z = Math.floor(i / (nx * ny)) - z0;
    local[(z * by + y) * bx + x] = 1;
  }
  for (let k = 0; k < dilation; k++) local = dilate(local, [bx, by, bz], 18);

  const found = new Set<number>();
  for (let z = 0; z < bz; z++) {
    for (let y = 0; y < by; y++) {
      for (let x = 0; x < bx; x++) {
        if (local[(z * by + y) * bx + x] === 0) continue;
        const label = labels[((z + z0) * ny + y + y0) * nx + x + x0]!;
        if (label !== 0) found.add(label);
      }
    }
  }
  return found;
}
