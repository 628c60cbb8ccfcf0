/**
 * Helpers shared by the tensor tests: reproducible inputs, and the error measure the comparisons
 * with TensorFlow.js's own ops use.
 */
import { expect } from "vitest";

/**
 * Returns `count` deterministic values in [-1, 1) from a linear congruential generator, each
 * multiplied by `scale` and shifted by `offset`.
 */
export function values(count: number, seed: number, scale = 1, offset = 0): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 31 - 1) * scale + offset;
  }
  return out;
}

/** Returns the largest |actual − expected| divided by the largest |expected|; the lengths must match. */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / scale;
}
