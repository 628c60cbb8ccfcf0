/**
 * 3-D convolution through the native kernels of native/ (C++, AVX-512 where the CPU has it, plain
 * loops otherwise), for the wasm and cpu backends. Each pass reads its tensors out of the backend,
 * runs one kernel on one thread and makes a new tensor of the result.
 *
 * Layout is channels-last throughout: x [N, D, H, W, Cin], filter [k, k, k, Cin, Cout],
 * y [N, od, oh, ow, Cout]. Padding is TensorFlow's 'same' (padding.ts). 1x1x1 kernels are left to
 * the composed kernels (see `convShape`).
 *
 * Where the addon is missing or turned off (native.ts), `nativeConvKernels()` returns undefined
 * and conv3d.ts uses its composed WASM kernels.
 */
import * as tf from "@tensorflow/tfjs";

import { nativeAddon, type NativeAddon } from "./native.js";
import { samePadding } from "./padding.js";

/** The 14 numbers of the C++ ConvShape: input, output, kernel, stride, padding before. */
type ConvShape = Int32Array;

/**
 * Returns the shape of conv3d(x [N, D, H, W, Cin], filter [k, k, k, Cin, Cout], stride) with
 * 'same' padding. Returns undefined for a kernel that is not cubic, a negative padding before an
 * axis, or a 1x1x1 kernel. A 1x1x1 convolution is a plain matrix product, and the WASM backend's
 * `matMul` computes it faster than these kernels for the few output channels of a segmentation
 * head (2.6 against 1.1 GFLOP/s for 32→4 channels at 64³).
 */
function convShape(x: readonly number[], filter: readonly number[], stride: number): ConvShape | undefined {
  const [n, d, h, w, cin] = x as [number, number, number, number, number];
  const [kd, kh, kw, , cout] = filter as [number, number, number, number, number];
  if (kd !== kh || kd !== kw || kd === 1) return undefined;
  const pads = [d, h, w].map((size) => samePadding(size, kd, stride));
  if (pads.some((p) => p.before < 0)) return undefined;
  const [pd, ph, pw] = pads as [(typeof pads)[0], (typeof pads)[0], (typeof pads)[0]];
  return Int32Array.from([n, d, h, w, cin, pd.out, ph.out, pw.out, cout, kd, stride, pd.before, ph.before, pw.before]);
}

/** Reads the backend's values of `t` into a Float32Array (a copy on wasm, a view on cpu). */
function read(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

type Op5 = (x: tf.Tensor5D, filter: tf.Tensor5D) => tf.Tensor5D;

/** Native forward pass and both gradients, as `tf.customGrad` ops. */
export interface NativeConvKernels {
  /** conv3d with 'same' padding, or undefined when this shape is not handled (see file comment). */
  conv3d(x: tf.Tensor5D, filter: tf.Tensor5D, stride: 1 | 2): tf.Tensor5D | undefined;
  /** Transposed convolution, kernel 2, stride 2: x [N, D, H, W, Cin], filter [2, 2, 2, Cout, Cin]. */
  conv3dTranspose2(x: tf.Tensor5D, filter: tf.Tensor5D): tf.Tensor5D;
}

type Pass = "forward" | "backpropInput" | "backpropFilter";

function kernels(addon: NativeAddon): NativeConvKernels {
  /** Runs one addon pass of the convolution `shape` on a and b into a new tensor of `dims`. */
  const run = (pass: Pass, a: Float32Array, b: Float32Array, dims: readonly number[], shape: ConvShape): tf.Tensor5D => {
    const out = new Float32Array(dims.reduce((product, size) => product * size, 1));
    addon[pass](a, b, out, shape);
    return tf.tensor5d(out, dims as [number, number, number, number, number]);
  };

  /** Returns the dims of a convolution's input [n, id, ih, iw, ci], output and filter [k, k, k, ci, co]. */
  const dimsOf = (shape: ConvShape) => {
    const [n, id, ih, iw, ci, od, oh, ow, co, k] = shape;
    return { input: [n!, id!, ih!, iw!, ci!], output: [n!, od!, oh!, ow!, co!], filter: [k!, k!, k!, ci!, co!] };
  };

  /** Returns the differentiable convolution of `shape`: forward pass, input and filter gradients. */
  const convOp = (shape: ConvShape): Op5 => {
    const dims = dimsOf(shape);
    return tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, filter, save] = inputs as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
      save([x, filter]);
      return {
        value: run("forward", read(x), read(filter), dims.output, shape),
        gradFunc: (dy: tf.Tensor5D, saved: tf.Tensor[]) => {
          const [xSaved, filterSaved] = saved as [tf.Tensor5D, tf.Tensor5D];
          const dyValues = read(dy);
          return [
            run("backpropInput", dyValues, read(filterSaved), dims.input, shape),
            run("backpropFilter", read(xSaved), dyValues, dims.filter, shape),
          ];
        },
      };
    }) as Op5;
  };

  // The transposed convolution of x is the input gradient of a stride-2 convolution with the same
  // filter, one that maps y-space [N, 2D, 2H, 2W, Cout] to x-space [N, D, H, W, Cin]. Its three
  // passes are that convolution's passes in another order.
  const transposeOp = (x: readonly number[], filter: readonly number[]): Op5 => {
    const [n, d, h, w, cin] = x as [number, number, number, number, number];
    const cout = filter[3]!;
    const shape = Int32Array.from([n, 2 * d, 2 * h, 2 * w, cout, d, h, w, cin, 2, 2, 0, 0, 0]);
    const dims = dimsOf(shape);
    return tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xIn, filterIn, save] = inputs as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
      save([xIn, filterIn]);
      return {
        value: run("backpropInput", read(xIn), read(filterIn), dims.input, shape),
        gradFunc: (dy: tf.Tensor5D, saved: tf.Tensor[]) => {
          const [xSaved, filterSaved] = saved as [tf.Tensor5D, tf.Tensor5D];
          const dyValues = read(dy);
          return [
            run("forward", dyValues, read(filterSaved), dims.output, shape),
            run("backpropFilter", dyValues, read(xSaved), dims.filter, shape),
          ];
        },
      };
    }) as Op5;
  };

  return {
    conv3d: (x, filter, stride) => {
      const shape = convShape(x.shape, filter.shape, stride);
      return shape === undefined ? undefined : convOp(shape)(x, filter);
    },
    conv3dTranspose2: (x, filter) => transposeOp(x.shape, filter.shape)(x, filter),
  };
}

let loadedKernels: NativeConvKernels | undefined;

/** Returns the native kernels, or undefined when the addon is missing or turned off (see native.ts). */
export function nativeConvKernels(): NativeConvKernels | undefined {
  const addon = nativeAddon();
  if (addon === undefined) return undefined;
  loadedKernels ??= kernels(addon);
  return loadedKernels;
}
