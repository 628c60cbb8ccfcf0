/**
 * nnU-Net's preprocessing of one case, and its inverse for predictions.
 *
 * Forward, in nnU-Net's order:
 * 1. crop to the bounding box of the brain mask: voxels non-zero in any modality, holes filled;
 * 2. z-score each modality over the brain mask and set the voxels outside it to 0;
 * 3. optionally resample to a target spacing, trilinear for images, nearest neighbour for labels.
 * Inverse: resample a prediction back to the cropped grid, then uncrop it into the scan's grid,
 * which it then matches voxel for voxel.
 */
import type { Geometry } from "../nifti/types.js";
import { boxShape, cropVolume, uncropVolume } from "./crop.js";
import { fillHoles, maskBox, nonzeroMask } from "./mask.js";
import { resampleLinear, resampleNearest, resampledShape } from "./resample.js";
import type { CaseInput, ModalityNormalisation, PreprocessMeta, PreprocessOptions, PreprocessedCase } from "./types.js";
import { zscoreInPlace } from "./zscore.js";

export type { CaseInput, PreprocessMeta, PreprocessOptions, PreprocessedCase } from "./types.js";

function sameDims(a: Geometry, b: Geometry): boolean {
  return a.dims[0] === b.dims[0] && a.dims[1] === b.dims[1] && a.dims[2] === b.dims[2];
}

function checkCase(loaded: CaseInput): void {
  if (loaded.images.length === 0) {
    throw new Error(`case ${loaded.id} has no images; a case needs at least one modality`);
  }
  if (loaded.modalities.length !== loaded.images.length) {
    throw new Error(
      `case ${loaded.id} names ${loaded.modalities.length} modalities but has ${loaded.images.length} images; give one name per image`,
    );
  }
  const first = loaded.images[0]!;
  const others = [...loaded.images.slice(1), ...(loaded.seg === undefined ? [] : [loaded.seg])];
  for (const other of others) {
    if (!sameDims(first.geometry, other.geometry)) {
      throw new Error(
        `${other.path} has shape ${other.geometry.dims.join("x")} but ${first.path} has ` +
          `${first.geometry.dims.join("x")}; all modalities and the segmentation of a case must share one grid`,
      );
    }
  }
}

/** Preprocesses one case. Shapes and layouts are those of PreprocessedCase. */
export function preprocessCase(loaded: CaseInput, options: PreprocessOptions = {}): PreprocessedCase {
  checkCase(loaded);
  const geometry = loaded.images[0]!.geometry;
  const [nx, ny, nz] = geometry.dims;
  const originalShape: [number, number, number] = [nz, ny, nx];
  const spacingBefore: [number, number, number] = [geometry.spacing[0], geometry.spacing[1], geometry.spacing[2]];

  // Holes lie inside the non-zero box and the box faces touch the outside, so filling holes in the
  // cropped mask gives the same brain mask as filling the whole grid, on fewer voxels.
  const nonzero = nonzeroMask(loaded.images.map((v) => v.data), nz * ny * nx);
  const cropBox = maskBox(nonzero, originalShape);
  const croppedShape = boxShape(cropBox);
  const mask = fillHoles(cropVolume(nonzero, originalShape, cropBox), croppedShape);
  const images = loaded.images.map((v) => cropVolume(v.data, originalShape, cropBox));
  let label = loaded.seg === undefined ? undefined : cropVolume(loaded.seg.data, originalShape, cropBox);

  const normalisation: ModalityNormalisation[] = images.map((image, m) => ({
    modality: loaded.modalities[m]!,
    ...zscoreInPlace(image, mask),
  }));

  const targetSpacing = options.targetSpacing ?? null;
  let shape: [number, number, number] = croppedShape;
  let resampled = images;
  const targetShape = targetSpacing === null ? croppedShape : resampledShape(croppedShape, spacingBefore, targetSpacing);
  if (targetShape.some((n, axis) => n !== croppedShape[axis])) {
    shape = targetShape;
    resampled = images.map((image) => resampleLinear(image, croppedShape, shape));
    if (label !== undefined) label = resampleNearest(label, croppedShape, shape);
  }

  // Interleave the modalities into one channels-last array.
  const channels = resampled.length;
  const outVoxels = shape[0] * shape[1] * shape[2];
  const image = new Float32Array(outVoxels * channels);
  for (let m = 0; m < channels; m++) {
    const source = resampled[m]!;
    for (let i = 0; i < outVoxels; i++) image[i * channels + m] = source[i]!;
  }

  const spacing: [number, number, number] = [
    (spacingBefore[0] * croppedShape[2]) / shape[2],
    (spacingBefore[1] * croppedShape[1]) / shape[1],
    (spacingBefore[2] * croppedShape[0]) / shape[0],
  ];
  const meta: PreprocessMeta = {
    originalGeometry: geometry,
    originalShape,
    cropBox,
    croppedShape,
    preprocessedShape: shape,
    spacingBefore,
    spacingAfter: spacing,
    targetSpacing: targetSpacing === null ? null : [targetSpacing[0], targetSpacing[1], targetSpacing[2]],
    normalisation,
  };
  return {
    id: loaded.id,
    modalities: [...loaded.modalities],
    shape,
    spacing,
    image,
    ...(label === undefined ? {} : { label }),
    meta,
  };
}

function checkPrediction(length: number, channels: number, meta: PreprocessMeta, what: string): void {
  const [d, h, w] = meta.preprocessedShape;
  if (length !== d * h * w * channels) {
    throw new RangeError(
      `${what} has ${length} values but the preprocessed grid is ${d}x${h}x${w}` +
        (channels === 1 ? "" : ` with ${channels} channels`) +
        "; pass the prediction made on this case's preprocessed image",
    );
  }
}

/**
 * Returns `labels` ([D, H, W] on the preprocessed grid) to the scan's grid, row-major
 * [nz, ny, nx]: nearest neighbour back to the cropped shape, then 0 outside the crop box.
 * Without resampling this inverts the crop exactly.
 */
export function restoreLabels(labels: Uint8Array, meta: PreprocessMeta): Uint8Array {
  checkPrediction(labels.length, 1, meta, "label map");
  const cropped = resampleNearest(labels, meta.preprocessedShape, meta.croppedShape);
  return uncropVolume(cropped, meta.originalShape, meta.cropBox);
}

/**
 * Returns class probabilities ([D, H, W, K], channels last, on the preprocessed grid) to the
 * scan's grid as [nz, ny, nx, K], trilinear back to the cropped shape. Outside the crop box,
 * class 0 (background) gets probability 1 and the others 0, as in nnU-Net.
 */
export function restoreProbabilities(probabilities: Float32Array, classes: number, meta: PreprocessMeta): Float32Array {
  if (!(Number.isInteger(classes) && classes >= 1)) {
    throw new RangeError(`invalid classes ${classes}: expected a positive whole number, the K of the [D, H, W, K] array`);
  }
  checkPrediction(probabilities.length, classes, meta, "probability map");
  const cropped = resampleLinear(probabilities, meta.preprocessedShape, meta.croppedShape, classes);
  const background = Array.from({ length: classes }, (_, k) => (k === 0 ? 1 : 0));
  return uncropVolume(cropped, meta.originalShape, meta.cropBox, classes, background);
}
