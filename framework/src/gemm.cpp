#include "anneal/gemm.hpp"

#include <cpuid.h>

#include <cmath>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>
#include <type_traits>

#include "anneal/atomic_file.hpp"
#include "anneal/blas.hpp"
#include "anneal/clock.hpp"
#include "anneal/errors.hpp"
#include "anneal/parallel.hpp"
#include "bfloat16_bits.hpp"
#include "conv_onednn.hpp"
#include "gemm_onednn.hpp"

namespace anneal {

namespace {

// Below this many flops a product is left on OpenBLAS untimed: oneDNN's fixed cost per call
// (a few microseconds) is then a large part of the product, and timing every small product of
// every small model would cost more than it could gain.
constexpr double kMinTimedFlops = 4e6;
// OpenBLAS 0.3.21 runs a product of at most 65 536 x 4 multiply-adds on the calling thread alone
// (interface/gemm.c: SMP_THRESHOLD_MIN x GEMM_MULTITHREAD_THRESHOLD), so its threads stay asleep.
constexpr double kOpenBlasOneThreadMacs = 65536.0 * 4;
double macs(const GemmShape& s) { return static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k); }
bool too_small_to_time(const GemmShape& s) { return s.flops() < kMinTimedFlops; }
// oneDNN must beat OpenBLAS by this much to be chosen: ties stay on the baseline.
constexpr double kMargin = 1.05;

std::string stored_str(const GemmShape& s) {
  return std::string(s.trans_a ? "T" : "N") + (s.trans_b ? "T" : "N") + " " + std::to_string(s.m) + "x" +
         std::to_string(s.n) + "x" + std::to_string(s.k);
}

// Floats each matrix spans as stored (rows times row stride).
size_t a_size(const GemmShape& s) { return static_cast<size_t>((s.trans_a ? s.k : s.m) * s.lda); }
size_t b_size(const GemmShape& s) { return static_cast<size_t>((s.trans_b ? s.n : s.k) * s.ldb); }
size_t c_size(const GemmShape& s) { return static_cast<size_t>(s.m * s.ldc); }

void run_openblas(const GemmShape& s, const float* a, const float* b, float* c) {
  blas::gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.0f, a, s.lda, b, s.ldb, s.accumulate ? 1.0f : 0.0f, c, s.ldc);
}

// One half of a product split in two (GemmSplit): its shape and where its A, B and C start.
struct Half {
  GemmShape shape;
  size_t a = 0, b = 0, c = 0;
};

Half half_of(const GemmShape& s, GemmSplit split, int part) {
  Half h{s};
  if (split == GemmSplit::kRows) {
    const int64_t first = part == 0 ? 0 : s.m / 2;
    h.shape.m = part == 0 ? s.m / 2 : s.m - s.m / 2;
    h.a = static_cast<size_t>(s.trans_a ? first : first * s.lda);
    h.c = static_cast<size_t>(first * s.ldc);
  } else {
    const int64_t first = part == 0 ? 0 : s.n / 2;
    h.shape.n = part == 0 ? s.n / 2 : s.n - s.n / 2;
    h.b = static_cast<size_t>(s.trans_b ? first * s.ldb : first);
    h.c = static_cast<size_t>(first);
  }
  return h;
}

// Two oneDNN products at once, one on each of the pool's two threads (oneDNN, called from inside
// the parallel region, runs each on its thread alone), each with its own scratchpad.
struct OnOneThread {
  detail::OneDnnExecution* run;
  const float* a;
  const float* b;
  float* c;
  void* scratchpad;
};

void run_two_at_once(const OnOneThread (&products)[2]) {
  std::exception_ptr failed[2];
  parallel_for(2, 2, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) try {
        const OnOneThread& x = products[p];
        x.run->run(x.a, x.b, x.c, x.scratchpad);
      } catch (...) {
        failed[p] = std::current_exception();
      }
  });
  for (const auto& f : failed)
    if (f) std::rethrow_exception(f);
}

// A product's two halves at once (GemmSplit).
void run_halves(detail::OneDnnExecution* const runs[2], const GemmShape& s, GemmSplit split, const float* a, const float* b,
                float* c, void* scratchpad0, void* scratchpad1) {
  const Half h0 = half_of(s, split, 0), h1 = half_of(s, split, 1);
  run_two_at_once({{runs[0], a + h0.a, b + h0.b, c + h0.c, scratchpad0}, {runs[1], a + h1.a, b + h1.b, c + h1.c, scratchpad1}});
}

// The threads a plan's products will run on.
int plan_threads(const GemmOptions& options) { return options.threads > 0 ? options.threads : detail::onednn_threads(); }

// The two halves' primitives, or none where oneDNN cannot run one of them (or a half would be empty).
std::vector<std::unique_ptr<detail::OneDnnMatmul>> create_halves(const GemmShape& s, GemmSplit split) {
  std::vector<std::unique_ptr<detail::OneDnnMatmul>> out;
  if (split == GemmSplit::kNone || (split == GemmSplit::kRows ? s.m : s.n) < 2) return out;
  for (int part = 0; part < 2; ++part) {
    std::string why_not;
    out.push_back(detail::OneDnnMatmul::create(half_of(s, split, part).shape, false, why_not));
    if (!out.back()) return {};
  }
  return out;
}

// Seconds per call of `call` over a block of at least 10 ms (at most 1000 calls); the caller makes
// the untimed first call.
double time_block(const std::function<void()>& call) {
  int count = 0;
  const double start = wall_seconds();
  double elapsed = 0;
  do {
    call();
    ++count;
    elapsed = wall_seconds() - start;
  } while (elapsed < 0.01 && count < 1000);
  return elapsed / count;
}

// OpenBLAS's pthreads keep spinning (sched_yield) after its last call until their timeout, about
// 2^28 cycles, before they sleep: oneDNN's OpenMP threads timed in that window share the cores
// with them. On a 2-core EPYC a oneDNN product timed right after an OpenBLAS block ran at a third
// of its rate on some shapes (NT 256x784x1024 += at 51 GF/s, against about 300 when timed after
// a pause), and the plan then showed rates no run of it would see. So a oneDNN phase starts after
// a pause long enough for them to sleep.
void let_openblas_threads_sleep() { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }

// Rounds of timing blocks: at least three, then more until every candidate's fastest block is
// matched within 3 % by another (RepeatedTimings), at most nine. With three rounds only, a busy
// spell of a second or two slowed every block of one candidate: a batch-1024 plan timed all
// oneDNN at 31.2 ms against all OpenBLAS at 31.8, within the margin, and kept OpenBLAS, where
// the same sequences timed on a quiet moment gave 29.0 and 36.3 ms (the run then trained at
// 0.95x PyTorch's speed instead of 1.12x).
constexpr int kMinRounds = 3, kMaxRounds = 9;
constexpr double kSettled = 0.03;

