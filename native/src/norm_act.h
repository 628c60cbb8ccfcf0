// Instance norm followed by leaky ReLU, fused, on float32 channels-last data. See norm_act.cc.
#pragma once

namespace fancl {

// Sizes: n samples of `voxels` voxels with c channels each; x, y, dy, dx are [n, voxels, c].
struct NormActShape {
  int n, voxels, c;
  float eps, slope;
};

// y = leaky(((x - mean) * inv_std) * gamma + beta), mean and inv_std = 1 / sqrt(var + eps) per
// sample and channel over the voxels (biased variance). mean and inv_std [n, c] are written for
// the backward pass.
void norm_act_forward(const NormActShape& g, const float* x, const float* gamma, const float* beta, float* y,
                      float* mean, float* inv_std);

// Gradients of the forward pass given dy: dx [n, voxels, c], and dgamma, dbeta, dbias [c], where
// dbias is the gradient of a per-channel bias added to x before the norm (the sum of dx).
void norm_act_backward(const NormActShape& g, const float* x, const float* mean, const float* inv_std,
                       const float* gamma, const float* beta, const float* dy, float* dx, float* dgamma,
                       float* dbeta, float* dbias);

}  // namespace fancl
