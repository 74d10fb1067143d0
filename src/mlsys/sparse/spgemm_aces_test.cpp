#include <gtest/gtest.h>

#include "mlsys/sparse/generate.h"
#include "mlsys/sparse/spgemm.h"

namespace mlsys::sparse {
namespace {

Csr<double> rmat_csr(int scale, uint64_t seed) {
  return to_csr(*rmat({.scale = scale, .edge_factor = 8, .seed = seed, .values = GeneratedValues::kUniformReal}));
}

TEST(SpgemmAces, EveryForcedDegreeMatchesTheReferenceBitForBit) {
  const Csr<double> a = rmat_csr(10, 5);
  const Csr<double> ref = *spgemm(a, a, {.algo = SpgemmAlgo::kReference});
  for (Condensing d : {Condensing::kNone, Condensing::kModerate, Condensing::kAggressive}) {
    for (int threads : {1, 2}) {
      auto c = spgemm(a, a, {.algo = SpgemmAlgo::kAces, .threads = threads, .aces_degree = d});
      ASSERT_TRUE(c);
      EXPECT_EQ(*c, ref) << to_string(d) << " threads " << threads;
    }
  }
}

TEST(SpgemmAces, UniformRowsFormOneSampledBand) {
  // 512 rows of 3 entries each: one band of >= 256 rows, so 3 x 32 rows are sampled.
  Coo<double> coo{.rows = 512, .cols = 512};
  for (Index i = 0; i < 512; ++i) {
    for (Index d = 0; d < 3; ++d) {
      coo.row.push_back(i);
      coo.col.push_back((i * 5 + d * 97) % 512);
      coo.val.push_back(1.0 + d);
    }
  }
  const Csr<double> a = to_csr(coo);
  SpgemmStats stats;
  auto c = spgemm(a, a, {.algo = SpgemmAlgo::kAces}, &stats);
  ASSERT_TRUE(c);
  EXPECT_EQ(stats.bands, 1);
  EXPECT_EQ(stats.band_degree[0] + stats.band_degree[1] + stats.band_degree[2], 512);
  // Each degree ran its 32-row sampling pass.
  for (int64_t rows : stats.band_degree) EXPECT_GE(rows, 32);
  EXPECT_EQ(*c, *spgemm(a, a, {.algo = SpgemmAlgo::kReference}));
}

TEST(SpgemmAces, RowLengthJumpsStartNewBands) {
  // Rows alternate between 1 and 20 entries: every row starts a band.
  Coo<double> coo{.rows = 10, .cols = 40};
  for (Index i = 0; i < 10; ++i) {
    const Index len = i % 2 == 0 ? 1 : 20;
    for (Index d = 0; d < len; ++d) {
      coo.row.push_back(i);
      coo.col.push_back(d * 2);
      coo.val.push_back(1);
    }
  }
  const Csr<double> a = to_csr(coo);
  const Csr<double> b = transpose(a);
  SpgemmStats stats;
  ASSERT_TRUE(spgemm(a, b, {.algo = SpgemmAlgo::kAces}, &stats));
  EXPECT_EQ(stats.bands, 10);
}

TEST(SpgemmAuto, PicksSpaForTrivialProducts) {
  const Csr<double> diag = to_csr(Coo<double>{.rows = 3, .cols = 3, .row = {0, 1, 2}, .col = {0, 1, 2}, .val = {1, 2, 3}});
  EXPECT_EQ(choose_spgemm_algo(diag, diag).algo, SpgemmAlgo::kSpa);
}

TEST(SpgemmAuto, PicksSpaWhenTheDenseAccumulatorFitsL2) {
  const Csr<double> g = rmat_csr(8, 1);
  EXPECT_EQ(choose_spgemm_algo(g, g).algo, SpgemmAlgo::kSpa);
}

TEST(SpgemmAuto, PicksAcesForWideProducts) {
  // 100,000 columns: stamps and values need 1.2 MB, more than L2.
  const Csr<double> a = to_csr(*uniform_random({.rows = 100, .cols = 100000, .entries = 2000, .seed = 1}));
  const Csr<double> b = to_csr(*uniform_random({.rows = 100000, .cols = 100000, .entries = 200000, .seed = 2}));
  EXPECT_EQ(choose_spgemm_algo(a, b).algo, SpgemmAlgo::kAces);
  SpgemmStats stats;
  auto c = spgemm(a, b, {.algo = SpgemmAlgo::kAuto, .threads = 2}, &stats);
  ASSERT_TRUE(c);
  EXPECT_EQ(stats.algo, SpgemmAlgo::kAces);
  EXPECT_EQ(*c, *spgemm(a, b, {.algo = SpgemmAlgo::kReference}));
}

TEST(SpgemmStatsTest, WorkspaceIsCountedAndBounded) {
  const Csr<double> a = rmat_csr(9, 2);
  for (SpgemmAlgo algo : {SpgemmAlgo::kSpa, SpgemmAlgo::kHash, SpgemmAlgo::kAces, SpgemmAlgo::kOuter, SpgemmAlgo::kInner}) {
    SpgemmStats stats;
    ASSERT_TRUE(spgemm(a, a, {.algo = algo, .threads = 2}, &stats));
    EXPECT_GT(stats.workspace.count(), 0) << to_string(algo);
    EXPECT_LE(stats.workspace.count(), spgemm_workspace_bound(a, a, algo, 2).count()) << to_string(algo);
  }
}

TEST(SpgemmAces, FloatMatchesFloatReference) {
  const Csr<float> a = cast_values<float>(rmat_csr(9, 4));
  EXPECT_EQ(*spgemm(a, a, {.algo = SpgemmAlgo::kAces, .threads = 2}), *spgemm(a, a, {.algo = SpgemmAlgo::kReference}));
}

}  // namespace
}  // namespace mlsys::sparse
