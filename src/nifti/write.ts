/**
 * Writing a 3-D image or label map as NIfTI-1 (little-endian, no extensions) on the grid of a
 * reference image. Dims, pixdim, qform, sform, their codes, qfac and units are copied from the
 * Geometry, so ITK-SNAP, 3D Slicer and nibabel overlay the result exactly on the reference.
 */
import { rename, rm, writeFile } from "node:fs/promises";
import { endianness } from "node:os";
import { promisify } from "node:util";
import { gzip } from "node:zlib";

import { NiftiWriteError } from "./errors.js";
import { datatypeCodes } from "./header.js";
import type { Geometry, NiftiDatatype } from "./types.js";

const gzipAsync = promisify(gzip);

/** Header (348 bytes) plus the 4-byte extension flag; the voxels start right after. */
const voxOffset = 352;

export interface WriteOptions {
  /** gzip level 1 (fastest) to 9 (smallest); default 6. Ignored for `.nii`. */
  readonly level?: number;
  /** Up to 79 ASCII characters for the header's descrip field; default "fancl". */
  readonly description?: string;
}

/**
 * Writes `data` (row-major [nz, ny, nx], x fastest, length nx·ny·nz) to `path` with the
 * datatype of the array: Float32Array → float32, Uint8Array → uint8, Int16Array → int16.
 * `path` ending in `.nii.gz` is gzipped, `.nii` is not. The file appears complete or not at
 * all (written beside it, then renamed).
 */
export async function writeNifti(
  path: string,
  data: Float32Array | Uint8Array | Int16Array,
  geometry: Geometry,
  options: WriteOptions = {},
): Promise<void> {
  const compressed = path.endsWith(".nii.gz");
  if (!compressed && !path.endsWith(".nii")) {
    throw new NiftiWriteError(path, "the name must end in .nii.gz or .nii");
  }
  const [nx, ny, nz] = geometry.dims;
  if (nx * ny * nz !== data.length) {
    throw new NiftiWriteError(
      path,
      `the data holds ${data.length} values but the geometry is ${nx}x${ny}x${nz} = ${nx * ny * nz} voxels`,
    );
  }
  if (geometry.dims.some((n) => n > 32767)) {
    throw new NiftiWriteError(path, `dims ${geometry.dims.join("x")} exceed NIfTI-1's limit of 32767 per axis`);
  }

  let datatype: NiftiDatatype = "int16";
  if (data instanceof Float32Array) datatype = "float32";
  if (data instanceof Uint8Array) datatype = "uint8";
  const header = niftiHeader(geometry, datatype, data.BYTES_PER_ELEMENT * 8, options.description ?? "fancl");
  const voxels = littleEndianBytes(data);
  const file = Buffer.concat([header, voxels]);
  const bytes = compressed ? await gzipAsync(file, { level: options.level ?? 6 }) : file;

  const partial = `${path}.partial-${process.pid}`;
  try {
    await writeFile(partial, bytes);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw new NiftiWriteError(path, (error as Error).message);
  }
}

/** Builds the 352 header bytes of a 3-D little-endian NIfTI-1 file on `geometry`'s grid. */
export function niftiHeader(geometry: Geometry, datatype: NiftiDatatype, bitpix: number, description: string): Buffer {
  const header = Buffer.alloc(voxOffset);
  header.writeInt32LE(348, 0);

  const dims = [3, geometry.dims[0], geometry.dims[1], geometry.dims[2], 1, 1, 1, 1];
  dims.forEach((n, i) => header.writeInt16LE(n, 40 + 2 * i));
  header.writeInt16LE(datatypeCodes[datatype], 70);
  header.writeInt16LE(bitpix, 72);

  const pixdim = [geometry.qfac < 0 ? -1 : 1, geometry.spacing[0], geometry.spacing[1], geometry.spacing[2], 1, 1, 1, 1];
  pixdim.forEach((v, i) => header.writeFloatLE(v, 76 + 4 * i));
  header.writeFloatLE(voxOffset, 108);

  // No scaling: stored values are the values.
  header.writeFloatLE(1, 112);
  header.writeFloatLE(0, 116);
  header.writeUInt8(geometry.xyztUnits & 0xff, 123);
  header.write(description.replace(/[^\x20-\x7e]/g, "?").slice(0, 79), 148, "latin1");

  header.writeInt16LE(geometry.qformCode, 252);
  header.writeInt16LE(geometry.sformCode, 254);
  geometry.quatern.forEach((v, i) => header.writeFloatLE(v, 256 + 4 * i));
  geometry.srow.forEach((row, r) => row.forEach((v, c) => header.writeFloatLE(v, 280 + 4 * (4 * r + c))));

  header.write("n+1\0", 344, "latin1");
  return header;
}

/** Returns the array's bytes in little-endian order (a view on little-endian hosts, else a swapped copy). */
function littleEndianBytes(data: Float32Array | Uint8Array | Int16Array): Buffer {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (endianness() === "LE" || data.BYTES_PER_ELEMENT === 1) return view;
  const copy = Buffer.from(view);
  return data.BYTES_PER_ELEMENT === 2 ? copy.swap16() : copy.swap32();
}
