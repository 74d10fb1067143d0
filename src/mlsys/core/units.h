// Strong unit types: Time, Bytes, Bandwidth, Flops, FlopRate.
//
// Built only through named factories, converted only by division, and only physically legal
// arithmetic compiles (Bytes / Bandwidth is a Time; Bytes + Time does not compile).
//
//   Time t = MiB(64) / GBps(25);              // 2.68 ms
//   double us_count = t / us(1);              // convert by division
//   Result<Bandwidth> bw = parse_bandwidth("400Gbps");
#pragma once

#include <cmath>
#include <compare>
#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "mlsys/core/result.h"

namespace mlsys {

// ---------------------------------------------------------------------------------------------
// Time: signed 64-bit nanoseconds (292 years of range; picoseconds would overflow in 106 days).

class Time {
 public:
  constexpr Time() = default;
  static constexpr Time from_ns(int64_t ns) { return Time(ns); }
  static constexpr Time max() { return Time(std::numeric_limits<int64_t>::max()); }
  static constexpr Time zero() { return Time(0); }

  /// Raw nanosecond count, for the event engine and serialisation.
  constexpr int64_t ns() const { return ns_; }
  /// Seconds as a double, for reporting.
  constexpr double seconds() const { return static_cast<double>(ns_) / 1e9; }

  constexpr auto operator<=>(const Time&) const = default;
  constexpr Time operator+(Time o) const { return Time(ns_ + o.ns_); }
  constexpr Time operator-(Time o) const { return Time(ns_ - o.ns_); }
  constexpr Time operator-() const { return Time(-ns_); }
  constexpr Time& operator+=(Time o) { ns_ += o.ns_; return *this; }
  constexpr Time& operator-=(Time o) { ns_ -= o.ns_; return *this; }
  template <std::integral I>
  constexpr Time operator*(I k) const { return Time(ns_ * static_cast<int64_t>(k)); }
  /// Scales by a real factor, rounding to the nearest nanosecond.
  Time operator*(double k) const { return Time(std::llround(static_cast<double>(ns_) * k)); }
  Time operator/(double k) const { return Time(std::llround(static_cast<double>(ns_) / k)); }
  constexpr double operator/(Time o) const { return static_cast<double>(ns_) / static_cast<double>(o.ns_); }

