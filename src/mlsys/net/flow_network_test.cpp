#include "mlsys/net/flow_network.h"

#include <gtest/gtest.h>

#include <vector>

#include "mlsys/core/rng.h"
#include "mlsys/hw/topology_builders.h"
#include "mlsys/net/internal/test_topologies.h"
#include "mlsys/sim/engine.h"

namespace mlsys::net {
namespace {

using internal::make_fat_tree;
using internal::make_line;
using internal::make_torus;

FlowSpec spec(NodeId src, NodeId dst, Bytes size, Time start = Time::zero()) {
  FlowSpec s;
  s.src = src;
  s.dst = dst;
  s.size = size;
  s.start = start;
  return s;
}

std::vector<Time> simulate_or_die(const hw::Topology& t, const std::vector<FlowSpec>& flows,
                                  RecomputeMode mode = RecomputeMode::kLazy) {
  Result<std::vector<Time>> r = simulate_flows(t, flows, mode);
  EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
  return r ? *r : std::vector<Time>{};
}

TEST(FlowNetwork, OneFlowTakesLatencyPlusSizeOverBandwidth) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  // 3 us start + 1 us latency + 1 MB / 100 GB/s = 10 us.
  EXPECT_EQ(simulate_or_die(t, {spec(0, 1, MB(1), us(3))}), std::vector<Time>{nsec(14000)});
}

TEST(FlowNetwork, EqualFlowsShareALinkEvenly) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  sim::Engine engine;
  FlowNetwork net(engine, t);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(net.start_flow(spec(0, 1, MB(1))));
  ASSERT_TRUE(engine.run({.end = us(20)}));
  for (FlowId f = 0; f < 4; ++f) EXPECT_EQ(net.rate(f), GBps(25));
  ASSERT_TRUE(engine.run());
  // All finish together at L + S * n / B = 1 us + 40 us.
  for (FlowId f = 0; f < 4; ++f) EXPECT_EQ(net.finish_time(f), us(41));
}

TEST(FlowNetwork, ParkingLotGivesEveryFlowHalf) {
  const hw::Topology t = make_line(4, GBps(100), Time::zero());
  sim::Engine engine;
  FlowNetwork net(engine, t);
  ASSERT_TRUE(net.start_flow(spec(0, 3, MB(1))));  // long flow across all 3 links
  for (NodeId i = 0; i < 3; ++i) ASSERT_TRUE(net.start_flow(spec(i, i + 1, MB(1))));
  ASSERT_TRUE(engine.run({.end = us(5)}));
  for (FlowId f = 0; f < 4; ++f) EXPECT_EQ(net.rate(f), GBps(50));
  ASSERT_TRUE(engine.run());
  for (FlowId f = 0; f < 4; ++f) EXPECT_EQ(net.finish_time(f), us(20));
}

TEST(FlowNetwork, RateCapLimitsAFlowAndLeavesTheRestToOthers) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  FlowSpec capped = spec(0, 1, MB(1));
  capped.rate_cap = GBps(25);
  const std::vector<Time> finish = simulate_or_die(t, {capped, spec(0, 1, MB(1))});
  EXPECT_EQ(finish[0], us(41));              // 1 MB at 25 GB/s throughout
  EXPECT_EQ(finish[1], nsec(1000 + 13334));  // 1 MB at 75 GB/s = 13333.3 ns, rounded up
}

TEST(FlowNetwork, LateArrivalHalvesTheFirstFlowsRemainingRate) {
  const hw::Topology t = make_line(2, GBps(1), us(1));
  // A transfers alone from 1 us; B joins at 501 us, when A has 0.5 MB left: both at 0.5 GB/s.
  // A's 0.5 MB then takes 1000 us (done at 1501 us); B has 0.5 MB left, alone: 500 us more.
  const std::vector<Time> finish = simulate_or_die(t, {spec(0, 1, MB(1)), spec(0, 1, MB(1), us(500))});
  EXPECT_EQ(finish[0], us(1501));
  EXPECT_EQ(finish[1], us(2001));
}

TEST(FlowNetwork, OppositeDirectionsDoNotShare) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  EXPECT_EQ(simulate_or_die(t, {spec(0, 1, MB(1)), spec(1, 0, MB(1))}), (std::vector<Time>{us(11), us(11)}));
}

