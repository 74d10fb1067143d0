// The analytic alpha-beta-gamma model with link congestion, and the step patterns it runs on.

#include "mlsys/coll/cost_model.h"

#include <gtest/gtest.h>

#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/internal/timing_test_algorithms.h"
#include "mlsys/hw/topology_builders.h"

namespace mlsys::coll {
namespace {

using testing_algos::exchange_once;
using testing_algos::MisalignedPair;
using testing_algos::RecursiveDoublingTest;
using testing_algos::RingAllreduceTest;

hw::Topology ring_topology(int p, Bandwidth bw, Time lat) {
  auto t = hw::build_torus({p}, {.bandwidth = bw, .latency = lat});
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

TEST(StepPatterns, RingFoldsIntoTwoPatterns) {
  RingAllreduceTest ring(16);
  auto p = StepPatterns::compile(ring);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->steps(), 30);
  ASSERT_EQ(p->patterns().size(), 2u);  // reduce-scatter (kReduce) and allgather (kCopy)
  EXPECT_EQ(p->multiplicity(0), 15);
  EXPECT_EQ(p->multiplicity(1), 15);
  EXPECT_EQ(p->messages(), 16 * 30);
  EXPECT_EQ(p->patterns()[0].max_reduce_blocks, 1);
  EXPECT_EQ(p->patterns()[1].max_reduce_blocks, 0);
}

TEST(StepPatterns, DistinctStepsStayDistinct) {
  RecursiveDoublingTest rd(8);
  auto p = StepPatterns::compile(rd);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->steps(), 3);
  EXPECT_EQ(p->patterns().size(), 3u);
  EXPECT_EQ(p->runs().size(), 3u);
}

TEST(StepPatterns, MisalignedScheduleIsUnsupported) {
  MisalignedPair bad;
  auto p = StepPatterns::compile(bad);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(p.error().message().find("not step-aligned"), std::string::npos);
}

// Ring allreduce on a P-node ring: 2(P-1) steps, each one hop (alpha = link latency) carrying one
// block of n/P bytes on its own link: 2(P-1) alpha + 2(P-1)/P n/B, to the nanosecond.
TEST(AnalyticModel, RingMatchesClosedFormExactly) {
  struct Case {
    int p;
    Time lat;
    Bandwidth bw;
    int64_t block;  // bytes per block; n = p * block
  };
  for (const Case& c : {Case{8, us(1), Gbps(400), 50'000}, Case{16, nsec(500), GBps(25), 2'500},
                        Case{5, us(2), GBps(100), 1'000'000}}) {
    RingAllreduceTest ring(c.p);
    const hw::Topology topo = ring_topology(c.p, c.bw, c.lat);
    const Bytes n = B(c.block * c.p);
    auto t = analytic_time(ring, n, 4, topo, {});
    ASSERT_TRUE(t.ok()) << t.error().to_string();
    const Time expected =
        c.lat * (2 * (c.p - 1)) + from_seconds(2.0 * (c.p - 1) / c.p * static_cast<double>(n.count()) / c.bw.base());
    EXPECT_EQ(t->time, expected) << "P=" << c.p;
    EXPECT_EQ(t->latency_term, c.lat * (2 * (c.p - 1)));
    EXPECT_EQ(t->steps, 2 * (c.p - 1));
  }
}

// Hides the registry ring's translation invariance, so compile() generates every rank.
class RingWithoutShortcut final : public Algorithm {
 public:
  explicit RingWithoutShortcut(std::unique_ptr<Algorithm> inner) : Algorithm(inner->params()), inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }
  int64_t block_count() const override { return inner_->block_count(); }
  int owner_of_block(int64_t b) const override { return inner_->owner_of_block(b); }
  RankSchedule schedule_for(int rank) const override { return inner_->schedule_for(rank); }

 private:
  std::unique_ptr<Algorithm> inner_;
};

