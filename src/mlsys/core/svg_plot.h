// Self-contained SVG plots that open in any browser: line plots (several series, linear or
// log2/log10 axes) and grouped bar plots, each with ticks, axis labels, legend and title.
//
//   LinePlot p("All-reduce bus bandwidth", {"message size", AxisScale::kLog2}, {"GB/s"});
//   p.add_series("ring", {1024, 4096, 16384}, {1.2, 4.1, 9.8});
//   MLSYS_ASSIGN_OR_RETURN(std::string svg, p.render());
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "mlsys/core/result.h"

namespace mlsys {

enum class AxisScale { kLinear, kLog2, kLog10 };

struct PlotAxis {
  std::string label;
  AxisScale scale = AxisScale::kLinear;
  /// Tick label text; empty uses a compact default ("1.5k", "2^20", "0.25").
  std::function<std::string(double)> format;
};

struct PlotSize {
  int width = 800;   // pixels
  int height = 480;  // pixels
};

class LinePlot {
 public:
  LinePlot(std::string title, PlotAxis x, PlotAxis y, PlotSize size = {});

  /// One line with a marker at each point. x and y must be the same length (a bug otherwise).
  /// Non-finite points are left out, breaking the line there.
  void add_series(std::string name, std::vector<double> x, std::vector<double> y);

  /// The SVG document. Errors: no finite point at all, or a value <= 0 on a log axis (naming
  /// the series and point).
  Result<std::string> render() const;
  Status write_file(const std::string& path) const;

 private:
  struct Series {
    std::string name;
    std::vector<double> x;
    std::vector<double> y;
  };
  std::string title_;
  PlotAxis x_;
  PlotAxis y_;
  PlotSize size_;
  std::vector<Series> series_;
};

class BarPlot {
 public:
  /// Bars grouped by category along x; `y` may be linear or log10 (log2 also accepted).
  BarPlot(std::string title, std::vector<std::string> categories, PlotAxis y, PlotSize size = {});

  /// One bar per category, in the series' colour. Must have one value per category (a bug
  /// otherwise); a non-finite value leaves its bar out.
  void add_series(std::string name, std::vector<double> values);

  /// The SVG document. Errors: no series or no finite value, or a value <= 0 on a log axis.
  Result<std::string> render() const;
  Status write_file(const std::string& path) const;

 private:
  struct Series {
    std::string name;
    std::vector<double> values;
  };
  std::string title_;
  std::vector<std::string> categories_;
  PlotAxis y_;
  PlotSize size_;
  std::vector<Series> series_;
};

}  // namespace mlsys
