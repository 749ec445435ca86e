#pragma once
// Parameter initializers (Keras names and defaults). Each fills a buffer given its fans.

#include <cstdint>
#include <span>

#include "anneal/attr_map.hpp"
#include "anneal/registry.hpp"
#include "anneal/shape.hpp"

namespace anneal {

class Rng;

struct Fans {
  double in = 1;
  double out = 1;
};
// Keras _compute_fans: a [in, out] kernel has fans (in, out); higher ranks multiply by the
// receptive field; a vector has fan_in = fan_out = its length.
Fans compute_fans(const Shape& shape);

class Initializer {
 public:
  virtual ~Initializer() = default;
  virtual void fill(std::span<float> values, const Fans& fans, Rng& rng) const = 0;
};

using InitializerRegistry = Registry<Initializer, AttrMap&>;

// The initializer an op attribute names (`kernel_initializer: he_normal` or a mapping), kept as
// an AttrMap for ParamSpec; empty when the attribute is absent (the op's default applies).
AttrMap initializer_attr(AttrMap& attrs, const std::string& key);

}  // namespace anneal
