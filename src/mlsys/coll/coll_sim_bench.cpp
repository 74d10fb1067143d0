// Cost of timing collectives: the six allreduce algorithms of the Swing paper at the 23 sizes
// 32 B .. 128 MiB on a torus (400 Gb/s, 1 us links), as `mlsys coll sim` runs them: the schedule
// compiled once per algorithm, then every size timed. Target (issue 3): the 64x64 torus in the
// flow model in <= 10 s wall.
//
//   coll_sim_bench --benchmark_filter=Sweep/64        # the figure, flow and analytic
//   coll_sim_bench --benchmark_filter=PerAlgorithm    # where the time goes, per algorithm
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/cost_model.h"
#include "mlsys/coll/flow_executor.h"
#include "mlsys/core/check.h"
#include "mlsys/hw/topology_builders.h"

namespace {

using mlsys::Bytes;
using mlsys::coll::Collective;

const std::vector<std::string> kAlgorithms = {"ring", "recdoub", "rabenseifner", "bucket", "swing-lat", "swing-bw"};

std::vector<Bytes> sizes() {
  std::vector<Bytes> s;
  for (Bytes b = mlsys::B(32); b <= mlsys::MiB(128); b = b * 2) s.push_back(b);
  return s;
}

mlsys::hw::Topology torus(int d) {
  auto t = mlsys::hw::build_torus({d, d}, {.bandwidth = mlsys::Gbps(400), .latency = mlsys::us(1)});
  MLSYS_CHECK(t.ok(), "torus");
  return std::move(*t);
}

// Times one algorithm at all 23 sizes; returns the sum of the simulated times (kept live).
double sweep(const std::string& name, const mlsys::hw::Topology& topo, int d, bool flow) {
  auto algo = mlsys::coll::make_algorithm(
      name, {.collective = Collective::kAllreduce, .ranks = d * d, .torus = {d, d}});
  MLSYS_CHECK(algo.ok(), name);
  double total = 0;
  if (flow) {
    auto model = mlsys::coll::FlowModel::build(**algo, topo);
    MLSYS_CHECK(model.ok(), name);
    for (Bytes n : sizes()) total += model->time(n, 4)->seconds;
  } else {
    auto patterns = mlsys::coll::StepPatterns::compile(**algo);
    MLSYS_CHECK(patterns.ok(), name);
    auto model = mlsys::coll::AnalyticModel::build(*patterns, topo);
    MLSYS_CHECK(model.ok(), name);
    for (Bytes n : sizes()) total += model->time(n).seconds;
  }
  return total;
}

// All six algorithms x 23 sizes on a d x d torus; range(1): 1 = flow model, 0 = analytic.
void BM_Sweep(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  const bool flow = state.range(1) != 0;
  const mlsys::hw::Topology topo = torus(d);
  for (auto _ : state) {
    double total = 0;
    for (const std::string& name : kAlgorithms) total += sweep(name, topo, d, flow);
    benchmark::DoNotOptimize(total);
  }
  state.counters["timings"] = static_cast<double>(kAlgorithms.size() * sizes().size());
  state.SetLabel(flow ? "flow model" : "analytic model");
}
BENCHMARK(BM_Sweep)
    ->ArgNames({"torus", "flow"})
    ->Args({16, 1})
    ->Args({16, 0})
    ->Args({64, 1})
    ->Args({64, 0})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

// One algorithm, 23 sizes, flow model, 64x64: range(0) indexes kAlgorithms.
void BM_PerAlgorithm(benchmark::State& state) {
  const std::string& name = kAlgorithms[static_cast<size_t>(state.range(0))];
  const mlsys::hw::Topology topo = torus(64);
  for (auto _ : state) benchmark::DoNotOptimize(sweep(name, topo, 64, true));
  state.SetLabel(name);
}
BENCHMARK(BM_PerAlgorithm)->DenseRange(0, 5)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
