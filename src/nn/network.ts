/**
 * The segmentation network: nnU-Net's 3d_fullres U-Net (PlainConvUNet), scaled by parameters, with
 * FANCL's optional FGA head on its first-stage feature map.
 *
 * Stage i has min(maxFeatures, baseFeatures·2^i) features. Each encoder stage is two units of
 * 3×3×3 conv → instance norm → leaky ReLU 0.01, and the first conv of stages 2… has stride 2.
 * Each decoder stage upsamples with a transposed convolution (kernel 2, stride 2), concatenates
 * the encoder's skip after the upsampled map and runs two such units. 1×1×1 heads give logits.
 * All tensors are channels-last: images [N, D, H, W, M], logits [N, D, H, W, K].
 * D, H and W must be divisible by 2^(stages−1).
 *
 * NOTE: a stride-2 convolution pads like TensorFlow's 'same' (on even sizes one voxel after, none
 * before), while nnU-Net's torch code pads one voxel on both sides. Outputs therefore sample the
 * grid one voxel later than nnU-Net's, which changes no shape and no parameter count.
 */
import * as tf from "@tensorflow/tfjs";
import { concatChannels } from "../tensor/channelOps.js";

import { applyFga, fgaMse, goldenAttention, makeFgaHead, type FgaForward, type FgaHead } from "./fga.js";
import {
  applyConv,
  applyConvNormAct,
  applyUpConv,
  heSource,
  makeConv,
  makeConvNormAct,
  makeUpConv,
  WeightRegistry,
  type Conv,
  type ConvNormAct,
  type UpConv,
  type WeightSource,
} from "./layers.js";

export interface FgaConfig {
  readonly enabled: boolean;
  /** p: FGA patches are p×p×p voxels. 8 for small runs; 4 costs 8² times the memory (see fga.ts). */
  readonly patchSize: number;
  /** λ, the weight of L_FGA in the total loss; the trainer applies it. */
  readonly lambda: number;
  /** Whether gradients flow into φ1 through the golden FGA A* (the method's default: no). */
  readonly goldenGradient: boolean;
}

export interface NetworkConfig {
  /** M, the number of input modalities. */
  readonly inChannels: number;
  /** K, the number of classes including background. */
  readonly numClasses: number;
  /** Resolution stages (depth); the first has stride 1. */
  readonly stages: number;
  /** Features of stage i are min(maxFeatures, baseFeatures·2^i). */
  readonly baseFeatures: number;
  readonly maxFeatures: number;
  readonly deepSupervision: boolean;
  readonly fga: FgaConfig;
}

export interface ForwardResult {
  /** Full-resolution logits [N, D, H, W, K]; Ŷ + R when FGA is on. */
  readonly logits: tf.Tensor5D;
  /** Ŷ before the FGA correction (the same tensor as `logits` without FGA). */
  readonly baseLogits: tf.Tensor5D;
  /** Lower-resolution logits, next-highest first ([N, D/2, H/2, W/2, K], …), empty when off. */
  readonly deepSupervision: readonly tf.Tensor5D[];
  /** First-stage feature map F [N, D, H, W, baseFeatures]. */
  readonly features: tf.Tensor5D;
  /** The FGA head's intermediate tensors; null when FGA is off. */
  readonly fga: FgaForward | null;
}

export interface SegmentationNetwork {
  readonly config: NetworkConfig;
  /** Everything trainable, in creation order. */
  readonly variables: readonly tf.Variable[];
  /** The same variables under their stable names (the names in model.json). */
  readonly namedVariables: ReadonlyArray<readonly [string, tf.Variable]>;
  /**
   * x: [N, D, H, W, inChannels] with D, H, W divisible by 2^(stages−1). `training` is accepted for
   * symmetry: instance norm keeps no running statistics and there is no dropout, so both modes
   * compute the same function. Intermediate tensors are not disposed here, so call it inside
   * tf.tidy or tf.variableGrads.
   */
  forward(x: tf.Tensor5D, training: boolean): ForwardResult;
  /** L_FGA = mean((A_k − A*_k)²) for images x and labels [N,D,H,W]; 0 when FGA is off. */
  fgaLoss(x: tf.Tensor5D, result: ForwardResult, labels: tf.Tensor4D): tf.Scalar;
  dispose(): void;
}

/** Features of stage i: min(maxFeatures, baseFeatures·2^i). */
export function stageFeatures(config: NetworkConfig): number[] {
  return Array.from({ length: config.stages }, (_, i) => Math.min(config.maxFeatures, config.baseFeatures * 2 ** i));
}

/** Throws a clear error for a config no network can be built from. */
export function validateNetworkConfig(config: NetworkConfig): void {
  const positive: Array<[string, number]> = [
    ["inChannels", config.inChannels],
    ["numClasses", config.numClasses],
    ["stages", config.stages],
    ["baseFeatures", config.baseFeatures],
    ["maxFeatures", config.maxFeatures],
  ];
  for (const [name, value] of positive) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`network.${name} must be a positive integer, got ${value}`);
    }
  }
  if (config.numClasses < 2) {
    throw new Error(`network.numClasses must be at least 2 (background and one class), got ${config.numClasses}`);
  }
  if (config.fga.enabled && (!Number.isInteger(config.fga.patchSize) || config.fga.patchSize < 1)) {
    throw new Error(`network.fga.patchSize must be a positive integer, got ${config.fga.patchSize}; use 8 for small runs`);
  }
  if (!Number.isFinite(config.fga.lambda) || config.fga.lambda < 0) {
    throw new Error(`network.fga.lambda must be a finite number >= 0, got ${config.fga.lambda}`);
  }
}

