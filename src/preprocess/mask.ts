/**
 * The brain mask of a case and its bounding box, as nnU-Net computes them: the voxels that are
 * non-zero in at least one modality, with enclosed holes filled.
 *
 * Masks are row-major [D, H, W] Uint8Arrays (1 inside, 0 outside), x fastest.
 */
import type { CropBox, Shape3 } from "./crop.js";

/**
 * Returns the brain mask of a case: 1 where at least one of `volumes` (each row-major
 * [D, H, W], `voxels` long) is non-zero. An empty list gives an all-zero mask.
 */
export function nonzeroMask(volumes: readonly ArrayLike<number>[], voxels: number): Uint8Array {
  const mask = new Uint8Array(voxels);
  for (const volume of volumes) {
    if (volume.length !== voxels) {
      throw new RangeError(`volume has ${volume.length} voxels but the grid has ${voxels}; all volumes must share one grid`);
    }
    for (let i = 0; i < voxels; i++) {
      if (volume[i] !== 0) mask[i] = 1;
    }
  }
  return mask;
}

/**
 * Returns the smallest box that contains every voxel where `mask` ([D, H, W]) is non-zero.
 * An all-zero mask gives the whole grid, as in nnU-Net, so an empty scan still yields a case.
 */
export function maskBox(mask: Uint8Array, shape: Shape3): CropBox {
  const [nz, ny, nx] = shape;
  let z0 = nz, y0 = ny, x0 = nx;
  let z1 = -1, y1 = -1, x1 = -1;

  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = (z * ny + y) * nx;
      let first = 0;
      while (first < nx && mask[row + first] === 0) first++;
      if (first === nx) continue;
      let last = nx - 1;
      while (mask[row + last] === 0) last--;

      if (z < z0) z0 = z;
      z1 = z;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
    }
  }

  if (z1 < 0) return { start: [0, 0, 0], end: [nz, ny, nx] };
  return { start: [z0, y0, x0], end: [z1 + 1, y1 + 1, x1 + 1] };
}

/**
 * Returns the smallest box that contains every voxel where at least one of `volumes` (each
 * [D, H, W]) is non-zero. All-zero volumes, or none, give the whole grid.
 */
export function nonzeroBox(volumes: readonly ArrayLike<number>[], shape: Shape3): CropBox {
  return maskBox(nonzeroMask(volumes, shape[0] * shape[1] * shape[2]), shape);
}

/**
 * Returns `mask` with its holes filled: background voxels that no 6-connected path of background
 * voxels links to the grid border become 1. This matches scipy.ndimage.binary_fill_holes with its
 * default structure, which nnU-Net applies to the non-zero mask.
 */
export function fillHoles(mask: Uint8Array, shape: Shape3): Uint8Array {
  const [nz, ny, nx] = shape;
  const plane = ny * nx;
  if (mask.length !== nz * plane) {
    throw new RangeError(`mask has ${mask.length} voxels but shape ${shape.join("x")} needs ${nz * plane}`);
  }

  // Flood the background from every border voxel; what the flood does not reach is a hole.
  const outside = new Uint8Array(mask.length);
  const queue = new Int32Array(mask.length);
  let head = 0;
  let tail = 0;
  const visit = (i: number) => {
    if (mask[i] === 0 && outside[i] === 0) {
      outside[i] = 1;
      queue[tail++] = i;
    }
  };
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = z * plane + y * nx;
      if (z === 0 || z === nz - 1 || y === 0 || y === ny - 1) {
        for (let x = 0; x < nx; x++) visit(row + x);
      } else {
        visit(row);
        visit(row + nx - 1);
      }
    }
  }
  while (head < tail) {
    const i = queue[head++]!;
    const z = Math.floor(i / plane);
    const rest = i - z * plane;
    const y = Math.floor(rest / nx);
    const x = rest - y * nx;
    if (x > 0) visit(i - 1);
    if (x < nx - 1) visit(i + 1);
    if (y > 0) visit(i - nx);
    if (y < ny - 1) visit(i + nx);
    if (z > 0) visit(i - plane);
    if (z < nz - 1) visit(i + plane);
  }

  const filled = new Uint8Array(mask.length);
  for (let i = 0; i < filled.length; i++) filled[i] = outside[i] === 1 ? 0 : 1;
  return filled;
}
