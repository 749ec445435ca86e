// NumPy .npz export: a zip archive (stored, not compressed) of .npy files, format version 1.0,
// written by hand (both formats are a few fixed headers; zlib gives the CRC-32).
#include <cstring>

#include "anneal/atomic_file.hpp"
#include "anneal/checksum.hpp"
#include "anneal/export.hpp"
#include "anneal/export_graph.hpp"

namespace anneal {
namespace {

template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts (x86-64, aarch64)
  out.append(bytes, sizeof(T));
}

// An .npy file of float32 values with the given shape (an empty shape: a scalar).
std::string npy(const std::vector<int64_t>& shape, std::span<const float> values) {
  std::string dims;  // Python's tuple syntax: (), (3,), (3, 4)
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  put<uint16_t>(out, static_cast<uint16_t>(header.size()));
  out += header;
  out.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  return out;
}

class Zip {
 public:
  void add(const std::string& name, const std::string& data) {
    if (data.size() >= 0xffffffffULL || bytes_.size() >= 0xffffffffULL) throw ExportError("the .npz archive would exceed 4 GiB");
    const auto crc = crc32_of(data);
    const auto offset = static_cast<uint32_t>(bytes_.size());
    header(bytes_, 0x04034b50, name, crc, data.size(), false, 0);
    bytes_ += name;
    bytes_ += data;
    header(central_, 0x02014b50, name, crc, data.size(), true, offset);
    central_ += name;
    ++entries_;
  }
  std::string finish() {
    std::string out = bytes_;
    const auto at = static_cast<uint32_t>(out.size());
    out += central_;
    put<uint32_t>(out, 0x06054b50);
    put<uint16_t>(out, 0);
    put<uint16_t>(out, 0);
    put<uint16_t>(out, entries_);
    put<uint16_t>(out, entries_);
    put<uint32_t>(out, static_cast<uint32_t>(central_.size()));
    put<uint32_t>(out, at);
    put<uint16_t>(out, 0);
    return out;
  }

 private:
  static void header(std::string& out, uint32_t signature, const std::string& name, uint32_t crc, size_t size, bool central,
                     uint32_t offset) {
    put<uint32_t>(out, signature);
    if (central) put<uint16_t>(out, 20);  // version made by
    put<uint16_t>(out, 20);               // version needed
    put<uint16_t>(out, 0);                // flags
    put<uint16_t>(out, 0);                // stored
    put<uint16_t>(out, 0);                // time
    put<uint16_t>(out, 0x21);             // date: 1980-01-01
    put<uint32_t>(out, crc);
    put<uint32_t>(out, static_cast<uint32_t>(size));
    put<uint32_t>(out, static_cast<uint32_t>(size));
    put<uint16_t>(out, static_cast<uint16_t>(name.size()));
    put<uint16_t>(out, 0);  // extra
    if (!central) return;
    put<uint16_t>(out, 0);  // comment
    put<uint16_t>(out, 0);  // disk
    put<uint16_t>(out, 0);  // internal attributes
    put<uint32_t>(out, 0);  // external attributes
    put<uint32_t>(out, offset);
  }
  std::string bytes_, central_;
  uint16_t entries_ = 0;
};

std::vector<int64_t> dims(const Shape& s) {
  std::vector<int64_t> out;
  for (int i = 0; i < s.rank(); ++i) out.push_back(s[i]);
  return out;
}

}  // namespace

void export_npz(const CompiledGraph& graph, const Weights& weights, const FeatureEncoding& encoding, const std::string& path) {
  Zip zip;
  for (int index : graph.order()) {
    const CompiledNode& n = graph.nodes()[static_cast<size_t>(index)];
    for (const auto& p : n.params)
      zip.add(n.name + "." + p.name + ".npy", npy(dims(p.shape), {weights.params.data() + p.offset, static_cast<size_t>(p.size())}));
    for (const auto& s : n.state)
      zip.add(n.name + "." + s.name + ".npy", npy(dims(s.shape), {weights.state.data() + s.offset, static_cast<size_t>(s.shape.numel())}));
  }
  if (!encoding.offset.empty()) {
    const int64_t width = static_cast<int64_t>(encoding.offset.size());
    zip.add("normalize.offset.npy", npy({width}, encoding.offset));
    zip.add("normalize.scale.npy", npy({width}, encoding.scale));
  }
  write_file_atomically(path, zip.finish());
}

}  // namespace anneal
