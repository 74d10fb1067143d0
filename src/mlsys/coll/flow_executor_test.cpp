// The flow-level executor: event-driven (exact) and step-synchronous (fast) paths, against
// each other and against the analytic model on cases computable by hand.

#include "mlsys/coll/flow_executor.h"

#include <gtest/gtest.h>

#include "mlsys/coll/cost_model.h"
#include "mlsys/coll/internal/timing_test_algorithms.h"
#include "mlsys/hw/topology_builders.h"

namespace mlsys::coll {
namespace {

using testing_algos::CyclicWait;
using testing_algos::exchange_once;
using testing_algos::ExchangeSteps;
using testing_algos::MisalignedPair;
using testing_algos::RecursiveDoublingTest;
using testing_algos::RingAllreduceTest;
using testing_algos::UnreceivedSend;

hw::Topology torus(std::vector<int> dims, Bandwidth bw, Time lat) {
  auto t = hw::build_torus(dims, {.bandwidth = bw, .latency = lat});
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

Time flow(const Algorithm& a, Bytes n, const hw::Topology& topo, FlowMode mode, CostParams cost = {}) {
  auto t = flow_time(a, n, 4, topo, {.mode = mode, .cost = cost});
  EXPECT_TRUE(t.ok()) << t.error().to_string();
  return t.ok() ? t->time : Time::max();
}

Time analytic(const Algorithm& a, Bytes n, const hw::Topology& topo, CostParams cost = {}) {
  auto t = analytic_time(a, n, 4, topo, cost);
  EXPECT_TRUE(t.ok()) << t.error().to_string();
  return t.ok() ? t->time : Time::max();
}

// Each ring step: one message per directed link, L + S/B for every flow.
TEST(FlowModel, RingOnRingMatchesClosedFormAndAnalytic) {
  RingAllreduceTest ring(8);
  const hw::Topology topo = torus({8}, Gbps(400), us(1));
  const Bytes n = B(400'000);
  EXPECT_EQ(flow(ring, n, topo, FlowMode::kEventDriven), nsec(28'000));
  EXPECT_EQ(flow(ring, n, topo, FlowMode::kStepSynchronous), nsec(28'000));
  EXPECT_EQ(analytic(ring, n, topo), nsec(28'000));
}

TEST(FlowModel, SingleStepExchangeWithoutSharing) {
  // 0<->1 and 4<->6 (2 hops) on an 8-ring, 3 of 4 blocks each: 3 KB at 1 GB/s = 3 us.
  auto ex = exchange_once(8, {{0, 1, 3}, {1, 0, 3}, {4, 6, 3}, {6, 4, 3}}, 4);
  const hw::Topology topo = torus({8}, GBps(1), us(1));
  const Bytes n = B(4'000);
  EXPECT_EQ(flow(ex, n, topo, FlowMode::kEventDriven), us(2 + 3));
  EXPECT_EQ(flow(ex, n, topo, FlowMode::kStepSynchronous), us(2 + 3));
  EXPECT_EQ(analytic(ex, n, topo), us(2 + 3));
}

TEST(FlowModel, EqualMessagesSharingALinkMatchAnalytic) {
  // 0->2 and 1->3 both cross link 1->2: each gets half of it.
  auto ex = exchange_once(8, {{0, 2, 1}, {1, 3, 1}}, 2);
  const hw::Topology topo = torus({8}, GBps(1), nsec(0));
  EXPECT_EQ(flow(ex, B(8'000), topo, FlowMode::kEventDriven), us(8));
  EXPECT_EQ(analytic(ex, B(8'000), topo), us(8));
}

TEST(FlowModel, RecursiveDoublingOnRingAgreesWithAnalytic) {
  // Every message of a step has the same route length and the same congestion (see the
  // analytic test): L + n/B, 2L + 2n/B, 4L + 4n/B.
  RecursiveDoublingTest rd(8);
  const hw::Topology topo = torus({8}, GBps(50), us(1));
  const Bytes n = B(1'000'000);
  EXPECT_EQ(flow(rd, n, topo, FlowMode::kEventDriven), us(147));
  EXPECT_EQ(analytic(rd, n, topo), us(147));
}

TEST(FlowModel, ReduceBandwidthMatchesAnalytic) {
  RingAllreduceTest ring(8);
  const hw::Topology topo = torus({8}, Gbps(400), us(1));
  const CostParams cost{.software_overhead = nsec(100), .reduce_bandwidth = GBps(10)};
  const Time a = analytic(ring, B(400'000), topo, cost);
  EXPECT_EQ(a, nsec(28'000 + 14 * 100 + 7 * 5'000));
  EXPECT_EQ(flow(ring, B(400'000), topo, FlowMode::kEventDriven, cost), a);
  EXPECT_EQ(flow(ring, B(400'000), topo, FlowMode::kStepSynchronous, cost), a);
}

// Differential test of the fast path: symmetric schedules on symmetric tori, evenly divisible
// blocks, every rank finishing every step together.
TEST(FlowModel, StepSynchronousMatchesEventDrivenOnSymmetricSchedules) {
  const hw::Topology t44 = torus({4, 4}, Gbps(400), us(1));
  const hw::Topology t16 = torus({16}, Gbps(200), nsec(700));
  RecursiveDoublingTest rd(16);
  RingAllreduceTest ring(16);
  for (int64_t n : {64, 65'536, 16 << 20}) {
    EXPECT_EQ(flow(rd, B(n), t44, FlowMode::kStepSynchronous), flow(rd, B(n), t44, FlowMode::kEventDriven)) << n;
    EXPECT_EQ(flow(ring, B(n), t16, FlowMode::kStepSynchronous), flow(ring, B(n), t16, FlowMode::kEventDriven)) << n;
  }
}

// Where ranks finish a step at different times, the event-driven path lets the early ones run
// ahead: pair (0,1) has a long step then a short one, pair (2,3) the reverse. With a barrier
// both steps last L + 3x; per rank each pair needs only 2L + 4x.
TEST(FlowModel, EventDrivenLetsRanksRunAheadOfTheBarrier) {
  ExchangeSteps ex(4, {{{0, 1, 3}, {2, 3, 1}}, {{0, 1, 1}, {2, 3, 3}}}, 4);
  const hw::Topology topo = torus({4}, GBps(1), us(1));
  const Bytes n = B(4'000);  // 1 us per block
  EXPECT_EQ(flow(ex, n, topo, FlowMode::kEventDriven), us(2 + 4));
  EXPECT_EQ(flow(ex, n, topo, FlowMode::kStepSynchronous), us(2 + 6));
  EXPECT_EQ(analytic(ex, n, topo), us(2 + 6));
}

TEST(FlowModel, EventDrivenUsesWholeElementBlocks) {
  // 5 one-byte elements in 4 blocks: block 0 has 2 bytes. One message carrying block 0.
  auto ex = exchange_once(2, {{0, 1, 1}}, 4);
  const hw::Topology topo = torus({2}, GBps(1), nsec(10));
  auto t = flow_time(ex, B(5), 1, topo, {.mode = FlowMode::kEventDriven});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->time, nsec(10 + 2));
}

TEST(FlowModel, AutoPicksPathBySize) {
  RingAllreduceTest ring(8);
  const hw::Topology topo = torus({8}, Gbps(400), us(1));
  auto small = FlowModel::build(ring, topo, {.mode = FlowMode::kAuto, .event_driven_limit = 8 * 14});
  auto large = FlowModel::build(ring, topo, {.mode = FlowMode::kAuto, .event_driven_limit = 8 * 14 - 1});
  ASSERT_TRUE(small.ok() && large.ok());
  EXPECT_EQ(small->mode(), FlowMode::kEventDriven);
  EXPECT_EQ(large->mode(), FlowMode::kStepSynchronous);
  auto a = small->time(B(400'000), 4);
  auto b = large->time(B(400'000), 4);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->model, "flow-event");
  EXPECT_EQ(b->model, "flow-sync");
  EXPECT_EQ(b->distinct_steps, 2);
}

TEST(FlowModel, MisalignedScheduleRunsEventDriven) {
  MisalignedPair pair;
  const hw::Topology topo = torus({2}, GBps(1), us(1));
  auto model = FlowModel::build(pair, topo, {.mode = FlowMode::kAuto, .event_driven_limit = 0});
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->mode(), FlowMode::kEventDriven);
  auto t = model->time(B(1'000), 1);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->time, us(2));
  auto sync = FlowModel::build(pair, topo, {.mode = FlowMode::kStepSynchronous});
  ASSERT_FALSE(sync.ok());
  EXPECT_EQ(sync.error().code(), ErrorCode::kUnsupported);
}

TEST(FlowModel, DeadlockNamesTheStuckRank) {
  CyclicWait cyc;
  const hw::Topology topo = torus({2}, GBps(1), us(1));
  auto t = flow_time(cyc, B(8), 4, topo, {.mode = FlowMode::kEventDriven});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::kInternal);
  EXPECT_NE(t.error().message().find("deadlocks: rank 0 waits in step 0"), std::string::npos);
}

TEST(FlowModel, UnreceivedSendIsAnInternalError) {
  UnreceivedSend bad;
  const hw::Topology topo = torus({2}, GBps(1), us(1));
  auto model = FlowModel::build(bad, topo, {.mode = FlowMode::kEventDriven});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.error().code(), ErrorCode::kInternal);
  EXPECT_NE(model.error().message().find("rank 0 sends 1 messages to rank 1, which receives 0"), std::string::npos);
}

TEST(FlowModel, SameInputsGiveSameTimes) {
  const hw::Topology topo = torus({4, 4}, Gbps(400), us(1));
  RingAllreduceTest ring(16);
  for (FlowMode mode : {FlowMode::kEventDriven, FlowMode::kStepSynchronous}) {
    EXPECT_EQ(flow(ring, B(123'456), topo, mode), flow(ring, B(123'456), topo, mode));
  }
}

TEST(FlowModel, BadSizesAreErrors) {
  RingAllreduceTest ring(8);
  const hw::Topology topo = torus({8}, Gbps(400), us(1));
  auto model = FlowModel::build(ring, topo);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->time(B(10), 4).error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(model->time(B(-8), 4).error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(model->time(B(8), 0).error().code(), ErrorCode::kInvalidInput);
  const hw::Topology other = torus({4}, Gbps(400), us(1));
  EXPECT_EQ(FlowModel::build(ring, other).error().code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace mlsys::coll
