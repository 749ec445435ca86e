#include "svg_render.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>

namespace anneal::test {
namespace {

uint32_t be32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]; }

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// A PNG reader for what rsvg-convert writes: 8-bit RGB or RGBA, not interlaced.
Image decode_png(const std::vector<uint8_t>& file) {
  static const uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (file.size() < 8 || !std::equal(signature, signature + 8, file.begin())) throw std::runtime_error("not a PNG");
  Image image;
  int channels = 0;
  std::vector<uint8_t> compressed;
  for (size_t at = 8; at + 8 <= file.size();) {
    const uint32_t length = be32(&file[at]);
    const std::string type(file.begin() + static_cast<long>(at) + 4, file.begin() + static_cast<long>(at) + 8);
    const uint8_t* data = &file[at + 8];
    if (type == "IHDR") {
      image.width = static_cast<int>(be32(data));
      image.height = static_cast<int>(be32(data + 4));
      if (data[8] != 8 || data[12] != 0 || (data[9] != 2 && data[9] != 6)) throw std::runtime_error("unsupported PNG format");
      channels = data[9] == 6 ? 4 : 3;
    } else if (type == "IDAT") {
      compressed.insert(compressed.end(), data, data + length);
    }
    at += 12 + length;
  }
  const size_t stride = static_cast<size_t>(image.width) * static_cast<size_t>(channels);
  std::vector<uint8_t> raw((stride + 1) * static_cast<size_t>(image.height));
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, compressed.data(), compressed.size()) != Z_OK || raw_size != raw.size())
    throw std::runtime_error("PNG data does not inflate");
  std::vector<uint8_t> pixels(stride * static_cast<size_t>(image.height));
  for (size_t y = 0; y < static_cast<size_t>(image.height); ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* out = &pixels[y * stride];
    const uint8_t* up = y ? &pixels[(y - 1) * stride] : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= static_cast<size_t>(channels) ? out[x - static_cast<size_t>(channels)] : 0;
      const int b = up ? up[x] : 0;
      const int c = up && x >= static_cast<size_t>(channels) ? up[x - static_cast<size_t>(channels)] : 0;
      int predicted = 0;
      switch (filter) {
        case 0: predicted = 0; break;
        case 1: predicted = a; break;
        case 2: predicted = b; break;
        case 3: predicted = (a + b) / 2; break;
        case 4: predicted = paeth(a, b, c); break;
        default: throw std::runtime_error("bad PNG filter");
      }
      out[x] = static_cast<uint8_t>(in[x] + predicted);
    }
  }
  image.rgba.resize(static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 4);
  for (size_t i = 0; i < static_cast<size_t>(image.width) * static_cast<size_t>(image.height); ++i)
    for (size_t k = 0; k < 4; ++k) image.rgba[i * 4 + k] = k < static_cast<size_t>(channels) ? pixels[i * static_cast<size_t>(channels) + k] : 255;
  return image;
}

}  // namespace

Image rasterize_svg(const std::string& svg_path) {
  const std::string png = svg_path + ".png";
  const std::string command = "rsvg-convert '" + svg_path + "' -o '" + png + "' 2>/dev/null";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("rsvg-convert failed on " + svg_path);
  std::ifstream in(png, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_png(bytes);
}

InkStats ink(const Image& image) {
  InkStats stats;
  size_t inked = 0;
  std::set<int> colours;
  const size_t n = static_cast<size_t>(image.width) * static_cast<size_t>(image.height);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = &image.rgba[i * 4];
    if (p[3] == 0) continue;  // transparent
    if (p[0] < 235 || p[1] < 235 || p[2] < 235) ++inked;
    const int hi = std::max({p[0], p[1], p[2]}), lo = std::min({p[0], p[1], p[2]});
    if (hi - lo > 80) colours.insert((p[0] / 64) * 16 + (p[1] / 64) * 4 + p[2] / 64);
  }
  stats.inked_fraction = n ? static_cast<double>(inked) / static_cast<double>(n) : 0;
  stats.colours = static_cast<int>(colours.size());
  return stats;
}

}  // namespace anneal::test
