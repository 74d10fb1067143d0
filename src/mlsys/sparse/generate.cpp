#include "mlsys/sparse/generate.h"

#include <numeric>
#include <vector>

#include "mlsys/core/rng.h"

namespace mlsys::sparse {
namespace {

double draw_value(RngStream& rng, GeneratedValues kind) {
  switch (kind) {
    case GeneratedValues::kOnes: return 1.0;
    case GeneratedValues::kSmallIntegers: return static_cast<double>(rng.uniform_int(-4, 4));
    case GeneratedValues::kUniformReal: return rng.uniform(-1.0, 1.0);
  }
  return 1.0;
}

}  // namespace

Result<Coo<double>> rmat(const RmatParams& p) {
  if (p.scale < 1 || p.scale > 30) return invalid_input("R-MAT scale " + std::to_string(p.scale) + " outside [1, 30]");
  if (p.edge_factor < 1) return invalid_input("R-MAT edge factor must be >= 1");
  if (!(p.a >= 0 && p.b >= 0 && p.c >= 0 && p.a + p.b + p.c <= 1.0)) {
    return invalid_input("R-MAT probabilities a, b, c must be >= 0 with a + b + c <= 1");
  }
  const int64_t n = int64_t{1} << p.scale;
  const int64_t edges = n * p.edge_factor;
  RngStream rng(p.seed, "sparse.rmat");
  Coo<double> out;
  out.rows = n;
  out.cols = n;
  out.row.reserve(static_cast<size_t>(edges));
  out.col.reserve(static_cast<size_t>(edges));
  out.val.reserve(static_cast<size_t>(edges));
  const double ab = p.a + p.b;
  const double abc = ab + p.c;
  for (int64_t e = 0; e < edges; ++e) {
    int64_t i = 0;
    int64_t j = 0;
    // One quadrant per bit, most significant first.
    for (int bit = p.scale - 1; bit >= 0; --bit) {
      const double r = rng.uniform();
      const int64_t step = int64_t{1} << bit;
      if (r < p.a) {
        continue;  // top-left quadrant: neither index moves
      }
      if (r < ab) {
        j += step;
      } else if (r < abc) {
        i += step;
      } else {
        i += step;
        j += step;
      }
    }
    out.row.push_back(static_cast<Index>(i));
    out.col.push_back(static_cast<Index>(j));
    out.val.push_back(draw_value(rng, p.values));
  }
  if (p.permute) {
    std::vector<Index> perm(static_cast<size_t>(n));
    std::iota(perm.begin(), perm.end(), Index{0});
    RngStream prng(p.seed, "sparse.rmat.permutation");
    for (int64_t k = n - 1; k > 0; --k) std::swap(perm[static_cast<size_t>(k)], perm[static_cast<size_t>(prng.uniform_int(0, k))]);
    for (auto& r : out.row) r = perm[static_cast<size_t>(r)];
    for (auto& c : out.col) c = perm[static_cast<size_t>(c)];
  }
  return out;
}

Result<Coo<double>> uniform_random(const UniformParams& p) {
  if (p.rows < 0 || p.cols < 0 || p.entries < 0) return invalid_input("uniform random matrix: negative size");
  if (p.rows > kMaxDimension || p.cols > kMaxDimension) return invalid_input("uniform random matrix: dimension above 2^31 - 1");
  if (p.entries > 0 && (p.rows == 0 || p.cols == 0)) return invalid_input("uniform random matrix: entries in an empty shape");
  RngStream rng(p.seed, "sparse.uniform");
  Coo<double> out;
  out.rows = p.rows;
  out.cols = p.cols;
  for (int64_t e = 0; e < p.entries; ++e) {
    out.row.push_back(static_cast<Index>(rng.uniform_int(0, p.rows - 1)));
    out.col.push_back(static_cast<Index>(rng.uniform_int(0, p.cols - 1)));
    out.val.push_back(draw_value(rng, p.values));
  }
  return out;
}

}  // namespace mlsys::sparse
