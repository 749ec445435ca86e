// oneDNN's convolution primitives. Created with the C++ API (descriptors are built once, at
// compile time); run through the C API's dnnl_primitive_execute with an argument array, where the
// C++ API would build an unordered_map on every call.
#include "conv_onednn.hpp"
#include "gemm_onednn.hpp"

#include "anneal/errors.hpp"
#include "anneal/parallel.hpp"
#include "bfloat16_bits.hpp"

#ifdef ANNEAL_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include <immintrin.h>

#include <algorithm>
#include <initializer_list>
#endif

namespace anneal::detail {

#ifdef ANNEAL_HAVE_ONEDNN

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;
using TileLayout = OneDnnConv::TileLayout;

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

// How the visitors find tiles in `d` (`dims` in `type`): channels in blocks of 16 or 8 (oneDNN's
// aBcd16b / aBcd8b, what its AVX-512 and AVX2 kernels pick for activations), or channels last
// (acdb, what its AMX kernels pick), moved 16 channels at a time on AVX-512 only (element by
// element, a transposition is slower than oneDNN's reorder). Any other layout: group 0.
TileLayout tile_layout(const memory::desc& d, const memory::dims& dims, dt type, bool avx512) {
  if (d == memory::desc(dims, type, tag::aBcd16b)) return {16, 16, false};
  if (d == memory::desc(dims, type, tag::aBcd8b)) return {8, 8, false};
  if (avx512 && d == memory::desc(dims, type, tag::acdb)) return {16, dims[1], true};
  return {};
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
    // The output and its gradient in blocked or channels-last layouts are converted in the op's
    // passes (the gradient only where backward data reads the same copy as backward weights).
    out->avx512_ = __builtin_cpu_supports("avx512f");
    // (A copy the same as NCHW, channels last with one filter, needs no conversion at all.)
    if (h->fwd_y.reordered()) out->y_tiles_ = tile_layout(h->fwd_y.inner, y, dt::f32, out->avx512_);
    if (h->bd_dy_shared && h->bw_dy.reordered()) out->dy_tiles_ = tile_layout(h->bw_dy.inner, y, in, out->avx512_);
    out->bfloat16_ = bfloat16;
    out->batch_ = s.batch;
    out->filters_ = s.filters;
    out->plane_ = s.out_h * s.out_w;
    out->implementation_ = fwd.impl_info_str();
    const auto named = [](const char* what, const TileLayout& l) {
      return std::string(what) + (l.channels_last ? " (channels last)" : " (blocks of " + std::to_string(l.group) + ")");
    };
    std::string converted;
    if (out->y_tiles_.group) converted = named("output", out->y_tiles_);
    if (out->dy_tiles_.group) converted += (converted.empty() ? "" : " and ") + named("output gradient", out->dy_tiles_);
    if (!converted.empty()) out->implementation_ += "; " + converted + " converted in the op's passes";
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

namespace {

// A tile is one sample's group of `group` channels: P positions of `group` values, `stride`
// floats apart (TileLayout). In a blocked layout the stride is the group and channels past the
// last (padding a partial block) are zero; channels last, the stride is F and a partial last
// group has no padding: only its channels are read or written. Moving between a tile and its
// planes is a transposition: with groups of 16 on AVX-512 (where oneDNN's direct kernels run),
// 16 x 16 squares in registers; otherwise, and for the positions past the last whole square,
// element by element.

inline float stored_as(float v, float*) { return v; }
inline uint16_t stored_as(float v, uint16_t*) { return bfloat16_of(v); }

// GCC 12 warns that its own AVX-512 intrinsics (which start from an undefined register) may read
// an uninitialised value; they do not. The pragma covers the warnings reported here; the ones
// reported inside GCC's header after inlining (an optimised sanitizer build) it cannot, so the
// float unpacks use the zero-masking forms, which start from zero: with every lane selected
// they compile to the same instructions.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// r[i][j] becomes r[j][i].
__attribute__((target("avx512f"))) inline void transpose16(__m512 r[16]) {
  constexpr __mmask16 kAll = 0xffff;
  __m512 t[16];
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_maskz_unpacklo_ps(kAll, r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_maskz_unpackhi_ps(kAll, r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 4; ++k) {
    const __m512d a = _mm512_castps_pd(t[4 * k]), b = _mm512_castps_pd(t[4 * k + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * k + 2]), d = _mm512_castps_pd(t[4 * k + 3]);
    r[4 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int k = 0; k < 4; ++k) {
    t[k] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0x88);
    t[k + 4] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0xdd);
    t[k + 8] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0x88);
    t[k + 12] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0xdd);
  }
  for (int k = 0; k < 4; ++k) {
    r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
    r[k + 4] = _mm512_shuffle_f32x4(t[k + 4], t[k + 12], 0x88);
    r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xdd);
    r[k + 12] = _mm512_shuffle_f32x4(t[k + 4], t[k + 12], 0xdd);
  }
}