// Seconds per call of each of `calls`, from blocks of at least 10 ms each, rounds as above; the
// blocks of the candidates alternate so that all see the same machine, and each block's first
// call is not counted. `pause_before[i]` asks for the pause above before each of call i's blocks.
std::vector<double> time_alternating(const std::vector<std::function<void()>>& calls,
                                     const std::vector<bool>& pause_before) {
  RepeatedTimings timings(calls.size());
  for (const auto& call : calls) call();
  for (int round = 0; round < kMaxRounds && (round < kMinRounds || !timings.settled(kSettled)); ++round)
    for (size_t i = 0; i < calls.size(); ++i) {
      if (pause_before[i]) let_openblas_threads_sleep();
      calls[i]();
      timings.add(i, time_block(calls[i]));
    }
  return timings.best();
}

// Buffers large enough for every product of a plan (the values do not matter for timing).
struct Operands {
  std::vector<float> a, b, c;
  std::vector<std::byte> scratchpad;
  explicit Operands(const std::vector<GemmChoice>& choices, size_t scratch) : scratchpad(std::max<size_t>(scratch, 1)) {
    size_t na = 1, nb = 1, nc = 1;
    for (const auto& ch : choices) {
      const GemmShape& s = ch.shape;
      na = std::max(na, a_size(s));
      nb = std::max(nb, b_size(s));
      nc = std::max(nc, c_size(s));
    }
    a.resize(na);
    b.resize(nb);
    c.assign(nc, 0.0f);
    for (size_t i = 0; i < na; ++i) a[i] = 0.001f * static_cast<float>(i % 97);
    for (size_t i = 0; i < nb; ++i) b[i] = 0.001f * static_cast<float>(i % 89);
  }
};

}  // namespace

std::string GemmShape::str() const {
  std::string out = stored_str(*this);
  const bool dense = lda == (trans_a ? m : k) && ldb == (trans_b ? k : n) && ldc == n;
  if (!dense) out += " ld " + std::to_string(lda) + "/" + std::to_string(ldb) + "/" + std::to_string(ldc);
  return out + (accumulate ? " +=" : "");
}

std::string GemmShape::key() const {
  return stored_str(*this) + " ld " + std::to_string(lda) + "/" + std::to_string(ldb) + "/" + std::to_string(ldc) +
         (accumulate ? " +=" : "");
}

double ConvShape::flops() const {
  return 2.0 * static_cast<double>(batch) * static_cast<double>(filters) * static_cast<double>(out_h * out_w) *
         static_cast<double>(channels * kh * kw);
}

std::string ConvShape::str() const {
  auto d = [](int64_t v) { return std::to_string(v); };
  return d(batch) + "x" + d(channels) + "x" + d(h) + "x" + d(w) + " * " + d(filters) + "x" + d(kh) + "x" + d(kw) + " s" + d(sh) + "x" +
         d(sw) + " d" + d(dh) + "x" + d(dw) + " p" + d(pad_top) + "," + d(pad_left) + "," + d(pad_bottom) + "," + d(pad_right);
}

const char* backend_name(GemmBackend backend) {
  switch (backend) {
    case GemmBackend::kOneDnn: return "onednn";
    case GemmBackend::kOneDnnBf16: return "onednn-bf16";
    case GemmBackend::kEmulatedBf16: return "bf16-emulated";
    default: return "openblas";
  }
}

const char* split_name(GemmSplit split) {
  switch (split) {
    case GemmSplit::kRows: return "rows";
    case GemmSplit::kColumns: return "columns";
    default: return "";
  }
}

std::string onednn_isa() { return detail::onednn_isa(); }

std::string bfloat16_unsupported_reason() {
  if (!detail::onednn_built()) return detail::onednn_version();
  if (detail::onednn_has_bfloat16()) return "";
  // The features by their cpuid bits (leaf 7): compilers differ in the names they accept.
  unsigned a0 = 0, b0 = 0, c0 = 0, d0 = 0, a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  __get_cpuid_count(7, 0, &a0, &b0, &c0, &d0);
  __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
  std::string missing;
  for (const auto& [flag, name] : {std::pair{(b0 >> 16) & 1u, "avx512f"}, std::pair{(a1 >> 5) & 1u, "avx512_bf16"},
                                   std::pair{(d0 >> 22) & 1u, "amx_bf16"}})
    if (!flag) missing += std::string(missing.empty() ? "" : ", ") + name;
  return "this CPU (" + cpu_model() + ") has no bfloat16 support for oneDNN: its instruction set is " + detail::onednn_isa() +
         ", and it lacks " + (missing.empty() ? std::string("AVX-512") : missing) +
         " (oneDNN needs AVX-512 at least; AMX or AVX512-BF16 make bfloat16 fast)";
}

using detail::bfloat16_bits;

float round_to_bfloat16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u = bfloat16_bits(u);
  std::memcpy(&x, &u, sizeof x);
  return x;
}

std::optional<GemmPolicy> parse_gemm_policy(const std::string& name) {
  if (name == "openblas") return GemmPolicy::kOpenBlas;
  if (name == "onednn") return GemmPolicy::kOneDnn;
  if (name == "auto") return GemmPolicy::kAuto;
  return std::nullopt;
}

bool onednn_available() { return detail::onednn_built(); }
std::string onednn_description() { return detail::onednn_version(); }

std::string cpu_model() {
  unsigned regs[12] = {};
  for (unsigned i = 0; i < 3; ++i)
    if (!__get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3])) return "unknown CPU";
  char text[sizeof regs + 1] = {};
  std::memcpy(text, regs, sizeof regs);
  std::string model(text);
  model.erase(0, model.find_first_not_of(' '));
  while (!model.empty() && (model.back() == ' ' || model.back() == '\0')) model.pop_back();
  for (char& c : model)
    if (c == '\t' || c == '\n') c = ' ';
  return model.empty() ? "unknown CPU" : model;
}

// ---- the cache file: one "key<TAB>value" line per plan (the key holds tabs of its own; the
// value is the last field).

FileGemmCache::FileGemmCache(std::string path) : path_(std::move(path)) {
  std::ifstream in(path_);
  for (std::string line; std::getline(in, line);) {
    const size_t tab = line.rfind('\t');
    if (tab == std::string::npos || tab == 0) continue;
    entries_.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
}

std::optional<std::string> FileGemmCache::find(const std::string& key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return v;
  return std::nullopt;
}

void FileGemmCache::remember(const std::string& key, const std::string& value) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == key; });
  if (it != entries_.end()) it->second = value;
  else entries_.emplace_back(key, value);
  std::string text;
  for (const auto& [k, v] : entries_) text += k + "\t" + v + "\n";
  write_file_atomically(path_, text);
}

// ---- the plan

GemmPlan::GemmPlan() = default;
GemmPlan::~GemmPlan() = default;
GemmPlan::GemmPlan(GemmPlan&&) noexcept = default;
GemmPlan& GemmPlan::operator=(GemmPlan&&) noexcept = default;

void GemmPlan::add(const GemmShape& shape) {
  declared_.push_back(shape);
  if (find(shape) < 0) choices_.push_back({shape, GemmBackend::kOpenBlas, 0, 0, "policy", ""});
}

