/**
 * Bias, affine instance norm and leaky ReLU as one op through the native addon (native.ts):
 * y = leakyRelu(instanceNorm(x + bias) · scale + shift), the tail of nnU-Net's conv → norm → act
 * unit. One forward and one backward call replace some fifteen TensorFlow.js ops and their
 * passes over the data.
 *
 * Layout: x and y [N, D, H, W, C] channels-last; bias, scale and shift [C]. The norm is over
 * D, H, W for each sample and channel with the biased variance, as torch.nn.InstanceNorm3d does.
 * A bias before the norm cancels in the value (the norm subtracts the channel mean), and its
 * gradient is the sum of dx over samples and voxels, which is 0 up to rounding.
 */
import * as tf from "@tensorflow/tfjs";

import { nativeAddon, type NativeAddon } from "./native.js";

export interface NormActSettings {
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Slope of the leaky ReLU for negative inputs. */
  readonly slope: number;
}

type NormActOp = (x: tf.Tensor5D, bias: tf.Tensor1D, scale: tf.Tensor1D, shift: tf.Tensor1D) => tf.Tensor5D;

function normActOp(addon: NativeAddon, settings: NormActSettings): NormActOp {
  const { eps, slope } = settings;
  return tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, , scale, shift, save] = inputs as [tf.Tensor5D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [n, d, h, w, c] = x.shape;
    const voxels = d * h * w;
    const y = new Float32Array(x.size);
    const mean = new Float32Array(n * c);
    const invStd = new Float32Array(n * c);
    addon.normActForward(
      x.dataSync() as Float32Array,
      scale.dataSync() as Float32Array,
      shift.dataSync() as Float32Array,
      y,
      mean,
      invStd,
      n,
      voxels,
      c,
      eps,
      slope,
    );
    save([x, scale, shift, tf.tensor2d(mean, [n, c]), tf.tensor2d(invStd, [n, c])]);
    return {
      value: tf.tensor5d(y, x.shape),
      gradFunc: (dy: tf.Tensor5D, saved: tf.Tensor[]) => {
        const [xSaved, scaleSaved, shiftSaved, meanSaved, invSaved] = saved as [
          tf.Tensor5D,
          tf.Tensor1D,
          tf.Tensor1D,
          tf.Tensor2D,
          tf.Tensor2D,
        ];
        const dx = new Float32Array(xSaved.size);
        const dScale = new Float32Array(c);
        const dShift = new Float32Array(c);
        const dBias = new Float32Array(c);
        addon.normActBackward(
          xSaved.dataSync() as Float32Array,
          meanSaved.dataSync() as Float32Array,
          invSaved.dataSync() as Float32Array,
          scaleSaved.dataSync() as Float32Array,
          shiftSaved.dataSync() as Float32Array,
          dy.dataSync() as Float32Array,
          dx,
          dScale,
          dShift,
          dBias,
          n,
          voxels,
          c,
          eps,
          slope,
        );
        return [tf.tensor5d(dx, xSaved.shape), tf.tensor1d(dBias), tf.tensor1d(dScale), tf.tensor1d(dShift)];
      },
    };
  }) as NormActOp;
}

/**
 * Returns the fused op for these settings, or undefined when the native addon is missing or
 * turned off. Callers keep empty inputs (a zero-sized axis) on the TensorFlow.js path.
 */
export function nativeNormAct(settings: NormActSettings): NormActOp | undefined {
  const addon = nativeAddon();
  return addon === undefined ? undefined : normActOp(addon, settings);
}
