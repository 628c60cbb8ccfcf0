// 3-D convolution kernels on float32, channels-last, one thread.
//
// Every pass first copies x (or allocates dx) into a zero-padded buffer of
// [n, (od-1)*s+k, (oh-1)*s+k, (ow-1)*s+k, ci] voxels, so the inner loops never test bounds.
// The AVX-512 paths are register-blocked. A tile of up to 8 rows (output voxels along W, or
// input channels for the filter gradient) by up to 32 columns (channels, two 16-lane vectors,
// masked at the edge) stays in registers. The reduction runs over the kernel taps and channels
// (forward, input gradient) or over the output voxels of a row (filter gradient).
// The portable paths compute the same sums with plain loops for CPUs without AVX-512.
#include "kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace fancl {
namespace {

// Sizes of the padded buffer along each axis.
struct Padded {
  int d, h, w;
};

Padded padded_size(const ConvShape& g) {
  return {(g.od - 1) * g.s + g.k, (g.oh - 1) * g.s + g.k, (g.ow - 1) * g.s + g.k};
}

size_t padded_index(const ConvShape& g, const Padded& p, int n, int z, int y, int x) {
  return ((((size_t)n * p.d + z) * p.h + y) * p.w + x) * g.ci;
}

// xp = x placed at offset (pd, ph, pw) in a zero buffer of the padded size; voxels of x past
// the padded size are not read by any output and are left out.
void pad_input(const ConvShape& g, const Padded& p, const float* x, std::vector<float>& xp) {
  xp.assign((size_t)g.n * p.d * p.h * p.w * g.ci, 0.0f);
  const int x_end = std::min(p.w, g.iw + g.pw);
  if (x_end <= g.pw) return;
  const size_t row = (size_t)(x_end - g.pw) * g.ci;
  for (int n = 0; n < g.n; n++) {
    for (int z = 0; z < p.d; z++) {
      const int iz = z - g.pd;
      if (iz < 0 || iz >= g.id) continue;
      for (int y = 0; y < p.h; y++) {
        const int iy = y - g.ph;
        if (iy < 0 || iy >= g.ih) continue;
        const float* src = x + ((((size_t)n * g.id + iz) * g.ih + iy) * g.iw) * g.ci;
        std::memcpy(xp.data() + padded_index(g, p, n, z, y, g.pw), src, row * sizeof(float));
      }
    }
  }
}

// dx = the part of the padded gradient dxp that lies on x; input voxels no output reads get 0.
void crop_gradient(const ConvShape& g, const Padded& p, const std::vector<float>& dxp, float* dx) {
  std::memset(dx, 0, (size_t)g.n * g.id * g.ih * g.iw * g.ci * sizeof(float));
  const int x_end = std::min(p.w, g.iw + g.pw);
  if (x_end <= g.pw) return;
  const size_t row = (size_t)(x_end - g.pw) * g.ci;
  for (int n = 0; n < g.n; n++) {
    for (int iz = 0; iz < g.id; iz++) {
      const int z = iz + g.pd;
      if (z >= p.d) continue;
      for (int iy = 0; iy < g.ih; iy++) {
        const int y = iy + g.ph;
        if (y >= p.h) continue;
        float* dst = dx + ((((size_t)n * g.id + iz) * g.ih + iy) * g.iw) * g.ci;
        std::memcpy(dst, dxp.data() + padded_index(g, p, n, z, y, g.pw), row * sizeof(float));
      }
    }
  }
}

// w [taps, ci, co] -> [taps, co, ci].
std::vector<float> transpose_filter(const ConvShape& g, const float* w) {
  const int taps = g.k * g.k * g.k;
  std::vector<float> wt((size_t)taps * g.ci * g.co);
  for (int t = 0; t < taps; t++) {
    const float* src = w + (size_t)t * g.ci * g.co;
    float* dst = wt.data() + (size_t)t * g.ci * g.co;
    for (int i = 0; i < g.ci; i++) {
      for (int o = 0; o < g.co; o++) dst[(size_t)o * g.ci + i] = src[(size_t)i * g.co + o];
    }
  }
  return wt;
}

// ---------------------------------------------------------------------------------------------
// Portable loops.

// Calls f(v, t, x) for every output voxel v (its index in [n, od, oh, ow]), every kernel tap t
// (its index in [k, k, k]) and the index x of the padded input voxel that tap reads.
template <typename F>
void for_each_tap(const ConvShape& g, const Padded& p, F f) {
  size_t v = 0;
  for (int n = 0; n < g.n; n++)
    for (int oz = 0; oz < g.od; oz++)
      for (int oy = 0; oy < g.oh; oy++)
        for (int ox = 0; ox < g.ow; ox++, v++)
          for (int kd = 0; kd < g.k; kd++)
            for (int kh = 0; kh < g.k; kh++)
              for (int kw = 0; kw < g.k; kw++) {
                f(v, (kd * g.k + kh) * g.k + kw, padded_index(g, p, n, oz * g.s + kd, oy * g.s + kh, ox * g.s + kw));
              }
}

void forward_generic(const ConvShape& g, const Padded& p, const float* xp, const float* w, float* y) {
  std::fill(y, y + (size_t)g.n * g.od * g.oh * g.ow * g.co, 0.0f);
  for_each_tap(g, p, [&](size_t v, int t, size_t x) {
    float* out = y + v * g.co;
    const float* wk = w + (size_t)t * g.ci * g.co;
    for (int i = 0; i < g.ci; i++) {
      const float value = xp[x + i];
      for (int o = 0; o < g.co; o++) out[o] += value * wk[(size_t)i * g.co + o];
    }
  });
}

void backprop_input_generic(const ConvShape& g, const Padded& p, const float* dy, const float* wt, float* dxp) {
  for_each_tap(g, p, [&](size_t v, int t, size_t x) {
    const float* grad = dy + v * g.co;
    const float* wk = wt + (size_t)t * g.ci * g.co;
    for (int o = 0; o < g.co; o++) {
      const float value = grad[o];
      for (int i = 0; i < g.ci; i++) dxp[x + i] += value * wk[(size_t)o * g.ci + i];
    }
  });
}

void backprop_filter_generic(const ConvShape& g, const Padded& p, const float* xp, const float* dy, float* dw) {
  for_each_tap(g, p, [&](size_t v, int t, size_t x) {
    const float* grad = dy + v * g.co;
    float* wk = dw + (size_t)t * g.ci * g.co;
    for (int i = 0; i < g.ci; i++) {
      const float value = xp[x + i];
      for (int o = 0; o < g.co; o++) wk[(size_t)i * g.co + o] += value * grad[o];
    }
  });
}

// ---------------------------------------------------------------------------------------------
// AVX-512 tiles.

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,fma")

// Lanes [0, count) set, count clamped to [0, 16].
inline __mmask16 lane_mask(int count) {
  if (count >= 16) return 0xFFFF;
  if (count <= 0) return 0;
  return (__mmask16)((1u << count) - 1);
}

// Forward tile: y[r, c] = sum over taps t and input channels i of x[r*rs + off(t) + i] * w[t, i, c]
// for MR output voxels r and NR*16 output channels c (masked by m0, m1).
template <int MR, int NR>
void forward_tile(const float* x, int rs, const float* w, const ConvShape& g, const Padded& p, __mmask16 m0,
                  __mmask16 m1, float* y) {
  __m512 acc[MR][NR];
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++)
    _Pragma("GCC unroll 2") for (int j = 0; j < NR; j++) acc[r][j] = _mm512_setzero_ps();
  const size_t plane = (size_t)p.h * p.w * g.ci;
  const size_t row = (size_t)p.w * g.ci;
  for (int kd = 0; kd < g.k; kd++)
    for (int kh = 0; kh < g.k; kh++)
      for (int kw = 0; kw < g.k; kw++) {
        const float* xt = x + kd * plane + kh * row + (size_t)kw * g.ci;
        const float* wt = w + (size_t)((kd * g.k + kh) * g.k + kw) * g.ci * g.co;
        for (int i = 0; i < g.ci; i++) {
          const float* wr = wt + (size_t)i * g.co;
          __m512 w0 = _mm512_maskz_loadu_ps(m0, wr);
          __m512 w1 = NR > 1 ? _mm512_maskz_loadu_ps(m1, wr + 16) : w0;
          _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {
            const __m512 v = _mm512_set1_ps(xt[(size_t)r * rs + i]);
            acc[r][0] = _mm512_fmadd_ps(v, w0, acc[r][0]);
            if (NR > 1) acc[r][NR - 1] = _mm512_fmadd_ps(v, w1, acc[r][NR - 1]);
          }
        }
      }
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {
    _mm512_mask_storeu_ps(y + (size_t)r * g.co, m0, acc[r][0]);
    if (NR > 1) _mm512_mask_storeu_ps(y + (size_t)r * g.co + 16, m1, acc[r][NR - 1]);
  }
}

