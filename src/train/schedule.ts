/**
 * The training schedule: its settings, nnU-Net's defaults and the poly learning-rate decay.
 */
import { defaultAugment, type AugmentConfig } from "./augment.js";
import type { HardVoxels } from "./curriculum.js";
import type { Shape3 } from "./types.js";

export interface TrainingSchedule {
  readonly epochs: number;
  readonly iterationsPerEpoch: number;
  readonly batchSize: number;
  /** [D, H, W] voxels; each must be divisible by 2^(stages−1) of the network. */
  readonly patchSize: Shape3;
  /** Initial learning rate lr0. */
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  /** L2 weight decay, added to the gradients. */
  readonly weightDecay: number;
  /** lr = lr0 · (1 − epoch/epochs)^polyExponent. */
  readonly polyExponent: number;
  /** Length in epochs of curriculum stages 1 … S−1; later epochs train on G alone. */
  readonly curriculumEpochs?: readonly number[];
  readonly hardVoxels: HardVoxels;
  /** Fraction of each batch centred on foreground (nnU-Net: 0.33). */
  readonly oversampleForeground: number;
  /** Default: nnU-Net's (`defaultAugment`). */
  readonly augment?: AugmentConfig;
  /** Largest global L2 norm of the gradients; larger ones are scaled down (nnU-Net: 12). Default 12; null: off. */
  readonly gradientClipNorm?: number | null;
  /** Soft Dice over the whole batch instead of per sample. */
  readonly batchDice?: boolean;
  /** Validation patches per validation case, each centred on a foreground voxel (default 2). */
  readonly validationPatchesPerCase?: number;
}

/** nnU-Net's optimiser and sampling settings; the caller still sets sizes and lengths. */
export const nnUNetSchedule = {
  lr: 0.01,
  momentum: 0.99,
  nesterov: true,
  weightDecay: 3e-5,
  polyExponent: 0.9,
  hardVoxels: "background",
  oversampleForeground: 0.33,
  augment: defaultAugment,
} as const satisfies Partial<TrainingSchedule>;

/** Poly decay: lr0 · (1 − epoch/epochs)^exponent for the 0-based `epoch`. */
export function polyLearningRate(lr0: number, epoch: number, epochs: number, exponent: number): number {
  return lr0 * Math.pow(1 - epoch / epochs, exponent);
}

/** Throws an error naming the bad setting and its fix. */
export function validateSchedule(schedule: TrainingSchedule): void {
  const positive: (keyof TrainingSchedule)[] = ["epochs", "iterationsPerEpoch", "batchSize"];
  for (const key of positive) {
    const value = schedule[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw new Error(`training schedule: ${key} is ${String(value)}; it must be a positive integer`);
    }
  }
  if (schedule.patchSize.length !== 3 || schedule.patchSize.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(`training schedule: patchSize is [${schedule.patchSize.join(", ")}]; give three positive integers [D, H, W]`);
  }
  if (!(schedule.lr > 0)) throw new Error(`training schedule: lr is ${schedule.lr}; it must be positive`);
  if (!(schedule.momentum >= 0 && schedule.momentum < 1)) {
    throw new Error(`training schedule: momentum is ${schedule.momentum}; it must be in [0, 1)`);
  }
  if (!(schedule.oversampleForeground >= 0 && schedule.oversampleForeground <= 1)) {
    throw new Error(`training schedule: oversampleForeground is ${schedule.oversampleForeground}; it must be in [0, 1]`);
  }
  const curriculum = schedule.curriculumEpochs ?? [];
  if (curriculum.some((e) => !Number.isInteger(e) || e < 0)) {
    throw new Error(`training schedule: curriculumEpochs is [${curriculum.join(", ")}]; each must be a non-negative integer`);
  }
  const total = curriculum.reduce((a, b) => a + b, 0);
  if (total > schedule.epochs) {
    throw new Error(
      `training schedule: curriculumEpochs add up to ${total} but epochs is ${schedule.epochs}; ` +
        "the curriculum stages must fit in the training",
    );
  }
}
