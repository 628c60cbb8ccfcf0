/**
 * A U-Net with the same layers as src/nn/network.ts, built only from src/tensor ops whose
 * gradients avoid the WASM slow paths. Each stage has two conv → instance norm → leaky ReLU
 * units; it goes down by strided convolution and up by transposed convolution with a
 * concatenated skip, and every decoder stage has a 1x1x1 head for deep supervision.
 * The benchmark times one training step of it beside the src/nn network to show what those ops
 * gain. It is not a second network for training.
 */
import * as tf from "@tensorflow/tfjs";

import { addChannelBias, concatChannels, instanceNorm } from "../../src/tensor/channelOps.js";
import { conv3d, conv3dTranspose2 } from "../../src/tensor/conv3d.js";

interface ConvNormAct {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
  readonly scale: tf.Variable;
  readonly shift: tf.Variable;
  readonly stride: 1 | 2;
}

interface Conv {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
}

export interface FastUnet {
  readonly variables: tf.Variable[];
  /** Logits [N, D, H, W, K] per decoder stage, full resolution first. */
  forward(x: tf.Tensor5D): tf.Tensor5D[];
}

/** Builds the U-Net with He-normal kernels for `features` per stage. */
export function buildFastUnet(inChannels: number, classes: number, features: readonly number[]): FastUnet {
  const variables: tf.Variable[] = [];
  const variable = (t: tf.Tensor): tf.Variable => {
    const v = tf.variable(t);
    variables.push(v);
    return v;
  };
  const he = (shape: number[], fanIn: number) => variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn)));
  const block = (cin: number, cout: number, stride: 1 | 2): ConvNormAct => ({
    kernel: he([3, 3, 3, cin, cout], 27 * cin),
    bias: variable(tf.zeros([cout])),
    scale: variable(tf.ones([cout])),
    shift: variable(tf.zeros([cout])),
    stride,
  });

  const encoder = features.map((f, i) => [block(i === 0 ? inChannels : features[i - 1]!, f, i === 0 ? 1 : 2), block(f, f, 1)] as const);
  const decoder = features.slice(0, -1).map((f, s) => ({
    up: { kernel: he([2, 2, 2, f, features[s + 1]!], 8 * f), bias: variable(tf.zeros([f])) } satisfies Conv,
    blocks: [block(2 * f, f, 1), block(f, f, 1)] as const,
    head: { kernel: he([1, 1, 1, f, classes], f), bias: variable(tf.zeros([classes])) } satisfies Conv,
  }));

  const apply = (b: ConvNormAct, x: tf.Tensor5D): tf.Tensor5D => {
    const convolved = addChannelBias(conv3d(x, b.kernel as tf.Tensor5D, b.stride), b.bias as tf.Tensor1D);
    return tf.leakyRelu(instanceNorm(convolved, b.scale as tf.Tensor1D, b.shift as tf.Tensor1D, 1e-5), 0.01);
  };

  const forward = (x: tf.Tensor5D): tf.Tensor5D[] => {
    const skips: tf.Tensor5D[] = [];
    let h = x;
    for (const [first, second] of encoder) {
      h = apply(second, apply(first, h));
      skips.push(h);
    }
    const outputs: tf.Tensor5D[] = [];
    for (let s = decoder.length - 1; s >= 0; s--) {
      const stage = decoder[s]!;
      const upsampled = addChannelBias(conv3dTranspose2(h, stage.up.kernel as tf.Tensor5D), stage.up.bias as tf.Tensor1D);
      h = apply(stage.blocks[1], apply(stage.blocks[0], concatChannels(upsampled, skips[s]!)));
      outputs.unshift(addChannelBias(conv3d(h, stage.head.kernel as tf.Tensor5D, 1), stage.head.bias as tf.Tensor1D));
    }
    return outputs;
  };

  return { variables, forward };
}

/**
 * Dice + cross-entropy of logits [N, D, H, W, K] against one-hot labels of the same shape, Dice
 * over the foreground classes 1..K-1 per sample (smooth 1e-5), as src/nn/losses.ts defines it.
 * Sums over voxels are matMuls with a row of ones.
 */
export function fastDiceCe(logits: tf.Tensor5D, oneHot: tf.Tensor5D): tf.Scalar {
  const [n, d, h, w, k] = logits.shape;
  const voxels = d * h * w;
  const logProbabilities = tf.logSoftmax(logits, -1);
  const ce = tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logProbabilities), -1)));

  const ones = tf.ones([n, 1, voxels]) as tf.Tensor3D;
  const voxelSum = (t: tf.Tensor) => tf.matMul(ones, t.reshape([n, voxels, k]) as tf.Tensor3D).reshape([n, k]);
  const p = tf.exp(logProbabilities);
  const intersect = voxelSum(tf.mul(p, oneHot));
  const total = tf.add(voxelSum(p), voxelSum(oneHot));
  const dice = tf.div(tf.add(tf.mul(intersect, 2), 1e-5), tf.maximum(tf.add(total, 1e-5), 1e-8));
  const foreground = tf.slice(dice, [0, 1], [n, k - 1]);
  return tf.sub(ce, tf.mean(foreground)) as tf.Scalar;
}
