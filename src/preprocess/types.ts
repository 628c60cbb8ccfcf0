/**
 * The preprocessed form of a case: what the network trains and predicts on, plus everything
 * needed to put a prediction back on the scan's original grid.
 */
import type { Geometry, LabelVolume, Volume } from "../nifti/types.js";
import type { CropBox } from "./crop.js";

/** A loaded case, as `loadCase` returns it; only these fields are read. */
export interface CaseInput {
  readonly id: string;
  /** Modality names in the order of `images`, e.g. ["t1n", "t1c", "t2w", "t2f"]. */
  readonly modalities: readonly string[];
  /** One volume per modality, all on one grid. */
  readonly images: readonly Volume[];
  /** The segmentation on the same grid, when the case has one. */
  readonly seg?: LabelVolume;
}

export interface PreprocessOptions {
  /** [dx, dy, dz] in mm to resample to, or null/absent to keep the scan's grid. */
  readonly targetSpacing?: readonly [number, number, number] | null;
}

/** Per-modality statistics of the z-score, over the brain mask of the cropped case. */
export interface ModalityNormalisation {
  readonly modality: string;
  readonly mean: number;
  /** Population standard deviation (divisor n). */
  readonly sd: number;
}

/** Record of the steps from the scan grid to the preprocessed grid; JSON-serialisable. */
export interface PreprocessMeta {
  /** The scan's grid, for writing predictions back as NIfTI. */
  readonly originalGeometry: Geometry;
  /** [D, H, W] = [nz, ny, nx] of the scan. */
  readonly originalShape: readonly [number, number, number];
  /** Non-zero bounding box on the scan grid, half-open, array order [z, y, x]. */
  readonly cropBox: CropBox;
  /** [D, H, W] after cropping, before resampling. */
  readonly croppedShape: readonly [number, number, number];
  /** [D, H, W] after resampling (equal to croppedShape when not resampled). */
  readonly preprocessedShape: readonly [number, number, number];
  /** [dx, dy, dz] in mm of the scan. */
  readonly spacingBefore: readonly [number, number, number];
  /**
   * [dx, dy, dz] in mm of the preprocessed grid: spacingBefore × croppedShape / preprocessedShape
   * per axis, which is the requested target spacing up to the rounding of the grid size.
   */
  readonly spacingAfter: readonly [number, number, number];
  /** The requested target spacing, or null when resampling was not asked for. */
  readonly targetSpacing: readonly [number, number, number] | null;
  readonly normalisation: readonly ModalityNormalisation[];
}

export interface PreprocessedCase {
  readonly id: string;
  readonly modalities: readonly string[];
  /** [D, H, W] of the preprocessed grid. */
  readonly shape: readonly [number, number, number];
  /** [dx, dy, dz] in mm of the preprocessed grid (= meta.spacingAfter). */
  readonly spacing: readonly [number, number, number];
  /** Channels last [D, H, W, M], M = modalities.length; z-scored, 0 outside the brain. */
  readonly image: Float32Array;
  /** [D, H, W] labels on the preprocessed grid, when the case has a segmentation. */
  readonly label?: Uint8Array;
  readonly meta: PreprocessMeta;
}
