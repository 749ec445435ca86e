#pragma once
// The GEMM planner: every matrix product an op runs goes through here. At compile time each op
// declares the products it will run (Op::gemms); the planner picks, per shape, the library that
// runs it faster on this machine — OpenBLAS's sgemm or oneDNN's matmul — by timing both on that
// shape, as FFTW plans a transform, and remembers the choice in a cache so later runs (and so
// their results) do not depend on how busy the machine was the first time. OpenBLAS is the
// baseline and the fallback: a product no plan names (a short last batch, a rank's slice) and
// every product in a build without oneDNN runs on it. Convolutions an op declares (Op::
// convolutions) are planned here too: where the plan uses oneDNN they run as its direct
// convolutions, otherwise as the op's own products.
//
// The plan (GemmPlan) is part of the immutable CompiledGraph; each Executor owns a GemmRunner,
// the mutable part (oneDNN's memory handles, stream and scratchpad), so executors on several
// threads share the plan and nothing they write. docs/performance.md says how to read the
// choices `anneal check` prints.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace anneal {

namespace detail {
class OneDnnMatmul;
class OneDnnConv;
class OneDnnConvExecution;
}

// C[m,n] = op(A)[m,k] · op(B)[k,n] (+ C when accumulate), row-major, alpha 1. lda/ldb/ldc are
// the row strides of the matrices as stored (A is [k,m] when trans_a).
struct GemmShape {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;
  bool accumulate = false;

  bool operator==(const GemmShape&) const = default;
  double flops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
  // "NT 256x1024x784 +=": op(A) and op(B) as N or T, m x n x k, "+=" when accumulating; the
  // strides follow when a matrix is not stored densely.
  std::string str() const;
  std::string key() const;  // every field, for caches
};

// A 2-D convolution as an op runs it: x [batch, channels, h, w] (NCHW, float32), kernel [filters,
// channels, kh, kw], y [batch, filters, out_h, out_w]; padding before (top, left) and after
// (bottom, right, negative where a `valid` window leaves the last rows out), dilation 1 for none.
// No bias and no activation: the op adds them in its own pass.
struct ConvShape {
  int64_t batch = 0, channels = 0, h = 0, w = 0, filters = 0, kh = 0, kw = 0;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t out_h = 0, out_w = 0;

  bool operator==(const ConvShape&) const = default;
  double flops() const;  // of one pass (forward, or either gradient)
  // "64x32x14x14 * 64x3x3 s1x1 d1x1 p1,1,1,1"
  std::string str() const;
};

// What a direct convolution calls for each (sample, channel) plane it passes an op
// (GemmRunner::convolve_forward / convolve_backward). Refers to the op's callable without owning
// or copying it, so passing one allocates nothing; the callable must outlive the call.
class PlaneVisitor {
 public:
  PlaneVisitor() = default;
  template <class Body>
    requires(!std::is_same_v<std::remove_cvref_t<Body>, PlaneVisitor>)
  explicit PlaneVisitor(Body& body)
      : call_([](void* b, int64_t sample, int64_t channel, float* plane) { (*static_cast<Body*>(b))(sample, channel, plane); }),
        body_(const_cast<void*>(static_cast<const void*>(&body))) {}
  explicit operator bool() const { return call_ != nullptr; }
  void operator()(int64_t sample, int64_t channel, float* plane) const { call_(body_, sample, channel, plane); }

 private:
  void (*call_)(void*, int64_t, int64_t, float*) = nullptr;
  void* body_ = nullptr;
};

// kOneDnnBf16 and kEmulatedBf16 are mixed_bfloat16's: A and B rounded to bfloat16, products
// accumulated in float32. oneDNN runs them natively on CPUs with bfloat16 support; the emulation
// (explicitly asked for) rounds A and B and runs OpenBLAS's sgemm, which gives the same numbers
// up to the order of the sums, with no speed-up.
enum class GemmBackend { kOpenBlas, kOneDnn, kOneDnnBf16, kEmulatedBf16 };
const char* backend_name(GemmBackend backend);

