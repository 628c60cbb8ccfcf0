/**
 * Reading NIfTI files (.nii and .nii.gz) into images, 3-D volumes and label maps.
 *
 * Voxel order is the file's (x fastest), read as row-major [nz, ny, nx] for 3-D volumes. gzip
 * is inflated on libuv's thread pool (the event loop stays free) into one buffer sized from the
 * gzip trailer.
 */
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";

import { NiftiFileError, NiftiFormatError, NiftiShapeError, NiftiTruncatedError } from "./errors.js";
import { parseHeader, type NiftiHeader } from "./header.js";
import { labelVoxels, rawVoxels, scaledVoxels } from "./decode.js";
import type { LabelVolume, NiftiImage, Volume } from "./types.js";

const gunzipAsync = promisify(gunzip);

/** Smallest and largest inflate output chunk (zlib's default is 16 KiB). */
const minChunkBytes = 64 << 10;
const maxChunkBytes = 1 << 30;

/**
 * Output chunk size for gunzipping `stored`: the gzip trailer's ISIZE (uncompressed size mod
 * 2^32) plus some slack, so a single-member file inflates into one buffer with no final
 * concatenation copy. A wrong ISIZE (several members, > 4 GiB) only costs extra chunks.
 */
function inflateChunkBytes(stored: Buffer): number {
  const isize = stored.length >= 18 ? stored.readUInt32LE(stored.length - 4) : 0;
  return Math.min(Math.max(isize + 1024, minChunkBytes), maxChunkBytes);
}

/**
 * Reads any NIfTI image: header facts and the scaled voxel values of every axis. `data` is a
 * Float64Array for float64 files, else a Float32Array.
 */
export async function readNifti(path: string): Promise<NiftiImage> {
  const { bytes, header } = await readHeaderAndBytes(path);
  const raw = rawVoxels(bytes, header, path);
  const data = header.datatype === "float64" ? scaledVoxels(raw, header, Float64Array, path) : scaledVoxels(raw, header, Float32Array, path);
  return {
    path,
    niftiVersion: header.niftiVersion,
    shape: header.shape,
    pixdim: header.pixdim,
    datatype: header.datatype,
    datatypeCode: header.datatypeCode,
    byteOrder: header.byteOrder,
    sclSlope: header.sclSlope,
    sclInter: header.sclInter,
    description: header.description,
    extensions: header.extensions,
    geometry: header.geometry,
    data,
  };
}

/**
 * Reads a 3-D scalar volume as float32, values scaled. A file with trailing axes of size 1
 * (e.g. 240x240x155x1) is 3-D; more than three axes longer than 1 is a NiftiShapeError.
 */
export async function readVolume(path: string): Promise<Volume> {
  const { bytes, header } = await readHeaderAndBytes(path);
  checkThreeDimensional(header, path);
  const raw = rawVoxels(bytes, header, path);
  return { path, geometry: header.geometry, data: scaledVoxels(raw, header, Float32Array, path), datatype: header.datatype };
}

/**
 * Reads a 3-D label map as uint8. Values (after scaling) must be integers in 0..255, whatever
 * the stored datatype, so a float segmentation with whole values is fine. Labels are not
 * remapped here: legacy label 4 stays 4 (src/data/labels.ts maps it).
 */
export async function readLabelVolume(path: string): Promise<LabelVolume> {
  const { bytes, header } = await readHeaderAndBytes(path);
  checkThreeDimensional(header, path);
  const raw = rawVoxels(bytes, header, path);
  return { path, geometry: header.geometry, data: labelVoxels(raw, header, path) };
}

/** Reads the whole file, decompressed, and parses its header. */
export async function readHeaderAndBytes(path: string): Promise<{ bytes: Uint8Array; header: NiftiHeader }> {
  const bytes = await readDecompressed(path);
  return { bytes, header: parseHeader(bytes, path) };
}

/** Reads the file's bytes and gunzips them when they start with the gzip magic (1f 8b). */
async function readDecompressed(path: string): Promise<Uint8Array> {
  let stored: Buffer;
  try {
    stored = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (error as Error).message;
    throw new NiftiFileError(path, reason);
  }
  if (stored.length < 2 || stored[0] !== 0x1f || stored[1] !== 0x8b) {
    return stored;
  }
  try {
    return await gunzipAsync(stored, { chunkSize: inflateChunkBytes(stored) });
  } catch (error) {
    const message = (error as Error).message;
    if ((error as NodeJS.ErrnoException).code === "Z_BUF_ERROR" || /unexpected end/i.test(message)) {
      throw new NiftiTruncatedError(path, undefined, undefined, `its gzip stream ends early (${message})`);
    }
    throw new NiftiFormatError(path, `its gzip stream is corrupt (${message})`);
  }
}

function checkThreeDimensional(header: NiftiHeader, path: string): void {
  if (header.shape.slice(3).some((n) => n !== 1)) {
    throw new NiftiShapeError(path, header.shape);
  }
}
