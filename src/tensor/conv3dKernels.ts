/**
 * Forward pass and both gradients of a 'same'-padded 3-D convolution, built from the kernels that
 * are fast on the WASM backend: `conv2d` (XNNPACK), plain `matMul`, 2-D and 3-D `slice`, `pad`,
 * `concat` along rows, and 4-D `transpose`.
 *
 * Layout is channels-last everywhere: x [N, D, H, W, Cin], filter [kd, kh, kw, Cin, Cout],
 * y and dy [N, Do, Ho, Wo, Cout] with Do = ceil(D / stride), and so on. Supported shapes are
 * kernel 3x3x3 with stride 1 or 2 and kernel 1x1x1 with stride 1 (see `hasFastKernel`).
 */
import * as tf from "@tensorflow/tfjs";
import { type DepthTap, depthPhases, depthTapConv } from "./depthTaps.js";
import { samePadding } from "./padding.js";

/** Tells whether the kernels below handle this filter size and stride. */
export function hasFastKernel(filterShape: readonly number[], stride: number): boolean {
  const [kd, kh, kw] = filterShape;
  if (kd === 3 && kh === 3 && kw === 3) {
    return stride === 1 || stride === 2;
  }
  return kd === 1 && kh === 1 && kw === 1 && stride === 1;
}

/** Splits a filter [kd, kh, kw, Cin, Cout] into its kd depth taps, each [kh, kw, Cin, Cout]. */
function depthTapsOf(filter: tf.Tensor5D): DepthTap[] {
  const [kd, kh, kw, cin, cout] = filter.shape;
  const rows = filter.reshape([kd, kh * kw * cin * cout]);
  const taps: DepthTap[] = [];
  for (let tap = 0; tap < kd; tap++) {
    const filter2d = tf.slice(rows, [tap, 0], [1, kh * kw * cin * cout]).reshape([kh, kw, cin, cout]);
    taps.push({ tap, filter: filter2d as tf.Tensor4D });
  }
  return taps;
}

/** Forward pass: y [N, ceil(D/s), ceil(H/s), ceil(W/s), Cout]. */
export function conv3dForward(x: tf.Tensor5D, filter: tf.Tensor5D, stride: 1 | 2): tf.Tensor5D {
  const [n, d, h, w, cin] = x.shape;
  const [kd, , , , cout] = filter.shape;

  if (kd === 1) {
    const y = tf.matMul(x.reshape([n * d * h * w, cin]), filter.reshape([cin, cout]));
    return y.reshape([n, d, h, w, cout]);
  }

  const depth = samePadding(d, kd, stride);
  return depthTapConv(x, depthTapsOf(filter), stride, depth.before, depth.out, { strides: stride, pad: "same" });
}

/**
 * Returns the filter flipped in all three spatial axes with input and output channels swapped:
 * flipped[t, u, v, co, ci] = filter[kd-1-t, kh-1-u, kw-1-v, ci, co], shape [kd, kh, kw, Cout, Cin].
 */
function flippedTransposedFilter(filter: tf.Tensor5D): tf.Tensor5D {
  const [kd, kh, kw, cin, cout] = filter.shape;
  const taps = kd * kh * kw;
  const source = filter.dataSync();
  const target = new Float32Array(source.length);
  for (let tap = 0; tap < taps; tap++) {
    const from = (taps - 1 - tap) * cin * cout;
    const to = tap * cin * cout;
    for (let ci = 0; ci < cin; ci++) {
      for (let co = 0; co < cout; co++) {
        target[to + co * cin + ci] = source[from + ci * cout + co];
      }
    }
  }
  return tf.tensor5d(target, [kd, kh, kw, cout, cin]);
}

/** One kernel row or column of a stride-2 phase: tap t of the filter reads dy at offset j. */
interface PhaseTap {
  readonly t: number;
  readonly j: number;
}

/**
 * Lists, for output phase r (dx index 2m + r) along an axis with kernel k and 'same' padding
 * `before`, the filter taps that reach it and the dy offset each reads: dx[2m + r] gets
 * filter[t] * dy[m + j] with t = r + before - 2j. Sorted by j.
 */
function stride2PhaseTaps(r: number, before: number, kernel: number): PhaseTap[] {
  const taps: PhaseTap[] = [];
  for (let j = -kernel; j <= kernel; j++) {
    const t = r + before - 2 * j;
    if (t >= 0 && t < kernel) {
      taps.push({ t, j });
    }
  }
  return taps;
}

