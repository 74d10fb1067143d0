// Swing against the research notes (§1.1-1.4, test cases §1.8): peer tables, the matching and
// block-partition properties, and hop-weighted traffic, with recursive halving as the baseline.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/schedule_metrics.h"

namespace mlsys::coll {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

std::unique_ptr<Algorithm> make(std::string_view name, std::vector<int> torus, int ports = 1,
                                Collective c = Collective::kReduceScatter) {
  int ranks = 1;
  for (int d : torus) ranks *= d;
  auto a = make_algorithm(name, {.collective = c, .ranks = ranks, .torus = std::move(torus), .ports = ports});
  EXPECT_TRUE(a) << a.error().to_string();
  return a ? std::move(*a) : nullptr;
}

// The peer of each reduce-scatter step of `rank` on `port`.
std::vector<int> peers(const Algorithm& a, int rank, int port = 0) {
  auto s = port_schedule(a, rank, port);
  EXPECT_TRUE(s);
  std::vector<int> out;
  for (const Step& step : s->steps) {
    EXPECT_EQ(step.sends.size(), 1U);
    out.push_back(step.sends.empty() ? -1 : step.sends[0].peer);
  }
  return out;
}

std::vector<int32_t> owners(const Algorithm& a, const std::vector<int32_t>& blocks) {
  std::vector<int32_t> out;
  for (int32_t b : blocks) out.push_back(a.owner_of_block(b));
  return out;
}

TEST(SwingPeers, OneDimensionalEightRanks) {
  auto a = make("swing-bw", {8});
  EXPECT_THAT(peers(*a, 0), ElementsAre(1, 7, 3));
  EXPECT_THAT(peers(*a, 1), ElementsAre(0, 2, 6));
  EXPECT_THAT(peers(*a, 5), ElementsAre(4, 6, 2));
}

TEST(SwingPeers, FourByFourWithPortsAndMirroring) {
  auto a = make("swing-bw", {4, 4}, 4);
  EXPECT_THAT(peers(*a, 0, 0), ElementsAre(4, 1, 12, 3));
  EXPECT_THAT(peers(*a, 0, 1), ElementsAre(1, 4, 3, 12));
  EXPECT_THAT(peers(*a, 0, 2), ElementsAre(12, 3, 4, 1));
  EXPECT_THAT(peers(*a, 5, 0), ElementsAre(1, 4, 9, 6));
}

TEST(SwingPeers, EightByEight) {
  EXPECT_THAT(peers(*make("swing-bw", {8, 8}), 0), ElementsAre(8, 1, 56, 7, 24, 3));
}

TEST(SwingPeers, ThreeDimensionsAndRectangles) {
  EXPECT_THAT(peers(*make("swing-bw", {4, 4, 4}), 0), ElementsAre(16, 4, 1, 48, 12, 3));
  // 2x8: dimension 0 is used up after one step, the rest run on dimension 1.
  EXPECT_THAT(peers(*make("swing-bw", {2, 8}), 3), ElementsAre(11, 2, 4, 0));
}

TEST(SwingPeers, LatencyOptimalUsesTheSamePeers) {
  auto lat = make("swing-lat", {8, 8}, 1, Collective::kAllreduce);
  EXPECT_THAT(peers(*lat, 0), ElementsAre(8, 1, 56, 7, 24, 3));
  auto lat4 = make("swing-lat", {4, 4}, 4, Collective::kAllreduce);
  EXPECT_THAT(peers(*lat4, 0, 2), ElementsAre(12, 3, 4, 1));
}

TEST(SwingBlocks, EightRanksRankZeroSendsTheNotesBlocks) {
  auto a = make("swing-bw", {8});
  const RankSchedule s = a->schedule_for(0);
  ASSERT_EQ(s.steps.size(), 3U);
  EXPECT_THAT(owners(*a, s.steps[0].sends[0].blocks), ElementsAre(1, 2, 5, 6));
  EXPECT_THAT(owners(*a, s.steps[1].sends[0].blocks), ElementsAre(4, 7));
  EXPECT_THAT(owners(*a, s.steps[2].sends[0].blocks), ElementsAre(3));
}

TEST(SwingBlocks, EvenNonPowersOfTwoTakeThePathThatArrivesLater) {
  // Sizes 6 and 10: a few blocks have two paths; the reference code's rule (§1.3) picks the
  // one arriving later, e.g. on 6 ranks block 5 leaves rank 0 at step 0 (via 1, 4) rather than
  // at step 1 (straight to 5).
  auto six = make("swing-bw", {6});
  const RankSchedule s6 = six->schedule_for(0);
  ASSERT_EQ(s6.steps.size(), 3U);
  EXPECT_THAT(owners(*six, s6.steps[0].sends[0].blocks), ElementsAre(1, 4, 5));
  EXPECT_THAT(owners(*six, s6.steps[1].sends[0].blocks), ElementsAre(2));
  EXPECT_THAT(owners(*six, s6.steps[2].sends[0].blocks), ElementsAre(3));
  auto ten = make("swing-bw", {10});
  const RankSchedule s10 = ten->schedule_for(0);
  ASSERT_EQ(s10.steps.size(), 4U);
  EXPECT_THAT(owners(*ten, s10.steps[0].sends[0].blocks), ElementsAre(2, 3, 6, 7));
  EXPECT_THAT(owners(*ten, s10.steps[1].sends[0].blocks), ElementsAre(1, 4, 9));
  EXPECT_THAT(owners(*ten, s10.steps[2].sends[0].blocks), ElementsAre(8));
  EXPECT_THAT(owners(*ten, s10.steps[3].sends[0].blocks), ElementsAre(5));
}

TEST(SwingBlocks, AllgatherMirrorsTheReduceScatter) {
  auto a = make("swing-bw", {8}, 1, Collective::kAllreduce);
  const RankSchedule s = a->schedule_for(0);
  ASSERT_EQ(s.steps.size(), 6U);
  for (size_t t = 0; t < 3; ++t) {
    const Step& rs = s.steps[2 - t];
    const Step& ag = s.steps[3 + t];
    EXPECT_EQ(ag.sends[0].peer, rs.sends[0].peer);
    EXPECT_EQ(ag.sends[0].blocks, rs.recvs[0].blocks);
    EXPECT_EQ(ag.recvs[0].blocks, rs.sends[0].blocks);
    EXPECT_EQ(ag.recvs[0].kind, RecvKind::kCopy);
  }
}

TEST(SwingPeers, PairingIsAPerfectMatchingOnEvenSizes) {
  for (int p : {2, 4, 6, 8, 10, 12, 16, 24, 32, 48, 64, 128}) {
    auto a = make("swing-bw", {p});
    std::vector<std::vector<int>> all;
    for (int r = 0; r < p; ++r) all.push_back(peers(*a, r));
    for (int r = 0; r < p; ++r) {
      for (size_t s = 0; s < all[static_cast<size_t>(r)].size(); ++s) {
        const int q = all[static_cast<size_t>(r)][s];
        ASSERT_NE(q, r) << "p=" << p;
        ASSERT_EQ(all[static_cast<size_t>(q)][s], r) << "p=" << p << " r=" << r << " s=" << s;
      }
    }
  }
}

// At each reduce-scatter step the blocks a rank holds split into those it sends and those it
// keeps; what it receives is among what it keeps; in the end it holds exactly its own blocks.
void expect_partition(const Algorithm& a, bool exact_receive) {
  const int64_t n = a.block_count();
  for (int r = 0; r < a.ranks(); ++r) {
    std::set<int32_t> held;
    for (int32_t b = 0; b < n; ++b) held.insert(b);
    const RankSchedule s = a.schedule_for(r);
    for (size_t i = 0; i < s.steps.size(); ++i) {
      std::set<int32_t> sent;
      for (const Transfer& t : s.steps[i].sends) sent.insert(t.blocks.begin(), t.blocks.end());
      std::set<int32_t> kept;
      std::set_difference(held.begin(), held.end(), sent.begin(), sent.end(),
                          std::inserter(kept, kept.end()));
      ASSERT_EQ(kept.size() + sent.size(), held.size())
          << "rank " << r << " step " << i << " sends a block it lacks";
      std::set<int32_t> received;
      for (const Transfer& t : s.steps[i].recvs) received.insert(t.blocks.begin(), t.blocks.end());
      ASSERT_TRUE(std::includes(kept.begin(), kept.end(), received.begin(), received.end()))
          << "rank " << r << " step " << i << " receives a block it gave away";
      if (exact_receive) {
        ASSERT_EQ(received, kept) << "rank " << r << " step " << i;
      }
      held = kept;
    }
    std::set<int32_t> own;
    for (int32_t b = 0; b < n; ++b) {
      if (a.owner_of_block(b) == r) own.insert(b);
    }
    ASSERT_EQ(held, own) << "rank " << r;
  }
}

TEST(SwingBlocks, ReduceScatterPartitionsBlocksOnPowersOfTwo) {
  for (const auto& torus :
       std::vector<std::vector<int>>{{2}, {8}, {64}, {256}, {4, 4}, {8, 8}, {2, 8}, {4, 4, 4}}) {
    SCOPED_TRACE(::testing::PrintToString(torus));
    expect_partition(*make("swing-bw", torus), /*exact_receive=*/true);
  }
  expect_partition(*make("swing-bw", {4, 4}, 4), true);
}

TEST(SwingBlocks, ReduceScatterPartitionsBlocksOnEvenNonPowersOfTwo) {
  // 26 and 50 are sizes where the reference rule would break a block's tree (see butterfly.h).
  for (const auto& torus : std::vector<std::vector<int>>{
           {6}, {10}, {12}, {14}, {18}, {24}, {26}, {50}, {6, 4}, {10, 10}, {2, 6}, {26, 2}}) {
    SCOPED_TRACE(::testing::PrintToString(torus));
    expect_partition(*make("swing-bw", torus), /*exact_receive=*/false);
  }
}

TEST(RecursiveHalving, ReduceScatterPartitionsBlocks) {
  expect_partition(*make("rabenseifner", {16}), true);
  expect_partition(*make("rabenseifner", {8, 8}), true);
}

TEST(HopWeightedTraffic, SwingOneDimension) {
  EXPECT_NEAR(hop_weighted_traffic(*make("swing-bw", {8}), 0), 1.125, 1e-3);
  EXPECT_NEAR(hop_weighted_traffic(*make("swing-bw", {64}), 0), 2.109, 1e-3);
}

TEST(HopWeightedTraffic, SwingTwoDimensions) {
  EXPECT_NEAR(hop_weighted_traffic(*make("swing-bw", {8, 8}), 0), 1.078, 1e-3);
  EXPECT_NEAR(hop_weighted_traffic(*make("swing-bw", {64, 64}), 0), 1.184, 1e-3);
}

TEST(HopWeightedTraffic, SwingThreeDimensions) {
  EXPECT_NEAR(hop_weighted_traffic(*make("swing-bw", {8, 8, 8}), 0), 1.025, 1e-3);
  EXPECT_NEAR(hop_weighted_traffic(*make("swing-bw", {64, 64, 64}), 0), 1.037, 1e-3);
}

TEST(HopWeightedTraffic, EveryRankAndMirroredPortSeeTheSame) {
  auto a = make("swing-bw", {8, 8}, 4);
  for (int r : {0, 9, 37, 63}) EXPECT_NEAR(hop_weighted_traffic(*a, r), 1.078, 1e-3) << r;
}

TEST(HopWeightedTraffic, RecursiveHalvingWithRotation) {
  EXPECT_NEAR(hop_weighted_traffic(*make("rabenseifner", {64, 64}), 0), 1.477, 1e-3);
  // Without a torus the distances are 2^s on a ring: log2(p) / 2.
  EXPECT_NEAR(hop_weighted_traffic(*make("rabenseifner", {8}), 0), 1.5, 1e-9);
  EXPECT_NEAR(hop_weighted_traffic(*make("rabenseifner", {64}), 0), 3.0, 1e-9);
}

TEST(HopWeightedTraffic, RingSendsItsShareToNeighbours) {
  EXPECT_NEAR(hop_weighted_traffic(*make("ring", {8}), 0), 7.0 / 8.0, 1e-12);
}

TEST(TorusHops, WrapsAroundEachDimension) {
  const std::vector<int> dims = {8, 8};
  EXPECT_EQ(torus_hops(dims, 0, 56), 1);
  EXPECT_EQ(torus_hops(dims, 0, 24), 3);
  EXPECT_EQ(torus_hops(dims, 0, 36), 8);
  EXPECT_EQ(torus_hops(std::vector<int>{5}, 0, 3), 2);
}

TEST(SwingBlocks, SixtyFourBySixtyFourEveryRankIsCheap) {
  // Every rank's schedule on 64x64 (what an executor generates): sums of sent blocks match.
  auto a = make("swing-bw", {64, 64}, 1, Collective::kAllreduce);
  int64_t total = 0;
  for (int r = 0; r < a->ranks(); ++r) {
    const RankSchedule s = a->schedule_for(r);
    for (const Step& step : s.steps) {
      for (const Transfer& t : step.sends) total += static_cast<int64_t>(t.blocks.size());
    }
  }
  EXPECT_EQ(total, int64_t{4096} * 2 * 4095);
}

}  // namespace
}  // namespace mlsys::coll