// Input-gradient tile for one tap: dxp[r*rs + c] += sum over output channels o of
// dy[r*co + o] * wt[o, c] for MR output voxels r and NR*16 input channels c.
template <int MR, int NR>
void input_tile(const float* dy, const float* wt, const ConvShape& g, __mmask16 m0, __mmask16 m1, float* dxp,
                int rs) {
  __m512 acc[MR][NR];
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++)
    _Pragma("GCC unroll 2") for (int j = 0; j < NR; j++) acc[r][j] = _mm512_setzero_ps();
  for (int o = 0; o < g.co; o++) {
    const float* wr = wt + (size_t)o * g.ci;
    __m512 w0 = _mm512_maskz_loadu_ps(m0, wr);
    __m512 w1 = NR > 1 ? _mm512_maskz_loadu_ps(m1, wr + 16) : w0;
    _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {
      const __m512 v = _mm512_set1_ps(dy[(size_t)r * g.co + o]);
      acc[r][0] = _mm512_fmadd_ps(v, w0, acc[r][0]);
      if (NR > 1) acc[r][NR - 1] = _mm512_fmadd_ps(v, w1, acc[r][NR - 1]);
    }
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {
    float* out = dxp + (size_t)r * rs;
    _mm512_mask_storeu_ps(out, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, out), acc[r][0]));
    if (NR > 1) {
      _mm512_mask_storeu_ps(out + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, out + 16), acc[r][NR - 1]));
    }
  }
}

