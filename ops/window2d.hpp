#pragma once
// The sliding-window geometry that conv2d and the 2-D pools share: Keras' attribute forms (an int
// or a [h, w] pair), and TensorFlow's output sizes and padding for `valid` and `same`.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"

namespace anneal {

struct Window2d {
  int64_t kh = 1, kw = 1;  // window
  int64_t sh = 1, sw = 1;  // strides
  int64_t dh = 1, dw = 1;  // dilation
  bool same = false;
  // From set_input():
  int64_t h = 0, w = 0, out_h = 0, out_w = 0, pad_top = 0, pad_left = 0;

  // valid: out = floor((in - k_eff) / s) + 1; same: out = ceil(in / s), padded with
  // total = max((out - 1) s + k_eff - in, 0), the smaller half before (TensorFlow's rule).
  void set_input(int64_t height, int64_t width) {
    h = height;
    w = width;
    auto size = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t& out, int64_t& pad) {
      const int64_t effective = checked_add(checked_mul(k - 1, d), 1);
      if (same) {
        out = (in + s - 1) / s;
        pad = std::max<int64_t>((out - 1) * s + effective - in, 0) / 2;
      } else {
        if (in < effective)
          throw ShapeMismatch("the window (" + std::to_string(effective) + " with dilation) is larger than the input (" +
                              std::to_string(in) + "); use padding: same or a smaller window");
        out = (in - effective) / s + 1;
        pad = 0;
      }
    };
    size(h, kh, sh, dh, out_h, pad_top);
    size(w, kw, sw, dw, out_w, pad_left);
  }
  int64_t out_size() const { return out_h * out_w; }
  // ONNX attributes of this window: kernel_shape, strides, dilations (when asked) and explicit
  // pads [top, left, bottom, right] (the larger half after, as TensorFlow pads).
  std::vector<ExportAttr> onnx_attrs(bool with_dilations) const {
    const int64_t eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1;
    const int64_t total_h = same ? std::max<int64_t>((out_h - 1) * sh + eh - h, 0) : 0;
    const int64_t total_w = same ? std::max<int64_t>((out_w - 1) * sw + ew - w, 0) : 0;
    std::vector<ExportAttr> attrs{{"kernel_shape", std::vector<int64_t>{kh, kw}},
                                  {"strides", std::vector<int64_t>{sh, sw}},
                                  {"pads", std::vector<int64_t>{pad_top, pad_left, total_h - pad_top, total_w - pad_left}}};
    if (with_dilations) attrs.push_back({"dilations", std::vector<int64_t>{dh, dw}});
    return attrs;
  }

  // The input rows (or columns) a window covers, clipped to the image: [begin, end).
  int64_t row_begin(int64_t oh) const { return std::max<int64_t>(oh * sh - pad_top, 0); }
  int64_t row_end(int64_t oh) const { return std::min(oh * sh - pad_top + (kh - 1) * dh + 1, h); }
  int64_t col_begin(int64_t ow) const { return std::max<int64_t>(ow * sw - pad_left, 0); }
  int64_t col_end(int64_t ow) const { return std::min(ow * sw - pad_left + (kw - 1) * dw + 1, w); }
};

// The outputs o in [0, outputs) whose input index o * stride + offset lies in [0, size), as
// [first, last): im2col copies that run and fills the rest with zeros, without a test per cell.
inline void valid_outputs(int64_t offset, int64_t stride, int64_t size, int64_t outputs, int64_t& first, int64_t& last) {
  first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  last = size - offset <= 0 ? 0 : (size - offset - 1) / stride + 1;
  first = std::min(first, outputs);
  last = std::clamp(last, first, outputs);
}

// `key: 3` or `key: [3, 2]`, positive; `fallback` when absent.
inline std::pair<int64_t, int64_t> pair_attr(AttrMap& a, const std::string& key, std::pair<int64_t, int64_t> fallback) {
  if (!a.has(key)) return fallback;
  std::pair<int64_t, int64_t> out;
  if (a.raw(key).IsSequence()) {
    const auto v = a.get<std::vector<int64_t>>(key);
    a.require(v.size() == 2, key, "must be an integer or a pair [height, width]");
    out = {v[0], v[1]};
  } else {
    const auto v = a.get<int64_t>(key);
    out = {v, v};
  }
  a.require(out.first > 0 && out.second > 0, key, "must be positive");
  return out;
}

inline bool padding_attr(AttrMap& a) {
  const auto padding = a.get<std::string>("padding", "valid");
  a.require(padding == "valid" || padding == "same", "padding", "is '" + padding + "', expected valid or same");
  return padding == "same";
}

// Per-sample images are [C, H, W].
inline void require_image(const Shape& s, const std::string& op) {
  if (s.rank() != 3)
    throw ShapeMismatch(op + " takes per-sample images [channels, height, width], got " + s.str() +
                        " (set input: [C, H, W]; a data row fills it in C, H, W order)");
}

// What max_pool2d and avg_pool2d share: Keras' attributes (pool_size 2, strides = pool_size,
// padding), the output shape, and the cost of one window per output.
class Pool2dOp : public Op {
 public:
  Pool2dOp(AttrMap& a, std::string name) : name_(std::move(name)) {
    std::tie(win_.kh, win_.kw) = pair_attr(a, "pool_size", {2, 2});
    std::tie(win_.sh, win_.sw) = pair_attr(a, "strides", {win_.kh, win_.kw});
    win_.same = padding_attr(a);
  }
  Shape infer_shape(const std::vector<Shape>& in) const override {
    require_image(in[0], name_);
    Window2d w = win_;
    w.set_input(in[0][1], in[0][2]);
    return Shape{in[0][0], w.out_h, w.out_w};
  }
  void prepare(const std::vector<Shape>& in) override {
    channels_ = in[0][0];
    win_.set_input(in[0][1], in[0][2]);
  }
  Flops flops(const std::vector<Shape>&, const Shape& out) const override {
    const double n = static_cast<double>(out.numel() * win_.kh * win_.kw);
    return {n, n, n};
  }
  // ONNX MaxPool / AveragePool (whose padding is not counted, as here and in Keras).
  std::string export_pool(ExportGraph& g, const ExportNode& node, const std::string& type) const {
    return g.node(type, {node.inputs[0]}, win_.onnx_attrs(false), node.name);
  }

 protected:
  std::string name_;
  Window2d win_;
  int64_t channels_ = 0;
};

// What global_avg_pool2d and global_max_pool2d share: [C, H, W] -> [C], one plane per output.
class GlobalPool2dOp : public Op {
 public:
  explicit GlobalPool2dOp(std::string name) : name_(std::move(name)) {}
  Shape infer_shape(const std::vector<Shape>& in) const override {
    require_image(in[0], name_);
    return Shape{in[0][0]};
  }
  void prepare(const std::vector<Shape>& in) override { plane_ = in[0][1] * in[0][2]; }
  // ONNX GlobalAveragePool / GlobalMaxPool give [N, C, 1, 1]; Flatten makes it [N, C].
  std::string export_global(ExportGraph& g, const ExportNode& node, const std::string& type) const {
    return g.node("Flatten", {g.node(type, {node.inputs[0]})}, {{"axis", int64_t{1}}}, node.name);
  }
  Flops flops(const std::vector<Shape>& in, const Shape&) const override {
    const double n = static_cast<double>(in[0].numel());
    return {n, n, n};
  }

 protected:
  std::string name_;
  int64_t plane_ = 1;
};

}  // namespace anneal
