/**
 * One synthetic BraTS-METS case, in memory: four co-registered scans and their label map.
 *
 * Case i depends only on (seed, i, shape, spacing): every part draws from its own random stream
 * keyed by the seed and the case index, so the number of cases generated changes nothing.
 */
import { Tissue, buildAnatomy, type Grid } from "./anatomy.js";
import { IntensityClass, MODALITIES, renderModality, type Modality } from "./contrast.js";
import { Label, paintLesions, planLesions, type LesionRecord } from "./lesions.js";
import { caseRandom } from "./random.js";
import { paintVessels } from "./vessels.js";

/** Default grid: 96 × 96 × 64 voxels (x, y, z) at 2 mm, small enough for CPU training. */
export const DEFAULT_SHAPE: readonly [number, number, number] = [64, 96, 96];
export const DEFAULT_SPACING_MM = 2;

export interface SynthOptions {
  /** Integer in [0, 2^32). */
  readonly seed: number;
  /** [D, H, W] in voxels; default [64, 96, 96]. */
  readonly shape?: readonly [number, number, number];
  /** Isotropic voxel size in mm, or [dx, dy, dz]; default 2. */
  readonly spacing?: number | readonly [number, number, number];
}

export interface SyntheticCase {
  /** `SYN-<index, 5 digits>-000`, the BraTS-METS id pattern. */
  readonly id: string;
  readonly modalities: readonly Modality[];
  /** t1n, t1c, t2w, t2f; each row-major [D, H, W], whole numbers, exactly 0 outside the brain. */
  readonly images: readonly Float32Array[];
  /** Row-major [D, H, W] labels: 0 background, 1 NETC, 2 SNFH, 3 ET. */
  readonly seg: Uint8Array;
  /** Row-major [D, H, W] tissue classes (0 outside, 1 CSF, 2 GM, 3 WM), under the lesions. */
  readonly tissue: Uint8Array;
  /** Row-major [D, H, W], 1 where a vessel distractor is drawn. */
  readonly vessels: Uint8Array;
  /** [nx, ny, nz], NIfTI order. */
  readonly dims: readonly [number, number, number];
  /** [D, H, W] = [nz, ny, nx]. */
  readonly shape: readonly [number, number, number];
  /** [dx, dy, dz] in mm. */
  readonly spacing: readonly [number, number, number];
  readonly lesions: readonly LesionRecord[];
  /** True when the case was drawn with only tiny lesions (1 to 3 mm radius). */
  readonly tinyOnly: boolean;
}

/** Returns the id of case `index`, e.g. SYN-00007-000. */
export function syntheticCaseId(index: number): string {
  return `SYN-${String(index).padStart(5, "0")}-000`;
}

function resolveGrid(options: SynthOptions): Grid {
  const shape = options.shape ?? DEFAULT_SHAPE;
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new RangeError(`shape ${JSON.stringify(shape)} is not three positive whole numbers D,H,W; use e.g. 64,96,96`);
  }
  const raw = options.spacing ?? DEFAULT_SPACING_MM;
  const spacing: readonly [number, number, number] = typeof raw === "number" ? [raw, raw, raw] : raw;
  if (spacing.length !== 3 || !spacing.every((s) => Number.isFinite(s) && s > 0)) {
    throw new RangeError(`spacing ${JSON.stringify(raw)} is not a positive size in mm; use e.g. 2`);
  }
  return { shape: [shape[0], shape[1], shape[2]], spacing: [spacing[0], spacing[1], spacing[2]] };
}

/** Generates case `index` (a non-negative integer). Pure: the same arguments give the same arrays. */
export function generateCase(index: number, options: SynthOptions): SyntheticCase {
  const grid = resolveGrid(options);
  const [nz, ny, nx] = grid.shape;

  const anatomy = buildAnatomy(grid, caseRandom(options.seed, index, "anatomy"));
  const seg = new Uint8Array(nx * ny * nz);
  const lesionRandom = caseRandom(options.seed, index, "lesions");
  const plan = planLesions(lesionRandom);
  const lesions = paintLesions(grid, anatomy, plan, lesionRandom, seg);
  const vessels = paintVessels(grid, anatomy, caseRandom(options.seed, index, "vessels"), seg);

  // One intensity class per voxel: the lesion label where there is one, the tissue elsewhere, -1 outside.
  const intensityClass = new Int8Array(nx * ny * nz);
  const fromLabel = [-1, IntensityClass.netc, IntensityClass.snfh, IntensityClass.et];
  const fromTissue = [-1, IntensityClass.csf, IntensityClass.gm, IntensityClass.wm];
  for (let i = 0; i < seg.length; i++) {
    intensityClass[i] = seg[i] !== Label.background ? fromLabel[seg[i]!]! : fromTissue[anatomy.tissue[i]!]!;
  }

  const images = MODALITIES.map((modality) =>
    renderModality(grid, modality, intensityClass, vessels, caseRandom(options.seed, index, `image-${modality}`)),
  );

  return {
    id: syntheticCaseId(index),
    modalities: MODALITIES,
    images,
    seg,
    tissue: anatomy.tissue,
    vessels,
    dims: [nx, ny, nz],
    shape: grid.shape,
    spacing: grid.spacing,
    lesions,
    tinyOnly: plan.tinyOnly,
  };
}

export { Tissue };
