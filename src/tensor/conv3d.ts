/**
 * 3-D convolution used by every network in fancl. Channels-last: x is [N, D, H, W, Cin],
 * filter is [kd, kh, kw, Cin, Cout], 'same' zero padding as TensorFlow defines it, strides 1 or 2.
 *
 * On the native TensorFlow backends (`tf.getBackend() === "tensorflow"`) this is `tf.conv3d`.
 * On the other backends (wasm, cpu), `tf.conv3d` and its gradients run at under 1 GFLOP/s, so:
 * - the native kernels of nativeConv.ts run every pass when the addon is built (the default after
 *   `npm run build` on a machine with a C++ compiler);
 * - otherwise the forward pass and both gradients are composed from fast 2-D kernels (see
 *   conv3dKernels.ts and transposeKernels.ts). That path supports filters of 3x3x3 and 1x1x1 only:
 *   the WASM backend's own `tf.conv3d` input gradient gives wrong values for other filter sizes in
 *   tfjs 4.22, so there is no fallback to it.
 */
import * as tf from "@tensorflow/tfjs";
import { conv3dFilterGrad, conv3dForward, conv3dInputGrad, hasFastKernel } from "./conv3dKernels.js";
import { nativeConvKernels } from "./nativeConv.js";
import { samePadding } from "./padding.js";
import { transpose2FilterGrad, transpose2Forward, transpose2InputGrad } from "./transposeKernels.js";

function usesNativeConv3d(): boolean {
  return tf.getBackend() === "tensorflow";
}

function checkRank5(name: string, t: tf.Tensor, layout: string): void {
  if (t.rank !== 5) {
    throw new Error(`${name}: expected a rank-5 tensor ${layout}, got shape [${t.shape.join(", ")}]`);
  }
}

/** Forward pass and the two gradients of an op y = f(x, filter). */
interface Kernels {
  readonly forward: (x: tf.Tensor5D, filter: tf.Tensor5D) => tf.Tensor5D;
  readonly inputGrad: (dy: tf.Tensor5D, x: tf.Tensor5D, filter: tf.Tensor5D) => tf.Tensor5D;
  readonly filterGrad: (dy: tf.Tensor5D, x: tf.Tensor5D, filter: tf.Tensor5D) => tf.Tensor5D;
}

/** Wraps kernels into one differentiable op through `tf.customGrad`. */
function differentiable(kernels: Kernels): (x: tf.Tensor5D, filter: tf.Tensor5D) => tf.Tensor5D {
  const op = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, filter, save] = inputs as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
    save([x, filter]);
    return {
      value: tf.tidy(() => kernels.forward(x, filter)),
      gradFunc: (dy: tf.Tensor5D, saved: tf.Tensor[]) => {
        const [xSaved, filterSaved] = saved as [tf.Tensor5D, tf.Tensor5D];
        return [
          tf.tidy(() => kernels.inputGrad(dy, xSaved, filterSaved)),
          tf.tidy(() => kernels.filterGrad(dy, xSaved, filterSaved)),
        ];
      },
    };
  });
  return (x, filter) => op(x, filter);
}

/** Builds the differentiable composed op for one stride. */
function composedConv3d(stride: 1 | 2): (x: tf.Tensor5D, filter: tf.Tensor5D) => tf.Tensor5D {
  return differentiable({
    forward: (x, filter) => conv3dForward(x, filter, stride),
    inputGrad: (dy, x, filter) => conv3dInputGrad(dy, filter, stride, x.shape),
    filterGrad: (dy, x, filter) => conv3dFilterGrad(x, dy, filter.shape, stride),
  });
}

/**
 * Selects the voxels that a stride-2 1x1x1 convolution reads: along each axis, voxels
 * 0, 2, 4, ... of an odd size and 1, 3, 5, ... of an even size (TensorFlow.js 'same' padding,
 * see padding.ts). [N, D, H, W, C] becomes [N, ceil(D/2), ceil(H/2), ceil(W/2), C].
 * It uses differentiable 2-D pads and slices only, whose gradients are again 2-D slices and pads.
 */
