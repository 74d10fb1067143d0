// The reference executor: semantics of a step (sends read the start-of-step buffers), block
// layout, and schedule validation against deliberately broken algorithms.

#include "mlsys/coll/reference_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "mlsys/coll/algorithms.h"

namespace mlsys::coll {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An algorithm whose schedules a test writes by hand.
class HandWritten final : public Algorithm {
 public:
  HandWritten(int ranks, int64_t blocks, std::function<RankSchedule(int)> fn)
      : Algorithm({.ranks = ranks}), blocks_(blocks), fn_(std::move(fn)) {}
  std::string name() const override { return "hand-written"; }
  int64_t block_count() const override { return blocks_; }
  RankSchedule schedule_for(int rank) const override { return fn_(rank); }

 private:
  int64_t blocks_;
  std::function<RankSchedule(int)> fn_;
};

// Two ranks swap block 0 and reduce it: one step, each sends and receives.
RankSchedule exchange(int rank, RecvKind kind = RecvKind::kReduce) {
  RankSchedule s{rank, {}};
  s.steps.push_back({.sends = {{1 - rank, {0}}}, .recvs = {{1 - rank, {0}, kind}}});
  return s;
}

TEST(ReferenceExecutor, RingAllreduceSumsEveryRank) {
  auto algo = make_algorithm("ring", {.ranks = 4});
  ASSERT_TRUE(algo);
  auto out = run_reference(**algo, std::vector<std::vector<int64_t>>{{1, 2}, {3, 4}, {5, 6}, {7, 8}},
                           ReduceOp::kSum);
  ASSERT_TRUE(out) << out.error().to_string();
  for (const auto& v : *out) EXPECT_THAT(v, ElementsAre(16, 20));
}

TEST(ReferenceExecutor, SendsReadTheBuffersAsAtTheStartOfTheStep) {
  HandWritten algo(2, 1, [](int r) { return exchange(r); });
  auto out = run_reference(algo, std::vector<std::vector<int64_t>>{{3}, {5}}, ReduceOp::kSum);
  ASSERT_TRUE(out);
  // Each rank adds the other's original value: 8 on both, not 3 + 8 or 5 + 8.
  EXPECT_THAT((*out)[0], ElementsAre(8));
  EXPECT_THAT((*out)[1], ElementsAre(8));
}

TEST(ReferenceExecutor, CopyOverwritesInsteadOfReducing) {
  HandWritten algo(2, 1, [](int r) { return exchange(r, RecvKind::kCopy); });
  auto out = run_reference(algo, std::vector<std::vector<double>>{{3.5}, {5.25}}, ReduceOp::kSum);
  ASSERT_TRUE(out);
  EXPECT_THAT((*out)[0], ElementsAre(5.25));
  EXPECT_THAT((*out)[1], ElementsAre(3.5));
}

TEST(ReferenceExecutor, AppliesEachReduction) {
  HandWritten algo(2, 1, [](int r) { return exchange(r); });
  const std::vector<std::vector<int64_t>> in = {{-3}, {5}};
  EXPECT_THAT((*run_reference(algo, in, ReduceOp::kMax))[0], ElementsAre(5));
  EXPECT_THAT((*run_reference(algo, in, ReduceOp::kMin))[1], ElementsAre(-3));
  EXPECT_THAT((*run_reference(algo, in, ReduceOp::kProd))[0], ElementsAre(-15));
}

TEST(ReferenceExecutor, IntegerSumsWrapInsteadOfOverflowing) {
  EXPECT_EQ(reduce_values(ReduceOp::kSum, INT64_MAX, int64_t{1}), INT64_MIN);
}

TEST(ReferenceExecutor, BlocksSplitElementsFirstBlocksLonger) {
  EXPECT_THAT(block_offsets(7, 3), ElementsAre(0, 3, 5, 7));
  EXPECT_THAT(block_offsets(2, 4), ElementsAre(0, 1, 2, 2, 2));
  EXPECT_THAT(block_offsets(0, 2), ElementsAre(0, 0, 0));
}

TEST(ReferenceExecutor, RefusesWrongNumberOrLengthOfBuffers) {
  HandWritten algo(2, 1, [](int r) { return exchange(r); });
  auto few = run_reference(algo, std::vector<std::vector<int64_t>>{{1}}, ReduceOp::kSum);
  ASSERT_FALSE(few);
  EXPECT_THAT(few.error().message(), HasSubstr("1 buffers for 2 ranks"));
  EXPECT_FALSE(run_reference(algo, std::vector<std::vector<int64_t>>{{1}, {1, 2}}, ReduceOp::kSum));
}

TEST(ValidateSchedules, DetectsAReceiveOfOtherBlocks) {
  // Rank 1 expects block 1 but rank 0 sends block 0.
  HandWritten algo(2, 2, [](int r) {
    RankSchedule s{r, {}};
    if (r == 0) s.steps.push_back({.sends = {{1, {0}}}, .recvs = {}});
    if (r == 1) s.steps.push_back({.sends = {}, .recvs = {{0, {1}, RecvKind::kReduce}}});
    return s;
  });
  const Status st = validate_schedules(algo);
  ASSERT_FALSE(st);
  EXPECT_THAT(
      st.error().message(),
      HasSubstr("rank 0 step 0 sends blocks [0] to rank 1, which receives blocks [1] from it in that step"));
  auto run = run_reference(algo, std::vector<std::vector<int64_t>>{{1, 2}, {3, 4}}, ReduceOp::kSum);
  ASSERT_FALSE(run);
  EXPECT_THAT(run.error().message(), HasSubstr("invalid schedule"));
}

TEST(ValidateSchedules, DetectsAReceiveInTheWrongStep) {
  HandWritten algo(2, 1, [](int r) {
    RankSchedule s{r, {{}, {}}};
    if (r == 0) s.steps[0].sends.push_back({1, {0}});
    if (r == 1) s.steps[1].recvs.push_back({0, {0}, RecvKind::kCopy});
    return s;
  });
  const Status st = validate_schedules(algo);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(),
              HasSubstr("rank 0 step 0 sends blocks [0] to rank 1, which receives nothing"));
}