/** Creates a network with seeded He-normal weights. */
export function createNetwork(config: NetworkConfig, seed: number): SegmentationNetwork {
  return buildNetwork(config, heSource(seed));
}

interface DecoderStage {
  readonly up: UpConv;
  readonly blocks: readonly [ConvNormAct, ConvNormAct];
  /** 1×1×1 head; null for a lower stage when deep supervision is off. */
  readonly head: Conv | null;
}

/** Builds the network with every weight taken from `source` (fresh init or a saved model). */
export function buildNetwork(config: NetworkConfig, source: WeightSource): SegmentationNetwork {
  validateNetworkConfig(config);
  const weights = new WeightRegistry(source);
  const features = stageFeatures(config);

  const encoder = features.map((f, i) => {
    const inChannels = i === 0 ? config.inChannels : features[i - 1]!;
    return [
      makeConvNormAct(weights, `encoder.${i}.0`, inChannels, f, i === 0 ? 1 : 2),
      makeConvNormAct(weights, `encoder.${i}.1`, f, f, 1),
    ] as const;
  });

  // decoder[s] brings stage s+1 up to stage s; its head gives the logits at stage s's resolution.
  const decoder: DecoderStage[] = [];
  for (let s = 0; s < config.stages - 1; s++) {
    const f = features[s]!;
    decoder.push({
      up: makeUpConv(weights, `decoder.${s}.up`, features[s + 1]!, f),
      blocks: [makeConvNormAct(weights, `decoder.${s}.0`, 2 * f, f, 1), makeConvNormAct(weights, `decoder.${s}.1`, f, f, 1)],
      head: s === 0 || config.deepSupervision ? makeConv(weights, `decoder.${s}.head`, 1, f, config.numClasses) : null,
    });
  }
  const onlyHead = config.stages === 1 ? makeConv(weights, "head", 1, features[0]!, config.numClasses) : null;

  const fgaHead: FgaHead | null = config.fga.enabled
    ? makeFgaHead(weights, "fga", {
        inChannels: config.inChannels,
        featureChannels: features[0]!,
        numClasses: config.numClasses,
        patchSize: config.fga.patchSize,
      })
    : null;

  const namedVariables = weights.named;
  const variables = namedVariables.map(([, variable]) => variable);

  const forward = (x: tf.Tensor5D, _training: boolean): ForwardResult => {
    checkInput(config, x);

    const skips: tf.Tensor5D[] = [];
    let h = x;
    for (const [first, second] of encoder) {
      h = applyConvNormAct(second, applyConvNormAct(first, h));
      skips.push(h);
    }

    const outputs: tf.Tensor5D[] = [];
    for (let s = config.stages - 2; s >= 0; s--) {
      const stage = decoder[s]!;
      const joined = concatChannels(applyUpConv(stage.up, h), skips[s]!);
      h = applyConvNormAct(stage.blocks[1], applyConvNormAct(stage.blocks[0], joined));
      if (stage.head !== null) outputs.unshift(applyConv(stage.head, h));
    }
    if (onlyHead !== null) outputs.push(applyConv(onlyHead, h));

    const baseLogits = outputs[0]!;
    const deepSupervision = config.deepSupervision ? outputs.slice(1) : [];
    const firstFeatures = skips[0]!;
    const fga = fgaHead === null ? null : applyFga(fgaHead, x, firstFeatures, baseLogits);
    return { logits: fga?.output ?? baseLogits, baseLogits, deepSupervision, features: firstFeatures, fga };
  };

  const fgaLoss = (x: tf.Tensor5D, result: ForwardResult, labels: tf.Tensor4D): tf.Scalar => {
    if (fgaHead === null || result.fga === null) return tf.scalar(0);
    const [n, d, h, w] = x.shape;
    if (labels.shape.join("x") !== `${n}x${d}x${h}x${w}`) {
      throw new Error(`FGA loss: labels are ${labels.shape.join("x")} but the images are ${n}x${d}x${h}x${w} (N x D x H x W)`);
    }
    const golden = goldenAttention(
      result.fga.imagePatches,
      labels,
      config.numClasses,
      config.fga.patchSize,
      config.fga.goldenGradient,
    );
    return fgaMse(result.fga.attention, golden);
  };

  return {
    config,
    variables,
    namedVariables,
    forward,
    fgaLoss,
    dispose: () => {
      for (const variable of variables) variable.dispose();
    },
  };
}

/** Checks the input's rank, channels and divisibility before any convolution runs. */
function checkInput(config: NetworkConfig, x: tf.Tensor5D): void {
  if (x.rank !== 5) {
    throw new Error(`U-Net input must be [N, D, H, W, C] (rank 5), got shape ${x.shape.join("x")}`);
  }
  const [, d, h, w, c] = x.shape;
  if (c !== config.inChannels) {
    throw new Error(`U-Net input has ${c} channels but the network expects ${config.inChannels} modalities`);
  }
  const factor = 2 ** (config.stages - 1);
  if (d % factor !== 0 || h % factor !== 0 || w % factor !== 0) {
    throw new Error(
      `U-Net input is ${d}x${h}x${w} (D x H x W) but a network with ${config.stages} stages needs every size ` +
        `divisible by ${factor}; pad the patch (sliding-window inference does) or choose a training patch size divisible by ${factor}`,
    );
  }
}

export { loadNetwork, saveNetwork } from "./serialize.js";
