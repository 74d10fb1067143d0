#include "mlsys/core/svg_plot.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

#include "mlsys/core/check.h"
#include "mlsys/core/file_io.h"
#include "mlsys/core/strings.h"

namespace mlsys {
namespace {

constexpr std::string_view kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr double kCharWidth = 7.0;  // approximate width of a 12px sans-serif character
constexpr int kMaxTicks = 10;

std::string_view colour(size_t i) { return kPalette[i % std::size(kPalette)]; }

std::string xml_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
    }
  }
  return out;
}

// Fixed-point text with at most `decimals` decimals and no trailing zeros.
std::string fixed(double v, int decimals) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (ec != std::errc()) return format_shortest(v);
  std::string s(buf, end);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string px(double v) { return fixed(v, 2); }

double log_base(AxisScale scale) { return scale == AxisScale::kLog2 ? 2.0 : 10.0; }

// A value mapped onto a pixel range, with its ticks.
struct AxisMap {
  AxisScale scale = AxisScale::kLinear;
  double lo = 0.0;  // in transformed units (log_b of the value on log axes)
  double hi = 1.0;
  double px_lo = 0.0;
  double px_hi = 1.0;
  std::vector<double> ticks;        // data values
  std::vector<std::string> labels;  // one per tick

  double transform(double v) const {
    if (scale == AxisScale::kLinear) return v;
    return std::log(v) / std::log(log_base(scale));
  }
  double to_px(double v) const { return px_lo + (transform(v) - lo) / (hi - lo) * (px_hi - px_lo); }
};

double nice_step(double raw) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  const double nice = norm <= 1.0 ? 1.0 : norm <= 2.0 ? 2.0 : norm <= 5.0 ? 5.0 : 10.0;
  return nice * magnitude;
}

void linear_ticks(AxisMap& axis, double lo, double hi) {
  if (lo == hi) {
    const double delta = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= delta;
    hi += delta;
  }
  const double step = nice_step((hi - lo) / 5.0);
  const double k_lo = std::floor(lo / step);
  const double k_hi = std::ceil(hi / step);
  axis.lo = k_lo * step;
  axis.hi = k_hi * step;
  // Labels: SI-scaled when large, with as many decimals as the step needs.
  const double biggest = std::max(std::abs(axis.lo), std::abs(axis.hi));
  double unit = 1.0;
  std::string suffix;
  constexpr std::pair<double, const char*> kSi[] = {{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  if (biggest >= 1e4) {
    for (const auto& [scale, name] : kSi) {
      if (biggest >= scale) {
        unit = scale;
        suffix = name;
        break;
      }
    }
  }
  const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(step / unit) + 1e-9)), 0, 12);
  // Counting with an int keeps the loop finite where k + 1 == k (huge offsets).
  const int count = static_cast<int>(std::min(k_hi - k_lo, 100.0));
  for (int i = 0; i <= count; ++i) {
    const double v = (k_lo + i) * step;
    axis.ticks.push_back(v);
    axis.labels.push_back(v == 0.0 ? "0" : fixed(v / unit, decimals) + suffix);
  }
}

std::string default_log_label(double v, AxisScale scale) {
  const int k = static_cast<int>(std::lround(std::log(v) / std::log(log_base(scale))));
  if (scale == AxisScale::kLog2) {
    if (k >= 0 && k <= 13) return std::to_string(int64_t{1} << k);
    return "2^" + std::to_string(k);
  }
  if (k >= -3 && k <= 4) return fixed(v, 3);
  return "1e" + std::to_string(k);
}

void log_ticks(AxisMap& axis, double lo, double hi) {
  const double base = log_base(axis.scale);
  double t_lo = std::floor(axis.transform(lo) + 1e-9);
  double t_hi = std::ceil(axis.transform(hi) - 1e-9);
  if (t_hi <= t_lo) t_hi = t_lo + 1.0;
  axis.lo = t_lo;
  axis.hi = t_hi;
  const double stride = std::max(1.0, std::ceil((t_hi - t_lo) / kMaxTicks));
  const int count = static_cast<int>((t_hi - t_lo) / stride);
  for (int i = 0; i <= count; ++i) {
    const double v = std::pow(base, t_lo + i * stride);
    axis.ticks.push_back(v);
    axis.labels.push_back(default_log_label(v, axis.scale));
  }
}

// Builds the axis over `values` (finite ones only); `include_zero` for bars on a linear axis.
AxisMap make_axis(const std::vector<double>& values, const PlotAxis& spec, bool include_zero, double px_lo,
                  double px_hi) {
  AxisMap axis;
  axis.scale = spec.scale;
  axis.px_lo = px_lo;
  axis.px_hi = px_hi;
  double lo = *std::min_element(values.begin(), values.end());
  double hi = *std::max_element(values.begin(), values.end());
  if (spec.scale == AxisScale::kLinear) {
    if (include_zero) {
      lo = std::min(lo, 0.0);
      hi = std::max(hi, 0.0);
    }
    linear_ticks(axis, lo, hi);
  } else {
    log_ticks(axis, lo, hi);
  }
  if (spec.format) {
    for (size_t i = 0; i < axis.ticks.size(); ++i) axis.labels[i] = spec.format(axis.ticks[i]);
  }
  return axis;
}

