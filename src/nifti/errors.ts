/**
 * Errors thrown by the NIfTI reader and writer. Each kind is its own class with a `_tag` and
 * the offending file and value, so callers can tell them apart. The message states what to do,
 * and the CLI prints it and exits with 2, as for any UsageError.
 */
import { UsageError } from "../cli/command.js";

/** The file is not a single-file NIfTI-1 or NIfTI-2 image (bad size field or magic). */
export class NiftiFormatError extends UsageError {
  readonly _tag = "NiftiFormatError";
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file} is not a NIfTI image: ${detail}; give a .nii or .nii.gz file in NIfTI-1 or NIfTI-2 format`);
  }
}

/** The file ends before its header or voxel data does, or its gzip stream is cut short. */
export class NiftiTruncatedError extends UsageError {
  readonly _tag = "NiftiTruncatedError";
  constructor(
    readonly file: string,
    readonly expectedBytes: number | undefined,
    readonly actualBytes: number | undefined,
    detail?: string,
  ) {
    const sizes =
      expectedBytes === undefined
        ? (detail ?? "the compressed stream ends early")
        : `it needs ${expectedBytes} bytes of header and voxel data but holds ${actualBytes}`;
    super(`${file} is truncated: ${sizes}; copy or download the file again`);
  }
}

/** The datatype code is not one fancl reads (complex, RGB, 64-bit integer, float128...). */
export class NiftiDatatypeError extends UsageError {
  readonly _tag = "NiftiDatatypeError";
  constructor(
    readonly file: string,
    readonly datatypeCode: number,
  ) {
    super(
      `${file} has NIfTI datatype code ${datatypeCode}, which fancl does not read; ` +
        "convert it to uint8, int8, int16, uint16, int32, uint32, float32 or float64",
    );
  }
}

/** A 3-D volume was expected but the file has more than three non-singleton axes. */
export class NiftiShapeError extends UsageError {
  readonly _tag = "NiftiShapeError";
  constructor(
    readonly file: string,
    readonly shape: readonly number[],
  ) {
    super(
      `${file} has shape ${shape.join("x")}, more than three axes longer than 1, where a 3-D volume ` +
        "is expected; split the series into 3-D files",
    );
  }
}

/** A label map contains a value that is not an integer in 0..255 (or is NaN). */
export class NiftiLabelValueError extends UsageError {
  readonly _tag = "NiftiLabelValueError";
  constructor(
    readonly file: string,
    readonly value: number,
    readonly voxelIndex: number,
  ) {
    super(
      `${file} is read as a label map but voxel ${voxelIndex} has value ${value}; ` +
        "a segmentation must hold whole numbers from 0 to 255",
    );
  }
}

/** The data given to the writer does not fit the geometry or cannot be stored. */
export class NiftiWriteError extends UsageError {
  readonly _tag = "NiftiWriteError";
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`cannot write ${file}: ${detail}`);
  }
}

/** The file cannot be opened or read (missing, a folder, no permission). */
export class NiftiFileError extends UsageError {
  readonly _tag = "NiftiFileError";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`cannot read ${file}: ${reason}; check the path`);
  }
}
