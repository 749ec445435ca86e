#include "anneal/predict.hpp"

#include <algorithm>
#include <exception>
#include <thread>

#include "anneal/blas.hpp"
#include "anneal/executor.hpp"

namespace anneal {
namespace {

// Chunks first, first + stride, first + 2 * stride, ... of `data` through one executor into
// `out` (each chunk's rows land at their own place, so executors never write the same floats).
void predict_chunks(const CompiledGraph& graph, Weights& weights, const Dataset& data, int64_t first, int64_t stride,
                    std::vector<float>& out) {
  Executor executor(graph, weights, 0, ExecutorMode::kInference);
  const int64_t width = graph.output_shape().numel(), batch = graph.max_batch(), rows = data.rows();
  for (int64_t chunk = first; chunk * batch < rows; chunk += stride) {
    const int64_t begin = chunk * batch, count = std::min(batch, rows - begin);
    data.read_features(begin, count, executor.input());
    executor.forward(count, false);
    std::copy(executor.output(), executor.output() + count * width, out.begin() + begin * width);
  }
}

// OpenBLAS's thread count is process-wide (0.3.21 has no per-thread one): held at 1 while the
// workers run, restored however they end.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : threads_(blas::threads()) { blas::set_threads(1); }
  ~SingleThreadedBlas() { blas::set_threads(threads_); }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int threads_;
};

}  // namespace

std::vector<float> predict_outputs(const CompiledGraph& graph, Weights& weights, const Dataset& data, const PredictOptions& options) {
  const int64_t width = graph.output_shape().numel(), batch = graph.max_batch(), rows = data.rows();
  std::vector<float> out(static_cast<size_t>(rows * width));
  const int64_t chunks = (rows + batch - 1) / batch;
  const int64_t workers = std::min<int64_t>(options.workers > 0 ? options.workers : blas::threads(), chunks);
  if (workers <= 1) {
    predict_chunks(graph, weights, data, 0, 1, out);
    return out;
  }
  SingleThreadedBlas single;
  std::vector<std::exception_ptr> failures(static_cast<size_t>(workers));
  std::vector<std::thread> pool;
  for (int64_t w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      try {
        blas::set_threads(1);  // this thread's OpenMP count, for oneDNN's products
        predict_chunks(graph, weights, data, w, workers, out);
      } catch (...) {
        failures[static_cast<size_t>(w)] = std::current_exception();
      }
    });
  for (auto& t : pool) t.join();
  for (const auto& failure : failures)
    if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace anneal