Status check_value(double v, const PlotAxis& axis, std::string_view series, std::string_view what, size_t index) {
  if (axis.scale == AxisScale::kLinear || !std::isfinite(v) || v > 0.0) return ok_status();
  return invalid_input("series '" + std::string(series) + "': " + std::string(what) + " value " + format_shortest(v) +
                           " (point " + std::to_string(index + 1) + ") cannot be drawn on a log axis",
                       "use a linear axis or leave out values <= 0");
}

struct Frame {
  double left, top, right, bottom;  // plot area in pixels
};

class SvgBuilder {
 public:
  SvgBuilder(const PlotSize& size, std::string_view title) : size_(size) {
    out_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(size.width) + "\" height=\"" +
            std::to_string(size.height) + "\" viewBox=\"0 0 " + std::to_string(size.width) + " " +
            std::to_string(size.height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    out_ += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    if (!title.empty()) {
      text(size.width / 2.0, 24, title, "middle", " font-size=\"16\" font-weight=\"bold\"");
    }
  }

  void text(double x, double y, std::string_view s, std::string_view anchor, std::string_view extra = {}) {
    out_ += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + std::string(anchor) + "\"" +
            std::string(extra) + ">" + xml_escape(s) + "</text>\n";
  }

  void line(double x1, double y1, double x2, double y2, std::string_view stroke, double width = 1.0) {
    out_ += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) +
            "\" stroke=\"" + std::string(stroke) + "\" stroke-width=\"" + px(width) + "\"/>\n";
  }

  void rect(double x, double y, double w, double h, std::string_view fill, std::string_view extra = {}) {
    out_ += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(w) + "\" height=\"" + px(h) +
            "\" fill=\"" + std::string(fill) + "\"" + std::string(extra) + "/>\n";
  }

  void raw(std::string_view s) { out_ += s; }

  // Grid, y tick labels and y axis label. Horizontal grid lines at each y tick.
  void y_axis(const AxisMap& y, const Frame& f, std::string_view label) {
    for (size_t i = 0; i < y.ticks.size(); ++i) {
      const double py = y.to_px(y.ticks[i]);
      line(f.left, py, f.right, py, "#e5e5e5");
      text(f.left - 6, py + 4, y.labels[i], "end", " fill=\"#333\"");
    }
    if (!label.empty()) {
      const double cy = (f.top + f.bottom) / 2.0;
      text(16, cy, label, "middle", " transform=\"rotate(-90 16 " + px(cy) + ")\"");
    }
  }

  void legend(const std::vector<std::string>& names, const Frame& f, bool as_boxes) {
    if (names.empty()) return;
    double y = f.top + 8;
    for (size_t i = 0; i < names.size(); ++i) {
      const double x = f.right + 16;
      if (as_boxes) {
        rect(x, y - 6, 14, 10, colour(i));
      } else {
        line(x, y, x + 18, y, colour(i), 2.0);
      }
      text(x + 24, y + 4, names[i], "start");
      y += 18;
    }
  }

  void frame(const Frame& f) {
    rect(f.left, f.top, f.right - f.left, f.bottom - f.top, "none", " stroke=\"#333\"");
  }

  std::string finish() {
    out_ += "</svg>\n";
    return std::move(out_);
  }

 private:
  PlotSize size_;
  std::string out_;
};

double legend_width(const std::vector<std::string>& names) {
  size_t longest = 0;
  for (const std::string& n : names) longest = std::max(longest, n.size());
  return names.empty() ? 20.0 : 48.0 + kCharWidth * static_cast<double>(std::min<size_t>(longest, 40));
}

}  // namespace

LinePlot::LinePlot(std::string title, PlotAxis x, PlotAxis y, PlotSize size)
    : title_(std::move(title)), x_(std::move(x)), y_(std::move(y)), size_(size) {}

void LinePlot::add_series(std::string name, std::vector<double> x, std::vector<double> y) {
  MLSYS_CHECK(x.size() == y.size(), "plot series '" + name + "' has x and y of different lengths");
  series_.push_back(Series{std::move(name), std::move(x), std::move(y)});
}

