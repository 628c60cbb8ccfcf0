/**
 * Building blocks shared by the U-Net and the FGA head: seeded He initialisation, convolution
 * with bias, instance normalisation and leaky ReLU. Every tensor is channels-last
 * [N, D, H, W, C]; sizes are in voxels.
 */
import * as tf from "@tensorflow/tfjs";

import { addChannelBias, instanceNorm } from "../tensor/channelOps.js";
import { conv3d, conv3dTranspose2 } from "../tensor/conv3d.js";
import { nativeNormAct } from "../tensor/nativeNormAct.js";

/** Slope of every leaky ReLU in the U-Net and in φ1 (nnU-Net's default). */
export const LEAKY_SLOPE = 0.01;

/** Instance norm epsilon (nnU-Net's default, as in torch.nn.InstanceNorm3d). */
export const INSTANCE_NORM_EPS = 1e-5;

/**
 * Supplier of a network's weights: a fresh seeded initialisation or a saved model. `name` is the
 * weight's stable name in model.json, and `init` describes how a fresh weight is drawn.
 */
export type WeightSource = (name: string, shape: readonly number[], init: WeightInit) => tf.Tensor;

/** Initialisation of a fresh weight: He normal with the given fan-in, or a constant. */
export type WeightInit =
  | { readonly kind: "he"; readonly fanIn: number }
  | { readonly kind: "constant"; readonly value: number };

/**
 * Seeded fresh weights. Kernels are He (kaiming) normal as nnU-Net draws them
 * (negative slope 0.01: std = sqrt(2 / (1 + 0.01²)) / sqrt(fanIn)); biases and norm shifts are 0,
 * norm scales 1. Weight i (in order of request) uses seed `seed·1000003 + i + 1`, so one seed fixes
 * the net. The seed passed to TF.js is never 0, which TF.js would take as "unseeded" and replace
 * with Math.random().
 */
export function heSource(seed: number): WeightSource {
  let counter = 0;
  return (_name, shape, init) => {
    const index = counter++;
    if (init.kind === "constant") return tf.fill([...shape], init.value, "float32");
    const std = Math.sqrt(2 / (1 + LEAKY_SLOPE * LEAKY_SLOPE)) / Math.sqrt(init.fanIn);
    return tf.randomNormal([...shape], 0, std, "float32", seed * 1_000_003 + index + 1);
  };
}

/** Every trainable weight of a network, by its stable name (the order is the creation order). */
export class WeightRegistry {
  readonly named: Array<readonly [string, tf.Variable]> = [];

  constructor(private readonly source: WeightSource) {}

  /** Creates the weight `name`, or fails if the name is taken (names must be unique per network). */
  take(name: string, shape: readonly number[], init: WeightInit): tf.Variable {
    if (this.named.some(([existing]) => existing === name)) {
      throw new Error(`weight name ${name} is used twice in one network; each weight needs its own name`);
    }
    const initial = this.source(name, shape, init);
    const expected = shape.join("x");
    if (initial.shape.join("x") !== expected) {
      throw new Error(`weight ${name} has shape ${initial.shape.join("x")} but the network needs ${expected}`);
    }
    const variable = tf.variable(initial, true);
    initial.dispose();
    this.named.push([name, variable]);
    return variable;
  }
}

/** A 3-D convolution with bias: kernel [k, k, k, in, out], bias [out]. */
export interface Conv {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
  readonly stride: 1 | 2;
}

/** Creates `<name>.kernel` (He normal, fan-in in·k³) and `<name>.bias` (zeros). */
export function makeConv(
  weights: WeightRegistry,
  name: string,
  k: number,
  inChannels: number,
  outChannels: number,
  stride: 1 | 2 = 1,
): Conv {
  return {
    kernel: weights.take(`${name}.kernel`, [k, k, k, inChannels, outChannels], {
      kind: "he",
      fanIn: inChannels * k * k * k,
    }),
    bias: weights.take(`${name}.bias`, [outChannels], { kind: "constant", value: 0 }),
    stride,
  };
}

