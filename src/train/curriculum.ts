/**
 * Voxel-level curriculum (FANCL).
 *
 * Mining nets of increasing depth d1 < d2 < … each give an out-of-fold label map P_d of a case.
 * The easy voxels at depth d are E_d = {v : G(v) ≠ 0 and P_d(v) = G(v)}, and curriculum stage j
 * (j = 1 … S−1) covers C_j = E_{d1} ∪ … ∪ E_{dj}; the last stage is the ground truth G itself.
 * A curriculum mask carries G's label inside C_j and 0 elsewhere, so the curricula nest:
 * C_1 ⊆ C_2 ⊆ … ⊆ G, voxel sets and labels alike.
 *
 * All label maps are row-major [D, H, W] (x fastest) with labels 0 background, 1 NETC, 2 SNFH,
 * 3 ET, and must share one grid.
 */

/** Treatment of hard voxels (in G's foreground but outside C_j) by the curriculum loss. */
export type HardVoxels = "background" | "ignore";

/** The target of the curriculum term L(Ŷ, C_j) for one case. */
export interface CurriculumTarget {
  /** [D, H, W]: G's label inside C_j, 0 outside. */
  readonly labels: Uint8Array;
  /** [D, H, W], 1 where the loss ignores the voxel; present only for `hardVoxels: "ignore"`. */
  readonly ignore?: Uint8Array;
}

function assertSameLength(what: string, a: Uint8Array, b: Uint8Array): void {
  if (a.length !== b.length) {
    throw new Error(
      `${what}: the ground truth has ${a.length} voxels but the other label map has ${b.length}; ` +
        "both must be on the same [D, H, W] grid (resample the prediction to the ground truth first)",
    );
  }
}

/**
 * E_d as a 0/1 mask [D, H, W]: 1 where G is foreground and the mining net's label P_d equals it.
 * An all-background G gives an all-zero mask.
 */
export function easyVoxels(groundTruth: Uint8Array, prediction: Uint8Array): Uint8Array {
  assertSameLength("easyVoxels", groundTruth, prediction);
  const easy = new Uint8Array(groundTruth.length);
  for (let v = 0; v < groundTruth.length; v++) {
    const g = groundTruth[v]!;
    easy[v] = g !== 0 && prediction[v] === g ? 1 : 0;
  }
  return easy;
}

/**
 * Builds the curriculum masks C_1 … C_{S−1} of one case from the mining nets' predictions,
 * ordered by increasing depth (one mask per prediction). Each mask is [D, H, W] with G's label
 * inside C_j. An empty prediction list gives no masks, and training then uses G alone.
 */
export function buildCurricula(
  groundTruth: Uint8Array,
  predictionsByDepth: readonly Uint8Array[],
): Uint8Array[] {
  const union = new Uint8Array(groundTruth.length);
  const curricula: Uint8Array[] = [];

  for (const prediction of predictionsByDepth) {
    const easy = easyVoxels(groundTruth, prediction);
    const mask = new Uint8Array(groundTruth.length);
    for (let v = 0; v < groundTruth.length; v++) {
      if (easy[v] === 1) union[v] = 1;
      mask[v] = union[v] === 1 ? groundTruth[v]! : 0;
    }
    curricula.push(mask);
  }
  return curricula;
}

/**
 * Returns the loss target for curriculum mask `curriculum` of a case with ground truth
 * `groundTruth`. Hard voxels (G ≠ 0, outside C_j) stay background in `labels`. With
 * `hardVoxels: "ignore"` they are also marked in an ignore mask, so they count in neither Dice
 * nor cross-entropy.
 */
export function curriculumTarget(
  groundTruth: Uint8Array,
  curriculum: Uint8Array,
  hardVoxels: HardVoxels,
): CurriculumTarget {
  assertSameLength("curriculumTarget", groundTruth, curriculum);
  if (hardVoxels === "background") return { labels: curriculum };
  if (hardVoxels !== "ignore") {
    throw new Error(`curriculumTarget: hardVoxels is "${String(hardVoxels)}"; use "background" or "ignore"`);
  }

  const ignore = new Uint8Array(groundTruth.length);
  for (let v = 0; v < groundTruth.length; v++) {
    ignore[v] = groundTruth[v] !== 0 && curriculum[v] === 0 ? 1 : 0;
  }
  return { labels: curriculum, ignore };
}

/**
 * Returns the curriculum stage active in `epoch` (0-based): the index j−1 of C_j, or -1 once the
 * curriculum stages are over and training uses G alone. `curriculumEpochs[j]` is the length in
 * epochs of stage j+1, and an empty list means no curriculum.
 */
export function curriculumStage(epoch: number, curriculumEpochs: readonly number[]): number {
  let end = 0;
  for (let j = 0; j < curriculumEpochs.length; j++) {
    end += curriculumEpochs[j]!;
    if (epoch < end) return j;
  }
  return -1;
}
