/**
 * A synthetic dataset on disk, in the BraTS-METS 2023 layout:
 *   <outDir>/<id>/<id>-{t1n,t1c,t2w,t2f,seg}.nii.gz  and  <outDir>/<id>/lesions.json
 * Scans are int16, the segmentation uint8, on an axis-aligned grid whose world origin is the
 * centre of the field of view. The same options always give the same bytes: the voxels are
 * deterministic, the NIfTI header has no timestamp, and gzip output depends only on its input
 * and level (Node's gzip header has mtime 0).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { axisAlignedGeometry } from "../nifti/geometry.js";
import { writeNifti } from "../nifti/write.js";
import { DEFAULT_SHAPE, DEFAULT_SPACING_MM, generateCase, syntheticCaseId, type SyntheticCase } from "./generate.js";

export { generateCase, syntheticCaseId };

export interface SyntheticDatasetOptions {
  /** Number of cases, a non-negative whole number; cases 0 … cases − 1 are written. */
  readonly cases: number;
  /** Integer in [0, 2^32). */
  readonly seed: number;
  /** [D, H, W] in voxels; default [64, 96, 96]. */
  readonly shape?: readonly [number, number, number];
  /** Isotropic voxel size in mm; default 2. */
  readonly spacing?: number;
}

/** Serialises a case's painted lesions as lesions.json, for tests and for results by lesion size. */
function lesionsJson(synthetic: SyntheticCase): string {
  return (
    JSON.stringify(
      {
        id: synthetic.id,
        tinyOnly: synthetic.tinyOnly,
        spacingMm: synthetic.spacing,
        lesions: synthetic.lesions,
      },
      null,
      2,
    ) + "\n"
  );
}

/** Writes one generated case into `<outDir>/<id>/`. Returns the case folder. */
export async function writeSyntheticCase(outDir: string, synthetic: SyntheticCase): Promise<string> {
  const caseDir = path.join(outDir, synthetic.id);
  await mkdir(caseDir, { recursive: true });
  const [nx, ny, nz] = synthetic.dims;
  const [dx, dy, dz] = synthetic.spacing;
  const geometry = axisAlignedGeometry(synthetic.dims, synthetic.spacing, [
    (-(nx - 1) / 2) * dx,
    (-(ny - 1) / 2) * dy,
    (-(nz - 1) / 2) * dz,
  ]);

  const file = (suffix: string) => path.join(caseDir, `${synthetic.id}-${suffix}.nii.gz`);
  await Promise.all([
    ...synthetic.modalities.map((modality, m) =>
      writeNifti(file(modality), Int16Array.from(synthetic.images[m]!), geometry, { description: "fancl synth" }),
    ),
    writeNifti(file("seg"), synthetic.seg, geometry, { description: "fancl synth" }),
    writeFile(path.join(caseDir, "lesions.json"), lesionsJson(synthetic)),
  ]);
  return caseDir;
}

/**
 * Generates and writes cases 0 … cases − 1 under `outDir` (created if missing). Case i is the
 * same whatever `cases` is. Returns the case ids in order.
 */
export async function writeSyntheticDataset(outDir: string, options: SyntheticDatasetOptions): Promise<string[]> {
  if (!Number.isInteger(options.cases) || options.cases < 0) {
    throw new RangeError(`cases ${options.cases} is not a whole number of cases; use e.g. 8`);
  }
  const synthOptions = {
    seed: options.seed,
    shape: options.shape ?? DEFAULT_SHAPE,
    spacing: options.spacing ?? DEFAULT_SPACING_MM,
  };

  await mkdir(outDir, { recursive: true });
  const ids: string[] = [];
  for (let index = 0; index < options.cases; index++) {
    const synthetic = generateCase(index, synthOptions);
    await writeSyntheticCase(outDir, synthetic);
    ids.push(synthetic.id);
  }
  return ids;
}
