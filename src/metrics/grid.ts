/**
 * The grid a label map lives on, as the metrics need it.
 *
 * Voxel arrays are row-major [nz, ny, nx] (x fastest), the layout of `LabelVolume.data`.
 * `dims` is [nx, ny, nz] and `spacing` is [dx, dy, dz] in mm, both in NIfTI order.
 */
export interface Grid {
  readonly dims: readonly [number, number, number];
  readonly spacing: readonly [number, number, number];
}

/** An axis-aligned box of voxel indices, inclusive at both ends. */
export interface Box {
  readonly lo: readonly [number, number, number];
  readonly hi: readonly [number, number, number];
}

/** Number of voxels of the grid. */
export function voxelCount(grid: Grid): number {
  return grid.dims[0] * grid.dims[1] * grid.dims[2];
}

/** Voxel volume in mm³. */
export function voxelVolume(grid: Grid): number {
  return grid.spacing[0] * grid.spacing[1] * grid.spacing[2];
}

/**
 * Length of the image diagonal in mm: sqrt(Σ (n_i · s_i)²), 373.128664 for 240×240×155 at
 * 1 mm. It is the HD95 given when exactly one of the two masks is empty.
 */
export function diagonalMm(grid: Grid): number {
  let sum = 0;
  for (let axis = 0; axis < 3; axis++) sum += (grid.dims[axis]! * grid.spacing[axis]!) ** 2;
  return Math.sqrt(sum);
}

/** Throws when an array does not hold nx·ny·nz voxels or the grid is not a valid 3-D grid. */
export function checkGrid(grid: Grid, arrays: readonly ArrayLike<number>[], what: string): void {
  for (let axis = 0; axis < 3; axis++) {
    const n = grid.dims[axis]!;
    const s = grid.spacing[axis]!;
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${what}: dims [${grid.dims.join(", ")}] must be three positive integers`);
    }
    if (!(s > 0) || !Number.isFinite(s)) {
      throw new Error(`${what}: spacing [${grid.spacing.join(", ")}] mm must be three positive numbers; fix the header pixdim`);
    }
  }
  const expected = voxelCount(grid);
  for (const array of arrays) {
    if (array.length !== expected) {
      throw new Error(
        `${what}: an array has ${array.length} voxels but dims ${grid.dims.join("x")} need ${expected}; ` +
          "both label maps must share one grid",
      );
    }
  }
}

/**
 * Bounding box of the voxels where `a` or `b` is non-zero, or undefined when both are empty.
 * `b` may be omitted to take the box of `a` alone.
 */
export function boundingBox(grid: Grid, a: Uint8Array, b?: Uint8Array): Box | undefined {
  const [nx, ny, nz] = grid.dims;
  let x0 = nx, y0 = ny, z0 = nz, x1 = -1, y1 = -1, z1 = -1;
  const set = (i: number) => a[i] !== 0 || (b !== undefined && b[i] !== 0);
  const emptyRow = rowEmptinessTest(a, b, nx);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      // First and last set voxel of the row; most rows are empty and cost one word scan.
      const row = (z * ny + y) * nx;
      if (emptyRow(row)) continue;
      let first = 0;
      while (!set(row + first)) first++;
      let last = nx - 1;
      while (last > first && !set(row + last)) last--;
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (z < z0) z0 = z;
      z1 = z;
    }
  }
  if (x1 < 0) return undefined;
  return { lo: [x0, y0, z0], hi: [x1, y1, z1] };
}

/**
 * Returns a test of whether the row of `nx` voxels starting at an index is 0 in both masks. It
 * reads four voxels per 32-bit word when rows are word-aligned, else one voxel at a time.
 */
function rowEmptinessTest(a: Uint8Array, b: Uint8Array | undefined, nx: number): (row: number) => boolean {
  const aligned = nx % 4 === 0 && a.byteOffset % 4 === 0 && (b === undefined || b.byteOffset % 4 === 0);
  if (aligned) {
    const wa = new Uint32Array(a.buffer, a.byteOffset, a.length >> 2);
    const wb = b === undefined ? undefined : new Uint32Array(b.buffer, b.byteOffset, b.length >> 2);
    const words = nx >> 2;
    return (row) => {
      const start = row >> 2;
      for (let k = start; k < start + words; k++) if (wa[k] !== 0 || (wb !== undefined && wb[k] !== 0)) return false;
      return true;
    };
  }
  return (row) => {
    for (let x = row; x < row + nx; x++) if (a[x] !== 0 || (b !== undefined && b[x] !== 0)) return false;
    return true;
  };
}

/**
 * Copies the box grown by `margin` voxels on every side out of `mask`; voxels of the grown box
 * outside the array are 0. Returns the crop, row-major [nz', ny', nx'], and its dims.
 */
export function cropWithMargin(
  grid: Grid,
  mask: Uint8Array,
  box: Box,
  margin: number,
): { data: Uint8Array; dims: [number, number, number] } {
  const [nx, ny, nz] = grid.dims;
  const cx = box.hi[0] - box.lo[0] + 1 + 2 * margin;
  const cy = box.hi[1] - box.lo[1] + 1 + 2 * margin;
  const cz = box.hi[2] - box.lo[2] + 1 + 2 * margin;
  const data = new Uint8Array(cx * cy * cz);
  const xStart = Math.max(0, box.lo[0] - margin);
  const xEnd = Math.min(nx - 1, box.hi[0] + margin);
  for (let z = Math.max(0, box.lo[2] - margin); z <= Math.min(nz - 1, box.hi[2] + margin); z++) {
    for (let y = Math.max(0, box.lo[1] - margin); y <= Math.min(ny - 1, box.hi[1] + margin); y++) {
      const src = (z * ny + y) * nx;
      const dst = ((z - box.lo[2] + margin) * cy + (y - box.lo[1] + margin)) * cx - box.lo[0] + margin;
      for (let x = xStart; x <= xEnd; x++) data[dst + x] = mask[src + x]!;
    }
  }
  return { data, dims: [cx, cy, cz] };
}
