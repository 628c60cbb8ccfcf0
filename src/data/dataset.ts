/**
 * Dataset discovery and case loading for the two BraTS layouts:
 *
 * - BraTS(-METS) 2023: `<case>/<case>-{t1n,t1c,t2w,t2f,seg}.nii.gz`
 * - BraTS 2018–2021: `<case>/<case>_{t1,t1ce,t2,flair,seg}.nii.gz`
 *
 * Images are always in the order t1n, t1c, t2w, t2f (legacy t1 → t1n, t1ce → t1c, t2 → t2w,
 * flair → t2f). Other files in a case folder (e.g. `<case>_prediction.nii.gz`) are ignored.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";

import { defaultGridTolerance, gridDifference } from "../nifti/geometry.js";
import { readLabelVolume, readVolume } from "../nifti/read.js";
import type { LabelVolume, Volume } from "../nifti/types.js";
import {
  CaseLayoutError,
  DatasetRootError,
  GridMismatchError,
  MissingModalityError,
  MissingSegmentationError,
  NonFiniteVoxelError,
} from "./errors.js";
import { normaliseLabels } from "./labels.js";

export type DatasetLayout = "brats2023" | "legacy";

/** The order in which a case's images are read and stacked as channels. */
export const modalityOrder = ["t1n", "t1c", "t2w", "t2f"] as const;

/** The files of one case, found by `discoverCases`. */
export interface CaseFiles {
  /** The case folder's name. */
  readonly id: string;
  readonly folder: string;
  readonly layout: DatasetLayout;
  /** The recorded channel order (always `modalityOrder`). */
  readonly modalities: readonly string[];
  /** Absolute paths, one per entry of `modalities`. */
  readonly images: readonly string[];
  readonly seg?: string;
}

/** A validated case: images on one grid with finite values, labels in {0, 1, 2, 3}. */
export interface LoadedCase {
  readonly id: string;
  readonly modalities: readonly string[];
  /** One volume per modality, in `modalities` order, all on one grid. */
  readonly images: Volume[];
  /** The segmentation with 2023 labels (legacy 4 already mapped to 3). */
  readonly seg?: LabelVolume;
  /** Conversions made while loading (e.g. legacy label mapping). */
  readonly notices: string[];
}

/** File-name suffix of each modality (and "seg") in each layout. */
const suffixes: Record<DatasetLayout, Record<(typeof modalityOrder)[number] | "seg", string>> = {
  brats2023: { t1n: "-t1n", t1c: "-t1c", t2w: "-t2w", t2f: "-t2f", seg: "-seg" },
  legacy: { t1n: "_t1", t1c: "_t1ce", t2w: "_t2", t2f: "_flair", seg: "_seg" },
};

const niftiExtension = /\.nii(\.gz)?$/;

/**
 * Finds the case folders directly under `root`, sorted by id. A folder with no file of either
 * layout is not a case and is skipped. A folder with some is a case, so it must be complete
 * (else MissingModalityError) and unambiguous (else CaseLayoutError). The segmentation is
 * optional.
 */
export async function discoverCases(root: string): Promise<CaseFiles[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new DatasetRootError(root, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }

  const cases: CaseFiles[] = [];
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const id of folders) {
    const found = await caseFiles(path.resolve(root, id), id);
    if (found !== undefined) cases.push(found);
  }
  if (cases.length === 0) {
    throw new DatasetRootError(root, "no case folder found");
  }
  return cases;
}