void GemmPlan::add(const ConvShape& shape, const std::vector<GemmShape>& im2col_products) {
  if (find(shape) >= 0) return;
  convolutions_.push_back({shape, false, "policy", ""});
  conv_products_.push_back(im2col_products);
  for (const GemmShape& p : im2col_products)
    if (find(p) < 0) choices_.push_back({p, GemmBackend::kOpenBlas, 0, 0, "policy", ""});
}

int GemmPlan::find(const ConvShape& shape) const {
  for (size_t i = 0; i < convolutions_.size(); ++i)
    if (convolutions_[i].shape == shape) return static_cast<int>(i);
  return -1;
}

bool GemmPlan::direct(const ConvShape& shape) const {
  const int i = find(shape);
  return i >= 0 && convolutions_[static_cast<size_t>(i)].direct;
}

// Direct convolutions where the plan uses oneDNN: in mixed_bfloat16 (where every product is on
// it), and in float32 under policy onednn or auto. Under auto they are not timed against im2col:
// anneal_onednn_conv measured oneDNN's direct kernels on blocked layouts 1.25-1.47x faster than
// the im2col products alone on the bench net, before counting the im2col and col2im passes they
// make unnecessary; only oneDNN's reference kernel, far slower, is refused (OneDnnConv::create).
// Then the products: those declared outright, and the im2col products of convolutions that stay
// on them.
void GemmPlan::choose_convolutions(const GemmOptions& options) {
  conv_primitives_.clear();
  conv_primitives_.resize(convolutions_.size());
  const bool native_bfloat16 = options.bfloat16 && !options.emulate_bfloat16;
  std::string why;
  if (!options.direct_convolutions) why = "direct convolutions off";
  else if (options.bfloat16 && options.emulate_bfloat16) why = "emulated mixed_bfloat16";
  else if (!options.bfloat16 && options.policy == GemmPolicy::kOpenBlas) why = "policy openblas";
  else if (!detail::onednn_built()) why = "no oneDNN in this build";
  else if (options.bfloat16 && !bfloat16_unsupported_reason().empty()) why = "no bfloat16 support";  // choose_bfloat16 refuses
  for (size_t i = 0; i < convolutions_.size(); ++i) {
    ConvChoice& c = convolutions_[i];
    c.direct = false;
    c.implementation.clear();
    c.source = why;
    if (!why.empty()) continue;
    std::string why_not;
    conv_primitives_[i] = detail::OneDnnConv::create(c.shape, native_bfloat16, why_not);
    if (!conv_primitives_[i]) {
      c.source = "oneDNN cannot: " + why_not;
      continue;
    }
    c.direct = true;
    c.implementation = conv_primitives_[i]->implementation();
    c.source = options.bfloat16 ? "mixed_bfloat16" : options.policy == GemmPolicy::kAuto ? "auto (direct kernel, not timed)" : "policy onednn";
  }
  choices_.clear();
  auto keep = [&](const GemmShape& p) {
    if (find(p) < 0) choices_.push_back({p, GemmBackend::kOpenBlas, 0, 0, "policy", ""});
  };
  for (const GemmShape& p : declared_) keep(p);
  for (size_t i = 0; i < convolutions_.size(); ++i)
    if (!convolutions_[i].direct)
      for (const GemmShape& p : conv_products_[i]) keep(p);
}

int GemmPlan::find(const GemmShape& shape) const {
  for (size_t i = 0; i < choices_.size(); ++i)
    if (choices_[i].shape == shape) return static_cast<int>(i);
  return -1;
}

namespace {

// A plan's decision as cache text: "backend:openblas GF/s:onednn GF/s" per product, with
// ":halves GF/s" after it where the product runs in halves; ';' between products, then '|' and the
// decision's description.
std::string encode_decision(const std::vector<GemmChoice>& choices, const std::string& decision) {
  std::string out;
  char item[128];
  for (const auto& c : choices) {
    const bool halves = c.split != GemmSplit::kNone;
    std::snprintf(item, sizeof item, "%s%s%s%s:%.1f:%.1f", out.empty() ? "" : ";", backend_name(c.backend),
                  halves ? "-" : "", split_name(c.split), c.openblas_gflops, c.onednn_gflops);
    out += item;
    if (halves) {
      std::snprintf(item, sizeof item, ":%.1f", c.split_gflops);
      out += item;
    }
  }
  return out + "|" + decision;
}

// Applies cached text to the choices; false when it does not fit them (then measure again).
bool decode_decision(const std::string& text, std::vector<GemmChoice>& choices, std::string& decision) {
  const size_t bar = text.find('|');
  if (bar == std::string::npos) return false;
  std::vector<GemmChoice> out = choices;
  std::stringstream items(text.substr(0, bar));
  size_t i = 0;
  for (std::string item; std::getline(items, item, ';'); ++i) {
    char backend[24] = {};
    double ob = 0, dn = 0, halves = 0;  // lines written before halves kept their rate have three fields
    int three = -1, four = -1;           // where each reading ended: the item must be read to its end
    const int fields = i < out.size() ? std::sscanf(item.c_str(), "%23[a-z-]:%lf:%lf%n:%lf%n", backend, &ob, &dn, &three,
                                                    &halves, &four)
                                      : 0;
    const int length = static_cast<int>(item.size());
    if (!(fields == 3 && three == length) && !(fields == 4 && four == length)) return false;
    const std::string name = backend;
    if (name != "openblas" && name != "onednn" && name != "onednn-rows" && name != "onednn-columns") return false;
    out[i].backend = name == "openblas" ? GemmBackend::kOpenBlas : GemmBackend::kOneDnn;
    out[i].split = name == "onednn-rows" ? GemmSplit::kRows : name == "onednn-columns" ? GemmSplit::kColumns : GemmSplit::kNone;
    out[i].openblas_gflops = ob;
    out[i].onednn_gflops = dn;
    out[i].split_gflops = out[i].split == GemmSplit::kNone ? 0 : halves;
    out[i].source = "cache";
  }
  if (i != out.size()) return false;
  choices = std::move(out);
  decision = text.substr(bar + 1);
  return true;
}

}  // namespace

