/**
 * The synthetic brain: a skull-stripped head made of cerebrospinal fluid (CSF), grey matter
 * (GM) and white matter (WM), as a tissue map on the case's voxel grid.
 *
 * Coordinates: voxel (z, y, x) of a [D, H, W] grid sits at millimetre position
 * ((x - (W-1)/2)·dx, (y - (H-1)/2)·dy, (z - (D-1)/2)·dz), so the brain is centred in the field
 * of view whatever the grid. The brain is an ellipsoid whose radius varies with a few smooth
 * angular waves, so it stays star-shaped and in one piece. A CSF layer lines it, over a cortical
 * GM band whose inner border folds into gyri; inside are lateral ventricles (CSF) and deep GM nuclei.
 */
import type { Random } from "./random.js";

/** Tissue classes of the tissue map. */
export const Tissue = { background: 0, csf: 1, gm: 2, wm: 3 } as const;
export type TissueClass = (typeof Tissue)[keyof typeof Tissue];

/** A voxel grid: shape [D, H, W] in voxels, spacing [dx, dy, dz] in mm (NIfTI order). */
export interface Grid {
  readonly shape: readonly [number, number, number];
  readonly spacing: readonly [number, number, number];
}

/** The case's brain: its tissue map and a function that measures how deep a point lies inside it. */
export interface Anatomy {
  /** Row-major [D, H, W] tissue classes (0 outside the brain). */
  readonly tissue: Uint8Array;
  /**
   * Normalised depth of a point given in mm from the grid centre: 0 at the centre, 1 on the
   * brain surface, above 1 outside.
   */
  readonly depth: (px: number, py: number, pz: number) => number;
}

interface AngularWave {
  readonly frequency: readonly [number, number, number];
  readonly phase: number;
  readonly amplitude: number;
}

interface Ellipsoid {
  readonly centre: readonly [number, number, number];
  readonly radii: readonly [number, number, number];
}

function insideEllipsoid(e: Ellipsoid, px: number, py: number, pz: number): boolean {
  const u = (px - e.centre[0]) / e.radii[0];
  const v = (py - e.centre[1]) / e.radii[1];
  const w = (pz - e.centre[2]) / e.radii[2];
  return u * u + v * v + w * w <= 1;
}

/** Millimetre offset of voxel index i on an axis of n voxels of the given spacing. */
export function axisMm(i: number, n: number, spacing: number): number {
  return (i - (n - 1) / 2) * spacing;
}

/** Draws one brain on the grid. Deterministic for a given generator state. */
export function buildAnatomy(grid: Grid, random: Random): Anatomy {
  const [nz, ny, nx] = grid.shape;
  const [dx, dy, dz] = grid.spacing;

  // Semi-axes as fractions of the field of view; with the ±9 % surface waves the brain stays inside it.
  const ax = random.uniform(0.36, 0.41) * nx * dx;
  const ay = random.uniform(0.39, 0.42) * ny * dy;
  const az = random.uniform(0.36, 0.41) * nz * dz;

  const waves: AngularWave[] = [];
  for (let i = 0; i < 3; i++) {
    waves.push({
      frequency: [random.int(1, 3), random.int(1, 3), random.int(1, 3)],
      phase: random.uniform(0, 2 * Math.PI),
      amplitude: 0.03,
    });
  }

  const depth = (px: number, py: number, pz: number): number => {
    const u = px / ax;
    const v = py / ay;
    const w = pz / az;
    const rho = Math.sqrt(u * u + v * v + w * w);
    if (rho === 0) return 0;
    let modulation = 1;
    for (const wave of waves) {
      const [fu, fv, fw] = wave.frequency;
      modulation += wave.amplitude * Math.sin((fu * u + fv * v + fw * w) / rho + wave.phase);
    }
    return rho / modulation;
  };

  // Gyri: the GM/WM border moves in and out with a product of sines of period about 25 mm.
  const foldPeriod = random.uniform(20, 30);
  const foldPhase = [random.uniform(0, 6.3), random.uniform(0, 6.3), random.uniform(0, 6.3)];
  const foldK = (2 * Math.PI) / foldPeriod;
  const wmBorder = random.uniform(0.76, 0.8);
  const csfBorder = random.uniform(0.94, 0.96);

  const ventricleGap = random.uniform(0.08, 0.12);
  const ventricleSize = random.uniform(0.8, 1.2);
  const ventricles: Ellipsoid[] = [-1, 1].map((side) => ({
    centre: [side * ventricleGap * ax, 0.05 * ay, 0.12 * az],
    radii: [0.07 * ax * ventricleSize, 0.32 * ay * ventricleSize, 0.14 * az * ventricleSize],
  }));
  const nuclei: Ellipsoid[] = [-1, 1].map((side) => ({
    centre: [side * 0.26 * ax, -0.02 * ay, -0.05 * az],
    radii: [0.1 * ax, 0.13 * ay, 0.13 * az],
  }));

  const tissue = new Uint8Array(nx * ny * nz);
  for (let z = 0; z < nz; z++) {
    const pz = axisMm(z, nz, dz);
    const foldZ = Math.sin(foldK * pz + foldPhase[2]!);
    for (let y = 0; y < ny; y++) {
      const py = axisMm(y, ny, dy);
      const foldYZ = foldZ * Math.sin(foldK * py + foldPhase[1]!);
      const row = (z * ny + y) * nx;
      for (let x = 0; x < nx; x++) {
        const px = axisMm(x, nx, dx);
        const d = depth(px, py, pz);
        if (d >= 1) continue;

        let cls: TissueClass;
        if (d >= csfBorder) {
          cls = Tissue.csf;
        } else if (d >= wmBorder + 0.06 * foldYZ * Math.sin(foldK * px + foldPhase[0]!)) {
          cls = Tissue.gm;
        } else if (ventricles.some((e) => insideEllipsoid(e, px, py, pz))) {
          cls = Tissue.csf;
        } else if (nuclei.some((e) => insideEllipsoid(e, px, py, pz))) {
          cls = Tissue.gm;
        } else {
          cls = Tissue.wm;
        }
        tissue[row + x] = cls;
      }
    }
  }

  return { tissue, depth };
}
