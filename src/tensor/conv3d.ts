/**
 * 3-D convolution used by every network in fancl. Channels-last: x is [N, D, H, W, Cin],
 * filter is [kd, kh, kw, Cin, Cout], 'same' zero padding, strides 1 or 2.
 *
 * TODO: this is the plain tf.conv3d path; the fast WASM path (issue 4) replaces the bodies.
 */
import * as tf from "@tensorflow/tfjs";

/** y = conv3d(x, filter) with 'same' padding; y is [N, ceil(D/s), ceil(H/s), ceil(W/s), Cout]. */
export function conv3d(x: tf.Tensor5D, filter: tf.Tensor5D, stride: 1 | 2 = 1): tf.Tensor5D {
  return tf.conv3d(x, filter, stride, "same");
}

/**
 * Transposed convolution with kernel 2 and stride 2 (upsampling): x is [N, D, H, W, Cin],
 * filter is [2, 2, 2, Cout, Cin] as tf.conv3dTranspose expects, y is [N, 2D, 2H, 2W, Cout].
 */
export function conv3dTranspose2(x: tf.Tensor5D, filter: tf.Tensor5D): tf.Tensor5D {
  const [n, d, h, w] = x.shape;
  const cout = filter.shape[3];
  return tf.conv3dTranspose(x, filter, [n, d * 2, h * 2, w * 2, cout], 2, "same");
}