void GemmPlan::choose(const GemmOptions& options) {
  choose_convolutions(options);
  primitives_.clear();
  primitives_.resize(choices_.size());
  halves_.clear();
  halves_.resize(choices_.size());
  bfloat16_ = options.bfloat16;
  reuse_conversions_ = options.reuse_conversions;
  parallel_passes_ = options.parallel_passes;
  decide_side_by_side(options);
  if (options.bfloat16) {
    choose_bfloat16(options);
    return;
  }
  decision_ = options.policy == GemmPolicy::kOpenBlas ? "policy openblas" : "";
  if (options.policy == GemmPolicy::kOpenBlas || choices_.empty()) return;
  if (!detail::onednn_built()) {
    if (options.policy == GemmPolicy::kOneDnn) throw InputError("gemm backend 'onednn': " + detail::onednn_version());
    decision_ = "no oneDNN in this build";
    return;
  }
  // Under auto, products follow direct convolutions onto oneDNN untimed: OpenBLAS's threads spin
  // for a while after each call, and with oneDNN's OpenMP threads running the convolutions between
  // them the two pools fight for the cores: digits_cnn's update took 1.2-2.5x as long (six runs
  // of seven) with its dense products timed and left on OpenBLAS. A product OpenBLAS runs on the
  // calling thread alone stays there.
  const bool auto_policy = options.policy == GemmPolicy::kAuto;
  const bool follow = auto_policy && std::any_of(convolutions_.begin(), convolutions_.end(), [](const ConvChoice& c) { return c.direct; });
  const bool timed = auto_policy && !follow;
  // oneDNN's primitive for every product it may run. Under auto, a product too small to time gets
  // one only if OpenBLAS would split it over its threads: it then follows the others (below).
  for (size_t i = 0; i < choices_.size(); ++i) {
    GemmChoice& c = choices_[i];
    const bool untimed = timed && too_small_to_time(c.shape);
    if (untimed || follow) {
      c.source = follow ? "one thread, beside the direct convolutions" : "below threshold";
      if (macs(c.shape) <= kOpenBlasOneThreadMacs) continue;
    }
    std::string why_not;
    primitives_[i] = detail::OneDnnMatmul::create(c.shape, false, why_not);
    if (!primitives_[i]) {
      c.source = "oneDNN cannot: " + why_not;
      continue;
    }
    c.implementation = primitives_[i]->implementation();
    if (untimed) continue;
    c.source = follow ? "with the direct convolutions" : "policy onednn";
    c.backend = GemmBackend::kOneDnn;
  }
  if (timed) decide_by_timing(options);
  // Primitives of products left on OpenBLAS are not kept.
  for (size_t i = 0; i < choices_.size(); ++i)
    if (choices_[i].backend == GemmBackend::kOpenBlas) primitives_[i].reset();
  if (follow) decision_ = "untimed: the products follow the direct convolutions onto oneDNN's threads";
  else if (!timed) decision_ = "policy onednn";
  choose_halves(options);
}

// The halves of the products on oneDNN: as timed (or cached) under auto, as asked otherwise, and
// only on exactly two threads, one half each.
void GemmPlan::choose_halves(const GemmOptions& options) {
  const int threads = plan_threads(options);
  for (size_t i = 0; i < choices_.size(); ++i) {
    GemmChoice& c = choices_[i];
    if (c.backend != GemmBackend::kOneDnn || threads != 2 || options.halves == GemmOptions::Halves::kNone) c.split = GemmSplit::kNone;
    else if (options.halves == GemmOptions::Halves::kRows) c.split = GemmSplit::kRows;
    else if (options.halves == GemmOptions::Halves::kColumns) c.split = GemmSplit::kColumns;
    if (c.split == GemmSplit::kNone) halves_[i].clear();
    else if (halves_[i].empty()) halves_[i] = create_halves(c.shape, c.split);  // timing keeps the winner's
    if (halves_[i].empty()) c.split = GemmSplit::kNone;
  }
}

// Each candidate product on oneDNN whole, and in halves by rows and by columns (each half on one of
// the two threads), alternating, in time_alternating's rounds; halves are kept (their primitives in
// halves_) where they beat the whole product by 3 %. On this project's 2-core machine halves ran
// the bench MLP's products 3-14 % faster than the whole product on both threads: the threads no
// longer wait for each other inside it.
void GemmPlan::time_halves(const std::vector<size_t>& candidates, const std::function<void(size_t, GemmBackend)>& whole, const float* a,
                           const float* b, float* c_out) {
  for (size_t i : candidates) {
    GemmChoice& c = choices_[i];
    c.split = GemmSplit::kNone;
    std::vector<std::function<void()>> calls{[&whole, i] { whole(i, GemmBackend::kOneDnn); }};
    std::vector<GemmSplit> splits{GemmSplit::kNone};
    std::vector<std::vector<std::unique_ptr<detail::OneDnnMatmul>>> made;
    std::vector<std::vector<std::unique_ptr<detail::OneDnnExecution>>> runs;
    std::vector<std::vector<std::byte>> scratch;
    for (GemmSplit split : {GemmSplit::kRows, GemmSplit::kColumns}) {
      auto halves = create_halves(c.shape, split);
      if (halves.empty()) continue;
      auto& r = runs.emplace_back();
      for (const auto& h : halves) {
        r.push_back(std::make_unique<detail::OneDnnExecution>(*h));
        scratch.emplace_back(std::max<size_t>(h->scratchpad_bytes(), 1));
      }
      made.push_back(std::move(halves));
      splits.push_back(split);
    }
    for (size_t k = 0; k < runs.size(); ++k)
      calls.push_back([&, k] {
        detail::OneDnnExecution* const both[2] = {runs[k][0].get(), runs[k][1].get()};
        run_halves(both, c.shape, splits[k + 1], a, b, c_out, scratch[2 * k].data(), scratch[2 * k + 1].data());
      });
    const auto t = time_alternating(calls, std::vector<bool>(calls.size(), false));
    size_t best = 0;
    for (size_t k = 1; k < t.size(); ++k)
      if (t[k] * 1.03 < t[0] && t[k] < t[best]) best = k;
    c.split = splits[best];
    c.split_gflops = best ? c.shape.flops() / t[best] / 1e9 : 0;
    if (best) halves_[i] = std::move(made[best - 1]);
  }
}

// Whether run_independent may put its two products side by side: the measured gain is from two
// threads each running a product alone instead of both waiting for each other inside every product,
// which needs exactly two threads (docs/performance.md, "Independent products side by side").
void GemmPlan::decide_side_by_side(const GemmOptions& options) {
  const int threads = plan_threads(options);
  if (!options.side_by_side) side_by_side_reason_ = "turned off";
  else if (options.bfloat16) side_by_side_reason_ = "mixed_bfloat16, whose products share the runner's converted operands";
  else if (!detail::onednn_built()) side_by_side_reason_ = "no oneDNN in this build";
  else if (threads != 2) side_by_side_reason_ = "threads: " + std::to_string(threads) + ", and side by side takes exactly two";
  else side_by_side_reason_.clear();
  side_by_side_ = side_by_side_reason_.empty();
}