/** 'same'-padded convolution plus bias: [N, D, H, W, in] -> [N, ceil(D/s), ceil(H/s), ceil(W/s), out]. */
export function applyConv(conv: Conv, x: tf.Tensor5D): tf.Tensor5D {
  return addChannelBias(conv3d(x, conv.kernel as tf.Tensor5D, conv.stride), conv.bias as tf.Tensor1D);
}

/** A transposed convolution with kernel 2 and stride 2: kernel [2, 2, 2, out, in], bias [out]. */
export interface UpConv {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
}

/**
 * Creates `<name>.kernel` and `<name>.bias`. The He fan-in is out·2³, torch's convention for a
 * ConvTranspose3d weight [in, out, 2, 2, 2], which nnU-Net's initialiser inherits.
 */
export function makeUpConv(weights: WeightRegistry, name: string, inChannels: number, outChannels: number): UpConv {
  return {
    kernel: weights.take(`${name}.kernel`, [2, 2, 2, outChannels, inChannels], {
      kind: "he",
      fanIn: outChannels * 8,
    }),
    bias: weights.take(`${name}.bias`, [outChannels], { kind: "constant", value: 0 }),
  };
}

/** Upsampling by 2: [N, D, H, W, in] -> [N, 2D, 2H, 2W, out]. */
export function applyUpConv(up: UpConv, x: tf.Tensor5D): tf.Tensor5D {
  return addChannelBias(conv3dTranspose2(x, up.kernel as tf.Tensor5D), up.bias as tf.Tensor1D);
}

/** Affine instance norm: scale and shift [C]. */
export interface InstanceNorm {
  readonly scale: tf.Variable;
  readonly shift: tf.Variable;
}

export function makeInstanceNorm(weights: WeightRegistry, name: string, channels: number): InstanceNorm {
  return {
    scale: weights.take(`${name}.scale`, [channels], { kind: "constant", value: 1 }),
    shift: weights.take(`${name}.shift`, [channels], { kind: "constant", value: 0 }),
  };
}

/**
 * Normalises each sample's channel over D, H, W with the biased variance and eps 1e-5, then scales
 * and shifts it, as torch.nn.InstanceNorm3d(affine=True) does. There are no running statistics, so
 * training and inference agree. The shape stays [N, D, H, W, C].
 */
export function applyInstanceNorm(norm: InstanceNorm, x: tf.Tensor5D): tf.Tensor5D {
  return instanceNorm(x, norm.scale as tf.Tensor1D, norm.shift as tf.Tensor1D, INSTANCE_NORM_EPS);
}

export function leakyRelu(x: tf.Tensor5D): tf.Tensor5D {
  return tf.leakyRelu(x, LEAKY_SLOPE);
}

/** conv → instance norm → leaky ReLU, nnU-Net's unit. */
export interface ConvNormAct {
  readonly conv: Conv;
  readonly norm: InstanceNorm;
}

export function makeConvNormAct(
  weights: WeightRegistry,
  name: string,
  inChannels: number,
  outChannels: number,
  stride: 1 | 2,
): ConvNormAct {
  return {
    conv: makeConv(weights, `${name}.conv`, 3, inChannels, outChannels, stride),
    norm: makeInstanceNorm(weights, `${name}.norm`, outChannels),
  };
}

/**
 * conv → bias → instance norm → leaky ReLU. On the wasm and cpu backends with the native addon
 * built, the last three run as one fused op (nativeNormAct.ts) with the same values and gradients.
 */
export function applyConvNormAct(block: ConvNormAct, x: tf.Tensor5D): tf.Tensor5D {
  const backend = tf.getBackend();
  const fused = backend === "wasm" || backend === "cpu" ? nativeNormAct({ eps: INSTANCE_NORM_EPS, slope: LEAKY_SLOPE }) : undefined;
  if (fused !== undefined && x.size > 0) {
    const { conv, norm } = block;
    const convolved = conv3d(x, conv.kernel as tf.Tensor5D, conv.stride);
    return fused(convolved, conv.bias as tf.Tensor1D, norm.scale as tf.Tensor1D, norm.shift as tf.Tensor1D);
  }
  return leakyRelu(applyInstanceNorm(block.norm, applyConv(block.conv, x)));
}
