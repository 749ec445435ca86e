#include "anneal/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace anneal {
namespace {

const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", v);
  return buffer;
}

std::string tick_label(double v) {
  char buffer[32];
  const double a = std::abs(v);
  if (v == 0) return "0";
  if (a >= 1e4 || a < 1e-3) std::snprintf(buffer, sizeof buffer, "%.0e", v);
  else std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double map(double v, double from, double to) const {
    const double a = log ? std::log10(lo) : lo, b = log ? std::log10(hi) : hi;
    const double x = log ? std::log10(v) : v;
    return from + (to - from) * (x - a) / (b - a);
  }
  std::vector<double> ticks() const {
    std::vector<double> out;
    if (log) {
      for (double p = std::floor(std::log10(lo)); p <= std::ceil(std::log10(hi)); ++p) {
        const double v = std::pow(10.0, p);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
      }
      return out;
    }
    const double raw = (hi - lo) / 6;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 5.0, 10.0})
      if (raw <= m * magnitude) {
        step = m * magnitude;
        break;
      }
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }
};

Axis fit_axis(const std::vector<const std::vector<double>*>& columns, bool log) {
  Axis axis;
  axis.log = log;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto* column : columns)
    for (double v : *column)
      if (std::isfinite(v) && (!log || v > 0)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  if (!std::isfinite(lo)) lo = log ? 1e-3 : 0, hi = 1;
  if (hi == lo) {
    const double pad = log ? lo * 0.5 : (lo == 0 ? 1 : std::abs(lo) * 0.1);
    lo -= pad;
    hi += pad;
  } else if (!log) {
    const double pad = (hi - lo) * 0.04;
    lo = lo >= 0 && lo - pad < 0 ? 0 : lo - pad;
    hi += pad;
  }
  axis.lo = lo;
  axis.hi = hi;
  return axis;
}

// A series' stroke: its palette colour, and past the palette's ten colours a dash pattern per
// round (dotted, then dash-dot), so series 1 and 11 never look alike. Validation series are
// dashed; in later rounds they combine dashes with dots.
struct Stroke {
  const char* color;
  std::string dash;  // "" for solid
};

Stroke stroke_of(const PlotSeries& s, size_t position) {
  constexpr size_t kPalette = sizeof kColors / sizeof *kColors;
  const size_t index = s.color >= 0 ? static_cast<size_t>(s.color) : position;
  static const char* const kRounds[] = {"", "2,3", "10,3,2,3"};
  static const char* const kDashedRounds[] = {"6,4", "6,2,2,2", "12,4,2,4,2,4"};
  const size_t round = (index / kPalette) % 3;
  return {kColors[index % kPalette], s.dashed ? kDashedRounds[round] : kRounds[round]};
}

std::string dash_attribute(const Stroke& st) {
  return st.dash.empty() ? std::string() : " stroke-dasharray=\"" + st.dash + "\"";
}

// The legend's width: its longest name at about 7 px a character, within a third of the panel.
double legend_width(const PlotPanel& panel, double w) {
  double widest = 0;
  for (const auto& s : panel.series)
    if (s.legend) widest = std::max(widest, 7.0 * static_cast<double>(s.name.size()));
  return std::clamp(widest + 40, 90.0, w / 3);
}

// A panel's plotting area in page coordinates and its two axes; px and py map a data point into
// it, `at` as an SVG "x,y" pair.
struct Frame {
  double left, right, top, bottom;
  Axis ax, ay;
  bool usable(double x, double y) const {
    return std::isfinite(x) && std::isfinite(y) && (!ax.log || x > 0) && (!ay.log || y > 0);
  }
  double px(double x) const { return ax.map(x, left, right); }
  double py(double y) const { return ay.map(y, bottom, top); }
  std::string at(double x, double y) const { return num(px(x)) + "," + num(py(y)); }
};

Frame frame_of(const PlotPanel& panel, double left, double right, double top, double bottom) {
  std::vector<const std::vector<double>*> xs, ys;
  for (const auto& s : panel.series) {
    xs.push_back(&s.x);
    ys.push_back(&s.y);
    if (!s.band_low.empty()) {
      ys.push_back(&s.band_low);
      ys.push_back(&s.band_high);
    }
  }
  return Frame{left, right, top, bottom, fit_axis(xs, panel.log_x), fit_axis(ys, panel.log_y)};
}