// mixed_bfloat16: oneDNN's bfloat16 matmul for every product, each checked once against the
// emulation on the machine itself (a primitive that disagrees is refused, not trusted).
void GemmPlan::choose_bfloat16(const GemmOptions& options) {
  if (options.emulate_bfloat16) {
    for (auto& c : choices_) c.backend = GemmBackend::kEmulatedBf16, c.source = "emulated (asked for)";
    decision_ = "mixed_bfloat16, emulated: inputs rounded to bfloat16, OpenBLAS sgemm (no speed-up)";
    return;
  }
  const std::string missing = bfloat16_unsupported_reason();
  if (!missing.empty()) throw InputError("mixed_bfloat16 needs bfloat16 matrix products, and " + missing);
  for (size_t i = 0; i < choices_.size(); ++i) {
    GemmChoice& c = choices_[i];
    std::string why_not;
    primitives_[i] = detail::OneDnnMatmul::create(c.shape, true, why_not);
    if (!primitives_[i]) throw InputError("mixed_bfloat16: oneDNN has no bfloat16 matmul for " + c.shape.str() + " (" + why_not + ")");
    c.backend = GemmBackend::kOneDnnBf16;
    c.implementation = primitives_[i]->implementation();
    c.source = "mixed_bfloat16";
  }
  decision_ = "mixed_bfloat16 on oneDNN (" + detail::onednn_isa() + ")";
  GemmRunner check(this), reference(nullptr);
  for (const auto& c : choices_) {
    const GemmShape& s = c.shape;
    std::vector<float> a(a_size(s)), b(b_size(s));
    for (size_t i = 0; i < a.size(); ++i) a[i] = round_to_bfloat16(0.01f * static_cast<float>(static_cast<int>(i % 193) - 96));
    for (size_t i = 0; i < b.size(); ++i) b[i] = round_to_bfloat16(0.01f * static_cast<float>(static_cast<int>(i % 181) - 90));
    std::vector<float> got(c_size(s), 0.5f), want = got;
    check.run(s, a.data(), b.data(), got.data());
    run_openblas(s, a.data(), b.data(), want.data());
    for (size_t i = 0; i < got.size(); ++i)
      if (!(std::fabs(got[i] - want[i]) <= 1e-3f * (1.0f + std::fabs(want[i]))))
        throw RuntimeFailure("oneDNN's bfloat16 matmul (" + c.implementation + ") disagrees with the reference on " + s.str() +
                             ": " + std::to_string(got[i]) + " instead of " + std::to_string(want[i]) +
                             "; train in float32 and report this");
  }
}

namespace {

// all openblas, all onednn, each its faster: the index of the fastest sequence, where it beats
// all-OpenBLAS (the baseline) by the margin, and the timings in words.
size_t fastest_assignment(const std::vector<std::vector<GemmBackend>>& assignments,
                          const std::function<void(size_t, GemmBackend)>& product, std::string& decision) {
  std::vector<std::function<void()>> sequences;
  for (const auto& assignment : assignments)
    sequences.push_back([&product, assignment] {
      for (size_t i = 0; i < assignment.size(); ++i) product(i, assignment[i]);
    });
  // All oneDNN follows all OpenBLAS in each round: it starts once OpenBLAS's threads sleep, as
  // they would in a run of it. The mixed sequence pays for its own switches.
  const auto t = time_alternating(sequences, {false, true, false});
  const char* names[] = {"all openblas", "all onednn", "each its faster"};
  size_t best = 0;
  for (size_t a = 1; a < 3; ++a)
    if (t[a] * kMargin < t[0] && t[a] < t[best]) best = a;
  char text[160];
  std::snprintf(text, sizeof text, "timed sequences: all openblas %.2f ms, all onednn %.2f ms, each its faster %.2f ms -> %s",
                t[0] * 1e3, t[1] * 1e3, t[2] * 1e3, names[best]);
  decision = text;
  return best;
}

}  // namespace

// The plan's key in the cache: the machine (its CPU and the kernels OpenBLAS runs on it), the
// threads and every product, in order. "halves": decisions include GemmSplit; a line written
// before they did is measured again rather than read as whole products. "settled": timed in
// rounds until they agree (kSettled); a decision from three fixed rounds, which a busy spell could
// swing, is measured again once.
std::string GemmPlan::cache_key(int threads) const {
  std::string key = cpu_model() + " / OpenBLAS " + blas::core() + " / halves / settled\t" + std::to_string(threads) + "\t";
  for (size_t i = 0; i < choices_.size(); ++i) key += (i ? ";" : "") + choices_[i].shape.key();
  return key;
}

bool GemmPlan::take_cached(const GemmOptions& options, const std::string& key) {
  if (!options.cache) return false;
  const auto cached = options.cache->find(key);
  std::string decision;
  if (!cached || !decode_decision(*cached, choices_, decision)) return false;
  for (size_t i = 0; i < choices_.size(); ++i)  // a product cached on oneDNN must still have its primitive
    if (choices_[i].backend != GemmBackend::kOpenBlas && !primitives_[i]) return false;
  decision_ = "cache " + options.cache->name() + ": " + decision;
  return true;
}

// Each product's rate on both libraries, best of three rounds. A round times every product on
// OpenBLAS, then (after OpenBLAS's threads sleep) every product on oneDNN: one switch of
// libraries per round rather than per product, so that each library's blocks see the machine as
// a run on that library does. Three rounds, not time_alternating's settled ones: these rates
// only shape the third candidate sequence, which is then timed whole, and the first product of a
// round after the first follows oneDNN's phase, whose threads may still spin; that product's
// blocks differ by 20-25 % from round to round for that reason alone and would never settle.
void GemmPlan::time_each_product(const std::vector<size_t>& candidates,
                                 const std::function<void(size_t, GemmBackend)>& product) {
  std::vector<double> openblas(choices_.size(), 1e300), onednn(choices_.size(), 1e300);
  for (int round = 0; round < kMinRounds; ++round) {
    for (size_t i : candidates) {
      product(i, GemmBackend::kOpenBlas);
      openblas[i] = std::min(openblas[i], time_block([&] { product(i, GemmBackend::kOpenBlas); }));
    }
    let_openblas_threads_sleep();
    for (size_t i : candidates) {
      product(i, GemmBackend::kOneDnn);
      onednn[i] = std::min(onednn[i], time_block([&] { product(i, GemmBackend::kOneDnn); }));
    }
  }
  for (size_t i : candidates) {
    choices_[i].openblas_gflops = choices_[i].shape.flops() / openblas[i] / 1e9;
    choices_[i].onednn_gflops = choices_[i].shape.flops() / onednn[i] / 1e9;
    choices_[i].source = "timed";
  }
}

