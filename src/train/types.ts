/**
 * Types shared by the trainer's parts (sampler, augmentation, loop, checkpoints).
 */

/** [D, H, W] in voxels. */
export type Shape3 = readonly [number, number, number];

/** One preprocessed case, in the form the trainer reads. */
export interface TrainingCase {
  readonly id: string;
  /** Channels-last [D, H, W, M], z-scored, float32. */
  readonly image: Float32Array;
  /** Ground truth G, [D, H, W], labels 0..3. */
  readonly label: Uint8Array;
  /** [D, H, W]. */
  readonly shape: Shape3;
  /**
   * Curriculum masks C_1 … C_{S−1}, each [D, H, W] with G's label inside C_j (see
   * `buildCurricula`). Needed when the schedule has curriculum epochs.
   */
  readonly curricula?: readonly Uint8Array[];
}

/** A batch of patches cut from training cases. */
export interface PatchBatch {
  /** [B, pd, ph, pw, M] channels-last, zero where the patch overhangs the case. */
  readonly image: Float32Array;
  /** G, [B, pd, ph, pw]. */
  readonly label: Uint8Array;
  /** The active curriculum mask C_j cut at the same places, [B, pd, ph, pw]; absent outside curriculum stages. */
  readonly curriculum?: Uint8Array;
  readonly batchSize: number;
  readonly patchSize: Shape3;
  readonly channels: number;
}
