#pragma once
// Rasterises an SVG with Debian's rsvg-convert and reads the PNG back, so tests can check that a
// plot really draws something.

#include <cstdint>
#include <string>
#include <vector>

namespace anneal::test {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgba;  // width * height * 4
};

// Throws std::runtime_error when rsvg-convert fails or the PNG cannot be read.
Image rasterize_svg(const std::string& svg_path);

struct InkStats {
  double inked_fraction = 0;  // pixels that are not (near) white
  int colours = 0;            // distinct saturated colours (plot lines), coarsely binned
};
InkStats ink(const Image& image);

}  // namespace anneal::test