// openblas: every product on OpenBLAS (no timing; the library's default). onednn: every
// product oneDNN can run on it. auto: timed per shape (or taken from the cache).
enum class GemmPolicy { kOpenBlas, kOneDnn, kAuto };
// "openblas" | "onednn" | "auto"; nullopt for anything else.
std::optional<GemmPolicy> parse_gemm_policy(const std::string& name);

// A float32 product on oneDNN with two threads may run as two halves, one per thread, each on
// its thread alone (rows: C's first and second halves of rows; columns: of columns), rather than
// as one product both threads work on and wait for each other inside. Each element is still one sum
// over the whole shared dimension (its terms' order, and so its last bits, may differ).
enum class GemmSplit { kNone, kRows, kColumns };
const char* split_name(GemmSplit split);  // "", "rows", "columns"

struct GemmChoice {
  GemmShape shape;
  GemmBackend backend = GemmBackend::kOpenBlas;
  // Each library's rate on this product alone (GFLOP/s; 0 when not timed), why this library
  // runs it, and oneDNN's implementation name when oneDNN can run it.
  double openblas_gflops = 0, onednn_gflops = 0;
  std::string source;  // "policy onednn", "timed", "cache", "below threshold", "oneDNN cannot: ..."
  std::string implementation;
  GemmSplit split = GemmSplit::kNone;
  double split_gflops = 0;  // the chosen halves' rate, where timed
};

// Earlier decisions, keyed by the machine (CPU model, threads) and the plan's products. The
// caller owns the storage (FileGemmCache keeps it in a file); the planner only asks and tells,
// in text it writes and reads itself.
class GemmCache {
 public:
  virtual ~GemmCache() = default;
  virtual std::optional<std::string> find(const std::string& key) const = 0;
  virtual void remember(const std::string& key, const std::string& value) = 0;
  virtual std::string name() const = 0;  // how reports name it ("cache NAME: ...")
};

// A cache in a text file, one "key<TAB>value" line per plan, read when constructed and
// rewritten atomically after each new decision. Lines it cannot read are ignored (measured
// again). Two processes deciding at once may each keep only their own line: the other plan is
// then measured again by its next run.
class FileGemmCache : public GemmCache {
 public:
  explicit FileGemmCache(std::string path);
  std::optional<std::string> find(const std::string& key) const override;
  void remember(const std::string& key, const std::string& value) override;
  std::string name() const override { return path_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::pair<std::string, std::string>> entries_;
};

// A declared convolution and how it runs: oneDNN's direct convolution on the layouts it prefers
// (the op's NCHW tensors reordered to and from them inside the runner), or, when `direct` is false,
// the op's own im2col and products.
struct ConvChoice {
  ConvShape shape;
  bool direct = false;
  std::string source;          // "mixed_bfloat16", "policy onednn", "policy openblas", "oneDNN cannot: ..."
  std::string implementation;  // oneDNN's forward kernel when direct
};

struct GemmOptions {
  GemmPolicy policy = GemmPolicy::kOpenBlas;
  std::shared_ptr<GemmCache> cache;  // auto only; null: measure every time
  int threads = 0;                    // threads the products will run on (for the cache key); 0: BLAS's
  // mixed_bfloat16: every declared product on oneDNN in bfloat16 (refused, with the missing CPU
  // feature named, where oneDNN has no bfloat16 support), or emulated when asked to.
  bool bfloat16 = false;
  bool emulate_bfloat16 = false;
  // mixed_bfloat16: whether a runner reuses an operand's converted copy within a pass (weights,
  // training activations, an operand an op holds) and lets ops convert what they write as they
  // write it. Off, every product converts both its operands: the numbers are the same, which is
  // what turning it off is for (checking that, and measuring what the reuse saves).
  bool reuse_conversions = true;
  // Whether ops' elementwise passes use the products' OpenMP threads when every product runs on
  // oneDNN (GemmPlan::passes_share_pool). Off, they run on the calling thread: the same numbers,
  // for checking that and measuring what it gains.
  bool parallel_passes = true;
  // Whether declared convolutions run as oneDNN's direct convolutions where the plan uses oneDNN
  // (mixed_bfloat16, or policy onednn or auto in float32). Off, conv2d runs im2col and products
  // as everywhere else: for checking one against the other and measuring what it gains.
  bool direct_convolutions = true;
  // Whether two independent products (GemmRunner::run_independent: a dense layer's kernel and
  // input gradients) run side by side, one thread each, where both are on oneDNN in float32 and
  // the products have two threads. Off, one after the other on both threads: for measuring what it
  // gains (docs/performance.md) and checking the numbers against it.
  bool side_by_side = true;
  // Halves (GemmSplit) for float32 products on oneDNN with two threads: auto times each product
  // whole and in both halvings under --gemm auto and keeps the fastest (by 3 %); none: whole;
  // rows / columns: every such product so, untimed (for tests and measuring).
  enum class Halves { kAuto, kNone, kRows, kColumns };
  Halves halves = Halves::kAuto;
};

// Whether this build has oneDNN, and its version ("oneDNN 2.6.3") or why not.
bool onednn_available();
std::string onednn_description();
// The instruction set oneDNN uses here ("avx2", "avx512_core_amx", ...).
std::string onednn_isa();
// Empty where mixed_bfloat16 runs natively; otherwise what is missing, in words.
std::string bfloat16_unsupported_reason();
// Round to nearest even to bfloat16's 8 significant bits; the result is a float. A NaN stays a NaN
// of its sign (quiet, with the low 16 bits clear, so that bfloat16 holds it too).
float round_to_bfloat16(float x);
// The CPU's model name (from cpuid), the machine part of a cache key.
std::string cpu_model();

class GemmRunner;

class GemmPlan {
 public:
  GemmPlan();
  ~GemmPlan();
  GemmPlan(GemmPlan&&) noexcept;
  GemmPlan& operator=(GemmPlan&&) noexcept;

