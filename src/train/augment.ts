/**
 * Data augmentation of training patches, after nnU-Net's defaults: mirroring of each spatial axis
 * with probability 0.5 (image and label maps alike), multiplicative brightness per channel,
 * additive Gaussian noise and, optionally, a gamma curve that keeps each channel's mean and sd.
 * Works in place on a PatchBatch (channels-last [B, pd, ph, pw, M]); all randomness comes from
 * the caller's seeded generator, drawn in a fixed order.
 */
import type { Random } from "./random.js";
import type { PatchBatch } from "./types.js";

export interface AugmentConfig {
  /** Flip each of the three axes with probability 0.5. */
  readonly mirror: boolean;
  /** Multiply a channel by a factor drawn uniformly from `range`, per sample with `probability`. */
  readonly brightness: { readonly probability: number; readonly range: readonly [number, number] } | null;
  /** Add N(0, σ²) noise, σ² drawn uniformly from `variance`, per sample with `probability`. */
  readonly noise: { readonly probability: number; readonly variance: readonly [number, number] } | null;
  /** x ↦ x^γ on the channel rescaled to [0, 1], γ uniform in `range`, mean and sd restored. */
  readonly gamma: { readonly probability: number; readonly range: readonly [number, number] } | null;
}

/** nnU-Net's probabilities and ranges. */
export const defaultAugment: AugmentConfig = {
  mirror: true,
  brightness: { probability: 0.15, range: [0.75, 1.25] },
  noise: { probability: 0.1, variance: [0, 0.1] },
  gamma: { probability: 0.3, range: [0.7, 1.5] },
};

/** No augmentation at all. */
export const noAugment: AugmentConfig = { mirror: false, brightness: null, noise: null, gamma: null };

/** Reverses axis `axis` (0 = D, 1 = H, 2 = W) of a [pd, ph, pw, C] block at `offset` in place. */
export function flipAxis<T extends Float32Array | Uint8Array>(
  data: T,
  offset: number,
  size: readonly [number, number, number],
  channels: number,
  axis: 0 | 1 | 2,
): void {
  const [d, h, w] = size;
  const strides = [h * w * channels, w * channels, channels];
  const extent = size[axis];
  const stride = strides[axis]!;
  // Blocks before the axis (outer) and the contiguous run after it (inner).
  const outerCounts = [1, d, d * h];
  const outerStrides = [0, strides[0]!, strides[1]!];
  const outer = outerCounts[axis]!;
  const outerStride = outerStrides[axis]!;
  const inner = stride;

  for (let o = 0; o < outer; o++) {
    const base = offset + o * outerStride;
    for (let i = 0, j = extent - 1; i < j; i++, j--) {
      const a = base + i * stride;
      const b = base + j * stride;
      for (let k = 0; k < inner; k++) {
        const t = data[a + k]!;
        data[a + k] = data[b + k]!;
        data[b + k] = t;
      }
    }
  }
}

function channelStats(image: Float32Array, offset: number, voxels: number, channels: number, c: number) {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let v = 0; v < voxels; v++) {
    const x = image[offset + v * channels + c]!;
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / voxels;
  let sq = 0;
  for (let v = 0; v < voxels; v++) sq += (image[offset + v * channels + c]! - mean) ** 2;
  return { mean, sd: Math.sqrt(sq / voxels), min, max };
}

function applyGamma(image: Float32Array, offset: number, voxels: number, channels: number, c: number, gamma: number) {
  const { mean, sd, min, max } = channelStats(image, offset, voxels, channels, c);
  const range = max - min;
  if (range <= 0) return;

  for (let v = 0; v < voxels; v++) {
    const i = offset + v * channels + c;
    image[i] = ((image[i]! - min) / range) ** gamma * range + min;
  }

  // Restore the channel's mean and sd, as nnU-Net's gamma transform does.
  const after = channelStats(image, offset, voxels, channels, c);
  const scale = after.sd > 0 ? sd / after.sd : 1;
  for (let v = 0; v < voxels; v++) {
    const i = offset + v * channels + c;
    image[i] = (image[i]! - after.mean) * scale + mean;
  }
}

/** Augments every sample of `batch` in place. */
export function augmentBatch(batch: PatchBatch, config: AugmentConfig, rng: Random): void {
  const { batchSize, patchSize, channels } = batch;
  const voxels = patchSize[0] * patchSize[1] * patchSize[2];

  for (let b = 0; b < batchSize; b++) {
    const imageOffset = b * voxels * channels;
    const labelOffset = b * voxels;

    if (config.mirror) {
      for (const axis of [0, 1, 2] as const) {
        if (!rng.bernoulli(0.5)) continue;
        flipAxis(batch.image, imageOffset, patchSize, channels, axis);
        flipAxis(batch.label, labelOffset, patchSize, 1, axis);
        if (batch.curriculum !== undefined) flipAxis(batch.curriculum, labelOffset, patchSize, 1, axis);
      }
    }

    if (config.brightness !== null && rng.bernoulli(config.brightness.probability)) {
      const [low, high] = config.brightness.range;
      for (let c = 0; c < channels; c++) {
        const factor = rng.uniform(low, high);
        for (let v = 0; v < voxels; v++) batch.image[imageOffset + v * channels + c]! *= factor;
      }
    }

    if (config.noise !== null && rng.bernoulli(config.noise.probability)) {
      const sigma = Math.sqrt(rng.uniform(config.noise.variance[0], config.noise.variance[1]));
      for (let i = 0; i < voxels * channels; i++) batch.image[imageOffset + i]! += sigma * rng.normal();
    }

    if (config.gamma !== null && rng.bernoulli(config.gamma.probability)) {
      for (let c = 0; c < channels; c++) {
        const gamma = rng.uniform(config.gamma.range[0], config.gamma.range[1]);
        applyGamma(batch.image, imageOffset, voxels, channels, c, gamma);
      }
    }
  }
}
