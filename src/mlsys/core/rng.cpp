#include "mlsys/core/rng.h"

#include <cmath>

#include "mlsys/core/check.h"

namespace mlsys {
namespace {

// 128-bit product for Lemire's method; __extension__ keeps -Wpedantic quiet about __int128.
__extension__ using Uint128 = unsigned __int128;

constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// log1p(x)/x, continuous at 0 (used by Zipf's inverse integral).
double log1p_over_x(double x) { return std::fabs(x) > 1e-8 ? std::log1p(x) / x : 1.0 - x / 2.0; }
// (exp(x)-1)/x, continuous at 0.
double expm1_over_x(double x) { return std::fabs(x) > 1e-8 ? std::expm1(x) / x : 1.0 + x / 2.0; }

}  // namespace

RngStream::RngStream(uint64_t seed, std::string_view name) {
  // Seed and name are mixed so that nearby seeds and similar names give unrelated streams.
  uint64_t x = mix64(seed) ^ stable_hash(name);
  for (uint64_t& word : s_) {
    x = mix64(x);
    word = x;
  }
}

uint64_t RngStream::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double RngStream::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double RngStream::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

int64_t RngStream::uniform_int(int64_t lo, int64_t hi) {
  MLSYS_CHECK(lo <= hi, "uniform_int needs lo <= hi");
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
  if (range == 0) return static_cast<int64_t>(next_u64());  // the full 64-bit range
  // Lemire's nearly-divisionless method: multiply, reject the biased low region.
  Uint128 m = static_cast<Uint128>(next_u64()) * range;
  auto low = static_cast<uint64_t>(m);
  if (low < range) {
    const uint64_t threshold = (0 - range) % range;
    while (low < threshold) {
      m = static_cast<Uint128>(next_u64()) * range;
      low = static_cast<uint64_t>(m);
    }
  }
  return lo + static_cast<int64_t>(static_cast<uint64_t>(m >> 64));
}

double RngStream::exponential(double rate) {
  MLSYS_CHECK(rate > 0, "exponential needs rate > 0");
  return -std::log1p(-uniform()) / rate;
}

double RngStream::normal(double mean, double stddev) {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return mean + stddev * spare_normal_;
  }
  double u = 0.0;
  double v = 0.0;
  double s = 0.0;
  do {
    u = uniform(-1.0, 1.0);
    v = uniform(-1.0, 1.0);
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * std::log(s) / s);
  spare_normal_ = v * f;
  has_spare_normal_ = true;
  return mean + stddev * u * f;
}

double RngStream::lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }

double RngStream::gamma(double shape, double scale) {
  MLSYS_CHECK(shape > 0 && scale > 0, "gamma needs shape > 0 and scale > 0");
  if (shape < 1.0) {
    // Boost: Gamma(k) = Gamma(k+1) * U^(1/k).
    const double u = uniform();
    return gamma(shape + 1.0, scale) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = 0.0;
    double v = 0.0;
    do {
      x = normal(0.0, 1.0);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * scale;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v * scale;
  }
}

int64_t RngStream::poisson(double mean) {
  MLSYS_CHECK(mean >= 0, "poisson needs mean >= 0");
  if (mean == 0.0) return 0;
  if (mean < 10.0) {
    // Inversion by sequential search: exact and fast for small means.
    const double limit = std::exp(-mean);
    int64_t k = 0;
    double p = uniform();
    while (p > limit) {
      ++k;
      p *= uniform();
    }
    return k;
  }
  // PTRS: transformed rejection with squeeze (Hormann 1993).
  const double slam = std::sqrt(mean);
  const double loglam = std::log(mean);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  while (true) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2.0 * a / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<int64_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
        -mean + k * loglam - std::lgamma(k + 1.0)) {
      return static_cast<int64_t>(k);
    }
  }
}

int64_t RngStream::zipf(int64_t n, double s) {
  MLSYS_CHECK(n >= 1 && s > 0, "zipf needs n >= 1 and s > 0");
  if (n == 1) return 1;
  // Rejection-inversion (Hormann & Derflinger 1996) over the hat H(x) = integral of x^-s.
  const auto h = [s](double x) { return std::exp(-s * std::log(x)); };
  const auto h_integral = [s](double x) {
    const double lx = std::log(x);
    return expm1_over_x((1.0 - s) * lx) * lx;
  };
  const auto h_integral_inv = [s](double x) {
    double t = x * (1.0 - s);
    if (t < -1.0) t = -1.0;  // guards rounding at the left end
    return std::exp(log1p_over_x(t) * x);
  };
  const double h_x1 = h_integral(1.5) - 1.0;
  const double h_n = h_integral(static_cast<double>(n) + 0.5);
  const double squeeze = 2.0 - h_integral_inv(h_integral(2.5) - h(2.0));
  while (true) {
    const double u = h_n + uniform() * (h_x1 - h_n);
    const double x = h_integral_inv(u);
    double k = std::floor(x + 0.5);
    if (k < 1.0) k = 1.0;
    if (k > static_cast<double>(n)) k = static_cast<double>(n);
    if (k - x <= squeeze || u >= h_integral(k + 0.5) - h(k)) return static_cast<int64_t>(k);
  }
}

}  // namespace mlsys