// The frame, title, grid lines with their tick labels and the axis labels.
void draw_axes(std::string& svg, const PlotPanel& panel, const Frame& f, double ox, double oy) {
  svg += "<rect x=\"" + num(f.left) + "\" y=\"" + num(f.top) + "\" width=\"" + num(f.right - f.left) + "\" height=\"" +
         num(f.bottom - f.top) + "\" fill=\"white\" stroke=\"#333\"/>\n";
  svg += "<text x=\"" + num((f.left + f.right) / 2) + "\" y=\"" + num(oy + 22) +
         "\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" + xml_escape(panel.title) + "</text>\n";
  for (double t : f.ax.ticks()) {
    const double x = f.px(t);
    svg += "<line x1=\"" + num(x) + "\" y1=\"" + num(f.top) + "\" x2=\"" + num(x) + "\" y2=\"" + num(f.bottom) +
           "\" stroke=\"#e5e5e5\"/>\n<text x=\"" + num(x) + "\" y=\"" + num(f.bottom + 16) +
           "\" text-anchor=\"middle\" font-size=\"11\">" + tick_label(t) + "</text>\n";
  }
  for (double t : f.ay.ticks()) {
    const double y = f.py(t);
    svg += "<line x1=\"" + num(f.left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(f.right) + "\" y2=\"" + num(y) +
           "\" stroke=\"#e5e5e5\"/>\n<text x=\"" + num(f.left - 6) + "\" y=\"" + num(y + 4) +
           "\" text-anchor=\"end\" font-size=\"11\">" + tick_label(t) + "</text>\n";
  }
  svg += "<text x=\"" + num((f.left + f.right) / 2) + "\" y=\"" + num(f.bottom + 38) +
         "\" text-anchor=\"middle\" font-size=\"13\">" + xml_escape(panel.x_label) + "</text>\n";
  svg += "<text transform=\"translate(" + num(ox + 18) + "," + num((f.top + f.bottom) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">" + xml_escape(panel.y_label) + "</text>\n";
}

// One series: its band (if any) under it, then its points or its line. Points a log axis cannot
// show, and non-finite ones, are left out.
void draw_series(std::string& svg, const PlotSeries& s, const Stroke& st, const Frame& f) {
  if (!s.band_low.empty()) {
    std::string points;
    for (size_t i = 0; i < s.x.size(); ++i)
      if (f.usable(s.x[i], s.band_high[i])) points += f.at(s.x[i], s.band_high[i]) + " ";
    for (size_t i = s.x.size(); i-- > 0;)
      if (f.usable(s.x[i], s.band_low[i])) points += f.at(s.x[i], s.band_low[i]) + " ";
    svg += std::string("<polygon points=\"") + points + "\" fill=\"" + st.color + "\" fill-opacity=\"0.18\" stroke=\"none\"/>\n";
  }
  if (s.points) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (f.usable(s.x[i], s.y[i]))
        svg += "<circle cx=\"" + num(f.px(s.x[i])) + "\" cy=\"" + num(f.py(s.y[i])) + "\" r=\"3\" fill=\"" + st.color +
               "\" fill-opacity=\"0.7\"/>\n";
    return;
  }
  std::string points;
  for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
    if (f.usable(s.x[i], s.y[i])) points += f.at(s.x[i], s.y[i]) + " ";
  svg += std::string("<polyline points=\"") + points + "\" fill=\"none\" stroke=\"" + st.color + "\" stroke-width=\"" +
         (s.legend ? "2" : "1") + "\"" + dash_attribute(st) + "/>\n";
}

// The legend, in its column right of the plotting area: as many rows as the panel's height
// holds, then "+N more".
void draw_legend(std::string& svg, const PlotPanel& panel, const Frame& f) {
  const double lx = f.right + 12;
  const auto fits = static_cast<size_t>(std::max(1.0, (f.bottom - f.top - 10) / 18));
  std::vector<size_t> named;
  for (size_t k = 0; k < panel.series.size(); ++k)
    if (panel.series[k].legend) named.push_back(k);
  for (size_t row = 0; row < named.size(); ++row) {
    const size_t k = named[row];
    const double ly = f.top + 12 + 18 * static_cast<double>(row);
    if (row + 1 == fits && named.size() > fits) {
      svg += "<text x=\"" + num(lx) + "\" y=\"" + num(ly) + "\" font-size=\"12\">+" +
             std::to_string(named.size() - row) + " more</text>\n";
      break;
    }
    const Stroke st = stroke_of(panel.series[k], k);
    if (panel.series[k].points)
      svg += std::string("<circle cx=\"") + num(lx + 12) + "\" cy=\"" + num(ly - 4) + "\" r=\"4\" fill=\"" + st.color + "\"/>\n";
    else
      svg += std::string("<line x1=\"") + num(lx) + "\" y1=\"" + num(ly - 4) + "\" x2=\"" + num(lx + 24) + "\" y2=\"" +
             num(ly - 4) + "\" stroke=\"" + st.color + "\" stroke-width=\"3\"" + dash_attribute(st) + "/>\n";
    svg += "<text x=\"" + num(lx + 30) + "\" y=\"" + num(ly) + "\" font-size=\"12\">" + xml_escape(panel.series[k].name) + "</text>\n";
  }
}

void render_panel(std::string& svg, const PlotPanel& panel, double ox, double oy, double w, double h) {
  // The legend sits in its own column right of the plotting area, so it never covers a curve.
  const bool any_named = std::any_of(panel.series.begin(), panel.series.end(), [](const PlotSeries& s) { return s.legend; });
  const double legend = any_named ? legend_width(panel, w) : 0;
  const Frame f = frame_of(panel, ox + 70, ox + w - 20 - legend, oy + 36, oy + h - 52);
  draw_axes(svg, panel, f, ox, oy);
  for (size_t k = 0; k < panel.series.size(); ++k) draw_series(svg, panel.series[k], stroke_of(panel.series[k], k), f);
  draw_legend(svg, panel, f);
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string inline_svg(const std::string& svg) {
  const auto at = svg.find("<svg");
  return at == std::string::npos ? svg : svg.substr(at);
}

std::string render_svg(const std::vector<PlotPanel>& panels, int columns, int panel_width, int panel_height) {
  const int n = static_cast<int>(panels.size());
  const int cols = std::max(1, std::min(columns, n));
  const int rows = (n + cols - 1) / cols;
  const int width = cols * panel_width, height = std::max(1, rows) * panel_height;
  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
                    std::to_string(width) + " " + std::to_string(height) +
                    "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (int i = 0; i < n; ++i)
    render_panel(svg, panels[static_cast<size_t>(i)], (i % cols) * panel_width, (i / cols) * panel_height, panel_width,
                 panel_height);
  return svg + "</svg>\n";
}

}  // namespace anneal