  // Compile time: the distinct products the ops declared, then a choice for each.
  void add(const GemmShape& shape);
  // A convolution, and the products the op runs in its place when it does not run direct (its
  // im2col products): choose() plans those only for convolutions that stay on them.
  void add(const ConvShape& shape, const std::vector<GemmShape>& im2col_products);
  // Throws InputError for policy onednn in a build without it.
  void choose(const GemmOptions& options);

  const std::vector<GemmChoice>& choices() const { return choices_; }
  const std::vector<ConvChoice>& convolutions() const { return convolutions_; }
  // Whether `shape` runs as a direct convolution (an op then calls GemmRunner::convolve).
  bool direct(const ConvShape& shape) const;
  // How auto decided, for reports: the timed sequences ("all openblas 71.2 ms, ...") or "cache".
  const std::string& decision() const { return decision_; }
  // Index of the plan's entry for `shape`, or -1.
  int find(const GemmShape& shape) const;
  // Products run with bfloat16 inputs (mixed_bfloat16), undeclared ones included.
  bool bfloat16() const { return bfloat16_; }
  bool reuse_conversions() const { return bfloat16_ && reuse_conversions_; }
  // Every declared product runs on oneDNN, whose OpenMP threads wait between products, or is small
  // enough for OpenBLAS to run on the calling thread: the ops' elementwise passes may then use
  // those threads too (OpContext::threads). Where OpenBLAS splits a product over its own threads,
  // they spin after each call and would compete with the pool for the cores.
  bool passes_share_pool() const;
  // Whether independent products both on oneDNN run side by side, one thread each
  // (GemmRunner::run_independent): float32 plans with the option on, on exactly two threads. With
  // more threads each product keeps them all (one thread each would leave cores idle); in
  // mixed_bfloat16 the products share the runner's converted operands; OpenBLAS's thread count is
  // one setting for the whole process, so its products cannot each be given one thread.
  bool side_by_side() const { return side_by_side_; }
  // Why not, in words, when side_by_side() is false ("" when it is true).
  const std::string& side_by_side_reason() const { return side_by_side_reason_; }
  // Bytes one GemmRunner on this plan allocates: oneDNN's scratchpad and, in mixed_bfloat16, the
  // converted operands, the held one and the kept copies of `kept_floats` values
  // (GemmRunner::keep_converted).
  int64_t runner_bytes(int64_t kept_floats) const;

