/**
 * 'same' padding as TensorFlow.js computes it for convolutions, per spatial axis.
 *
 * The output has ceil(size / stride) voxels. The total padding is
 * (out - 1) * stride + kernel - size, split with the smaller half before and the larger half
 * after, so a stride-2 3x3x3 convolution over an even size pads only at the end.
 *
 * NOTE: unlike TensorFlow's C++ kernels, TensorFlow.js does not clamp a negative total at zero.
 * For a stride-2 1x1x1 convolution over an even size the total is -1, so `before` is -1 and the
 * convolution reads the odd voxels 1, 3, 5, ... where TensorFlow and PyTorch read the even ones.
 */
export interface SamePadding {
  /** Output size along the axis, in voxels. */
  readonly out: number;
  /** Zero voxels added before the first input voxel; -1 means the first voxel is skipped. */
  readonly before: number;
  /** Zero voxels added after the last input voxel. */
  readonly after: number;
}

/** Returns TensorFlow's 'same' padding for one axis of `size` voxels. */
export function samePadding(size: number, kernel: number, stride: number): SamePadding {
  const out = Math.ceil(size / stride);
  const total = (out - 1) * stride + kernel - size;
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}