/** Lists the files of one case folder, or returns undefined when it has no file of either layout. */
export async function caseFiles(folder: string, id = path.basename(folder)): Promise<CaseFiles | undefined> {
  const names = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  const matches = {
    brats2023: matchLayout(names, "brats2023"),
    legacy: matchLayout(names, "legacy"),
  };
  const used = (Object.keys(matches) as DatasetLayout[]).filter((layout) => matches[layout].size > 0);
  if (used.length === 0) return undefined;
  if (used.length > 1) {
    throw new CaseLayoutError(
      id,
      folder,
      "it mixes BraTS 2023 names (-t1n, -seg, ...) with BraTS 2018-2021 names (_t1, _seg, ...); keep one layout per case",
    );
  }

  const layout = used[0]!;
  const byRole = matches[layout];
  for (const [role, files] of byRole) {
    if (files.length > 1) {
      throw new CaseLayoutError(id, folder, `it contains ${files.length} ${role} files (${files.join(", ")}); keep one`);
    }
  }
  // The expected name of a missing file uses the prefix of the files that are there (which may
  // differ from the folder's name) and their extension.
  const [knownRole, knownFiles] = [...byRole][0]!;
  const knownStem = knownFiles[0]!.replace(niftiExtension, "");
  const prefix = knownStem.slice(0, knownStem.length - suffixes[layout][knownRole as keyof (typeof suffixes)[DatasetLayout]].length);
  const extension = knownFiles[0]!.match(niftiExtension)![0];
  const images = modalityOrder.map((modality) => {
    const file = byRole.get(modality)?.[0];
    if (file === undefined) {
      throw new MissingModalityError(id, folder, modality, `${prefix}${suffixes[layout][modality]}${extension}`);
    }
    return path.join(folder, file);
  });
  const seg = byRole.get("seg")?.[0];
  return {
    id,
    folder,
    layout,
    modalities: [...modalityOrder],
    images,
    ...(seg === undefined ? {} : { seg: path.join(folder, seg) }),
  };
}

/**
 * Reads and validates a case: its images (one after the other, to bound memory) and, when
 * present, its segmentation. All files must share the first image's grid: the same shape, and
 * affines within `defaultGridTolerance`. Images must be finite. Labels must be 2023 labels
 * once legacy 4 is mapped to 3, which is recorded in `notices`. With `requireSeg`, a case
 * without a segmentation is a MissingSegmentationError.
 */
export async function loadCase(files: CaseFiles, options: { readonly requireSeg: boolean }): Promise<LoadedCase> {
  if (options.requireSeg && files.seg === undefined) {
    throw new MissingSegmentationError(files.id, files.folder);
  }

  // One file at a time: only one decompressed file is alive besides the decoded volumes.
  const images: Volume[] = [];
  for (const file of files.images) images.push(await readVolume(file));
  const seg = files.seg === undefined ? undefined : await readLabelVolume(files.seg);

  const reference = images[0]!;
  for (const volume of [...images.slice(1), ...(seg === undefined ? [] : [seg])]) {
    const difference = gridDifference(reference.geometry, volume.geometry, defaultGridTolerance);
    if (difference !== undefined) {
      throw new GridMismatchError(files.id, volume.path, reference.path, difference);
    }
  }
  for (const volume of images) checkFinite(volume, files.id);

  const normalised = seg === undefined ? undefined : normaliseLabels(seg, files.id);
  return {
    id: files.id,
    modalities: files.modalities,
    images,
    ...(normalised === undefined ? {} : { seg: normalised.labels }),
    notices: [...(normalised?.notices ?? [])],
  };
}

function matchLayout(names: readonly string[], layout: DatasetLayout): Map<string, string[]> {
  const byRole = new Map<string, string[]>();
  for (const name of names) {
    if (!niftiExtension.test(name)) continue;
    const stem = name.replace(niftiExtension, "");
    for (const [role, suffix] of Object.entries(suffixes[layout])) {
      if (stem.endsWith(suffix) && stem.length > suffix.length) {
        byRole.set(role, [...(byRole.get(role) ?? []), name]);
      }
    }
  }
  return byRole;
}

/** Float files may hold NaN or ±Infinity; integer files cannot (the reader guarantees it). */
function checkFinite(volume: Volume, caseId: string): void {
  if (volume.datatype !== "float32" && volume.datatype !== "float64") return;
  const data = volume.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // v - v is 0 for finite numbers and NaN for NaN and ±Infinity.
    if (v - v !== 0) throw new NonFiniteVoxelError(caseId, volume.path, v, i);
  }
}