// Filter-gradient tile for one tap: dw[r, c] += sum over the row's output voxels v of
// x[v*rs + r] * dy[v*co + c] for MR input channels r and NR*16 output channels c.
template <int MR, int NR>
void filter_tile(const float* x, int rs, const float* dy, const ConvShape& g, int voxels, __mmask16 m0,
                 __mmask16 m1, float* dw) {
  __m512 acc[MR][NR];
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {
    acc[r][0] = _mm512_maskz_loadu_ps(m0, dw + (size_t)r * g.co);
    if (NR > 1) acc[r][NR - 1] = _mm512_maskz_loadu_ps(m1, dw + (size_t)r * g.co + 16);
  }
  for (int v = 0; v < voxels; v++) {
    const float* gr = dy + (size_t)v * g.co;
    __m512 d0 = _mm512_maskz_loadu_ps(m0, gr);
    __m512 d1 = NR > 1 ? _mm512_maskz_loadu_ps(m1, gr + 16) : d0;
    const float* xr = x + (size_t)v * rs;
    _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {
      const __m512 b = _mm512_set1_ps(xr[r]);
      acc[r][0] = _mm512_fmadd_ps(b, d0, acc[r][0]);
      if (NR > 1) acc[r][NR - 1] = _mm512_fmadd_ps(b, d1, acc[r][NR - 1]);
    }
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {
    _mm512_mask_storeu_ps(dw + (size_t)r * g.co, m0, acc[r][0]);
    if (NR > 1) _mm512_mask_storeu_ps(dw + (size_t)r * g.co + 16, m1, acc[r][NR - 1]);
  }
}

// The same three tiles on 8-lane (256-bit) vectors for layers of at most 8 channels, where a
// 16-lane vector would be half empty. NR is unused (always one vector of 8 lanes, masked by m).
template <int MR, int NR>
void forward_tile8(const float* x, int rs, const float* w, const ConvShape& g, const Padded& p, __mmask8 m, float* y) {
  __m256 acc[MR];
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) acc[r] = _mm256_setzero_ps();
  const size_t plane = (size_t)p.h * p.w * g.ci;
  const size_t row = (size_t)p.w * g.ci;
  for (int kd = 0; kd < g.k; kd++)
    for (int kh = 0; kh < g.k; kh++)
      for (int kw = 0; kw < g.k; kw++) {
        const float* xt = x + kd * plane + kh * row + (size_t)kw * g.ci;
        const float* wt = w + (size_t)((kd * g.k + kh) * g.k + kw) * g.ci * g.co;
        for (int i = 0; i < g.ci; i++) {
          const __m256 wv = _mm256_maskz_loadu_ps(m, wt + (size_t)i * g.co);
          _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(xt[(size_t)r * rs + i]), wv, acc[r]);
          }
        }
      }
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) _mm256_mask_storeu_ps(y + (size_t)r * g.co, m, acc[r]);
}

template <int MR, int NR>
void input_tile8(const float* dy, const float* wt, const ConvShape& g, __mmask8 m, float* dxp, int rs) {
  __m256 acc[MR];
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) acc[r] = _mm256_setzero_ps();
  for (int o = 0; o < g.co; o++) {
    const __m256 wv = _mm256_maskz_loadu_ps(m, wt + (size_t)o * g.ci);
    _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dy[(size_t)r * g.co + o]), wv, acc[r]);
    }
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {
    float* out = dxp + (size_t)r * rs;
    _mm256_mask_storeu_ps(out, m, _mm256_add_ps(_mm256_maskz_loadu_ps(m, out), acc[r]));
  }
}

