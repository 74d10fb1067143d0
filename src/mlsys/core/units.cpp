#include "mlsys/core/units.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <span>

namespace mlsys {
namespace {

struct UnitScale {
  std::string_view suffix;
  double scale;  // base units per 1 of this unit
};

// Suffix tables. Matching is exact and case-sensitive where case carries meaning (b vs B).
constexpr std::array kTimeUnits = {
    UnitScale{"ns", 1e-9}, UnitScale{"us", 1e-6}, UnitScale{"µs", 1e-6}, UnitScale{"ms", 1e-3},
    UnitScale{"s", 1.0},   UnitScale{"sec", 1.0}, UnitScale{"min", 60.0}, UnitScale{"h", 3600.0},
    UnitScale{"d", 86400.0}};
constexpr std::array kByteUnits = {
    UnitScale{"B", 1.0},     UnitScale{"KB", 1e3},  UnitScale{"kB", 1e3},  UnitScale{"MB", 1e6},
    UnitScale{"GB", 1e9},    UnitScale{"TB", 1e12}, UnitScale{"PB", 1e15}, UnitScale{"KiB", 1024.0},
    UnitScale{"MiB", 1048576.0}, UnitScale{"GiB", 1073741824.0}, UnitScale{"TiB", 1099511627776.0},
    UnitScale{"PiB", 1125899906842624.0}};
constexpr std::array kBandwidthUnits = {
    UnitScale{"Bps", 1.0},     UnitScale{"B/s", 1.0},     UnitScale{"KBps", 1e3},
    UnitScale{"KB/s", 1e3},    UnitScale{"MBps", 1e6},    UnitScale{"MB/s", 1e6},
    UnitScale{"GBps", 1e9},    UnitScale{"GB/s", 1e9},    UnitScale{"TBps", 1e12},
    UnitScale{"TB/s", 1e12},   UnitScale{"MiBps", 1048576.0}, UnitScale{"MiB/s", 1048576.0},
    UnitScale{"GiBps", 1073741824.0}, UnitScale{"GiB/s", 1073741824.0},
    UnitScale{"bps", 0.125},   UnitScale{"Kbps", 125.0},  UnitScale{"Mbps", 125e3},
    UnitScale{"Gbps", 125e6},  UnitScale{"Tbps", 125e9},  UnitScale{"Gb/s", 125e6},
    UnitScale{"Mb/s", 125e3},  UnitScale{"Tb/s", 125e9}};
constexpr std::array kFlopUnits = {
    UnitScale{"FLOP", 1.0}, UnitScale{"KFLOP", 1e3}, UnitScale{"MFLOP", 1e6},
    UnitScale{"GFLOP", 1e9}, UnitScale{"TFLOP", 1e12}, UnitScale{"PFLOP", 1e15},
    UnitScale{"EFLOP", 1e18}};
constexpr std::array kFlopRateUnits = {
    UnitScale{"FLOPS", 1.0}, UnitScale{"KFLOPS", 1e3}, UnitScale{"MFLOPS", 1e6},
    UnitScale{"GFLOPS", 1e9}, UnitScale{"TFLOPS", 1e12}, UnitScale{"PFLOPS", 1e15},
    UnitScale{"EFLOPS", 1e18}, UnitScale{"FLOP/s", 1.0}, UnitScale{"GFLOP/s", 1e9},
    UnitScale{"TFLOP/s", 1e12}, UnitScale{"PFLOP/s", 1e15}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string unit_list(std::span<const UnitScale> units) {
  std::string s;
  for (const auto& u : units) {
    if (!s.empty()) s += ", ";
    s += u.suffix;
  }
  return s;
}

// Parses "<number><unit>" into a value in base units.
Result<double> parse_quantity(std::string_view text, std::span<const UnitScale> units,
                              std::string_view what, std::string_view example) {
  const std::string_view s = trim(text);
  const std::string quoted = "'" + std::string(text) + "'";
  if (s.empty()) {
    return invalid_input("empty " + std::string(what), "write a value with a unit, e.g. " + std::string(example));
  }
  double value = 0.0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(first, last, value, std::chars_format::general);
  if (ec != std::errc() || ptr == first) {
    return invalid_input("bad " + std::string(what) + " " + quoted + ": no number",
                         "write a number and a unit, e.g. " + std::string(example));
  }
  if (!std::isfinite(value)) {
    return invalid_input("bad " + std::string(what) + " " + quoted + ": not a finite number",
                         "e.g. " + std::string(example));
  }
  if (value < 0) {
    return invalid_input("bad " + std::string(what) + " " + quoted + ": negative",
                         "use a value >= 0, e.g. " + std::string(example));
  }
  const std::string_view unit = trim(std::string_view(ptr, static_cast<size_t>(last - ptr)));
  if (unit.empty()) {
    return invalid_input("bad " + std::string(what) + " " + quoted + ": missing unit",
                         "add a unit, e.g. " + std::string(example) + "; units: " + unit_list(units));
  }
  for (const auto& u : units) {
    if (u.suffix == unit) return value * u.scale;
  }
  return invalid_input("bad " + std::string(what) + " " + quoted + ": unknown unit '" + std::string(unit) + "'",
                       "units: " + unit_list(units));
}

std::string format_scaled(double value, std::span<const UnitScale> units) {
  // units must be ordered by increasing scale; pick the largest unit with value/scale >= 1.
  const UnitScale* pick = &units[0];
  for (const auto& u : units) {
    if (std::fabs(value) >= u.scale) pick = &u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%.*s", value / pick->scale, static_cast<int>(pick->suffix.size()),
                pick->suffix.data());
  return buf;
}

constexpr std::array kTimeFormat = {UnitScale{"ns", 1e-9}, UnitScale{"us", 1e-6}, UnitScale{"ms", 1e-3},
                                    UnitScale{"s", 1.0}};
constexpr std::array kBytesFormat = {UnitScale{"B", 1.0}, UnitScale{"KiB", 1024.0},
                                     UnitScale{"MiB", 1048576.0}, UnitScale{"GiB", 1073741824.0},
                                     UnitScale{"TiB", 1099511627776.0}};
constexpr std::array kBandwidthFormat = {UnitScale{"B/s", 1.0}, UnitScale{"KB/s", 1e3},
                                         UnitScale{"MB/s", 1e6}, UnitScale{"GB/s", 1e9},
                                         UnitScale{"TB/s", 1e12}};
constexpr std::array kFlopsFormat = {UnitScale{"FLOP", 1.0}, UnitScale{"GFLOP", 1e9},
                                     UnitScale{"TFLOP", 1e12}, UnitScale{"PFLOP", 1e15},
                                     UnitScale{"EFLOP", 1e18}};
constexpr std::array kFlopRateFormat = {UnitScale{"FLOP/s", 1.0}, UnitScale{"GFLOP/s", 1e9},
                                        UnitScale{"TFLOP/s", 1e12}, UnitScale{"PFLOP/s", 1e15},
                                        UnitScale{"EFLOP/s", 1e18}};

}  // namespace

Result<Time> parse_time(std::string_view text) {
  auto v = parse_quantity(text, kTimeUnits, "time", "5us");
  if (!v) return v.error();
  if (*v * 1e9 > 9.2e18) return invalid_input("time '" + std::string(text) + "' is too large", "at most 292 years");
  return from_seconds(*v);
}

Result<Bytes> parse_bytes(std::string_view text) {
  auto v = parse_quantity(text, kByteUnits, "size", "64MiB");
  if (!v) return v.error();
  if (*v > 9.2e18) return invalid_input("size '" + std::string(text) + "' is too large", "at most 8EiB");
  return B(std::llround(*v));
}

Result<Bandwidth> parse_bandwidth(std::string_view text) {
  auto v = parse_quantity(text, kBandwidthUnits, "bandwidth", "400Gbps or 25GBps");
  if (!v) return v.error();
  return Bps(*v);
}

Result<Flops> parse_flops(std::string_view text) {
  auto v = parse_quantity(text, kFlopUnits, "FLOP count", "3.1PFLOP");
  if (!v) return v.error();
  return flop(*v);
}

Result<FlopRate> parse_flop_rate(std::string_view text) {
  auto v = parse_quantity(text, kFlopRateUnits, "compute rate", "312TFLOPS");
  if (!v) return v.error();
  return flops_per_s(*v);
}

std::string format_time(Time t) { return format_scaled(t.seconds(), kTimeFormat); }
std::string format_bytes(Bytes b) { return format_scaled(static_cast<double>(b.count()), kBytesFormat); }
std::string format_bandwidth(Bandwidth bw) { return format_scaled(bw.base(), kBandwidthFormat); }
std::string format_flops(Flops f) { return format_scaled(f.base(), kFlopsFormat); }
std::string format_flop_rate(FlopRate r) { return format_scaled(r.base(), kFlopRateFormat); }

}  // namespace mlsys
