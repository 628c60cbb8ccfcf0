/**
 * Transposed 3-D convolution with kernel 2 and stride 2 (upsampling by 2 in each axis), and its
 * gradients, built from plain `matMul` and row `concat`/`slice` on 2-D views.
 *
 * Every input voxel x[n, d, h, w] writes its own 2x2x2 output block, so the operation is a
 * 1x1x1 convolution to 8 * Cout channels followed by a shuffle of those channels into space:
 * y[n, 2d + a, 2h + b, 2w + c, co] = sum over ci of x[n, d, h, w, ci] * filter[a, b, c, co, ci].
 * Layout: x [N, D, H, W, Cin], filter [2, 2, 2, Cout, Cin] (as `tf.conv3dTranspose`), y [N, 2D,
 * 2H, 2W, Cout].
 */
import * as tf from "@tensorflow/tfjs";

/** Returns, for each (a, b) in row-major order, the matrix [Cin, 2 * Cout] with columns (c, co). */
function blockMatrices(filter: tf.Tensor5D): tf.Tensor2D[] {
  const [, , , cout, cin] = filter.shape;
  const columns = tf.transpose(filter.reshape([4, 2, cout, cin]), [0, 3, 1, 2]).reshape([4, cin * 2 * cout]);
  return [0, 1, 2, 3].map((ab) => tf.slice(columns, [ab, 0], [1, cin * 2 * cout]).reshape([cin, 2 * cout]));
}

/** Forward pass: y [N, 2D, 2H, 2W, Cout]. */
export function transpose2Forward(x: tf.Tensor5D, filter: tf.Tensor5D): tf.Tensor5D {
  const [n, d, h, w, cin] = x.shape;
  const cout = filter.shape[3];
  const voxels = x.reshape([n * d * h * w, cin]);
  const matrices = blockMatrices(filter);

  // Output row 2h + b of depth 2d + a is the (a, b) product laid out as [W, (c, Cout)].
  const depthSlabs = [0, 1].map((a) => {
    const rows = [0, 1].map((b) => tf.matMul(voxels, matrices[2 * a + b]).reshape([n * d * h, w * 2 * cout]));
    return tf.concat(rows, 1).reshape([n * d, h * 2 * w * 2 * cout]);
  });
  return tf.concat(depthSlabs, 1).reshape([n, 2 * d, 2 * h, 2 * w, cout]);
}

/** Cuts dy [N, 2D, 2H, 2W, Cout] into the four (a, b) matrices [N*D*H*W, 2 * Cout]. */
function blockGradients(dy: tf.Tensor5D, xShape: readonly number[]): tf.Tensor2D[] {
  const [n, d, h, w] = xShape;
  const cout = dy.shape[4];
  const slab = 2 * h * 2 * w * cout;
  const row = 2 * w * cout;
  const depthPairs = dy.reshape([n * d, 2 * slab]);

  const blocks: tf.Tensor2D[] = [];
  for (let a = 0; a < 2; a++) {
    const rowPairs = tf.slice(depthPairs, [0, a * slab], [n * d, slab]).reshape([n * d * h, 2 * row]);
    for (let b = 0; b < 2; b++) {
      blocks.push(tf.slice(rowPairs, [0, b * row], [n * d * h, row]).reshape([n * d * h * w, 2 * cout]));
    }
  }
  return blocks;
}

/** Input gradient: dx [N, D, H, W, Cin]. */
export function transpose2InputGrad(dy: tf.Tensor5D, filter: tf.Tensor5D, xShape: readonly number[]): tf.Tensor5D {
  const [n, d, h, w, cin] = xShape;
  const blocks = blockGradients(dy, xShape);
  const matrices = blockMatrices(filter);
  const parts = blocks.map((block, ab) => tf.matMul(block, tf.transpose(matrices[ab])));
  return tf.addN(parts).reshape([n, d, h, w, cin]);
}

/** Filter gradient: dFilter [2, 2, 2, Cout, Cin]. */
export function transpose2FilterGrad(x: tf.Tensor5D, dy: tf.Tensor5D): tf.Tensor5D {
  const [n, d, h, w, cin] = x.shape;
  const cout = dy.shape[4];
  const voxelsT = tf.transpose(x.reshape([n * d * h * w, cin]));
  const parts = blockGradients(dy, x.shape).map((block) => tf.matMul(voxelsT, block));

  // parts[ab] is [Cin, (c, Cout)]; the filter layout is [a, b, c, Cout, Cin].
  const stacked = tf.stack(parts).reshape([4, cin, 2, cout]);
  return tf.transpose(stacked, [0, 2, 3, 1]).reshape([2, 2, 2, cout, cin]);
}
