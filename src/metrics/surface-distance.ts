/**
 * HD95 on surface elements weighted by area, as the BraTS 2023 evaluation computes it (the
 * surface-distance package's `compute_surface_distances` and `compute_robust_hausdorff`).
 * Both masks are 0/1, row-major [nz, ny, nx] on `grid` (spacing in mm).
 */
import { squaredEdt } from "./edt.js";
import { boundingBox, checkGrid, type Box, type Grid } from "./grid.js";
import { surfelAreaTable } from "./surfels.js";

/** Distances (mm, ascending) from each surface element of one mask to the other's, with areas (mm²). */
export interface WeightedDistances {
  readonly distances: Float64Array;
  readonly areas: Float64Array;
}

/**
 * Computes the robust Hausdorff distance at `percent`. For each direction it is the distance at
 * which the cumulative area of the sorted surface elements first reaches percent/100 of the
 * total, and the result is the larger of the two directions. Both masks empty gives 0; exactly one empty gives Infinity
 * (the BraTS code replaces it by 374).
 */
export function surfaceHd95(gt: Uint8Array, pred: Uint8Array, grid: Grid, percent = 95): number {
  checkGrid(grid, [gt, pred], "surface HD95");
  const box = boundingBox(grid, gt, pred);
  if (box === undefined) return 0;
  const [gtToPred, predToGt] = surfaceDistancesInBox(gt, pred, grid, box);
  return Math.max(robustPercentile(gtToPred, percent), robustPercentile(predToGt, percent));
}

/**
 * Computes `surfaceHd95` on two sets of voxel indices into the grid (e.g. one lesion and its matched
 * components), without building full-volume masks.
 */
export function surfaceHd95OfVoxels(gtVoxels: Int32Array, predVoxels: Int32Array, grid: Grid, percent = 95): number {
  if (gtVoxels.length + predVoxels.length === 0) return 0;
  if (gtVoxels.length === 0 || predVoxels.length === 0) return Infinity;
  const [nx, ny] = grid.dims;
  const lo: [number, number, number] = [Infinity, Infinity, Infinity];
  const hi: [number, number, number] = [-1, -1, -1];
  for (const list of [gtVoxels, predVoxels]) {
    for (const i of list) {
      const p = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))];
      for (let k = 0; k < 3; k++) {
        if (p[k]! < lo[k]!) lo[k] = p[k]!;
        if (p[k]! > hi[k]!) hi[k] = p[k]!;
      }
    }
  }
  const box: Box = { lo, hi };
  const [gtToPred, predToGt] = cornerDistances(voxelsInBox(gtVoxels, grid, box), voxelsInBox(predVoxels, grid, box), box, grid.spacing);
  return Math.max(robustPercentile(gtToPred, percent), robustPercentile(predToGt, percent));
}

/** Builds a box-local mask (row-major) with the voxels of the given global indices set. */
function voxelsInBox(voxels: Int32Array, grid: Grid, box: Box): Uint8Array {
  const [nx, ny] = grid.dims;
  const bx = box.hi[0] - box.lo[0] + 1, by = box.hi[1] - box.lo[1] + 1, bz = box.hi[2] - box.lo[2] + 1;
  const out = new Uint8Array(bx * by * bz);
  for (const i of voxels) {
    const x = (i % nx) - box.lo[0], y = (Math.floor(i / nx) % ny) - box.lo[1], z = Math.floor(i / (nx * ny)) - box.lo[2];
    out[(z * by + y) * bx + x] = 1;
  }
  return out;
}

function surfaceDistancesInBox(gt: Uint8Array, pred: Uint8Array, grid: Grid, box: Box): [WeightedDistances, WeightedDistances] {
  const [nx, ny] = grid.dims;
  const bx = box.hi[0] - box.lo[0] + 1, by = box.hi[1] - box.lo[1] + 1, bz = box.hi[2] - box.lo[2] + 1;
  const a = new Uint8Array(bx * by * bz), b = new Uint8Array(bx * by * bz);
  for (let z = 0; z < bz; z++) {
    for (let y = 0; y < by; y++) {
      const src = ((z + box.lo[2]) * ny + y + box.lo[1]) * nx + box.lo[0];
      const dst = (z * by + y) * bx;
      for (let x = 0; x < bx; x++) {
        a[dst + x] = gt[src + x]! !== 0 ? 1 : 0;
        b[dst + x] = pred[src + x]! !== 0 ? 1 : 0;
      }
    }
  }
  return cornerDistances(a, b, box, grid.spacing);
}