TEST(StepPatterns, TranslationInvariantRingMatchesEveryRankGenerated) {
  for (int p : {2, 5, 8}) {
    auto ring = make_algorithm("ring", {.collective = Collective::kAllreduce, .ranks = p});
    ASSERT_TRUE(ring.ok());
    ASSERT_TRUE((*ring)->rank_translation_invariant());
    // The claim itself: rank r's schedule is rank 0's with peers shifted by r.
    const RankSchedule zero = (*ring)->schedule_for(0);
    for (int r = 1; r < p; ++r) {
      const RankSchedule s = (*ring)->schedule_for(r);
      ASSERT_EQ(s.steps.size(), zero.steps.size());
      for (size_t i = 0; i < s.steps.size(); ++i) {
        ASSERT_EQ(s.steps[i].sends.size(), zero.steps[i].sends.size());
        for (size_t j = 0; j < s.steps[i].sends.size(); ++j) {
          EXPECT_EQ(s.steps[i].sends[j].peer, (zero.steps[i].sends[j].peer + r) % p);
          EXPECT_EQ(s.steps[i].sends[j].blocks.size(), zero.steps[i].sends[j].blocks.size());
        }
      }
    }
    const hw::Topology topo = ring_topology(p, Gbps(400), us(1));
    RingWithoutShortcut slow(std::move(*make_algorithm("ring", {.collective = Collective::kAllreduce, .ranks = p})));
    for (Bytes n : {B(4 * p), KiB(64) * p}) {
      auto fast_t = analytic_time(**ring, n, 4, topo, {});
      auto slow_t = analytic_time(slow, n, 4, topo, {});
      ASSERT_TRUE(fast_t.ok() && slow_t.ok());
      EXPECT_EQ(fast_t->time, slow_t->time) << "P=" << p;
    }
  }
}

