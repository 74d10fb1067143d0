// Random sparse matrices: R-MAT / Graph500 (recursive quadrant choice with a, b, c, d) and
// uniform random, each seeded through core's RngStream so a seed names one matrix.
//
//   sparse::Coo<double> g = sparse::rmat({.scale = 16, .edge_factor = 16, .seed = 1});
//   sparse::Csr<double> a = sparse::to_csr(g);   // multi-edges summed into one entry
//   sparse::Coo<double> u = sparse::uniform_random({.rows = 100, .cols = 50, .entries = 400, .seed = 2});
#pragma once

#include <cstdint>

#include "mlsys/core/result.h"
#include "mlsys/sparse/matrix.h"

namespace mlsys::sparse {

/// How generated entries get values.
enum class GeneratedValues {
  kOnes,           // 1.0 (pattern)
  kSmallIntegers,  // uniform in {-4..4}: products and sums stay exact in f64 and f32
  kUniformReal,    // uniform in [-1, 1)
};

/// Graph500 defaults: a = 0.57, b = c = 0.19, d = 1 - a - b - c = 0.05.
struct RmatParams {
  int scale = 10;            // n = 2^scale vertices, 1 <= scale <= 30
  int edge_factor = 16;      // edges = edge_factor * n, >= 1
  double a = 0.57;
  double b = 0.19;
  double c = 0.19;
  uint64_t seed = 1;
  bool permute = true;       // relabel vertices by a seeded random permutation, as Graph500 does
  GeneratedValues values = GeneratedValues::kOnes;
};

/// edge_factor * 2^scale directed edges as triplets (duplicates and self loops kept, like
/// Graph500's generator). kInvalidInput for a scale outside [1, 30], edge_factor < 1, or a,b,c
/// not probabilities with a + b + c <= 1.
Result<Coo<double>> rmat(const RmatParams& params);

struct UniformParams {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t entries = 0;  // triplets drawn with replacement: duplicates are possible
  uint64_t seed = 1;
  GeneratedValues values = GeneratedValues::kUniformReal;
};

/// `entries` triplets with uniformly random positions. kInvalidInput for negative sizes, a
/// dimension above 2^31 - 1, or entries > 0 with an empty shape.
Result<Coo<double>> uniform_random(const UniformParams& params);

}  // namespace mlsys::sparse
