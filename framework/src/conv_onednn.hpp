#pragma once
// oneDNN's direct convolution behind a small interface, beside gemm_onednn.hpp's matmul: gemm.cpp
// plans and runs, and only the two *_onednn.cpp files include oneDNN. The op's tensors stay NCHW
// float32; each execution copies them to and from the layouts oneDNN's fastest kernels read
// (channels in blocks of 16 or 8, or channels last, bfloat16 inputs in mixed_bfloat16) in buffers
// of its own. The output and its gradient, the tensors the op's elementwise passes touch, are
// converted inside those passes (PlaneVisitor) where their layout is one of those; other copies,
// and those outputs in any layout not recognised, go through oneDNN's reorders.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "anneal/gemm.hpp"

namespace anneal::detail {

// The forward, backward-data and backward-weights primitives of one shape and the reorders around
// them, created at compile time; immutable and safe to run from several threads at once (each
// with its own OneDnnConvExecution).
class OneDnnConv {
 public:
  // Null, with the reason in `why_not`, when oneDNN cannot run this shape, only has its reference
  // kernel for it, or is not built in.
  static std::unique_ptr<OneDnnConv> create(const ConvShape& shape, bool bfloat16, std::string& why_not);
  ~OneDnnConv();
  const std::string& implementation() const { return implementation_; }
  size_t scratchpad_bytes() const { return scratchpad_bytes_; }
  // The reordered copies an execution keeps in the buffer it is given (64-byte aligned). Each call
  // writes them before reading them, so executions that never run at once may share one buffer.
  size_t buffer_bytes() const { return buffer_bytes_; }
  // How a copy of the output or of its gradient holds a tile (one sample's `group` channels) when
  // the op's visitors convert it. group 0: oneDNN's reorders do.
  struct TileLayout {
    int group = 0;                // channels per tile: 16 or 8
    int64_t stride = 0;           // floats from one position of a tile to the next
    bool channels_last = false;   // NHWC (stride F, no padding) rather than blocks of `group` channels
    // The tile of sample b and channel group g, in floats from the copy's start.
    int64_t offset(int64_t b, int64_t g, int64_t filters, int64_t p) const {
      if (channels_last) return b * p * filters + g * group;
      return (b * ((filters + group - 1) / group) + g) * p * group;
    }
  };

 private:
  friend class OneDnnConvExecution;
  OneDnnConv() = default;
  struct Handles;
  std::unique_ptr<Handles> h_;
  std::string implementation_;
  size_t scratchpad_bytes_ = 0, buffer_bytes_ = 0;
  TileLayout y_tiles_, dy_tiles_;  // the forward output's and the output gradient's
  bool bfloat16_ = false, avx512_ = false;
  int64_t batch_ = 0, filters_ = 0, plane_ = 0;  // of the output: B, F and P = out_h out_w
};

// The mutable side: a stream and memory objects for the reordered copies (in a buffer the caller
// owns) and for each call's NCHW buffers, whose data handles are pointed at them per call (no
// allocation per call).
class OneDnnConvExecution {
 public:
  OneDnnConvExecution(const OneDnnConv& conv, std::byte* buffer);
  ~OneDnnConvExecution();
  OneDnnConvExecution(const OneDnnConvExecution&) = delete;
  OneDnnConvExecution& operator=(const OneDnnConvExecution&) = delete;
  // GemmRunner::convolve_forward / convolve_backward's work (gemm.hpp says what each does).
  // `scratchpad` holds at least conv.scratchpad_bytes().
  void forward(const float* x, const float* kernel, float* y, void* scratchpad, PlaneVisitor finish, int threads);
  void backward(const float* x, const float* kernel, PlaneVisitor gradient, float* room, float* dkernel, float* dx,
                void* scratchpad, int threads);

 private:
  struct Handles;
  const OneDnnConv& conv_;
  std::unique_ptr<Handles> h_;
};

}  // namespace anneal::detail