TEST(AnalyticModel, SoftwareOverheadAddsToAlphaPerStep) {
  RingAllreduceTest ring(8);
  const hw::Topology topo = ring_topology(8, Gbps(400), us(1));
  auto base = analytic_time(ring, B(400'000), 4, topo, {});
  auto slow = analytic_time(ring, B(400'000), 4, topo, {.software_overhead = nsec(250)});
  ASSERT_TRUE(base.ok() && slow.ok());
  EXPECT_EQ(slow->time - base->time, nsec(250) * 14);
}

// gamma: the 7 reduce-scatter steps each reduce one block of n/8 bytes: (P-1)/P n / rate.
TEST(AnalyticModel, ReduceBandwidthChargesReduceScatterSteps) {
  RingAllreduceTest ring(8);
  const hw::Topology topo = ring_topology(8, Gbps(400), us(1));
  auto t = analytic_time(ring, B(400'000), 4, topo, {.reduce_bandwidth = GBps(10)});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->reduce_term, nsec(7 * 5'000));  // 50 KB / 10 GB/s = 5 us per step
  EXPECT_EQ(t->time, nsec(28'000 + 35'000));
}

// Recursive doubling on an 8-node ring, whole vector n every step. Step s pairs r with r^2^s at
// distance 2^s; routes take the shorter way, the positive direction on a tie.
//   s=0: distance 1, each directed link carries 1 message          -> L + n/B
//   s=1: distance 2, ranks 0,1 both cross link 1->2 (and so on)    -> 2L + 2n/B
//   s=2: distance 4 (a tie), all 8 messages go the + way, 4 hops,
//        so every + link carries 4 of them                         -> 4L + 4n/B
TEST(AnalyticModel, RecursiveDoublingCongestionOnRingByHand) {
  RecursiveDoublingTest rd(8);
  const hw::Topology topo = ring_topology(8, GBps(50), us(1));
  const Bytes n = B(1'000'000);  // 20 us per link at 50 GB/s
  auto t = analytic_time(rd, n, 4, topo, {});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->latency_term, us(7));
  EXPECT_EQ(t->bandwidth_term, us(7 * 20));
  EXPECT_EQ(t->time, us(7 + 140));
}

// A step's messages with different hop counts: the critical message is the one with the
// largest alpha + beta, not the sum of the largest of each.
TEST(AnalyticModel, StepTimeIsMaxOverMessages) {
  // Rank 0 sends 1 block to rank 1 (1 hop); rank 2 sends 1 block to rank 5 (3 hops) on a 8-ring.
  auto ex = exchange_once(8, {{0, 1, 1}, {2, 5, 1}}, 2);
  const hw::Topology topo = ring_topology(8, GBps(1), us(1));
  auto small = analytic_time(ex, B(2'000), 1, topo, {});  // 1 KB per block: 1 us
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->time, us(3 + 1));
  EXPECT_EQ(small->latency_term, us(3));
}

TEST(AnalyticModel, LinkSharedByTwoMessagesDoublesTheirBandwidthTerm) {
  // 0->2 and 1->3 on an 8-ring both cross link 1->2.
  auto ex = exchange_once(8, {{0, 2, 1}, {1, 3, 1}}, 2);
  const hw::Topology topo = ring_topology(8, GBps(1), nsec(0));
  auto t = analytic_time(ex, B(2'000), 1, topo, {});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->time, us(2));
}

TEST(AnalyticModel, ZeroBytesCostsOnlyLatency) {
  RingAllreduceTest ring(8);
  const hw::Topology topo = ring_topology(8, Gbps(400), us(1));
  auto t = analytic_time(ring, B(0), 4, topo, {});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->time, us(14));
}

TEST(AnalyticModel, OneCompileServesManySizes) {
  RingAllreduceTest ring(8);
  const hw::Topology topo = ring_topology(8, Gbps(400), us(1));
  auto patterns = StepPatterns::compile(ring);
  ASSERT_TRUE(patterns.ok());
  auto model = AnalyticModel::build(*patterns, topo);
  ASSERT_TRUE(model.ok());
  for (int64_t n : {800, 8'000, 80'000, 800'000}) {
    auto direct = analytic_time(ring, B(n), 4, topo, {});
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(model->time(B(n)).time, direct->time);
  }
}

TEST(AnalyticModel, RanksMustMatchEndpoints) {
  RingAllreduceTest ring(8);
  const hw::Topology topo = ring_topology(16, Gbps(400), us(1));
  auto t = analytic_time(ring, B(800), 4, topo, {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(t.error().message().find("16 endpoints"), std::string::npos);
}

TEST(AnalyticModel, VectorMustBeWholeElements) {
  RingAllreduceTest ring(8);
  const hw::Topology topo = ring_topology(8, Gbps(400), us(1));
  EXPECT_FALSE(analytic_time(ring, B(6), 4, topo, {}).ok());
  EXPECT_FALSE(analytic_time(ring, B(-4), 4, topo, {}).ok());
  EXPECT_FALSE(analytic_time(ring, B(8), 0, topo, {}).ok());
}

TEST(AnalyticModel, BadPeerIsAnInternalError) {
  auto ex = exchange_once(4, {{0, 7, 1}}, 1);
  const hw::Topology topo = ring_topology(4, Gbps(400), us(1));
  auto t = analytic_time(ex, B(8), 4, topo, {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::kInternal);
}

TEST(AnalyticModel, FatTreeRoutesThroughSwitches) {
  // k=4 fat-tree: hosts 0 and 1 share an edge switch (2 hops), host 0 and host 15 are in
  // different pods (6 hops).
  auto topo = hw::build_fat_tree(4, {.bandwidth = GBps(1), .latency = us(1)});
  ASSERT_TRUE(topo.ok());
  auto near = exchange_once(16, {{0, 1, 1}}, 1);
  auto far = exchange_once(16, {{0, 15, 1}}, 1);
  auto a = analytic_time(near, B(1'000), 1, *topo, {});
  auto b = analytic_time(far, B(1'000), 1, *topo, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->time, us(2 + 1));
  EXPECT_EQ(b->time, us(6 + 1));
}

}  // namespace
}  // namespace mlsys::coll
