// The registry: names per collective, parameter errors, torus parsing, per-port schedules, and
// the step counts each family is known for.

#include "mlsys/coll/algorithms.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mlsys::coll {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<Algorithm> make_ok(std::string_view name, const AlgorithmParams& p) {
  auto a = make_algorithm(name, p);
  EXPECT_TRUE(a) << name << ": " << a.error().to_string();
  return a ? std::move(*a) : nullptr;
}

int steps_of(const Algorithm& a, int rank = 0) { return static_cast<int>(a.schedule_for(rank).steps.size()); }

TEST(AlgorithmNames, ListsTheFamiliesOfEachCollective) {
  EXPECT_THAT(algorithm_names(Collective::kAllreduce),
              ElementsAre("ring", "recdoub", "rabenseifner", "bucket", "swing-lat", "swing-bw", "dbtree",
                          "hierarchical"));
  EXPECT_THAT(algorithm_names(Collective::kReduceScatter),
              ElementsAre("ring", "rabenseifner", "bucket", "swing-bw"));
  EXPECT_THAT(algorithm_names(Collective::kAllgather),
              ElementsAre("ring", "rabenseifner", "bucket", "swing-bw"));
  EXPECT_THAT(algorithm_names(Collective::kAlltoall), ElementsAre("pairwise", "bruck", "2dh", "pipe-a2a"));
  EXPECT_EQ(all_algorithm_names().size(), 12U);
}

TEST(MakeAlgorithm, EveryListedNameBuildsWithItsName) {
  for (Collective c :
       {Collective::kAllreduce, Collective::kReduceScatter, Collective::kAllgather, Collective::kAlltoall}) {
    for (const std::string& name : algorithm_names(c)) {
      auto a = make_ok(name, {.collective = c, .ranks = 8, .ranks_per_node = 2});
      ASSERT_NE(a, nullptr);
      EXPECT_EQ(a->name(), name);
      EXPECT_EQ(a->ranks(), 8);
    }
  }
}

TEST(MakeAlgorithm, UnknownNameSuggestsTheClosest) {
  auto a = make_algorithm("swing-b", {.ranks = 8});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(a.error().message(), HasSubstr("unknown algorithm 'swing-b'"));
  EXPECT_THAT(a.error().hint(), HasSubstr("did you mean 'swing-bw'?"));
  EXPECT_THAT(a.error().hint(), HasSubstr("ring, recdoub"));
}

TEST(MakeAlgorithm, RefusesAnAlgorithmTheCollectiveLacks) {
  auto a = make_algorithm("dbtree", {.collective = Collective::kReduceScatter, .ranks = 8});
  ASSERT_FALSE(a);
  EXPECT_THAT(a.error().message(), HasSubstr("does not implement reduce-scatter"));
  EXPECT_THAT(a.error().hint(), HasSubstr("ring, rabenseifner, bucket, swing-bw"));
  EXPECT_FALSE(make_algorithm("ring", {.collective = Collective::kAlltoall, .ranks = 8}));
  EXPECT_FALSE(make_algorithm("bruck", {.collective = Collective::kAllreduce, .ranks = 8}));
}

TEST(MakeAlgorithm, RefusesTorusThatDoesNotMultiplyToRanks) {
  auto a = make_algorithm("swing-bw", {.ranks = 64, .torus = {8, 4}});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(a.error().message(), HasSubstr("torus 8x4 has 32 ranks, not 64"));
  EXPECT_FALSE(make_algorithm("ring", {.ranks = 4, .torus = {4, 0}}));
}

TEST(MakeAlgorithm, RefusesFewerThanOneRank) {
  auto a = make_algorithm("ring", {.ranks = 0});
  ASSERT_FALSE(a);
  EXPECT_THAT(a.error().message(), HasSubstr("ranks must be at least 1"));
}

TEST(MakeAlgorithm, RefusesRanksPerNodeThatDoesNotDivideRanks) {
  auto a = make_algorithm("hierarchical", {.ranks = 12, .ranks_per_node = 5});
  ASSERT_FALSE(a);
  EXPECT_THAT(a.error().message(), HasSubstr("ranks_per_node 5 does not divide 12 ranks"));
  EXPECT_FALSE(make_algorithm("2dh", {.collective = Collective::kAlltoall, .ranks = 8, .ranks_per_node = 0}));
}