/** Drops trailing voxels so that t [N, D', H', W', C] becomes [N, d, h, w, C], using 2-D views only. */
function cropEnd(t: tf.Tensor5D, d: number, h: number, w: number): tf.Tensor5D {
  const [n, dd, hh, ww, c] = t.shape;
  let cropped: tf.Tensor = t;
  if (ww > w) {
    cropped = tf.slice(cropped.reshape([n * dd * hh, ww * c]), [0, 0], [n * dd * hh, w * c]);
  }
  if (hh > h) {
    cropped = tf.slice(cropped.reshape([n * dd, hh * w * c]), [0, 0], [n * dd, h * w * c]);
  }
  if (dd > d) {
    cropped = tf.slice(cropped.reshape([n, dd * h * w * c]), [0, 0], [n, d * h * w * c]);
  }
  return cropped.reshape([n, d, h, w, c]);
}

/**
 * Input gradient of the stride-2 convolution, computed phase by phase without zero insertion.
 * Each (depth phase, row phase) pair is a stride-1 depth-tap convolution of dy. Its output
 * channels are (column phase, Cin), so one output row already interleaves both column phases.
 * `concat` of 2-D views then interleaves the row and depth phases, and the result
 * [N, 2Do, 2Ho, 2Wo, Cin] is cropped to x's shape.
 */
function inputGradStride2(dy: tf.Tensor5D, filter: tf.Tensor5D, xShape: readonly number[]): tf.Tensor5D {
  const [n, d, h, w, cin] = xShape;
  const [kd, kh, kw, , cout] = filter.shape;
  const [, dOut, hOut, wOut] = dy.shape;
  const before = [samePadding(d, kd, 2).before, samePadding(h, kh, 2).before, samePadding(w, kw, 2).before];
  const source = filter.dataSync();

  // Both column phases share one kernel window, so they become the output channels of one conv2d.
  const columnTaps = [0, 1].map((rw) => stride2PhaseTaps(rw, before[2], kw));
  const columnOffsets = [...new Set(columnTaps.flat().map((p) => p.j))].sort((a, b) => a - b);
  const columnPad: [number, number] = [-columnOffsets[0], columnOffsets[columnOffsets.length - 1]];

  const depthSlabs: tf.Tensor2D[] = [];
  for (let rd = 0; rd < 2; rd++) {
    const depthTaps = stride2PhaseTaps(rd, before[0], kd);
    const depthPad = Math.max(0, -depthTaps[0].j);
    const rowSlabs: tf.Tensor2D[] = [];

    for (let rh = 0; rh < 2; rh++) {
      const rowTaps = stride2PhaseTaps(rh, before[1], kh);
      const rows = rowTaps.length;
      const cols = columnOffsets.length;

      const taps: DepthTap[] = depthTaps.map(({ t: td, j: jd }) => {
        // kernel[a, b, co, rw * Cin + ci] = filter[td, th, tw, ci, co] for the taps of this phase.
        const kernel = new Float32Array(rows * cols * cout * 2 * cin);
        rowTaps.forEach(({ t: th }, a) => {
          columnOffsets.forEach((jw, b) => {
            for (let rw = 0; rw < 2; rw++) {
              const match = columnTaps[rw].find((p) => p.j === jw);
              if (match === undefined) {
                continue;
              }
              const from = ((td * kh + th) * kw + match.t) * cin * cout;
              const to = (a * cols + b) * cout * 2 * cin;
              for (let ci = 0; ci < cin; ci++) {
                for (let co = 0; co < cout; co++) {
                  kernel[to + co * 2 * cin + rw * cin + ci] = source[from + ci * cout + co];
                }
              }
            }
          });
        });
        return { tap: jd + depthPad, filter: tf.tensor4d(kernel, [rows, cols, cout, 2 * cin]) };
      });

      const rowPad: [number, number] = [-rowTaps[0].j, rowTaps[rows - 1].j];
      const phase = depthTapConv(dy, taps, 1, depthPad, dOut, {
        strides: 1,
        pad: [[0, 0], rowPad, columnPad, [0, 0]],
      });
      rowSlabs.push(phase.reshape([n * dOut * hOut, 2 * wOut * cin]));
    }

    depthSlabs.push(tf.concat(rowSlabs, 1).reshape([n * dOut, 2 * hOut * 2 * wOut * cin]));
  }

  const interleaved = tf.concat(depthSlabs, 1).reshape([n, 2 * dOut, 2 * hOut, 2 * wOut, cin]);
  return cropEnd(interleaved as tf.Tensor5D, d, h, w);
}

