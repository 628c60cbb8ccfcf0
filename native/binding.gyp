{
  "targets": [
    {
      "target_name": "fancl_conv",
      "sources": ["src/addon.cc", "src/kernels.cc"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "cflags_cc!": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
