#include "mlsys/sparse/generate.h"

#include <gtest/gtest.h>

namespace mlsys::sparse {
namespace {

TEST(SparseGenerate, RmatHasEdgeFactorTimesVertices) {
  auto g = rmat({.scale = 8, .edge_factor = 16, .seed = 3});
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_EQ(g->rows, 256);
  EXPECT_EQ(g->nnz(), 16 * 256);
  EXPECT_TRUE(valid(to_csr(*g)));
}

TEST(SparseGenerate, RmatIsDeterministicPerSeed) {
  auto x = rmat({.scale = 7, .seed = 5});
  auto y = rmat({.scale = 7, .seed = 5});
  auto z = rmat({.scale = 7, .seed = 6});
  ASSERT_TRUE(x && y && z);
  EXPECT_EQ(x->row, y->row);
  EXPECT_EQ(x->col, y->col);
  EXPECT_NE(x->row, z->row);
}

TEST(SparseGenerate, RmatQuadrantSharesFollowProbabilities) {
  // Without relabelling, the top bit of (row, col) picks the quadrant with P = a, b, c, d.
  auto g = rmat({.scale = 10, .edge_factor = 16, .seed = 1, .permute = false});
  ASSERT_TRUE(g);
  int64_t q[4] = {0, 0, 0, 0};
  for (int64_t e = 0; e < g->nnz(); ++e) {
    q[(g->row[static_cast<size_t>(e)] >= 512 ? 2 : 0) + (g->col[static_cast<size_t>(e)] >= 512 ? 1 : 0)]++;
  }
  const double n = static_cast<double>(g->nnz());
  EXPECT_NEAR(q[0] / n, 0.57, 0.02);
  EXPECT_NEAR(q[1] / n, 0.19, 0.02);
  EXPECT_NEAR(q[2] / n, 0.19, 0.02);
  EXPECT_NEAR(q[3] / n, 0.05, 0.01);
}

TEST(SparseGenerate, RmatRejectsBadParameters) {
  EXPECT_FALSE(rmat({.scale = 0}));
  EXPECT_FALSE(rmat({.scale = 31}));
  EXPECT_FALSE(rmat({.scale = 4, .edge_factor = 0}));
  EXPECT_FALSE(rmat({.scale = 4, .a = 0.6, .b = 0.3, .c = 0.3}));
}

TEST(SparseGenerate, UniformRandomShapeAndValues) {
  auto u = uniform_random({.rows = 30, .cols = 7, .entries = 500, .seed = 2, .values = GeneratedValues::kSmallIntegers});
  ASSERT_TRUE(u);
  EXPECT_EQ(u->nnz(), 500);
  for (int64_t e = 0; e < u->nnz(); ++e) {
    EXPECT_LT(u->row[static_cast<size_t>(e)], 30);
    EXPECT_LT(u->col[static_cast<size_t>(e)], 7);
    const double v = u->val[static_cast<size_t>(e)];
    EXPECT_EQ(v, static_cast<double>(static_cast<int>(v)));
    EXPECT_LE(std::abs(v), 4.0);
  }
}

TEST(SparseGenerate, UniformRandomRejectsEntriesInEmptyShape) {
  EXPECT_FALSE(uniform_random({.rows = 0, .cols = 3, .entries = 1}));
  EXPECT_FALSE(uniform_random({.rows = -1, .cols = 3, .entries = 0}));
  EXPECT_TRUE(uniform_random({.rows = 0, .cols = 3, .entries = 0}));
}

}  // namespace
}  // namespace mlsys::sparse
