/**
 * Patch sampling with nnU-Net's foreground oversampling.
 *
 * Of each batch, the samples with index ≥ round(B·(1 − oversampleForeground)) are centred on a
 * foreground voxel of G: first a class drawn uniformly among the foreground classes present in the
 * case, then a voxel of that class drawn uniformly. A class of a few voxels (a small enhancing
 * rim) is centred as often as a large one. With the default 0.33 a batch of 2 or more has at least
 * one such sample. The others are placed uniformly. A case smaller than the patch is centred in it and
 * padded with zeros (image and labels). Positions are in voxels, [z, y, x] = [D, H, W] order.
 */
import type { Random } from "./random.js";
import type { PatchBatch, Shape3, TrainingCase } from "./types.js";

/** Flat voxel indices of each foreground class present in G, computed once per label array. */
const foregroundCache = new WeakMap<Uint8Array, readonly Int32Array[]>();

/** Returns one ascending Int32Array of flat indices per label value 1..255 present in `label`; [] for an empty G. */
export function foregroundByClass(label: Uint8Array): readonly Int32Array[] {
  let cached = foregroundCache.get(label);
  if (cached === undefined) {
    const counts = new Int32Array(256);
    for (let v = 0; v < label.length; v++) counts[label[v]!]!++;

    const byLabel: (Int32Array | undefined)[] = [];
    for (let value = 1; value < 256; value++) if (counts[value]! > 0) byLabel[value] = new Int32Array(counts[value]!);
    const filled = new Int32Array(256);
    for (let v = 0; v < label.length; v++) {
      const value = label[v]!;
      if (value !== 0) byLabel[value]![filled[value]!++] = v;
    }

    cached = byLabel.filter((indices): indices is Int32Array => indices !== undefined);
    foregroundCache.set(label, cached);
  }
  return cached;
}

/** Whether sample `index` of a batch of `batchSize` must be centred on foreground. */
export function isForcedForeground(index: number, batchSize: number, oversampleForeground: number): boolean {
  return index >= Math.round(batchSize * (1 - oversampleForeground));
}

/**
 * Returns the lower corner [z, y, x] of a patch in a case of `shape` (may be negative or overhang the
 * upper end, where the patch is padded). Uniform placement keeps the patch inside the case where
 * the case is large enough. A foreground patch is centred on a voxel of a random foreground class
 * (class first, then voxel), or placed uniformly when the case has no foreground.
 */
export function patchStart(
  label: Uint8Array,
  shape: Shape3,
  patchSize: Shape3,
  foreground: boolean,
  rng: Random,
): [number, number, number] {
  const lower: number[] = [];
  const upper: number[] = [];
  for (let a = 0; a < 3; a++) {
    const pad = Math.max(0, patchSize[a]! - shape[a]!);
    lower.push(0 - Math.floor(pad / 2));
    upper.push(shape[a]! + Math.floor(pad / 2) + (pad % 2) - patchSize[a]!);
  }

  const classes = foreground ? foregroundByClass(label) : [];
  if (classes.length === 0) {
    return [0, 1, 2].map((a) => lower[a]! + rng.int(upper[a]! - lower[a]! + 1)) as [number, number, number];
  }

  const voxels = classes[rng.int(classes.length)]!;
  const v = voxels[rng.int(voxels.length)]!;
  const [, h, w] = shape;
  const centre = [Math.floor(v / (h * w)), Math.floor(v / w) % h, v % w];
  return [0, 1, 2].map((a) => Math.max(lower[a]!, centre[a]! - Math.floor(patchSize[a]! / 2))) as [
    number,
    number,
    number,
  ];
}

/**
 * Copies the block at `start` of size `patchSize` from a channels-last volume [D, H, W, C] of
 * `shape` into `out` at element offset `offset`, writing zeros outside the volume.
 */
export function cropInto<T extends Float32Array | Uint8Array>(
  source: T,
  shape: Shape3,
  channels: number,
  start: readonly [number, number, number],
  patchSize: Shape3,
  out: T,
  offset: number,
): void {
  const [d, h, w] = shape;
  const [pd, ph, pw] = patchSize;
  const [z0, y0, x0] = start;

  // Only the x run inside the volume is copied; the rest of `out` stays at its initial zero.
  const xFrom = Math.max(0, -x0);
  const xTo = Math.min(pw, w - x0);
  for (let z = 0; z < pd; z++) {
    const sz = z0 + z;
    if (sz < 0 || sz >= d) continue;
    for (let y = 0; y < ph; y++) {
      const sy = y0 + y;
      if (sy < 0 || sy >= h || xTo <= xFrom) continue;
      const src = ((sz * h + sy) * w + x0 + xFrom) * channels;
      const dst = offset + ((z * ph + y) * pw + xFrom) * channels;
      out.set(source.subarray(src, src + (xTo - xFrom) * channels), dst);
    }
  }
}

export interface SampleBatchOptions {
  readonly batchSize: number;
  readonly patchSize: Shape3;
  readonly oversampleForeground: number;
  /** Index j−1 of the active curriculum mask C_j, or -1 outside curriculum stages. */
  readonly curriculumStage: number;
}

/**
 * Draws a batch: for each sample a case uniformly, then a patch position by the oversampling rule.
 * Returns zero-padded patches of image [B, pd, ph, pw, M], G and, in a curriculum stage, C_j.
 */
export function sampleBatch(cases: readonly TrainingCase[], options: SampleBatchOptions, rng: Random): PatchBatch {
  const { batchSize, patchSize, oversampleForeground, curriculumStage } = options;
  if (cases.length === 0) throw new Error("sampleBatch: no training cases; pass at least one case");
  const channels = cases[0]!.image.length / (cases[0]!.shape[0] * cases[0]!.shape[1] * cases[0]!.shape[2]);
  const voxels = patchSize[0] * patchSize[1] * patchSize[2];

  const image = new Float32Array(batchSize * voxels * channels);
  const label = new Uint8Array(batchSize * voxels);
  const curriculum = curriculumStage >= 0 ? new Uint8Array(batchSize * voxels) : undefined;

  for (let b = 0; b < batchSize; b++) {
    const c = cases[rng.int(cases.length)]!;
    const forced = isForcedForeground(b, batchSize, oversampleForeground);
    const start = patchStart(c.label, c.shape, patchSize, forced, rng);

    cropInto(c.image, c.shape, channels, start, patchSize, image, b * voxels * channels);
    cropInto(c.label, c.shape, 1, start, patchSize, label, b * voxels);
    if (curriculum !== undefined) {
      const mask = c.curricula?.[curriculumStage];
      if (mask === undefined) {
        throw new Error(
          `case ${c.id} has ${c.curricula?.length ?? 0} curriculum masks but stage ${curriculumStage + 1} ` +
            "was asked for; give every case one mask per curriculum stage (curriculumEpochs.length)",
        );
      }
      cropInto(mask, c.shape, 1, start, patchSize, curriculum, b * voxels);
    }
  }
  return { image, label, curriculum, batchSize, patchSize, channels };
}
