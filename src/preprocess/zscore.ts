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
 * Normalises `volume` in place to (v - mean) / max(sd, 1e-8), with mean and sd taken over the
 * voxels where `mask` is 1 (accumulated in double precision), then sets voxels outside the
 * mask to 0. An empty mask gives mean 0, sd 1 and an all-zero volume. Returns the statistics.
 */
export function zscoreInPlace(volume: Float32Array, mask: Uint8Array): ZScoreStats {
  if (volume.length !== mask.length) {
    throw new RangeError(`volume has ${volume.length} voxels but the brain mask has ${mask.length}`);
  }

  // Sums of deviations from the first brain value: one pass, without the cancellation that raw
  // sums of squares suffer when the mean is large compared with the spread.
  let count = 0;
  let shift = 0;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < volume.length; i++) {
    if (mask[i] !== 1) continue;
    if (count === 0) shift = volume[i]!;
    const d = volume[i]! - shift;
    count++;
    sum += d;
    squares += d * d;
  }
  if (count === 0) {
    volume.fill(0);
    return { mean: 0, sd: 1 };
  }
  const mean = shift + sum / count;
  const sd = Math.sqrt(Math.max(0, squares / count - (sum / count) ** 2));

  const divisor = Math.max(sd, MIN_SD);
  for (let i = 0; i < volume.length; i++) {
    volume[i] = mask[i] === 1 ? (volume[i]! - mean) / divisor : 0;
  }
  return { mean, sd };
}
