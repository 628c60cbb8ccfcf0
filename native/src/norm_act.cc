// Instance norm + leaky ReLU in two passes over the data forward and two backward.
//
// The data of one sample is walked as rows of B floats, B = c when c is a multiple of 16, else
// 16 when c divides 16 (1, 2, 4, 8 channels) and the sample has whole rows of 16, else c. Lane j
// of a row contains channel j mod c, so the inner loops run over B contiguous floats, which the
// compiler vectorises, and per-channel constants are expanded to B lanes. Sums are accumulated in
// float for blocks of rows and then added in double, so their rounding error does not grow with
// the volume. Each function is compiled for AVX-512 and for plain x86-64 (GCC target_clones),
// and the loader picks the clone this CPU runs.
#include "norm_act.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace fancl {
namespace {

constexpr size_t kBlockRows = 1024;

// Row width B for c channels and `values` floats per sample (see the file comment); 16 needs
// whole rows, so a sample whose size is not a multiple of 16 uses B = c.
int lanes(int c, size_t values) {
  if (c % 16 == 0) return c;
  if (16 % c == 0 && values % 16 == 0) return 16;
  return c;
}

// Per-channel values [c] repeated over b lanes.
std::vector<float> expand(const float* values, int c, int b) {
  std::vector<float> out(b);
  for (int j = 0; j < b; j++) out[j] = values[j % c];
  return out;
}

// Adds the b lanes of `lane_sums` into per-channel sums [c].
void fold(const std::vector<double>& lane_sums, int c, std::vector<double>& channel_sums) {
  std::fill(channel_sums.begin(), channel_sums.end(), 0.0);
  for (size_t j = 0; j < lane_sums.size(); j++) channel_sums[j % c] += lane_sums[j];
}

// out[j] = sum over rows r of f(data[r·b + j], j, r), in float blocks of rows added in double.
template <typename F>
__attribute__((always_inline)) inline void lane_sums(const float* data, size_t rows, int b, std::vector<double>& out,
                                                     F f) {
  std::vector<float> block(b);
  std::fill(out.begin(), out.end(), 0.0);
  for (size_t start = 0; start < rows; start += kBlockRows) {
    const size_t end = std::min(rows, start + kBlockRows);
    std::fill(block.begin(), block.end(), 0.0f);
    float* acc = block.data();
    for (size_t r = start; r < end; r++) {
      const float* row = data + r * b;
      for (int j = 0; j < b; j++) acc[j] += f(row[j], j, r);
    }
    for (int j = 0; j < b; j++) out[j] += acc[j];
  }
}

}  // namespace

__attribute__((target_clones("arch=x86-64-v4", "default")))
void norm_act_forward(const NormActShape& g, const float* x, const float* gamma, const float* beta, float* y,
                      float* mean, float* inv_std) {
  const int c = g.c;
  const int b = lanes(c, (size_t)g.voxels * c);
  const size_t rows = (size_t)g.voxels * c / b;
  std::vector<double> sums(b), channel(c);
  std::vector<float> m(c), scale(c), offset(c);
  for (int n = 0; n < g.n; n++) {
    const float* xs = x + (size_t)n * g.voxels * c;
    float* ys = y + (size_t)n * g.voxels * c;
    lane_sums(xs, rows, b, sums, [](float v, int, size_t) { return v; });
    fold(sums, c, channel);
    for (int k = 0; k < c; k++) m[k] = (float)(channel[k] / g.voxels);
    const std::vector<float> mb = expand(m.data(), c, b);
    const float* mp = mb.data();
    lane_sums(xs, rows, b, sums, [mp](float v, int j, size_t) {
      const float d = v - mp[j];
      return d * d;
    });
    fold(sums, c, channel);
    for (int k = 0; k < c; k++) {
      const float inv = (float)(1.0 / std::sqrt(channel[k] / g.voxels + g.eps));
      mean[n * c + k] = m[k];
      inv_std[n * c + k] = inv;
      scale[k] = inv * gamma[k];
      offset[k] = beta[k] - m[k] * scale[k];
    }
    const std::vector<float> sb = expand(scale.data(), c, b), ob = expand(offset.data(), c, b);
    const float* sp = sb.data();
    const float* op = ob.data();
    const float slope = g.slope;
    for (size_t r = 0; r < rows; r++) {
      const float* row = xs + r * b;
      float* out = ys + r * b;
      for (int j = 0; j < b; j++) {
        const float z = row[j] * sp[j] + op[j];
        out[j] = z > 0.0f ? z : z * slope;
      }
    }
  }
}

