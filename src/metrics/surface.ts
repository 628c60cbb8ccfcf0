/**
 * Voxel surface of a binary mask as MedPy defines it: the mask minus its erosion by the
 * 6-connected (face-neighbour) 3×3×3 structuring element, voxels outside the array counting as
 * background. Mask voxels on the array edge are therefore surface voxels.
 *
 * Input and output are row-major [nz, ny, nx] (x fastest) with `dims` [nx, ny, nz]; the output
 * is 1 on surface voxels and 0 elsewhere. An empty mask gives an empty surface.
 */
export function voxelSurface(mask: Uint8Array, dims: readonly [number, number, number]): Uint8Array {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const surface = new Uint8Array(mask.length);
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (mask[i] === 0) continue;
        const interior =
          x > 0 && x < nx - 1 && y > 0 && y < ny - 1 && z > 0 && z < nz - 1 &&
          mask[i - 1] !== 0 && mask[i + 1] !== 0 &&
          mask[i - nx] !== 0 && mask[i + nx] !== 0 &&
          mask[i - plane] !== 0 && mask[i + plane] !== 0;
        if (!interior) surface[i] = 1;
      }
    }
  }
  return surface;
}
