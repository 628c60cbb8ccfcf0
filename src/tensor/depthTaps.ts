/**
 * Depth handling shared by the 3-D convolution kernels: a 3-D convolution is a sum over depth
 * taps of 2-D convolutions, each applied to the depth slices that the tap reads.
 *
 * Tensors are channels-last. Depth slices are selected through 2-D and 3-D views only, because
 * 5-D `slice` and `gather` are slow on the WASM backend.
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Splits `x` [N, D, H, W, C], padded with `padBefore` zero slices in front and zeros at the end
 * up to `depthPerPhase * stride` slices, into `stride` phases. Phase r is [N, depthPerPhase,
 * H*W*C] and contains the padded slices r, r + stride, r + 2*stride, ... Only the phases in
 * `requested` are built; the others are null.
 */
export function depthPhases(
  x: tf.Tensor5D,
  padBefore: number,
  depthPerPhase: number,
  stride: number,
  requested: ReadonlySet<number>,
): (tf.Tensor3D | null)[] {
  const [n, d, h, w, c] = x.shape;
  const plane = h * w * c;
  const total = depthPerPhase * stride;
  const padAfter = total - d - padBefore;
  if (padAfter < 0) {
    throw new Error(`depthPhases: ${total} padded slices are too few for ${d} slices after ${padBefore} zero slices; this is a bug in the caller`);
  }

  const padded = tf.pad(x.reshape([n, d, plane]), [
    [0, 0],
    [padBefore, padAfter],
    [0, 0],
  ]) as tf.Tensor3D;
  if (stride === 1) {
    return [padded];
  }

  // Consecutive slices r and r + 1 sit side by side in one row of the grouped view.
  const grouped = padded.reshape([n, depthPerPhase, stride * plane]);
  const phases: (tf.Tensor3D | null)[] = [];
  for (let r = 0; r < stride; r++) {
    phases.push(requested.has(r) ? tf.slice(grouped as tf.Tensor3D, [0, 0, r * plane], [n, depthPerPhase, plane]) : null);
  }
  return phases;
}

/** Selects `count` consecutive slices from `first` in a phase [N, depthPerPhase, plane], as [N * count, plane]. */
export function depthWindow(phase: tf.Tensor3D, first: number, count: number): tf.Tensor2D {
  const [n, depthPerPhase, plane] = phase.shape;
  const rows = phase.reshape([n, depthPerPhase * plane]);
  return tf.slice(rows, [0, first * plane], [n, count * plane]).reshape([n * count, plane]);
}

/** One depth tap: the 2-D filter [kh, kw, Cin, Cout] applied to padded depth slice stride * od + tap. */
export interface DepthTap {
  readonly tap: number;
  readonly filter: tf.Tensor4D;
}

/** In-plane settings passed to every `tf.conv2d` of a depth-tap convolution. */
export interface PlaneConv {
  readonly strides: 1 | 2;
  readonly pad: "same" | [[number, number], [number, number], [number, number], [number, number]];
}

/**
 * Computes y[n, od] = sum over taps of conv2d(xPadded[n, stride * od + tap], tap.filter), where
 * xPadded is `x` [N, D, H, W, Cin] with `padBefore` zero slices in front and zeros behind.
 * Returns [N, outDepth, Ho, Wo, Cout] with Ho, Wo from the in-plane convolution.
 */
export function depthTapConv(
  x: tf.Tensor5D,
  taps: readonly DepthTap[],
  stride: number,
  padBefore: number,
  outDepth: number,
  plane: PlaneConv,
): tf.Tensor5D {
  const [n, d, h, w, c] = x.shape;
  const maxShift = Math.max(...taps.map((t) => Math.floor(t.tap / stride)));
  const depthPerPhase = Math.max(Math.ceil((padBefore + d) / stride), outDepth + maxShift);
  const phases = depthPhases(x, padBefore, depthPerPhase, stride, new Set(taps.map((t) => t.tap % stride)));

  // Each tap's slices and the previous partial sum are freed at once, so that at most one input
  // window and three output-sized tensors (sum, output, next) are alive together.
  let sum: tf.Tensor4D | null = null;
  for (const t of taps) {
    const phase = phases[t.tap % stride];
    if (phase === null) {
      throw new Error(`depthTapConv: phase ${t.tap % stride} was not built`);
    }
    const slices = depthWindow(phase, Math.floor(t.tap / stride), outDepth);
    const output = tf.conv2d(slices.reshape([n * outDepth, h, w, c]) as tf.Tensor4D, t.filter, plane.strides, plane.pad);
    slices.dispose();
    if (sum === null) {
      sum = output;
    } else {
      const next: tf.Tensor4D = tf.add(sum, output);
      tf.dispose([sum, output]);
      sum = next;
    }
  }
  tf.dispose(phases.filter((phase): phase is tf.Tensor3D => phase !== null));

  if (sum === null) {
    throw new Error("depthTapConv: no taps given");
  }
  const [, ho, wo, cout] = sum.shape;
  return sum.reshape([n, outDepth, ho, wo, cout]);
}