TEST(FlowNetwork, TorusNeighbourExchangeHasNoSharing) {
  const hw::Topology t = make_torus({4, 4}, GBps(50), us(1));
  std::vector<FlowSpec> flows;
  for (int r = 0; r < 16; ++r) {
    const int plus_x = r / 4 * 4 + (r % 4 + 1) % 4;
    flows.push_back(spec(t.endpoint(r), t.endpoint(plus_x), MB(5)));
  }
  const std::vector<Time> finish = simulate_or_die(t, flows);
  // 1 us + 5 MB / 50 GB/s, for everyone.
  EXPECT_EQ(finish, std::vector<Time>(16, us(101)));
}

TEST(FlowNetwork, StaggeredDisjointFlowsAreEachSolvedAlone) {
  const hw::Topology t = make_torus({4, 4}, GBps(50), us(1));
  sim::Engine engine;
  FlowNetwork net(engine, t);
  for (int r = 0; r < 16; ++r) {
    const int plus_x = r / 4 * 4 + (r % 4 + 1) % 4;
    ASSERT_TRUE(net.start_flow(spec(t.endpoint(r), t.endpoint(plus_x), MB(5), us(r))));
  }
  ASSERT_TRUE(engine.run());
  for (FlowId f = 0; f < 16; ++f) {
    EXPECT_EQ(net.route(f).hops(), 1);
    EXPECT_EQ(net.finish_time(f), us(101 + f));
  }
  EXPECT_EQ(net.counters().recomputations, 16);  // one per start; an end leaves nobody to re-solve
  EXPECT_EQ(net.counters().max_flows_touched, 1);
}

TEST(FlowNetwork, LazyRecomputeTouchesOnlyTheChangedComponent) {
  // Two disjoint links; flows arrive one by one, so each start or end changes one component.
  const hw::Topology t = make_line(3, GBps(100), us(1));
  std::vector<FlowSpec> flows = {spec(0, 1, MB(1)), spec(1, 2, MB(1), us(2)), spec(0, 1, MB(1), us(4))};
  FlowCounters lazy, full;
  for (RecomputeMode mode : {RecomputeMode::kLazy, RecomputeMode::kFull}) {
    sim::Engine engine;
    FlowNetwork net(engine, t, {.mode = mode});
    for (const FlowSpec& f : flows) ASSERT_TRUE(net.start_flow(f));
    ASSERT_TRUE(engine.run());
    (mode == RecomputeMode::kLazy ? lazy : full) = net.counters();
  }
  // Lazy skips the solve when a finished flow leaves nobody behind on its links.
  EXPECT_LT(lazy.recomputations, full.recomputations);
  EXPECT_LT(lazy.flows_touched, full.flows_touched);
  EXPECT_EQ(lazy.max_flows_touched, 2);
  EXPECT_EQ(full.max_flows_touched, 3);
}

TEST(FlowNetwork, ZeroSizeFlowFinishesAfterItsLatency) {
  const hw::Topology t = make_line(3, GBps(100), us(1));
  EXPECT_EQ(simulate_or_die(t, {spec(0, 2, B(0), us(1))}), std::vector<Time>{us(3)});
}

TEST(FlowNetwork, FlowToItselfFinishesAtItsStart) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  EXPECT_EQ(simulate_or_die(t, {spec(1, 1, MB(1), us(7))}), std::vector<Time>{us(7)});
}

TEST(FlowNetwork, FlowToItselfWithACapTakesSizeOverCap) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  FlowSpec s = spec(1, 1, MB(1));
  s.rate_cap = GBps(10);
  EXPECT_EQ(simulate_or_die(t, {s}), std::vector<Time>{us(100)});
}

// Starts the next flow of a chain when the previous one finishes, recording completions.
struct ChainObserver : FlowObserver {
  FlowNetwork* net = nullptr;
  int remaining_links = 0;
  std::vector<FlowId> done;
  std::vector<Time> at;
  void on_flow_done(FlowId flow, Time now) override {
    done.push_back(flow);
    at.push_back(now);
    if (remaining_links-- > 0) {
      EXPECT_TRUE(net->start_flow(spec(0, 1, MB(1), now)));
    }
  }
};

TEST(FlowNetwork, ObserverCanStartTheNextFlowOfAChain) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  sim::Engine engine;
  ChainObserver chain;
  FlowNetwork net(engine, t, {.observer = &chain});
  chain.net = &net;
  chain.remaining_links = 2;
  ASSERT_TRUE(net.start_flow(spec(0, 1, MB(1))));
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(chain.done, (std::vector<FlowId>{0, 1, 2}));
  EXPECT_EQ(chain.at, (std::vector<Time>{us(11), us(22), us(33)}));
  EXPECT_EQ(net.counters().flows_completed, 3);
}

