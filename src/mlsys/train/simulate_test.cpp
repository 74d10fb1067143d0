#include "mlsys/train/simulate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "mlsys/core/csv_reader.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/train/comm.h"
#include "mlsys/train/test_models.h"

namespace mlsys::train {
namespace {

Cluster a100(int64_t gpus) { return *make_cluster(*hw::find_gpu("a100"), gpus); }

Plan uniform_plan() {
  Plan p;
  p.tp = 8;
  p.pp = 4;
  p.dp = 1;
  p.global_batch = 32;
  p.recompute = Recompute::kSelective;
  p.overlap_dp = false;
  return p;
}

TEST(Simulate, UniformStagesAgreeWithClosedForm) {
  const model::ModelSpec m = testing::gpt_shape(8192, 48, 64);
  for (const char* sched : {"1f1b", "gpipe", "interleaved:2"}) {
    Plan p = uniform_plan();
    auto s = parse_schedule(sched);
    p.schedule = s->first;
    p.virtual_stages = s->second;
    auto sim = simulate_iteration(m, a100(32), p);
    auto est = estimate_iteration(m, a100(32), p);
    ASSERT_TRUE(sim.ok() && est.ok());
    EXPECT_NEAR(sim->iteration_time / est->iteration_time, 1.0, 0.01) << sched;
  }
}

TEST(Simulate, OneStageIsMicroBatchesTimesStageTime) {
  const model::ModelSpec m = testing::gpt_shape(2048, 8, 16);
  Plan p;
  p.tp = 8;
  p.global_batch = 4;
  p.overlap_dp = false;
  auto sim = simulate_iteration(m, a100(8), p);
  ASSERT_TRUE(sim.ok());
  const Time expect = sim->stage_time[0] * 4 + sim->breakdown.optimizer + sim->breakdown.dp_exposed;
  EXPECT_EQ(sim->iteration_time, expect);
  EXPECT_EQ(sim->breakdown.bubble, Time::zero());
}

TEST(Simulate, InterleavingShrinksTheBubble) {
  const model::ModelSpec m = testing::gpt_shape(8192, 48, 64);
  Plan p = uniform_plan();
  p.pp = 8;
  p.dp = 1;
  p.global_batch = 16;
  auto plain = simulate_iteration(m, a100(64), p);
  p.schedule = Schedule::kInterleaved;
  p.virtual_stages = 3;
  auto inter = simulate_iteration(m, a100(64), p);
  ASSERT_TRUE(plain.ok() && inter.ok());
  EXPECT_LT(inter->iteration_time, plain->iteration_time);
  EXPECT_LT(inter->breakdown.bubble, plain->breakdown.bubble);
}

TEST(Simulate, HeterogeneousStagesFollowTheSlowest) {
  const model::ModelSpec m = testing::gpt_shape(4096, 16, 32);
  Plan p;
  p.tp = 8;
  p.pp = 2;
  p.global_batch = 16;
  auto even = simulate_iteration(m, a100(16), p);
  p.layers_per_stage = {4, 12};
  auto skew = simulate_iteration(m, a100(16), p);
  ASSERT_TRUE(even.ok() && skew.ok());
  EXPECT_GT(skew->iteration_time, even->iteration_time);
  EXPECT_GT(skew->stage_time[1], skew->stage_time[0]);
}

TEST(Simulate, RejectsAnInvalidPlan) {
  const model::ModelSpec m = testing::gpt_shape(4096, 16, 32);
  Plan p;
  p.tp = 3;
  p.dp = 1;
  auto sim = simulate_iteration(m, a100(3), p);
  EXPECT_FALSE(sim.ok());
}

TEST(Simulate, ReportsAPlanThatDoesNotFit) {
  const model::ModelSpec m = *model::find_model("gpt3-175b");
  Plan p;
  p.tp = 8;
  p.pp = 1;
  p.dp = 1;
  p.global_batch = 8;
  auto sim = simulate_iteration(m, a100(8), p);
  ASSERT_TRUE(sim.ok());
  EXPECT_FALSE(sim->fits);
}

TEST(Simulate, TraceHasOneTrackPerStageAndStream) {
  const model::ModelSpec m = testing::gpt_shape(2048, 8, 16);
  Plan p;
  p.tp = 2;
  p.pp = 2;
  p.dp = 2;
  p.global_batch = 8;
  ChromeTrace trace;
  auto sim = simulate_iteration(m, a100(8), p, {.trace = &trace});
  ASSERT_TRUE(sim.ok());
  // 2 stages x 4 micro-batches x (F + B) compute spans plus sends, reduces and optimizer.
  EXPECT_GT(trace.event_count(), 16u);
}

TEST(Comm, CrossbarRingMatchesClosedForm) {
  const Cluster c = a100(1024);
  CommModel comm(c);
  const Bytes bytes = MiB(256);
  const double bw = c.inter_node.base() * c.inter_efficiency;
  for (int64_t n : {4, 64, 256}) {
    const Time t = comm.collective(coll::Collective::kAllreduce, {.ranks = n, .per_node = 1}, bytes);
    const double expect = c.inter_latency.seconds() + 2.0 * (n - 1) / n * static_cast<double>(bytes.count()) / bw;
    EXPECT_NEAR(t.seconds(), expect, 1e-6 * expect) << n;
  }
}

}  // namespace
}  // namespace mlsys::train