// The lanes of sixteen floats that `lanes` selects, stored as they are, or rounded to bfloat16:
// bfloat16_bits's arithmetic, lane by lane in registers (storing the floats and rounding them with
// bfloat16_of, which the compiler vectorizes, cost the mixed_bfloat16 conv net about 4 % of its
// update).
__attribute__((target("avx512f"))) inline void store16(float* to, __m512 v, __mmask16 lanes) {
  _mm512_mask_storeu_ps(to, lanes, v);
}
__attribute__((target("avx512f"))) inline void store16(uint16_t* to, __m512 v, __mmask16 lanes) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
  const __m512i rounded = _mm512_and_si512(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), lsb), high);
  const __m512i quiet = _mm512_and_si512(_mm512_or_si512(u, _mm512_set1_epi32(0x00400000)), high);
  const __m512i magnitude = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(magnitude, _mm512_set1_epi32(0x7f800000));
  const __m512i bits = _mm512_srli_epi32(_mm512_mask_blend_epi32(nan, rounded, quiet), 16);
  _mm512_mask_cvtepi32_storeu_epi16(to, lanes, bits);
}

// The first `squares` x 16 positions of a tile of 16 channels into its planes, and back. `lanes`
// masks the channels a position holds (all 16 but in a partial group channels last).
__attribute__((target("avx512f"))) void unpack_squares(const float* tile, int64_t stride, int64_t channels, int64_t p,
                                                        int64_t squares, float* planes) {
  const __mmask16 lanes = static_cast<__mmask16>((1u << std::min<int64_t>(channels, 16)) - 1);
  for (int64_t s = 0; s < squares; ++s) {
    __m512 r[16];
    for (int k = 0; k < 16; ++k) r[k] = _mm512_maskz_loadu_ps(lanes, tile + (s * 16 + k) * stride);
    transpose16(r);
    for (int64_t c = 0; c < channels; ++c) _mm512_storeu_ps(planes + c * p + s * 16, r[c]);
  }
}

// `lanes`: the channels written at each position (the rest of a blocked tile gets zeros, which
// the transposition of zero planes gives).
template <class T>
__attribute__((target("avx512f"))) void pack_squares(const float* planes, int64_t channels, int64_t p, int64_t squares,
                                                      int64_t stride, __mmask16 lanes, T* tile) {
  for (int64_t s = 0; s < squares; ++s) {
    __m512 r[16];
    for (int64_t c = 0; c < 16; ++c) r[c] = c < channels ? _mm512_loadu_ps(planes + c * p + s * 16) : _mm512_setzero_ps();
    transpose16(r);
    for (int k = 0; k < 16; ++k) store16(tile + (s * 16 + k) * stride, r[k], lanes);
  }
}

#pragma GCC diagnostic pop

// A tile's planes out of the copy.
void unpack_tile(const float* tile, const TileLayout& l, int64_t channels, int64_t p, bool avx512, float* planes) {
  const int64_t squares = l.group == 16 && avx512 ? p / 16 : 0;
  if (squares) unpack_squares(tile, l.stride, channels, p, squares, planes);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = squares * 16; i < p; ++i) planes[c * p + i] = tile[i * l.stride + c];
}

// One tile of the copy from `channels` planes (float32, or rounded to bfloat16).
template <class T>
void pack_tile(const float* planes, const TileLayout& l, int64_t channels, int64_t p, bool avx512, T* tile) {
  const int64_t written = l.channels_last ? channels : l.group;  // a blocked tile's padding is written too
  const int64_t squares = l.group == 16 && avx512 ? p / 16 : 0;
  if (squares) pack_squares(planes, channels, p, squares, l.stride, static_cast<__mmask16>((1u << written) - 1), tile);
  for (int64_t i = squares * 16; i < p; ++i)
    for (int64_t c = 0; c < written; ++c) tile[i * l.stride + c] = c < channels ? stored_as(planes[c * p + i], tile) : T{};
}

}  // namespace

void OneDnnConvExecution::forward(const float* x, const float* kernel, float* y, void* scratchpad, PlaneVisitor finish,
                                  int threads) {
  const auto& c = *conv_.h_;
  auto& h = *h_;
  h.set(h.scratchpad, scratchpad);
  h.in(c.fwd_x, h.fwd_x, x);
  h.in(c.fwd_kernel, h.fwd_kernel, kernel);
  h.set(h.fwd_y.plain, y);
  h.run(c.forward, {{DNNL_ARG_SRC, h.fwd_x.used()}, {DNNL_ARG_WEIGHTS, h.fwd_kernel.used()}, {DNNL_ARG_DST, h.fwd_y.used()},
                    {DNNL_ARG_SCRATCHPAD, h.scratchpad.get()}});
  const TileLayout& tiles = conv_.y_tiles_;
  if (!tiles.group) h.out(c.fwd_y, h.fwd_y);
  onednn_check(dnnl_stream_wait(h.stream.get()), "waiting for a convolution");
  const int64_t filters = conv_.filters_, p = conv_.plane_;
  if (!tiles.group) {
    if (finish)
      parallel_for(threads, conv_.batch_ * filters, [&](int64_t first, int64_t last) {
        for (int64_t i = first; i < last; ++i) finish(i / filters, i % filters, y + i * p);
      });
    return;
  }
  // Each tile's planes out of the copy and finished while they are in cache.
  const auto* copy = static_cast<const float*>(h.fwd_y.inner.get_data_handle());
  const int64_t groups = (filters + tiles.group - 1) / tiles.group;
  parallel_for(threads, conv_.batch_ * groups, [&](int64_t first, int64_t last) {
    for (int64_t t = first; t < last; ++t) {
      const int64_t b = t / groups, g = t % groups, f0 = g * tiles.group, channels = std::min<int64_t>(tiles.group, filters - f0);
      float* planes = y + (b * filters + f0) * p;
      unpack_tile(copy + tiles.offset(b, g, filters, p), tiles, channels, p, conv_.avx512_, planes);
      if (finish)
        for (int64_t ch = 0; ch < channels; ++ch) finish(b, f0 + ch, planes + ch * p);
    }
  });
}

