// anneal_onednn_conv: what oneDNN's own convolution primitives would give the bench conv net
// (models/conv_synthetic.yaml, batch 64) against the im2col products conv2d runs today, on this
// machine, in float32 or bfloat16 (inputs bfloat16, outputs and accumulation float32, as
// mixed_bfloat16 runs them). For each of the net's two convolutions it times, in one process and
// interleaved round by round:
//   - matmul: oneDNN's matmul on the three im2col products conv2d declares (forward, kernel
//     gradient, column gradient), the products Anneal's planner puts on oneDNN;
//   - direct, plain: convolution_forward / backward_data / backward_weights on NCHW tensors (the
//     layout Anneal's activations have);
//   - direct, blocked: the same primitives on the layouts oneDNN prefers (format_tag::any), not
//     counting the reorders to and from them that using them would add.
// It prints one JSON object per line: for each layer, kind and pass the milliseconds per call
// (median of the rounds) and GFLOP/s, then each kind's "total_ms" for the layer. The first layer's
// input needs no gradient, so its column gradient / backward data is reported but not counted in
// the total. Usage: anneal_onednn_conv [float32|bfloat16] [rounds]; exit 2 on a usage error, 1
// when oneDNN cannot create a primitive here (bfloat16 on a CPU without it).
#include <dnnl.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "anneal/clock.hpp"
#include "anneal/stats.hpp"

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct Layer {
  const char* name;
  int64_t batch, channels, size, filters;  // 3x3 kernel, stride 1, same padding
  bool input_gradient;
};

// A primitive with its arguments, run `calls` times per timing.
struct Timed {
  std::string kind, pass;
  double flops = 0;
  bool counted = true;
  std::function<void()> run;
  std::vector<double> ms = {};
};

memory zeroed(const memory::desc& d, const dnnl::engine& eng) {
  memory m(d, eng);
  std::memset(m.get_data_handle(), 0, d.get_size());
  return m;
}

// C[m, n] = op(A) op(B) with the strides conv2d's products use (row-major, dense).
void add_matmul(std::vector<Timed>& out, const char* pass, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, dt in,
                const dnnl::engine& eng, dnnl::stream& s, bool counted) {
  const memory::desc a({m, k}, in, trans_a ? memory::dims{1, m} : memory::dims{k, 1});
  const memory::desc b({k, n}, in, trans_b ? memory::dims{1, k} : memory::dims{n, 1});
  const memory::desc c({m, n}, dt::f32, memory::dims{n, 1});
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), eng);
  auto prim = std::make_shared<dnnl::matmul>(pd);
  auto ma = std::make_shared<memory>(zeroed(a, eng)), mb = std::make_shared<memory>(zeroed(b, eng)),
       mc = std::make_shared<memory>(zeroed(c, eng));
  out.push_back({"matmul", pass, 2.0 * static_cast<double>(m * n * k), counted, [=, &s]() {
                   prim->execute(s, {{DNNL_ARG_SRC, *ma}, {DNNL_ARG_WEIGHTS, *mb}, {DNNL_ARG_DST, *mc}});
                 }});
}

void add_direct(std::vector<Timed>& out, const Layer& l, bool blocked, dt in, const dnnl::engine& eng, dnnl::stream& s) {
  const memory::dims src{l.batch, l.channels, l.size, l.size}, wei{l.filters, l.channels, 3, 3}, bias{l.filters},
      dst{l.batch, l.filters, l.size, l.size}, strides{1, 1}, pad{1, 1};
  const tag image = blocked ? tag::any : tag::nchw, kernel = blocked ? tag::any : tag::oihw;
  const memory::desc src_md(src, in, image), wei_md(wei, in, kernel), bias_md(bias, dt::f32, tag::x), dst_md(dst, dt::f32, image);
  const memory::desc diff_src_md(src, dt::f32, image), diff_dst_md(dst, in, image), diff_wei_md(wei, dt::f32, kernel);
  using namespace dnnl;
  const auto algo = algorithm::convolution_direct;
  const convolution_forward::primitive_desc fwd(
      convolution_forward::desc(prop_kind::forward_training, algo, src_md, wei_md, bias_md, dst_md, strides, pad, pad), eng);
  const convolution_backward_data::primitive_desc bwd_data(
      convolution_backward_data::desc(algo, diff_src_md, wei_md, diff_dst_md, strides, pad, pad), eng, fwd);
  const convolution_backward_weights::primitive_desc bwd_weights(
      convolution_backward_weights::desc(algo, src_md, diff_wei_md, bias_md, diff_dst_md, strides, pad, pad), eng, fwd);
  const std::string kind = std::string(blocked ? "direct, blocked" : "direct, plain") + " (" + fwd.impl_info_str() + ")";
  const double flops = 2.0 * static_cast<double>(l.batch * l.filters * l.channels * 9 * l.size * l.size);
  auto m = [&](const memory::desc& d) { return std::make_shared<memory>(zeroed(d, eng)); };
  auto f = std::make_shared<convolution_forward>(fwd);
  auto x = m(fwd.src_desc()), w = m(fwd.weights_desc()), b = m(fwd.bias_desc()), y = m(fwd.dst_desc());
  out.push_back({kind, "forward", flops, true, [=, &s]() {
                   f->execute(s, {{DNNL_ARG_SRC, *x}, {DNNL_ARG_WEIGHTS, *w}, {DNNL_ARG_BIAS, *b}, {DNNL_ARG_DST, *y}});
                 }});
  auto bw = std::make_shared<convolution_backward_weights>(bwd_weights);
  auto x2 = m(bwd_weights.src_desc()), dy2 = m(bwd_weights.diff_dst_desc()), dw = m(bwd_weights.diff_weights_desc()),
       db = m(bwd_weights.diff_bias_desc());
  out.push_back({kind, "kernel gradient", flops, true, [=, &s]() {
                   bw->execute(s, {{DNNL_ARG_SRC, *x2}, {DNNL_ARG_DIFF_DST, *dy2}, {DNNL_ARG_DIFF_WEIGHTS, *dw}, {DNNL_ARG_DIFF_BIAS, *db}});
                 }});
  auto bd = std::make_shared<convolution_backward_data>(bwd_data);
  auto dy = m(bwd_data.diff_dst_desc()), w2 = m(bwd_data.weights_desc()), dx = m(bwd_data.diff_src_desc());
  out.push_back({kind, "input gradient", flops, l.input_gradient, [=, &s]() {
                   bd->execute(s, {{DNNL_ARG_DIFF_DST, *dy}, {DNNL_ARG_WEIGHTS, *w2}, {DNNL_ARG_DIFF_SRC, *dx}});
                 }});
}