TEST(ValidateSchedules, DetectsAReceiveWithoutASend) {
  HandWritten algo(3, 1, [](int r) {
    RankSchedule s{r, {{}}};
    if (r == 2) s.steps[0].recvs.push_back({1, {0}, RecvKind::kReduce});
    return s;
  });
  const Status st = validate_schedules(algo);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(),
              HasSubstr("rank 1 step 0 sends nothing to rank 2, which receives blocks [0]"));
}

TEST(ValidateSchedules, DetectsBadPeersAndBlocks) {
  const auto bad = [](std::function<void(RankSchedule&)> edit) {
    HandWritten algo(2, 2, [edit](int r) {
      RankSchedule s = exchange(r);
      if (r == 0) edit(s);
      return s;
    });
    return validate_schedules(algo);
  };
  EXPECT_THAT(bad([](RankSchedule& s) { s.steps[0].sends[0].peer = 0; }).error().message(),
              HasSubstr("sends to rank 0"));
  EXPECT_THAT(bad([](RankSchedule& s) { s.steps[0].sends[0].peer = 7; }).error().message(),
              HasSubstr("rank 7"));
  EXPECT_THAT(bad([](RankSchedule& s) {
                s.steps[0].sends[0].blocks = {1, 0};
              })
                  .error()
                  .message(),
              HasSubstr("not ascending"));
  EXPECT_THAT(bad([](RankSchedule& s) { s.steps[0].sends[0].blocks = {2}; }).error().message(),
              HasSubstr("below 2"));
  EXPECT_THAT(bad([](RankSchedule& s) { s.rank = 1; }).error().message(), HasSubstr("says rank 1"));
}

TEST(ValidateSchedules, DetectsABlockCopiedTwiceInOneStep) {
  HandWritten algo(3, 1, [](int r) {
    RankSchedule s{r, {{}}};
    if (r == 0) {
      s.steps[0].recvs.push_back({1, {0}, RecvKind::kCopy});
      s.steps[0].recvs.push_back({2, {0}, RecvKind::kCopy});
    } else {
      s.steps[0].sends.push_back({0, {0}});
    }
    return s;
  });
  const Status st = validate_schedules(algo);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("rank 0 step 0 receives block 0 twice"));
}

TEST(ValidateSchedules, AcceptsSwingOnLargeTori) {
  for (const AlgorithmParams& p : {AlgorithmParams{.ranks = 4096, .torus = {64, 64}},
                                   AlgorithmParams{.ranks = 256, .torus = {16, 16}, .ports = 4}}) {
    auto algo = make_algorithm("swing-bw", p);
    ASSERT_TRUE(algo);
    const Status st = validate_schedules(**algo);
    EXPECT_TRUE(st) << st.error().to_string();
  }
}

TEST(ReduceOpNames, RoundTrip) {
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kProd}) {
    EXPECT_EQ(*parse_reduce_op(to_string(op)), op);
  }
  EXPECT_FALSE(parse_reduce_op("avg"));
}

}  // namespace
}  // namespace mlsys::coll
