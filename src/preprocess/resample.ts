/**
 * Resampling of row-major volumes between grids that cover the same field of view.
 *
 * Layout: [D, H, W, C], channels last (C = 1 for a plain [D, H, W] volume). Both grids cover the
 * same extent, with voxel centres aligned as in nnU-Net's resize to a new shape. On an axis of
 * n → n' voxels, output index o reads the input at position (o + 0.5)·n/n' − 0.5, clamped to
 * [0, n − 1], as PyTorch's interpolate does with align_corners=False. The output spacing is
 * the input spacing times n/n'. Resampling to the same shape returns an exact copy.
 */
import type { Shape3 } from "./crop.js";

/**
 * Computes the grid size after resampling from `spacing` to `targetSpacing` (both [dx, dy, dz]
 * in mm): [D, H, W] scaled by [dz/dz', dy/dy', dx/dx'] and rounded, at least 1 voxel per axis.
 */
export function resampledShape(
  shape: Shape3,
  spacing: readonly [number, number, number],
  targetSpacing: readonly [number, number, number],
): [number, number, number] {
  for (const s of [...spacing, ...targetSpacing]) {
    if (!(Number.isFinite(s) && s > 0)) {
      throw new RangeError(
        `spacing ${JSON.stringify(spacing)} → ${JSON.stringify(targetSpacing)} has a value that is not a positive size in mm`,
      );
    }
  }
  return [
    Math.max(1, Math.round((shape[0] * spacing[2]) / targetSpacing[2])),
    Math.max(1, Math.round((shape[1] * spacing[1]) / targetSpacing[1])),
    Math.max(1, Math.round((shape[2] * spacing[0]) / targetSpacing[0])),
  ];
}

/** Input position read by output index o when an axis goes from n to nOut voxels, clamped. */
function sourcePosition(o: number, n: number, nOut: number): number {
  const position = ((o + 0.5) * n) / nOut - 0.5;
  return Math.min(n - 1, Math.max(0, position));
}

function checkLength(data: ArrayLike<number>, shape: Shape3, channels: number): void {
  const expected = shape[0] * shape[1] * shape[2] * channels;
  if (data.length !== expected) {
    throw new RangeError(
      `volume has ${data.length} values but shape ${shape.join("x")} with ${channels} channel(s) needs ${expected}`,
    );
  }
}

/**
 * Linear interpolation along the middle axis of an [outer, n, inner] array, giving
 * [outer, nOut, inner].
 */
function linearPass(src: Float32Array, outer: number, n: number, inner: number, nOut: number): Float32Array {
  const out = new Float32Array(outer * nOut * inner);
  const lower = new Int32Array(nOut);
  const upper = new Int32Array(nOut);
  const weight = new Float32Array(nOut);
  for (let o = 0; o < nOut; o++) {
    const position = sourcePosition(o, n, nOut);
    lower[o] = Math.floor(position);
    upper[o] = Math.min(lower[o]! + 1, n - 1);
    weight[o] = position - lower[o]!;
  }

  for (let a = 0; a < outer; a++) {
    const srcBase = a * n * inner;
    const outBase = a * nOut * inner;
    for (let o = 0; o < nOut; o++) {
      const w = weight[o]!;
      const lo = srcBase + lower[o]! * inner;
      const hi = srcBase + upper[o]! * inner;
      const to = outBase + o * inner;
      for (let b = 0; b < inner; b++) {
        const vLo = src[lo + b]!;
        out[to + b] = vLo + w * (src[hi + b]! - vLo);
      }
    }
  }
  return out;
}

/**
 * Trilinear resampling of `data` ([D, H, W, C], channels last) to `newShape` [D', H', W'],
 * giving [D', H', W', C]. Trilinear interpolation is separable, so it runs as three linear
 * passes (x, then y, then z), each skipped when that axis keeps its size.
 */
export function resampleLinear(data: Float32Array, shape: Shape3, newShape: Shape3, channels = 1): Float32Array {
  checkLength(data, shape, channels);
  const [nz, ny, nx] = shape;
  const [mz, my, mx] = newShape;

  let current = data;
  if (mx !== nx) current = linearPass(current, nz * ny, nx, channels, mx);
  if (my !== ny) current = linearPass(current, nz, ny, mx * channels, my);
  if (mz !== nz) current = linearPass(current, 1, nz, my * mx * channels, mz);
  return current === data ? data.slice() : current;
}

/** For each output index, the input index nearest to the position it reads (ties round up). */
function nearestIndices(n: number, nOut: number): Int32Array {
  const indices = new Int32Array(nOut);
  for (let o = 0; o < nOut; o++) indices[o] = Math.min(n - 1, Math.round(sourcePosition(o, n, nOut)));
  return indices;
}

/**
 * Nearest-neighbour resampling of `data` ([D, H, W, C], channels last) to `newShape`, giving
 * [D', H', W', C] of the same array type. Every output value is one of the input values, so a
 * label map keeps its label set (minus labels too small to be sampled when shrinking).
 */
export function resampleNearest<T extends Uint8Array | Float32Array>(
  data: T,
  shape: Shape3,
  newShape: Shape3,
  channels = 1,
): T {
  checkLength(data, shape, channels);
  const [, ny, nx] = shape;
  const [mz, my, mx] = newShape;
  const iz = nearestIndices(shape[0], mz);
  const iy = nearestIndices(ny, my);
  const ix = nearestIndices(nx, mx);

  const out = new (data.constructor as new (n: number) => T)(mz * my * mx * channels);
  let to = 0;
  for (let z = 0; z < mz; z++) {
    for (let y = 0; y < my; y++) {
      const row = (iz[z]! * ny + iy[y]!) * nx;
      if (channels === 1) {
        for (let x = 0; x < mx; x++) out[to++] = data[row + ix[x]!]!;
      } else {
        for (let x = 0; x < mx; x++) {
          const from = (row + ix[x]!) * channels;
          for (let c = 0; c < channels; c++) out[to++] = data[from + c]!;
        }
      }
    }
  }
  return out;
}