TEST(FlowNetwork, SimultaneousCompletionsAreReportedByIncreasingId) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  sim::Engine engine;
  ChainObserver observer;
  FlowNetwork net(engine, t, {.observer = &observer});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.start_flow(spec(0, 1, MB(1))));
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(observer.done, (std::vector<FlowId>{0, 1, 2, 3, 4}));
}

TEST(FlowNetwork, StartInThePastIsAnError) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  sim::Engine engine;
  FlowNetwork net(engine, t);
  ASSERT_TRUE(net.start_flow(spec(0, 1, MB(1))));
  ASSERT_TRUE(engine.run());
  Result<FlowId> late = net.start_flow(spec(0, 1, MB(1), us(1)));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), ErrorCode::kInvalidInput);
}

TEST(FlowNetwork, NegativeSizeIsAnError) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  EXPECT_FALSE(simulate_flows(t, std::vector<FlowSpec>{spec(0, 1, B(-1))}));
}

TEST(FlowNetwork, NonPositiveRateCapIsAnError) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  FlowSpec s = spec(0, 1, MB(1));
  s.rate_cap = Bps(0);
  EXPECT_FALSE(simulate_flows(t, std::vector<FlowSpec>{s}));
}

TEST(FlowNetwork, UnreachableDestinationIsAnErrorNamingTheFlow) {
  hw::Topology t("one_way");
  t.add_endpoint(t.add_node(hw::NodeKind::kGpu, "a"));
  t.add_endpoint(t.add_node(hw::NodeKind::kGpu, "b"));
  t.add_link(0, 1, GBps(10), us(1), hw::LinkKind::kNetwork);
  Result<std::vector<Time>> r =
      simulate_flows(t, std::vector<FlowSpec>{spec(0, 1, MB(1)), spec(1, 0, MB(1))});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message().rfind("flow 1: ", 0), 0u) << r.error().message();
}

TEST(FlowNetwork, RouteThatIsNotAPathIsAnError) {
  const hw::Topology t = make_line(3, GBps(100), us(1));
  sim::Engine engine;
  FlowNetwork net(engine, t);
  Route broken;
  broken.src = 0;
  broken.dst = 2;
  broken.links = {0, 3};  // 0 -> 1, then 2 -> 1: not contiguous
  EXPECT_FALSE(net.start_flow(broken, MB(1), Time::zero()));
}

TEST(FlowNetwork, PrecomputedRouteGivesTheSameTimeAsASpec) {
  const hw::Topology t = make_line(3, GBps(100), us(1));
  sim::Engine engine;
  FlowNetwork net(engine, t);
  Result<const Route*> route = net.router().route(0, 2);
  ASSERT_TRUE(route);
  ASSERT_TRUE(net.start_flow(**route, MB(1), Time::zero()));
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(net.finish_time(0), us(12));
  EXPECT_EQ(net.state(0), FlowState::kDone);
}

// Random scenario: `count` flows between random endpoints with random sizes (1 KiB .. 4 MiB),
// starts on a 5 us grid (so many coincide), keys and occasional caps.
std::vector<FlowSpec> random_flows(const hw::Topology& t, RngStream& rng, int count) {
  std::vector<FlowSpec> flows;
  const int p = t.endpoint_count();
  for (int i = 0; i < count; ++i) {
    FlowSpec s =
        spec(t.endpoint(static_cast<int>(rng.uniform_int(0, p - 1))),
             t.endpoint(static_cast<int>(rng.uniform_int(0, p - 1))), B(rng.uniform_int(1024, 4 << 20)),
             us(5.0 * static_cast<double>(rng.uniform_int(0, 40))));
    s.flow_key = rng.next_u64();
    if (rng.uniform() < 0.1) s.rate_cap = GBps(rng.uniform(5, 40));
    flows.push_back(s);
  }
  return flows;
}

void expect_lazy_matches_full(const hw::Topology& t, uint64_t seed) {
  RngStream rng(seed, "net/lazy_vs_full");
  const std::vector<FlowSpec> flows = random_flows(t, rng, 400);
  const std::vector<Time> lazy = simulate_or_die(t, flows, RecomputeMode::kLazy);
  const std::vector<Time> full = simulate_or_die(t, flows, RecomputeMode::kFull);
  ASSERT_EQ(lazy.size(), flows.size());
  ASSERT_EQ(full.size(), flows.size());
  for (size_t i = 0; i < flows.size(); ++i) {
    EXPECT_NE(lazy[i], Time::max()) << "flow " << i << " never finished";
    EXPECT_EQ(lazy[i].ns(), full[i].ns()) << "seed " << seed << " flow " << i;
  }
}