 private:
  constexpr explicit Time(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

constexpr Time nsec(int64_t n) { return Time::from_ns(n); }
inline Time from_seconds(double s) { return Time::from_ns(std::llround(s * 1e9)); }
inline Time us(double n) { return from_seconds(n * 1e-6); }
inline Time ms(double n) { return from_seconds(n * 1e-3); }
inline Time sec(double n) { return from_seconds(n); }
inline Time minutes(double n) { return from_seconds(n * 60.0); }
inline Time hours(double n) { return from_seconds(n * 3600.0); }
inline Time operator*(double k, Time t) { return t * k; }

// ---------------------------------------------------------------------------------------------
// Bytes: signed 64-bit byte count (negative only as a difference).

class Bytes {
 public:
  constexpr Bytes() = default;
  static constexpr Bytes from_count(int64_t n) { return Bytes(n); }
  constexpr int64_t count() const { return n_; }

  constexpr auto operator<=>(const Bytes&) const = default;
  constexpr Bytes operator+(Bytes o) const { return Bytes(n_ + o.n_); }
  constexpr Bytes operator-(Bytes o) const { return Bytes(n_ - o.n_); }
  constexpr Bytes& operator+=(Bytes o) { n_ += o.n_; return *this; }
  constexpr Bytes& operator-=(Bytes o) { n_ -= o.n_; return *this; }
  template <std::integral I>
  constexpr Bytes operator*(I k) const { return Bytes(n_ * static_cast<int64_t>(k)); }
  template <std::integral I>
  constexpr Bytes operator/(I k) const { return Bytes(n_ / static_cast<int64_t>(k)); }
  Bytes operator*(double k) const { return Bytes(std::llround(static_cast<double>(n_) * k)); }
  constexpr double operator/(Bytes o) const { return static_cast<double>(n_) / static_cast<double>(o.n_); }

 private:
  constexpr explicit Bytes(int64_t n) : n_(n) {}
  int64_t n_ = 0;
};

constexpr Bytes B(int64_t n) { return Bytes::from_count(n); }
constexpr Bytes KiB(int64_t n) { return B(n << 10); }
constexpr Bytes MiB(int64_t n) { return B(n << 20); }
constexpr Bytes GiB(int64_t n) { return B(n << 30); }
constexpr Bytes TiB(int64_t n) { return B(n << 40); }
inline Bytes KB(double n) { return B(std::llround(n * 1e3)); }
inline Bytes MB(double n) { return B(std::llround(n * 1e6)); }
inline Bytes GB(double n) { return B(std::llround(n * 1e9)); }
inline Bytes TB(double n) { return B(std::llround(n * 1e12)); }
template <std::integral I>
constexpr Bytes operator*(I k, Bytes b) { return b * k; }

// ---------------------------------------------------------------------------------------------
// Bandwidth (bytes per second), Flops (floating-point operations) and FlopRate (per second).
// Real-valued: rates are measured and scaled, never counted exactly.

template <class Tag>
class RealQuantity {
 public:
  constexpr RealQuantity() = default;
  static constexpr RealQuantity from_base(double v) { return RealQuantity(v); }
  /// Value in the base unit (bytes/s, FLOP, FLOP/s).
  constexpr double base() const { return v_; }

  constexpr auto operator<=>(const RealQuantity&) const = default;
  constexpr RealQuantity operator+(RealQuantity o) const { return RealQuantity(v_ + o.v_); }
  constexpr RealQuantity operator-(RealQuantity o) const { return RealQuantity(v_ - o.v_); }
  constexpr RealQuantity& operator+=(RealQuantity o) { v_ += o.v_; return *this; }
  constexpr RealQuantity operator*(double k) const { return RealQuantity(v_ * k); }
  constexpr RealQuantity operator/(double k) const { return RealQuantity(v_ / k); }
  constexpr double operator/(RealQuantity o) const { return v_ / o.v_; }
  friend constexpr RealQuantity operator*(double k, RealQuantity q) { return q * k; }

 private:
  constexpr explicit RealQuantity(double v) : v_(v) {}
  double v_ = 0.0;
};

struct BandwidthTag {};
struct FlopsTag {};
struct FlopRateTag {};
using Bandwidth = RealQuantity<BandwidthTag>;
using Flops = RealQuantity<FlopsTag>;
using FlopRate = RealQuantity<FlopRateTag>;

constexpr Bandwidth Bps(double n) { return Bandwidth::from_base(n); }
constexpr Bandwidth KBps(double n) { return Bps(n * 1e3); }
constexpr Bandwidth MBps(double n) { return Bps(n * 1e6); }
constexpr Bandwidth GBps(double n) { return Bps(n * 1e9); }
constexpr Bandwidth TBps(double n) { return Bps(n * 1e12); }
constexpr Bandwidth GiBps(double n) { return Bps(n * 1073741824.0); }
/// Bits per second, as network links are quoted ("400Gbps" = 50 GB/s).
constexpr Bandwidth Mbps(double n) { return Bps(n * 1e6 / 8); }
constexpr Bandwidth Gbps(double n) { return Bps(n * 1e9 / 8); }
constexpr Bandwidth Tbps(double n) { return Bps(n * 1e12 / 8); }

constexpr Flops flop(double n) { return Flops::from_base(n); }
constexpr Flops GFLOP(double n) { return flop(n * 1e9); }
constexpr Flops TFLOP(double n) { return flop(n * 1e12); }
constexpr Flops PFLOP(double n) { return flop(n * 1e15); }
constexpr FlopRate flops_per_s(double n) { return FlopRate::from_base(n); }
constexpr FlopRate GFLOPS(double n) { return flops_per_s(n * 1e9); }
constexpr FlopRate TFLOPS(double n) { return flops_per_s(n * 1e12); }
constexpr FlopRate PFLOPS(double n) { return flops_per_s(n * 1e15); }

// Cross-unit arithmetic: the only conversions between quantities.
inline Time operator/(Bytes b, Bandwidth bw) { return from_seconds(static_cast<double>(b.count()) / bw.base()); }
inline Bandwidth operator/(Bytes b, Time t) { return Bps(static_cast<double>(b.count()) / t.seconds()); }
inline Bytes operator*(Bandwidth bw, Time t) { return B(std::llround(bw.base() * t.seconds())); }
inline Bytes operator*(Time t, Bandwidth bw) { return bw * t; }
inline Time operator/(Flops f, FlopRate r) { return from_seconds(f.base() / r.base()); }
inline FlopRate operator/(Flops f, Time t) { return flops_per_s(f.base() / t.seconds()); }
inline Flops operator*(FlopRate r, Time t) { return flop(r.base() * t.seconds()); }

// ---------------------------------------------------------------------------------------------
// Parsing ("64MiB", "1.5GB", "400Gbps", "25GBps", "25GB/s", "5us", "312TFLOPS") and printing.
// A number without a unit is an error; negative values are errors.

Result<Time> parse_time(std::string_view text);
Result<Bytes> parse_bytes(std::string_view text);
Result<Bandwidth> parse_bandwidth(std::string_view text);
Result<Flops> parse_flops(std::string_view text);
Result<FlopRate> parse_flop_rate(std::string_view text);

/// Human-readable with the largest unit that keeps the value >= 1: "2.68ms", "64MiB", "50GB/s".
std::string format_time(Time t);
std::string format_bytes(Bytes b);
std::string format_bandwidth(Bandwidth bw);
std::string format_flops(Flops f);
std::string format_flop_rate(FlopRate r);

}  // namespace mlsys
