// FlowNetwork cost, lazy (component-only, fast solver) against full (every flow, oracle) rate
// recomputation, on a 16x16 torus (400 Gbps, 1 us links).
//
// Traffic: `flows` flows of 64 KiB .. 4 MiB starting uniformly over 1 ms, either "local" (to a
// random rank at most 2 hops away in each dimension: small sharing components) or "random"
// (uniform pairs: the flows in flight form a few large components). Counters: flows simulated
// per second, recomputations and flows re-solved per recomputation -- the laziness.
//
//   flow_bench --benchmark_filter=local
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "mlsys/core/rng.h"
#include "mlsys/core/units.h"
#include "mlsys/net/flow_network.h"
#include "mlsys/net/internal/test_topologies.h"
#include "mlsys/sim/engine.h"

namespace {

using mlsys::net::FlowNetwork;
using mlsys::net::FlowSpec;
using mlsys::net::RecomputeMode;

const mlsys::hw::Topology& torus() {
  static const mlsys::hw::Topology t =
      mlsys::net::internal::make_torus({16, 16}, mlsys::Gbps(400), mlsys::us(1));
  return t;
}

std::vector<FlowSpec> make_flows(int count, bool local) {
  const mlsys::hw::Topology& t = torus();
  mlsys::RngStream rng(42, local ? "net/bench/local" : "net/bench/random");
  std::vector<FlowSpec> flows;
  for (int i = 0; i < count; ++i) {
    const int src = static_cast<int>(rng.uniform_int(0, 255));
    int dst = static_cast<int>(rng.uniform_int(0, 255));
    if (local) {
      const int row = (src / 16 + static_cast<int>(rng.uniform_int(-2, 2)) + 16) % 16;
      const int col = (src % 16 + static_cast<int>(rng.uniform_int(-2, 2)) + 16) % 16;
      dst = row * 16 + col;
    }
    FlowSpec s;
    s.src = t.endpoint(src);
    s.dst = t.endpoint(dst);
    s.size = mlsys::B(rng.uniform_int(64 << 10, 4 << 20));
    s.start = mlsys::nsec(rng.uniform_int(0, 1000000));
    flows.push_back(s);
  }
  return flows;
}

void run(benchmark::State& state, RecomputeMode mode, bool local) {
  const auto count = static_cast<int>(state.range(0));
  const std::vector<FlowSpec> flows = make_flows(count, local);
  mlsys::net::FlowCounters counters;
  for (auto _ : state) {
    mlsys::sim::Engine engine;
    FlowNetwork net(engine, torus(), {.mode = mode});
    for (const FlowSpec& f : flows) {
      if (!net.start_flow(f)) state.SkipWithError("start_flow failed");
    }
    if (!engine.run()) state.SkipWithError("simulation failed");
    counters = net.counters();
    benchmark::DoNotOptimize(net.finish_time(count - 1));
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.counters["recomputes"] = static_cast<double>(counters.recomputations);
  state.counters["touched_per_recompute"] = counters.mean_flows_touched();
}

void BM_LazyLocal(benchmark::State& s) { run(s, RecomputeMode::kLazy, true); }
void BM_FullLocal(benchmark::State& s) { run(s, RecomputeMode::kFull, true); }
void BM_LazyRandom(benchmark::State& s) { run(s, RecomputeMode::kLazy, false); }
void BM_FullRandom(benchmark::State& s) { run(s, RecomputeMode::kFull, false); }

BENCHMARK(BM_LazyLocal)->Arg(500)->Arg(2000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FullLocal)->Arg(500)->Arg(2000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LazyRandom)->Arg(500)->Arg(2000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FullRandom)->Arg(500)->Arg(2000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