TEST(FlowNetwork, LazyMatchesFullOnRandomTorusScenarios) {
  const hw::Topology t = make_torus({4, 4}, GBps(50), us(1));
  for (uint64_t seed = 0; seed < 4; ++seed) expect_lazy_matches_full(t, seed);
}

TEST(FlowNetwork, LazyMatchesFullOnRandomFatTreeScenarios) {
  const hw::Topology t = make_fat_tree(4, GBps(50), us(1));
  for (uint64_t seed = 10; seed < 14; ++seed) expect_lazy_matches_full(t, seed);
}

TEST(FlowNetwork, TorusNeighbourExchangeOnTheHwBuilderTorus) {
  Result<hw::Topology> t = hw::build_torus({4, 4}, {.bandwidth = GBps(50), .latency = us(1)});
  ASSERT_TRUE(t) << t.error().to_string();
  std::vector<FlowSpec> flows;
  for (int r = 0; r < 16; ++r) {
    flows.push_back(spec(t->endpoint(r), t->endpoint(r / 4 * 4 + (r % 4 + 1) % 4), MB(5)));
  }
  EXPECT_EQ(simulate_or_die(*t, flows), std::vector<Time>(16, us(101)));
}

TEST(FlowNetwork, LazyMatchesFullOnTheHwBuilderFatTree) {
  Result<hw::Topology> t = hw::build_fat_tree(4, {.bandwidth = GBps(50), .latency = us(1)});
  ASSERT_TRUE(t) << t.error().to_string();
  expect_lazy_matches_full(*t, 21);
}

// Chains a follow-up flow (same endpoints, half the size) onto every even flow's completion:
// exercises starts from inside the network's own wake-up.
struct FollowUpObserver : FlowObserver {
  FlowNetwork* net = nullptr;
  std::vector<FlowSpec> specs;
  void on_flow_done(FlowId flow, Time now) override {
    if (flow % 2 != 0 || flow >= static_cast<FlowId>(specs.size())) return;
    FlowSpec next = specs[static_cast<size_t>(flow)];
    next.start = now;
    next.size = next.size / 2;
    next.flow_key ^= 0x5bd1e995;
    EXPECT_TRUE(net->start_flow(next));
  }
};

TEST(FlowNetwork, LazyMatchesFullWithFlowsStartedByTheObserver) {
  const hw::Topology t = make_torus({4, 4}, GBps(50), us(1));
  RngStream rng(3, "net/lazy_vs_full_chained");
  const std::vector<FlowSpec> flows = random_flows(t, rng, 300);
  std::vector<std::vector<Time>> results;
  std::vector<FlowCounters> counters;
  for (RecomputeMode mode : {RecomputeMode::kLazy, RecomputeMode::kFull}) {
    sim::Engine engine;
    FollowUpObserver observer;
    observer.specs = flows;
    FlowNetwork net(engine, t, {.mode = mode, .observer = &observer});
    observer.net = &net;
    for (const FlowSpec& f : flows) ASSERT_TRUE(net.start_flow(f));
    ASSERT_TRUE(engine.run());
    std::vector<Time> finish;
    for (FlowId f = 0; f < net.flow_count(); ++f) finish.push_back(net.finish_time(f));
    results.push_back(finish);
    counters.push_back(net.counters());
  }
  EXPECT_EQ(results[0].size(), 450u);
  EXPECT_EQ(results[0], results[1]);
  EXPECT_LE(counters[0].recomputations, counters[1].recomputations);
  EXPECT_LT(counters[0].flows_touched, counters[1].flows_touched);
}

TEST(FlowNetwork, SameInputsGiveIdenticalOutputs) {
  const hw::Topology t = make_fat_tree(4, GBps(50), us(1));
  RngStream rng(99, "net/determinism");
  const std::vector<FlowSpec> flows = random_flows(t, rng, 300);
  std::vector<std::vector<Time>> results;
  std::vector<FlowCounters> counters;
  for (int run = 0; run < 2; ++run) {
    sim::Engine engine;
    FlowNetwork net(engine, t);
    for (const FlowSpec& f : flows) ASSERT_TRUE(net.start_flow(f));
    ASSERT_TRUE(engine.run());
    std::vector<Time> finish;
    for (FlowId f = 0; f < net.flow_count(); ++f) finish.push_back(net.finish_time(f));
    results.push_back(finish);
    counters.push_back(net.counters());
  }
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(counters[0].flows_touched, counters[1].flows_touched);
  EXPECT_EQ(counters[0].rate_changes, counters[1].rate_changes);
}

}  // namespace
}  // namespace mlsys::net