Result<std::string> LinePlot::render() const {
  std::vector<double> xs, ys;
  std::vector<std::string> names;
  for (const Series& s : series_) {
    names.push_back(s.name);
    for (size_t i = 0; i < s.x.size(); ++i) {
      MLSYS_RETURN_IF_ERROR(check_value(s.x[i], x_, s.name, "x", i));
      MLSYS_RETURN_IF_ERROR(check_value(s.y[i], y_, s.name, "y", i));
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        xs.push_back(s.x[i]);
        ys.push_back(s.y[i]);
      }
    }
  }
  if (xs.empty()) return invalid_input("nothing to plot in '" + title_ + "'", "no series has a finite point");

  const Frame f{72.0, 44.0, size_.width - legend_width(names), size_.height - 52.0};
  const AxisMap x = make_axis(xs, x_, false, f.left, f.right);
  const AxisMap y = make_axis(ys, y_, false, f.bottom, f.top);
  SvgBuilder svg(size_, title_);
  svg.y_axis(y, f, y_.label);
  for (size_t i = 0; i < x.ticks.size(); ++i) {
    const double px_x = x.to_px(x.ticks[i]);
    svg.line(px_x, f.top, px_x, f.bottom, "#e5e5e5");
    svg.text(px_x, f.bottom + 16, x.labels[i], "middle", " fill=\"#333\"");
  }
  if (!x_.label.empty()) svg.text((f.left + f.right) / 2.0, size_.height - 12.0, x_.label, "middle");
  svg.frame(f);

  for (size_t si = 0; si < series_.size(); ++si) {
    const Series& s = series_[si];
    svg.raw("<g data-series=\"" + xml_escape(s.name) + "\"><title>" + xml_escape(s.name) + "</title>\n");
    std::string points;
    std::string markers;
    auto flush = [&] {
      if (points.find(' ') != std::string::npos) {
        svg.raw("<polyline fill=\"none\" stroke=\"" + std::string(colour(si)) + "\" stroke-width=\"2\" points=\"" +
                points + "\"/>\n");
      }
      points.clear();
    };
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        flush();
        continue;
      }
      const std::string cx = px(x.to_px(s.x[i]));
      const std::string cy = px(y.to_px(s.y[i]));
      if (!points.empty()) points += ' ';
      points += cx + "," + cy;
      markers += "<circle cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"3\" fill=\"" + std::string(colour(si)) + "\"/>\n";
    }
    flush();
    svg.raw(markers + "</g>\n");
  }
  svg.legend(names, f, false);
  return svg.finish();
}

Status LinePlot::write_file(const std::string& path) const {
  MLSYS_ASSIGN_OR_RETURN(std::string svg, render());
  return write_text_file(path, svg);
}

BarPlot::BarPlot(std::string title, std::vector<std::string> categories, PlotAxis y, PlotSize size)
    : title_(std::move(title)), categories_(std::move(categories)), y_(std::move(y)), size_(size) {}

void BarPlot::add_series(std::string name, std::vector<double> values) {
  MLSYS_CHECK(values.size() == categories_.size(), "bar series '" + name + "' needs one value per category");
  series_.push_back(Series{std::move(name), std::move(values)});
}

Result<std::string> BarPlot::render() const {
  std::vector<double> ys;
  std::vector<std::string> names;
  for (const Series& s : series_) {
    names.push_back(s.name);
    for (size_t i = 0; i < s.values.size(); ++i) {
      MLSYS_RETURN_IF_ERROR(check_value(s.values[i], y_, s.name, "y", i));
      if (std::isfinite(s.values[i])) ys.push_back(s.values[i]);
    }
  }
  if (ys.empty()) return invalid_input("nothing to plot in '" + title_ + "'", "no series has a finite value");

  const double right = size_.width - legend_width(names);
  const double group = (right - 72.0) / static_cast<double>(categories_.size());
  size_t longest = 0;
  for (const std::string& c : categories_) longest = std::max(longest, c.size());
  const bool rotate = kCharWidth * static_cast<double>(longest) > group * 0.95;
  const double label_room = rotate ? std::min(160.0, 0.5 * kCharWidth * static_cast<double>(longest) + 16.0) : 20.0;
  const Frame f{72.0, 44.0, right, size_.height - 32.0 - label_room};
  const AxisMap y = make_axis(ys, y_, true, f.bottom, f.top);
  SvgBuilder svg(size_, title_);
  svg.y_axis(y, f, y_.label);

  const double base = y_.scale == AxisScale::kLinear ? y.to_px(0.0) : f.bottom;
  const double bar = group * 0.8 / static_cast<double>(std::max<size_t>(1, series_.size()));
  for (size_t si = 0; si < series_.size(); ++si) {
    const Series& s = series_[si];
    svg.raw("<g data-series=\"" + xml_escape(s.name) + "\"><title>" + xml_escape(s.name) + "</title>\n");
    for (size_t c = 0; c < categories_.size(); ++c) {
      const double v = s.values[c];
      if (!std::isfinite(v)) continue;
      const double top = y.to_px(v);
      const double x = f.left + group * static_cast<double>(c) + group * 0.1 + bar * static_cast<double>(si);
      svg.rect(x, std::min(top, base), bar, std::abs(base - top), colour(si));
    }
    svg.raw("</g>\n");
  }
  for (size_t c = 0; c < categories_.size(); ++c) {
    const double cx = f.left + group * (static_cast<double>(c) + 0.5);
    const double ty = f.bottom + 16.0;
    if (rotate) {
      svg.text(cx, ty, categories_[c], "end", " transform=\"rotate(-30 " + px(cx) + " " + px(ty) + ")\"");
    } else {
      svg.text(cx, ty, categories_[c], "middle");
    }
  }
  svg.frame(f);
  svg.legend(names, f, true);
  return svg.finish();
}

Status BarPlot::write_file(const std::string& path) const {
  MLSYS_ASSIGN_OR_RETURN(std::string svg, render());
  return write_text_file(path, svg);
}

}  // namespace mlsys
