#include "mlsys/sparse/aces_model.h"

#include <gtest/gtest.h>

#include "mlsys/sparse/generate.h"

namespace mlsys::sparse {
namespace {

// The paper's Fig. 5 (research notes §1.8): fibers B0..B4 of 2, 5, 1, 6, 4 lines, an 8-line cache.
const std::vector<int> kFig5Lines = {2, 5, 1, 6, 4};
const std::vector<int> kFig5Requests = {0, 1, 2, 4, 1, 0, 2, 3, 0};

TEST(AcesFig5, BeladyKeepsOnePureFiber) { EXPECT_EQ(pure_fibers(kFig5Lines, kFig5Requests, 8, CachePolicy::kRd), 1); }

TEST(AcesFig5, PureFiberKeepsThreePureFibers) {
  EXPECT_EQ(pure_fibers(kFig5Lines, kFig5Requests, 8, CachePolicy::kPureFiber), 3);
}

TEST(AcesFig5, LruKeepsNoMoreThanPureFiber) {
  EXPECT_LE(pure_fibers(kFig5Lines, kFig5Requests, 8, CachePolicy::kLru), 3);
}

Csr<double> rmat_csr(int scale) { return to_csr(*rmat({.scale = scale, .edge_factor = 8, .seed = 3})); }

TEST(AcesModel, MultiplicationsAreTheSameForEveryDegreeAndPolicy) {
  const Csr<double> a = rmat_csr(9);
  const int64_t mults = multiplications(a, a);
  for (CachePolicy p : {CachePolicy::kLru, CachePolicy::kRd, CachePolicy::kPureFiber}) {
    for (std::optional<Condensing> d : {std::optional<Condensing>{}, std::optional{Condensing::kNone},
                                        std::optional{Condensing::kModerate}, std::optional{Condensing::kAggressive}}) {
      auto r = model_aces(a, a, {.cache = KiB(32), .policy = p, .degree = d});
      ASSERT_TRUE(r);
      EXPECT_EQ(r->multiplications, mults);
      EXPECT_EQ(r->line_hits + r->line_misses, r->line_hits + r->line_misses);
      EXPECT_GE(r->cycles, r->compute_cycles);
    }
  }
}

TEST(AcesModel, AggressiveHasNoMergeConflictsOnTallBands) {
  // Every row has 4 entries: one band; aggressive issues the c-th entry of 16 different rows per wave.
  Coo<double> coo{.rows = 64, .cols = 64};
  for (Index i = 0; i < 64; ++i) {
    for (Index d = 0; d < 4; ++d) {
      coo.row.push_back(i);
      coo.col.push_back((i + 7 * d) % 64);
      coo.val.push_back(1);
    }
  }
  const Csr<double> a = to_csr(coo);
  auto aggressive = model_aces(a, a, {.degree = Condensing::kAggressive});
  auto none = model_aces(a, a, {.degree = Condensing::kNone});
  ASSERT_TRUE(aggressive && none);
  EXPECT_EQ(aggressive->conflict_cycles, 0);
  EXPECT_EQ(aggressive->degree_rows[2], 64);
}

TEST(AcesModel, SmallerCacheNeverMeansLessTraffic) {
  const Csr<double> a = rmat_csr(10);
  auto big = model_aces(a, a, {.cache = MiB(1), .policy = CachePolicy::kLru});
  auto small = model_aces(a, a, {.cache = KiB(16), .policy = CachePolicy::kLru});
  ASSERT_TRUE(big && small);
  EXPECT_GE(small->dram.count(), big->dram.count());
}

TEST(AcesModel, RefusesMismatchedDimensionsAndBadCache) {
  const Csr<double> a = empty_csr<double>(3, 4);
  EXPECT_FALSE(model_aces(a, a, {}));
  const Csr<double> sq = empty_csr<double>(4, 4);
  EXPECT_FALSE(model_aces(sq, sq, {.cache = B(64), .ways = 16}));
}

}  // namespace
}  // namespace mlsys::sparse
