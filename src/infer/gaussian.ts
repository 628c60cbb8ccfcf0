/**
 * Window placement and weighting for sliding-window inference, after nnU-Net.
 */
import type { Shape3 } from "../train/types.js";

/**
 * Computes the Gaussian importance map of a patch: [pd, ph, pw] row-major, 1 at the centre voxel
 * floor(p/2) of each axis and exp(−Σ_a (i_a − c_a)² / (2σ_a²)) elsewhere, with σ_a = p_a·sigmaScale
 * (default 1/8) in voxels. With σ = p/8 every edge voxel of an even axis gets exp(−8) from that
 * axis, so the map is never zero and every voxel of a window counts a little.
 */
export function gaussianImportanceMap(patchSize: Shape3, sigmaScale = 1 / 8): Float32Array {
  const axes = patchSize.map((p) => {
    const centre = Math.floor(p / 2);
    const sigma = p * sigmaScale;
    return Float64Array.from({ length: p }, (_, i) => Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)));
  });
  const [pd, ph, pw] = patchSize;
  const map = new Float32Array(pd * ph * pw);
  for (let z = 0; z < pd; z++) {
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++) map[(z * ph + y) * pw + x] = axes[0]![z]! * axes[1]![y]! * axes[2]![x]!;
    }
  }
  return map;
}

/**
 * Window start positions along one axis of `size` voxels for windows of `patch` voxels that
 * overlap by (1 − stepSize): ceil((size − patch) / (patch·stepSize)) + 1 windows spread evenly
 * from 0 to size − patch. `size` must be ≥ `patch` (pad the image first).
 */
export function slidingWindowSteps(size: number, patch: number, stepSize = 0.5): number[] {
  if (size < patch) throw new Error(`slidingWindowSteps: size ${size} < patch ${patch}; pad the image to the patch size first`);
  const count = Math.ceil((size - patch) / (patch * stepSize)) + 1;
  if (count === 1) return [0];
  const step = (size - patch) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(step * i));
}
