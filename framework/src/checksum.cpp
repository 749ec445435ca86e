#include "anneal/checksum.hpp"

#include <zlib.h>

namespace anneal {

uint32_t crc32_of(std::string_view bytes, uint32_t crc) {
  return static_cast<uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

}  // namespace anneal
