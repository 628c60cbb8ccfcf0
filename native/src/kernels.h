// 3-D convolution kernels on float32, channels-last, for one thread. See kernels.cc.
#pragma once

namespace fancl {

// Shapes of one convolution y = conv(x, w): x [n, id, ih, iw, ci], w [k, k, k, ci, co],
// y [n, od, oh, ow, co]; stride s on every axis; pd, ph, pw input voxels of zero padding before
// each axis (padding after is whatever the output size needs).
struct ConvShape {
  int n, id, ih, iw, ci;
  int od, oh, ow, co;
  int k, s;
  int pd, ph, pw;
};

// y = conv(x, w). y is overwritten.
void conv_forward(const ConvShape& g, const float* x, const float* w, float* y);
// dx = gradient of the loss with respect to x, given dy. dx is overwritten.
void conv_backprop_input(const ConvShape& g, const float* dy, const float* w, float* dx);
// dw = gradient with respect to w, given x and dy. dw is overwritten.
void conv_backprop_filter(const ConvShape& g, const float* x, const float* dy, float* dw);
// True when this CPU runs the AVX-512 kernels; false means the portable loops are used.
bool conv_uses_avx512();

}  // namespace fancl
