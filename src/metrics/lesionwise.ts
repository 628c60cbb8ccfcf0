/**
 * Lesion-wise scores as the BraTS 2023 challenge computes them (challenge BraTS-MET: one
 * dilation, lesions of 2 mm³ or less left out), on one binary region mask pair.
 *
 * - Ground-truth lesions: the ground truth is dilated `dilation` times with the 18-connected
 *   3×3×3 element. Ground-truth voxels in one 26-connected component of the dilated mask form
 *   one lesion, so lesions closer than the dilation merge.
 * - Matching: the prediction is split into 26-connected components; every component with a
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
    let reach: Uint8Array = new Uint8Array(gt.length);
    for (const i of voxels) reach[i] = 1;
    for (let k = 0; k < options.dilation; k++) reach = dilate(reach, dims, 18);
    const matched = new Set<number>();
    for (let i = 0; i < reach.length; i++) {
      if (reach[i] !== 0 && predComponents.labels[i] !== 0) matched.add(predComponents.labels[i]!);
    }
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
