/**
 * One optimisation step on a batch of patches: the FANCL loss, its gradients and the SGD update.
 *
 * Total loss = L(Ŷ, G) [+ L(Ŷ, C_j) in curriculum stage j] [+ λ·L_FGA when FGA is on], where L is
 * nnU-Net's Dice + cross-entropy with deep supervision when the network has it.
 */
import * as tf from "@tensorflow/tfjs";

import { deepSupervisionLoss } from "../nn/losses.js";
import type { SegmentationNetwork } from "../nn/network.js";
import { curriculumTarget, type HardVoxels } from "./curriculum.js";
import type { SgdOptimizer } from "./optimizer.js";
import type { PatchBatch } from "./types.js";

export interface LossSettings {
  readonly hardVoxels: HardVoxels;
  readonly batchDice: boolean;
  /** Gradients are scaled down to this global L2 norm when larger (nnU-Net: 12); null: no clipping. */
  readonly gradientClipNorm: number | null;
}

/** A loss that is NaN or infinite; names where training stopped. */
export class NonFiniteLossError extends Error {
  override readonly name = "NonFiniteLossError";

  constructor(
    /** 0-based epoch. */
    readonly epoch: number,
    /** 0-based iteration within the epoch. */
    readonly iteration: number,
    readonly loss: number,
  ) {
    super(
      `training loss is ${loss} at epoch ${epoch} iteration ${iteration} (both 0-based); ` +
        "lower the learning rate, or check the training images for NaN or infinite values",
    );
  }
}

/** The batch as tensors: image [B, pd, ph, pw, M], labels and curriculum [B, pd, ph, pw]. */
interface BatchTensors {
  readonly image: tf.Tensor5D;
  readonly label: tf.Tensor4D;
  readonly curriculum?: { readonly label: tf.Tensor4D; readonly ignore?: tf.Tensor4D };
}

function toTensors(batch: PatchBatch, hardVoxels: HardVoxels): BatchTensors {
  const [pd, ph, pw] = batch.patchSize;
  const labelShape: [number, number, number, number] = [batch.batchSize, pd, ph, pw];
  const image = tf.tensor5d(batch.image, [batch.batchSize, pd, ph, pw, batch.channels]);
  const label = tf.tensor4d(Int32Array.from(batch.label), labelShape, "int32");
  if (batch.curriculum === undefined) return { image, label };

  const target = curriculumTarget(batch.label, batch.curriculum, hardVoxels);
  return {
    image,
    label,
    curriculum: {
      label: tf.tensor4d(Int32Array.from(target.labels), labelShape, "int32"),
      ignore: target.ignore === undefined ? undefined : tf.tensor4d(Float32Array.from(target.ignore), labelShape),
    },
  };
}

function batchLoss(net: SegmentationNetwork, tensors: BatchTensors, settings: LossSettings): tf.Scalar {
  const result = net.forward(tensors.image, true);
  let loss = deepSupervisionLoss(result, tensors.label, { batchDice: settings.batchDice });

  if (tensors.curriculum !== undefined) {
    const { label, ignore } = tensors.curriculum;
    loss = tf.add(loss, deepSupervisionLoss(result, label, { batchDice: settings.batchDice, ignore }));
  }
  if (net.config.fga.enabled && net.config.fga.lambda > 0) {
    loss = tf.add(loss, tf.mul(net.fgaLoss(tensors.image, result, tensors.label), net.config.fga.lambda));
  }
  return loss;
}

/**
 * Scales `gradients` by min(1, maxNorm / ‖g‖₂), with ‖g‖₂ the L2 norm of all of them together, as
 * torch.nn.utils.clip_grad_norm_ does. Missing gradients stay missing. The caller disposes the result.
 */
export function clipByGlobalNorm(
  gradients: readonly (tf.Tensor | undefined)[],
  maxNorm: number,
): (tf.Tensor | undefined)[] {
  const present = gradients.filter((g): g is tf.Tensor => g !== undefined);
  if (present.length === 0) return [...gradients];
  const norm = tf.tidy(() => Math.sqrt(tf.addN(present.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!));
  const scale = norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  return gradients.map((g) => {
    if (g === undefined) return undefined;
    return scale === 1 ? tf.clone(g) : tf.mul(g, scale);
  });
}

/**
 * Runs one step and returns the loss before the update. A non-finite loss throws
 * NonFiniteLossError before any weight changes.
 */
export function trainStep(
  net: SegmentationNetwork,
  optimizer: SgdOptimizer,
  batch: PatchBatch,
  lr: number,
  settings: LossSettings,
  where: { readonly epoch: number; readonly iteration: number },
): number {
  const tensors = toTensors(batch, settings.hardVoxels);
  try {
    const { value, grads } = tf.variableGrads(() => batchLoss(net, tensors, settings), [...net.variables]);
    const loss = value.dataSync()[0]!;
    value.dispose();
    const ordered = net.variables.map((v) => grads[v.name]);
    const clipped = settings.gradientClipNorm === null ? [] : clipByGlobalNorm(ordered, settings.gradientClipNorm);
    try {
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(where.epoch, where.iteration, loss);
      optimizer.step(settings.gradientClipNorm === null ? ordered : clipped, lr);
    } finally {
      tf.dispose([...ordered, ...clipped].filter((g) => g !== undefined));
    }
    return loss;
  } finally {
    tf.dispose([tensors.image, tensors.label, tensors.curriculum?.label, tensors.curriculum?.ignore].filter((t) => t !== undefined));
  }
}
