// With conv_onednn.cpp, the only files that include oneDNN. Uses its C API: dnnl_primitive_execute takes an array of
// arguments, where the C++ API builds an unordered_map on every call.
#include "gemm_onednn.hpp"

#include "anneal/errors.hpp"

#ifdef ANNEAL_HAVE_ONEDNN
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#endif

namespace anneal::detail {

#ifdef ANNEAL_HAVE_ONEDNN

void onednn_check(int status, const char* what) {
  if (status != dnnl_success) throw RuntimeFailure(std::string("oneDNN: ") + what + " failed (status " + std::to_string(status) + ")");
}

namespace {

// A row-major [rows, cols] matrix stored with row stride `ld`, or its transpose.
dnnl_memory_desc_t matrix(int64_t rows, int64_t cols, int64_t ld, bool transposed, dnnl_data_type_t type = dnnl_f32) {
  dnnl_memory_desc_t md;
  const dnnl_dims_t dims = {rows, cols};
  const dnnl_dims_t strides = {transposed ? 1 : ld, transposed ? ld : 1};
  onednn_check(dnnl_memory_desc_init_by_strides(&md, 2, dims, type, strides), "a memory descriptor");
  return md;
}
}  // namespace

struct OneDnnMatmul::Handles {
  dnnl_engine_t engine = nullptr;
  dnnl_primitive_t primitive = nullptr;
  dnnl_memory_desc_t a, b, c, scratchpad;
  ~Handles() {
    if (primitive) dnnl_primitive_destroy(primitive);
    if (engine) dnnl_engine_destroy(engine);
  }
};

std::unique_ptr<OneDnnMatmul> OneDnnMatmul::create(const GemmShape& s, bool bfloat16, std::string& why_not) {
  std::unique_ptr<OneDnnMatmul> out(new OneDnnMatmul);
  auto h = std::make_unique<Handles>();
  if (dnnl_engine_create(&h->engine, dnnl_cpu, 0) != dnnl_success) {
    why_not = "no CPU engine";
    return nullptr;
  }
  const dnnl_data_type_t in = bfloat16 ? dnnl_bf16 : dnnl_f32;
  h->a = matrix(s.m, s.k, s.lda, s.trans_a, in);
  h->b = matrix(s.k, s.n, s.ldb, s.trans_b, in);
  h->c = matrix(s.m, s.n, s.ldc, false);
  dnnl_matmul_desc_t desc;
  onednn_check(dnnl_matmul_desc_init(&desc, &h->a, &h->b, nullptr, &h->c), "a matmul descriptor");
  dnnl_primitive_attr_t attr = nullptr;
  onednn_check(dnnl_primitive_attr_create(&attr), "primitive attributes");
  // The scratchpad comes from the runner, planned once, rather than from oneDNN per call.
  dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  dnnl_post_ops_t post_ops = nullptr;
  if (s.accumulate) {
    onednn_check(dnnl_post_ops_create(&post_ops), "post-ops");
    onednn_check(dnnl_post_ops_append_sum(post_ops, 1.0f), "the sum post-op");
    onednn_check(dnnl_primitive_attr_set_post_ops(attr, post_ops), "post-ops");
  }
  dnnl_primitive_desc_t pd = nullptr;
  const dnnl_status_t status = dnnl_primitive_desc_create(&pd, &desc, attr, h->engine, nullptr);
  dnnl_primitive_attr_destroy(attr);
  if (post_ops) dnnl_post_ops_destroy(post_ops);
  if (status != dnnl_success) {
    why_not = status == dnnl_unimplemented ? "unimplemented for this shape" : "status " + std::to_string(status);
    return nullptr;
  }
  h->scratchpad = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  out->scratchpad_bytes_ = dnnl_memory_desc_get_size(&h->scratchpad);
  const char* impl = nullptr;
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl) out->implementation_ = impl;
  const dnnl_status_t made = dnnl_primitive_create(&h->primitive, pd);
  dnnl_primitive_desc_destroy(pd);
  onednn_check(made, "a matmul primitive");
  out->h_ = std::move(h);
  return out;
}

OneDnnMatmul::~OneDnnMatmul() = default;

