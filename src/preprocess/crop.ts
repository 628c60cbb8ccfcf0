/**
 * Cropping to the non-zero bounding box, and its inverse.
 *
 * Volumes are row-major [D, H, W] (x fastest), optionally with C channels last ([D, H, W, C]).
 * Boxes are half-open voxel ranges in array order: z in [start[0], end[0]), y in
 * [start[1], end[1]), x in [start[2], end[2]).
 */

export type Shape3 = readonly [number, number, number];

/** A half-open voxel box, [start, end) per axis, in array order [z, y, x]. */
export interface CropBox {
  readonly start: readonly [number, number, number];
  readonly end: readonly [number, number, number];
}

export function boxShape(box: CropBox): [number, number, number] {
  return [box.end[0] - box.start[0], box.end[1] - box.start[1], box.end[2] - box.start[2]];
}

/**
 * Returns the brain mask of a case: 1 where at least one of `volumes` (each row-major
 * [D, H, W], `voxels` long) is non-zero. An empty list gives an all-zero mask.
 */
export function nonzeroMask(volumes: readonly ArrayLike<number>[], voxels: number): Uint8Array {
  const mask = new Uint8Array(voxels);
  for (const volume of volumes) {
    if (volume.length !== voxels) {
      throw new RangeError(`volume has ${volume.length} voxels but the grid has ${voxels}; all volumes must share one grid`);
    }
    for (let i = 0; i < voxels; i++) {
      if (volume[i] !== 0) mask[i] = 1;
    }
  }
  return mask;
}

/**
 * Returns the smallest box that contains every voxel where `mask` ([D, H, W]) is non-zero.
 * An all-zero mask gives the whole grid, as in nnU-Net, so an empty scan still yields a case.
 */
export function maskBox(mask: Uint8Array, shape: Shape3): CropBox {
  const [nz, ny, nx] = shape;
  let z0 = nz, y0 = ny, x0 = nx;
  let z1 = -1, y1 = -1, x1 = -1;

  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = (z * ny + y) * nx;
      let first = 0;
      while (first < nx && mask[row + first] === 0) first++;
      if (first === nx) continue;
      let last = nx - 1;
      while (mask[row + last] === 0) last--;

      if (z < z0) z0 = z;
      z1 = z;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
    }
  }

  if (z1 < 0) return { start: [0, 0, 0], end: [nz, ny, nx] };
  return { start: [z0, y0, x0], end: [z1 + 1, y1 + 1, x1 + 1] };
}

/**
 * Returns the smallest box that contains every voxel where at least one of `volumes` (each
 * [D, H, W]) is non-zero. All-zero volumes, or none, give the whole grid.
 */
export function nonzeroBox(volumes: readonly ArrayLike<number>[], shape: Shape3): CropBox {
  return maskBox(nonzeroMask(volumes, shape[0] * shape[1] * shape[2]), shape);
}

function checkBox(box: CropBox, shape: Shape3): void {
  for (let axis = 0; axis < 3; axis++) {
    const s = box.start[axis]!;
    const e = box.end[axis]!;
    if (!(Number.isInteger(s) && Number.isInteger(e) && s >= 0 && s < e && e <= shape[axis]!)) {
      throw new RangeError(
        `crop box ${JSON.stringify(box)} does not fit the grid ${shape.join("x")} on axis ${axis}; ` +
          "a box needs 0 <= start < end <= size on every axis",
      );
    }
  }
}

/**
 * Copies `box` out of `data` ([D, H, W, C] with C = `channels`, channels last) into a new array
 * of the same type, shape [d, h, w, C] with [d, h, w] = boxShape(box).
 */
export function cropVolume<T extends Float32Array | Uint8Array>(
  data: T,
  shape: Shape3,
  box: CropBox,
  channels = 1,
): T {
  checkBox(box, shape);
  const [, ny, nx] = shape;
  const [d, h, w] = boxShape(box);
  const out = new (data.constructor as new (n: number) => T)(d * h * w * channels);
  const rowLength = w * channels;
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      const from = (((box.start[0] + z) * ny + box.start[1] + y) * nx + box.start[2]) * channels;
      out.set(data.subarray(from, from + rowLength), (z * h + y) * rowLength);
    }
  }
  return out;
}

/**
 * Puts `cropped` ([d, h, w, C], with [d, h, w] = boxShape(box)) back at `box` inside a grid of
 * `shape`; every voxel outside the box gets `fill` (per channel: `fill[c]`, or one value for all).
 */
export function uncropVolume<T extends Float32Array | Uint8Array>(
  cropped: T,
  shape: Shape3,
  box: CropBox,
  channels = 1,
  fill: number | readonly number[] = 0,
): T {
  checkBox(box, shape);
  const [nz, ny, nx] = shape;
  const [d, h, w] = boxShape(box);
  if (cropped.length !== d * h * w * channels) {
    throw new RangeError(
      `cropped volume has ${cropped.length} values but the box ${d}x${h}x${w} with ${channels} channel(s) needs ${d * h * w * channels}`,
    );
  }
  const out = new (cropped.constructor as new (n: number) => T)(nz * ny * nx * channels);
  if (typeof fill === "number") {
    if (fill !== 0) out.fill(fill);
  } else {
    for (let i = 0; i < out.length; i += channels) {
      for (let c = 0; c < channels; c++) out[i + c] = fill[c]!;
    }
  }
  const rowLength = w * channels;
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      const to = (((box.start[0] + z) * ny + box.start[1] + y) * nx + box.start[2]) * channels;
      out.set(cropped.subarray((z * h + y) * rowLength, (z * h + y + 1) * rowLength), to);
    }
  }
  return out;
}