 private:
  friend class GemmRunner;
  struct RunnerSizes;
  RunnerSizes runner_sizes() const;
  std::string cache_key(int threads) const;
  bool take_cached(const GemmOptions& options, const std::string& key);  // true: the cache decided
  void decide_by_timing(const GemmOptions& options);
  void time_each_product(const std::vector<size_t>& candidates, const std::function<void(size_t, GemmBackend)>& product);
  void choose_bfloat16(const GemmOptions& options);
  void decide_side_by_side(const GemmOptions& options);
  void choose_halves(const GemmOptions& options);
  void time_halves(const std::vector<size_t>& candidates, const std::function<void(size_t, GemmBackend)>& whole, const float* a,
                   const float* b, float* c);
  void choose_convolutions(const GemmOptions& options);
  int find(const ConvShape& shape) const;
  std::vector<GemmChoice> choices_;
  std::vector<GemmShape> declared_;                    // add(GemmShape), in order
  std::vector<std::vector<GemmShape>> conv_products_;  // per convolution, its im2col products
  std::vector<ConvChoice> convolutions_;
  std::vector<std::unique_ptr<detail::OneDnnConv>> conv_primitives_;  // per convolution; null: not direct
  std::string decision_;
  bool bfloat16_ = false;
  bool reuse_conversions_ = true;
  bool parallel_passes_ = true;
  bool side_by_side_ = false;
  std::string side_by_side_reason_;
  // oneDNN's primitive for each choice that runs on it (null elsewhere), created at compile time.
  std::vector<std::unique_ptr<detail::OneDnnMatmul>> primitives_;
  // Per choice that runs in halves, the two halves' primitives (empty elsewhere).
  std::vector<std::vector<std::unique_ptr<detail::OneDnnMatmul>>> halves_;
};

// One product of a runner's: C = op(A) · op(B) on `shape`.
struct GemmCall {
  GemmShape shape;
  const float* a = nullptr;
  const float* b = nullptr;
  float* c = nullptr;
};

// Runs products on a plan's choices. One per executor; not shared between threads.
class GemmRunner {
 public:
  explicit GemmRunner(const GemmPlan* plan = nullptr);
  ~GemmRunner();
  GemmRunner(GemmRunner&&) noexcept;
  GemmRunner& operator=(GemmRunner&&) noexcept;

  void run(const GemmShape& shape, const float* a, const float* b, float* c);
  // Two products neither of which reads what the other writes (a dense layer's kernel gradient
  // and input gradient). Where the plan allows it (GemmPlan::side_by_side) and both run on oneDNN,
  // they run at the same time, one on each of the pool's two threads, each product on its thread
  // alone: on this project's 2-core machine two 1024-wide products so ran 10-20 % faster than one
  // after the other on both threads, which wait for each other inside every product. Otherwise
  // first, then second. Either way each product's result is the same every run.
  void run_independent(const GemmCall& first, const GemmCall& second);
  // How many run_independent calls ran side by side (for tests and the bench's report).
  int64_t side_by_side_runs() const { return side_by_side_runs_; }
  // Off: run_independent runs its products in order. On again only where the plan allows it (the
  // runner's scratchpads are planned for it then): for measuring the two ways in one process.
  void set_side_by_side(bool on);
  // A planned direct convolution (GemmPlan::direct(shape) is true; throws otherwise). Tensors
  // are NCHW float32; a plane is one (sample, channel) image of P = out_h out_w values. The
  // elementwise work around the convolution runs in the visitors, plane by plane, on `threads`
  // of the pass's pool, while each plane is in cache: oneDNN's kernels read and write blocked
  // layouts, and the runner converts between those and NCHW in the same passes.
  //
  // convolve_forward: y = x * kernel, then finish(b, f, plane) once on every plane of y (the
  // op's bias and activation), the plane already at its place in y.
  // convolve_backward: gradient(b, f, plane) writes the gradient of y's plane (b, f) into
  // `plane`, somewhere in `room` ([B, F, P] floats the op lends; what is left there is
  // unspecified); the calls for one channel come on one thread, in sample order, so sums over
  // samples are the same bits whatever the threads. Then the kernel's gradient into dkernel
  // (overwritten) and the input's added into dx (accumulated, as every input gradient is); either
  // may be null when not wanted (the visitor still runs).
  bool direct(const ConvShape& shape) const { return plan_ && plan_->direct(shape); }
  void convolve_forward(const ConvShape& shape, const float* x, const float* kernel, float* y, PlaneVisitor finish = {},
                        int threads = 1);
  void convolve_backward(const ConvShape& shape, const float* x, const float* kernel, PlaneVisitor gradient, float* room,
                         float* dkernel, float* dx, int threads = 1);
  // Threads an op's elementwise passes may use from the calling thread: those its products run on
  // when the plan's passes share their pool, otherwise 1.
  int pass_threads() const;

