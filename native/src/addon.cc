// Node-API bindings of kernels.cc and norm_act.cc. Every function takes its inputs and its
// preallocated outputs as Float32Arrays, plus the sizes: the 14 numbers of a ConvShape in an
// Int32Array, or n, voxels, c, eps and slope as numbers. It checks the arrays' lengths and fills
// the outputs in place.
#include <node_api.h>

#include <cstddef>
#include <string>

#include "kernels.h"
#include "norm_act.h"

namespace {

bool throw_error(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, message.c_str());
  return false;
}

// Reads `value` as a typed array of `type` with exactly `expected` elements; throws otherwise.
bool typed_array(napi_env env, napi_value value, napi_typedarray_type type, size_t expected, const char* name,
                 void** data) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed) return throw_error(env, std::string(name) + " must be a typed array");
  napi_typedarray_type actual;
  size_t length = 0;
  napi_get_typedarray_info(env, value, &actual, &length, data, nullptr, nullptr);
  if (actual != type) return throw_error(env, std::string(name) + " has the wrong element type");
  if (length != expected) {
    return throw_error(env, std::string(name) + " has " + std::to_string(length) + " elements, expected " +
                                std::to_string(expected));
  }
  return true;
}

bool read_shape(napi_env env, napi_value value, fancl::ConvShape* g) {
  void* data = nullptr;
  if (!typed_array(env, value, napi_int32_array, 14, "shape", &data)) return false;
  const int* v = static_cast<const int*>(data);
  *g = fancl::ConvShape{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
  const int positive[] = {g->n, g->id, g->ih, g->iw, g->ci, g->od, g->oh, g->ow, g->co, g->k, g->s};
  for (int x : positive) {
    if (x < 1) return throw_error(env, "shape sizes, kernel and stride must be positive");
  }
  if (g->pd < 0 || g->ph < 0 || g->pw < 0) return throw_error(env, "padding must not be negative");
  return true;
}

size_t input_size(const fancl::ConvShape& g) { return (size_t)g.n * g.id * g.ih * g.iw * g.ci; }
size_t output_size(const fancl::ConvShape& g) { return (size_t)g.n * g.od * g.oh * g.ow * g.co; }
size_t filter_size(const fancl::ConvShape& g) { return (size_t)g.k * g.k * g.k * g.ci * g.co; }

enum class Pass { kForward, kInput, kFilter };

// (a, b, out, shape): forward (x, w, y), input gradient (dy, w, dx), filter gradient (x, dy, dw).
napi_value run(napi_env env, napi_callback_info info, Pass pass) {
  size_t argc = 4;
  napi_value args[4];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc != 4) {
    throw_error(env, "expected 4 arguments: two inputs, the output and the shape");
    return nullptr;
  }
  fancl::ConvShape g;
  if (!read_shape(env, args[3], &g)) return nullptr;
  void *a = nullptr, *b = nullptr, *out = nullptr;
  switch (pass) {
    case Pass::kForward:
      if (!typed_array(env, args[0], napi_float32_array, input_size(g), "x", &a) ||
          !typed_array(env, args[1], napi_float32_array, filter_size(g), "filter", &b) ||
          !typed_array(env, args[2], napi_float32_array, output_size(g), "y", &out)) {
        return nullptr;
      }
      fancl::conv_forward(g, static_cast<float*>(a), static_cast<float*>(b), static_cast<float*>(out));
      break;
    case Pass::kInput:
      if (!typed_array(env, args[0], napi_float32_array, output_size(g), "dy", &a) ||
          !typed_array(env, args[1], napi_float32_array, filter_size(g), "filter", &b) ||
          !typed_array(env, args[2], napi_float32_array, input_size(g), "dx", &out)) {
        return nullptr;
      }
      fancl::conv_backprop_input(g, static_cast<float*>(a), static_cast<float*>(b), static_cast<float*>(out));
      break;
    case Pass::kFilter:
      if (!typed_array(env, args[0], napi_float32_array, input_size(g), "x", &a) ||
          !typed_array(env, args[1], napi_float32_array, output_size(g), "dy", &b) ||
          !typed_array(env, args[2], napi_float32_array, filter_size(g), "dw", &out)) {
        return nullptr;
      }
      fancl::conv_backprop_filter(g, static_cast<float*>(a), static_cast<float*>(b), static_cast<float*>(out));
      break;
  }
  return nullptr;
}

napi_value forward(napi_env env, napi_callback_info info) { return run(env, info, Pass::kForward); }
napi_value backprop_input(napi_env env, napi_callback_info info) { return run(env, info, Pass::kInput); }
napi_value backprop_filter(napi_env env, napi_callback_info info) { return run(env, info, Pass::kFilter); }

