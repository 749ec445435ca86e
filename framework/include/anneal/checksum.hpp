#pragma once
// CRC-32 (the zlib / PNG / ZIP polynomial) over bytes of any length. zlib's crc32() takes a 32-bit
// length, so calling it with a cast size would checksum only the first (size mod 4 GiB) bytes of a
// larger buffer; this uses crc32_z, which takes size_t and agrees with crc32() below 4 GiB.

#include <cstdint>
#include <string_view>

namespace anneal {

// Continues `crc` (0 to start) over `bytes`.
uint32_t crc32_of(std::string_view bytes, uint32_t crc = 0);

}  // namespace anneal
