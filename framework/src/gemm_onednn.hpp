#pragma once
// oneDNN's matmul behind a small interface, so that gemm.cpp holds the planning and only
// gemm_onednn.cpp (and conv_onednn.cpp, for convolutions) include oneDNN. In a build without
// oneDNN, create() says so and nothing runs.

#include <cstddef>
#include <memory>
#include <string>

#include "anneal/gemm.hpp"

namespace anneal::detail {

// One matmul primitive for one shape, created at compile time; immutable and safe to run from
// several threads at once (each with its own OneDnnExecution).
class OneDnnMatmul {
 public:
  // Null, with the reason in `why_not`, when oneDNN cannot run this shape (or is not built in).
  // `bfloat16`: A and B are given in bfloat16 (C stays float32, accumulated in float32).
  static std::unique_ptr<OneDnnMatmul> create(const GemmShape& shape, bool bfloat16, std::string& why_not);
  ~OneDnnMatmul();
  const std::string& implementation() const { return implementation_; }
  size_t scratchpad_bytes() const { return scratchpad_bytes_; }

 private:
  friend class OneDnnExecution;
  OneDnnMatmul() = default;
  struct Handles;
  std::unique_ptr<Handles> h_;
  std::string implementation_;
  size_t scratchpad_bytes_ = 0;
};

// The mutable side of running one primitive: a stream and memory objects whose data handles are
// pointed at each call's buffers (no allocation per call).
class OneDnnExecution {
 public:
  explicit OneDnnExecution(const OneDnnMatmul& matmul);
  ~OneDnnExecution();
  OneDnnExecution(const OneDnnExecution&) = delete;
  OneDnnExecution& operator=(const OneDnnExecution&) = delete;
  // `scratchpad` holds at least matmul.scratchpad_bytes(); A and B are float or, for a bfloat16
  // primitive, bfloat16 (uint16_t), stored with the shape's strides.
  void run(const void* a, const void* b, float* c, void* scratchpad);

 private:
  struct Handles;
  const OneDnnMatmul& matmul_;
  std::unique_ptr<Handles> h_;
};

// Throws RuntimeFailure naming `what` and oneDNN's status unless it is dnnl_success (0); for
// gemm_onednn.cpp and conv_onednn.cpp, built with oneDNN only.
void onednn_check(int status, const char* what);

bool onednn_built();
std::string onednn_version();
// Sets the threads oneDNN's OpenMP runtime uses from the calling thread on.
void onednn_set_threads(int threads);
// The threads oneDNN's products use when called from this thread (1 without oneDNN).
int onednn_threads();
// The instruction set oneDNN dispatches to on this CPU ("avx2", "avx512_core_amx", ...), and
// whether it computes bfloat16 products natively (AVX-512 at least: AMX, AVX512-BF16, or
// AVX-512 core, in oneDNN's order of preference).
std::string onednn_isa();
bool onednn_has_bfloat16();

}  // namespace anneal::detail
