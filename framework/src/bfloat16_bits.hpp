#pragma once
// Rounding to bfloat16, shared by the runner's conversions (gemm.cpp) and the direct
// convolutions' packing into oneDNN's layouts (conv_onednn.cpp), so both round alike.

#include <cstdint>
#include <cstring>

namespace anneal::detail {

// A float's bits rounded to nearest even at bfloat16's 8 significant bits (the low 16 bits then
// zero). A NaN keeps its sign and gets the quiet bit, so that cutting the low half never turns it
// into an infinity (a NaN whose payload was only in those bits would). Branch-free, so that the
// conversion loops vectorize.
inline uint32_t bfloat16_bits(uint32_t u) {
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  const uint32_t quiet_nan = (u | 0x00400000u) & 0xffff0000u;
  return (u & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded;
}

// The 16 bits of `v` rounded to bfloat16 (its high half after bfloat16_bits).
inline uint16_t bfloat16_of(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return static_cast<uint16_t>(bfloat16_bits(u) >> 16);
}

}  // namespace anneal::detail
