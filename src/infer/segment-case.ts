/**
 * Segments one case folder with a trained model folder and writes the label map (0 background,
 * 1 NETC, 2 SNFH, 3 ET) as `.nii.gz` on the case's original grid, with the first image's geometry.
 *
 * The model folder contains `model.json` + `weights.bin` (the network) and `preprocess.json`
 * { targetSpacing: [dx, dy, dz] mm | null, patchSize: [D, H, W] voxels }: the preprocessing the
 * network was trained with and its patch size, which the sliding window uses.
 */
import { promises as fs } from "node:fs";
import path from "node:path";

import { caseFiles, loadCase } from "../data/dataset.js";
import { writeNifti } from "../nifti/write.js";
import { loadNetwork } from "../nn/network.js";
import { preprocessCase, restoreLabels } from "../preprocess/pipeline.js";
import type { Shape3 } from "../train/types.js";
import { predictVolume } from "./sliding-window.js";

/** The model's recorded preprocessing and patch size (`preprocess.json`). */
export interface ModelPreprocessing {
  /** [dx, dy, dz] in mm, or null when cases were not resampled. */
  readonly targetSpacing: readonly [number, number, number] | null;
  /** [D, H, W] in voxels: the training patch size. */
  readonly patchSize: Shape3;
}

function isTriple(value: unknown): value is [number, number, number] {
  return Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === "number" && v > 0);
}

/** Reads and checks `modelDir/preprocess.json`. */
export async function readModelPreprocessing(modelDir: string): Promise<ModelPreprocessing> {
  const file = path.join(modelDir, "preprocess.json");
  let parsed: { targetSpacing?: unknown; patchSize?: unknown };
  try {
    parsed = JSON.parse(await fs.readFile(file, "utf8")) as typeof parsed;
  } catch (error) {
    throw new Error(
      `cannot read ${file} (${(error as Error).message}); a model folder needs preprocess.json ` +
        '{ "targetSpacing": [dx, dy, dz] or null, "patchSize": [D, H, W] } written by training',
      { cause: error },
    );
  }
  const { targetSpacing = null, patchSize } = parsed;
  if (targetSpacing !== null && !isTriple(targetSpacing)) {
    throw new Error(`${file}: targetSpacing is ${JSON.stringify(targetSpacing)}; give three positive mm values or null`);
  }
  if (!isTriple(patchSize) || !patchSize.every(Number.isInteger)) {
    throw new Error(`${file}: patchSize is ${JSON.stringify(patchSize)}; give the training patch size as [D, H, W] voxels`);
  }
  return { targetSpacing, patchSize };
}

export interface SegmentCaseOptions {
  readonly mirror?: boolean;
  readonly onProgress?: (fraction: number) => void;
}

/**
 * Segments the case in `caseDir`, which needs no segmentation. The case is preprocessed as the
 * model was trained and predicted with a Gaussian sliding window. The labels are restored to the
 * scan's grid (uncrop, resample back) and written to `outFile` (.nii.gz) with the first image's
 * geometry.
 */
export async function segmentCase(
  modelDir: string,
  caseDir: string,
  outFile: string,
  options: SegmentCaseOptions = {},
): Promise<void> {
  const settings = await readModelPreprocessing(modelDir);
  const files = await caseFiles(caseDir);
  if (files === undefined) {
    throw new Error(`no case images found in ${caseDir}; expected BraTS 2023 -t1n/-t1c/-t2w/-t2f or BraTS 2018 _t1/_t1ce/_t2/_flair .nii.gz files`);
  }
  const loaded = await loadCase(files, { requireSeg: false });
  const preprocessed = preprocessCase(loaded, { targetSpacing: settings.targetSpacing });

  const net = await loadNetwork(modelDir);
  try {
    if (net.config.inChannels !== preprocessed.modalities.length) {
      throw new Error(
        `the model in ${modelDir} takes ${net.config.inChannels} channels but case ${loaded.id} has ` +
          `${preprocessed.modalities.length} modalities`,
      );
    }
    const { labels } = await predictVolume(net, preprocessed.image, preprocessed.shape, {
      patchSize: settings.patchSize,
      mirror: options.mirror ?? false,
      onProgress: options.onProgress,
    });
    const restored = restoreLabels(labels, preprocessed.meta);
    await fs.mkdir(path.dirname(path.resolve(outFile)), { recursive: true });
    await writeNifti(outFile, restored, loaded.images[0]!.geometry);
  } finally {
    net.dispose();
  }
}
