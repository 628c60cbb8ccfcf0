/**
 * Per-channel operations of a channels-last network with gradients that avoid the WASM backend's
 * slow paths. TensorFlow.js differentiates a broadcast `add` or `sub` with `sum` over the
 * broadcast axes, and `concat` with `split`. On 5-D tensors both run through the slow generic
 * transpose and slice kernels. Here every reduction over voxels is a `matMul` with a row of
 * ones, and every channel split is a 2-D `slice`.
 *
 * Layout: x [N, D, H, W, C]; per-channel parameters are [C].
 */
import * as tf from "@tensorflow/tfjs";

/** Sums x [N, D, H, W, C] over D, H and W for each sample: returns [N, C]. Empty volumes give zeros. */
function voxelSum(x: tf.Tensor): tf.Tensor2D {
  const [n, d, h, w, c] = x.shape as [number, number, number, number, number];
  const voxels = d * h * w;
  const ones = tf.ones([n, 1, voxels]) as tf.Tensor3D;
  return tf.matMul(ones, x.reshape([n, voxels, c]) as tf.Tensor3D).reshape([n, c]);
}

/** Sums x [N, D, H, W, C] over N, D, H and W: returns [C]. */
function channelSum(x: tf.Tensor): tf.Tensor1D {
  const c = x.shape[x.rank - 1]!;
  const rows = x.size / c;
  return tf.matMul(tf.ones([1, rows]), x.reshape([rows, c])).reshape([c]);
}

/** Expands per-sample values [N, C] to broadcast against [N, D, H, W, C]. */
function perSample(values: tf.Tensor2D): tf.Tensor5D {
  const [n, c] = values.shape;
  return values.reshape([n, 1, 1, 1, c]);
}

const biasOp = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, bias] = inputs as [tf.Tensor5D, tf.Tensor1D];
  return {
    value: tf.add(x, bias) as tf.Tensor5D,
    gradFunc: (dy: tf.Tensor5D) => [dy.clone(), tf.tidy(() => channelSum(dy))],
  };
});

/** y = x + bias with x [N, D, H, W, C] and bias [C]; y has x's shape. */
export function addChannelBias(x: tf.Tensor5D, bias: tf.Tensor1D): tf.Tensor5D {
  return biasOp(x, bias) as tf.Tensor5D;
}

/**
 * Affine instance norm: each sample's channel is normalised over D, H, W with the biased variance,
 * then scaled and shifted: y = (x - mean) / sqrt(var + eps) * scale + shift. x and y are
 * [N, D, H, W, C]; scale and shift are [C]. This matches torch.nn.InstanceNorm3d(affine=True).
 */
export function instanceNorm(x: tf.Tensor5D, scale: tf.Tensor1D, shift: tf.Tensor1D, eps: number): tf.Tensor5D {
  const op = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, gamma, beta, save] = inputs as [tf.Tensor5D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const voxels = input.shape[1] * input.shape[2] * input.shape[3];

    const [normalised, inverseStd] = tf.tidy(() => {
      const mean = tf.div(voxelSum(input), voxels) as tf.Tensor2D;
      const centered = tf.sub(input, perSample(mean));
      const variance = tf.div(voxelSum(tf.square(centered)), voxels) as tf.Tensor2D;
      const inverse = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor2D;
      return [tf.mul(centered, perSample(inverse)) as tf.Tensor5D, inverse];
    });
    save([normalised, inverseStd, gamma]);

    return {
      value: tf.tidy(() => tf.add(tf.mul(normalised, gamma), beta) as tf.Tensor5D),
      gradFunc: (dy: tf.Tensor5D, saved: tf.Tensor[]) => {
        const [xHat, inverse, g] = saved as [tf.Tensor5D, tf.Tensor2D, tf.Tensor1D];
        return tf.tidy(() => {
          // dx = inverse * (dxHat - mean(dxHat) - xHat * mean(dxHat * xHat)), means over voxels.
          const dxHat = tf.mul(dy, g);
          const meanGrad = tf.div(voxelSum(dxHat), voxels) as tf.Tensor2D;
          const meanGradXHat = tf.div(voxelSum(tf.mul(dxHat, xHat)), voxels) as tf.Tensor2D;
          const inner = tf.sub(tf.sub(dxHat, perSample(meanGrad)), tf.mul(xHat, perSample(meanGradXHat)));
          const dx = tf.mul(inner, perSample(inverse));
          return [dx, channelSum(tf.mul(dy, xHat)), channelSum(dy)];
        });
      },
    };
  });
  return op(x, scale, shift) as tf.Tensor5D;
}

const concatOp = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b] = inputs as [tf.Tensor5D, tf.Tensor5D];
  const ca = a.shape[4];
  const cb = b.shape[4];
  return {
    value: tf.concat([a, b], 4) as tf.Tensor5D,
    gradFunc: (dy: tf.Tensor5D) =>
      tf.tidy(() => {
        const rows = dy.reshape([dy.size / (ca + cb), ca + cb]) as tf.Tensor2D;
        return [
          tf.slice(rows, [0, 0], [-1, ca]).reshape(a.shape),
          tf.slice(rows, [0, ca], [-1, cb]).reshape(b.shape),
        ];
      }),
  };
});

/** Concatenates a [N, D, H, W, Ca] and b [N, D, H, W, Cb] along channels: [N, D, H, W, Ca + Cb]. */
export function concatChannels(a: tf.Tensor5D, b: tf.Tensor5D): tf.Tensor5D {
  const [na, da, ha, wa] = a.shape;
  const [nb, db, hb, wb] = b.shape;
  if (na !== nb || da !== db || ha !== hb || wa !== wb) {
    throw new Error(
      `concatChannels: shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] differ outside the channel axis; ` +
        "crop or pad one of them to the other's N, D, H, W",
    );
  }
  return concatOp(a, b) as tf.Tensor5D;
}