function subsampleByTwo(x: tf.Tensor5D): tf.Tensor5D {
  const [n, d, h, w, c] = x.shape;
  const [d2, h2, w2] = [Math.ceil(d / 2), Math.ceil(h / 2), Math.ceil(w / 2)];
  const skip = (size: number) => -samePadding(size, 1, 2).before;

  // Pad every odd axis at the end, so that each axis splits into (half, 2).
  let even: tf.Tensor = x;
  if (w2 * 2 > w) {
    even = tf.pad(even.reshape([n * d * h, w * c]), [[0, 0], [0, c]]);
  }
  if (h2 * 2 > h) {
    even = tf.pad(even.reshape([n * d, h * 2 * w2 * c]), [[0, 0], [0, 2 * w2 * c]]);
  }
  if (d2 * 2 > d) {
    even = tf.pad(even.reshape([n, d * 2 * h2 * 2 * w2 * c]), [[0, 0], [0, 2 * h2 * 2 * w2 * c]]);
  }

  const plane = 2 * h2 * 2 * w2 * c;
  const row = 2 * w2 * c;
  const depths = tf.slice(even.reshape([n * d2, 2 * plane]), [0, skip(d) * plane], [n * d2, plane]);
  const rows = tf.slice(depths.reshape([n * d2 * h2, 2 * row]), [0, skip(h) * row], [n * d2 * h2, row]);
  const voxels = tf.slice(rows.reshape([n * d2 * h2 * w2, 2 * c]), [0, skip(w) * c], [n * d2 * h2 * w2, c]);
  return voxels.reshape([n, d2, h2, w2, c]);
}

const composedByStride = { 1: composedConv3d(1), 2: composedConv3d(2) } as const;

/**
 * y = conv3d(x, filter) with 'same' padding; y is [N, ceil(D/s), ceil(H/s), ceil(W/s), Cout].
 * With stride 2 the padding is asymmetric like `tf.conv3d`: an even size gets its one zero
 * voxel at the end. Empty spatial axes give an empty output.
 */
export function conv3d(x: tf.Tensor5D, filter: tf.Tensor5D, stride: 1 | 2 = 1): tf.Tensor5D {
  checkRank5("conv3d x", x, "[N, D, H, W, Cin]");
  checkRank5("conv3d filter", filter, "[kd, kh, kw, Cin, Cout]");
  if (stride !== 1 && stride !== 2) {
    throw new Error(`conv3d: stride ${String(stride)} is not supported; use 1 or 2`);
  }
  if (x.shape[4] !== filter.shape[3]) {
    throw new Error(
      `conv3d: x has ${x.shape[4]} channels but the filter expects ${filter.shape[3]} ` +
        `(filter shape [${filter.shape.join(", ")}]); the filter's fourth axis must equal x's last axis`,
    );
  }

  if (usesNativeConv3d() || x.size === 0) {
    return tf.conv3d(x, filter, stride, "same");
  }
  const native = nativeConvKernels()?.conv3d(x, filter, stride);
  if (native !== undefined) return native;
  if (hasFastKernel(filter.shape, stride)) {
    return composedByStride[stride](x, filter);
  }
  const [kd, kh, kw] = filter.shape;
  if (kd === 1 && kh === 1 && kw === 1) {
    return composedByStride[1](subsampleByTwo(x), filter);
  }
  throw new Error(
    `conv3d: filter shape [${filter.shape.join(", ")}] is not supported on the ${tf.getBackend()} backend; ` +
      `use a 3x3x3 or 1x1x1 filter, or the native backend (@tensorflow/tfjs-node)`,
  );
}

const composedTranspose2 = differentiable({
  forward: transpose2Forward,
  inputGrad: (dy, x, filter) => transpose2InputGrad(dy, filter, x.shape),
  filterGrad: (dy, x) => transpose2FilterGrad(x, dy),
});

/**
 * Transposed convolution with kernel 2 and stride 2 (upsampling): x is [N, D, H, W, Cin],
 * filter is [2, 2, 2, Cout, Cin] as tf.conv3dTranspose expects, y is [N, 2D, 2H, 2W, Cout].
 */
export function conv3dTranspose2(x: tf.Tensor5D, filter: tf.Tensor5D): tf.Tensor5D {
  checkRank5("conv3dTranspose2 x", x, "[N, D, H, W, Cin]");
  checkRank5("conv3dTranspose2 filter", filter, "[2, 2, 2, Cout, Cin]");
  const [kd, kh, kw, cout, cin] = filter.shape;
  if (kd !== 2 || kh !== 2 || kw !== 2) {
    throw new Error(`conv3dTranspose2: filter shape [${filter.shape.join(", ")}] must start with 2, 2, 2`);
  }
  if (x.shape[4] !== cin) {
    throw new Error(
      `conv3dTranspose2: x has ${x.shape[4]} channels but the filter expects ${cin} ` +
        `(filter shape [${filter.shape.join(", ")}]); the filter's last axis must equal x's last axis`,
    );
  }

  const [n, d, h, w] = x.shape;
  if (usesNativeConv3d() || x.size === 0) {
    return tf.conv3dTranspose(x, filter, [n, d * 2, h * 2, w * 2, cout], 2, "same");
  }
  return nativeConvKernels()?.conv3dTranspose2(x, filter) ?? composedTranspose2(x, filter);
}