TEST(MakeAlgorithm, RefusesPortsOutsideTheTorusRange) {
  EXPECT_TRUE(make_algorithm("swing-bw", {.ranks = 16, .torus = {4, 4}, .ports = 4}));
  auto five = make_algorithm("swing-bw", {.ranks = 16, .torus = {4, 4}, .ports = 5});
  ASSERT_FALSE(five);
  EXPECT_THAT(five.error().message(), HasSubstr("1 to 4 ports"));
  EXPECT_FALSE(make_algorithm("bucket", {.ranks = 16, .ports = 3}));
  EXPECT_FALSE(make_algorithm("swing-lat", {.ranks = 16, .ports = 0}));
}

TEST(MakeAlgorithm, RefusesPortsForSinglePortFamilies) {
  auto a = make_algorithm("ring", {.ranks = 16, .torus = {4, 4}, .ports = 2});
  ASSERT_FALSE(a);
  EXPECT_THAT(a.error().message(), HasSubstr("ring has no multiport variant"));
}

TEST(MakeAlgorithm, RefusesSwingBandwidthOnOddDimensions) {
  auto a = make_algorithm("swing-bw", {.ranks = 12, .torus = {4, 3}});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), ErrorCode::kUnsupported);
  EXPECT_THAT(a.error().message(), HasSubstr("swing-bw on torus 4x3"));
  EXPECT_THAT(a.error().hint(), HasSubstr("swing-lat"));
  EXPECT_FALSE(make_algorithm("swing-bw", {.ranks = 7}));
  EXPECT_TRUE(make_algorithm("swing-lat", {.ranks = 12, .torus = {4, 3}}));
  EXPECT_TRUE(make_algorithm("swing-bw", {.ranks = 12, .torus = {6, 2}}));
  EXPECT_TRUE(make_algorithm("swing-bw", {.ranks = 4, .torus = {1, 4}}));
}

TEST(ParseTorusDims, ReadsDimensionsSeparatedByX) {
  auto d = parse_torus_dims("8x8");
  ASSERT_TRUE(d);
  EXPECT_THAT(*d, ElementsAre(8, 8));
  EXPECT_THAT(*parse_torus_dims("4x4x4"), ElementsAre(4, 4, 4));
  EXPECT_THAT(*parse_torus_dims("16"), ElementsAre(16));
  EXPECT_THAT(*parse_torus_dims("2,8"), ElementsAre(2, 8));
}

TEST(ParseTorusDims, RefusesMalformedText) {
  for (const char* bad : {"", "8y8", "8x", "x8", "8x0", "8x-2", "8xx8", "8x8 "}) {
    auto d = parse_torus_dims(bad);
    EXPECT_FALSE(d) << bad;
    if (!d) {
      EXPECT_THAT(d.error().hint(), HasSubstr("8x8")) << bad;
    }
  }
}

TEST(PortSchedule, KeepsOnlyThePortsBlocks) {
  auto a = make_ok("swing-bw", {.ranks = 16, .torus = {4, 4}, .ports = 4});
  auto s = port_schedule(*a, 0, 2);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->steps.size(), 8U);
  for (const Step& step : s->steps) {
    ASSERT_EQ(step.sends.size(), 1U);
    for (int32_t b : step.sends[0].blocks) EXPECT_EQ(b % 4, 2);
  }
}

TEST(PortSchedule, RefusesPortOrRankOutOfRange) {
  auto a = make_ok("swing-bw", {.ranks = 16, .torus = {4, 4}, .ports = 2});
  EXPECT_FALSE(port_schedule(*a, 0, 2));
  EXPECT_FALSE(port_schedule(*a, 0, -1));
  EXPECT_FALSE(port_schedule(*a, 16, 0));
}

TEST(StepCounts, RingTakesTwoTimesPMinusOne) {
  EXPECT_EQ(steps_of(*make_ok("ring", {.ranks = 7})), 12);
  EXPECT_EQ(steps_of(*make_ok("ring", {.collective = Collective::kAllgather, .ranks = 7})), 6);
}