template <int MR, int NR>
void filter_tile8(const float* x, int rs, const float* dy, const ConvShape& g, int voxels, __mmask8 m, float* dw) {
  __m256 acc[MR];
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) acc[r] = _mm256_maskz_loadu_ps(m, dw + (size_t)r * g.co);
  for (int v = 0; v < voxels; v++) {
    const __m256 d = _mm256_maskz_loadu_ps(m, dy + (size_t)v * g.co);
    const float* xr = x + (size_t)v * rs;
    _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(xr[r]), d, acc[r]);
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) _mm256_mask_storeu_ps(dw + (size_t)r * g.co, m, acc[r]);
}

constexpr int kRows = 8;

// Calls TILE<mr, NR>(args...) for a row count mr in 1 … 8 known only at run time.
#define FANCL_DISPATCH_ROWS(TILE, NR, mr, ...)   \
  switch (mr) {                                  \
    case 1: TILE<1, NR>(__VA_ARGS__); break;     \
    case 2: TILE<2, NR>(__VA_ARGS__); break;     \
    case 3: TILE<3, NR>(__VA_ARGS__); break;     \
    case 4: TILE<4, NR>(__VA_ARGS__); break;     \
    case 5: TILE<5, NR>(__VA_ARGS__); break;     \
    case 6: TILE<6, NR>(__VA_ARGS__); break;     \
    case 7: TILE<7, NR>(__VA_ARGS__); break;     \
    default: TILE<8, NR>(__VA_ARGS__); break;    \
  }

void forward_avx512(const ConvShape& g, const Padded& p, const float* xp, const float* w, float* y) {
  const int rs = g.s * g.ci;
  const int cols = g.co <= 16 ? 16 : 32;
  for (int n = 0; n < g.n; n++)
    for (int oz = 0; oz < g.od; oz++)
      for (int oy = 0; oy < g.oh; oy++) {
        const float* xrow = xp + padded_index(g, p, n, oz * g.s, oy * g.s, 0);
        float* yrow = y + ((((size_t)n * g.od + oz) * g.oh + oy) * g.ow) * g.co;
        for (int ox = 0; ox < g.ow; ox += kRows) {
          const int mr = std::min(kRows, g.ow - ox);
          for (int c = 0; c < g.co; c += cols) {
            const __mmask16 m0 = lane_mask(g.co - c);
            const __mmask16 m1 = lane_mask(g.co - c - 16);
            const float* x = xrow + (size_t)ox * rs;
            float* out = yrow + (size_t)ox * g.co + c;
            if (g.co <= 8) {
              FANCL_DISPATCH_ROWS(forward_tile8, 1, mr, x, rs, w + c, g, p, (__mmask8)m0, out)
            } else if (cols == 16) {
              FANCL_DISPATCH_ROWS(forward_tile, 1, mr, x, rs, w + c, g, p, m0, m1, out)
            } else {
              FANCL_DISPATCH_ROWS(forward_tile, 2, mr, x, rs, w + c, g, p, m0, m1, out)
            }
          }
        }
      }
}

void backprop_input_avx512(const ConvShape& g, const Padded& p, const float* dy, const float* wt, float* dxp) {
  const int rs = g.s * g.ci;
  const int cols = g.ci <= 16 ? 16 : 32;
  for (int n = 0; n < g.n; n++)
    for (int oz = 0; oz < g.od; oz++)
      for (int oy = 0; oy < g.oh; oy++) {
        const float* dyrow = dy + ((((size_t)n * g.od + oz) * g.oh + oy) * g.ow) * g.co;
        for (int kd = 0; kd < g.k; kd++)
          for (int kh = 0; kh < g.k; kh++) {
            float* dxrow = dxp + padded_index(g, p, n, oz * g.s + kd, oy * g.s + kh, 0);
            for (int kw = 0; kw < g.k; kw++) {
              const float* wtap = wt + (size_t)((kd * g.k + kh) * g.k + kw) * g.ci * g.co;
              for (int ox = 0; ox < g.ow; ox += kRows) {
                const int mr = std::min(kRows, g.ow - ox);
                for (int c = 0; c < g.ci; c += cols) {
                  const __mmask16 m0 = lane_mask(g.ci - c);
                  const __mmask16 m1 = lane_mask(g.ci - c - 16);
                  const float* grad = dyrow + (size_t)ox * g.co;
                  float* out = dxrow + ((size_t)ox * g.s + kw) * g.ci + c;
                  if (g.ci <= 8) {
                    FANCL_DISPATCH_ROWS(input_tile8, 1, mr, grad, wtap + c, g, (__mmask8)m0, out, rs)
                  } else if (cols == 16) {
                    FANCL_DISPATCH_ROWS(input_tile, 1, mr, grad, wtap + c, g, m0, m1, out, rs)
                  } else {
                    FANCL_DISPATCH_ROWS(input_tile, 2, mr, grad, wtap + c, g, m0, m1, out, rs)
                  }
                }
              }
            }
          }
      }
}

