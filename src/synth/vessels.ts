/**
 * Vessel-like distractors: curved tubes that enhance on t1c as metastases do, but carry label 0.
 * Each tube follows a quadratic Bézier curve between two brain points and has a radius of about
 * 1 to 1.6 mm, never thinner than 0.55 voxel so that it shows on coarse grids.
 */
import { Tissue, axisMm, type Anatomy, type Grid } from "./anatomy.js";
import type { Random } from "./random.js";

/** Picks a random brain point in mm (depth below 0.85), or the centre after 200 misses. */
function brainPoint(grid: Grid, anatomy: Anatomy, random: Random): [number, number, number] {
  const [nz, ny, nx] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  const halfX = ((nx - 1) / 2) * dx;
  const halfY = ((ny - 1) / 2) * dy;
  const halfZ = ((nz - 1) / 2) * dz;
  for (let attempt = 0; attempt < 200; attempt++) {
    const p: [number, number, number] = [
      random.uniform(-halfX, halfX),
      random.uniform(-halfY, halfY),
      random.uniform(-halfZ, halfZ),
    ];
    if (anatomy.depth(p[0], p[1], p[2]) < 0.85) return p;
  }
  return [0, 0, 0];
}

/**
 * Marks 2 to 5 tubes in a row-major [D, H, W] mask (1 = vessel). Only brain voxels whose label
 * in `seg` is 0 are marked, so a tube crossing a lesion leaves the lesion's labels alone.
 */
export function paintVessels(grid: Grid, anatomy: Anatomy, random: Random, seg: Uint8Array): Uint8Array {
  const [nz, ny, nx] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  const mask = new Uint8Array(nx * ny * nz);
  const count = random.int(2, 5);

  for (let v = 0; v < count; v++) {
    const a = brainPoint(grid, anatomy, random);
    const b = brainPoint(grid, anatomy, random);
    const bend = brainPoint(grid, anatomy, random);
    const radius = Math.max(random.uniform(1, 1.6), 0.55 * Math.max(dx, dy, dz));

    // Step along the curve by half the finest spacing so that consecutive balls overlap.
    const length = Math.hypot(bend[0] - a[0], bend[1] - a[1], bend[2] - a[2]) +
      Math.hypot(b[0] - bend[0], b[1] - bend[1], b[2] - bend[2]);
    const steps = Math.max(1, Math.ceil(length / (0.5 * Math.min(dx, dy, dz))));

    for (let s = 0; s <= steps; s++) {
      const t = s / steps;
      const wa = (1 - t) * (1 - t);
      const wb = t * t;
      const wc = 2 * t * (1 - t);
      const cx = wa * a[0] + wb * b[0] + wc * bend[0];
      const cy = wa * a[1] + wb * b[1] + wc * bend[1];
      const cz = wa * a[2] + wb * b[2] + wc * bend[2];

      // Voxel index range of the ball around this point of the curve.
      const x0 = Math.max(0, Math.ceil((cx - radius) / dx + (nx - 1) / 2));
      const x1 = Math.min(nx - 1, Math.floor((cx + radius) / dx + (nx - 1) / 2));
      const y0 = Math.max(0, Math.ceil((cy - radius) / dy + (ny - 1) / 2));
      const y1 = Math.min(ny - 1, Math.floor((cy + radius) / dy + (ny - 1) / 2));
      const z0 = Math.max(0, Math.ceil((cz - radius) / dz + (nz - 1) / 2));
      const z1 = Math.min(nz - 1, Math.floor((cz + radius) / dz + (nz - 1) / 2));
      for (let z = z0; z <= z1; z++) {
        const oz = axisMm(z, nz, dz) - cz;
        for (let y = y0; y <= y1; y++) {
          const oy = axisMm(y, ny, dy) - cy;
          for (let x = x0; x <= x1; x++) {
            const ox = axisMm(x, nx, dx) - cx;
            if (ox * ox + oy * oy + oz * oz > radius * radius) continue;
            const index = (z * ny + y) * nx + x;
            if (anatomy.tissue[index] !== Tissue.background && seg[index] === 0) mask[index] = 1;
          }
        }
      }
    }
  }
  return mask;
}