  // mixed_bfloat16's conversions, made once and reused (no-ops for float32 plans, and when the
  // plan's reuse_conversions is off). A product reads an operand as the values data[0, n); it
  // reuses a converted copy of exactly those values when one is current, and converts otherwise.
  //
  // keep_converted: values inside [begin, end) change only between passes (the weights), or only
  // where the runner is told (an executor's activations: overwritten() before each node writes
  // its output). Their copies live in a shadow of the range at the same offsets and stay current
  // until then, so a dense layer's forward and input-gradient products convert its weights once,
  // and its forward and kernel-gradient products its input once. May be called for several
  // disjoint ranges.
  void keep_converted(const float* begin, const float* end);
  // Every kept copy is out of date (the executor calls it at the start of every forward pass).
  void new_pass();
  // The kept copies of anything in data[0, n) are out of date: those values are about to be
  // written (a node's output, whose place an inference arena shares with values now dead).
  void overwritten(const float* data, size_t n);
  // An op that writes data[0, n), which products read later, converts it as it writes, while the
  // values are in cache, instead of leaving a product to read them again: when begin_converted
  // says so (false: nothing to do, or no room), it calls convert_block for each block it writes,
  // right after writing it, until it has covered all of data[0, n). The copy is then current: in
  // a kept range until new_pass(). Elsewhere only for `kThisOp` (an op's own operand, such as a
  // gradient in its scratch that two of its products read): held until end_op(), during which
  // the op must not change those values. An output read by later ops (`kLaterOps`) outside a
  // kept range is not converted ahead: nothing would keep the copy that long.
  enum class ConvertedFor { kLaterOps, kThisOp };
  bool begin_converted(const float* data, size_t n, ConvertedFor use);
  // Safe to call from several threads at once for disjoint blocks (an op's parallel passes).
  void convert_block(const float* block, size_t count);
  // The op that held a copy has returned (the executor calls it after every op).
  void end_op();

  // mixed_bfloat16: values converted so far, by products (a separate pass over them) and by ops
  // as they wrote them (convert_block). For tests and reports of what the reuse saves.
  struct Conversions {
    int64_t by_products = 0, while_written = 0;
  };
  const Conversions& conversions() const { return conversions_; }

 private:
  struct State;
  detail::OneDnnConvExecution& convolution(const ConvShape& shape);
  template <class T>
  const T* converted(const float* from, size_t n, std::vector<T>& scratch);
  const GemmPlan* plan_ = nullptr;
  bool passes_share_pool_ = false;  // the plan's, fixed once it is chosen: worked out once, not per op
  // The calling thread's pool has the two threads that halves and side-by-side products take
  // (anneal predict's workers run one thread each: their runners keep products whole).
  bool two_threads_ = false;
  bool side_by_side_ = false;  // the plan's, on two threads
  int64_t side_by_side_runs_ = 0;
  std::unique_ptr<State> state_;
  Conversions conversions_;
};

// What an op calls: through its executor's runner, or straight on OpenBLAS without one.
void gemm(GemmRunner* runner, const GemmShape& shape, const float* a, const float* b, float* c);
// Two independent products (GemmRunner::run_independent); without a runner, one after the other.
void gemm_independent(GemmRunner* runner, const GemmCall& first, const GemmCall& second);

}  // namespace anneal