// Times each product on both libraries, then the plan's whole sequence of products three ways
// (all on OpenBLAS, all on oneDNN, each on its faster library) and keeps the fastest sequence:
// switching libraries costs something of its own (each keeps its threads spinning for a while
// after a call), which timing products one by one does not see.
void GemmPlan::decide_by_timing(const GemmOptions& options) {
  const std::string key = cache_key(options.threads > 0 ? options.threads : blas::threads());
  if (take_cached(options, key)) return;
  // Products oneDNN can run: those worth timing, and those too small to time that OpenBLAS would
  // still split over its threads. The latter go to oneDNN only with all the rest: left on OpenBLAS
  // among products on oneDNN, its threads would spin against oneDNN's after each of them, and the
  // ops' passes could not use the pool (passes_share_pool); in the batch-32 MLP's plan, three
  // such products made training twice as slow as all on OpenBLAS, though the products alone
  // timed faster.
  std::vector<size_t> candidates, followers;
  size_t scratch = 0;
  for (size_t i = 0; i < choices_.size(); ++i) {
    if (primitives_[i]) {
      (too_small_to_time(choices_[i].shape) ? followers : candidates).push_back(i);
      scratch = std::max(scratch, primitives_[i]->scratchpad_bytes());
    }
    choices_[i].backend = GemmBackend::kOpenBlas;
  }
  if (candidates.empty()) {
    decision_ = "no product large enough to time";
    return;
  }
  Operands x(choices_, scratch);
  std::vector<std::unique_ptr<detail::OneDnnExecution>> runs(choices_.size());
  for (size_t i = 0; i < choices_.size(); ++i)
    if (primitives_[i]) runs[i] = std::make_unique<detail::OneDnnExecution>(*primitives_[i]);
  auto product = [&](size_t i, GemmBackend backend) {
    if (backend == GemmBackend::kOneDnn) runs[i]->run(x.a.data(), x.b.data(), x.c.data(), x.scratchpad.data());
    else run_openblas(choices_[i].shape, x.a.data(), x.b.data(), x.c.data());
  };
  time_each_product(candidates, product);
  // Halves before the sequences, so that oneDNN's sequences run each product as it would run: timed
  // after the choice of library, halves never reached a plan that all-OpenBLAS won by a little
  // against whole products on oneDNN (the bench MLP at batch 1024 ran 0.97x PyTorch's speed so).
  const bool halves = options.halves == GemmOptions::Halves::kAuto && plan_threads(options) == 2;
  if (halves) time_halves(candidates, product, x.a.data(), x.b.data(), x.c.data());
  std::vector<std::vector<std::unique_ptr<detail::OneDnnExecution>>> half_runs(choices_.size());
  size_t half_scratch = 1;
  for (size_t i = 0; i < choices_.size(); ++i)
    for (const auto& h : halves_[i]) {
      half_runs[i].push_back(std::make_unique<detail::OneDnnExecution>(*h));
      half_scratch = std::max(half_scratch, h->scratchpad_bytes());
    }
  std::vector<std::byte> half_scratchpads(2 * half_scratch);
  auto as_planned = [&](size_t i, GemmBackend backend) {
    if (backend != GemmBackend::kOneDnn || half_runs[i].empty()) return product(i, backend);
    detail::OneDnnExecution* const both[2] = {half_runs[i][0].get(), half_runs[i][1].get()};
    run_halves(both, choices_[i].shape, choices_[i].split, x.a.data(), x.b.data(), x.c.data(), half_scratchpads.data(),
               half_scratchpads.data() + half_scratch);
  };
  // The three assignments, as the library of each product, timed as whole sequences.
  std::vector<std::vector<GemmBackend>> assignments(3, std::vector<GemmBackend>(choices_.size(), GemmBackend::kOpenBlas));
  for (size_t i : candidates) {
    assignments[1][i] = GemmBackend::kOneDnn;
    if (std::max(choices_[i].onednn_gflops, choices_[i].split_gflops) > kMargin * choices_[i].openblas_gflops)
      assignments[2][i] = GemmBackend::kOneDnn;
  }
  for (size_t i : followers) assignments[1][i] = GemmBackend::kOneDnn;
  const size_t best = fastest_assignment(assignments, as_planned, decision_);
  for (size_t i = 0; i < choices_.size(); ++i) {
    choices_[i].backend = assignments[best][i];
    if (choices_[i].backend != GemmBackend::kOneDnn) choices_[i].split = GemmSplit::kNone;  // halves are oneDNN's
  }
  for (size_t i : followers)
    if (choices_[i].backend == GemmBackend::kOneDnn) choices_[i].source = "below threshold, with the rest";
  // Halves asked for or refused by name (tests, the bench) make a decision auto would not: not kept.
  if (options.halves != GemmOptions::Halves::kAuto) return;
  if (options.cache) options.cache->remember(key, encode_decision(choices_, decision_));
}

// ---- running

// What a runner on the plan allocates, worked out in one place for the runner and for the
// memory the plan reports.
struct GemmPlan::RunnerSizes {
  size_t scratchpad = 1, a = 0, b = 0;  // bytes; the largest declared operands, in elements
  size_t convolution_buffer = 0;        // bytes: the direct convolutions' reordered copies, one buffer for all
  size_t second_scratchpad = 0;         // bytes: the second of two products side by side
  bool primitives = false;              // some product runs on oneDNN
  bool native_bfloat16 = false;         // some product runs on oneDNN in bfloat16
};

GemmPlan::RunnerSizes GemmPlan::runner_sizes() const {
  RunnerSizes sizes;
  for (const auto& conv : conv_primitives_)
    if (conv) {
      sizes.primitives = true;
      sizes.scratchpad = std::max(sizes.scratchpad, conv->scratchpad_bytes());
      sizes.convolution_buffer = std::max(sizes.convolution_buffer, conv->buffer_bytes() + 64);  // + alignment
    }
  for (size_t i = 0; i < choices_.size(); ++i) {
    if (i < primitives_.size() && primitives_[i]) {
      sizes.primitives = true;
      sizes.scratchpad = std::max(sizes.scratchpad, primitives_[i]->scratchpad_bytes());
    }
    sizes.native_bfloat16 |= choices_[i].backend == GemmBackend::kOneDnnBf16;
    sizes.a = std::max(sizes.a, a_size(choices_[i].shape));
    sizes.b = std::max(sizes.b, b_size(choices_[i].shape));
  }
  for (const auto& halves : halves_)
    for (const auto& h : halves) {
      sizes.scratchpad = std::max(sizes.scratchpad, h->scratchpad_bytes());
      sizes.second_scratchpad = std::max(sizes.second_scratchpad, std::max<size_t>(h->scratchpad_bytes(), 1));
    }
  if (side_by_side_ && sizes.primitives) {
    sizes.second_scratchpad = std::max<size_t>(sizes.second_scratchpad, 1);  // a buffer even for none, as the first
    for (size_t i = 0; i < primitives_.size(); ++i)
      if (primitives_[i] && choices_[i].backend == GemmBackend::kOneDnn)
        sizes.second_scratchpad = std::max(sizes.second_scratchpad, primitives_[i]->scratchpad_bytes());
  }
  return sizes;
}

bool GemmPlan::passes_share_pool() const {
  if (!parallel_passes_ || !detail::onednn_built()) return false;
  return std::all_of(choices_.begin(), choices_.end(), [](const GemmChoice& c) {
    return c.backend == GemmBackend::kOneDnn || c.backend == GemmBackend::kOneDnnBf16 || macs(c.shape) <= kOpenBlasOneThreadMacs;
  });
}

int64_t GemmPlan::runner_bytes(int64_t kept_floats) const {
  const RunnerSizes s = runner_sizes();
  if (!s.primitives && !bfloat16_) return 0;
  size_t bytes = s.scratchpad + s.second_scratchpad + s.convolution_buffer;
  if (bfloat16_) {
    bytes += (s.a + s.b) * sizeof(float);  // rounded operands of undeclared (emulated) products
    if (s.primitives) bytes += (s.a + s.b) * sizeof(uint16_t);
    if (reuse_conversions()) {  // the kept copies and the held operand, in the declared products' form
      const auto kept = static_cast<size_t>(std::max<int64_t>(kept_floats, 0));
      bytes += (kept + s.a) * (s.native_bfloat16 ? sizeof(uint16_t) : sizeof(float));
    }
  }
  return static_cast<int64_t>(bytes);
}

namespace {

// A shadow holds converted copies at the offsets of the values they copy: bfloat16 where the
// plan's declared products run natively, rounded floats where they are emulated (the other vector
// stays empty; an undeclared product of a native plan, emulated, converts its operands itself).
struct ConvertedShadow {
  uintptr_t begin = 0, end = 0;
  std::vector<uint16_t> b16;
  std::vector<float> rounded;

