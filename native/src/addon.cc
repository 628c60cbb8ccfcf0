// Node-API bindings of kernels.cc. Every function takes its inputs and its preallocated output as
// Float32Arrays plus the 14 numbers of a ConvShape in an Int32Array, checks their lengths, and
// fills the output in place.
#include <node_api.h>

#include <cstddef>
#include <string>

#include "kernels.h"

namespace {

bool throw_error(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, message.c_str());
  return false;
}

// Reads argument `index` as a typed array of `type` with exactly `expected` elements.
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
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