/** Input gradient: dx [N, D, H, W, Cin] for upstream gradient dy [N, Do, Ho, Wo, Cout]. */
export function conv3dInputGrad(
  dy: tf.Tensor5D,
  filter: tf.Tensor5D,
  stride: 1 | 2,
  xShape: readonly number[],
): tf.Tensor5D {
  const [n, d, h, w, cin] = xShape;
  const [kd, , , , cout] = filter.shape;

  if (kd === 1) {
    const dx = tf.matMul(dy.reshape([n * d * h * w, cout]), tf.transpose(filter.reshape([cin, cout])));
    return dx.reshape([n, d, h, w, cin]);
  }
  if (stride === 2) {
    return inputGradStride2(dy, filter, xShape);
  }

  // With stride 1 and an odd kernel the input gradient is a 'same' convolution with the flipped kernel.
  const flipped = flippedTransposedFilter(filter);
  return depthTapConv(dy, depthTapsOf(flipped), 1, (kd - 1) / 2, d, { strides: 1, pad: "same" });
}

/**
 * Moves channels to the front: a phase [N, Dp, H*W*C] becomes the image [C, H, W, N*Dp].
 * Two steps (a 2-D transpose, then swapping whole rows of N*Dp values) take about a third of the
 * time of the one 4-D `transpose` on the WASM backend (measured: 113 ms against 294 ms for
 * 132x64x64x32 values).
 */
function channelsToBatch(phase: tf.Tensor3D, height: number, width: number, channels: number): tf.Tensor4D {
  const [n, depth, plane] = phase.shape;
  const batchLast = tf.transpose(phase.reshape([n * depth, plane]));
  const channelsFirst = tf.transpose(batchLast.reshape([height * width, channels, n * depth]), [1, 0, 2]);
  return channelsFirst.reshape([channels, height, width, n * depth]) as tf.Tensor4D;
}

/**
 * Filter gradient: dFilter [kd, kh, kw, Cin, Cout].
 *
 * For each depth tap, dFilter[tap] = sum over n, od, oh, ow of x[n, s*od + tap, s*oh + u, s*ow + v, ci]
 * * dy[n, od, oh, ow, co] (in padded coordinates). That sum is one `conv2d`. Its image is x with
 * Cin as the batch and (n, depth) as the channels. Its kernel is dy with (n, depth) as the input
 * channels, dilated by the stride. XNNPACK runs it as one GEMM without an explicit im2col matrix.
 */
export function conv3dFilterGrad(
  x: tf.Tensor5D,
  dy: tf.Tensor5D,
  filterShape: readonly number[],
  stride: 1 | 2,
): tf.Tensor5D {
  const [n, d, h, w, cin] = x.shape;
  const [kd, kh, kw, , cout] = filterShape;
  const [, dOut, hOut, wOut] = dy.shape;

  if (kd === 1) {
    const grad = tf.matMul(tf.transpose(x.reshape([n * d * h * w, cin])), dy.reshape([n * d * h * w, cout]));
    return grad.reshape([1, 1, 1, cin, cout]);
  }

  const depth = samePadding(d, kd, stride);
  const rowPad = samePadding(h, kh, stride);
  const columnPad = samePadding(w, kw, stride);
  const maxShift = Math.floor((kd - 1) / stride);
  const depthPerPhase = Math.max(Math.ceil((depth.before + d) / stride), dOut + maxShift);
  const taps = Array.from({ length: kd }, (_, tap) => tap);
  const phases = depthPhases(x, depth.before, depthPerPhase, stride, new Set(taps.map((t) => t % stride)));

  const images = phases.map((phase) => (phase === null ? null : channelsToBatch(phase, h, w, cin)));
  const dyRows = tf.transpose(dy.reshape([n * dOut, hOut, wOut, cout]), [1, 2, 0, 3]).reshape([hOut * wOut * n, dOut, cout]);

  const perTap = taps.map((tap) => {
    const image = images[tap % stride];
    if (image === null) {
      throw new Error(`conv3dFilterGrad: phase ${tap % stride} was not built`);
    }
    const shift = Math.floor(tap / stride);
    const kernel = tf
      .pad(dyRows, [
        [0, 0],
        [shift, depthPerPhase - dOut - shift],
        [0, 0],
      ])
      .reshape([hOut, wOut, n * depthPerPhase, cout]) as tf.Tensor4D;
    return tf.conv2d(
      image as tf.Tensor4D,
      kernel,
      1,
      [
        [0, 0],
        [rowPad.before, rowPad.after],
        [columnPad.before, columnPad.after],
        [0, 0],
      ],
      "NHWC",
      stride,
    );
  });

  // perTap[tap] is [Cin, kh, kw, Cout]; the filter layout wants the taps before Cin.
  const stacked = tf.stack(perTap).reshape([kd, cin, kh * kw, cout]);
  return tf.transpose(stacked, [0, 2, 1, 3]).reshape([kd, kh, kw, cin, cout]);
}