  void allocate(size_t n, bool native) {
    b16.assign(native ? n : 0, 0);
    rounded.assign(native ? 0 : n, 0.0f);
  }
  bool holds(uintptr_t address, size_t n) const { return address >= begin && address + n * sizeof(float) <= end; }
  template <class T>
  std::vector<T>& values() {
    if constexpr (std::is_same_v<T, uint16_t>) return b16;
    else return rounded;
  }
};

}  // namespace

struct GemmRunner::State {
  std::vector<std::unique_ptr<detail::OneDnnExecution>> executions;  // per plan entry; null: not on oneDNN
  std::vector<std::vector<std::unique_ptr<detail::OneDnnExecution>>> halves;  // per plan entry run in halves: the two
  std::vector<std::unique_ptr<detail::OneDnnConvExecution>> convolutions;  // per convolution; null: not direct
  std::vector<std::byte> convolution_buffer;  // their reordered copies: one call at a time, so shared
  std::vector<std::byte> scratchpad;                                   // the largest any entry needs
  std::vector<std::byte> second_scratchpad;  // run_independent's second product, side by side with the first
  // mixed_bfloat16: A and B converted to bfloat16 (oneDNN) or rounded in float (emulation), in
  // buffers sized for the largest declared product.
  std::vector<uint16_t> a16, b16;
  std::vector<float> a_rounded, b_rounded;
  // keep_converted's ranges, and which of their (address, count) copies are current this pass.
  std::vector<ConvertedShadow> kept;
  std::vector<std::pair<uintptr_t, size_t>> current;
  // begin_converted outside the kept ranges: the op's operand is [held.begin, held.end).
  ConvertedShadow held;
  bool held_current = false;
  ConvertedShadow* writing = nullptr;  // where convert_block writes, after begin_converted
  bool native = false;                 // the declared products run on oneDNN in bfloat16

  ConvertedShadow* kept_for(uintptr_t address, size_t n) {
    for (auto& k : kept)
      if (k.holds(address, n)) return &k;
    return nullptr;
  }
  void mark_current(uintptr_t address, size_t n) {
    const std::pair<uintptr_t, size_t> range{address, n};
    if (std::find(current.begin(), current.end(), range) == current.end()) current.push_back(range);
  }
  bool is_current(uintptr_t address, size_t n) const {
    return std::find(current.begin(), current.end(), std::pair<uintptr_t, size_t>{address, n}) != current.end();
  }
};

namespace {

// Integer arithmetic only, so every clone gives the same bits; AVX-512 converts about 2.7 times as
// fast as the baseline's SSE2 (0.13 against 0.36 ms per million values in cache), and the
// conversions are most of what mixed_bfloat16 adds to an update.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void convert(const float* from, size_t n, uint16_t* to) {
  for (size_t i = 0; i < n; ++i) to[i] = detail::bfloat16_of(from[i]);
}

__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void convert(const float* from, size_t n, float* to) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, from + i, sizeof u);
    u = bfloat16_bits(u);
    std::memcpy(to + i, &u, sizeof u);
  }
}

// A copy a product needs before it can start (a layer's weights, once per update; an operand no op
// converted as it wrote it) is made on the products' pool where it is large enough to split: the
// pool's threads would otherwise wait while one of them converts. Elementwise, so the same bits
// on any split.
template <class T>
void convert_on(int threads, const float* from, size_t n, T* to) {
  parallel_for(split_threads(threads, static_cast<int64_t>(n)), static_cast<int64_t>(n),
               [&](int64_t begin, int64_t end) { convert(from + begin, static_cast<size_t>(end - begin), to + begin); });
}

}  // namespace

void GemmRunner::keep_converted(const float* begin, const float* end) {
  if (!state_ || !plan_->reuse_conversions() || begin >= end) return;
  auto& s = *state_;
  ConvertedShadow& k = s.kept.emplace_back();
  k.begin = reinterpret_cast<uintptr_t>(begin);
  k.end = reinterpret_cast<uintptr_t>(end);
  k.allocate(static_cast<size_t>(end - begin), s.native);
  s.current.clear();
  // Each product's two operands and a copy per node written: reserved well past what a pass marks,
  // so that passes do not allocate.
  s.current.reserve(4 * plan_->choices_.size() + 256);
}

void GemmRunner::new_pass() {
  if (state_) state_->current.clear();
}

void GemmRunner::overwritten(const float* data, size_t n) {
  if (!state_ || state_->current.empty()) return;
  const auto begin = reinterpret_cast<uintptr_t>(data), end = begin + n * sizeof(float);
  std::erase_if(state_->current, [&](const std::pair<uintptr_t, size_t>& c) {
    return c.first < end && begin < c.first + c.second * sizeof(float);
  });
}

bool GemmRunner::begin_converted(const float* data, size_t n, ConvertedFor use) {
  if (!state_ || !plan_->reuse_conversions()) return false;
  auto& s = *state_;
  const auto address = reinterpret_cast<uintptr_t>(data);
  s.writing = s.kept_for(address, n);
  if (s.writing) {
    s.mark_current(address, n);
  } else {
    if (use == ConvertedFor::kLaterOps || n > std::max(s.held.b16.size(), s.held.rounded.size())) return false;
    s.held.begin = address;
    s.held.end = address + n * sizeof(float);
    s.held_current = true;
    s.writing = &s.held;
  }
  // Counted here, for all of data[0, n) the op will cover, so that convert_block writes nothing
  // shared but its block's copy and an op may call it from several threads.
  conversions_.while_written += static_cast<int64_t>(n);
  return true;
}

void GemmRunner::convert_block(const float* block, size_t count) {
  if (!state_ || !state_->writing) return;
  ConvertedShadow& w = *state_->writing;
  const auto address = reinterpret_cast<uintptr_t>(block);
  if (!w.holds(address, count)) throw RuntimeFailure("convert_block: a block outside what begin_converted named");
  const size_t offset = (address - w.begin) / sizeof(float);
  if (!w.b16.empty()) convert(block, count, w.b16.data() + offset);
  else convert(block, count, w.rounded.data() + offset);
}

void GemmRunner::end_op() {
  if (!state_) return;
  state_->held_current = false;
  state_->writing = nullptr;
}

template <class T>
const T* GemmRunner::converted(const float* from, size_t n, std::vector<T>& scratch) {
  auto& s = *state_;
  const auto address = reinterpret_cast<uintptr_t>(from);
  if (s.held_current && address == s.held.begin && address + n * sizeof(float) == s.held.end &&
      !s.held.values<T>().empty())
    return s.held.values<T>().data();
  if (ConvertedShadow* k = s.kept_for(address, n); k && !k->values<T>().empty()) {
    T* copy = k->values<T>().data() + (address - k->begin) / sizeof(float);
    if (!s.is_current(address, n)) {
      conversions_.by_products += static_cast<int64_t>(n);
      convert_on(pass_threads(), from, n, copy);
      s.mark_current(address, n);
    }
    return copy;
  }
  if (scratch.size() < n) scratch.resize(n);  // only for a product larger than every declared one
  conversions_.by_products += static_cast<int64_t>(n);
  convert_on(pass_threads(), from, n, scratch.data());
  return scratch.data();
}

