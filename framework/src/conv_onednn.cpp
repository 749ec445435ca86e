// oneDNN's convolution primitives. Created with the C++ API (descriptors are built once, at
// compile time); run through the C API's dnnl_primitive_execute with an argument array, where the
// C++ API would build an unordered_map on every call.
#include "conv_onednn.hpp"
#include "gemm_onednn.hpp"

#include "anneal/errors.hpp"

#ifdef ANNEAL_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <initializer_list>
#endif

namespace anneal::detail {

#ifdef ANNEAL_HAVE_ONEDNN

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// One operand as the op holds it (plain: NCHW or OIHW float32) and as a primitive reads or writes
// it (inner). Where the two are the same, the primitive works on the op's buffer and no reorder
// runs; otherwise a reorder made at compile time copies between them.
struct Operand {
  memory::desc plain, inner;
  dnnl::reorder reorder;  // plain -> inner for what a primitive reads, inner -> plain for what it writes
  bool copied = false;    // the primitive works on a copy, at `offset` in the execution's buffer
  size_t offset = 0;
  bool reordered() const { return plain != inner; }
};

// Places each copy in one buffer, 64-byte aligned, and returns its size. Nothing in a copy
// outlives the call that writes it (backward reorders x again rather than keep forward's), so
// every convolution of a runner can use the same buffer.
size_t lay_out_copies(std::initializer_list<std::pair<Operand*, bool>> copies) {
  size_t end = 0;
  for (auto [o, needed] : copies) {
    o->copied = needed;
    if (!needed) continue;
    o->offset = end;
    end += (o->inner.get_size() + 63) / 64 * 64;
  }
  return end;
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  // The scratchpad comes from the runner, planned once, rather than from oneDNN per call.
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// `accumulate`: the reorder adds into its destination (an input gradient other ops add to).
Operand operand(const memory::desc& plain, const memory::desc& inner, bool into_inner, const dnnl::engine& eng,
                size_t& scratchpad, bool accumulate = false) {
  Operand o{plain, inner, {}};
  if (!o.reordered() && !accumulate) return o;
  dnnl::primitive_attr attr = user_scratchpad();
  if (accumulate) {
    dnnl::post_ops sum;
    sum.append_sum(1.0f);
    attr.set_post_ops(sum);
  }
  const auto pd = into_inner ? dnnl::reorder::primitive_desc(eng, plain, eng, inner, attr)
                             : dnnl::reorder::primitive_desc(eng, inner, eng, plain, attr);
  scratchpad = std::max(scratchpad, pd.scratchpad_desc().get_size());
  o.reorder = dnnl::reorder(pd);
  return o;
}

}  // namespace

struct OneDnnConv::Handles {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::convolution_forward forward;
  dnnl::convolution_backward_data backward_data;
  dnnl::convolution_backward_weights backward_weights;
  // Forward: x, kernel in; y out. Backward weights: x, dy in; dkernel out. Backward data: dy,
  // kernel in; dx out (added).
  Operand fwd_x, fwd_kernel, fwd_y, bw_x, bw_dy, bw_dkernel, bd_dy, bd_kernel, bd_dx;
  bool bd_dy_shared = false;  // backward data reads backward weights' reordered dy
};



std::unique_ptr<OneDnnConv> OneDnnConv::create(const ConvShape& s, bool bfloat16, std::string& why_not) {
  std::unique_ptr<OneDnnConv> out(new OneDnnConv);
  auto h = std::make_unique<Handles>();
  const dt in = bfloat16 ? dt::bf16 : dt::f32;
  const memory::dims x{s.batch, s.channels, s.h, s.w}, k{s.filters, s.channels, s.kh, s.kw}, y{s.batch, s.filters, s.out_h, s.out_w};
  const memory::dims strides{s.sh, s.sw}, dilates{s.dh - 1, s.dw - 1}, pad_l{s.pad_top, s.pad_left}, pad_r{s.pad_bottom, s.pad_right};
  // `any`: oneDNN picks the layouts its fastest kernel reads (blocked channels); the inputs of the
  // products in bfloat16, their outputs and every gradient an op sees in float32.
  const memory::desc x_any(x, in, tag::any), k_any(k, in, tag::any), y_any(y, dt::f32, tag::any);
  const memory::desc dx_any(x, dt::f32, tag::any), dy_any(y, in, tag::any), dk_any(k, dt::f32, tag::any);
  const auto algo = dnnl::algorithm::convolution_direct;
  const dnnl::primitive_attr attr = user_scratchpad();
  try {
    const dnnl::convolution_forward::primitive_desc fwd(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, x_any, k_any, y_any, strides, dilates, pad_l, pad_r),
        attr, h->eng);
    const dnnl::convolution_backward_data::primitive_desc bd(
        dnnl::convolution_backward_data::desc(algo, dx_any, k_any, dy_any, strides, dilates, pad_l, pad_r), attr, h->eng, fwd);
    const dnnl::convolution_backward_weights::primitive_desc bw(
        dnnl::convolution_backward_weights::desc(algo, x_any, dk_any, dy_any, strides, dilates, pad_l, pad_r), attr, h->eng, fwd);
    // The reference kernels are slower than im2col and products by far: the op keeps those.
    for (const char* impl : {fwd.impl_info_str(), bd.impl_info_str(), bw.impl_info_str()})
      if (std::string(impl).rfind("ref", 0) == 0) {
        why_not = std::string("only the reference kernel (") + impl + ")";
        return nullptr;
      }
    size_t scratch = std::max({fwd.scratchpad_desc().get_size(), bd.scratchpad_desc().get_size(), bw.scratchpad_desc().get_size()});
    const memory::desc x_plain(x, dt::f32, tag::nchw), k_plain(k, dt::f32, tag::oihw), y_plain(y, dt::f32, tag::nchw);
    h->fwd_x = operand(x_plain, fwd.src_desc(), true, h->eng, scratch);
    h->fwd_kernel = operand(k_plain, fwd.weights_desc(), true, h->eng, scratch);
    h->fwd_y = operand(y_plain, fwd.dst_desc(), false, h->eng, scratch);
    h->bw_x = operand(x_plain, bw.src_desc(), true, h->eng, scratch);
    h->bw_dy = operand(y_plain, bw.diff_dst_desc(), true, h->eng, scratch);
    h->bw_dkernel = operand(k_plain, bw.diff_weights_desc(), false, h->eng, scratch);
    h->bd_dy = operand(y_plain, bd.diff_dst_desc(), true, h->eng, scratch);
    h->bd_kernel = operand(k_plain, bd.weights_desc(), true, h->eng, scratch);
    h->bd_dx = operand(x_plain, bd.diff_src_desc(), false, h->eng, scratch, true);
    h->bd_dy_shared = bd.diff_dst_desc() == bw.diff_dst_desc();
    h->forward = dnnl::convolution_forward(fwd);
    h->backward_data = dnnl::convolution_backward_data(bd);
    h->backward_weights = dnnl::convolution_backward_weights(bw);
    out->implementation_ = fwd.impl_info_str();
    out->scratchpad_bytes_ = scratch;
    // The primitive's copy of the input gradient is written whole, then added into the op's.
    out->buffer_bytes_ = lay_out_copies({{&h->fwd_x, h->fwd_x.reordered()}, {&h->fwd_kernel, h->fwd_kernel.reordered()},
                                         {&h->fwd_y, h->fwd_y.reordered()}, {&h->bw_x, h->bw_x.reordered()},
                                         {&h->bw_dy, h->bw_dy.reordered()}, {&h->bw_dkernel, h->bw_dkernel.reordered()},
                                         {&h->bd_dy, !h->bd_dy_shared && h->bd_dy.reordered()},
                                         {&h->bd_kernel, h->bd_kernel.reordered()}, {&h->bd_dx, true}});
  } catch (const dnnl::error& e) {
    why_not = e.status == dnnl_unimplemented ? "unimplemented for this shape" : e.what();
    return nullptr;
  }
  out->h_ = std::move(h);
  return out;
}

