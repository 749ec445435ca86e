#include "anneal/optimizer.hpp"

#include <algorithm>
#include <cmath>

#include "anneal/parallel.hpp"

namespace anneal {

Optimizer::Optimizer(AttrMap& attrs, double default_lr)
    : lr_(attrs.get<double>("lr", default_lr)), decay_(attrs.get<double>("decay", 0.0)) {
  attrs.require(lr_ >= 0, "lr", "must be >= 0");
  attrs.require(decay_ >= 0, "decay", "must be >= 0");
  int clips = 0;
  for (auto [key, value] : {std::pair{"clipnorm", &clipnorm_}, {"clipvalue", &clipvalue_}, {"global_clipnorm", &global_clipnorm_}}) {
    if (!attrs.has(key)) continue;
    *value = attrs.get<double>(key);
    attrs.require(*value > 0 && std::isfinite(*value), key, "must be a finite number > 0");
    if (++clips > 1) attrs.fail(key, "cannot be combined: set one of clipnorm, clipvalue and global_clipnorm (as Keras requires)");
  }
}

void Optimizer::set_groups(std::vector<ParamGroup> groups) {
  tensors_ = std::move(groups);
  runs_.clear();
  for (const auto& g : tensors_) {
    if (!runs_.empty() && runs_.back().offset + runs_.back().size == g.offset && runs_.back().lr_mult == g.lr_mult &&
        runs_.back().decay_mult == g.decay_mult)
      runs_.back().size += g.size;
    else
      runs_.push_back(g);
  }
}

namespace {
double norm(std::span<const float> g) {
  double sum = 0;
  for (float v : g) sum += static_cast<double>(v) * v;
  return std::sqrt(sum);
}
// Keras' clip_by_norm: g * c / max(||g||, c).
void scale_to(std::span<float> g, double n, double c) {
  if (n <= c) return;
  const float s = static_cast<float>(c / n);
  for (float& v : g) v *= s;
}
}  // namespace

void Optimizer::clip(std::span<float> grads) const {
  if (clipvalue_ > 0) {
    const float c = static_cast<float>(clipvalue_);
    for (float& v : grads) v = std::clamp(v, -c, c);
  } else if (global_clipnorm_ > 0) {
    scale_to(grads, norm(grads), global_clipnorm_);
  } else if (clipnorm_ > 0) {
    if (tensors_.empty()) scale_to(grads, norm(grads), clipnorm_);
    for (const auto& t : tensors_) {
      auto g = grads.subspan(static_cast<size_t>(t.offset), static_cast<size_t>(t.size));
      scale_to(g, norm(g), clipnorm_);
    }
  }
}

// A run is split only when it is large enough for the pool's start to pay (split_threads), into
// parts of whole 4 Ki-value blocks.
void Optimizer::update_run(const UpdateSlice& run, int threads) {
  constexpr size_t kBlock = 4096;
  const size_t n = run.w.size();
  threads = split_threads(threads, static_cast<int64_t>(n));
  if (threads <= 1 || !update_is_elementwise()) {
    update(run);
    return;
  }
  const auto blocks = static_cast<int64_t>((n + kBlock - 1) / kBlock);
  parallel_for(threads, blocks, [&](int64_t begin, int64_t end) {
    const size_t from = static_cast<size_t>(begin) * kBlock, count = std::min(n, static_cast<size_t>(end) * kBlock) - from;
    update({run.w.subspan(from, count), run.g.subspan(from, count), run.offset + from, run.lr, run.decay_mult});
  });
}

void Optimizer::step(std::span<float> params, std::span<float> grads, int threads) {
  clip(grads);
  const double lr = effective_lr();
  begin_step(lr, params, grads);
  if (runs_.empty()) {
    update_run({params, grads, 0, static_cast<float>(lr), 1.0f}, threads);
  } else {
    for (const auto& r : runs_) {
      const auto at = static_cast<size_t>(r.offset), n = static_cast<size_t>(r.size);
      update_run({params.subspan(at, n), std::span<const float>(grads).subspan(at, n), at, static_cast<float>(lr * r.lr_mult),
                  static_cast<float>(r.decay_mult)},
                 threads);
    }
  }
  end_step();
  ++iterations_;
}

}  // namespace anneal
