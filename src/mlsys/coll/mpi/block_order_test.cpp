// contiguous_block_order: the memory placement of allreduce blocks that keeps every step's sends
// contiguous. Checked without MPI on the registry's schedules.

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/mpi/algorithm_choice.h"
#include "mlsys/coll/mpi/mpi_executor.h"

namespace mlsys::coll {
namespace {

// The algorithm, or its documented fallback where it does not run on p ranks (swing-bw, odd p).
std::unique_ptr<Algorithm> build(const std::string& name, int p) {
  auto c = choose_algorithm(name, {.collective = Collective::kAllreduce, .ranks = p});
  EXPECT_TRUE(c) << name;
  return c ? std::move(c->algorithm) : nullptr;
}

// Number of (rank, step, send) whose blocks, placed by `slot`, are not one contiguous run.
int scattered_sends(const Algorithm& algo, const std::vector<int32_t>& slot) {
  int scattered = 0;
  for (int r = 0; r < algo.ranks(); ++r) {
    for (const Step& step : algo.schedule_for(r).steps) {
      for (const Transfer& t : step.sends) {
        std::vector<int32_t> s;
        for (int32_t b : t.blocks) s.push_back(slot[static_cast<size_t>(b)]);
        std::sort(s.begin(), s.end());
        if (!s.empty() && s.back() - s.front() + 1 != static_cast<int32_t>(s.size())) ++scattered;
      }
    }
  }
  return scattered;
}

std::vector<int32_t> identity(int64_t n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(BlockOrder, IsAPermutation) {
  for (const std::string& name : algorithm_names(Collective::kAllreduce)) {
    for (int p : {1, 2, 3, 6, 8, 12}) {
      auto algo = build(name, p);
      ASSERT_NE(algo, nullptr);
      std::vector<int32_t> slot = contiguous_block_order(*algo);
      ASSERT_EQ(static_cast<int64_t>(slot.size()), algo->block_count()) << name << " P=" << p;
      std::sort(slot.begin(), slot.end());
      EXPECT_EQ(slot, identity(algo->block_count())) << name << " P=" << p;
    }
  }
}

TEST(BlockOrder, RecursiveHalvingGetsBitReversal) {
  auto algo = build("rabenseifner", 8);
  ASSERT_NE(algo, nullptr);
  // Without remapping its halves interleave (rank 0 first sends blocks 1,3,5,7).
  EXPECT_GT(scattered_sends(*algo, identity(8)), 0);
  EXPECT_EQ(contiguous_block_order(*algo), (std::vector<int32_t>{0, 4, 2, 6, 1, 5, 3, 7}));
}

TEST(BlockOrder, EverySendContiguousForButterfliesOnPowersOfTwo) {
  for (const std::string& name : {std::string("rabenseifner"), std::string("swing-bw")}) {
    for (int p : {2, 4, 8, 16, 32}) {
      auto algo = build(name, p);
      ASSERT_NE(algo, nullptr);
      EXPECT_EQ(scattered_sends(*algo, contiguous_block_order(*algo)), 0) << name << " P=" << p;
    }
  }
}

TEST(BlockOrder, NeverWorseThanIdentityForTheRest) {
  for (const std::string& name : algorithm_names(Collective::kAllreduce)) {
    for (int p : {3, 6, 12}) {
      auto algo = build(name, p);
      ASSERT_NE(algo, nullptr);
      EXPECT_LE(scattered_sends(*algo, contiguous_block_order(*algo)),
                scattered_sends(*algo, identity(algo->block_count())))
          << name << " P=" << p;
    }
  }
}

}  // namespace
}  // namespace mlsys::coll