OneDnnConv::~OneDnnConv() = default;

namespace {

// An operand's memory objects for one execution: the op's buffer (its handle set per call) and,
// when reordered, the primitive's copy (allocated here, once).
struct Bound {
  memory plain, inner;
  Bound() = default;
  Bound(const Operand& o, const dnnl::engine& eng, std::byte* buffer)
      : plain(o.plain, eng, DNNL_MEMORY_NONE), inner(o.copied ? memory(o.inner, eng, buffer + o.offset) : memory()) {}
  // The memory the primitive uses: its copy, or the op's buffer.
  dnnl_memory_t used() const { return inner ? inner.get() : plain.get(); }
};

}  // namespace

struct OneDnnConvExecution::Handles {
  dnnl::stream stream;
  memory scratchpad;
  Bound fwd_x, fwd_kernel, fwd_y, bw_x, bw_dy, bw_dkernel, bd_dy, bd_kernel, bd_dx;

  void set(const memory& m, const void* data) {
    // oneDNN reads inputs only; its handles are not const-qualified.
    onednn_check(dnnl_memory_set_data_handle_v2(m.get(), const_cast<void*>(data), stream.get()), "setting a buffer");
  }
  void run(const dnnl::primitive& p, std::initializer_list<dnnl_exec_arg_t> args) {
    onednn_check(dnnl_primitive_execute(p.get(), stream.get(), static_cast<int>(args.size()), args.begin()), "a convolution step");
  }
  // Into the primitive's layout (a no-op where it reads the op's buffer as it is).
  void in(const Operand& o, Bound& b, const void* data) {
    set(b.plain, data);
    if (o.reordered()) run(o.reorder, {{DNNL_ARG_FROM, b.plain.get()}, {DNNL_ARG_TO, b.inner.get()}, {DNNL_ARG_SCRATCHPAD, scratchpad.get()}});
  }
  void out(const Operand& o, Bound& b) {
    if (b.inner) run(o.reorder, {{DNNL_ARG_FROM, b.inner.get()}, {DNNL_ARG_TO, b.plain.get()}, {DNNL_ARG_SCRATCHPAD, scratchpad.get()}});
  }
};

