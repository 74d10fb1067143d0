#include "mlsys/core/svg_plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "mlsys/core/check.h"

namespace mlsys {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == ':' || c == '.';
}

// A small XML well-formedness check: balanced, properly nested tags, quoted attributes, escaped
// '<' and '&' in text and attribute values. Returns "" when well-formed, else what is wrong.
std::string xml_problem(const std::string& xml) {
  std::vector<std::string> open;
  size_t i = 0;
  auto check_entity = [&](size_t at) {
    const size_t semi = xml.find(';', at);
    if (semi == std::string::npos) return false;
    const std::string name = xml.substr(at + 1, semi - at - 1);
    return name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos" ||
           (!name.empty() && name[0] == '#');
  };
  while (i < xml.size()) {
    if (xml[i] == '&') {
      if (!check_entity(i)) return "bad entity at " + std::to_string(i);
      ++i;
      continue;
    }
    if (xml[i] != '<') {
      ++i;
      continue;
    }
    const bool closing = i + 1 < xml.size() && xml[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < xml.size() && is_name_char(xml[j])) ++j;
    const std::string name = xml.substr(name_start, j - name_start);
    if (name.empty()) return "tag without a name at " + std::to_string(i);
    if (closing) {
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
      if (j >= xml.size() || xml[j] != '>') return "bad closing tag " + name;
      i = j + 1;
      continue;
    }
    // Attributes: name="value" pairs until '>' or '/>'.
    for (;;) {
      while (j < xml.size() && xml[j] == ' ') ++j;
      if (j >= xml.size()) return "unterminated tag " + name;
      if (xml[j] == '>') {
        open.push_back(name);
        break;
      }
      if (xml.compare(j, 2, "/>") == 0) {
        ++j;
        break;
      }
      const size_t attr_start = j;
      while (j < xml.size() && is_name_char(xml[j])) ++j;
      if (j == attr_start || j + 1 >= xml.size() || xml[j] != '=' || xml[j + 1] != '"') {
        return "bad attribute in " + name;
      }
      const size_t end = xml.find('"', j + 2);
      if (end == std::string::npos) return "unterminated attribute in " + name;
      for (size_t k = j + 2; k < end; ++k) {
        if (xml[k] == '<') return "raw '<' in attribute of " + name;
        if (xml[k] == '&' && !check_entity(k)) return "bad entity in attribute of " + name;
      }
      j = end + 1;
    }
    i = j + 1;
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return "";
}

TEST(XmlCheck, DetectsMalformedDocuments) {
  EXPECT_EQ(xml_problem("<svg><g a=\"1\"/></svg>"), "");
  EXPECT_NE(xml_problem("<svg><g></svg>"), "");
  EXPECT_NE(xml_problem("<svg>a & b</svg>"), "");
  EXPECT_NE(xml_problem("<svg a=1></svg>"), "");
}

TEST(LinePlot, RendersWellFormedSvgWithSeries) {
  LinePlot p("Bus bandwidth <all-reduce>", {"message size", AxisScale::kLog2}, {"GB/s"});
  p.add_series("ring", {1024, 4096, 16384, 65536}, {1.2, 4.1, 9.8, 20.5});
  p.add_series("tree & swing", {1024, 4096, 16384, 65536}, {2.0, 5.0, 9.0, 15.0});
  const Result<std::string> svg = p.render();
  ASSERT_TRUE(svg) << svg.error().to_string();
  EXPECT_EQ(svg->rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg->substr(svg->size() - 7), "</svg>\n");
  EXPECT_EQ(xml_problem(*svg), "");
  EXPECT_NE(svg->find(">ring</text>"), std::string::npos);
  EXPECT_NE(svg->find(">tree &amp; swing</text>"), std::string::npos);
  EXPECT_NE(svg->find("Bus bandwidth &lt;all-reduce&gt;"), std::string::npos);
  EXPECT_NE(svg->find(">1024</text>"), std::string::npos);  // a log2 tick
  EXPECT_NE(svg->find(">GB/s</text>"), std::string::npos);
}

TEST(LinePlot, EachSeriesIsOnePolylineWithMarkers) {
  LinePlot p("t", {"x"}, {"y"});
  p.add_series("a", {1, 2, 3}, {1, 4, 9});
  const Result<std::string> svg = p.render();
  ASSERT_TRUE(svg);
  size_t polylines = 0;
  for (size_t at = svg->find("<polyline"); at != std::string::npos; at = svg->find("<polyline", at + 1)) ++polylines;
  size_t circles = 0;
  for (size_t at = svg->find("<circle"); at != std::string::npos; at = svg->find("<circle", at + 1)) ++circles;
  EXPECT_EQ(polylines, 1u);
  EXPECT_EQ(circles, 3u);
}

TEST(LinePlot, NonFinitePointBreaksTheLine) {
  LinePlot p("t", {"x"}, {"y"});
  p.add_series("a", {1, 2, 3, 4, 5}, {1, 2, std::nan(""), 4, 5});
  const Result<std::string> svg = p.render();
  ASSERT_TRUE(svg);
  size_t polylines = 0;
  for (size_t at = svg->find("<polyline"); at != std::string::npos; at = svg->find("<polyline", at + 1)) ++polylines;
  EXPECT_EQ(polylines, 2u);
  EXPECT_EQ(xml_problem(*svg), "");
}

TEST(LinePlot, LinearTicksAreRound) {
  LinePlot p("t", {"x"}, {"y"});
  p.add_series("a", {0, 1}, {0.1, 0.7});
  const Result<std::string> svg = p.render();
  ASSERT_TRUE(svg);
  EXPECT_NE(svg->find(">0.6</text>"), std::string::npos);  // 3 * 0.2 is 0.6000000000000001
  EXPECT_EQ(svg->find("0.60000"), std::string::npos);
}

TEST(LinePlot, LargeLinearValuesUseSiSuffixes) {
  LinePlot p("t", {"x"}, {"y"});
  p.add_series("a", {0, 1}, {0, 25000});
  const Result<std::string> svg = p.render();
  ASSERT_TRUE(svg);
  EXPECT_NE(svg->find(">10k</text>"), std::string::npos);
}

TEST(LinePlot, Log10AxisAndCustomFormat) {
  PlotAxis x{"bytes", AxisScale::kLog10, [](double v) { return "<" + std::to_string(static_cast<int>(v)) + ">"; }};
  LinePlot p("t", x, {"latency", AxisScale::kLog10});
  p.add_series("a", {10, 1000}, {0.5, 50});
  const Result<std::string> svg = p.render();
  ASSERT_TRUE(svg);
  EXPECT_NE(svg->find(">&lt;100&gt;</text>"), std::string::npos);
  EXPECT_NE(svg->find(">0.1</text>"), std::string::npos);
  EXPECT_EQ(xml_problem(*svg), "");
}

TEST(LinePlot, NonPositiveValueOnLogAxisIsAnError) {
  LinePlot p("t", {"x", AxisScale::kLog2}, {"y"});
  p.add_series("ring", {1, 0}, {1, 2});
  const Result<std::string> svg = p.render();
  ASSERT_FALSE(svg);
  EXPECT_EQ(svg.error().message(), "series 'ring': x value 0 (point 2) cannot be drawn on a log axis");
}

TEST(LinePlot, NothingToPlotIsAnError) {
  LinePlot p("empty", {"x"}, {"y"});
  EXPECT_FALSE(p.render());
  p.add_series("a", {std::nan("")}, {1});
  EXPECT_FALSE(p.render());
}

TEST(LinePlot, SinglePointAndConstantSeriesRender) {
  LinePlot p("t", {"x"}, {"y"});
  p.add_series("a", {5}, {5});
  const Result<std::string> svg = p.render();
  ASSERT_TRUE(svg);
  EXPECT_EQ(xml_problem(*svg), "");
  EXPECT_EQ(svg->find("nan"), std::string::npos);
}

TEST(LinePlot, MismatchedLengthsAreABug) {
  LinePlot p("t", {"x"}, {"y"});
  EXPECT_THROW(p.add_series("a", {1, 2}, {1}), InternalError);
}

TEST(LinePlot, OutputIsDeterministic) {
  auto make = [] {
    LinePlot p("t", {"x"}, {"y"});
    p.add_series("a", {1, 2, 3}, {3.14159, 2.71828, 1.41421});
    return *p.render();
  };
  EXPECT_EQ(make(), make());
}

TEST(BarPlot, RendersGroupedBars) {
  BarPlot p("Throughput", {"vLLM", "Sarathi", "DistServe"}, {"req/s"});
  p.add_series("A100", {10, 14, 12});
  p.add_series("H100", {20, 30, 26});
  const Result<std::string> svg = p.render();
  ASSERT_TRUE(svg) << svg.error().to_string();
  EXPECT_EQ(xml_problem(*svg), "");
  size_t bars = 0;
  for (size_t at = svg->find("<rect x="); at != std::string::npos; at = svg->find("<rect x=", at + 1)) ++bars;
  EXPECT_EQ(bars, 6u + 2u + 1u);  // bars, legend boxes, frame
  EXPECT_NE(svg->find(">Sarathi</text>"), std::string::npos);
  EXPECT_NE(svg->find(">H100</text>"), std::string::npos);
}

TEST(BarPlot, NegativeValuesAndLongLabels) {
  std::vector<std::string> categories;
  for (int i = 0; i < 6; ++i) categories.push_back("a very long category name " + std::to_string(i));
  BarPlot p("t", categories, {"delta"});
  p.add_series("s", {-3, 5, 1, 2, 3, 4});
  const Result<std::string> svg = p.render();
  ASSERT_TRUE(svg);
  EXPECT_EQ(xml_problem(*svg), "");
  EXPECT_NE(svg->find("rotate(-30"), std::string::npos);
}

TEST(BarPlot, LogAxisRejectsZero) {
  BarPlot p("t", {"a", "b"}, {"y", AxisScale::kLog10});
  p.add_series("s", {10, 0});
  EXPECT_FALSE(p.render());
}

TEST(BarPlot, NoSeriesIsAnError) {
  BarPlot p("t", {"a"}, {"y"});
  EXPECT_FALSE(p.render());
}

TEST(BarPlot, WrongValueCountIsABug) {
  BarPlot p("t", {"a", "b"}, {"y"});
  EXPECT_THROW(p.add_series("s", {1}), InternalError);
}

}  // namespace
}  // namespace mlsys
