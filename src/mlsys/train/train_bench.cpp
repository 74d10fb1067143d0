// Cost of the training simulator and the grid planner on the sizes (issue 4):
// one iteration of GPT-3 175B on 12,288 A100s simulated in <= 1 s, and the grid over every valid
// uniform plan for 175B on 12,288 GPUs in <= 60 s.
//
//   train_bench --benchmark_filter=Simulate175B    # event simulation of one iteration
//   train_bench --benchmark_filter=Grid175B        # the full grid search
#include <benchmark/benchmark.h>

#include "mlsys/core/check.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/train/grid.h"
#include "mlsys/train/simulate.h"

namespace {

using namespace mlsys::train;  // NOLINT: bench file, not a header

void Simulate175B(benchmark::State& state) {
  const auto model = *mlsys::model::find_model("gpt3-175b");
  const Cluster cluster = *make_cluster(*mlsys::hw::find_gpu("a100"), 12288);
  Plan p;
  p.tp = 8;
  p.pp = 8;
  p.dp = 192;
  p.global_batch = 6144;
  p.schedule = Schedule::kInterleaved;
  p.virtual_stages = 2;
  p.recompute = Recompute::kSelective;
  apply_megascale(p);
  for (auto _ : state) {
    auto r = simulate_iteration(model, cluster, p);
    MLSYS_CHECK(r.ok(), "valid plan");
    benchmark::DoNotOptimize(r->iteration_time);
  }
  state.counters["events"] = static_cast<double>(last_simulation_events());
}
BENCHMARK(Simulate175B)->Unit(benchmark::kMillisecond);

void Grid175B(benchmark::State& state) {
  const auto model = *mlsys::model::find_model("gpt3-175b");
  const Cluster cluster = *make_cluster(*mlsys::hw::find_gpu("a100"), 12288);
  GridOptions o{.global_batch = 6144, .seq = 2048, .top = 5};
  int64_t candidates = 0, fitting = 0;
  for (auto _ : state) {
    auto r = grid_search(model, cluster, o);
    MLSYS_CHECK(r.ok(), "some plan fits");
    candidates = r->candidates;
    fitting = r->fitting;
  }
  state.counters["candidates"] = static_cast<double>(candidates);
  state.counters["fitting"] = static_cast<double>(fitting);
}
BENCHMARK(Grid175B)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