OneDnnConvExecution::OneDnnConvExecution(const OneDnnConv& conv, std::byte* buffer) : conv_(conv), h_(std::make_unique<Handles>()) {
  const auto& c = *conv.h_;
  h_->stream = dnnl::stream(c.eng);
  h_->scratchpad = memory(memory::desc({static_cast<memory::dim>(std::max<size_t>(conv.scratchpad_bytes(), 1))}, dt::u8, tag::x),
                          c.eng, DNNL_MEMORY_NONE);
  for (auto [operand, bound] : {std::pair{&c.fwd_x, &h_->fwd_x}, {&c.fwd_kernel, &h_->fwd_kernel}, {&c.fwd_y, &h_->fwd_y},
                                 {&c.bw_x, &h_->bw_x}, {&c.bw_dy, &h_->bw_dy}, {&c.bw_dkernel, &h_->bw_dkernel},
                                 {&c.bd_dy, &h_->bd_dy}, {&c.bd_kernel, &h_->bd_kernel}, {&c.bd_dx, &h_->bd_dx}})
    *bound = Bound(*operand, c.eng, buffer);
}

OneDnnConvExecution::~OneDnnConvExecution() = default;

void OneDnnConvExecution::forward(const float* x, const float* kernel, float* y, void* scratchpad) {
  const auto& c = *conv_.h_;
  auto& h = *h_;
  h.set(h.scratchpad, scratchpad);
  h.in(c.fwd_x, h.fwd_x, x);
  h.in(c.fwd_kernel, h.fwd_kernel, kernel);
  h.set(h.fwd_y.plain, y);
  h.run(c.forward, {{DNNL_ARG_SRC, h.fwd_x.used()}, {DNNL_ARG_WEIGHTS, h.fwd_kernel.used()}, {DNNL_ARG_DST, h.fwd_y.used()},
                    {DNNL_ARG_SCRATCHPAD, h.scratchpad.get()}});
  h.out(c.fwd_y, h.fwd_y);
  onednn_check(dnnl_stream_wait(h.stream.get()), "waiting for a convolution");
}

void OneDnnConvExecution::backward(const float* x, const float* kernel, const float* dy, float* dkernel, float* dx, void* scratchpad) {
  const auto& c = *conv_.h_;
  auto& h = *h_;
  h.set(h.scratchpad, scratchpad);
  const bool weights = dkernel != nullptr;
  if (weights) {
    h.in(c.bw_dy, h.bw_dy, dy);
    h.in(c.bw_x, h.bw_x, x);
    h.set(h.bw_dkernel.plain, dkernel);
    h.run(c.backward_weights, {{DNNL_ARG_SRC, h.bw_x.used()}, {DNNL_ARG_DIFF_DST, h.bw_dy.used()},
                               {DNNL_ARG_DIFF_WEIGHTS, h.bw_dkernel.used()}, {DNNL_ARG_SCRATCHPAD, h.scratchpad.get()}});
    h.out(c.bw_dkernel, h.bw_dkernel);
  }
  if (dx) {
    // Where both read dy in one layout, backward weights' copy serves (reordered above if it ran).
    const Operand& dy_operand = c.bd_dy_shared ? c.bw_dy : c.bd_dy;
    Bound& dy_bound = c.bd_dy_shared ? h.bw_dy : h.bd_dy;
    if (!(c.bd_dy_shared && weights)) h.in(dy_operand, dy_bound, dy);
    const dnnl_memory_t dy_used = dy_bound.used();
    h.in(c.bd_kernel, h.bd_kernel, kernel);
    h.set(h.bd_dx.plain, dx);
    h.run(c.backward_data, {{DNNL_ARG_DIFF_DST, dy_used}, {DNNL_ARG_WEIGHTS, h.bd_kernel.used()}, {DNNL_ARG_DIFF_SRC, h.bd_dx.used()},
                            {DNNL_ARG_SCRATCHPAD, h.scratchpad.get()}});
    h.out(c.bd_dx, h.bd_dx);
  }
  onednn_check(dnnl_stream_wait(h.stream.get()), "waiting for a convolution");
}

#else  // a build without oneDNN

struct OneDnnConv::Handles {};
struct OneDnnConvExecution::Handles {};

std::unique_ptr<OneDnnConv> OneDnnConv::create(const ConvShape&, bool, std::string& why_not) {
  why_not = "this build has no oneDNN (install libdnnl-dev and rebuild)";
  return nullptr;
}
OneDnnConv::~OneDnnConv() = default;
OneDnnConvExecution::OneDnnConvExecution(const OneDnnConv& conv, std::byte*) : conv_(conv) {}
OneDnnConvExecution::~OneDnnConvExecution() = default;
void OneDnnConvExecution::forward(const float*, const float*, float*, void*) { throw RuntimeFailure("oneDNN is not built in"); }
void OneDnnConvExecution::backward(const float*, const float*, const float*, float*, float*, void*) {
  throw RuntimeFailure("oneDNN is not built in");
}

#endif

}  // namespace anneal::detail
