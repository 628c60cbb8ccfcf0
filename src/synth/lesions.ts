/**
 * Synthetic brain metastases, painted into a BraTS-METS 2023 label map.
 *
 * Labels: 1 necrotic core (NETC), 3 enhancing rim (ET), 2 surrounding edema (SNFH). A lesion is
 * an irregular ellipsoid: its enhancing radius R is drawn log-uniformly, lesions with R ≥ 5 mm
 * get a necrotic core and lesions with R ≥ 2.5 mm an edema shell. Lesions are placed so that
 * their outer shells stay at least two voxels apart, so each lesion is exactly one
 * 26-connected component of the tumour mask. Labels are only painted inside the brain.
 */
import { Tissue, axisMm, type Anatomy, type Grid } from "./anatomy.js";
import type { Random } from "./random.js";

export const Label = { background: 0, netc: 1, snfh: 2, et: 3 } as const;

/** One painted metastasis, as recorded in `lesions.json`. */
export interface LesionRecord {
  /** Centre voxel in NIfTI order [x, y, z] (voxel indices). */
  readonly centre: readonly [number, number, number];
  /** Radius of the enhancing tumour in mm, before the shape's irregularity. */
  readonly radiusMm: number;
  /** Radius of the necrotic core in mm; 0 when the lesion has none. */
  readonly coreRadiusMm: number;
  /** Outer radius of the edema in mm; 0 when the lesion has none. */
  readonly edemaRadiusMm: number;
  /** Voxels painted with a non-zero label by this lesion (at least 1: its centre). */
  readonly voxels: number;
  /** Labels present in this lesion, ascending. */
  readonly labels: readonly number[];
}

export interface LesionPlan {
  /** When true, every lesion of the case has an enhancing radius between 1 and 3 mm. */
  readonly tinyOnly: boolean;
  readonly radiiMm: readonly number[];
}

/** Radii of the enhancing tumour, log-uniform: about 1 to 15 mm, or 1 to 3 mm for tiny-only cases. */
export function planLesions(random: Random): LesionPlan {
  const tinyOnly = random.next() < 0.2;
  const count = tinyOnly ? random.int(1, 4) : random.int(1, 10);
  const radiiMm: number[] = [];
  for (let i = 0; i < count; i++) {
    radiiMm.push(tinyOnly ? random.logUniform(1, 3) : random.logUniform(1, 15));
  }
  // Large lesions first: they are the hardest to fit.
  radiiMm.sort((a, b) => b - a);
  return { tinyOnly, radiiMm };
}

/** Largest stretch of a lesion beyond its nominal radius: axis scale × surface irregularity. */
const MAX_STRETCH = 1.15 * 1.15;
const PLACEMENT_TRIES = 400;

interface Placed {
  readonly centreMm: readonly [number, number, number];
  readonly outerMm: number;
}

/**
 * Places and paints the planned lesions into `seg` (row-major [D, H, W], all zero on entry).
 * A lesion that cannot be placed apart from the others after a few hundred tries is dropped,
 * except the first, which always lands on a brain voxel.
 */