// Reads args[0 … 4] as n, voxels, c (positive integers), eps and slope.
bool read_norm_shape(napi_env env, napi_value* args, fancl::NormActShape* g) {
  int32_t sizes[3];
  for (int i = 0; i < 3; i++) {
    if (napi_get_value_int32(env, args[i], &sizes[i]) != napi_ok || sizes[i] < 1) {
      return throw_error(env, "n, voxels and c must be positive integers");
    }
  }
  double eps = 0, slope = 0;
  if (napi_get_value_double(env, args[3], &eps) != napi_ok || napi_get_value_double(env, args[4], &slope) != napi_ok) {
    return throw_error(env, "eps and slope must be numbers");
  }
  *g = fancl::NormActShape{sizes[0], sizes[1], sizes[2], (float)eps, (float)slope};
  return true;
}

// (x, gamma, beta, y, mean, invStd, n, voxels, c, eps, slope)
napi_value norm_act_forward(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value args[11];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc != 11) {
    throw_error(env, "expected 11 arguments: x, gamma, beta, y, mean, invStd, n, voxels, c, eps, slope");
    return nullptr;
  }
  fancl::NormActShape g;
  if (!read_norm_shape(env, args + 6, &g)) return nullptr;
  const size_t data = (size_t)g.n * g.voxels * g.c, stats = (size_t)g.n * g.c;
  void *x, *gamma, *beta, *y, *mean, *inv;
  if (!typed_array(env, args[0], napi_float32_array, data, "x", &x) ||
      !typed_array(env, args[1], napi_float32_array, g.c, "gamma", &gamma) ||
      !typed_array(env, args[2], napi_float32_array, g.c, "beta", &beta) ||
      !typed_array(env, args[3], napi_float32_array, data, "y", &y) ||
      !typed_array(env, args[4], napi_float32_array, stats, "mean", &mean) ||
      !typed_array(env, args[5], napi_float32_array, stats, "invStd", &inv)) {
    return nullptr;
  }
  fancl::norm_act_forward(g, static_cast<float*>(x), static_cast<float*>(gamma), static_cast<float*>(beta),
                          static_cast<float*>(y), static_cast<float*>(mean), static_cast<float*>(inv));
  return nullptr;
}

// (x, mean, invStd, gamma, beta, dy, dx, dgamma, dbeta, dbias, n, voxels, c, eps, slope)
napi_value norm_act_backward(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value args[15];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc != 15) {
    throw_error(env, "expected 15 arguments: x, mean, invStd, gamma, beta, dy, dx, dgamma, dbeta, dbias, n, voxels, c, eps, slope");
    return nullptr;
  }
  fancl::NormActShape g;
  if (!read_norm_shape(env, args + 10, &g)) return nullptr;
  const size_t data = (size_t)g.n * g.voxels * g.c, stats = (size_t)g.n * g.c;
  void *x, *mean, *inv, *gamma, *beta, *dy, *dx, *dgamma, *dbeta, *dbias;
  if (!typed_array(env, args[0], napi_float32_array, data, "x", &x) ||
      !typed_array(env, args[1], napi_float32_array, stats, "mean", &mean) ||
      !typed_array(env, args[2], napi_float32_array, stats, "invStd", &inv) ||
      !typed_array(env, args[3], napi_float32_array, g.c, "gamma", &gamma) ||
      !typed_array(env, args[4], napi_float32_array, g.c, "beta", &beta) ||
      !typed_array(env, args[5], napi_float32_array, data, "dy", &dy) ||
      !typed_array(env, args[6], napi_float32_array, data, "dx", &dx) ||
      !typed_array(env, args[7], napi_float32_array, g.c, "dgamma", &dgamma) ||
      !typed_array(env, args[8], napi_float32_array, g.c, "dbeta", &dbeta) ||
      !typed_array(env, args[9], napi_float32_array, g.c, "dbias", &dbias)) {
    return nullptr;
  }
  fancl::norm_act_backward(g, static_cast<float*>(x), static_cast<float*>(mean), static_cast<float*>(inv),
                           static_cast<float*>(gamma), static_cast<float*>(beta), static_cast<float*>(dy),
                           static_cast<float*>(dx), static_cast<float*>(dgamma), static_cast<float*>(dbeta),
                           static_cast<float*>(dbias));
  return nullptr;
}

napi_value uses_avx512(napi_env env, napi_callback_info) {
  napi_value result;
  napi_get_boolean(env, fancl::conv_uses_avx512(), &result);
  return result;
}

napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor properties[] = {
      {"forward", nullptr, forward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"backpropInput", nullptr, backprop_input, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"backpropFilter", nullptr, backprop_filter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"usesAvx512", nullptr, uses_avx512, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"normActForward", nullptr, norm_act_forward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"normActBackward", nullptr, norm_act_backward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
