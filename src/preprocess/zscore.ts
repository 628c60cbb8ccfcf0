/**
 * Z-score normalisation over the brain mask, as nnU-Net does for MRI with a non-zero mask.
 */

/** Mean and population standard deviation (divisor n) of one modality over the brain. */
export interface ZScoreStats {
  readonly mean: number;
  readonly sd: number;
}

/** Below this standard deviation a modality is treated as constant: divided by 1e-8, as in nnU-Net. */
const MIN_SD = 1e-8;

/**
 * The brain mask of a case: 1 where at least one modality is non-zero. Volumes share one layout
 * (row-major [D, H, W]); an empty list gives an all-zero mask of length `voxels`.
 */
export function nonzeroMask(volumes: readonly Float32Array[], voxels: number): Uint8Array {
  const mask = new Uint8Array(voxels);
  for (const volume of volumes) {
    for (let i = 0; i < voxels; i++) {
      if (volume[i] !== 0) mask[i] = 1;
    }
  }
  return mask;
}

/**
 * Normalises `volume` in place to (v - mean) / max(sd, 1e-8), with mean and sd taken over the
 * voxels where `mask` is 1 (accumulated in double precision), then sets voxels outside the
 * mask to 0. An empty mask gives mean 0, sd 1 and an all-zero volume. Returns the statistics.
 */
export function zscoreInPlace(volume: Float32Array, mask: Uint8Array): ZScoreStats {
  if (volume.length !== mask.length) {
    throw new RangeError(`volume has ${volume.length} voxels but the brain mask has ${mask.length}`);
  }

  let count = 0;
  let sum = 0;
  for (let i = 0; i < volume.length; i++) {
    if (mask[i] === 1) {
      count++;
      sum += volume[i]!;
    }
  }
  if (count === 0) {
    volume.fill(0);
    return { mean: 0, sd: 1 };
  }
  const mean = sum / count;

  // Two-pass variance: subtracting the mean first avoids the cancellation of sum-of-squares forms.
  let squares = 0;
  for (let i = 0; i < volume.length; i++) {
    if (mask[i] === 1) {
      const d = volume[i]! - mean;
      squares += d * d;
    }
  }
  const sd = Math.sqrt(squares / count);

  const divisor = Math.max(sd, MIN_SD);
  for (let i = 0; i < volume.length; i++) {
    volume[i] = mask[i] === 1 ? (volume[i]! - mean) / divisor : 0;
  }
  return { mean, sd };
}
