// Instance norm + leaky ReLU in two passes over the data forward and two backward. The sums run
// in double precision; the voxel loops are inner loops over contiguous channels, which the
// compiler vectorises.
#include "norm_act.h"

#include <cmath>
#include <cstddef>
#include <vector>

namespace fancl {

void norm_act_forward(const NormActShape& g, const float* x, const float* gamma, const float* beta, float* y,
                      float* mean, float* inv_std) {
  const int c = g.c;
  std::vector<double> sum(c), squares(c);
  std::vector<float> scale(c), offset(c);
  for (int n = 0; n < g.n; n++) {
    const float* xs = x + (size_t)n * g.voxels * c;
    float* ys = y + (size_t)n * g.voxels * c;
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(squares.begin(), squares.end(), 0.0);
    for (int v = 0; v < g.voxels; v++) {
      const float* row = xs + (size_t)v * c;
      for (int k = 0; k < c; k++) sum[k] += row[k];
    }
    for (int k = 0; k < c; k++) mean[n * c + k] = (float)(sum[k] / g.voxels);
    const float* m = mean + n * c;
    for (int v = 0; v < g.voxels; v++) {
      const float* row = xs + (size_t)v * c;
      for (int k = 0; k < c; k++) {
        const double d = (double)row[k] - m[k];
        squares[k] += d * d;
      }
    }
    for (int k = 0; k < c; k++) {
      const float inv = (float)(1.0 / std::sqrt(squares[k] / g.voxels + g.eps));
      inv_std[n * c + k] = inv;
      scale[k] = inv * gamma[k];
      offset[k] = beta[k] - m[k] * scale[k];
    }
    for (int v = 0; v < g.voxels; v++) {
      const float* row = xs + (size_t)v * c;
      float* out = ys + (size_t)v * c;
      for (int k = 0; k < c; k++) {
        const float z = row[k] * scale[k] + offset[k];
        out[k] = z > 0.0f ? z : z * g.slope;
      }
    }
  }
}

void norm_act_backward(const NormActShape& g, const float* x, const float* mean, const float* inv_std,
                       const float* gamma, const float* beta, const float* dy, float* dx, float* dgamma,
                       float* dbeta, float* dbias) {
  const int c = g.c;
  std::vector<double> sum_dz(c), sum_dz_xhat(c), sum_dx(c, 0.0), total_dgamma(c, 0.0), total_dbeta(c, 0.0);
  std::vector<float> a(c), b(c);
  for (int n = 0; n < g.n; n++) {
    const float* xs = x + (size_t)n * g.voxels * c;
    const float* dys = dy + (size_t)n * g.voxels * c;
    float* dxs = dx + (size_t)n * g.voxels * c;
    const float* m = mean + n * c;
    const float* inv = inv_std + n * c;
    std::fill(sum_dz.begin(), sum_dz.end(), 0.0);
    std::fill(sum_dz_xhat.begin(), sum_dz_xhat.end(), 0.0);
    // Pass 1: dz = dy · leaky'(z) and its sums, plain and weighted by x̂.
    for (int v = 0; v < g.voxels; v++) {
      const float* row = xs + (size_t)v * c;
      const float* grad = dys + (size_t)v * c;
      for (int k = 0; k < c; k++) {
        const float xhat = (row[k] - m[k]) * inv[k];
        const float z = xhat * gamma[k] + beta[k];
        const float dz = z > 0.0f ? grad[k] : grad[k] * g.slope;
        sum_dz[k] += dz;
        sum_dz_xhat[k] += (double)dz * xhat;
      }
    }
    // dx = inv_std · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) with dx̂ = dz · gamma, so
    // dx = dz · (inv_std · gamma) − x̂ · a − b per channel.
    for (int k = 0; k < c; k++) {
      total_dgamma[k] += sum_dz_xhat[k];
      total_dbeta[k] += sum_dz[k];
      a[k] = (float)(inv[k] * gamma[k] * sum_dz_xhat[k] / g.voxels);
      b[k] = (float)(inv[k] * gamma[k] * sum_dz[k] / g.voxels);
    }
    // Pass 2.
    for (int v = 0; v < g.voxels; v++) {
      const float* row = xs + (size_t)v * c;
      const float* grad = dys + (size_t)v * c;
      float* out = dxs + (size_t)v * c;
      for (int k = 0; k < c; k++) {
        const float xhat = (row[k] - m[k]) * inv[k];
        const float z = xhat * gamma[k] + beta[k];
        const float dz = z > 0.0f ? grad[k] : grad[k] * g.slope;
        const float value = dz * inv[k] * gamma[k] - xhat * a[k] - b[k];
        out[k] = value;
        sum_dx[k] += value;
      }
    }
  }
  for (int k = 0; k < c; k++) {
    dgamma[k] = (float)total_dgamma[k];
    dbeta[k] = (float)total_dbeta[k];
    dbias[k] = (float)sum_dx[k];
  }
}

}  // namespace fancl