// One JSON line per pass (median of the rounds), then each kind's total over its counted passes.
void report(const Layer& l, const std::string& precision, const std::vector<Timed>& timed) {
  std::string kind;
  double total = 0;
  auto flush = [&]() {
    if (!kind.empty())
      std::printf("{\"layer\": \"%s\", \"precision\": \"%s\", \"kind\": \"%s\", \"total_ms\": %.3f}\n", l.name, precision.c_str(), kind.c_str(), total);
  };
  for (const auto& t : timed) {
    if (t.kind != kind) flush(), kind = t.kind, total = 0;
    const double ms = anneal::summarize(t.ms).median;
    if (t.counted) total += ms;
    std::printf("{\"layer\": \"%s\", \"kind\": \"%s\", \"pass\": \"%s\", \"ms\": %.3f, \"gflops\": %.0f, \"counted\": %s}\n", l.name,
                t.kind.c_str(), t.pass.c_str(), ms, t.flops / ms / 1e6, t.counted ? "true" : "false");
  }
  flush();
}

void measure(const std::string& precision, int rounds) {
  const dt in = precision == "bfloat16" ? dt::bf16 : dt::f32;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const Layer layers[] = {{"conv2d_1", 64, 1, 28, 32, false}, {"conv2d_2", 64, 32, 14, 64, true}};
  for (const Layer& l : layers) {
    std::vector<Timed> timed;
    const int64_t n = l.batch * l.size * l.size, k = l.channels * 9;
    add_matmul(timed, "forward", false, false, l.filters, n, k, in, eng, s, true);
    add_matmul(timed, "kernel gradient", false, true, l.filters, k, n, in, eng, s, true);
    add_matmul(timed, "input gradient", true, false, k, n, l.filters, in, eng, s, l.input_gradient);
    add_direct(timed, l, false, in, eng, s);
    add_direct(timed, l, true, in, eng, s);
    const int calls = 20;
    for (auto& t : timed) t.run(), s.wait();  // created and warmed before the rounds
    for (int r = 0; r < rounds; ++r)
      for (auto& t : timed) {
        const double start = anneal::wall_seconds();
        for (int c = 0; c < calls; ++c) t.run();
        s.wait();
        t.ms.push_back((anneal::wall_seconds() - start) / calls * 1e3);
      }
    report(l, precision, timed);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string precision = argc > 1 ? argv[1] : "bfloat16";
  const std::string rounds_text = argc > 2 ? argv[2] : "7";
  char* end = nullptr;
  const long rounds = std::strtol(rounds_text.c_str(), &end, 10);
  if ((precision != "bfloat16" && precision != "float32") || *end != '\0' || rounds < 1 || rounds > 1000 || argc > 3) {
    std::fprintf(stderr, "usage: anneal_onednn_conv [float32|bfloat16] [rounds, 1 to 1000]\n");
    return 2;
  }
  try {
    measure(precision, static_cast<int>(rounds));
  } catch (const dnnl::error& e) {
    // A CPU without bfloat16 support, for one: oneDNN has no implementation to create.
    std::fprintf(stderr, "anneal_onednn_conv: oneDNN cannot run this measurement here (%s precision): %s\n", precision.c_str(), e.what());
    return 1;
  }
  return 0;
}
