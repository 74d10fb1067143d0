// Seeded, named random streams with mlsys's own distributions.
//
// Each component draws from its own stream, derived from the global seed and the stream's name,
// so adding a component never shifts another's draws. The distributions are implemented here
// (the standard library's differ between implementations), so a seed gives the same numbers on
// every platform and compiler.
//
//   RngStream arrivals(seed, "serve/arrivals");
//   Time gap = from_seconds(arrivals.exponential(/*rate=*/2.0));
//   int64_t rank = arrivals.zipf(1000, 1.1);
#pragma once

#include <cstdint>
#include <string_view>

namespace mlsys {

/// SplitMix64 finaliser: a bijective 64-bit mixer, used to derive seeds and to hash keys.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// FNV-1a over the bytes of `s`: a stable (platform-independent) string hash.
constexpr uint64_t stable_hash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// A xoshiro256** generator seeded from (seed, name) with our own distributions.
class RngStream {
 public:
  RngStream(uint64_t seed, std::string_view name);

  /// Next raw 64-bit value.
  uint64_t next_u64();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi);
  /// Uniform integer in [lo, hi] (inclusive), unbiased (Lemire's method).
  int64_t uniform_int(int64_t lo, int64_t hi);
  /// Exponential with the given rate (mean 1/rate); rate > 0.
  double exponential(double rate);
  /// Normal with mean and standard deviation (Marsaglia polar method).
  double normal(double mean, double stddev);
  /// exp(normal(mu, sigma)): mu and sigma are of the underlying normal.
  double lognormal(double mu, double sigma);
  /// Gamma with shape k > 0 and scale theta > 0 (Marsaglia-Tsang); mean k*theta.
  double gamma(double shape, double scale);
  /// Poisson with the given mean >= 0 (inversion for small means, PTRS rejection for large).
  int64_t poisson(double mean);
  /// Zipf over {1..n} with P(k) proportional to k^-s, s > 0 (Hormann-Derflinger rejection-inversion).
  int64_t zipf(int64_t n, double s);

 private:
  uint64_t s_[4];
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace mlsys