TEST(StepCounts, RecursiveDoublingFoldsNonPowersOfTwo) {
  EXPECT_EQ(steps_of(*make_ok("recdoub", {.ranks = 8})), 3);
  EXPECT_EQ(steps_of(*make_ok("recdoub", {.ranks = 12})), 3 + 2);
  EXPECT_EQ(steps_of(*make_ok("rabenseifner", {.ranks = 8})), 6);
  EXPECT_EQ(steps_of(*make_ok("rabenseifner", {.ranks = 12})), 6 + 2);
}

TEST(StepCounts, SwingBandwidthTakesTwoLog2PAndBucketTwoSumOfRings) {
  // Research notes §1.8: on 8x8 Swing-B takes 12 steps, bucket 28.
  EXPECT_EQ(steps_of(*make_ok("swing-bw", {.ranks = 64, .torus = {8, 8}})), 12);
  EXPECT_EQ(steps_of(*make_ok("bucket", {.ranks = 64, .torus = {8, 8}})), 28);
  // 10x10: 4 + 4 steps per half (ceil(log2 10) per dimension), not ceil(log2 100) = 7.
  EXPECT_EQ(steps_of(*make_ok("swing-bw", {.ranks = 100, .torus = {10, 10}})), 16);
  EXPECT_EQ(steps_of(*make_ok("swing-lat", {.ranks = 64, .torus = {8, 8}})), 6);
  // 6x5 folds to 4x4: shrink 2, 4 steps, enlarge 2.
  EXPECT_EQ(steps_of(*make_ok("swing-lat", {.ranks = 30, .torus = {6, 5}})), 8);
}

TEST(StepCounts, AlltoallFamilies) {
  const AlgorithmParams p{.collective = Collective::kAlltoall, .ranks = 12, .ranks_per_node = 4};
  EXPECT_EQ(steps_of(*make_ok("pairwise", p)), 11);
  EXPECT_EQ(steps_of(*make_ok("bruck", p)), 4);
  EXPECT_EQ(steps_of(*make_ok("2dh", p)), 3 + 2);
  EXPECT_EQ(steps_of(*make_ok("pipe-a2a", p)), 8);  // (N-1) * G inter transfers beside G-1 intra ones
}

TEST(StepCounts, DoubleBinaryTreeClimbsAndDescends) {
  // 8 ranks: tree 0 -> 4 -> {2, 6} -> leaves: height 3 up, depth 3 down.
  EXPECT_EQ(steps_of(*make_ok("dbtree", {.ranks = 8})), 6);
  EXPECT_EQ(steps_of(*make_ok("dbtree", {.ranks = 1})), 0);
}

TEST(DoubleBinaryTree, SecondTreeMirrorsTheFirst) {
  auto a = make_ok("dbtree", {.ranks = 8});
  // Rank 1 is a leaf of tree 0 (parent 2) and, mirrored, the inner node 6 of tree 1 whose
  // parent is 4 -> mirrored 3, with children 5, 7 -> mirrored 2, 0.
  const RankSchedule s = a->schedule_for(1);
  std::vector<std::pair<int, int32_t>> up;  // (peer, block) sent in the reduce phase
  for (size_t i = 0; i < 3; ++i) {
    for (const Transfer& t : s.steps[i].sends) {
      for (int32_t b : t.blocks) up.emplace_back(t.peer, b);
    }
  }
  EXPECT_THAT(up, ElementsAre(std::pair<int, int32_t>{2, 0}, std::pair<int, int32_t>{3, 1}));
}

TEST(Hierarchical, InterNodeStepsConnectSameLocalIndex) {
  auto a = make_ok("hierarchical", {.ranks = 8, .ranks_per_node = 4});
  const RankSchedule s = a->schedule_for(1);
  ASSERT_EQ(s.steps.size(), 3U + 2U + 3U);
  EXPECT_EQ(s.steps[3].sends[0].peer, 5);
  EXPECT_EQ(s.steps[0].sends[0].peer, 2);
}

}  // namespace
}  // namespace mlsys::coll
