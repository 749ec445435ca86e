#pragma once
// Line charts as standalone SVG (no dependency): panels with labelled axes, nice ticks, an
// optional log axis, a legend, and optional min-max bands. Used by every plot the CLI writes.

#include <string>
#include <vector>

namespace anneal {

struct PlotSeries {
  std::string name;
  std::vector<double> x, y;
  std::vector<double> band_low, band_high;  // optional, same length as x
  bool dashed = false;
  int color = -1;      // palette index; -1: the series' position in its panel
  bool points = false;  // a scatter: a dot per (x, y), no line
  bool legend = true;   // false: drawn but not named in the legend (one of many similar lines)
};

struct PlotPanel {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  std::vector<PlotSeries> series;
};

// Panels are laid out left to right, `columns` per row. The result is a standalone SVG file; for
// a page of its own, `inline_svg` drops the XML declaration so it can sit inside HTML.
std::string inline_svg(const std::string& svg);
// Text for an XML or HTML element or attribute: & < > " escaped.
std::string xml_escape(const std::string& text);
std::string render_svg(const std::vector<PlotPanel>& panels, int columns = 1, int panel_width = 640,
                       int panel_height = 400);

}  // namespace anneal
