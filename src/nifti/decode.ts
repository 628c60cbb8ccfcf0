/**
 * Turns the voxel bytes of a decompressed NIfTI file into typed arrays: raw values in the
 * file's datatype, scaled floats, or uint8 labels. Little-endian data on an aligned offset is
 * viewed in place; misaligned data is copied once; big-endian data is byte-swapped in bulk.
 */
import { NiftiFormatError, NiftiLabelValueError, NiftiTruncatedError } from "./errors.js";
import { hasScaling, type NiftiHeader } from "./header.js";
import type { NiftiDatatype } from "./types.js";

export type RawVoxels =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** Number of voxels of a header's shape (the product of all its dims). */
export function voxelCount(header: Pick<NiftiHeader, "shape">): number {
  return header.shape.reduce((a, b) => a * b, 1);
}

/**
 * Returns the stored voxel values, unscaled, in file order (x fastest). The result may share
 * memory with `bytes`, and big-endian bytes are swapped there in place, so the caller must own
 * `bytes`.
 */
export function rawVoxels(bytes: Uint8Array, header: NiftiHeader, file: string): RawVoxels {
  const count = voxelCount(header);
  const size = header.bytesPerVoxel;
  const needed = header.voxOffset + count * size;
  if (bytes.byteLength < needed) {
    throw new NiftiTruncatedError(file, needed, bytes.byteLength);
  }

  // A typed-array view needs an offset that is a multiple of the element size.
  let source = bytes.subarray(header.voxOffset, needed);
  if ((source.byteOffset % size) !== 0) {
    // A copy into a fresh buffer (Buffer#slice would return a view, still misaligned).
    source = new Uint8Array(source);
  }

  if (header.byteOrder === "big" && size > 1) {
    const swapped = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    if (size === 2) swapped.swap16();
    else if (size === 4) swapped.swap32();
    else swapped.swap64();
  }

  const { buffer, byteOffset } = source;
  switch (header.datatype) {
    case "uint8":
      return new Uint8Array(buffer, byteOffset, count);
    case "int8":
      return new Int8Array(buffer, byteOffset, count);
    case "int16":
      return new Int16Array(buffer, byteOffset, count);
    case "uint16":
      return new Uint16Array(buffer, byteOffset, count);
    case "int32":
      return new Int32Array(buffer, byteOffset, count);
    case "uint32":
      return new Uint32Array(buffer, byteOffset, count);
    case "float32":
      return new Float32Array(buffer, byteOffset, count);
    case "float64":
      return new Float64Array(buffer, byteOffset, count);
  }
}

/** Largest magnitude of each integer datatype. */
const integerMagnitude: Partial<Record<NiftiDatatype, number>> = {
  uint8: 255,
  int8: 128,
  int16: 32768,
  uint16: 65535,
  int32: 2 ** 31,
  uint32: 2 ** 32 - 1,
};

/** Largest finite float32. */
const float32Max = 3.4028234663852886e38;

/**
 * Computes `raw · scl_slope + scl_inter` (when the slope is non-zero) into a new array of the
 * given kind. Each value is computed in double precision and rounded once to the output type.
 * A slope that would push integer data past the float32 range is a NiftiFormatError, so
 * integer files always give finite values and only float files can contain NaN or infinities.
 * Unscaled data already of the output type is returned as is (no copy), so the result may be
 * a view that starts after the header in `raw`'s buffer.
 */
export function scaledVoxels<T extends Float32Array | Float64Array>(
  raw: RawVoxels,
  header: NiftiHeader,
  output: new (length: number) => T,
  file: string,
): T {
  if (!hasScaling(header)) {
    if (raw instanceof output) return raw;
    const out = new output(raw.length);
    out.set(raw);
    return out;
  }
  const out = new output(raw.length);
  const slope = header.sclSlope;
  const inter = Number.isFinite(header.sclInter) ? header.sclInter : 0;
  const magnitude = integerMagnitude[header.datatype];
  if (magnitude !== undefined && magnitude * Math.abs(slope) + Math.abs(inter) >= float32Max) {
    throw new NiftiFormatError(file, `scl_slope ${slope} scales its ${header.datatype} values beyond the float32 range`);
  }
  for (let i = 0; i < raw.length; i++) {
    out[i] = raw[i]! * slope + inter;
  }
  return out;
}

/**
 * Converts the voxel values to uint8 labels. Every scaled value, rounded to float32 as
 * `readVolume` would give it, must be an integer in 0..255, else a NiftiLabelValueError names
 * the first offending voxel. Float files with integral values are accepted.
 */
export function labelVoxels(raw: RawVoxels, header: NiftiHeader, file: string): Uint8Array {
  const out = new Uint8Array(raw.length);
  const scaled = hasScaling(header);
  if (!scaled && raw instanceof Uint8Array) {
    out.set(raw);
    return out;
  }
  const slope = scaled ? header.sclSlope : 1;
  const inter = scaled && Number.isFinite(header.sclInter) ? header.sclInter : 0;
  for (let i = 0; i < raw.length; i++) {
    const value = scaled ? Math.fround(raw[i]! * slope + inter) : raw[i]!;
    // `value & 255` equals value only for the integers 0..255 (not for NaN, fractions or -1).
    const label = value & 255;
    if (label !== value) {
      throw new NiftiLabelValueError(file, value, i);
    }
    out[i] = label;
  }
  return out;
}