__attribute__((target_clones("arch=x86-64-v4", "default")))
void norm_act_backward(const NormActShape& g, const float* x, const float* mean, const float* inv_std,
                       const float* gamma, const float* beta, const float* dy, float* dx, float* dgamma,
                       float* dbeta, float* dbias) {
  const int c = g.c;
  const int b = lanes(c, (size_t)g.voxels * c);
  const size_t rows = (size_t)g.voxels * c / b;
  const float slope = g.slope;
  std::vector<double> sums(b), sum_dz(c), sum_dz_xhat(c), channel(c);
  std::vector<double> total_dgamma(c, 0.0), total_dbeta(c, 0.0), total_dx(c, 0.0);
  std::vector<float> a(c), bb(c), z_scale(c), z_offset(c), dz_scale(c), xhat_offset(c);
  for (int n = 0; n < g.n; n++) {
    const float* xs = x + (size_t)n * g.voxels * c;
    const float* dys = dy + (size_t)n * g.voxels * c;
    float* dxs = dx + (size_t)n * g.voxels * c;
    const float* m = mean + n * c;
    const float* inv = inv_std + n * c;
    // x̂ = x·inv_std + xhat_offset and z = x̂·gamma + beta = x·z_scale + z_offset.
    for (int k = 0; k < c; k++) {
      xhat_offset[k] = -m[k] * inv[k];
      z_scale[k] = inv[k] * gamma[k];
      z_offset[k] = beta[k] + xhat_offset[k] * gamma[k];
    }
    const std::vector<float> ib = expand(inv, c, b), xb = expand(xhat_offset.data(), c, b);
    const std::vector<float> zsb = expand(z_scale.data(), c, b), zob = expand(z_offset.data(), c, b);
    const float *ip = ib.data(), *xp = xb.data(), *zs = zsb.data(), *zo = zob.data();

    // Pass 1: sums of dz = dy · leaky'(z), plain and weighted by x̂.
    lane_sums(dys, rows, b, sums, [&](float grad, int j, size_t r) {
      const float v = xs[r * b + j];
      return v * zs[j] + zo[j] > 0.0f ? grad : grad * slope;
    });
    fold(sums, c, sum_dz);
    lane_sums(dys, rows, b, sums, [&](float grad, int j, size_t r) {
      const float v = xs[r * b + j];
      const float dz = v * zs[j] + zo[j] > 0.0f ? grad : grad * slope;
      return dz * (v * ip[j] + xp[j]);
    });
    fold(sums, c, sum_dz_xhat);

    // dx = inv_std · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) with dx̂ = dz · gamma, that is
    // dx = dz · (inv_std · gamma) − x̂ · a − bb per channel.
    for (int k = 0; k < c; k++) {
      total_dgamma[k] += sum_dz_xhat[k];
      total_dbeta[k] += sum_dz[k];
      a[k] = (float)(inv[k] * gamma[k] * sum_dz_xhat[k] / g.voxels);
      bb[k] = (float)(inv[k] * gamma[k] * sum_dz[k] / g.voxels);
      dz_scale[k] = inv[k] * gamma[k];
    }
    const std::vector<float> ab = expand(a.data(), c, b), bbb = expand(bb.data(), c, b);
    const std::vector<float> db = expand(dz_scale.data(), c, b);
    const float *ap = ab.data(), *bp = bbb.data(), *dp = db.data();
    // Pass 2.
    for (size_t r = 0; r < rows; r++) {
      const float* row = xs + r * b;
      const float* grad = dys + r * b;
      float* out = dxs + r * b;
      for (int j = 0; j < b; j++) {
        const float v = row[j];
        const float dz = v * zs[j] + zo[j] > 0.0f ? grad[j] : grad[j] * slope;
        out[j] = dz * dp[j] - (v * ip[j] + xp[j]) * ap[j] - bp[j];
      }
    }
    lane_sums(dxs, rows, b, sums, [](float v, int, size_t) { return v; });
    fold(sums, c, channel);
    for (int k = 0; k < c; k++) total_dx[k] += channel[k];
  }
  for (int k = 0; k < c; k++) {
    dgamma[k] = (float)total_dgamma[k];
    dbeta[k] = (float)total_dbeta[k];
    dbias[k] = (float)total_dx[k];
  }
}

}  // namespace fancl
