// Counts the ink in a PNG screenshot (8-bit RGB or RGBA, non-interlaced, as Chromium writes
// them): pixels whose channels differ by more than 80 (colour: plotted series, bands) and pixels
// darker than mid-grey (text, axes). Prints "coloured N dark M pixels P".
//   png_ink FILE.png
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

uint32_t be32(const unsigned char* p) { return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]; }

int fail(const std::string& why) {
  std::fprintf(stderr, "png_ink: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return fail("usage: png_ink FILE.png");
  std::ifstream in(argv[1], std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* bytes = reinterpret_cast<const unsigned char*>(file.data());
  if (file.size() < 8 || std::memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) != 0) return fail("not a PNG file");
  uint32_t width = 0, height = 0;
  int channels = 0;
  std::string idat;
  for (size_t at = 8; at + 12 <= file.size();) {
    const uint32_t length = be32(bytes + at);
    const std::string type(file.data() + at + 4, 4);
    if (at + 12 + length > file.size()) return fail("truncated chunk");
    const unsigned char* data = bytes + at + 8;
    if (type == "IHDR") {
      width = be32(data);
      height = be32(data + 4);
      if (data[8] != 8 || data[12] != 0) return fail("only 8-bit non-interlaced images");
      channels = data[9] == 2 ? 3 : data[9] == 6 ? 4 : 0;
      if (channels == 0) return fail("only RGB or RGBA images");
    } else if (type == "IDAT") {
      idat.append(reinterpret_cast<const char*>(data), length);
    } else if (type == "IEND") {
      break;
    }
    at += 12 + length;
  }
  if (width == 0 || height == 0 || width > 20000 || height > 40000) return fail("missing or implausible size");
  const size_t stride = size_t{width} * channels;
  std::vector<unsigned char> raw(size_t{height} * (stride + 1));
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK || raw_size != raw.size())
    return fail("image data does not inflate to the expected size");
  std::vector<unsigned char> previous(stride, 0), row(stride);
  long long coloured = 0, dark = 0;
  for (uint32_t y = 0; y < height; ++y) {
    const unsigned char filter = raw[y * (stride + 1)];
    const unsigned char* src = &raw[y * (stride + 1) + 1];
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= static_cast<size_t>(channels) ? row[i - channels] : 0, b = previous[i];
      const int c = i >= static_cast<size_t>(channels) ? previous[i - channels] : 0;
      int predictor = 0;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: return fail("unknown row filter");
      }
      row[i] = static_cast<unsigned char>(src[i] + predictor);
    }
    for (uint32_t x = 0; x < width; ++x) {
      const unsigned char* p = &row[size_t{x} * channels];
      const int hi = std::max({p[0], p[1], p[2]}), lo = std::min({p[0], p[1], p[2]});
      coloured += hi - lo > 80;
      dark += (p[0] + p[1] + p[2]) < 3 * 128;
    }
    previous.swap(row);
  }
  std::printf("coloured %lld dark %lld pixels %lld\n", coloured, dark, static_cast<long long>(width) * height);
  return 0;
}