export function paintLesions(
  grid: Grid,
  anatomy: Anatomy,
  plan: LesionPlan,
  random: Random,
  seg: Uint8Array,
): LesionRecord[] {
  const [nz, ny, nx] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  const margin = 2 * Math.max(dx, dy, dz);
  const placed: Placed[] = [];
  const records: LesionRecord[] = [];

  for (const radiusMm of plan.radiiMm) {
    const coreRadiusMm = radiusMm >= 5 ? radiusMm * random.uniform(0.35, 0.6) : 0;
    const edemaRadiusMm = radiusMm >= 2.5 ? radiusMm * random.uniform(1.5, 2.5) : 0;
    const outerMm = Math.max(radiusMm, edemaRadiusMm) * MAX_STRETCH;

    const centre = findCentre(grid, anatomy, random, placed, outerMm, margin, placed.length === 0);
    if (centre === null) continue;
    const centreMm: [number, number, number] = [
      axisMm(centre[0], nx, dx),
      axisMm(centre[1], ny, dy),
      axisMm(centre[2], nz, dz),
    ];
    placed.push({ centreMm, outerMm });

    const shape = {
      scale: [random.uniform(0.87, 1.15), random.uniform(0.87, 1.15), random.uniform(0.87, 1.15)] as const,
      waveFrequency: [random.int(1, 3), random.int(1, 3), random.int(1, 3)] as const,
      wavePhase: random.uniform(0, 2 * Math.PI),
    };

    // Paint the box around the centre that contains the whole stretched lesion.
    const reach = [Math.ceil(outerMm / dx), Math.ceil(outerMm / dy), Math.ceil(outerMm / dz)];
    const counts = [0, 0, 0, 0];
    for (let z = Math.max(0, centre[2] - reach[2]!); z <= Math.min(nz - 1, centre[2] + reach[2]!); z++) {
      const oz = (z - centre[2]) * dz / shape.scale[2];
      for (let y = Math.max(0, centre[1] - reach[1]!); y <= Math.min(ny - 1, centre[1] + reach[1]!); y++) {
        const oy = (y - centre[1]) * dy / shape.scale[1];
        for (let x = Math.max(0, centre[0] - reach[0]!); x <= Math.min(nx - 1, centre[0] + reach[0]!); x++) {
          const index = (z * ny + y) * nx + x;
          if (anatomy.tissue[index] === Tissue.background) continue;
          const ox = (x - centre[0]) * dx / shape.scale[0];
          const r = Math.sqrt(ox * ox + oy * oy + oz * oz);

          // The irregularity scales every radius of this direction alike, so the shells stay nested.
          let stretch = 1;
          if (r > 0) {
            const [fu, fv, fw] = shape.waveFrequency;
            stretch += 0.15 * Math.sin((fu * ox + fv * oy + fw * oz) / r + shape.wavePhase);
          }
          const rn = r / stretch;

          let label = 0;
          if (coreRadiusMm > 0 && rn <= coreRadiusMm) label = Label.netc;
          else if (rn <= radiusMm) label = Label.et;
          else if (rn <= edemaRadiusMm) label = Label.snfh;
          if (label === 0) continue;
          seg[index] = label;
          counts[label]!++;
        }
      }
    }

    // The centre is a brain voxel at distance 0, so it is always painted.
    records.push({
      centre,
      radiusMm,
      coreRadiusMm,
      edemaRadiusMm,
      voxels: counts[1]! + counts[2]! + counts[3]!,
      labels: [1, 2, 3].filter((l) => counts[l]! > 0),
    });
  }
  return records;
}

/**
 * Finds a brain voxel, away from the brain surface, whose lesion would stay `margin` mm apart from
 * every placed lesion. Returns null when none is found, or the grid centre with `mustPlace`.
 */
function findCentre(
  grid: Grid,
  anatomy: Anatomy,
  random: Random,
  placed: readonly Placed[],
  outerMm: number,
  margin: number,
  mustPlace: boolean,
): [number, number, number] | null {
  const [nz, ny, nx] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  for (let attempt = 0; attempt < PLACEMENT_TRIES; attempt++) {
    const x = random.int(0, nx - 1);
    const y = random.int(0, ny - 1);
    const z = random.int(0, nz - 1);
    const px = axisMm(x, nx, dx);
    const py = axisMm(y, ny, dy);
    const pz = axisMm(z, nz, dz);
    if (anatomy.depth(px, py, pz) > 0.8) continue;
    if (anatomy.tissue[(z * ny + y) * nx + x] === Tissue.background) continue;
    const apart = placed.every((p) => {
      const distance = Math.hypot(px - p.centreMm[0], py - p.centreMm[1], pz - p.centreMm[2]);
      return distance > outerMm + p.outerMm + margin;
    });
    if (apart) return [x, y, z];
  }
  if (!mustPlace) return null;
  return [Math.floor(nx / 2), Math.floor(ny / 2), Math.floor(nz / 2)];
}