struct OneDnnExecution::Handles {
  dnnl_stream_t stream = nullptr;
  dnnl_memory_t a = nullptr, b = nullptr, c = nullptr, scratchpad = nullptr;
  ~Handles() {
    for (dnnl_memory_t m : {a, b, c, scratchpad})
      if (m) dnnl_memory_destroy(m);
    if (stream) dnnl_stream_destroy(stream);
  }
};

OneDnnExecution::OneDnnExecution(const OneDnnMatmul& matmul) : matmul_(matmul), h_(std::make_unique<Handles>()) {
  const auto& m = *matmul.h_;
  onednn_check(dnnl_stream_create(&h_->stream, m.engine, dnnl_stream_default_flags), "a stream");
  onednn_check(dnnl_memory_create(&h_->a, &m.a, m.engine, DNNL_MEMORY_NONE), "a memory object");
  onednn_check(dnnl_memory_create(&h_->b, &m.b, m.engine, DNNL_MEMORY_NONE), "a memory object");
  onednn_check(dnnl_memory_create(&h_->c, &m.c, m.engine, DNNL_MEMORY_NONE), "a memory object");
  onednn_check(dnnl_memory_create(&h_->scratchpad, &m.scratchpad, m.engine, DNNL_MEMORY_NONE), "a memory object");
}

OneDnnExecution::~OneDnnExecution() = default;

void OneDnnExecution::run(const void* a, const void* b, float* c, void* scratchpad) {
  // oneDNN reads A and B only; its handles are not const-qualified.
  onednn_check(dnnl_memory_set_data_handle_v2(h_->a, const_cast<void*>(a), h_->stream), "setting a buffer");
  onednn_check(dnnl_memory_set_data_handle_v2(h_->b, const_cast<void*>(b), h_->stream), "setting a buffer");
  onednn_check(dnnl_memory_set_data_handle_v2(h_->c, c, h_->stream), "setting a buffer");
  onednn_check(dnnl_memory_set_data_handle_v2(h_->scratchpad, scratchpad, h_->stream), "setting a buffer");
  const dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, h_->a}, {DNNL_ARG_WEIGHTS, h_->b}, {DNNL_ARG_DST, h_->c},
                                  {DNNL_ARG_SCRATCHPAD, h_->scratchpad}};
  onednn_check(dnnl_primitive_execute(matmul_.h_->primitive, h_->stream, 4, args), "a matmul");
  onednn_check(dnnl_stream_wait(h_->stream), "waiting for a matmul");
}

bool onednn_built() { return true; }

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

void onednn_set_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

int onednn_threads() { return omp_get_max_threads(); }

std::string onednn_isa() {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "unknown";
  }
}

bool onednn_has_bfloat16() {
  const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  return isa == dnnl_cpu_isa_avx512_core || isa == dnnl_cpu_isa_avx512_core_vnni || isa == dnnl_cpu_isa_avx512_core_bf16 ||
         isa == dnnl_cpu_isa_avx512_core_amx;
}

#else  // a build without oneDNN

struct OneDnnMatmul::Handles {};
struct OneDnnExecution::Handles {};

std::unique_ptr<OneDnnMatmul> OneDnnMatmul::create(const GemmShape&, bool, std::string& why_not) {
  why_not = "this build has no oneDNN (install libdnnl-dev and rebuild)";
  return nullptr;
}
OneDnnMatmul::~OneDnnMatmul() = default;
OneDnnExecution::OneDnnExecution(const OneDnnMatmul& matmul) : matmul_(matmul) {}
OneDnnExecution::~OneDnnExecution() = default;
void OneDnnExecution::run(const void*, const void*, float*, void*) { throw RuntimeFailure("oneDNN is not built in"); }
bool onednn_built() { return false; }
std::string onednn_version() { return "no oneDNN in this build (install libdnnl-dev and rebuild)"; }
void onednn_set_threads(int) {}
int onednn_threads() { return 1; }
std::string onednn_isa() { return "none (no oneDNN in this build)"; }
bool onednn_has_bfloat16() { return false; }

#endif

}  // namespace anneal::detail
