// Keras initializers with Keras names and defaults. Every draw comes from the compiler's seeded
// stream, so the same seed gives the same weights.
#include <cmath>

#include "anneal/initializer.hpp"
#include "anneal/rng.hpp"
#include "anneal/spec.hpp"

namespace anneal {

AttrMap initializer_attr(AttrMap& a, const std::string& key) { return nested_typed_attrs(a, key); }

Fans compute_fans(const Shape& shape) {
  if (shape.rank() == 0) return {1, 1};
  if (shape.rank() == 1) return {static_cast<double>(shape[0]), static_cast<double>(shape[0])};
  if (shape.rank() == 2) return {static_cast<double>(shape[0]), static_cast<double>(shape[1])};
  // Convolution kernels [..receptive field.., in, out]: fans scale with the receptive field.
  double receptive = 1;
  for (int i = 0; i < shape.rank() - 2; ++i) receptive *= static_cast<double>(shape[i]);
  return {receptive * static_cast<double>(shape[shape.rank() - 2]),
          receptive * static_cast<double>(shape[shape.rank() - 1])};
}

namespace {

class Constant : public Initializer {
 public:
  explicit Constant(double value) : value_(value) {}
  void fill(std::span<float> v, const Fans&, Rng&) const override {
    for (auto& x : v) x = static_cast<float>(value_);
  }

 private:
  double value_;
};
struct Zeros : Constant {
  explicit Zeros(AttrMap&) : Constant(0.0) {}
};
struct Ones : Constant {
  explicit Ones(AttrMap&) : Constant(1.0) {}
};
struct ConstantInit : Constant {
  explicit ConstantInit(AttrMap& a) : Constant(a.get<double>("value")) {}
};

class RandomNormal : public Initializer {
 public:
  explicit RandomNormal(AttrMap& a)
      : mean_(a.get<double>("mean", 0.0)), stddev_(a.get<double>("stddev", 0.05)) {
    a.require(stddev_ >= 0, "stddev", "must be >= 0");
  }
  void fill(std::span<float> v, const Fans&, Rng& rng) const override {
    for (auto& x : v) x = static_cast<float>(mean_ + stddev_ * rng.normal());
  }

 private:
  double mean_, stddev_;
};

class RandomUniform : public Initializer {
 public:
  explicit RandomUniform(AttrMap& a)
      : lo_(a.get<double>("minval", -0.05)), hi_(a.get<double>("maxval", 0.05)) {
    a.require(lo_ < hi_, "maxval", "must be greater than minval");
  }
  void fill(std::span<float> v, const Fans&, Rng& rng) const override {
    for (auto& x : v) x = static_cast<float>(rng.uniform(lo_, hi_));
  }

 private:
  double lo_, hi_;
};

// Normal redrawn until within two standard deviations (Keras TruncatedNormal).
double truncated_normal(Rng& rng) {
  for (;;) {
    const double z = rng.normal();
    if (std::abs(z) <= 2.0) return z;
  }
}

class TruncatedNormal : public Initializer {
 public:
  explicit TruncatedNormal(AttrMap& a)
      : mean_(a.get<double>("mean", 0.0)), stddev_(a.get<double>("stddev", 0.05)) {
    a.require(stddev_ >= 0, "stddev", "must be >= 0");
  }
  void fill(std::span<float> v, const Fans&, Rng& rng) const override {
    for (auto& x : v) x = static_cast<float>(mean_ + stddev_ * truncated_normal(rng));
  }

 private:
  double mean_, stddev_;
};

// Keras VarianceScaling: scale / fan, with fan chosen by mode.
enum class FanMode { kIn, kOut, kAvg };
enum class Distribution { kUniform, kTruncatedNormal };

template <FanMode Mode, Distribution Dist, int ScaleTimesTen>
class VarianceScaling : public Initializer {
 public:
  explicit VarianceScaling(AttrMap&) {}
  void fill(std::span<float> v, const Fans& fans, Rng& rng) const override {
    const double fan = Mode == FanMode::kIn ? fans.in : Mode == FanMode::kOut ? fans.out : (fans.in + fans.out) / 2;
    const double variance = (ScaleTimesTen / 10.0) / std::max(1.0, fan);
    if constexpr (Dist == Distribution::kUniform) {
      const double limit = std::sqrt(3.0 * variance);
      for (auto& x : v) x = static_cast<float>(rng.uniform(-limit, limit));
    } else {
      // 0.8796... is the stddev of a unit normal truncated at +-2 (Keras' correction).
      const double stddev = std::sqrt(variance) / 0.87962566103423978;
      for (auto& x : v) x = static_cast<float>(stddev * truncated_normal(rng));
    }
  }
};

using GlorotUniform = VarianceScaling<FanMode::kAvg, Distribution::kUniform, 10>;
using GlorotNormal = VarianceScaling<FanMode::kAvg, Distribution::kTruncatedNormal, 10>;
using HeNormal = VarianceScaling<FanMode::kIn, Distribution::kTruncatedNormal, 20>;
using HeUniform = VarianceScaling<FanMode::kIn, Distribution::kUniform, 20>;
using LecunNormal = VarianceScaling<FanMode::kIn, Distribution::kTruncatedNormal, 10>;
using LecunUniform = VarianceScaling<FanMode::kIn, Distribution::kUniform, 10>;

ANNEAL_REGISTER(InitializerRegistry, "zeros", Zeros);
ANNEAL_REGISTER(InitializerRegistry, "ones", Ones);
ANNEAL_REGISTER(InitializerRegistry, "constant", ConstantInit);
ANNEAL_REGISTER(InitializerRegistry, "normal", RandomNormal);
ANNEAL_REGISTER(InitializerRegistry, "random_normal", RandomNormal);
ANNEAL_REGISTER(InitializerRegistry, "uniform", RandomUniform);
ANNEAL_REGISTER(InitializerRegistry, "random_uniform", RandomUniform);
ANNEAL_REGISTER(InitializerRegistry, "truncated_normal", TruncatedNormal);
ANNEAL_REGISTER(InitializerRegistry, "glorot_uniform", GlorotUniform);
ANNEAL_REGISTER(InitializerRegistry, "glorot_normal", GlorotNormal);
ANNEAL_REGISTER(InitializerRegistry, "he_normal", HeNormal);
ANNEAL_REGISTER(InitializerRegistry, "he_uniform", HeUniform);
ANNEAL_REGISTER(InitializerRegistry, "lecun_normal", LecunNormal);
ANNEAL_REGISTER(InitializerRegistry, "lecun_uniform", LecunUniform);

}  // namespace
}  // namespace anneal
