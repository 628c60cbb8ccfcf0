/**
 * Exact Euclidean distance transform, separable and linear in the voxel count
 * (Felzenszwalb and Huttenlocher, "Distance Transforms of Sampled Functions", 2012), with
 * anisotropic voxel spacing.
 */

/**
 * Squared distance in mm² from every voxel to the nearest voxel where `features` is non-zero.
 *
 * `features` is row-major [nz, ny, nx] (x fastest), `dims` [nx, ny, nz], `spacing`
 * [dx, dy, dz] in mm. A feature voxel gets 0. With no feature voxel at all, every voxel gets
 * Infinity. Same convention as scipy's `distance_transform_edt(~features, sampling=spacing)`,
 * squared.
 */
export function squaredEdt(
  features: Uint8Array,
  dims: readonly [number, number, number],
  spacing: readonly [number, number, number],
): Float64Array {
  return transform(features, dims, spacing, undefined);
}

/**
 * Computes `squaredEdt` only at the voxels where `query` is non-zero and returns those values in
 * memory order (one per query voxel). The last pass runs only on the z columns that contain a
 * query voxel, which saves most of it when the query is a sparse surface.
 */
export function squaredEdtAt(
  features: Uint8Array,
  query: Uint8Array,
  dims: readonly [number, number, number],
  spacing: readonly [number, number, number],
): Float64Array {
  const out = transform(features, dims, spacing, query);
  let n = 0;
  for (let i = 0; i < query.length; i++) if (query[i] !== 0) n++;
  const values = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < query.length; i++) if (query[i] !== 0) values[k++] = out[i]!;
  return values;
}

/** Runs the three passes; with `query`, the z pass skips columns without a query voxel. */
function transform(
  features: Uint8Array,
  dims: readonly [number, number, number],
  spacing: readonly [number, number, number],
  query: Uint8Array | undefined,
): Float64Array {
  const [nx, ny, nz] = dims;
  const out = new Float64Array(nx * ny * nz);
  const longest = Math.max(nx, ny, nz);
  const result = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);

  // Along x: the nearest feature on the same row, by a forward and a backward scan.
  const wx = spacing[0] * spacing[0];
  for (let row = 0; row < ny * nz; row++) {
    const base = row * nx;
    let any = false;
    for (let x = 0; x < nx && !any; x++) any = features[base + x] !== 0;
    if (!any) {
      out.fill(Infinity, base, base + nx);
      continue;
    }
    let last = -Infinity;
    for (let x = 0; x < nx; x++) {
      if (features[base + x] !== 0) last = x;
      out[base + x] = x - last;
    }
    last = Infinity;
    for (let x = nx - 1; x >= 0; x--) {
      if (features[base + x] !== 0) last = x;
      const d = Math.min(out[base + x]!, last - x);
      out[base + x] = d === Infinity ? Infinity : d * d * wx;
    }
  }

  // Along y, then z: the lower envelope of parabolas rooted at the previous pass. Each plane
  // (fixed z for y, fixed y for z) is transposed into a scratch buffer so that every line is
  // contiguous, which keeps the strided axis out of the inner loop.
  const plane = nx * ny;
  if (ny > 1) {
    const slab = new Float64Array(nx * ny);
    for (let zz = 0; zz < nz; zz++) {
      const base = zz * plane;
      for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) slab[x * ny + y] = out[base + y * nx + x]!;
      for (let x = 0; x < nx; x++) envelopeAt(slab, x * ny, ny, spacing[1] * spacing[1], result, v, z);
      for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) out[base + y * nx + x] = slab[x * ny + y]!;
    }
  }
  if (nz > 1) {
    // Columns (x, y) that need the z pass: all of them, or those holding a query voxel.
    const needed = new Uint8Array(plane).fill(query === undefined ? 1 : 0);
    if (query !== undefined) {
      for (let i = 0; i < query.length; i++) if (query[i] !== 0) needed[i % plane] = 1;
    }
    const slab = new Float64Array(nx * nz);
    for (let y = 0; y < ny; y++) {
      const base = y * nx;
      let anyNeeded = false;
      for (let x = 0; x < nx && !anyNeeded; x++) anyNeeded = needed[base + x] === 1;
      if (!anyNeeded) continue;
      for (let zz = 0; zz < nz; zz++) for (let x = 0; x < nx; x++) slab[x * nz + zz] = out[base + zz * plane + x]!;
      for (let x = 0; x < nx; x++) {
        if (needed[base + x] === 1) envelopeAt(slab, x * nz, nz, spacing[2] * spacing[2], result, v, z);
      }
      for (let zz = 0; zz < nz; zz++) for (let x = 0; x < nx; x++) out[base + zz * plane + x] = slab[x * nz + zz]!;
    }
  }
  return out;
}

/**
 * One-dimensional pass in place on f[offset … offset + n): f(q) ← min_p (w·(q − p)² + f(p)).
 * Infinite f(p) are skipped; with none finite, the line stays Infinity. `d` (n), `v` (n) and
 * `z` (n + 1) are scratch space.
 */
function envelopeAt(f: Float64Array, offset: number, n: number, w: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[offset + q]!;
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let s = 0;
    for (;;) {
      const p = v[k]!;
      s = (fq + w * q * q - (f[offset + p]! + w * p * p)) / (2 * w * (q - p));
      if (s > z[k]!) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) return;
  let j = 0;
  for (let q = 0; q < n; q++) {
    while (z[j + 1]! < q) j++;
    const p = v[j]!;
    d[q] = w * (q - p) * (q - p) + f[offset + p]!;
  }
  for (let q = 0; q < n; q++) f[offset + q] = d[q]!;
}