GemmRunner::GemmRunner(const GemmPlan* plan)
    : plan_(plan),
      passes_share_pool_(plan && plan->passes_share_pool()),
      two_threads_(detail::onednn_threads() == 2),
      side_by_side_(plan && plan->side_by_side() && two_threads_) {
  if (!plan) return;
  const GemmPlan::RunnerSizes sizes = plan->runner_sizes();
  if (!sizes.primitives && !plan->bfloat16()) return;
  state_ = std::make_unique<State>();
  for (const auto& p : plan->primitives_)
    state_->executions.push_back(p ? std::make_unique<detail::OneDnnExecution>(*p) : nullptr);
  for (const auto& halves : plan->halves_) {
    auto& runs = state_->halves.emplace_back();
    for (const auto& h : halves) runs.push_back(std::make_unique<detail::OneDnnExecution>(*h));
  }
  state_->convolution_buffer.resize(sizes.convolution_buffer);
  void* aligned = state_->convolution_buffer.data();
  size_t space = state_->convolution_buffer.size();
  if (!state_->convolution_buffer.empty()) std::align(64, space - 64, aligned, space);
  for (const auto& p : plan->conv_primitives_)
    state_->convolutions.push_back(p ? std::make_unique<detail::OneDnnConvExecution>(*p, static_cast<std::byte*>(aligned)) : nullptr);
  state_->scratchpad.resize(sizes.scratchpad);
  state_->second_scratchpad.resize(sizes.second_scratchpad);
  if (!plan->bfloat16()) return;
  state_->native = sizes.native_bfloat16;
  // Room to hold an operand as large as the largest A: what an op holds is a gradient its
  // products share (a dense layer's dZ, the A of its input-gradient product), not weights (B).
  if (plan->reuse_conversions()) state_->held.allocate(sizes.a, sizes.native_bfloat16);
  if (sizes.primitives) state_->a16.resize(sizes.a), state_->b16.resize(sizes.b);
  // Undeclared products (a short last batch) are emulated in either case.
  state_->a_rounded.resize(sizes.a);
  state_->b_rounded.resize(sizes.b);
}

GemmRunner::~GemmRunner() = default;
GemmRunner::GemmRunner(GemmRunner&&) noexcept = default;
GemmRunner& GemmRunner::operator=(GemmRunner&&) noexcept = default;

int GemmRunner::pass_threads() const { return passes_share_pool_ ? detail::onednn_threads() : 1; }

void GemmRunner::run(const GemmShape& shape, const float* a, const float* b, float* c) {
  if (!state_) return run_openblas(shape, a, b, c);
  const int i = plan_->find(shape);
  const GemmBackend backend = i >= 0 ? plan_->choices_[static_cast<size_t>(i)].backend
                              : plan_->bfloat16() ? GemmBackend::kEmulatedBf16
                                                  : GemmBackend::kOpenBlas;
  auto& s = *state_;
  switch (backend) {
    case GemmBackend::kOneDnn:
      if (const auto& halves = s.halves[static_cast<size_t>(i)]; two_threads_ && !halves.empty()) {
        detail::OneDnnExecution* const both[2] = {halves[0].get(), halves[1].get()};
        run_halves(both, shape, plan_->choices_[static_cast<size_t>(i)].split, a, b, c, s.scratchpad.data(),
                   s.second_scratchpad.data());
        return;
      }
      s.executions[static_cast<size_t>(i)]->run(a, b, c, s.scratchpad.data());
      return;
    case GemmBackend::kOneDnnBf16:
      s.executions[static_cast<size_t>(i)]->run(converted(a, a_size(shape), s.a16), converted(b, b_size(shape), s.b16), c,
                                                s.scratchpad.data());
      return;
    case GemmBackend::kEmulatedBf16:
      run_openblas(shape, converted(a, a_size(shape), s.a_rounded), converted(b, b_size(shape), s.b_rounded), c);
      return;
    case GemmBackend::kOpenBlas:
      run_openblas(shape, a, b, c);
      return;
  }
}

void GemmRunner::set_side_by_side(bool on) {
  side_by_side_ = on && plan_ && plan_->side_by_side() && two_threads_;
}

void GemmRunner::run_independent(const GemmCall& first, const GemmCall& second) {
  const int i = side_by_side_ && state_ ? plan_->find(first.shape) : -1;
  const int j = i >= 0 ? plan_->find(second.shape) : -1;
  auto on_onednn = [&](int k) { return k >= 0 && plan_->choices_[static_cast<size_t>(k)].backend == GemmBackend::kOneDnn; };
  // One shape twice would share one execution's memory handles. Products of unequal size would
  // leave one thread waiting for the other longer than the pair saves: within a factor of two.
  const double lighter = std::min(first.shape.flops(), second.shape.flops()), heavier = std::max(first.shape.flops(), second.shape.flops());
  if (!on_onednn(i) || !on_onednn(j) || i == j || 2 * lighter < heavier) {
    run(first.shape, first.a, first.b, first.c);
    run(second.shape, second.a, second.b, second.c);
    return;
  }
  auto& s = *state_;
  ++side_by_side_runs_;
  run_two_at_once({{s.executions[static_cast<size_t>(i)].get(), first.a, first.b, first.c, s.scratchpad.data()},
                   {s.executions[static_cast<size_t>(j)].get(), second.a, second.b, second.c, s.second_scratchpad.data()}});
}

detail::OneDnnConvExecution& GemmRunner::convolution(const ConvShape& shape) {
  const int i = plan_ ? plan_->find(shape) : -1;
  if (i < 0 || !state_ || !state_->convolutions[static_cast<size_t>(i)])
    throw RuntimeFailure("convolution " + shape.str() + " is not planned to run direct");
  return *state_->convolutions[static_cast<size_t>(i)];
}

void GemmRunner::convolve_forward(const ConvShape& shape, const float* x, const float* kernel, float* y, PlaneVisitor finish,
                                  int threads) {
  convolution(shape).forward(x, kernel, y, state_->scratchpad.data(), finish, threads);
}

void GemmRunner::convolve_backward(const ConvShape& shape, const float* x, const float* kernel, PlaneVisitor gradient,
                                   float* room, float* dkernel, float* dx, int threads) {
  convolution(shape).backward(x, kernel, gradient, room, dkernel, dx, state_->scratchpad.data(), threads);
}

void gemm(GemmRunner* runner, const GemmShape& shape, const float* a, const float* b, float* c) {
  if (runner) runner->run(shape, a, b, c);
  else run_openblas(shape, a, b, c);
}

void gemm_independent(GemmRunner* runner, const GemmCall& first, const GemmCall& second) {
  if (runner) return runner->run_independent(first, second);
  run_openblas(first.shape, first.a, first.b, first.c);
  run_openblas(second.shape, second.a, second.b, second.c);
}

}  // namespace anneal
