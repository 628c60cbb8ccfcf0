/**
 * MRI contrasts of the synthetic cases: per-modality intensities of each tissue and lesion
 * class, a smooth multiplicative bias field and Rician noise, rounded to whole numbers as in
 * int16 scans.
 *
 * Relative intensities (white matter = 1 on the T1 scans) follow the usual appearance of brain
 * metastases. The enhancing rim is bright on t1c, edema is bright on t2w and t2f, and every
 * lesion class is darker than white matter on t1n. CSF is dark on t1n, t1c and t2f
 * (fluid-suppressed) and bright on t2w. Vessels enhance on t1c and are flow voids on t2w.
 */
import { axisMm, type Grid } from "./anatomy.js";
import type { Random } from "./random.js";

export const MODALITIES = ["t1n", "t1c", "t2w", "t2f"] as const;
export type Modality = (typeof MODALITIES)[number];

/** Intensity classes, in the column order of the tables below. */
export const IntensityClass = { csf: 0, gm: 1, wm: 2, netc: 3, snfh: 4, et: 5 } as const;

/** Relative intensity per class: CSF, GM, WM, necrosis, edema, enhancing tumour. */
const RELATIVE: Record<Modality, readonly number[]> = {
  t1n: [0.35, 0.7, 1.0, 0.4, 0.62, 0.55],
  t1c: [0.35, 0.72, 1.0, 0.42, 0.66, 1.7],
  t2w: [1.8, 0.8, 0.55, 1.55, 1.3, 0.95],
  t2f: [0.3, 0.85, 0.65, 1.0, 1.45, 1.1],
};

/** Vessel intensity relative to white matter, or null where the vessel shows its tissue's value. */
const VESSEL: Record<Modality, number | null> = { t1n: null, t1c: 1.65, t2w: 0.3, t2f: null };

const INT16_MAX = 32767;

/**
 * Renders one modality: row-major [D, H, W], whole numbers in [1, 32767] inside the brain and
 * exactly 0 outside (where `intensityClass` is -1). `vessel` marks voxels drawn as vessels.
 */
export function renderModality(
  grid: Grid,
  modality: Modality,
  intensityClass: Int8Array,
  vessel: Uint8Array,
  random: Random,
): Float32Array {
  const [nz, ny, nx] = grid.shape;
  const [dx, dy, dz] = grid.spacing;

  // Per case: the scanner's scale, a ±5 % jitter per class and the noise level.
  const scale = random.uniform(600, 1200);
  const levels = RELATIVE[modality].map((r) => r * scale * random.uniform(0.95, 1.05));
  const vesselLevel = VESSEL[modality] === null ? null : VESSEL[modality]! * scale;
  const noiseSd = random.uniform(0.015, 0.035) * scale;

  // Bias field exp(polynomial of degree 2) over coordinates normalised to [-1, 1].
  const coefficients = Array.from({ length: 9 }, () => random.uniform(-0.08, 0.08));
  const halfX = Math.max(((nx - 1) / 2) * dx, 1e-6);
  const halfY = Math.max(((ny - 1) / 2) * dy, 1e-6);
  const halfZ = Math.max(((nz - 1) / 2) * dz, 1e-6);
  const [cx, cy, cz, cxx, cyy, czz, cxy, cyz, cxz] = coefficients as [
    number, number, number, number, number, number, number, number, number,
  ];

  const image = new Float32Array(nx * ny * nz);
  for (let z = 0; z < nz; z++) {
    const w = axisMm(z, nz, dz) / halfZ;
    for (let y = 0; y < ny; y++) {
      const v = axisMm(y, ny, dy) / halfY;
      const row = (z * ny + y) * nx;
      for (let x = 0; x < nx; x++) {
        const index = row + x;
        const cls = intensityClass[index]!;
        if (cls < 0) continue;
        const u = axisMm(x, nx, dx) / halfX;

        const clean = vessel[index] === 1 && vesselLevel !== null ? vesselLevel : levels[cls]!;
        const bias = Math.exp(
          cx * u + cy * v + cz * w + cxx * u * u + cyy * v * v + czz * w * w + cxy * u * v + cyz * v * w + cxz * u * w,
        );

        // Rician noise: the magnitude of a complex signal with Gaussian noise on both channels.
        const real = clean * bias + noiseSd * random.normal();
        const imaginary = noiseSd * random.normal();
        const magnitude = Math.round(Math.sqrt(real * real + imaginary * imaginary));
        image[index] = Math.min(INT16_MAX, Math.max(1, magnitude));
      }
    }
  }
  return image;
}
