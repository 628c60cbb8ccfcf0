/**
 * The FGA patch partition: cutting a channels-last volume into non-overlapping p×p×p patches and
 * folding patches back into a volume. Sizes are in voxels.
 *
 * Axes that are not divisible by p are padded with zeros at their high end ("bottom-right
 * padding"). Patches are numbered in raster order over the patch grid (d slowest, w fastest),
 * which fixes the row and column order of the FGA matrices. Inside a patch, voxels are flattened
 * in the same raster order.
 */
import * as tf from "@tensorflow/tfjs";

/** The patch grid of a volume: patches per axis and their product N. */
export interface PatchGrid {
  readonly patchSize: number;
  /** Patches along d, h, w: ceil(size / p) each. */
  readonly counts: readonly [number, number, number];
  /** Number of patches N = gd·gh·gw. */
  readonly patches: number;
}

/** Returns the grid of p×p×p patches that covers a D×H×W volume. */
export function patchGrid(depth: number, height: number, width: number, patchSize: number): PatchGrid {
  if (!Number.isInteger(patchSize) || patchSize < 1) {
    throw new Error(`FGA patch size must be a positive integer, got ${patchSize}`);
  }
  const counts = [depth, height, width].map((size) => Math.ceil(size / patchSize)) as [number, number, number];
  return { patchSize, counts, patches: counts[0] * counts[1] * counts[2] };
}

/**
 * Partition: [N, D, H, W, C] -> [N, C, patches, p³]. Zero padding at the high end of each axis;
 * a volume with a zero-sized axis has no patches.
 */
export function toPatches(volume: tf.Tensor5D, patchSize: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, d, h, w, c] = volume.shape;
    const grid = patchGrid(d, h, w, patchSize);
    const [gd, gh, gw] = grid.counts;
    const p = patchSize;
    const padded = tf.pad(volume, [
      [0, 0],
      [0, gd * p - d],
      [0, gh * p - h],
      [0, gw * p - w],
      [0, 0],
    ]);

    // [N, gd, p, gh, p, gw, p, C] -> [N, C, gd, gh, gw, p, p, p]
    const split = tf.reshape(padded, [n, gd, p, gh, p, gw, p, c]);
    const grouped = tf.transpose(split, [0, 7, 1, 3, 5, 2, 4, 6]);
    return tf.reshape(grouped, [n, c, grid.patches, p * p * p]);
  });
}

/**
 * Fold, the inverse of `toPatches`: [N, C, patches, p³] -> [N, D, H, W, C], dropping the padding.
 * `depth`, `height`, `width` are the volume's size before padding.
 */
export function fromPatches(
  patches: tf.Tensor4D,
  patchSize: number,
  depth: number,
  height: number,
  width: number,
): tf.Tensor5D {
  return tf.tidy(() => {
    const [n, c, count, voxels] = patches.shape;
    const grid = patchGrid(depth, height, width, patchSize);
    const p = patchSize;
    if (count !== grid.patches || voxels !== p * p * p) {
      throw new Error(
        `cannot fold ${count} patches of ${voxels} voxels into ${depth}x${height}x${width} with patch size ${p}; ` +
          `expected ${grid.patches} patches of ${p * p * p} voxels`,
      );
    }
    const [gd, gh, gw] = grid.counts;

    // [N, C, gd, gh, gw, p, p, p] -> [N, gd, p, gh, p, gw, p, C]
    const split = tf.reshape(patches, [n, c, gd, gh, gw, p, p, p]);
    const interleaved = tf.transpose(split, [0, 2, 5, 3, 6, 4, 7, 1]);
    const padded = tf.reshape(interleaved, [n, gd * p, gh * p, gw * p, c]);
    return tf.slice(padded, [0, 0, 0, 0, 0], [n, depth, height, width, c]) as tf.Tensor5D;
  });
}