namespace {

// The output gradient's planes from the op's visitor, packed tile by tile into backward weights'
// copy while they are in cache. Each thread takes whole channel groups, their samples in order,
// and writes its planes in room at its first group's place (room's planes of sample 0, which no
// other thread's groups cover).
template <class T>
void pack_gradient(PlaneVisitor gradient, float* room, int64_t batch, int64_t filters, int64_t p,
                   const TileLayout& tiles, bool avx512, T* copy, int threads) {
  const int64_t groups = (filters + tiles.group - 1) / tiles.group;
  parallel_for(threads, groups, [&](int64_t first, int64_t last) {
    float* planes = room + first * tiles.group * p;
    for (int64_t g = first; g < last; ++g) {
      const int64_t f0 = g * tiles.group, channels = std::min<int64_t>(tiles.group, filters - f0);
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t ch = 0; ch < channels; ++ch) gradient(b, f0 + ch, planes + ch * p);
        pack_tile(planes, tiles, channels, p, avx512, copy + tiles.offset(b, g, filters, p));
      }
    }
  });
}

}  // namespace

void OneDnnConvExecution::backward(const float* x, const float* kernel, PlaneVisitor gradient, float* room, float* dkernel,
                                   float* dx, void* scratchpad, int threads) {
  const auto& c = *conv_.h_;
  auto& h = *h_;
  const bool weights = dkernel != nullptr, packed = conv_.dy_tiles_.group && (weights || dx);
  const int64_t filters = conv_.filters_, p = conv_.plane_;
  if (packed) {
    void* blocked = h.bw_dy.inner.get_data_handle();
    if (conv_.bfloat16_)
      pack_gradient(gradient, room, conv_.batch_, filters, p, conv_.dy_tiles_, conv_.avx512_, static_cast<uint16_t*>(blocked),
                    threads);
    else
      pack_gradient(gradient, room, conv_.batch_, filters, p, conv_.dy_tiles_, conv_.avx512_, static_cast<float*>(blocked),
                    threads);
  } else {
    // The planes in NCHW in room, for oneDNN's reorders: each thread a range of channels, their
    // samples in order.
    parallel_for(threads, filters, [&](int64_t first, int64_t last) {
      for (int64_t f = first; f < last; ++f)
        for (int64_t b = 0; b < conv_.batch_; ++b) gradient(b, f, room + (b * filters + f) * p);
    });
    if (!weights && !dx) return;
  }
  h.set(h.scratchpad, scratchpad);
  if (weights) {
    if (!packed) h.in(c.bw_dy, h.bw_dy, room);
    h.in(c.bw_x, h.bw_x, x);
    h.set(h.bw_dkernel.plain, dkernel);
    h.run(c.backward_weights, {{DNNL_ARG_SRC, h.bw_x.used()}, {DNNL_ARG_DIFF_DST, h.bw_dy.used()},
                               {DNNL_ARG_DIFF_WEIGHTS, h.bw_dkernel.used()}, {DNNL_ARG_SCRATCHPAD, h.scratchpad.get()}});
    h.out(c.bw_dkernel, h.bw_dkernel);
  }
  if (dx) {
    // Where both read dy in one layout, backward weights' copy serves (written above, by the
    // packing or by its reorder).
    const Operand& dy_operand = c.bd_dy_shared ? c.bw_dy : c.bd_dy;
    Bound& dy_bound = c.bd_dy_shared ? h.bw_dy : h.bd_dy;
    if (!(c.bd_dy_shared && (weights || packed))) h.in(dy_operand, dy_bound, room);
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
void OneDnnConvExecution::forward(const float*, const float*, float*, void*, PlaneVisitor, int) {
  throw RuntimeFailure("oneDNN is not built in");
}
void OneDnnConvExecution::backward(const float*, const float*, PlaneVisitor, float*, float*, float*, void*, int) {
  throw RuntimeFailure("oneDNN is not built in");
}

#endif

}  // namespace anneal::detail
