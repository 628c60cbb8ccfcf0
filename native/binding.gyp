{
  "targets": [
    {
      "target_name": "fancl_native",
      "sources": ["src/addon.cc", "src/kernels.cc", "src/norm_act.cc"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "cflags_cc!": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