/**
 * Surface elements of two box-local masks on the (bx + 1)·(by + 1)·(bz + 1) corner grid, and
 * each element's distance to the other mask's nearest element. Corner (i, j, k) lies between
 * voxels i − 1 and i along x, and likewise along y and z. Voxels outside the box count as outside.
 */
function cornerDistances(gt: Uint8Array, pred: Uint8Array, box: Box, spacing: readonly [number, number, number]): [WeightedDistances, WeightedDistances] {
  const bx = box.hi[0] - box.lo[0] + 1, by = box.hi[1] - box.lo[1] + 1, bz = box.hi[2] - box.lo[2] + 1;
  const dims: [number, number, number] = [bx + 1, by + 1, bz + 1];
  const gtCodes = neighbourCodes(gt, bx, by, bz);
  const predCodes = neighbourCodes(pred, bx, by, bz);
  const gtBorder = gtCodes.map((c) => (c !== 0 && c !== 255 ? 1 : 0));
  const predBorder = predCodes.map((c) => (c !== 0 && c !== 255 ? 1 : 0));
  const toGt = squaredEdt(gtBorder, dims, spacing);
  const toPred = squaredEdt(predBorder, dims, spacing);
  const areas = surfelAreaTable(spacing);
  return [weighted(toPred, gtBorder, gtCodes, areas), weighted(toGt, predBorder, predCodes, areas)];
}

function neighbourCodes(mask: Uint8Array, bx: number, by: number, bz: number): Uint8Array {
  // Pad with one outside voxel on every side, so corner (i, j, k) reads padded voxels i…i+1,
  // j…j+1, k…k+1 without bounds checks.
  const px = bx + 2, py = by + 2, pz = bz + 2;
  const padded = new Uint8Array(px * py * pz);
  for (let z = 0; z < bz; z++) {
    for (let y = 0; y < by; y++) {
      padded.set(mask.subarray((z * by + y) * bx, (z * by + y + 1) * bx), ((z + 1) * py + y + 1) * px + 1);
    }
  }
  const cx = bx + 1, cy = by + 1, cz = bz + 1;
  const codes = new Uint8Array(cx * cy * cz);
  const dxStep = 1, dyStep = px, dzStep = px * py;
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) {
      let v = (k * py + j) * px;
      let c = (k * cy + j) * cx;
      for (let i = 0; i < cx; i++, v++, c++) {
        codes[c] =
          (padded[v]! << 7) | (padded[v + dzStep]! << 6) | (padded[v + dyStep]! << 5) | (padded[v + dyStep + dzStep]! << 4) |
          (padded[v + dxStep]! << 3) | (padded[v + dxStep + dzStep]! << 2) | (padded[v + dxStep + dyStep]! << 1) |
          padded[v + dxStep + dyStep + dzStep]!;
      }
    }
  }
  return codes;
}

function weighted(squared: Float64Array, border: Uint8Array, codes: Uint8Array, table: Float64Array): WeightedDistances {
  const pairs: [number, number][] = [];
  for (let i = 0; i < border.length; i++) if (border[i] !== 0) pairs.push([Math.sqrt(squared[i]!), table[codes[i]!]!]);
  pairs.sort((p, q) => p[0] - q[0]);
  return { distances: Float64Array.from(pairs, (p) => p[0]), areas: Float64Array.from(pairs, (p) => p[1]) };
}

/** Distance where the cumulative area fraction first reaches percent/100; Infinity when empty. */
function robustPercentile(list: WeightedDistances, percent: number): number {
  const n = list.distances.length;
  if (n === 0) return Infinity;
  let total = 0;
  for (const a of list.areas) total += a;
  let cumulative = 0;
  for (let k = 0; k < n; k++) {
    cumulative += list.areas[k]!;
    if (cumulative / total >= percent / 100) return list.distances[k]!;
  }
  return list.distances[n - 1]!;
}