void backprop_filter_avx512(const ConvShape& g, const Padded& p, const float* xp, const float* dy, float* dw) {
  const int rs = g.s * g.ci;
  const int cols = g.co <= 16 ? 16 : 32;
  for (int n = 0; n < g.n; n++)
    for (int oz = 0; oz < g.od; oz++)
      for (int oy = 0; oy < g.oh; oy++) {
        const float* dyrow = dy + ((((size_t)n * g.od + oz) * g.oh + oy) * g.ow) * g.co;
        for (int kd = 0; kd < g.k; kd++)
          for (int kh = 0; kh < g.k; kh++)
            for (int kw = 0; kw < g.k; kw++) {
              const float* xrow = xp + padded_index(g, p, n, oz * g.s + kd, oy * g.s + kh, kw);
              float* dwtap = dw + (size_t)((kd * g.k + kh) * g.k + kw) * g.ci * g.co;
              for (int i = 0; i < g.ci; i += kRows) {
                const int mr = std::min(kRows, g.ci - i);
                for (int c = 0; c < g.co; c += cols) {
                  const __mmask16 m0 = lane_mask(g.co - c);
                  const __mmask16 m1 = lane_mask(g.co - c - 16);
                  float* out = dwtap + (size_t)i * g.co + c;
                  if (g.co <= 8) {
                    FANCL_DISPATCH_ROWS(filter_tile8, 1, mr, xrow + i, rs, dyrow + c, g, g.ow, (__mmask8)m0, out)
                  } else if (cols == 16) {
                    FANCL_DISPATCH_ROWS(filter_tile, 1, mr, xrow + i, rs, dyrow + c, g, g.ow, m0, m1, out)
                  } else {
                    FANCL_DISPATCH_ROWS(filter_tile, 2, mr, xrow + i, rs, dyrow + c, g, g.ow, m0, m1, out)
                  }
                }
              }
            }
      }
}

#pragma GCC pop_options

// True when the CPU has AVX-512 (F and VL) and FMA, unless FANCL_NATIVE_PORTABLE=1 selects the
// portable loops (tests set it to check them on a CPU that has AVX-512).
bool avx512_available() {
  static const bool available = [] {
    const char* portable = std::getenv("FANCL_NATIVE_PORTABLE");
    if (portable != nullptr && std::string(portable) == "1") return false;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
  }();
  return available;
}

}  // namespace

bool conv_uses_avx512() { return avx512_available(); }

void conv_forward(const ConvShape& g, const float* x, const float* w, float* y) {
  const Padded p = padded_size(g);
  std::vector<float> xp;
  pad_input(g, p, x, xp);
  if (avx512_available()) {
    forward_avx512(g, p, xp.data(), w, y);
  } else {
    forward_generic(g, p, xp.data(), w, y);
  }
}

void conv_backprop_input(const ConvShape& g, const float* dy, const float* w, float* dx) {
  const Padded p = padded_size(g);
  std::vector<float> dxp((size_t)g.n * p.d * p.h * p.w * g.ci, 0.0f);
  const std::vector<float> wt = transpose_filter(g, w);
  if (avx512_available()) {
    backprop_input_avx512(g, p, dy, wt.data(), dxp.data());
  } else {
    backprop_input_generic(g, p, dy, wt.data(), dxp.data());
  }
  crop_gradient(g, p, dxp, dx);
}

void conv_backprop_filter(const ConvShape& g, const float* x, const float* dy, float* dw) {
  const Padded p = padded_size(g);
  std::vector<float> xp;
  pad_input(g, p, x, xp);
  std::fill(dw, dw + (size_t)g.k * g.k * g.k * g.ci * g.co, 0.0f);
  if (avx512_available()) {
    backprop_filter_avx512(g, p, xp.data(), dy, dw);
  } else {
    backprop_filter_generic(g, p, xp.data(), dy, dw);
  }
}

}  // namespace fancl
