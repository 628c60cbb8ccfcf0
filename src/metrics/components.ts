/**
 * Connected components and binary dilation on 3-D masks, row-major [nz, ny, nx] (x fastest),
 * `dims` [nx, ny, nz]. Connectivity counts the neighbours of a voxel: 6 (faces), 18 (faces and
 * edges) or 26 (faces, edges and corners), as scipy's `generate_binary_structure(3, 1|2|3)`.
 */

export type Connectivity = 6 | 18 | 26;

/** Lists the neighbour offsets [dx, dy, dz] of a connectivity, the voxel itself excluded. */
export function neighbourOffsets(connectivity: Connectivity): [number, number, number][] {
  // A neighbour differs in at most 1 (faces), 2 (edges) or 3 (corners) coordinates.
  let maxSum = 3;
  if (connectivity === 6) maxSum = 1;
  if (connectivity === 18) maxSum = 2;
  const offsets: [number, number, number][] = [];
  for (let dz = -1; dz <= 1; dz++) {
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const sum = Math.abs(dx) + Math.abs(dy) + Math.abs(dz);
        if (sum > 0 && sum <= maxSum) offsets.push([dx, dy, dz]);
      }
    }
  }
  return offsets;
}

/** Components numbered 1…count, 0 for background; `labels` has the mask's layout. */
export interface Components {
  readonly labels: Int32Array;
  readonly count: number;
  /** Voxel count of component k at index k (index 0 unused). */
  readonly sizes: Int32Array;
}

/**
 * Labels the connected components of the non-zero voxels of `mask`. Components are numbered in
 * the order their first voxel appears in memory. An empty mask gives count 0.
 */
export function labelComponents(mask: Uint8Array, dims: readonly [number, number, number], connectivity: Connectivity): Components {
  const [nx, ny, nz] = dims;
  const offsets = neighbourOffsets(connectivity);
  const labels = new Int32Array(mask.length);
  const queue = new Int32Array(mask.length);
  const sizes: number[] = [0];
  let count = 0;

  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    count++;
    labels[start] = count;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    while (head < tail) {
      const i = queue[head++]!;
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      const z = Math.floor(i / (nx * ny));
      for (const [dx, dy, dz] of offsets) {
        const xx = x + dx, yy = y + dy, zz = z + dz;
        if (xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz) continue;
        const j = (zz * ny + yy) * nx + xx;
        if (mask[j] === 0 || labels[j] !== 0) continue;
        labels[j] = count;
        queue[tail++] = j;
      }
    }
    sizes.push(tail);
  }
  return { labels, count, sizes: Int32Array.from(sizes) };
}

/**
 * Dilates `mask` once by the 3×3×3 structuring element of `connectivity` (voxel
 * included); voxels outside the array contribute nothing. Returns a 0/1 mask of the same layout.
 */
export function dilate(mask: Uint8Array, dims: readonly [number, number, number], connectivity: Connectivity): Uint8Array {
  const [nx, ny, nz] = dims;
  const offsets = neighbourOffsets(connectivity);
  const out = new Uint8Array(mask.length);
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (mask[i] === 0) continue;
        out[i] = 1;
        for (const [dx, dy, dz] of offsets) {
          const xx = x + dx, yy = y + dy, zz = z + dz;
          if (xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz) continue;
          out[(zz * ny + yy) * nx + xx] = 1;
        }
      }
    }
  }
  return out;
}
