/**
 * Errors found while discovering and validating dataset cases. Each kind is its own class with
 * a `_tag` and the case, file and value at fault, and the message states what to do. They
 * extend UsageError, so the CLI prints the message and exits with 2.
 */
import { UsageError } from "../cli/command.js";

/** The dataset root is missing, not a folder, or contains no case folder. */
export class DatasetRootError extends UsageError {
  readonly _tag = "DatasetRootError";
  constructor(
    readonly root: string,
    detail: string,
  ) {
    super(
      `dataset folder ${root}: ${detail}; it must hold one folder per case with BraTS 2023 ` +
        "(<case>-t1n.nii.gz ...) or BraTS 2018-2021 (<case>_t1.nii.gz ...) files",
    );
  }
}

/** A case folder mixes layouts or contains two files for one modality. */
export class CaseLayoutError extends UsageError {
  readonly _tag = "CaseLayoutError";
  constructor(
    readonly caseId: string,
    readonly folder: string,
    detail: string,
  ) {
    super(`case ${caseId} (${folder}): ${detail}`);
  }
}

/** A case folder lacks one of the four modality files. */
export class MissingModalityError extends UsageError {
  readonly _tag = "MissingModalityError";
  constructor(
    readonly caseId: string,
    readonly folder: string,
    readonly modality: string,
    readonly expectedFile: string,
  ) {
    super(
      `case ${caseId} has no ${modality} image: ${expectedFile} is missing in ${folder}; ` +
        "every case needs all four modalities; add the file or remove the case folder",
    );
  }
}

/** Training needs a segmentation and the case has none. */
export class MissingSegmentationError extends UsageError {
  readonly _tag = "MissingSegmentationError";
  constructor(
    readonly caseId: string,
    readonly folder: string,
  ) {
    super(
      `case ${caseId} has no segmentation file in ${folder}; training and evaluation need one ` +
        "(a case without it can only be used for prediction)",
    );
  }
}

/** A file of a case is not on the grid of the case's first modality. */
export class GridMismatchError extends UsageError {
  readonly _tag = "GridMismatchError";
  constructor(
    readonly caseId: string,
    readonly file: string,
    readonly referenceFile: string,
    readonly difference: string,
  ) {
    super(
      `case ${caseId}: ${file} is not on the grid of ${referenceFile} (${difference}); all modalities ` +
        "and the segmentation of a case must share one grid; resample the file onto the others",
    );
  }
}

/** An image contains NaN or ±Infinity. */
export class NonFiniteVoxelError extends UsageError {
  readonly _tag = "NonFiniteVoxelError";
  constructor(
    readonly caseId: string,
    readonly file: string,
    readonly value: number,
    readonly voxelIndex: number,
  ) {
    super(
      `case ${caseId}: ${file} has value ${value} at voxel ${voxelIndex}; images must hold finite ` +
        "numbers; replace NaN and infinite voxels (for example with 0) and run again",
    );
  }
}

/** A segmentation contains a label outside {0, 1, 2, 3} (after the legacy 4 → 3 mapping). */
export class InvalidLabelError extends UsageError {
  readonly _tag = "InvalidLabelError";
  constructor(
    readonly caseId: string,
    readonly file: string,
    readonly value: number,
    readonly voxelCount: number,
  ) {
    super(
      `case ${caseId}: ${file} has label ${value} in ${voxelCount} voxels; segmentations may only hold ` +
        "0 (background), 1 (NETC), 2 (SNFH) and 3 (ET), or legacy 4 for ET; fix the label map",
    );
  }
}

/** A segmentation contains both 3 and 4, so neither convention applies. */
export class MixedLabelConventionError extends UsageError {
  readonly _tag = "MixedLabelConventionError";
  constructor(
    readonly caseId: string,
    readonly file: string,
  ) {
    super(
      `case ${caseId}: ${file} holds both label 3 and label 4; BraTS 2023 uses 3 for enhancing tumour ` +
        "and older BraTS uses 4, never both; relabel the map to one convention",
    );
  }
}

/** Bad arguments to the k-fold split. */
export class SplitError extends UsageError {
  readonly _tag = "SplitError";
}
