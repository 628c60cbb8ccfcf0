/**
 * Cropping to a bounding box, and its inverse.
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
